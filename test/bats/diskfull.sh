#!/bin/bash
# diskfull.sh BIN CONF DB MNT LOGDIR -- the disk-full scenario, run by
# disk_full.bats inside a private mount namespace (unshare), because the
# small tmpfs it mounts on MNT must not be seen by, nor outlive, the test.
# Everything that needs the mount runs here; what the test asserts on is
# printed as "key=value" lines (and the writer's log is LOGDIR/writer.log,
# outside the mount, for the test to read afterwards).
#
#   1. mount a 3 MiB tmpfs on MNT; the database DB lives there
#   2. start tern-writer; load A (20,000 samples) is acknowledged
#   3. fill the tmpfs with a filler file until dd hits ENOSPC
#   4. load B (30,000 samples) streams: its commits fail; the writer logs
#      it once, keeps running, says failing 1, acknowledges nothing
#   5. remove the filler: the writer's retry commits, load B completes
#      with everything acknowledged, the log says "recovered"
#   6. stop the writer; every sample of A and B is in the database once
set -u
BIN=$1 CONF=$2 DB=$3 MNT=$4 LOGDIR=$5
LOG=$LOGDIR/writer.log
T0=1700000000000

say() { echo "$*"; }

# poll SECONDS CMD...: runs CMD every 50 ms until it succeeds; 1 on timeout.
poll() {
	local i n=$(( $1 * 20 ))
	shift
	for ((i = 0; i < n; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

stat_of() {
	timeout 20 "$BIN/ternctl" -f "$CONF" status | awk -v k="$1" '$1 == k { print $2 }'
}
writer_up() { timeout 20 "$BIN/ternctl" -f "$CONF" status; }
gone() { ! kill -0 "$1" 2>/dev/null; }
stored() {
	sqlite3 "$DB" "SELECT (SELECT coalesce(sum(n),0) FROM head) + (SELECT coalesce(sum(n),0) FROM chunk)"
}

cleanup() {
	[ -n "${LOAD_B:-}" ] && kill -9 "$LOAD_B" 2>/dev/null
	[ -n "${WRITER:-}" ] && kill -9 "$WRITER" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT

mkdir -p "$MNT" || exit 1
if ! mount -t tmpfs -o size=3m,mode=0755 tern-diskfull "$MNT"; then
	say "mount=failed"
	exit 1
fi
say "mount=ok"

"$BIN/tern-writer" -f "$CONF" 2>>"$LOG" &
WRITER=$!
if ! poll 30 writer_up; then
	say "writer_up=0"
	exit 1
fi
say "writer_up=1"

# Acknowledged before the disk fills: these must survive everything below.
say "loadA: $("$BIN/ternctl" -f "$CONF" load -D before-full -s 50 -b 50 \
    -n 20000 2>>"$LOGDIR/loadA.err")"
say "loadA_rc=$?"

# Fill the file system to the last block.
dd if=/dev/zero of="$MNT/filler" bs=64k 2>"$LOGDIR/dd.err"
say "dd_rc=$?"
say "avail_kib=$(df -k --output=avail "$MNT" | tail -1 | tr -d ' ')"

"$BIN/ternctl" -f "$CONF" load -D during-full -s 50 -b 50 -n 30000 -w 600 \
    >"$LOGDIR/loadB.out" 2>"$LOGDIR/loadB.err" &
LOAD_B=$!

if poll 60 grep -qE "commit of [0-9]+ samples failed: " "$LOG"; then
	say "commit_failed=1"
else
	say "commit_failed=0"
fi
# While the disk stays full: the writer runs, says so, and has not
# acknowledged anything of load B (so A's samples are all there is).
kill -0 "$WRITER" 2>/dev/null && say "writer_alive=1" || say "writer_alive=0"
say "status_failing=$(stat_of failing)"
say "status_commit_failures=$(stat_of commit_failures)"
say "stored_while_full=$(stored)"
kill -0 "$LOAD_B" 2>/dev/null && say "loadB_waiting=1" || say "loadB_waiting=0"

# Space returns: no one tells the writer; its retry finds it.
rm -f "$MNT/filler"
say "freed=1"
if poll 120 gone "$LOAD_B"; then
	wait "$LOAD_B"
	say "loadB_rc=$?"
else
	say "loadB_rc=timeout"
fi
LOAD_B=
say "loadB: $(cat "$LOGDIR/loadB.out")"
if poll 30 grep -qE "commit: recovered after [0-9]+ failures?" "$LOG"; then
	say "recovered=1"
else
	say "recovered=0"
fi
say "status_failing_after=$(stat_of failing)"

kill -TERM "$WRITER"
wait "$WRITER"
say "writer_rc=$?"
WRITER=

say "stored=$(stored)"
say "distinct=$("$BIN/ternctl" -f "$CONF" dump "$DB" | awk -F'\t' '{ print $1, $5 }' | sort -u | wc -l)"
say "devices=$(sqlite3 "$DB" "SELECT group_concat(device, ',') FROM (SELECT DISTINCT device FROM series ORDER BY device)")"
# Every value of load B is what it sent (see ctl/load.c).
say "bad_values=$("$BIN/ternctl" -f "$CONF" dump "$DB" | awk -F'\t' -v t0=$T0 '
	$2 == "during-full" {
		s = $4; gsub(/[^0-9]/, "", s); k = ($5 - t0) / 1000
		v = 50 + 20 * sin((k + s) / 30.0)
		x = v * 100; r = (x < 0) ? -int(-x + 0.5) : int(x + 0.5)
		if (sprintf("%.17g", r / 100) != $6) bad++
	}
	END { print bad + 0 }')"
say "done=1"
