#!/usr/bin/env bats
# A batch the real receiver refuses with 400 is set aside on the device and
# does not hold up the batches after it.
#
# The bad batch is realistic: a node_exporter-style textfile whose summary
# has no observations yet exports its quantiles as NaN, which Prometheus's
# text format allows.  tern-sampler's prometheus source reads it, the
# device's writer stores NaN as it stores any double, and the receiver
# refuses the batch: "Values must be finite numbers" (receiver/API.md).

load helper
load receiver_helper
load e2e_helper

setup() { setup_tern; }
teardown() { assert_e2e_clean "$T/sampler.log"; teardown_tern; }

@test "a batch with a NaN the receiver refuses (400) is set aside; later batches are delivered" {
	cat >"$T/app.prom" <<'PROM'
# HELP app_request_seconds Request latency.
# TYPE app_request_seconds summary
app_request_seconds{quantile="0.5"} NaN
app_request_seconds{quantile="0.99"} NaN
app_request_seconds_sum 0
app_request_seconds_count 0
PROM
	setup_e2e msgpack "" "" "sampler = {
	interval = \"250ms\";
	metrics = ( { name = \"prometheus\"; instance = \"app\"; file = \"$T/app.prom\"; } );
};"
	start_central
	start_writer
	# The sampler's samples, NaN among them, are committed first ...
	start_sampler
	wait_for stored_ge app_request_seconds 'instance="app",quantile="0.5"' 3
	stop_sampler
	bad=$(stored_samples)
	dump_db
	run values_of app_request_seconds 'instance="app",quantile="0.99"'
	assert_line nan

	# ... then the uploader starts: that batch is refused for good.
	start_e2e_uploader
	wait_for stat_ge upload_setaside_batches 1
	run stat_of upload_setaside_samples
	assert_output "$bad"
	grep -q 'set aside: the receiver refused it: HTTP 400: .*not a finite number' "$T/writer.log"
	[ "$(receiver_metric 'tern_receiver_requests_total{endpoint="/api/v1/ingest",code="400"}')" -ge 1 ]

	# Later batches go, and only they are stored centrally.
	t0=$(( ($(date +%s) - 100) * 1000 ))
	run "$BIN/ternctl" -f "$CONF" load -D belabox-001 -s 20 -b 20 -n 2000 \
	    -T "$t0" "$SOCK"
	assert_success
	WAIT_S=60 wait_for central_samples_is 2000
	wait_stat upload_pending_samples 0
	run stat_of upload_done_samples
	assert_output 2000
	run stat_of upload_setaside_batches
	assert_output 1
	run sqlite3 "$CDB" "SELECT count(*) FROM series WHERE name LIKE 'app_%'"
	assert_output 0
	run bash -c "'$BIN/ternctl' -f '$CCONF' dump '$CDB' | cut -f2-6 | LC_ALL=C sort"
	assert_output "$("$BIN/ternctl" -f "$CONF" dump "$DB" | awk -F'\t' '$3 == "load.value"' | cut -f2-6 | LC_ALL=C sort)"
}
