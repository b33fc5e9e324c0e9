# helper.bash -- what every scenario shares: per-test paths, starting the
# real binaries, waiting by polling (never by fixed sleeps), stopping them.
#
# Each test gets its own directory ($T), socket ($SOCK), database ($DB)
# and configuration ($CONF); nothing is shared between tests or with a
# running system.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

BIN=${TERN_BIN:-$BATS_TEST_DIRNAME/../../build}
TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup_tern() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/tern.XXXXXX")
	SOCK=$T/writer.sock
	DB=$T/tern.db
	CONF=$T/tern.conf
	export TERN_RUNDIR=$T
	PIDS=()
	write_conf ""
}

teardown_tern() {
	local p
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if [ -n "${T:-}" ] && [ -z "${TERN_KEEP:-}" ]; then
		rm -rf "$T"
	fi
}

# write_conf WRITER_EXTRA [TOP_EXTRA]: a configuration for this test.
write_conf() {
	cat >"$CONF" <<CONF
device = { id = "bats-device"; };
log_level = "debug";
writer = {
	socket = "$SOCK";
	database = "$DB";
	$1
};
${2:-}
CONF
}

# wait_for CMD...: polls CMD every 50 ms for up to $WAIT_S seconds (10).
wait_for() {
	# A deadline on the clock, not a count of tries: a try can itself
	# take seconds (ternctl status waits 5 s for a writer that is gone).
	local end=$(( SECONDS + ${WAIT_S:-10} ))
	while :; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		[ "$SECONDS" -ge "$end" ] && break
		sleep 0.05
	done
	echo "timed out waiting for: $*" >&2
	return 1
}

# start_writer: starts tern-writer on $CONF, logs to $T/writer.log, and
# waits until it answers on its socket.  Sets WRITER_PID.
start_writer() {
	"$BIN/tern-writer" -f "$CONF" "$@" 2>>"$T/writer.log" &
	WRITER_PID=$!
	PIDS+=("$WRITER_PID")
	wait_for writer_up
}

writer_up() {
	"$BIN/ternctl" -f "$CONF" status "$SOCK" >/dev/null 2>&1
}

# stop_writer: SIGTERM and wait for a clean exit; returns its status.
stop_writer() {
	kill -TERM "$WRITER_PID"
	wait "$WRITER_PID"
}

# kill9_writer: the crash.
kill9_writer() {
	kill -9 "$WRITER_PID"
	wait "$WRITER_PID" 2>/dev/null || true
}

# stat_of NAME: one counter from a running writer.
stat_of() {
	"$BIN/ternctl" -f "$CONF" status "$SOCK" | awk -v k="$1" '$1 == k { print $2 }'
}

# stored_samples: samples in the database, by the sqlite3 CLI.
stored_samples() {
	sqlite3 "$DB" "SELECT (SELECT coalesce(sum(n),0) FROM head) + (SELECT coalesce(sum(n),0) FROM chunk)"
}

# distinct_samples: distinct (series, ts) pairs, through ternctl dump.
distinct_samples() {
	"$BIN/ternctl" -f "$CONF" dump "$DB" | awk -F'\t' '{ print $1, $5 }' | sort -u | wc -l
}

# expected_value K S: the value ternctl load sends for round K, series S.
expected_value() {
	awk -v k="$1" -v s="$2" 'BEGIN {
		v = 50 + 20 * sin((k + s) / 30.0)
		# round half away from zero, as C round() does
		x = v * 100; r = (x < 0) ? -int(-x + 0.5) : int(x + 0.5)
		printf "%.17g\n", r / 100 }'
}

# wait_stat NAME VALUE: polls the writer until counter NAME equals VALUE.
wait_stat() {
	wait_for stat_is "$1" "$2"
}
stat_is() {
	[ "$(stat_of "$1")" = "$2" ]
}

# --- added for the crash, bad-frame, disk-full and tap scenarios ---

# start_load NAME ARGS...: starts `ternctl load ARGS` in the background with
# its stdout in $T/NAME.out and stderr in $T/NAME.err.  Sets LOAD_PID.
start_load() {
	local name=$1
	shift
	"$BIN/ternctl" -f "$CONF" load "$@" >"$T/$name.out" 2>"$T/$name.err" &
	LOAD_PID=$!
	PIDS+=("$LOAD_PID")
}

# load_field FILE KEY: one key=value field of a load summary line.
load_field() {
	tr ' ' '\n' <"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'
}

# stat_ge NAME MIN: true once counter NAME of the running writer is >= MIN.
stat_ge() {
	local v
	v=$(stat_of "$1") || return 1
	[ -n "$v" ] && [ "${v%.*}" -ge "$2" ]
}

