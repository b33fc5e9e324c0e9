#!/usr/bin/env bats
# writer -> tern-uploader -> HTTP.  The HTTP end is upload_stub.py, a
# stand-in that answers the status codes a test asks for (the receiver's
# own scenarios test the receiver); it logs every request and, for 2xx,
# every metric it was sent.

load helper

setup() {
	setup_tern
	S=$T/stub
	mkdir -p "$S"
	python3 "$BATS_TEST_DIRNAME/upload_stub.py" "$S" &
	PIDS+=("$!")
	wait_for test -s "$S/port"
	PORT=$(cat "$S/port")
}
teardown() { teardown_tern; }

# upload_conf [EXTRA]: the writer plus an enabled uploader on the stub.
upload_conf() {
	write_conf "" "uploader = {
	enabled = true;
	url = \"http://127.0.0.1:$PORT/api/metrics\";
	format = \"json\";
	retry_min = \"50ms\";
	retry_max = \"400ms\";
	batch_samples = 1000;
	backlog_rate = 5000;
	${1:-}
};"
}

start_uploader() {
	"$BIN/tern-uploader" -f "$CONF" 2>>"$T/uploader.log" &
	UPLOADER_PID=$!
	PIDS+=("$UPLOADER_PID")
}

load_samples() {	# N T0
	run "$BIN/ternctl" -f "$CONF" load -s 10 -b 100 -n "$1" -T "$2" "$SOCK"
	assert_success
}

# distinct (series, ts) pairs the stub accepted
received() {
	[ -e "$S/samples" ] || { echo 0; return; }
	awk '{ print $1, $2 }' "$S/samples" | sort -u | wc -l
}
received_is() { [ "$(received)" = "$1" ]; }
requests_with() { grep -c "^$1 " "$S/requests" 2>/dev/null || true; }
has_requests() { [ "$(requests_with "$1")" -ge "$2" ]; }

@test "committed samples reach the endpoint as seed 003's JSON, gzipped, on kept-alive connections" {
	upload_conf
	start_writer
	start_uploader
	load_samples 3000 1700000000000
	wait_for received_is 3000
	wait_stat upload_pending_samples 0
	run stat_of upload_done_samples
	assert_output 3000
	# Every request: JSON, gzip; at most one connection per lane.
	run bash -c "awk '\$2 != \"application/json\" || \$3 != \"gzip\"' '$S/requests' | wc -l"
	assert_output 0
	[ "$(wc -l <"$S/requests")" -ge 3 ]
	[ "$(awk '{ print $6 }' "$S/requests" | sort -u | wc -l)" -le 2 ]
	run grep -c 'load.value{"series":"3"} 2023-11-14T22:13:20.000Z' "$S/samples"
	assert_output 1
}

@test "an outage (503) keeps every sample; they all arrive once it ends" {
	upload_conf
	echo 503 >"$S/mode"
	start_writer
	start_uploader
	load_samples 2000 1700000000000
	wait_for has_requests 503 3
	run stat_of upload_pending_samples
	assert_output 2000
	echo ok >"$S/mode"
	wait_for received_is 2000
	wait_stat upload_pending_samples 0
	run grep -c "failed: HTTP 503" "$T/uploader.log"
	assert_output 1
	grep -q "recovered after" "$T/uploader.log"
}

@test "429 with Retry-After is retried after the time it asks for" {
	upload_conf
	echo "429 1" >"$S/mode"
	start_writer
	start_uploader
	load_samples 100 1700000000000
	wait_for has_requests 429 1
	echo ok >"$S/mode"
	# Backoff alone would have retried within 400 ms.
	sleep 0.5
	[ "$(requests_with 200)" = 0 ]
	wait_for received_is 100
}

@test "a batch refused with 400 is set aside and does not block later ones" {
	upload_conf
	start_writer
	start_uploader
	echo 400 >"$S/mode"
	load_samples 500 1700000000000
	wait_stat upload_setaside_batches 1
	echo ok >"$S/mode"
	load_samples 500 1700001000000
	wait_for received_is 500
	wait_stat upload_pending_samples 0
	run stat_of upload_setaside_samples
	assert_output 500
	grep -q "set aside: HTTP 400" "$T/uploader.log"
	grep -q "stub says 400" "$T/writer.log"
}

@test "a rejected credential holds everything until the token file is fixed" {
	echo right >"$S/token"
	echo wrong >"$T/token"
	upload_conf "token_file = \"$T/token\";"
	start_writer
	start_uploader
	load_samples 500 1700000000000
	wait_for has_requests 401 2
	run stat_of upload_pending_samples
	assert_output 500
	run stat_of upload_setaside_batches
	assert_output 0
	run grep -c "credential rejected" "$T/uploader.log"
	assert_output 1
	echo right >"$T/token"
	wait_for received_is 500
	grep -q "credential accepted" "$T/uploader.log"
	run grep -c "right" "$T/uploader.log"
	assert_output 0
}

@test "SIGTERM exits 0, and a restart resumes exactly where it stopped" {
	upload_conf
	start_writer
	start_uploader
	load_samples 1000 1700000000000
	wait_for received_is 1000
	kill -TERM "$UPLOADER_PID"
	wait "$UPLOADER_PID"
	load_samples 1000 1700001000000
	start_uploader
	wait_for received_is 2000
	wait_stat upload_pending_samples 0
	# Nothing went twice: each (series, ts) once.
	run wc -l <"$S/samples"
	assert_output 2000
}

@test "uploader.enabled = false idles until stopped" {
	start_writer
	start_uploader
	wait_for grep -q "idle until stopped" "$T/uploader.log"
	kill -TERM "$UPLOADER_PID"
	wait "$UPLOADER_PID"
}
