#!/usr/bin/env bats
# The same batch twice is stored once; a lost answer does not duplicate.

load helper
load receiver_helper

setup() { setup_tern; setup_receiver; }
teardown() { assert_no_sanitizer_report "$T/writer.log" "$T/receiver.log"; teardown_tern; }

batch() {
	python3 -c '
import json
print(json.dumps({"series": [{"name": "load", "labels": {"s": str(s)}} for s in range(10)],
  "points": [[i % 10, 1700000000000 + (i // 10) * 1000, i] for i in range(5000)]}))'
}

@test "the same batch sent twice is stored once and the second answer says 0 new" {
	start_writer; start_receiver
	batch >"$T/batch.json"
	run curl -sS -X POST "$URL/api/v1/ingest" -H "Authorization: Bearer $TOKEN" \
	    -H 'Content-Type: application/json' --data-binary @"$T/batch.json"
	assert_output '{"success":true,"received":5000,"new":5000,"duplicates":0}'
	run curl -sS -X POST "$URL/api/v1/ingest" -H "Authorization: Bearer $TOKEN" \
	    -H 'Content-Type: application/json' --data-binary @"$T/batch.json"
	assert_output '{"success":true,"received":5000,"new":0,"duplicates":5000}'
	run stored_samples
	assert_output 5000
	run distinct_samples
	assert_output 5000
}

@test "closing the connection after commit, before answering: the retry stores no duplicates" {
	start_writer
	TERN_RECEIVER_TEST_DROP_AFTER_COMMIT=1 start_receiver
	batch >"$T/batch.json"
	run curl -sS -X POST "$URL/api/v1/ingest" -H "Authorization: Bearer $TOKEN" \
	    -H 'Content-Type: application/json' --data-binary @"$T/batch.json"
	assert_failure		# empty reply: the client must retry
	run stored_samples
	assert_output 5000
	run curl -sS -X POST "$URL/api/v1/ingest" -H "Authorization: Bearer $TOKEN" \
	    -H 'Content-Type: application/json' --data-binary @"$T/batch.json"
	assert_output '{"success":true,"received":5000,"new":0,"duplicates":5000}'
	run distinct_samples
	assert_output 5000
	run stored_samples
	assert_output 5000
}

@test "requests wait for a writer that restarts, and are answered after its commit" {
	start_writer; start_receiver
	stop_writer
	( curl -sS -X POST "$URL/api/metrics" -H "Authorization: Bearer $TOKEN" \
	    -d '{"metrics":[{"name":"late","value":1,"timestamp":1700000000000}]}' >"$T/late.out" ) &
	CURL=$!
	sleep 0.5
	start_writer
	wait "$CURL"
	run cat "$T/late.out"
	assert_output '{"success":true,"received":1,"new":1}'
	run stored_samples
	assert_output 1
}
