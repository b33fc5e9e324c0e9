# receiver_helper.bash -- starting a tern-receiver beside the test's writer.
# Load after helper.bash.  Sets PORT, URL, TOKEN (device belabox-001).

# free_port: a TCP port nobody listens on now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# setup_receiver [RECEIVER_EXTRA]: tokens file and configuration.
setup_receiver() {
	PORT=$(free_port)
	URL=http://127.0.0.1:$PORT
	TOKEN=tok-belabox-001-secret
	printf '# test devices\nbelabox-001 %s\npve-1 %s\n' \
	    "$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)" \
	    "$(printf %s tok-pve-1 | sha256sum | cut -d' ' -f1)" >"$T/tokens"
	write_conf 'flush_ms = 50;' "receiver = {
	port = $PORT;
	tokens_file = \"$T/tokens\";
	$1
};"
}

# start_receiver: starts tern-receiver, waits until /readyz says ready.
start_receiver() {
	"$BIN/tern-receiver" -f "$CONF" "$@" 2>>"$T/receiver.log" &
	RECEIVER_PID=$!
	PIDS+=("$RECEIVER_PID")
	wait_for receiver_ready
}
receiver_ready() {
	curl -sf "$URL/readyz" >/dev/null
}

# post PATH TOKEN BODY [curl args...]: prints "BODY\nCODE".
post() {
	local path=$1 tok=$2 body=$3
	shift 3
	local auth=()
	[ -n "$tok" ] && auth=(-H "Authorization: Bearer $tok")
	curl -sS -X POST "$URL$path" "${auth[@]}" -H 'Content-Type: application/json' \
	    -d "$body" -w '\n%{http_code}' "$@"
}

seed003_body() {
	cat <<'JSON'
{
  "device_id": "belabox-001",
  "timestamp": "2025-10-11T14:30:00.123Z",
  "metrics": [
    {
      "name": "cpu.temperature",
      "value": 52.3,
      "timestamp": "2025-10-11T14:30:00.123Z"
    }
  ]
}
JSON
}

# dump_rows: device, name, labels, ts, value of every stored sample.
dump_rows() {
	"$BIN/ternctl" -f "$CONF" dump "$DB" | cut -f2-6
}
