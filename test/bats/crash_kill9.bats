#!/usr/bin/env bats
# kill -9 of the writer while two producers stream; the writer is restarted
# on the same configuration, both producers reconnect and resend what was
# not acknowledged, and every sample ends up stored exactly once.

load helper

setup() { setup_tern; }
teardown() { teardown_tern; }

T0=1700000000000

@test "kill -9 mid-stream, restart: both producers finish, every sample stored once" {
	start_writer
	# 300,000 samples each at 50,000/s: six seconds of streaming, so the
	# kill below lands in the middle of it.
	start_load a -D dev-a -s 255 -b 100 -n 300000 -r 50000 -w 180 "$SOCK"
	LOAD_A=$LOAD_PID
	start_load b -D dev-b -s 255 -b 100 -n 300000 -r 50000 -w 180 "$SOCK"
	LOAD_B=$LOAD_PID

	# Some samples committed and acknowledged...
	WAIT_S=60 wait_for stat_ge samples_new 50000
	# ...and, with the writer frozen, frames of both producers sent but
	# not yet read: whatever the kill lands on, each has unacknowledged
	# frames it must resend.
	kill -STOP "$WRITER_PID"
	WAIT_S=30 wait_for writer_unread_ge 2
	kill9_writer
	alive "$LOAD_A"
	alive "$LOAD_B"

	# Restart on the same configuration: it finds the crashed writer's
	# socket file and the database with its WAL.
	start_writer
	WAIT_S=180 wait_exit "$LOAD_A" || { cat "$T/a.out" "$T/a.err"; false; }
	WAIT_S=60 wait_exit "$LOAD_B" || { cat "$T/b.out" "$T/b.err"; false; }

	# Both producers reconnected, resent and had everything acknowledged.
	run cat "$T/a.out"
	assert_output --partial "sent=300000 acked=300000 "
	run cat "$T/b.out"
	assert_output --partial "sent=300000 acked=300000 "
	run cat "$T/a.err"
	assert_output --regexp "connected; resending [1-9][0-9]* unacknowledged frames"
	run cat "$T/b.err"
	assert_output --regexp "connected; resending [1-9][0-9]* unacknowledged frames"

	# The writer log shows the crash and the restart.
	run grep -c "tern-writer: listening on $SOCK" "$T/writer.log"
	assert_output 2
	run grep "removing stale socket $SOCK" "$T/writer.log"
	assert_success
	run grep "listening on $SOCK, database $DB, 510 series" "$T/writer.log"
	assert_success

	stop_writer

	# Every sample exactly once: the sums of the chunk counts, and the
	# distinct (series, ts) pairs, both say 600,000.
	run stored_samples
	assert_output 600000
	run distinct_samples
	assert_output 600000
	run sqlite3 "$DB" "SELECT device, count(*) FROM series GROUP BY device ORDER BY device"
	assert_output "$(printf 'dev-a|255\ndev-b|255')"

	# Values: spot checks by hand, then every sample against the formula.
	want=$(expected_value 600 17)
	run bash -c "'$BIN/ternctl' -f '$CONF' dump '$DB' | awk -F'\t' '\$2 == \"dev-b\" && \$4 == \"series=\\\"17\\\"\" && \$5 == $((T0 + 600 * 1000)) { print \$6 }'"
	assert_output "$want"
	# The last sample of each producer: index 299,999 is round 1176,
	# series 119.
	want=$(expected_value 1176 119)
	run bash -c "'$BIN/ternctl' -f '$CONF' dump '$DB' | awk -F'\t' '\$4 == \"series=\\\"119\\\"\" && \$5 == $((T0 + 1176 * 1000)) { print \$2, \$6 }' | sort"
	assert_output "$(printf 'dev-a %s\ndev-b %s' "$want" "$want")"
	run bad_values dev-a "$T0"
	assert_output 0
	run bad_values dev-b "$T0"
	assert_output 0

	assert_no_sanitizer_report "$T/writer.log" "$T/a.err" "$T/b.err"
}
