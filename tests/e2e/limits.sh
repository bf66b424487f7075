#!/bin/sh
# limits.sh: per-client limits from netd.conf. With client-max-sockets 16,
# a client's 17th socket fails with EMFILE as a process past its
# descriptor limit does on Linux, and closing gives the slots back; another
# client has its own 16. Privileged ports: a client running as nobody
# cannot bind port 80 (EACCES) unless it is in bind-group.
. "$(dirname "$0")/lib.sh"
require_root_tools setpriv

TOOLS=${NETD_TOP_BUILDDIR:-$(dirname "$0")/../..}/tests/e2e
netns_new lim NS || skip_all "cannot make a namespace"
cat >"$E2E_TMP/netd.conf" <<CONF
interface tap:ltap0 {
	address 10.85.0.2/24
}
client-max-sockets 16
bind-group users
CONF
export NETD_SOCKET="$E2E_TMP/netd.sock"
netd_start "$NS" -f "$E2E_TMP/netd.conf"
check "netd starts with client-max-sockets 16" netd_ready

check "the 17th TCP socket of a client fails with EMFILE; closing frees the slots" sh -c \
	"$TOOLS/nc_open_many tcp 40 | tee /dev/stderr | tr '\n' ' ' | grep -qx 'opened 16 errno EMFILE after-close ok '"
check "so does the 17th UDP socket" sh -c \
	"$TOOLS/nc_open_many udp 40 | tr '\n' ' ' | grep -qx 'opened 16 errno EMFILE after-close ok '"
check "fewer than the limit open without error" sh -c \
	"$TOOLS/nc_open_many udp 16 | tr '\n' ' ' | grep -qx 'opened 16 errno none after-close ok '"

# bind to port 80 as nobody (not in bind-group), and as nobody with
# users as a supplementary group (in bind-group)
chmod 755 "$E2E_TMP"
check "a client as nobody cannot bind port 80 (EACCES)" sh -c \
	"setpriv --reuid=65534 --regid=65534 --clear-groups env NETD_SOCKET=$NETD_SOCKET $TOOLS/nc_bind_port 80 | grep -qx EACCES"
check "a client in bind-group can" sh -c \
	"setpriv --reuid=65534 --regid=65534 --groups=100 env NETD_SOCKET=$NETD_SOCKET $TOOLS/nc_bind_port 80 | grep -qx ok"
check "a client as nobody binds port 8080" sh -c \
	"setpriv --reuid=65534 --regid=65534 --clear-groups env NETD_SOCKET=$NETD_SOCKET $TOOLS/nc_bind_port 8080 | grep -qx ok"
check "netd stops cleanly" netd_stop
finish
