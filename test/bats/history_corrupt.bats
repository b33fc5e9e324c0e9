#!/usr/bin/env bats
# A corrupted database is moved aside (with its -wal and -shm), the event
# logged as an error, and the writer serves on a fresh one.

load history_helper

setup() { setup_tern; }
teardown() { teardown_tern; }

corrupt_middle() {	# overwrite 256 KiB in the middle of $DB with garbage
	local size
	size=$(stat -c %s "$DB")
	dd if=/dev/urandom of="$DB" bs=4096 seek=$((size / 8192 - 32)) count=64 \
	    conv=notrunc status=none
}

@test "corrupt database after a crash: quarantined, the writer serves again" {
	write_conf 'rollup_interval = "1s"; checkpoint_ms = "1s";'
	start_writer
	run "$BIN/ternctl" -f "$CONF" load -s 100 -b 1000 -n 300000 -i 1000 -T $(( $(now_ms) - 3600000 )) "$SOCK"
	assert_success
	WAIT_S=30 wait_for rolled_up
	kill9_writer
	corrupt_middle
	start_writer
	grep -q "database is corrupt" "$T/writer.log"
	ls "$T"/tern.db.corrupt-* >/dev/null
	run "$BIN/ternctl" -f "$CONF" load -D fresh -s 10 -n 1000 "$SOCK"
	assert_success
	[ "$(stored_samples)" = 1000 ]
	run sqlite3 "$DB" "PRAGMA integrity_check"
	assert_output "ok"
	stop_writer
	assert_no_sanitizer_report
}

@test "corrupt database after a clean stop: quarantined, the writer serves again" {
	write_conf 'rollup_interval = "1s"; checkpoint_ms = "1s";'
	start_writer
	run "$BIN/ternctl" -f "$CONF" load -s 100 -b 1000 -n 300000 -i 1000 -T $(( $(now_ms) - 3600000 )) "$SOCK"
	assert_success
	WAIT_S=30 wait_for rolled_up
	stop_writer
	corrupt_middle
	"$BIN/tern-writer" -f "$CONF" 2>>"$T/writer.log" &
	WRITER_PID=$!
	PIDS+=("$WRITER_PID")
	# Either it notices at start, or a later read or write trips on the
	# bad pages; in both cases it must end up serving a sound database.
	run "$BIN/ternctl" -f "$CONF" load -D fresh -s 10 -n 1000 -w 20 "$SOCK"
	grep -E "database is corrupt|malformed|corrupt" "$T/writer.log" >&2 || true
	assert_success
	alive "$WRITER_PID"
	stop_writer
}
