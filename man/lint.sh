#!/bin/sh
# lint.sh: a TAP test that runs mandoc's linter over every manual page in
# $NETD_TOP_SRCDIR/man; a page passes when mandoc has nothing to say about
# it at the warning level or above. A page that is only a ".so manN/page.N"
# line (a second name for a page that documents several functions, so that
# "man nc_sendto" works) is not given to mandoc, which always warns about
# .so; it passes when the page it names is in man/ and lists the alias in
# its NAME section. Run it with sh; it needs only mandoc.

top=${NETD_TOP_SRCDIR:-$(dirname "$0")/..}
mandoc=${MANDOC:-mandoc}

count=0
for p in "$top"/man/*.[1-9]; do
	[ -f "$p" ] && count=$((count + 1))
done
if [ $count -eq 0 ]; then
	echo "1..0 # SKIP no manual pages in $top/man"
	exit 0
fi
if ! command -v "$mandoc" >/dev/null 2>&1; then
	echo "1..0 # SKIP mandoc not found"
	exit 0
fi

echo "1..$count"
n=0
failed=0
for p in "$top"/man/*.[1-9]; do
	[ -f "$p" ] || continue
	n=$((n + 1))
	name=$(basename "$p")
	target=$(sed -n '1s/^\.so man[1-9]\/\([^/]*\)$/\1/p' "$p")
	if [ -n "$target" ] && [ "$(wc -l <"$p")" -eq 1 ]; then
		alias=${name%.*}
		if [ -f "$top/man/$target" ] &&
		    sed -n '/^\.Sh NAME/,/^\.Sh /p' "$top/man/$target" |
		    grep -Eq "^\.Nm $alias( ,)?\$"; then
			echo "ok $n - $name is an alias of $target"
		else
			echo "not ok $n - $name is an alias of $target, which is missing or does not name $alias"
			failed=1
		fi
		continue
	fi
	out=$("$mandoc" -T lint -W warning "$p" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [ -z "$out" ]; then
		echo "ok $n - mandoc -T lint $name"
	else
		echo "not ok $n - mandoc -T lint $name (exit $rc)"
		printf '%s\n' "$out" | sed 's/^/# /'
		failed=1
	fi
done
exit $failed
