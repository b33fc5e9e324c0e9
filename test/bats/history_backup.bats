#!/usr/bin/env bats
# `ternctl backup` while a producer streams and the rollup runs: the copy
# opens, passes integrity_check and holds the history.

load history_helper

setup() { setup_tern; }
teardown() { teardown_tern; }

@test "a backup taken while ingesting opens and passes integrity_check" {
	write_conf 'rollup_interval = "1s"; checkpoint_ms = "1s";'
	start_writer
	t0=$(( ($(now_ms) / 1000 - 7200) * 1000 ))
	run "$BIN/ternctl" -f "$CONF" load -s 50 -b 500 -n 200000 -i 1000 -T "$t0" "$SOCK"
	assert_success
	# Streaming on: 5000 samples/s for 20 s, newer than the above.
	start_load live -s 50 -b 100 -r 5000 -d 20 -i 1000 -T $((t0 + 4000 * 1000)) "$SOCK"
	WAIT_S=20 wait_for stat_ge samples_new 230000
	for i in 1 2 3; do
		run "$BIN/ternctl" -f "$CONF" backup "$T/backup$i.db"
		assert_success
		assert_output --partial "integrity ok"
		alive "$LOAD_PID"
		run sqlite3 "$T/backup$i.db" "PRAGMA integrity_check"
		assert_output "ok"
		n=$(sqlite3 "$T/backup$i.db" "SELECT (SELECT coalesce(sum(n), 0) FROM head) + (SELECT coalesce(sum(n), 0) FROM chunk)")
		[ "$n" -ge 200000 ]
	done
	# The backup is a tern database the read side opens.
	run "$BIN/ternctl" -f "$CONF" query --db "$T/backup3.db" --range 24h 'load.value{series="7"}'
	assert_success
	assert_output --partial "tier minute"
	WAIT_S=60 wait_exit "$LOAD_PID"
	# An existing file is never overwritten.
	run "$BIN/ternctl" -f "$CONF" backup "$T/backup1.db"
	assert_failure
	stop_writer
	assert_no_sanitizer_report
}
