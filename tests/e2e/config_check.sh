#!/bin/sh
# config_check.sh: a TAP test of netd's configuration checking through the
# built daemon ($NETD_BIN). It needs no root and no network: everything runs
# with -n, which reads and checks the configuration and opens nothing. Good
# and bad files get the right exit status and a "file:line: reason" message;
# a gateway off every subnet is named; the example in netd.conf(5) is valid;
# and the flags that netd -h prints are exactly those in the SYNOPSIS of
# netd(8), so that the help and the manual cannot drift apart.

top=${NETD_TOP_SRCDIR:-$(dirname "$0")/../..}
netd=${NETD_BIN:-./netd/netd}
man8="$top/man/netd.8"
man5="$top/man/netd.conf.5"

if [ ! -x "$netd" ]; then
	echo "Bail out! netd is not built: $netd"
	exit 1
fi
if [ ! -r "$man8" ] || [ ! -r "$man5" ]; then
	echo "Bail out! manual pages not found in $top/man"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netd-config-check.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
cd "$tmp" || exit 1

n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	failed=1
	if [ -s out ] || [ -s err ]; then
		sed 's/^/# stdout: /' out
		sed 's/^/# stderr: /' err
	fi
}

# run ARGS...: runs netd with stdout in ./out, stderr in ./err; sets $rc.
run() {
	"$netd" "$@" >out 2>err
	rc=$?
}

# expect_ok NAME ARGS...: netd exits 0 and says the configuration is OK.
expect_ok() {
	name=$1
	shift
	run "$@"
	if [ $rc -eq 0 ] && grep -q '^configuration OK$' out; then
		ok "$name"
	else
		not_ok "$name (exit $rc)"
	fi
}

# expect_fail NAME MESSAGE ARGS...: netd exits non-zero with MESSAGE (a
# fixed string) on stderr.
expect_fail() {
	name=$1
	msg=$2
	shift 2
	run "$@"
	if [ $rc -ne 0 ] && grep -qF -- "$msg" err; then
		ok "$name"
	else
		not_ok "$name (exit $rc; wanted \"$msg\" on stderr)"
	fi
}

# The option letters in the SYNOPSIS of netd(8): "Op Fl dFhnVv" gives each
# letter, "Op Fl a Ar address/len" gives a.
man_flags() {
	sed -n '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/p' "$man8" |
	awk '$1 == ".Op" && $2 == "Fl" {
		if (NF == 3) { for (i = 1; i <= length($3); i++) print substr($3, i, 1) }
		else print substr($3, 1, 1)
	}' | sort -u
}

# The option letters in the synopsis of netd -h: "[-dFhnVv]" gives each
# letter, "[-a address/len]" gives a.
help_flags() {
	grep -o '\[-[A-Za-z][^]]*\]' "$1" |
	awk '{
		s = substr($1, 3); sub(/\]$/, "", s)
		if (NF == 1) { for (i = 1; i <= length(s); i++) print substr(s, i, 1) }
		else print substr(s, 1, 1)
	}' | sort -u
}

flags=$(man_flags)
nflags=$(printf '%s\n' $flags | grep -c .)
echo "1..$((nflags + 16))"

# ---- files ----

cat >good.conf <<'EOF'
# a good configuration
interface tap:t0 {
	address 10.0.0.2/24
	mtu 1500
	fault drop 1% seed 7
}
interface packet:veth-t1 {
	address 192.168.7.2/24
}
gateway 10.0.0.1
route 172.16.0.0/12 via 192.168.7.254
forwarding yes
log-level debug
arp-reachable 30s
reassembly-memory 4M
EOF
expect_ok "netd -n -f good.conf" -n -f good.conf

cat >typo.conf <<'EOF'
# a keyword misspelled on line 3
interface tap:t0 {
	adress 10.0.0.2/24
}
EOF
expect_fail "a misspelled keyword is named with file and line" \
	"typo.conf:3: unknown keyword 'adress'" -n -f typo.conf

cat >addr.conf <<'EOF'
interface tap:t0 {


