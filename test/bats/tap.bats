#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# ternctl tap shows the frames the writer handles as JSON lines while a
# producer runs: filters by type and by series, and a slow tap loses frames
# (and says so) without slowing the producer.

load helper

setup() {
	setup_tern
	# ACKs ten times a second, so a short tap sees some.
	write_conf 'flush_ms = "100ms";'
}
teardown() { teardown_tern; }

T0=1700000000000

# tap_check FILE PYTHON-EXPR...: every line of FILE is a JSON object; each
# expression (over `lines`, the parsed list, and `exp(k, s)`, the value load
# sends for round k of series s) must be true.  Prints the first one that
# is not.
tap_check() {
	local file=$1
	shift
	python3 - "$file" "$T0" "$@" <<'PY'
import json, math, sys
path, t0, checks = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
lines = [json.loads(l) for l in open(path) if l.strip()]
def exp(k, s):
	x = (50 + 20 * math.sin((k + s) / 30.0)) * 100
	return (math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)) / 100
def points_ok(l):
	"""Every point of a SAMPLES line is what load sent for its ts/series."""
	b = l["body"]
	p = b["points"]
	for i in range(0, len(p), 3):
		s = int(b["series"][p[i]][1][1])
		k = (p[i + 1] - t0) // 1000
		if p[i + 2] != exp(k, s):
			return False
	return True
def consecutive(xs):
	"""No frame missing from a run of sequence numbers."""
	return all(b == a + 1 for a, b in zip(xs, xs[1:]))
env = {"lines": lines, "exp": exp, "points_ok": points_ok,
    "consecutive": consecutive, "t0": t0}
for c in checks:
	if not eval(c, env):
		print("failed: " + c)
		sys.exit(1)
PY
}

@test "tap shows SAMPLES in and ACK out as JSON, with device and series" {
	start_writer
	start_load p -D tapdev -s 3 -b 3 -r 300 -d 60 -w 60 "$SOCK"
	P=$LOAD_PID
	wait_for stat_ge samples_new 1

	run --separate-stderr timeout 60 "$BIN/ternctl" -f "$CONF" tap -c 40 "$SOCK"
	assert_success
	printf '%s\n' "$output" >"$T/tap.out"
	# At least 40: exactly 40 is the next test's business (tap -c can
	# overshoot when frames arrive in a burst).
	[ "${#lines[@]}" -ge 40 ]
	run tap_check "$T/tap.out" \
	    'all(l["peer"] == "ternctl-load['"$P"']" for l in lines)' \
	    'all(l["lost"] == 0 for l in lines)' \
	    'set(l["type"] for l in lines) == {"SAMPLES", "ACK"}' \
	    'all(l["dir"] == ("in" if l["type"] == "SAMPLES" else "out") for l in lines)' \
	    'all(l["body"]["device"] == "tapdev" for l in lines if l["type"] == "SAMPLES")' \
	    'all(l["body"]["series"] == [["load.value", ["series", str(i)]] for i in range(3)] for l in lines if l["type"] == "SAMPLES")' \
	    'all(points_ok(l) for l in lines if l["type"] == "SAMPLES")' \
	    'all(l["len"] > 0 and l["seq"] > 0 for l in lines)' \
	    'all(l["body"]["seq"] == l["seq"] and l["body"]["new"] >= 0 for l in lines if l["type"] == "ACK")' \
	    'consecutive([l["seq"] for l in lines if l["type"] == "SAMPLES"])'
	assert_success
	alive "$P"
	assert_no_sanitizer_report
}

@test "tap -c N stops after exactly N lines, even when frames come in bursts" {
	start_writer
	# One-sample frames at 100,000 samples/s: many frames per read.
	start_load p -D burst -s 10 -b 1 -r 100000 -d 60 -w 60 "$SOCK"
	wait_for stat_ge samples_new 1000

	for n in 1 5; do
		run --separate-stderr timeout 60 "$BIN/ternctl" -f "$CONF" tap -c "$n" "$SOCK"
		assert_success
		[ "${#lines[@]}" -eq "$n" ] ||
		    fail "tap -c $n printed ${#lines[@]} lines"
	done
	assert_no_sanitizer_report
}

@test "tap -t ACK shows only ACK frames" {
	start_writer
	start_load p -D tapdev -s 3 -b 3 -r 300 -d 60 -w 60 "$SOCK"
	P=$LOAD_PID
	wait_for stat_ge samples_new 1

	run --separate-stderr timeout 60 "$BIN/ternctl" -f "$CONF" tap -t ACK -c 5 "$SOCK"
	assert_success
	printf '%s\n' "$output" >"$T/tap.out"
	[ "${#lines[@]}" -ge 5 ]
	run tap_check "$T/tap.out" \
	    'all(l["type"] == "ACK" and l["dir"] == "out" for l in lines)' \
	    'all(l["peer"] == "ternctl-load['"$P"']" for l in lines)' \
	    'all(set(l["body"]) == {"seq", "new"} for l in lines)' \
	    '[l["seq"] for l in lines] == sorted(set(l["seq"] for l in lines))'
	assert_success

	# An unknown type is refused.
	run "$BIN/ternctl" -f "$CONF" tap -t ACK,NOPE -c 1 "$SOCK"
	assert_failure 2
	assert_output --partial "no frame type 'NOPE'"
	assert_no_sanitizer_report
}

