#!/usr/bin/env bats
# seed 001's definition of done: history survives a writer restart.  Three
# series of three hours at 5 s are rolled up; after a clean restart the
# tiers hold the same rows and `ternctl query` prints the same points.

load history_helper

setup() { setup_tern; }
teardown() { teardown_tern; }

@test "history survives a writer restart: same tier rows, same query points" {
	write_conf 'rollup_interval = "1s";'
	start_writer
	# 2200 rounds at 5 s ending 500 s ago: every minute bucket complete.
	t0=$(( ($(now_ms) / 5000 - 2300) * 5000 ))
	run "$BIN/ternctl" -f "$CONF" load -s 3 -b 30 -n 6600 -i 5000 -T "$t0" "$SOCK"
	assert_success
	WAIT_S=60 wait_for rolled_up
	sqlite3 "$DB" "SELECT * FROM tier ORDER BY tier, series, bucket" >"$T/tier.before"
	query_points 'load.value{series="1"}' --range 24h --points 0 >"$T/q24.before"
	query_points 'load.value{series="2"}' --range 7d --points 100 >"$T/q7d.before"
	# The minute tier answered with data, not an empty shell.
	[ "$(grep -c . "$T/q24.before")" -gt 150 ]
	grep -q '^tier minute' "$T/q24.before"
	grep -q '^tier hour' "$T/q7d.before"

	stop_writer
	start_writer
	WAIT_S=30 wait_for rolled_up
	sqlite3 "$DB" "SELECT * FROM tier ORDER BY tier, series, bucket" >"$T/tier.after"
	query_points 'load.value{series="1"}' --range 24h --points 0 >"$T/q24.after"
	query_points 'load.value{series="2"}' --range 7d --points 100 >"$T/q7d.after"
	diff "$T/tier.before" "$T/tier.after"
	diff "$T/q24.before" "$T/q24.after"
	diff "$T/q7d.before" "$T/q7d.after"
	# And the minute tier equals the raw samples it came from.
	raw_vs_tier 60000
	run "$BIN/ternctl" -f "$CONF" stats
	assert_success
	assert_output --regexp 'minute +[0-9]+ rows +6600 samples'
	stop_writer
	assert_no_sanitizer_report
}
