#!/bin/bash
# A zone changes DNS provider through multi-signer (RFC 8901), with cdscan as
# the parent (README.md, issue #18): install, build, then run the story in a
# lab of its own (its own network namespace), and print the timeline: each
# step the child takes, the signal, what cdscan decided, the change set, when
# the registry applied it over EPP and published the parent zone, the TTLs
# waited out, and what two validating resolvers answered meanwhile.
#
#   contrib/demo-multisigner.sh [--driver daemon|scan] [--ttl N]
#
# --driver daemon (the default): cdscan daemon, woken by the child's
# NOTIFY(CDS) and NOTIFY(CSYNC) (RFC 9859); scan: `cdscan scan` + `epp send`
# after each signal.  Needs root (port 53, unshare).  BUILD_DIR as demo.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=${BUILD_DIR:-$src/build}
driver=daemon
ttl=10
while [ $# -gt 0 ]; do
	case $1 in
	--driver) driver=$2; shift 2 ;;
	--ttl) ttl=$2; shift 2 ;;
	*) echo "usage: $0 [--driver daemon|scan] [--ttl N]" >&2; exit 64 ;;
	esac
done

contrib/install-deps.sh
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
echo "built $("$build/cdscan" --version)"
out=$build/demo-multisigner
rm -rf "$out"
mkdir -p "$out"
echo
echo "move.test. moves from alpha.net to beta.net (every TTL ${ttl}s; takes about"
echo "three minutes); the checks, then the timeline:"
echo
/usr/bin/python3 tests/system/multisigner_test.py "$build/cdscan" --driver "$driver" \
	--ttl "$ttl" --timeline "$out/timeline.md" --keep "$out/run"
echo "The timeline: $out/timeline.md (and .json); every resolver answer:"
echo "$out/run/detector.jsonl; the registry's log: $out/run/registry/"