	address 10.0.0.300/24
}
EOF
expect_fail "a bad address says what was expected and what was found" \
	"addr.conf:4: expected an address with prefix length such as 10.0.0.2/24, got '10.0.0.300/24'" \
	-n -f addr.conf

cat >open.conf <<'EOF'
interface tap:t0 {
	address 10.0.0.2/24
gateway 10.0.0.1
EOF
expect_fail "a block left open is named with the line that opened it" \
	"open.conf:3: expected '}' to close the interface block opened at line 1" -n -f open.conf

printf 'interface tap:t0 {\n\taddress 10.0.0.2/24\n' >eof.conf
expect_fail "a block open at the end of the file" \
	"eof.conf:2: missing '}' for the interface block opened at line 1" -n -f eof.conf

cat >offnet.conf <<'EOF'
interface tap:t0 {
	address 10.0.0.2/24
}
gateway 10.9.9.9
EOF
expect_fail "a file's gateway off every subnet is named" \
	"gateway 10.9.9.9 is not on a connected subnet" -n -f offnet.conf

expect_fail "a missing file is named" "$tmp/absent.conf" -n -f "$tmp/absent.conf"

awk '/^# netd.conf$/ { p = 1 } p && /^\.Ed/ { exit } p' "$man5" >example.conf
if [ -s example.conf ]; then
	expect_ok "the example of netd.conf(5) is valid" -n -f example.conf
else
	: >out; : >err
	not_ok "the example of netd.conf(5) is valid (no example found)"
fi

# ---- flags ----

expect_ok "netd -n -i tap:t0 -a 10.0.0.2/24 -g 10.0.0.1" \
	-n -i tap:t0 -a 10.0.0.2/24 -g 10.0.0.1
expect_fail "netd -n -i tap:t0 -a 10.0.0.2/24 -g 10.9.9.9 names the gateway" \
	"gateway 10.9.9.9 is not on a connected subnet" -n -i tap:t0 -a 10.0.0.2/24 -g 10.9.9.9
expect_fail "-a before any -i" "-a needs an interface: give -i first" \
	-n -a 10.0.0.2/24 -i tap:t0
expect_fail "a route through a gateway off every subnet" \
	"gateway 10.9.9.9 of the route to 192.168.5.0/24 is not on a connected subnet" \
	-n -i tap:t0 -a 10.0.0.2/24 -r 192.168.5.0/24,10.9.9.9
expect_fail "a bad fault setting" "expected drop, duplicate, reorder, corrupt, delay, seed" \
	-n -i tap:t0 -a 10.0.0.2/24 -x loss=1
expect_ok "every flag of netd(8)'s examples together" \
	-n -F -v -i tap:t0 -a 10.0.0.2/24 -M 1400 -m 02:00:00:00:00:02 -w t0.pcap \
	-x drop=0.01,duplicate=0.01,reorder=0.01,corrupt=0.001,delay=5ms,seed=42,direction=both \
	-i packet:veth-t1 -a 192.168.7.2/24 -g 10.0.0.1 -r 172.16.0.0/12,192.168.7.254

# ---- help against the manual ----

run -h
if [ $rc -eq 0 ] && [ -s out ]; then
	ok "netd -h exits 0 and prints the usage on stdout"
else
	not_ok "netd -h exits 0 and prints the usage on stdout (exit $rc)"
fi
cat out err >help.txt

for f in $flags; do
	in_synopsis=no
	help_flags help.txt | grep -qx -- "$f" && in_synopsis=yes
	if [ $in_synopsis = yes ] && grep -Eq -- "^[[:space:]]+-$f([[:space:],]|$)" help.txt; then
		ok "netd -h shows -$f of the SYNOPSIS in its usage and its option list"
	else
		cp help.txt out; : >err
		not_ok "netd -h shows -$f of the SYNOPSIS in its usage and its option list"
	fi
done

extra=$(help_flags help.txt | grep -vxF -e "$(printf '%s\n' $flags)" | tr -d '\n')
if [ -z "$extra" ]; then
	ok "netd -h shows no flag missing from the SYNOPSIS of netd(8)"
else
	cp help.txt out; : >err
	not_ok "netd -h shows no flag missing from the SYNOPSIS of netd(8): -$extra"
fi

exit $failed
