#!/usr/bin/env bats
# A sample later than the raw retention, for a minute already rolled up and
# whose raw samples are pruned, must not replace that minute: it is refused
# and counted.  Backfill into a minute that holds nothing is stored.

load helper

setup() { setup_tern; }
teardown() { teardown_tern; }

tier_sum() {
	sqlite3 "$DB" "SELECT coalesce(sum(count), 0) FROM tier WHERE tier = 60000"
}
tier_is() { [ "$(tier_sum)" = "$1" ]; }
raw_is() { [ "$(stored_samples)" = "$1" ]; }

@test "a too-late sample is refused instead of shrinking a rolled-up minute" {
	write_conf 'raw_retention = "1m"; rollup_interval = "1s"; retention_interval = "1s";'
	start_writer
	now=$(date +%s%3N)
	t0=$(( (now - 10 * 60000) / 60000 * 60000 ))
	run "$BIN/ternctl" -f "$CONF" load -s 1 -b 10 -n 50 -i 1000 -T "$t0" "$SOCK"
	assert_success
	WAIT_S=30 wait_for tier_is 50
	# The raw samples go once the minute is rolled up.
	WAIT_S=30 wait_for raw_is 0
	run "$BIN/ternctl" -f "$CONF" load -s 1 -b 1 -n 1 -T $((t0 + 500)) "$SOCK"
	assert_success
	wait_stat too_late 1
	run tier_sum
	assert_output 50
	run grep -c "refused: older than the raw retention" "$T/writer.log"
	assert_output 1

	# Backfill into an empty minute, as old, is stored and rolled up.
	run "$BIN/ternctl" -f "$CONF" load -s 1 -b 5 -n 5 -i 1000 -T $((t0 - 5 * 60000)) "$SOCK"
	assert_success
	WAIT_S=30 wait_for tier_is 55
}
