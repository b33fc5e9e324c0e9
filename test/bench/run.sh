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
# BENCH_ONLY=name runs one part (ingest, naive, sampler_vs_collectd,
# history, receiver_vs_influxdb) while working on it; make bench runs all.
only() { [ -z "${BENCH_ONLY:-}" ] || [ "$BENCH_ONLY" = "$1" ]; }

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

# --- sampler: tern-sampler beside collectd, the same sources at 1 s -----
# Both run at once for the same wall time, on what collectd's cpu, memory,
# df, interface, load and thermal plugins cover, collectd writing CSV as
# Debian ships it (its thread pools included).  CPU is the ns on a CPU of
# every thread (/proc/PID/task/*/schedstat, first field) over the window,
# after both have started; RSS is VmRSS at the end (VmHWM beside it).
cpu_ns() {	# pid
	cat /proc/"$1"/task/*/schedstat 2>/dev/null |
	    awk '{ s += $1 } END { printf "%.0f", s }'
}
status_kb() {	# pid, field
	awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"
}
pss_kb() {	# pid: its share of the pages it maps (shared libraries divided)
	awk '$1 == "Pss:" { print $2 }' "/proc/$1/smaps_rollup"
}
per_min() {	# ns0, ns1, t0, t1 -> CPU seconds per minute
	awk -v a="$1" -v b="$2" -v s="$3" -v e="$4" \
	    'BEGIN { printf "%.4f", (b - a) / 1e9 * 60 / (e - s) }'
}

sampler_vs_collectd() {
	local d=$W/sampler secs=${SAMPLER_BENCH_S:-60} conf wp sp cp
	local s0 s1 c0 c1 w0 w1 t0 t1 srss shwm spss crss chwm cpss
	if ! "$top/test/bench/deps.sh" collectd; then
		echo "bench: collectd is not installed; no sampler figures" >&2
		return
	fi
	mkdir -p "$d/csv"
	conf=$d/tern.conf
	cat >"$conf" <<CONF
device = { id = "bench"; };
log_level = "info";
writer = { socket = "$d/w.sock"; database = "$d/tern.db"; };
sampler = {
	interval = "1s";
	metrics = ( { name = "cpu"; }, { name = "memory"; }, { name = "disk"; },
		    { name = "net"; }, { name = "load"; }, { name = "thermal"; } );
};
CONF
	cat >"$d/collectd.conf" <<CONF
Hostname "bench"
FQDNLookup false
Interval 1
BaseDir "$d"
PIDFile "$d/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin logfile
<Plugin logfile>
	LogLevel info
	File "$d/collectd.log"
</Plugin>
LoadPlugin cpu
LoadPlugin memory
LoadPlugin df
LoadPlugin interface
LoadPlugin load
LoadPlugin thermal
LoadPlugin csv
<Plugin csv>
	DataDir "$d/csv"
	StoreRates true
</Plugin>
CONF
	"$B/tern-writer" -f "$conf" 2>"$d/writer.log" &
	wp=$!
	wait_sock "$conf"
	"$B/tern-sampler" -f "$conf" 2>"$d/sampler.log" &
	sp=$!
	/usr/sbin/collectd -f -C "$d/collectd.conf" >"$d/collectd.out" 2>&1 &
	cp=$!
	# Start-up (libraries, plugins, the first reads) is not the steady
	# cost: measure from the fifth second.
	sleep 5
	s0=$(cpu_ns $sp); c0=$(cpu_ns $cp); w0=$(cpu_ns $wp); t0=$(now)
	sleep "$secs"
	s1=$(cpu_ns $sp); c1=$(cpu_ns $cp); w1=$(cpu_ns $wp); t1=$(now)
	srss=$(status_kb $sp VmRSS); shwm=$(status_kb $sp VmHWM)
	crss=$(status_kb $cp VmRSS); chwm=$(status_kb $cp VmHWM)
	spss=$(pss_kb $sp); cpss=$(pss_kb $cp)
	kill -TERM $sp $cp; wait $sp $cp
	kill -TERM $wp; wait $wp
	SAMPLER_CPU=$(per_min "$s0" "$s1" "$t0" "$t1")
	COLLECTD_CPU=$(per_min "$c0" "$c1" "$t0" "$t1")
	bench sampler.cpu_s_per_min "$SAMPLER_CPU" s
	bench sampler.rss_kb "$srss" kB
	bench collectd.cpu_s_per_min "$COLLECTD_CPU" s
	bench collectd.rss_kb "$crss" kB
	bench sampler.cpu.ratio "$(ratio "$SAMPLER_CPU" "$COLLECTD_CPU")" x
	# What each did in the window, so that a cheap run that read nothing
	# shows; Pss, because RSS counts every resident page of libc.so in
	# full.  The writer's share is the cost of storing, apart.
	echo "# sampler: VmHWM $shwm kB, Pss $spss kB, $("$B/ternctl" -f "$conf" dump "$d/tern.db" | wc -l) samples stored; writer $(per_min "$w0" "$w1" "$t0" "$t1") s/min"
	echo "# collectd: VmHWM $chwm kB, Pss $cpss kB, $(cat "$d"/csv/*/*/* | grep -vc '^epoch') values written"
}

echo "# tern bench: $(nproc) cores, $(uname -m), build $BUILD, $(date -u +%FT%TZ)"
only ingest && ingest
only naive && naive
[ -n "${INGEST_RATE:-}" ] && [ -n "${NAIVE_RATE:-}" ] &&
    bench ingest.ratio "$(ratio "$INGEST_RATE" "$NAIVE_RATE")" x
only sampler_vs_collectd && sampler_vs_collectd

# --- history (issue 4): 90 days of tiers for 255 series -----------------
# Seed 001's typical installation, 85 resources x 3 metrics = 255 series,
# here 5 producers (devices res1..res5) of 51 series each, filled through
# the writer's own ingest and rollup paths with the default tiers:
#   fill      raw every 60 s from 90 days ago to 2 h ago, then every 5 s
#             for the last 2 h, timestamps ending at the start of the run
#             (ternctl load -T/-i); rollup and retention held off (24h);
#   rollup    the writer restarted with rollup_interval 1s and nothing else
#             to do: its CPU (/proc/PID/task/*/schedstat) until no complete
#             bucket is dirty, per million samples rolled;
#   retention restarted with retention_interval 1s (and compact_ms 1s, so
#             the fill's head is compacted too) until raw past 2 h and
#             minutes past 24 h are gone and the free list is handed back
#             (under the 1 MiB the writer leaves for reuse);
#             history.db_bytes is the file after a clean stop (WAL
#             checkpointed and truncated), no upload destination;
#   queries   test/bench/query_p99 on the stopped database: 2000 queries per
#             range on random series, 500 points, ranges ending at the
#             fill's end;
#   steady    write_bytes of the writer (/proc/PID/io, so checkpoints are
#             in it) per sample it stored, over a real-time window of
#             HIST_STEADY_S seconds (default 660 -- an hour is too long for
#             `make bench`; 660 s holds two rollup runs, a retention run, a
#             compaction and twenty checkpoints) of the 255 series at a 5 s
#             interval (51 samples/s), the writer on its default intervals
#             (HIST_STEADY_CONF="rollup retention checkpoint" to change
#             them).  (-b 10: ternctl load never sends a frame larger than
#             its per-second rate.)  write_bytes counts a page written
#             into a large cached folio as the whole folio (store.c:
#             store_fadvise), so history.device_write_bytes_per_sample
#             gives what reached the block device holding the database
#             over the same window, sync'ed at both ends: everything on
#             that device, the file system's journal and any other
#             process included.
# While working on the steady state: HIST_SAVE=FILE keeps a copy of the
# pruned database, HIST_FROM=FILE skips to the steady state on a copy.
# HIST_FROM's copy is older than now, so its first passes catch up.
dev_written() {	# dir: bytes written to the block device holding it, or ""
	local src
	src=$(df --output=source "$1" 2>/dev/null | tail -n 1)
	src=/sys/class/block/${src##*/}/stat
	[ -r "$src" ] && awk '{ printf "%.0f", $7 * 512 }' "$src"
}
hist_cpu_ns() {	# pid: ns on a CPU, all threads
	cat /proc/"$1"/task/*/schedstat 2>/dev/null |
	    awk '{ s += $1 } END { printf "%.0f", s }'
}
hist_conf() {	# dir, rollup_interval, retention_interval, checkpoint_ms [, compact_ms]
	cat >"$1/tern.conf" <<CONF
device = { id = "bench"; };
log_level = "info";
writer = { socket = "$1/w.sock"; database = "$1/tern.db";
           rollup_interval = "$2"; retention_interval = "$3";
           checkpoint_ms = "$4"; compact_ms = "${5:-10m}"; };
CONF
}
hist_stat() {	# conf, name
	"$B/ternctl" -f "$1" status 2>/dev/null | awk -v k="$2" '$1 == k { print $2 }'
}
hist_poll() {	# seconds, command...: polls every second, 0 once it holds
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 1
	done
	echo "bench: history: timed out waiting for: $*" >&2
	return 1
}
hist_rolled() {	# conf, db: no complete bucket waits
	[ "$(hist_stat "$1" rollup_pending_buckets)" = 0 ] &&
	    [ "$(sqlite3 "$2" "SELECT count(*) FROM dirty WHERE bucket + tier <= $(date +%s%3N)")" = 0 ]
}
hist_pruned() {	# db
	local now
	now=$(date +%s%3N)
	# Past the retention, its granule (a sixteenth) and two minutes.
	[ "$(sqlite3 "$1" "SELECT (SELECT count(*) FROM chunk WHERE t1 < $now - 7650000 - 120000)
	    + (SELECT count(*) FROM head WHERE t1 < $now - 7650000 - 120000)
	    + (SELECT count(*) FROM tier WHERE tier = 60000 AND bucket < $now - 91800000 - 120000);
	    " | awk '{ s += $1 } END { print s }')" = 0 ] &&
	    [ "$(sqlite3 "$1" "SELECT count(*) FROM head")" = 0 ] &&
	    [ "$(sqlite3 "$1" "SELECT freelist_count * page_size FROM pragma_freelist_count, pragma_page_size")" -lt 1048576 ]
}

# Steady state, on the database history() left (d, conf, db from there,
# its head compacted), on the default intervals.
hist_steady() {
	local pid i io0 io1 n0 n1 tnew lp secs=${HIST_STEADY_S:-660}
	hist_conf "$d" ${HIST_STEADY_CONF:-5m 10m 30s}
	"$B/tern-writer" -f "$conf" 2>>"$d/writer.log" &
	pid=$!
	wait_sock "$conf"
	tnew=$(( ($(date +%s%3N) / 5000 + 1) * 5000 ))
	lp=()
	for i in 1 2 3 4 5; do
		"$B/ternctl" -f "$conf" load -D "res$i" -N hist.m -s 51 -b 10 -r 10.2 \
		    -i 5000 -T $tnew -d $((secs + 60)) -w 60 >"$d/steady$i.out" 2>&1 &
		lp+=($!)
	done
	sync
	io0=$(io_write $pid); n0=$(hist_stat "$conf" samples_new)
	dev0=$(dev_written "$d")
	sleep "$secs"
	io1=$(io_write $pid); n1=$(hist_stat "$conf" samples_new)
	sync
	dev1=$(dev_written "$d")
	kill "${lp[@]}" 2>/dev/null; wait "${lp[@]}" 2>/dev/null
	bench history.write_bytes_per_sample "$(awk -v a="$io0" -v b="$io1" -v n="$((n1 - n0))" 'BEGIN { printf "%.1f", (b - a) / n }')" bytes
	[ -n "$dev0" ] && [ -n "$dev1" ] &&
	    bench history.device_write_bytes_per_sample "$(awk -v a="$dev0" -v b="$dev1" -v n="$((n1 - n0))" 'BEGIN { printf "%.1f", (b - a) / n }')" bytes
	echo "# history: steady state: $((n1 - n0)) samples in $secs s, $((io1 - io0)) bytes written, database $(stat -c %s "$db") bytes"
	kill -TERM $pid; wait $pid
}

history() {
	local d=$W/history conf db pid end told tnew nold=129480 nnew=1440
	local i lp c0 c1 t0 t1 total
	mkdir -p "$d"
	conf=$d/tern.conf
	db=$d/tern.db
	end=$(( $(date +%s%3N) / 60000 * 60000 ))
	if [ -n "${HIST_FROM:-}" ]; then	# a database HIST_SAVE kept
		cp "$HIST_FROM" "$db"
		hist_steady
		return
	fi
	told=$(( end - 90 * 86400000 ))
	tnew=$(( end - 7200000 ))
	# 90 d - 2 h at 60 s = 129480 rounds; 2 h at 5 s = 1440.
	hist_conf "$d" 24h 24h 1s
	"$B/tern-writer" -f "$conf" 2>>"$d/writer.log" &
	pid=$!
	wait_sock "$conf"
	t0=$(now)
	lp=()
	for i in 1 2 3 4 5; do
		( "$B/ternctl" -f "$conf" load -D "res$i" -N hist.m -s 51 -b 1000 \
		    -n $((51 * nold)) -i 60000 -T $told -w 1800 &&
		  "$B/ternctl" -f "$conf" load -D "res$i" -N hist.m -s 51 -b 1000 \
		    -n $((51 * nnew)) -i 5000 -T $tnew -w 600 ) >"$d/fill$i.out" 2>&1 &
		lp+=($!)
	done
	for p in "${lp[@]}"; do wait "$p" || echo "bench: history: a producer failed" >&2; done
	t1=$(now)
	total=$(( 255 * (nold + nnew) ))
	echo "# history: filled $total samples in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s"
	kill -TERM $pid; wait $pid

	# Rollup alone.
	hist_conf "$d" 1s 24h 1s
	"$B/tern-writer" -f "$conf" 2>>"$d/writer.log" &
	pid=$!
	c0=$(hist_cpu_ns $pid); t0=$(now)
	wait_sock "$conf"
	hist_poll 1500 hist_rolled "$conf" "$db"
	c1=$(hist_cpu_ns $pid); t1=$(now)
	bench rollup.cpu_ms_per_million_samples "$(awk -v a="$c0" -v b="$c1" -v n="$total" 'BEGIN { printf "%.0f", (b - a) / 1e6 / (n / 1e6) }')" ms
	echo "# history: rollup of $total samples took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s wall; database $(stat -c %s "$db") bytes before retention"
	kill -TERM $pid; wait $pid

	# Retention to the end of a pass, the file handed back.
	hist_conf "$d" 1s 1s 1s 1s
	"$B/tern-writer" -f "$conf" 2>>"$d/writer.log" &
	pid=$!
	wait_sock "$conf"
	t0=$(now)
	hist_poll 1200 hist_pruned "$db"
	t1=$(now)
	echo "# history: retention took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s"
	kill -TERM $pid; wait $pid
	bench history.db_bytes "$(stat -c %s "$db")" bytes
	[ -n "${HIST_SAVE:-}" ] && cp "$db" "$HIST_SAVE"
	sqlite3 "$db" "SELECT '# history: tier ' || tier || ': ' || count(*) || ' rows' FROM tier GROUP BY tier;
	    SELECT '# history: raw: ' || (SELECT count(*) FROM chunk) || ' chunks, ' || (SELECT count(*) FROM head) || ' head rows'"

	"$B/bench/query_p99" "$db" "$end" 2000 500 2>"$d/query.err"
	sed 's/^/# /' "$d/query.err"

	hist_steady
}

only history && history

# --- receiver (issue 5): tern-receiver beside InfluxDB 1.6 --------------
# HTTP ingest to a durable commit, 8 connections (wrk -c 8 -t 2), each run
# RECV_BENCH_S seconds (default 15):
#   receiver.msgpack5000  POST /api/v1/ingest, tern's msgpack SAMPLES body
#                         of 500 series x 10 rounds, answered after the
#                         central writer's COMMIT (synchronous = full, the
#                         default);
#   receiver.json100      POST /api/metrics, seed 003's JSON, 100 series x
#                         1 round;
#   influxdb.lp5000/lp100 Debian's influxd, the same points as line
#                         protocol in the same batch sizes, POST /write,
#                         answered after its WAL's fsync (the default).
# Every request carries timestamps no request carried before, since both
# store a (series, timestamp) once, and the 8 connections send for 8
# sources (devices) with their own series (wrk_ingest.lua).  Figures
# are wrk's completed requests x points per request / its duration; a run
# with a non-2xx answer or a socket error says so.  Peak RSS is VmHWM of
# tern-receiver and of influxd after their runs, the larger of the two (the
# central writer's is printed beside, as a comment).
rx_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
rx_wrk() {	# out, url, fmt, series, rounds, name [, token]: runs wrk
	BENCH_FMT=$3 BENCH_SERIES=$4 BENCH_ROUNDS=$5 BENCH_NAME=$6 \
	    BENCH_TOKEN=${7:-} BENCH_T0=$(date +%s%3N) BENCH_SOURCES=4 \
	    wrk -c 8 -t 2 -d "${RECV_BENCH_S:-15}s" --timeout 30s \
	    -s "$top/test/bench/wrk_ingest.lua" "$2" >"$1" 2>&1
}
rx_rate() {	# wrk output, points per request: points/s, or "nan"
	awk -v n="$2" '$1 == "WRK" {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		bad = f["non2xx"] + f["connect"] + f["read"] + f["write"] + f["timeout"]
		if (bad > 0)
			printf "bench: receiver_vs_influxdb: %s\n", $0 >"/dev/stderr"
		printf "%.0f", f["requests"] * n / (f["duration_us"] / 1e6)
		found = 1
	}
	END { if (!found) printf "nan" }' "$1"
}
rx_up() {	# url: polls it for up to 10 s
	for _ in $(seq 200); do
		curl -sf "$1" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "bench: receiver_vs_influxdb: $1 did not come up" >&2
	return 1
}

# Each run on a fresh instance (an empty database), for tern and for
# InfluxDB alike, so that neither pays in one run for the compaction the
# run before left it.
rx_tern_start() {	# dir: starts the central writer and receiver
	local port
	port=$(rx_port)
	mkdir -p "$1"
	printf 'bench %s\n' "$(printf %s bench-token | sha256sum | cut -d' ' -f1)" \
	    >"$1/tokens"
	cat >"$1/tern.conf" <<CONF
device = { id = "central"; };
log_level = "info";
writer = { socket = "$1/w.sock"; database = "$1/tern.db"; };
receiver = { port = $port; tokens_file = "$1/tokens"; rate_limit = 0; };
CONF
	"$B/tern-writer" -f "$1/tern.conf" 2>"$1/writer.log" &
	RX_WP=$!
	wait_sock "$1/tern.conf"
	"$B/tern-receiver" -f "$1/tern.conf" 2>"$1/receiver.log" &
	RX_RP=$!
	RX_URL=http://127.0.0.1:$port
	rx_up "$RX_URL/readyz"
}
rx_tern_stop() {	# records the peak RSS of both in RX_RHWM, RX_WHWM
	local r w
	r=$(status_kb $RX_RP VmHWM); w=$(status_kb $RX_WP VmHWM)
	[ "${r:-0}" -gt "${RX_RHWM:-0}" ] && RX_RHWM=$r
	[ "${w:-0}" -gt "${RX_WHWM:-0}" ] && RX_WHWM=$w
	curl -s "$RX_URL/metrics" |
	    awk '/^tern_receiver_samples_total/ { printf "# receiver: %s %s\n", $1, $2 }'
	kill -TERM $RX_RP; wait $RX_RP
	kill -TERM $RX_WP; wait $RX_WP
}
rx_influx_start() {	# dir: a temporary configuration, everything under dir,
			# no reporting, no auth, no self-monitoring store
	local iport rport
	iport=$(rx_port); rport=$(rx_port)
	mkdir -p "$1"
	cat >"$1/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$rport"
[meta]
  dir = "$1/meta"
[data]
  dir = "$1/data"
  wal-dir = "$1/wal"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:$iport"
  auth-enabled = false
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[logging]
  level = "warn"
CONF
	influxd run -config "$1/influxdb.conf" >"$1/influxd.log" 2>&1 &
	RX_IP=$!
	RX_IURL=http://127.0.0.1:$iport
	rx_up "$RX_IURL/ping" || return
	curl -sf -XPOST "$RX_IURL/query" \
	    --data-urlencode "q=CREATE DATABASE bench" >/dev/null
}
rx_influx_stop() {	# records its peak RSS in RX_IHWM
	local h
	h=$(status_kb $RX_IP VmHWM)
	[ "${h:-0}" -gt "${RX_IHWM:-0}" ] && RX_IHWM=$h
	kill -TERM $RX_IP; wait $RX_IP
}

receiver_vs_influxdb() {
	local d=$W/receiver m5000 j100 l5000 l100
	RX_RHWM=0 RX_WHWM=0 RX_IHWM=0
	if ! "$top/test/bench/deps.sh" influxdb wrk; then
		echo "bench: influxdb or wrk is not installed; no receiver figures" >&2
		return
	fi
	# tern: the central host, its writer on the defaults; no rate limit,
	# since the device here is the benchmark.
	rx_tern_start "$d/m5000" || return
	rx_wrk "$d/msgpack5000.out" "$RX_URL" msgpack 500 10 bench.m5000 bench-token
	rx_tern_stop
	rx_tern_start "$d/j100" || return
	rx_wrk "$d/json100.out" "$RX_URL" json 100 1 bench.j100 bench-token
	rx_tern_stop
	rx_influx_start "$d/lp5000" || return
	rx_wrk "$d/lp5000.out" "$RX_IURL" lp 500 10 lp5000
	rx_influx_stop
	rx_influx_start "$d/lp100" || return
	rx_wrk "$d/lp100.out" "$RX_IURL" lp 100 1 lp100
	rx_influx_stop
	m5000=$(rx_rate "$d/msgpack5000.out" 5000)
	j100=$(rx_rate "$d/json100.out" 100)
	l5000=$(rx_rate "$d/lp5000.out" 5000)
	l100=$(rx_rate "$d/lp100.out" 100)

	bench receiver.msgpack5000.samples_per_s "$m5000" samples/s
	bench receiver.json100.samples_per_s "$j100" samples/s
	bench influxdb.lp5000.points_per_s "$l5000" points/s
	bench influxdb.lp100.points_per_s "$l100" points/s
	bench receiver.peak_rss_kb "$RX_RHWM" kB
	bench influxdb.peak_rss_kb "$RX_IHWM" kB
	bench receiver.msgpack5000.ratio "$(ratio "$m5000" "$l5000")" x
	bench receiver.json100.ratio "$(ratio "$j100" "$l100")" x
	bench receiver.rss.ratio "$(ratio "$RX_RHWM" "$RX_IHWM")" x
	echo "# receiver: its central writer's VmHWM $RX_WHWM kB"
}

only receiver_vs_influxdb && receiver_vs_influxdb
exit 0
