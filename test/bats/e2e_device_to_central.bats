#!/usr/bin/env bats
# Device -> central, end to end: a device's writer, a producer and
# tern-uploader on one side, tern-receiver and its writer on the other,
# over HTTP on a free port.  Every sample the device stored is in the
# central database exactly once with the same value, checked with ternctl
# dump and with the sqlite3 CLI.

load helper
load receiver_helper
load e2e_helper

setup() { setup_tern; }
teardown() { assert_e2e_clean; teardown_tern; }

# load_now N SERIES: N samples of `ternctl load` on the 1 s grid, ending
# about now (so that no retention pass could take them for old).
load_now() {
	local t0=$(( ($(date +%s) - $1 / $2) * 1000 ))
	run "$BIN/ternctl" -f "$CONF" load -D belabox-001 -s "$2" -b 100 \
	    -n "$1" -T "$t0" "$SOCK"
	assert_success
	assert_output --partial "acked=$1"
}

@test "msgpack, gzip: every sample the device stored is stored once centrally, values identical" {
	setup_e2e
	start_central
	start_writer
	start_e2e_uploader
	load_now 20000 50
	WAIT_S=60 wait_for e2e_settled 20000
	assert_central_equals_device
	grep -q "uploading device 'belabox-001' from .* (msgpack, gzip)" "$T/uploader.log"
	[ "$(receiver_metric 'tern_receiver_requests_total{endpoint="/api/v1/ingest",code="200"}')" -ge 4 ]
	run stat_of upload_done_samples
	assert_output 20000
	run stat_of upload_setaside_batches
	assert_output 0
	# The central writer saw each sample once: nothing went twice.
	run cstat_of samples_new
	assert_output 20000
	# The device registry knows the device from its token.
	run sqlite3 "$CDB" "SELECT count(*) FROM series WHERE device != 'belabox-001'"
	assert_output 0
}

@test "seed 003's JSON to /api/metrics: the same samples, labels and values arrive" {
	setup_e2e json
	start_central
	start_writer
	start_e2e_uploader
	load_now 6000 30
	WAIT_S=60 wait_for e2e_settled 6000
	assert_central_equals_device
	grep -q "uploading device 'belabox-001' from .* (json, gzip)" "$T/uploader.log"
	[ "$(receiver_metric 'tern_receiver_requests_total{endpoint="/api/metrics",code="200"}')" -ge 2 ]
	run receiver_metric 'tern_receiver_requests_total{endpoint="/api/v1/ingest",code="200"}'
	assert_output 0
}

@test "a producer at a steady rate: each commit goes on as it comes, values as load sent them" {
	setup_e2e
	start_central
	start_writer
	start_e2e_uploader
	t0=$(( $(date +%s) * 1000 ))
	run "$BIN/ternctl" -f "$CONF" load -D belabox-001 -s 20 -b 20 -r 400 \
	    -n 2000 -T "$t0" "$SOCK"
	assert_success
	WAIT_S=60 wait_for e2e_settled 2000
	assert_central_equals_device
	run bad_values belabox-001 "$t0"
	assert_output 0
	# Live: many small requests, not one at the end.
	[ "$(stat_of upload_batches)" -ge 5 ]
}
