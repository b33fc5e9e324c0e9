#!/usr/bin/env bats
# What the receiver refuses stores nothing: tokens, bad bodies, limits.

load helper
load receiver_helper

setup() { setup_tern; }
teardown() { assert_no_sanitizer_report "$T/writer.log" "$T/receiver.log"; teardown_tern; }

@test "wrong and missing tokens get 401 and store nothing" {
	setup_receiver; start_writer; start_receiver
	run post /api/metrics "" "$(seed003_body)"
	assert_output "$(printf '{"error":"missing bearer token","field":"Authorization","index":null}\n401')"
	run post /api/metrics wrong-token "$(seed003_body)"
	assert_output --partial '401'
	assert_output --partial 'unknown token'
	# The token of another device does not make its body's device valid.
	run post /api/metrics tok-pve-1 "$(seed003_body)"
	assert_output --partial '403'
	run curl -sS "$URL/metrics"
	assert_output --partial 'tern_receiver_rejected_total{reason="unauthorized"} 2'
	run stored_samples
	assert_output 0
}

@test "a malformed body gets 400 with field and index and nothing is stored" {
	setup_receiver; start_writer; start_receiver
	run post /api/metrics "$TOKEN" '{"device_id":"belabox-001","metrics":[{"name":"a","value":1},{"name":"b","value":2},{"name":"c","value":"hot"}]}'
	assert_output "$(printf '{"error":"value must be a finite number","field":"metrics.value","index":2}\n400')"
	run post /api/v1/ingest "$TOKEN" '{"series":[{"name":"a"}],"points":[[0,1700000000000,1],[3,1700000000000,1]]}'
	assert_output --partial '"field":"points.index","index":1}'
	run post /api/metrics "$TOKEN" '{"metrics": ['
	assert_output --partial 'invalid JSON'
	run stored_samples
	assert_output 0
}

@test "a 100 MB body gets 413 quickly and the receiver's memory stays bounded" {
	setup_receiver; start_writer; start_receiver
	head -c 100000000 /dev/zero >"$T/big"
	start=$(date +%s%N)
	run curl -sS -o /dev/null -w '%{http_code}' -X POST "$URL/api/v1/ingest" \
	    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	    --data-binary @"$T/big"
	assert_output 413
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$ms" -lt 3000 ]
	# Chunked, without a length: stopped as it passes the limit.
	run bash -c "head -c 100000000 /dev/zero | curl -sS -o /dev/null -w '%{http_code}' -X POST '$URL/api/v1/ingest' -H 'Authorization: Bearer $TOKEN' -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @-"
	assert_output 413
	# A gzip bomb: 50 MB of zeros in 50 kB.
	head -c 50000000 /dev/zero | gzip -c >"$T/bomb"
	run curl -sS -o /dev/null -w '%{http_code}' -X POST "$URL/api/v1/ingest" \
	    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	    -H 'Content-Encoding: gzip' --data-binary @"$T/bomb"
	assert_output 413
	hwm=$(awk '/VmHWM/ { print $2 }' /proc/$RECEIVER_PID/status)
	echo "VmHWM ${hwm} kB" >&2
	# 64 MB; AddressSanitizer's shadow memory and quarantine add their own.
	limit=65536
	if ldd "$BIN/tern-receiver" | grep -q libasan; then limit=262144; fi
	[ "$hwm" -lt "$limit" ]
	curl -sf "$URL/healthz"
	run stored_samples
	assert_output 0
}

@test "a client trickling header bytes is cut off at the deadline; a slow body within its own deadline is served" {
	setup_receiver 'header_timeout = "1s"; body_timeout = "4s";'
	start_writer; start_receiver
	run python3 - "$PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t0 = time.time()
try:
    for b in b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 100:
        s.send(bytes([b]))
        time.sleep(0.2)
        if time.time() - t0 > 6:
            break
    r = s.recv(100)
    if r:
        print("not cut")
        sys.exit(1)
except OSError:
    pass
print("cut after %.1f s" % (time.time() - t0))
PY
	assert_success
	assert_output --regexp 'cut after 1\.[0-9] s'
	# Headers at once, then a body trickled over 2 s: past the header
	# deadline, inside the body deadline.
	run python3 - "$PORT" "$TOKEN" <<'PY'
import socket, sys, time
body = b'{"device_id":"belabox-001","metrics":[{"name":"slow","value":1,"timestamp":1700000000000}]}'
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.send(b"POST /api/metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
    sys.argv[2].encode() + b"\r\nContent-Length: %d\r\n\r\n" % len(body))
for i in range(0, len(body), 10):
    s.send(body[i:i + 10])
    time.sleep(0.2)
print(s.recv(4096).decode().split("\r\n")[0])
PY
	assert_output "HTTP/1.1 200 OK"
	grep -q 'request headers not complete within 1000 ms; closed' "$T/receiver.log"
	run curl -sS "$URL/metrics"
	assert_output --partial 'tern_receiver_deadline_closes_total{phase="header"} 1'
}

@test "rate limit: 429 with Retry-After, nothing stored" {
	setup_receiver 'rate_limit = 1; rate_burst = 3;'
	start_writer; start_receiver
	run post /api/metrics "$TOKEN" '{"metrics":[{"name":"a","value":1,"timestamp":1},{"name":"a","value":1,"timestamp":2},{"name":"a","value":1,"timestamp":3}]}'
	assert_output --partial '200'
	run curl -sS -i -X POST "$URL/api/metrics" -H "Authorization: Bearer $TOKEN" \
	    -d '{"metrics":[{"name":"b","value":1,"timestamp":1},{"name":"b","value":1,"timestamp":2}]}'
	assert_output --partial 'HTTP/1.1 429'
	assert_output --regexp 'Retry-After: [12]'
	run stored_samples
	assert_output 3
}

@test "connections beyond max_connections are refused" {
	setup_receiver 'max_connections = 2;'
	start_writer; start_receiver
	run python3 - "$PORT" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
time.sleep(0.2)
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(3)
print(s.recv(100).decode().split("\r\n")[0])
PY
	assert_output "HTTP/1.1 503 Service Unavailable"
	wait_for curl -sf "$URL/healthz"
}
