#!/bin/sh
# Install every build, test and lab dependency of cdscan on Debian 12.
# Idempotent: installs only what is missing, so running it twice is cheap.
set -eu

# Tests fail, not skip, without what is here: bind9-utils (dnssec-cds, the
# differential test), dns-root-data (/usr/share/dns/root.key, bootstrap_test),
# chromium (report_html, http_endpoint), libxml2-utils (xmllint, the EPP
# tests), python3-prometheus-client (http_endpoint parses /metrics with it),
# python3-dnspython (the daemon tests' NOTIFYs), knot-resolver (kresd, the second
# validating resolver of multisigner_test), systemd (systemd-analyze,
# systemd_unit), dpkg-dev and file (dpkg-shlibdeps and CPack's look at the
# binary: cpack -G DEB, deb_install).  libsystemd-dev, libmicrohttpd-dev and
# uthash-dev: the daemon's sd_notify, HTTP endpoint and rate-limit tables.
# libcurl4-openssl-dev: webhook notifications.  libjemalloc-dev: the
# binary's allocator (CMakeLists.txt, CDSCAN_MALLOC).
# openssl (the command): the lab's CA and PostgreSQL's certificates
# (lab.py up --pg-tls, bench/run --hosts).
PACKAGES="
build-essential cmake pkg-config
libgetdns-dev libuv1-dev libssl-dev libpq-dev libyaml-dev libxml2-dev
libjson-c-dev libldns-dev libcmocka-dev clang libclang-rt-14-dev libjemalloc-dev
libsystemd-dev libmicrohttpd-dev uthash-dev systemd dpkg-dev file
libcurl4-openssl-dev
python3 iproute2 nsd unbound ldnsutils knot-dnsutils bind9-utils bind9-dnsutils
postgresql postgresql-client libxml2-utils dns-root-data man-db chromium time
python3-prometheus-client python3-dnspython knot-resolver openssl
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
echo "install-deps: installing$missing"
$SUDO apt-get update -q
# The packaged daemons (nsd, unbound, postgresql) are not needed as system
# services: the lab starts its own instances on 127.53.0.0/16.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
