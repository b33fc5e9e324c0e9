#!/bin/sh
# Runs every unit test binary and every bats scenario, and prints the total
# as the last line: "N passed, N failed".  Arguments narrow the bats files
# (substring match on the file name).
#
# Both kinds speak TAP, so one counter serves: "ok" lines pass, "not ok"
# lines fail, and a test binary that dies without a plan counts as a failure.
set -u
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
export BUILD TERN_BIN="$top/$BUILD"

pass=0
fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() {	# name, tap-file
	p=$(grep -c '^ok ' "$2")
	f=$(grep -c '^not ok ' "$2")
	pass=$((pass + p))
	fail=$((fail + f))
	grep '^not ok ' "$2" | sed "s|^|  $1: |"
}

echo "== unit"
for t in "$BUILD"/test/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	( cd "$top" && "$t" ) >"$log" 2>"$log.err"
	rc=$?
	if ! grep -q '^1\.\.' "$log"; then
		echo "not ok - $name exited $rc without finishing" >>"$log"
		tail -5 "$log.err" | sed 's/^/    /'
	fi
	printf '%-24s %s passed, %s failed\n' "$name" \
	    "$(grep -c '^ok ' "$log")" "$(grep -c '^not ok ' "$log")"
	count "$name" "$log"
	rm -f "$log.err"
done

echo "== bats"
files=""
for f in test/bats/*.bats; do
	[ -e "$f" ] || continue
	if [ $# -gt 0 ]; then
		m=0
		for pat in "$@"; do
			case "$f" in *"$pat"*) m=1 ;; esac
		done
		[ $m -eq 1 ] || continue
	fi
	files="$files $f"
done
if [ -n "$files" ]; then
	# shellcheck disable=SC2086
	bats --tap $files >"$log" 2>&1
	grep -E '^(ok|not ok) ' "$log" | sed 's/^/  /'
	grep -vE '^(ok|not ok|1\.\.)' "$log" | sed 's/^/    /' | head -200
	count bats "$log"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
