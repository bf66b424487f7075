#!/bin/sh
# api.sh: the differential test of libnetclient (tests/api/test_api). Each
# of its scenarios runs once on the kernel's sockets over the loopback of
# a namespace and once on netd's sockets through the library, netd on a
# TAP in that same namespace talking to itself; the two transcripts must
# be equal. The TAP output is test_api's own (one point per scenario);
# netd's log follows as comments, and a netd that died during the run
# ends it with a bail-out.
. "$(dirname "$0")/lib.sh"
require_root_tools

API=${NETD_TOP_BUILDDIR:-$(dirname "$0")/../..}/tests/api/test_api
[ -x "$API" ] || skip_all "tests/api/test_api is not built"
netns_new api NS || skip_all "cannot make a namespace"
SOCK=$E2E_TMP/netd.sock

netd_start "$NS" -S "$SOCK" -i tap:atap0 -a 10.83.0.2/24
if ! netd_ready; then
	echo "Bail out! netd did not start"
	sed 's/^/# /' "$E2E_TMP/netd.log"
	exit 1
fi
ip -n "$NS" addr replace 10.83.0.1/24 dev atap0
wait_for 5 sh -c "ip -n $NS link show atap0 | grep -q LOWER_UP"

ip netns exec "$NS" env NETD_SOCKET="$SOCK" NETD_ADDR=10.83.0.2 CK_TAP_LOG_FILE_NAME=- \
	"$API"
rc=$?

if ! kill -0 "$NETD_PID" 2>/dev/null; then
	echo "Bail out! netd died during the run"
	sed 's/^/# /' "$E2E_TMP/netd.log"
	exit 1
fi
netd_stop
sed 's/^/# netd: /' "$E2E_TMP/netd.log"
exit $rc
