#!/usr/bin/env bats
# The srt source's loss % against counters we control: a local SRT Live
# Server stats endpoint (test/bats/slsfake.py serving the recorded SLS
# document with advancing counters) and a sender's stats file rewritten
# between rounds.  Each document carries its own number in its RTT field,
# so the stored srt.rtt_ms says which document a round read, and the
# expected loss is computed here from the counters of consecutive rounds
# (sampler/METRICS.md): SLS has no packet counter, so its packets are
# estimated from mbpsRecvRate and 1316-byte payloads over the interval;
# a sender's loss is Δlost / Δsent.  A counter that went down (the stream
# restarted) gives that interval no loss sample.

load helper

setup() { setup_tern; }
teardown() { teardown_tern; }

FIX=$BATS_TEST_DIRNAME/../fixtures/srt

# compare_loss EXPECTED_FILE LABELS: the stored srt.loss_pct and
# srt.packet_loss of series LABELS against "ts pct" lines ("ts none" where
# no sample is due); prints each difference.
compare_loss() {
	samples_of srt.loss_pct "$2" >"$T/loss"
	samples_of srt.packet_loss "$2" >"$T/ploss"
	awk 'FILENAME == ARGV[1] { want[$1] = $2; next }
	FILENAME == ARGV[2] { got[$1] = $2; next }
	{ twin[$1] = $2 }
	END {
		for (t in want) {
			if (want[t] == "none") {
				if (t in got) print "unexpected", t, got[t]
				continue
			}
			if (!(t in got)) { print "missing", t, want[t]; continue }
			d = got[t] - want[t]; if (d < 0) d = -d
			if (d > 1e-9 * (want[t] < 1 ? 1 : want[t]))
				print "wrong", t, got[t], "want", want[t]
			if (twin[t] != got[t]) print "twin", t, twin[t], got[t]
		}
		for (t in got) if (!(t in want)) print "stray", t, got[t]
	}' "$1" "$T/loss" "$T/ploss"
}

