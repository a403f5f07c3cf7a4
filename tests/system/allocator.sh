#!/bin/sh
# The allocator the build chose (CMakeLists.txt, CDSCAN_MALLOC) is the one
# the binary runs with.  Usage: allocator.sh CDSCAN jemalloc|system
#   jemalloc: libjemalloc is a needed library of the binary, and jemalloc
#             answers MALLOC_CONF=stats_print:true at exit (so it is the
#             malloc in use, not only loaded);
#   system:   no jemalloc in the binary, and that request goes unanswered.
set -u
bin=$1
want=$2
needed=$(readelf -d "$bin" | grep -c 'NEEDED.*libjemalloc')
stats=$(MALLOC_CONF=stats_print:true "$bin" --version 2>&1 >/dev/null |
	grep -c 'Begin jemalloc statistics')
case $want in
jemalloc) [ "$needed" -eq 1 ] && [ "$stats" -eq 1 ] ;;
system) [ "$needed" -eq 0 ] && [ "$stats" -eq 0 ] ;;
*)
	echo "allocator.sh: want jemalloc or system, not $want" >&2
	exit 2
	;;
esac
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "FAIL: $bin: built for $want, but $needed needed libjemalloc and $stats jemalloc statistics at exit"
	exit 1
fi
echo "ok: $bin runs with the $want allocator"