@test "tap -s shows only the frames of matching series" {
	start_writer
	start_load a -D dev-alpha -N alpha.metric -s 3 -b 3 -r 300 -d 60 -w 60 "$SOCK"
	start_load b -D dev-beta -N beta.metric -s 12 -b 12 -r 600 -d 60 -w 60 "$SOCK"
	wait_for stat_ge samples_new 1

	# By metric name.
	run --separate-stderr timeout 60 "$BIN/ternctl" -f "$CONF" tap -s beta -c 10 "$SOCK"
	assert_success
	printf '%s\n' "$output" >"$T/tap.out"
	[ "${#lines[@]}" -ge 10 ]
	run tap_check "$T/tap.out" \
	    'all(l["type"] == "SAMPLES" and l["dir"] == "in" for l in lines)' \
	    'all(l["body"]["device"] == "dev-beta" for l in lines)' \
	    'all(s[0] == "beta.metric" for l in lines for s in l["body"]["series"])'
	assert_success

	# By label value: only beta's frames have a series="11".
	run --separate-stderr timeout 60 "$BIN/ternctl" -f "$CONF" tap -s 11 -c 10 "$SOCK"
	assert_success
	printf '%s\n' "$output" >"$T/tap2.out"
	[ "${#lines[@]}" -ge 10 ]
	run tap_check "$T/tap2.out" \
	    'all(l["body"]["device"] == "dev-beta" for l in lines)' \
	    'all(["series", "11"] in [s[1] for s in l["body"]["series"]] for l in lines)'
	assert_success

	# And the other way round, with a type filter too.
	run --separate-stderr timeout 60 "$BIN/ternctl" -f "$CONF" tap -t SAMPLES -s alpha -c 10 "$SOCK"
	assert_success
	printf '%s\n' "$output" >"$T/tap3.out"
	run tap_check "$T/tap3.out" 'len(lines) >= 10' \
	    'all(l["body"]["device"] == "dev-alpha" for l in lines)'
	assert_success
	assert_no_sanitizer_report
}

# tap_lost_sum: the lost counts the tap has printed so far, summed.
tap_lost_sum() {
	grep -o '"lost":[0-9]*' "$T/tap.out" | awk -F: '{ s += $2 } END { print s + 0 }'
}
# tap_caught_up: true once the lost counts the tap has printed add up to
# the writer's count of frames it dropped for taps.  Asking the writer is
# itself a STATS frame in and out, so a report still owed is delivered.
tap_caught_up() {
	local w
	w=$(stat_of tap_lost) || return 1
	[ "$(tap_lost_sum)" -eq "${w%.*}" ]
}

@test "a slow tap loses frames and says so, without slowing the producer" {
	write_conf 'flush_ms = "100ms"; tap_out_bytes = "64k";'
	start_writer

	# The tap's stdout is a pipe nobody reads until $T/go exists.
	mkfifo "$T/tap.fifo"
	( while [ ! -e "$T/go" ]; do sleep 0.05; done; exec cat ) \
	    <"$T/tap.fifo" >"$T/tap.out" &
	PIDS+=($!)
	"$BIN/ternctl" -f "$CONF" tap "$SOCK" >"$T/tap.fifo" 2>"$T/tap.err" &
	TAP=$!
	PIDS+=("$TAP")
	wait_stat taps 1

	# 100,000 samples at 25,000/s: about 350 frames of ~2 KiB each way,
	# far more than a 64 KiB tap buffer and a pipe can hold.
	start_load p -D fast -s 255 -b 100 -r 25000 -n 100000 -w 120 "$SOCK"
	WAIT_S=120 wait_exit "$LOAD_PID"
	run cat "$T/p.out"
	assert_output --regexp "^sent=100000 acked=100000 "
	# The producer kept its pace: four seconds of samples acknowledged in
	# well under twice that.
	elapsed=$(load_field "$T/p.out" elapsed_s)
	awk -v e="$elapsed" 'BEGIN { exit !(e < 8) }' || fail "load took ${elapsed}s"

	# The writer dropped frames for the tap, kept it connected, and kept
	# count.
	alive "$TAP"
	run stat_of taps
	assert_output 1
	lost=$(stat_of tap_lost)
	[ "${lost%.*}" -gt 0 ]

	# Once the tap is read again it catches up, and the next frames it
	# gets tell it how many it missed: all of them.
	touch "$T/go"
	WAIT_S=60 wait_for tap_caught_up
	total=$(tap_lost_sum)
	[ "$total" -ge "${lost%.*}" ]
	run grep -c '"lost":[1-9]' "$T/tap.out"
	[ "$output" -ge 1 ]
	kill -INT "$TAP"
	wait_exit "$TAP"
	run cat "$T/tap.err"
	assert_output --partial "ternctl tap: $total frames lost (this tap was too slow)"
	# What it printed is well-formed, and some of it is the producer's.
	run tap_check "$T/tap.out" \
	    'any(l["type"] == "SAMPLES" and l["body"]["device"] == "fast" for l in lines)' \
	    'all(points_ok(l) for l in lines if l["type"] == "SAMPLES")'
	assert_success
	assert_no_sanitizer_report "$T/writer.log" "$T/tap.err" "$T/p.err"
}
