#!/bin/bash
# make bench -- every figure the issues name, in one run, each printed as
#   BENCH <name> <value> <unit>
# beside the reference measured in the same run and the ratio.  Timing
# claims live here, never in the tests: the machines are shared and noisy.
#
# Files go under /var/tmp (a real disk: /proc/PID/io write_bytes counts
# nothing on tmpfs).  The whole run takes a few minutes.
set -u
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$top/$BUILD
W=$(mktemp -d /var/tmp/tern-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$W"' EXIT

bench() { printf 'BENCH %s %s %s\n' "$1" "$2" "$3"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }'; }
now() { date +%s.%N; }
io_write() { awk '/^write_bytes/ { print $2 }' "/proc/$1/io"; }

wait_sock() {	# conf
	for _ in $(seq 200); do
		"$B/ternctl" -f "$1" status >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "bench: writer did not come up" >&2
	exit 1
}

# --- ingest: 4 producers x 255 series, 100-sample frames, to ACK --------
ingest() {
	local d=$W/ingest conf per=2500000 nprod=4 pid t0 t1 io0 io1 total
	mkdir -p "$d"
	conf=$d/tern.conf
	cat >"$conf" <<CONF
device = { id = "bench"; };
log_level = "info";
writer = { socket = "$d/w.sock"; database = "$d/tern.db";
           checkpoint_ms = "1s"; };
CONF
	"$B/tern-writer" -f "$conf" 2>"$d/writer.log" &
	pid=$!
	wait_sock "$conf"
	io0=$(io_write $pid)
	rm -f "$d/stop"
	# The read probe runs beside the ingest, on series 1's newest 720.
	"$B/bench/read_raw" "$d/tern.db" 1 720 "$d/stop" >"$d/read.out" 2>"$d/read.err" &
	local rp=$!
	t0=$(now)
	local lp=()
	for i in $(seq $nprod); do
		"$B/ternctl" -f "$conf" load -D "dev$i" -s 255 -b 100 -n $per \
		    -w 120 >"$d/load$i.out" 2>&1 &
		lp+=($!)
	done
	for p in "${lp[@]}"; do wait "$p" || echo "bench: a producer failed" >&2; done
	t1=$(now)
	touch "$d/stop"
	wait $rp
	total=$((per * nprod))
	# Let the writer's periodic checkpoint copy the WAL into the database,
	# so the write figure includes checkpoints.
	sleep 2.5
	io1=$(io_write $pid)
	kill -TERM $pid; wait $pid
	INGEST_RATE=$(awk -v n=$total -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
	bench ingest.samples_per_s "$INGEST_RATE" samples/s
	bench ingest.write_bytes_per_sample "$(awk -v a=$io0 -v b=$io1 -v n=$total 'BEGIN { printf "%.1f", (b - a) / n }')" bytes
	bench storage.bytes_per_sample "$(awk -v s=$(stat -c %s "$d/tern.db") -v n=$total 'BEGIN { printf "%.2f", s / n }')" bytes
	cat "$d/read.out"
	sed 's/^/# /' "$d/read.err" >&2
}

# --- the reference: a plain C loop into rows keyed (series, ts) --------
naive() {
	local d=$W/naive
	mkdir -p "$d"
	"$B/bench/naive_insert" "$d/naive.db" 1020 1000000 >"$d/out" 2>"$d/err"
	cat "$d/out"
	NAIVE_RATE=$(awk '$2 == "ingest.naive_samples_per_s" { print $3 }' "$d/out")
}

echo "# tern bench: $(nproc) cores, $(uname -m), build $BUILD, $(date -u +%FT%TZ)"
ingest
naive
bench ingest.ratio "$(ratio "$INGEST_RATE" "$NAIVE_RATE")" x
