# e2e_helper.bash -- a device and a central host side by side, as
# test/pipeline.sh runs them, on this test's paths and a free port:
#
#   device:  producers -> tern-writer ($CONF) -> tern-uploader --HTTP--+
#   central: tern-receiver -> tern-writer ($CCONF)              <------+
#
# Load after helper.bash and receiver_helper.bash.  The device side is
# helper.bash's ($T, $CONF, $SOCK, $DB, start_writer, stat_of); the central
# side lives under $C with $CCONF, $CSOCK and $CDB.  The device is
# belabox-001, whose token ($TOKEN) the uploader reads from $T/token.

# setup_e2e [FORMAT] [UPLOADER_EXTRA] [RECEIVER_EXTRA] [DEVICE_EXTRA]: both
# configurations; DEVICE_EXTRA goes at the top level of the device's (a
# sampler section, say).  FORMAT "msgpack" (the default) posts to /api/v1/ingest,
# "json" seed 003's JSON to /api/metrics.  The uploader retries quickly
# (50 ms doubling to 1 s).
setup_e2e() {
	local path=/api/v1/ingest
	[ "${1:-msgpack}" = json ] && path=/api/metrics
	C=$T/central
	CCONF=$C/tern.conf
	CSOCK=$C/writer.sock
	CDB=$C/tern.db
	mkdir -p "$C"
	PORT=$(free_port)
	URL=http://127.0.0.1:$PORT
	TOKEN=tok-belabox-001-secret
	printf '%s\n' "$TOKEN" >"$T/token"
	printf 'belabox-001 %s\n' \
	    "$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)" >"$C/tokens"
	cat >"$CONF" <<CONF
device = { id = "belabox-001"; };
log_level = "debug";
writer = { socket = "$SOCK"; database = "$DB"; flush_ms = 100; };
uploader = {
	enabled = true;
	url = "$URL$path";
	format = "${1:-msgpack}";
	token_file = "$T/token";
	retry_min = "50ms";
	retry_max = "1s";
	${2:-}
};
${4:-}
CONF
	cat >"$CCONF" <<CONF
device = { id = "central"; };
log_level = "debug";
writer = { socket = "$CSOCK"; database = "$CDB"; flush_ms = 100; };
receiver = {
	port = $PORT;
	tokens_file = "$C/tokens";
	${3:-}
};
CONF
}

# start_central: the central writer, then the receiver, ready.  Sets
# CWRITER_PID and RECEIVER_PID.
start_central() {
	"$BIN/tern-writer" -f "$CCONF" 2>>"$C/writer.log" &
	CWRITER_PID=$!
	PIDS+=("$CWRITER_PID")
	wait_for central_up
	start_central_receiver
}
central_up() {
	"$BIN/ternctl" -f "$CCONF" status "$CSOCK" >/dev/null 2>&1
}

# start_central_receiver: tern-receiver on $CCONF, waits for /readyz.
# Extra environment (the test-only switch) goes before the call.
start_central_receiver() {
	"$BIN/tern-receiver" -f "$CCONF" 2>>"$C/receiver.log" &
	RECEIVER_PID=$!
	PIDS+=("$RECEIVER_PID")
	wait_for receiver_ready
}

# stop_central_receiver: SIGTERM, and its exit status.
stop_central_receiver() {
	kill -TERM "$RECEIVER_PID"
	WAIT_S=30 wait_exit "$RECEIVER_PID"
}

# start_e2e_uploader: tern-uploader on the device's $CONF.
start_e2e_uploader() {
	"$BIN/tern-uploader" -f "$CONF" 2>>"$T/uploader.log" &
	UPLOADER_PID=$!
	PIDS+=("$UPLOADER_PID")
}

# cstat_of NAME: one counter of the central writer.
cstat_of() {
	"$BIN/ternctl" -f "$CCONF" status "$CSOCK" | awk -v k="$1" '$1 == k { print $2 }'
}

# central_samples: samples in the central database, by the sqlite3 CLI.
central_samples() {
	DB=$CDB stored_samples
}
central_samples_is() {
	[ "$(central_samples)" = "$1" ]
}

# e2e_settled N: the device has N samples, none pending upload, and the
# central database holds N.
e2e_settled() {
	[ "$(stored_samples)" = "$1" ] && stat_is upload_pending_samples 0 &&
	    central_samples_is "$1"
}

# dump_keyed CONF DB OUT: every sample as "device name labels ts value"
# (tab-separated, without the database's own series id), sorted, in OUT.
dump_keyed() {
	"$BIN/ternctl" -f "$1" dump "$2" | cut -f2-6 | LC_ALL=C sort >"$3"
}

# assert_central_equals_device: the central database holds exactly the
# device's samples -- each (device, name, labels, ts) once, with the same
# value -- by ternctl dump, and in total by the sqlite3 CLI.
assert_central_equals_device() {
	local n
	dump_keyed "$CONF" "$DB" "$T/device.tsv"
	dump_keyed "$CCONF" "$CDB" "$T/central.tsv"
	n=$(wc -l <"$T/device.tsv")
	[ "$n" -gt 0 ] || fail "the device stored nothing"
	# No key twice on either side.
	run bash -c "cut -f1-4 '$T/central.tsv' | uniq -d | head -5"
	assert_output ""
	run bash -c "cut -f1-4 '$T/device.tsv' | uniq -d | head -5"
	assert_output ""
	# The same rows, values included.
	run diff "$T/device.tsv" "$T/central.tsv"
	assert_success
	# And the same totals through sqlite3 (the head's packed rows hold
	# many series, so only totals can be counted there).
	run central_samples
	assert_output "$n"
	run stored_samples
	assert_output "$n"
}

# receiver_metric NAME{LABELS}: one line's value of the receiver's
# /metrics, 0 if absent.
receiver_metric() {
	curl -sf "$URL/metrics" | awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}

# assert_e2e_clean: no sanitizer report from any of the processes.
assert_e2e_clean() {
	assert_no_sanitizer_report "$T/writer.log" "$T/uploader.log" \
	    "$C/writer.log" "$C/receiver.log" "$T"/*.err
}
