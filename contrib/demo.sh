#!/bin/bash
# The main job on a fresh machine (README.md): install, build, start the lab
# and show the operator's view of its delegations.  The lab needs port 53 on
# 127.53.0.0/16: run as root.  Set KEEP_LAB=1 to leave the lab running.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=${BUILD_DIR:-$src/build}
lab=$build/demo-lab

contrib/install-deps.sh
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
echo "built $("$build/cdscan" --version)"

/usr/bin/python3 tests/lab/lab.py up --dir "$lab"
if [ "${KEEP_LAB:-0}" != 1 ]; then
	trap '/usr/bin/python3 tests/lab/lab.py down --dir "$lab"' EXIT
fi
. "$lab/lab.env"

cat >"$lab/cdscan.yaml" <<CONF
database: "$CDSCAN_DATABASE"
resolver:
  addresses: [$CDSCAN_LAB_RESOLVER]
  allow-addresses: [127.0.0.0/8, "::1"]
  trust-anchor: $CDSCAN_LAB_TRUST_ANCHOR
scan:
  timeout: 500ms
  retries: 1
CONF
"$build/cdscan" -c "$lab/cdscan.yaml" --check-config

echo
echo "The registry's nightly job on the lab: load the parent zone test. into"
echo "PostgreSQL, scan every delegation (dry run: no change set), and report:"
echo
"$build/cdscan" -c "$lab/cdscan.yaml" db init
"$build/cdscan" -c "$lab/cdscan.yaml" import --zone "$lab/zones/127.53.0.2/test.zone"
"$build/cdscan" -q -c "$lab/cdscan.yaml" scan --dry-run --report "$lab/report.txt"
echo
cat "$lab/report.txt"

echo
echo "The same delegations as a person would check them: the parent's NS and DS,"
echo "what the child's servers"
echo "publish, how the lab's validating resolver sees each zone, and cdscan's"
echo "DS verdict (cdscan check, no database):"
echo
/usr/bin/python3 tests/lab/lab.py status --dir "$lab" --cdscan "$build/cdscan"
echo
echo "One delegation in full (cdscan check rollover.test):"
echo
args=$(/usr/bin/python3 -c 'import json,sys; z=json.load(open(sys.argv[1]))["zones"]["rollover.test."]; print(" ".join(["--ns "+a for a in z["ns_args"]]+["--ds=\""+d+"\"" for d in z["ds"]]))' "$lab/lab.json")
eval "\"$build/cdscan\" -c \"$lab/cdscan.yaml\" check rollover.test $args"
