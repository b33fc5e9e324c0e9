#!/usr/bin/env bats
# The seeds' payloads, as written, through tern-receiver into the writer.

load helper
load receiver_helper

setup() { setup_tern; setup_receiver; start_writer; start_receiver; }
teardown() { assert_no_sanitizer_report "$T/writer.log" "$T/receiver.log"; teardown_tern; }

@test "seed 003's curl example is accepted as written and stored" {
	run curl -sS -X POST "$URL/api/metrics" \
	    -H 'Content-Type: application/json' \
	    -H "Authorization: Bearer $TOKEN" \
	    -d "$(seed003_body)"
	assert_success
	assert_output '{"success":true,"received":1,"new":1}'
	run dump_rows
	assert_output "$(printf 'belabox-001\tcpu.temperature\t\t1760193000123\t52.299999999999997')"
	run sqlite3 "$DB" "SELECT device, name FROM series"
	assert_output "belabox-001|cpu.temperature"
}

@test "seed 000's agent payload registers the agent and stores its figures" {
	run post /api/v1/metrics tok-pve-1 '{"agent_id":"pve-1","hostname":"pve1","ip":"10.0.0.2","os":"linux","timestamp":"2025-10-11T14:30:00Z","cpu_usage":12.5,"memory_used":1073741824,"memory_total":4294967296,"disk_free_percent":55.5}'
	assert_success
	assert_output "$(printf '{"success":true,"received":4,"new":4}\n200')"
	run sqlite3 "$DB" "SELECT name FROM series WHERE device = 'pve-1' ORDER BY name"
	assert_output "$(printf 'cpu_usage\ndisk_free_percent\nmemory_total\nmemory_used')"
	run bash -c "'$BIN/ternctl' -f '$CONF' dump '$DB' | awk -F'\t' '\$3 == \"memory_total\" { print \$5, \$6 }'"
	assert_output "1760193000000 4294967296"
}

@test "health, readiness and self-metrics answer" {
	run curl -sS "$URL/health"
	assert_output '{"status":"ok"}'
	run curl -sS "$URL/healthz"
	assert_output '{"status":"alive"}'
	run curl -sS "$URL/readyz"
	assert_output --partial '"status":"ready"'
	post /api/metrics "$TOKEN" "$(seed003_body)"
	run curl -sS "$URL/metrics"
	assert_output --partial 'tern_receiver_requests_total{endpoint="/api/metrics",code="200"} 1'
	assert_output --partial 'tern_receiver_samples_total{result="new"} 1'
	assert_output --partial 'tern_receiver_writer_connected 1'
	# Not ready without the writer; ready again when it is back.
	stop_writer
	run curl -s -o /dev/null -w '%{http_code}' "$URL/readyz"
	assert_output 503
	start_writer
	wait_for receiver_ready
}

@test "tern's own JSON format with gzip, and msgpack" {
	body='{"series":[{"name":"cpu.usage","labels":{"core":"0"}}],"points":[[0,1700000000000,1.5],[0,"2023-11-14T22:13:21Z",2.5]]}'
	run bash -c "printf '%s' '$body' | gzip -c | curl -sS -X POST '$URL/api/v1/ingest' -H 'Authorization: Bearer $TOKEN' -H 'Content-Type: application/json' -H 'Content-Encoding: gzip' --data-binary @-"
	assert_output '{"success":true,"received":2,"new":2,"duplicates":0}'
	# msgpack: {"series":[["m",[]]],"points":[0,1700000000000,7]}
	run bash -c "printf '\x82\xa6series\x91\x92\xa1m\x90\xa6points\x93\x00\xcf\x00\x00\x01\x8b\xcf\xe5\x68\x00\x07' | curl -sS -X POST '$URL/api/v1/ingest' -H 'Authorization: Bearer $TOKEN' -H 'Content-Type: application/msgpack' --data-binary @-"
	assert_output '{"success":true,"received":1,"new":1,"duplicates":0}'
	run stored_samples
	assert_output 3
}
