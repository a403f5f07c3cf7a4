#!/bin/bash
# The test command (README.md; .ci/run calls it): install dependencies, build
# with -Werror, run every test, then again under AddressSanitizer and
# UndefinedBehaviorSanitizer, then the libFuzzer targets (a fixed seed and
# number of inputs, CDSCAN_FUZZ_RUNS, so that the run is repeatable).
# The lab needs port 53 on 127.53.0.0/16: run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
jobs=$(nproc)
fuzz_runs=${CDSCAN_FUZZ_RUNS:-100000}

contrib/install-deps.sh

total_pass=0
total_fail=0
total_skip=0
status=0
failures=""

# run_suite DIR CTEST-ARGS... -- CMAKE-ARGS...
run_suite() {
	local dir=$1
	shift
	local ctest_args=()
	while [ "$1" != "--" ]; do
		ctest_args+=("$1")
		shift
	done
	shift
	echo "=== $dir: configure and build"
	cmake -S "$src" -B "$dir" -DCDSCAN_WERROR=ON -DCDSCAN_LAB_DIR="$src/$dir/lab" "$@"
	cmake --build "$dir" -j"$jobs"
	echo "=== $dir: ctest ${ctest_args[*]}"
	local log="$dir/ctest.log"
	(cd "$dir" && ctest --output-on-failure "${ctest_args[@]}") 2>&1 | tee "$log" || status=1
	# "95% tests passed, 1 tests failed out of 20"
	local line
	line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "=== $dir: ctest printed no summary"
		status=1
		return
	fi
	local failed all skipped disabled
	failed=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
	all=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/')
	# ctest counts a skipped test (SKIP_RETURN_CODE, "***Skipped") as
	# passed in that line; it lists it, and disabled tests ("***Not Run
	# (Disabled)", left out of the count), under "The following tests did
	# not run:".  A test that could not start ("***Not Run") is among the
	# failed already.  Skipped is not passed: counted on its own.
	skipped=$(sed -n '/^The following tests did not run:/,/^$/p' "$log" |
		grep -cE '^[[:space:]]+[0-9]+ - .* \(Skipped\)$' || true)
	disabled=$(sed -n '/^The following tests did not run:/,/^$/p' "$log" |
		grep -cE '^[[:space:]]+[0-9]+ - .* \(Disabled\)$' || true)
	if [ "$skipped" -gt 0 ] || [ "$disabled" -gt 0 ]; then
		echo "=== $dir: $skipped skipped, $disabled disabled:"
		sed -n '/^The following tests did not run:/,/^$/p' "$log" | grep -E '^[[:space:]]+[0-9]+ - '
	fi
	# A failing test's own lines may sit deep in a long log that CI shows
	# only the ends of: its failed checks (the system tests' "FAIL ...",
	# cmocka's "[  FAILED  ]" and "file:line: error:", an exception's last
	# line) at the very end.
	if [ "$failed" -gt 0 ]; then
		failures+="=== $dir: what failed"$'\n'
		failures+=$(awk '/\*\*\*(Failed|Timeout|Exception)|^([0-9]+: )?(FAIL |Traceback|[A-Za-z_.]+(Error|Exception|Timeout)(: |$))|\[  (FAILED|ERROR) +\]|: error: / && n++ < 40 { print substr($0, 1, 400) }' "$log")$'\n'
	fi
	total_pass=$((total_pass + all - failed - skipped))
	total_fail=$((total_fail + failed))
	total_skip=$((total_skip + skipped + disabled))
}

run_suite build-ci -j2 -- -DCMAKE_BUILD_TYPE=RelWithDebInfo
run_suite build-ci-asan -- -DCMAKE_BUILD_TYPE=Debug -DCDSCAN_SANITIZE=address,undefined
CC=clang run_suite build-ci-fuzz -L fuzz -- -DCMAKE_BUILD_TYPE=Debug \
	-DCDSCAN_FUZZ=ON -DCDSCAN_FUZZ_RUNS="$fuzz_runs" \
	-DCDSCAN_SANITIZE=address,undefined

# Nothing the lab started may survive the suite, whether tests passed or not:
# no process naming a lab directory, nor a lab's runtime directory (where
# PostgreSQL runs, outside the checkout; each lab directory's `run` names it,
# also after `lab.py down` has removed it).
patterns=("$src/build-ci[-a-z]*/lab")
for link in "$src"/build-ci*/lab/run; do
	if [ -L "$link" ]; then
		patterns+=("$(readlink "$link")")
	fi
done
leftover=""
for pattern in "${patterns[@]}"; do
	found=$(pgrep -af -- "$pattern" || true)
	if [ -n "$found" ]; then
		leftover+="$found"$'\n'
	fi
done
if [ -n "$leftover" ]; then
	echo "=== lab processes left running:"
	echo -n "$leftover"
	status=1
	total_fail=$((total_fail + 1))
fi

if [ -n "$failures" ]; then
	echo -n "$failures"
fi
echo "all suites: $total_pass passed, $total_fail failed, $total_skip skipped"
exit $status
