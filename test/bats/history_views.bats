#!/usr/bin/env bats
# The seeds' users' sqlite3 queries, as written, against the compatibility
# views: seed 003's metrics, seed 000's agents and system_metrics.

load history_helper

setup() { setup_tern; }
teardown() { teardown_tern; }

@test "seed 003: SELECT * FROM metrics LIMIT 10 (and by name, by time)" {
	write_conf 'rollup_interval = "1s";'
	start_writer
	t0=$(( ($(now_ms) / 60000 - 15) * 60000 ))
	run "$BIN/ternctl" -f "$CONF" load -N cpu_temp -s 2 -b 20 -n 1200 -i 1000 -T "$t0" "$SOCK"
	assert_success
	WAIT_S=30 wait_for rolled_up
	# seed 003 README: sqlite3 .../metrics.db "SELECT * FROM metrics LIMIT 10"
	run sqlite3 "$DB" "SELECT * FROM metrics LIMIT 10"
	assert_success
	[ "${#lines[@]}" -eq 10 ]
	# timestamp (ms), metric_name, metric_value, device_id, labels
	[[ "${lines[0]}" =~ ^[0-9]{13}\|cpu_temp\|[0-9.]+\|bats-device\|series= ]]
	run sqlite3 "$DB" "SELECT count(*), min(metric_value) >= 30, max(metric_value) <= 70
	    FROM metrics WHERE metric_name = 'cpu_temp' AND device_id = 'bats-device'
	    AND timestamp >= $t0"
	assert_output "20|1|1"
	# The view's average is the minute's mean of what was sent.
	run sqlite3 "$DB" "SELECT round(metric_value, 9) FROM metrics
	    WHERE labels = 'series=\"0\"' ORDER BY timestamp LIMIT 1 OFFSET 1"
	expect=$("$BIN/ternctl" -f "$CONF" dump "$DB" | awk -F'\t' -v t="$t0" '
	    $4 == "series=\"0\"" && $5 >= t + 60000 && $5 < t + 120000 { s += $6; n++ }
	    END { printf "%.9f", s / n }')
	[ "$(printf '%.9f' "$output")" = "$expect" ]
	stop_writer
}

@test "seed 000: agents and system_metrics from cpu_usage, memory_*, disk_free_percent" {
	write_conf 'rollup_interval = "1s";'
	start_writer
	t0=$(( ($(now_ms) / 60000 - 10) * 60000 ))
	for n in cpu_usage memory_used memory_total disk_free_percent; do
		run "$BIN/ternctl" -f "$CONF" load -N "$n" -s 1 -b 60 -n 300 -i 1000 -T "$t0" "$SOCK"
		assert_success
	done
	WAIT_S=30 wait_for rolled_up
	# seed 000's table: id, hostname, ip_address, os, created_at, updated_at
	run sqlite3 "$DB" "SELECT id, created_at <= updated_at FROM agents"
	assert_output "bats-device|1"
	run sqlite3 "$DB" "SELECT count(*) FROM system_metrics WHERE agent_id = 'bats-device'
	    AND cpu_usage IS NOT NULL AND memory_used IS NOT NULL
	    AND memory_total IS NOT NULL AND disk_free_percent IS NOT NULL"
	assert_output "5"
	run sqlite3 "$DB" "SELECT time, agent_id, typeof(memory_used) FROM system_metrics
	    ORDER BY time DESC LIMIT 1"
	[[ "$output" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9:]{8}\|bats-device\|integer$ ]]
	# A seed 000 style join.
	run sqlite3 "$DB" "SELECT a.hostname IS NOT NULL, count(*) FROM system_metrics m
	    JOIN agents a ON a.id = m.agent_id GROUP BY a.id"
	assert_output "1|5"
	stop_writer
}
