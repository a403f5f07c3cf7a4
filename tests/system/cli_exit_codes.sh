#!/bin/sh
# The binary as operators and scripts see it: exit codes (CONTRACT.md) and
# the messages that go with them.  Usage: cli_exit_codes.sh CDSCAN SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
count=0

# expect CODE PATTERN ARGS...: run cdscan ARGS, want exit CODE and PATTERN
# (grep -E) in its stdout+stderr.
expect() {
	want=$1 pattern=$2
	shift 2
	count=$((count + 1))
	out=$("$bin" "$@" 2>&1)
	got=$?
	if [ "$got" -ne "$want" ] || ! printf '%s\n' "$out" | grep -Eq -- "$pattern"; then
		echo "FAIL: cdscan $*: exit $got (want $want), output:"
		printf '%s\n' "$out" | sed 's/^/    /'
		echo "    (wanted /$pattern/)"
		failures=$((failures + 1))
	fi
}

expect 0 '^cdscan [0-9]+\.[0-9]+\.[0-9]+$' --version
expect 0 'usage: cdscan' --help
expect 0 'usage: cdscan check DOMAIN' check --help
expect 0 'usage: cdscan db init' db init --help
expect 0 'usage: cdscan db init' db --help
expect 0 'usage: cdscan import' import --help
expect 0 'usage: cdscan scan' scan --help
expect 0 'usage: cdscan epp send' epp send --help
expect 0 'usage: cdscan daemon' daemon --help

expect 64 'no command given' 
expect 64 "unknown command 'frob'" frob
expect 64 "unknown option '--frob'" --frob
expect 64 "unknown option '--frob'" check a.test --frob
expect 64 'not a domain name' check 'a..test'
expect 64 'not an IPv4 or IPv6' check a.test --ns 'ns1.x@999.0.0.1'
expect 64 'KEYTAG ALG DIGESTTYPE HEX' check a.test --ns ns1.x --ds '1 13 2 ABCD'
expect 64 'RFC 3339' check a.test --last-change yesterday
expect 64 'needs a subcommand' db
expect 0 'usage: cdscan domain show NAME' domain --help
expect 0 'usage: cdscan domain show NAME' domain suspend --help
expect 64 'needs a subcommand: domain show\|history\|suspend\|resume\|approve-csync' domain
expect 64 'expected one domain NAME' domain show
expect 64 "not a domain name" domain suspend 'a..test'
expect 64 '1 to 400 characters' domain suspend a.test --reason ''

# dsync needs no configuration and no database: records, or exit 64.
expect 0 'usage: cdscan dsync --zone PARENT --target NAME' dsync --help
expect 0 '^\*\._dsync\.test\. 3600 IN DSYNC CSYNC NOTIFY 53 notify\.nic\.test\.$' dsync --zone TEST --target notify.nic.test.
expect 0 '^_dsync\.test\. 60 IN TYPE66 \\# 22 003B0114B4066E6F74696679036E6963047465737400$' dsync --zone test --target notify.nic.test --port 5300 --ttl 60 --no-wildcard --generic
expect 64 'dsync: --zone PARENT is required' dsync --target notify.nic.test
expect 64 "--target '\.': not a host name" dsync --zone test --target .
expect 64 "--port '0': expected a number from 1 to 65535" dsync --zone test --target n.test --port 0
expect 64 "is not below the zone test\." dsync --zone test --target n.test --child a.net

# Configuration errors: exit 78 naming file:line:column and the key.
printf 'scan:\n  timeout: 5x\n' >"$tmp/bad-type.yaml"
expect 78 "bad-type.yaml:2:12: key 'scan.timeout'" -c "$tmp/bad-type.yaml" --check-config
printf 'scan:\n  concurency: 5\n' >"$tmp/unknown.yaml"
expect 78 "unknown.yaml:2:3: key 'scan.concurency': unknown key" -c "$tmp/unknown.yaml" check a.test --ns ns1.a.test@127.0.0.1#9
printf 'policy:\n  max-ds: 65\n' >"$tmp/range.yaml"
expect 78 "range.yaml:2:11: key 'policy.max-ds': 65 is out of range 1..64" -c "$tmp/range.yaml" --check-config
expect 78 'missing.yaml: cannot open' -c "$tmp/missing.yaml" --check-config
expect 0 'cdscan.yaml: ok' -c "$src/conf/cdscan.yaml" --check-config
expect 0 'built-in defaults' --check-config

# A password in the database string never reaches the log.
printf 'database: "host=/nonexistent password=hunter2"\nlog:\n  level: debug\n' >"$tmp/pw.yaml"
count=$((count + 1))
# (Every check here names a closed loopback port: no test contacts anything
# outside 127.0.0.0/8, not even the system's resolver.)
local_ns="--ns ns1.a.test@127.0.0.1#9"
if "$bin" -c "$tmp/pw.yaml" check a.test $local_ns 2>&1 | grep -q hunter2; then
	echo "FAIL: the database password appears in the output"
	failures=$((failures + 1))
fi

# The domain commands need the database: exit 69 without it.
printf 'database: "host=/nonexistent password=hunter2"\n' >"$tmp/nodb.yaml"
for sub in show history suspend resume approve-csync; do
	expect 69 "domain $sub: cannot connect to the database" -c "$tmp/nodb.yaml" domain $sub a.test
done

# JSON log lines are JSON.
count=$((count + 1))
line=$("$bin" -c "$tmp/pw.yaml" --log-format json check a.test $local_ns 2>&1 | grep '"level":"debug"' | head -n 1)
if ! printf '%s' "$line" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["level"]=="debug" and "password=***" in d["msg"]'; then
	echo "FAIL: json log line is not the expected JSON: $line"
	failures=$((failures + 1))
fi

echo "$((count - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
