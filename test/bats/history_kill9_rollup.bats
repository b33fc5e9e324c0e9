#!/usr/bin/env bats
# kill -9 while a long rollup runs; after the restart the rollup finishes
# and every tier equals a recomputation from the raw samples.

load history_helper

setup() { setup_tern; }
teardown() { teardown_tern; }

@test "kill -9 in the middle of a long rollup, restart: tiers equal the raw" {
	# Rollup held off while filling (its first pass at start finds
	# nothing); retention off so that raw stays to compare with.
	# Tiers that keep these days (the default minute tier keeps 24 h,
	# and buckets older than a tier keeps are never made).
	tiers='tiers = ( { name = "minute"; bucket = "1m"; retention = "30d"; },
	    { name = "hour"; bucket = "1h"; retention = "30d"; },
	    { name = "day"; bucket = "1d"; retention = "90d"; } );'
	write_conf "rollup_interval = \"24h\"; retention_interval = \"24h\"; $tiers"
	start_writer
	# 100 series, 3000 minutes (50 h) ending two days ago: every minute,
	# hour and day bucket complete.
	t0=$(( ($(now_ms) / 86400000 - 4) * 86400000 + 1000 ))
	run "$BIN/ternctl" -f "$CONF" load -s 100 -b 1000 -n 300000 -i 60000 -T "$t0" -w 120 "$SOCK"
	assert_success
	stop_writer
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM tier")" = 0 ]

	write_conf "rollup_interval = \"1s\"; retention_interval = \"24h\"; $tiers"
	start_writer
	# Some of the minute tier done, much of it not.
	wait_for eval '[ "$(sqlite3 "$DB" "SELECT count(*) FROM tier")" -gt 1000 ]'
	kill9_writer
	rows=$(sqlite3 "$DB" "SELECT count(*) FROM tier")
	# Killed with the minute tier part done: some series' watermarks
	# not yet past the data.
	behind=$(sqlite3 "$DB" "SELECT 100 * 3 - count(*) FROM rolled WHERE upto >= $(( t0 + 300000 / 100 * 60000 ))")
	echo "# killed with $rows tier rows, $behind watermarks behind the data" >&3
	[ "$behind" -gt 0 ]

	start_writer
	WAIT_S=120 wait_for rolled_up
	grep -q "did not stop cleanly" "$T/writer.log"
	# Every tier holds every raw sample once.
	raw=$("$BIN/ternctl" -f "$CONF" dump "$DB" | wc -l)
	[ "$raw" = 300000 ]
	run sqlite3 "$DB" "SELECT tier, sum(count) FROM tier GROUP BY tier"
	assert_output "60000|300000
3600000|300000
86400000|300000"
	# Minute, hour and day rows each equal the raw samples of their bucket.
	raw_vs_tier 60000
	raw_vs_tier 3600000
	raw_vs_tier 86400000
	stop_writer
	assert_no_sanitizer_report
}
