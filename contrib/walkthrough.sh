#!/bin/bash
# README's registrar walk-through, run as README shows it: start a lab of
# its own (tests/lab/walkthrough: children at two registries, test. and
# net., hosted at two DNS providers) and the two registries' EPP servers
# (tests/lab/epp_server.py over TLS, with a lab CA, each applying what it
# accepts to the TLD zone it runs), then run the commands of README's
# section "Walk-through: a registrar" (between its walkthrough markers) in
# a directory of their own, with `cdscan` on PATH and the lab's settings in
# the environment.  As root (the lab's servers use port 53 on
# 127.53.0.0/16).  CDSCAN=BINARY uses that build (the test does), else the
# checkout is built; WALKTHROUGH_DIR=DIR keeps everything there (default
# build/walkthrough, emptied first); KEEP_LAB=1 leaves the lab running.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=${BUILD_DIR:-$src/build}
if [ -z "${CDSCAN:-}" ]; then
	contrib/install-deps.sh
	cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j"$(nproc)" >/dev/null
	CDSCAN=$build/cdscan
fi
work=${WALKTHROUGH_DIR:-$build/walkthrough}
rm -rf "$work"
mkdir -p "$work/bin" "$work/registrar"
ln -s "$(readlink -f "$CDSCAN")" "$work/bin/cdscan"
lab=$work/lab
pids=()
stop() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
	if [ "${KEEP_LAB:-0}" != 1 ]; then
		/usr/bin/python3 "$src/tests/lab/lab.py" down --dir "$lab" >/dev/null || true
	fi
}
trap stop EXIT

/usr/bin/python3 "$src/tests/lab/lab.py" up --dir "$lab" --scenarios "$src/tests/lab/walkthrough"
. "$lab/lab.env"

# The registries' EPP servers: a lab CA, one certificate for both addresses.
ca=$work/ca
mkdir -p "$ca"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=walkthrough-lab-ca -keyout "$ca/ca.key" -out "$ca/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=epp.lab \
	-keyout "$ca/epp.key" -out "$ca/epp.csr" 2>/dev/null
printf 'subjectAltName=IP:127.53.0.61,IP:127.53.0.62\n' >"$ca/san.ext"
openssl x509 -req -in "$ca/epp.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" -CAcreateserial \
	-days 2 -extfile "$ca/san.ext" -out "$ca/epp.pem" 2>/dev/null
start_registry() { # NAME ADDRESS TLD
	mkdir -p "$work/$1"
	/usr/bin/python3 "$src/tests/lab/epp_server.py" --address "$2" --port 700 \
		--cert "$ca/epp.pem" --key "$ca/epp.key" --dir "$work/$1" \
		--zone "$lab/zones/127.53.0.2/$3.zone" --publish "$lab" \
		${schemas:+--schemas "$schemas"} 2>"$work/$1.log" &
	pids+=($!)
	for _ in $(seq 600); do [ -e "$work/$1/ready" ] && return; sleep 0.1; done
	echo "walkthrough: the EPP server $1 did not start" >&2
	exit 1
}
# With the EPP schemas beside the checkout, every command is validated.
schemas=
[ -d "$src/../shared/epp-schemas" ] && schemas=$(readlink -f "$src/../shared/epp-schemas")
start_registry nic-test 127.53.0.61 test
start_registry nic-net 127.53.0.62 net
printf 'lab-password\n' >"$work/epp-password"

export PATH=$work/bin:$PATH EPP_CA=$ca/ca.pem EPP_PASSWORD_FILE=$work/epp-password
export CDSCAN_DATABASE CDSCAN_LAB_RESOLVER CDSCAN_LAB_TRUST_ANCHOR
# README's commands, as written there (indented lines between the markers).
awk '/^<!-- walkthrough -->/{on=1; next} /^<!-- \/walkthrough -->/{on=0} on && /^    /{print substr($0, 5)} on && /^$/{print ""}' \
	"$src/README.md" >"$work/steps.sh"
[ -s "$work/steps.sh" ] || { echo "walkthrough: no steps in README.md" >&2; exit 1; }
cd "$work/registrar"
bash -euo pipefail -x "$work/steps.sh"
