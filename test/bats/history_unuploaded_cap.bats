#!/usr/bin/env bats
# With an uploader configured but none running, raw samples are kept past
# raw_retention until writer.raw_unuploaded_bytes; past it the oldest go,
# the drop is logged and counted, and a gap row records the lost range.

load history_helper

setup() { setup_tern; }
teardown() { teardown_tern; }

pending_bytes() {
	sqlite3 "$DB" "SELECT coalesce(sum(length(data)), 0) FROM head WHERE up = 0"
}
capped() {
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM gap WHERE reason = 'unuploaded raw cap' AND count > 0")" -gt 0 ] &&
	    [ "$(pending_bytes)" -le 1048576 ]
}

@test "the unuploaded-raw cap drops the oldest with a gap marker" {
	write_conf 'raw_unuploaded_bytes = "1M"; raw_retention = "1m";
	    rollup_interval = "1s"; retention_interval = "1s";' \
	    'uploader = { enabled = true; url = "http://127.0.0.1:9/none"; };'
	start_writer
	# Three hours ago, 200 series at 1 s: well past raw_retention and,
	# with values that move, several MB of chunks.
	t0=$(( ($(now_ms) / 1000 - 3 * 3600) * 1000 ))
	run "$BIN/ternctl" -f "$CONF" load -s 200 -b 1000 -n 1200000 -i 1000 -T "$t0" -w 120 "$SOCK"
	assert_success
	WAIT_S=120 wait_for capped
	grep -q "not-yet-uploaded raw samples exceed 1048576 bytes: dropped the oldest" "$T/writer.log"
	run sqlite3 "$DB" "SELECT device, from_ts >= $t0, to_ts > from_ts, count > 0
	    FROM gap WHERE reason = 'unuploaded raw cap' LIMIT 1"
	assert_output "bats-device|1|1|1"
	# Counted; and what was dropped is what the gaps say.
	dropped=$(sqlite3 "$DB" "SELECT sum(count) FROM gap WHERE reason = 'unuploaded raw cap'")
	[ "$(stat_of retention_capped_samples)" = "$dropped" ]
	[ "$(( $(stored_samples) + dropped ))" = 1200000 ]
	# The oldest went: nothing older than the newest gap's end is left.
	newest_gap=$(sqlite3 "$DB" "SELECT max(to_ts) FROM gap")
	run sqlite3 "$DB" "SELECT count(*) FROM head WHERE up = 0 AND t1 <= $newest_gap - 200000"
	assert_output "0"
	stop_writer
	assert_no_sanitizer_report
}
