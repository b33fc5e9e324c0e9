#!/usr/bin/env bats
# Retention prunes raw samples and tier rows past their retention, and once
# the retention window has filled the database file stops growing.

load history_helper

setup() { setup_tern; }
teardown() { teardown_tern; }

# db_bytes: the database file (the WAL is bounded apart, below).
db_bytes() {
	stat -c %s "$DB"
}

@test "retention prunes, and the file stops growing after the window fills" {
	# Raw 1 min (the least allowed), 10 s buckets kept 1 min, minutes
	# kept 2 min; everything every second.
	write_conf 'raw_retention = "1m"; rollup_interval = "1s";
	    retention_interval = "1s"; checkpoint_ms = "1s";
	    journal_size_limit = "0";
	    tiers = ( { name = "s10"; bucket = "10s"; retention = "1m"; },
		      { name = "minute"; bucket = "1m"; retention = "2m"; } );'
	start_writer
	# 100 series at 10 samples/s each, real time, for 200 s.
	start_load live -s 100 -b 100 -r 1000 -i 100 -T $(( $(now_ms) / 100 * 100 )) -d 200 -w 60 "$SOCK"
	# The window (2 min of minutes) is full after ~130 s; sample the
	# size from then on, each after a retention pass.
	WAIT_S=150 wait_for eval '[ "$(stat_of samples_new)" -ge 140000 ]'
	sizes=()
	for i in 1 2 3 4 5 6; do
		# Every 8 s of load, short of its last samples (200,000).
		WAIT_S=30 wait_for eval '[ "$(stat_of samples_new)" -ge $((140000 + i * 8000)) ]'
		sizes+=("$(db_bytes)")
		echo "# db $(stat -c %s "$DB") wal $(stat -c %s "$DB-wal" 2>/dev/null) freelist $(sqlite3 "$DB" "PRAGMA freelist_count")" >&3
	done
	sqlite3 "$DB" "SELECT '# ' || name || ' ' || sum(pgsize) FROM dbstat GROUP BY name" >&3 2>&1 || true
	WAIT_S=60 wait_exit "$LOAD_PID"
	# Pruned: raw, and both tiers' old rows, past their retention and
	# its granule (a sixteenth of it, at least a bucket: 10 s for s10,
	# 1 min for minutes), with 15 s to spare.
	[ "$(stat_of retention_raw_rows)" -gt 0 ]
	[ "$(stat_of retention_tier_rows)" -gt 0 ]
	now=$(now_ms)
	run sqlite3 "$DB" "SELECT (SELECT count(*) FROM chunk WHERE t1 < $now - 60000 - 15000)
	    + (SELECT count(*) FROM tier WHERE tier = 10000 AND bucket < $now - 60000 - 10000 - 15000)
	    + (SELECT count(*) FROM tier WHERE tier = 60000 AND bucket < $now - 120000 - 60000 - 15000)"
	assert_output "0"
	# Flat: over the last 40 s of streaming the file did not grow by
	# more than a tenth of itself, and the last reading is not the
	# largest by more than that either.
	first=${sizes[0]} last=${sizes[5]} max=0
	for s in "${sizes[@]}"; do [ "$s" -gt "$max" ] && max=$s; done
	[ "$last" -le $(( first + first / 10 )) ]
	[ "$max" -le $(( first + first / 5 )) ]
	# The WAL is truncated after checkpoints (journal_size_limit 0).
	[ "$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)" -le $((4 << 20)) ]
	stop_writer
	assert_no_sanitizer_report
}