@test "srt: SLS stats endpoint over HTTP, loss % from the served counters" {
	python3 "$BATS_TEST_DIRNAME/slsfake.py" "$FIX" "$T/port" "$T/served" \
	    2>"$T/slsfake.err" &
	PIDS+=($!)
	wait_for test -s "$T/port"
	port=$(cat "$T/port")
	write_sampler_conf "metrics = (
		{ name = \"srt\"; stream = \"belabox\"; interval = \"300ms\";
		  timeout = \"2s\";
		  url = \"http://127.0.0.1:$port/stats/{stream}?legacy=1\"; }
	);"
	start_writer
	start_sampler
	# Past the restart at request 5, and three intervals after it.
	WAIT_S=60 wait_for stored_ge srt.up 'stream="belabox"' 8
	stop_sampler
	dump_db

	# {stream} became the stream id.
	run awk '{ print $5 }' "$T/served"
	assert_line --index 0 "/stats/belabox?legacy=1"
	# Every round read one request, in order, and saw the publisher.
	run values_of srt.rtt_ms 'stream="belabox"'
	assert_output "$(seq 1 "${#lines[@]}")"
	run values_of srt.up 'stream="belabox"'
	assert_output "$(yes 1 | head -n "${#lines[@]}")"

	# Expected: rounds by their request number n, against the counters
	# served for n and for the round before.
	samples_of srt.rtt_ms 'stream="belabox"' | awk '
	FILENAME == ARGV[1] { loss[$1] = $2; mbps[$1] = $4; next }
	{
		ts = $1; n = $2
		if (havep) {
			dl = loss[n] - loss[pn]
			if (dl < 0) print ts, "none"
			else {
				pk = mbps[n] * 1e6 / 8.0 * ((ts - pts) / 1000.0) / 1316
				p = 100.0 * dl / (pk + dl); if (p > 100) p = 100
				printf "%s %.17g\n", ts, p
			}
		} else print ts, "none"
		havep = 1; pts = ts; pn = n
	}' "$T/served" - >"$T/want"
	# The intervals include no loss, a large loss and the restart.
	run grep -c none "$T/want"
	assert_output 2
	run compare_loss "$T/want" 'stream="belabox"'
	assert_output ""
	# Loss counted per second too, never negative across the restart.
	run out_of_range srt.lost_per_s 0 10000
	assert_output ""
	run samples_of srt.bitrate_mbps 'stream="belabox"'
	assert_line --index 0 --partial " 5.264"
	assert_sampler_clean
}

# write_stats V USB_SENT USB_LOST ETH_SENT ETH_LOST: version V of the
# sender's stats file (the shape of test/fixtures/srt/srtla-1.json, RTT =
# V), replaced whole so that no round reads half a file.
write_stats() {
	cat >"$T/stats.tmp" <<JSON
{
  "time": $(date +%s%3N),
  "links": [
    {"name": "usb0", "addr": "10.64.12.7", "pktSent": $2, "pktSndLoss": $3, "pktSndDrop": 12, "msRTT": $1, "mbpsSendRate": 3.1},
    {"name": "eth0", "addr": "192.168.1.50", "pktSent": $4, "pktSndLoss": $5, "pktSndDrop": 0, "msRTT": $1, "mbpsSendRate": 2.2}
  ]
}
JSON
	mv "$T/stats.tmp" "$T/stats.json"
	printf '%s usb0 %s %s\n%s eth0 %s %s\n' "$1" "$2" "$3" "$1" "$4" "$5" \
	    >>"$T/versions"
}

# read_version V: true once a round that read version V is stored.
read_version() {
	dump_db && samples_of srt.rtt_ms 'link="usb0",stream="sender"' |
	    awk -v v="$1" '$2 == v { f = 1 } END { exit !f }'
}

@test "srt: a sender's stats file rewritten between rounds, loss % per link" {
	write_conf 'flush_ms = "50ms";' "sampler = { metrics = (
		{ name = \"srt\"; instance = \"sender\"; interval = \"300ms\";
		  file = \"$T/stats.json\"; }
	); };"
	# Counters of srtla-1.json, then advancing; version 5 is a restart
	# of usb0's connection (its counters start again) while eth0 goes on.
	write_stats 1 1200000 9000 800000 120
	start_writer
	start_sampler
	set -- \
	    "2 1204000 9040 801000 120" \
	    "3 1210000 9640 801500 121" \
	    "4 1210400 9641 803500 171" \
	    "5 3000 30 804500 171" \
	    "6 5000 130 805000 175"
	WAIT_S=30 wait_for read_version 1
	for v in "$@"; do
		# shellcheck disable=SC2086
		write_stats $v
		WAIT_S=30 wait_for read_version "${v%% *}"
	done
	stop_sampler
	dump_db

	for link in usb0 eth0; do
		labels="link=\"$link\",stream=\"sender\""
		samples_of srt.rtt_ms "$labels" | awk -v link="$link" '
		FILENAME == ARGV[1] { if ($2 == link) { s[$1] = $3; l[$1] = $4 }; next }
		{
			ts = $1; v = $2
			if (FNR > 1 && v != pv) {
				ds = s[v] - s[pv]; dl = l[v] - l[pv]
				if (ds < 0 || dl < 0) print ts, "none"
				else {
					p = 100.0 * dl / ds; if (p > 100) p = 100
					printf "%s %.17g\n", ts, p
				}
			} else print ts, "none"	# first, or no packet moved
			pv = v
		}' "$T/versions" - >"$T/want.$link"
		run compare_loss "$T/want.$link" "$labels"
		assert_output ""
		# Each version was read, in order.
		assert_equal "$(values_of srt.rtt_ms "$labels" | uniq)" "$(seq 1 6)"
	done
	# usb0 restarted at version 5: no loss for that interval, and loss
	# again after it; eth0 had loss for every interval.
	run grep -vc none "$T/want.usb0"
	assert_output 4
	run grep -vc none "$T/want.eth0"
	assert_output 5
	# The samples' values, spelled out for the first two intervals.
	run values_of srt.loss_pct 'link="usb0",stream="sender"'
	assert_output "$(printf '%s\n' 1 10 0.25 5)"
	run values_of srt.loss_pct 'link="eth0",stream="sender"'
	assert_output "$(printf '%s\n' 0 0.20000000000000001 2.5 0 0.80000000000000004)"
	run values_of srt.up 'stream="sender"'
	assert_output "$(yes 1 | head -n "${#lines[@]}")"
	assert_sampler_clean
}
