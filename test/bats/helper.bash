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
	local i n=$(( ${WAIT_S:-10} * 20 ))
	for ((i = 0; i < n; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
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