# alive PID: true while PID runs (and is not a zombie).
alive() {
	kill -0 "$1" 2>/dev/null &&
	    ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# wait_exit PID: waits (polling, up to $WAIT_S) until PID has exited, then
# reaps it and returns its exit status; 124 if it is still running.
wait_exit() {
	local rc=0
	if ! wait_for pid_gone "$1"; then
		return 124
	fi
	wait "$1" || rc=$?
	return $rc
}
pid_gone() {
	! alive "$1"
}

# writer_unread_conns: how many of the writer's connections have bytes
# waiting unread in the kernel (ss Recv-Q > 0): sent, so not acknowledged.
writer_unread_conns() {
	ss -xpn state established 2>/dev/null |
	    awk -v pid="pid=$WRITER_PID," 'index($0, pid) && $2 > 0' | wc -l
}
writer_unread_ge() {
	[ "$(writer_unread_conns)" -ge "$1" ]
}

# bad_values DEVICE T0: how many of DEVICE's stored samples differ from
# what `ternctl load -D DEVICE -T T0` sent (see ctl/load.c: series s is the
# label series="s", round k = (ts - T0) / 1000).  Also counts as bad a
# sample whose timestamp is not on the 1 s grid.
bad_values() {
	"$BIN/ternctl" -f "$CONF" dump "$DB" | awk -F'\t' -v dev="$1" -v t0="$2" '
	$2 == dev {
		s = $4; gsub(/[^0-9]/, "", s)
		k = ($5 - t0) / 1000
		if (k != int(k)) { bad++; next }
		v = 50 + 20 * sin((k + s) / 30.0)
		x = v * 100; r = (x < 0) ? -int(-x + 0.5) : int(x + 0.5)
		if (sprintf("%.17g", r / 100) != $6) bad++
	}
	END { print bad + 0 }'
}

# assert_no_sanitizer_report [FILE...]: no AddressSanitizer, LeakSanitizer
# or UBSan report in the files (default: the writer's log).  A no-op in
# effect for the normal build, the net under `make SANITIZE=1`.
assert_no_sanitizer_report() {
	local f
	[ $# -gt 0 ] || set -- "$T/writer.log"
	for f in "$@"; do
		[ -e "$f" ] || continue
		if grep -E -n 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$f" >&2; then
			fail "sanitizer report in $f"
		fi
	done
}

# rawpeer ARGS...: test/bats/rawpeer.py against this test's writer.
rawpeer() {
	python3 "$BATS_TEST_DIRNAME/rawpeer.py" "$SOCK" "$@"
}

# --- added for the sampler scenarios ---

# write_sampler_conf KEYS: $CONF with a sampler section holding KEYS
# (the writer section as write_conf makes it).
write_sampler_conf() {
	write_conf "" "sampler = { $1 };"
}

# start_sampler: starts tern-sampler on $CONF, logs to $T/sampler.log, and
# waits until it has set up its sources.  Sets SAMPLER_PID.
start_sampler() {
	"$BIN/tern-sampler" -f "$CONF" "$@" 2>>"$T/sampler.log" &
	SAMPLER_PID=$!
	PIDS+=("$SAMPLER_PID")
	wait_for grep -q "sampling for device" "$T/sampler.log"
}

# stop_sampler: SIGTERM (it waits up to 3 s for the ACKs of what it sent)
# and waits for its exit; returns its status.
stop_sampler() {
	kill -TERM "$SAMPLER_PID"
	WAIT_S=30 wait_exit "$SAMPLER_PID"
}

# stored_of NAME [LABELS]: samples of one series in the database, by
# ternctl dump of that series (cheap enough to poll; a packed head row
# holds many series, so the sqlite3 CLI cannot count one).  LABELS as
# ternctl dump prints them, "" (the default) for a series without labels.
stored_of() {
	local id
	id=$(sqlite3 "$DB" "SELECT id FROM series WHERE name = '$1' AND
	    labels = '${2-}'")
	if [ -z "$id" ]; then
		echo 0
		return
	fi
	"$BIN/ternctl" -f "$CONF" dump -s "$id" "$DB" | wc -l
}
stored_ge() {	# NAME LABELS MIN
	[ "$(stored_of "$1" "$2")" -ge "$3" ]
}

# dump_db: every stored sample, by ternctl dump, into $T/dump.tsv.
dump_db() {
	"$BIN/ternctl" -f "$CONF" dump "$DB" >"$T/dump.tsv"
}

# samples_of NAME [LABELS]: "ts value" of one series from the last dump_db,
# oldest first.
samples_of() {
	awk -F'\t' -v n="$1" -v l="${2-}" '$3 == n && $4 == l { print $5, $6 }' \
	    "$T/dump.tsv" | sort -n
}

# values_of NAME [LABELS]: the values alone, oldest first, one a line.
values_of() {
	samples_of "$@" | awk '{ print $2 }'
}

# labels_of NAME: the distinct label sets of NAME in the last dump_db.
labels_of() {
	awk -F'\t' -v n="$1" '$3 == n { print $4 }' "$T/dump.tsv" | sort -u
}

# out_of_range NAME MIN MAX: samples of NAME (any labels) in the last
# dump_db outside MIN..MAX, printed one a line; no output when all are in.
out_of_range() {
	awk -F'\t' -v n="$1" -v lo="$2" -v hi="$3" '$3 == n &&
	    ($6 !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ ||
	     !($6 + 0 >= lo + 0 && $6 + 0 <= hi + 0))' "$T/dump.tsv"
}

# assert_sampler_clean: neither process reported a sanitizer error.
assert_sampler_clean() {
	assert_no_sanitizer_report "$T/writer.log" "$T/sampler.log"
}
