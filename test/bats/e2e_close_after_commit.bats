#!/usr/bin/env bats
# The receiver commits a request and then closes the connection instead of
# answering (TERN_RECEIVER_TEST_DROP_AFTER_COMMIT=3: the first three
# committed requests).  The uploader cannot know the samples are stored, so
# it sends them again; the central writer stores each sample once.

load helper
load receiver_helper
load e2e_helper

setup() { setup_tern; }
teardown() { assert_e2e_clean; teardown_tern; }

@test "answers lost after commit: the uploader retries, the central database has every sample once" {
	setup_e2e msgpack "batch_samples = 500;"
	TERN_RECEIVER_TEST_DROP_AFTER_COMMIT=3 start_central
	start_writer
	t0=$(( ($(date +%s) - 100) * 1000 ))
	run "$BIN/ternctl" -f "$CONF" load -D belabox-001 -s 50 -b 50 -n 5000 \
	    -T "$t0" "$SOCK"
	assert_success
	start_e2e_uploader
	WAIT_S=60 wait_for e2e_settled 5000
	assert_central_equals_device
	run bad_values belabox-001 "$t0"
	assert_output 0

	# Three requests were committed and not answered; what they carried
	# came again and was counted as duplicates, not stored twice.
	run cstat_of samples_new
	assert_output 5000
	dups=$(cstat_of duplicates)
	[ "$dups" -ge 3 ] || fail "only $dups duplicates at the central writer"
	[ "$dups" = "$(receiver_metric 'tern_receiver_samples_total{result="duplicate"}')" ]
	run grep -c "closing the connection of a committed request without answering" "$C/receiver.log"
	assert_output 3
	[ "$(grep -c 'Empty reply from server; retry' "$T/uploader.log")" -ge 3 ]
	# Each batch was DONE once: the device's count is not inflated.
	run stat_of upload_done_samples
	assert_output 5000
	run stat_of upload_setaside_batches
	assert_output 0
}

