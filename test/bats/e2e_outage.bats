#!/usr/bin/env bats
# The receiver goes away while a device streams, and comes back later:
# nothing is lost, nothing is stored twice, and the central host sees live
# samples again before the backlog of the outage has finished draining.
#
# The producer makes 100 samples a second with timestamps on the wall
# clock (one round of 100 series per second), so a sample's timestamp says
# when it was made.  The backlog drains at uploader.backlog_rate = 200
# samples/s in batches of at most 500, so an outage of ~20 s takes seconds
# to drain.  `ternctl tap` on the central writer records the order in which
# samples arrived there after the restart.

load helper
load receiver_helper
load e2e_helper

setup() { setup_tern; }
teardown() { assert_e2e_clean; teardown_tern; }

TOTAL=4500

load_done() {
	pid_gone "$LOAD_PID"
}
central_ge() {
	[ "$(central_samples)" -ge "$1" ]
}

# central_after_restart PYTHON-EXPR...: checks over the SAMPLES frames the
# central writer took in after the restart ($T/tap.out), in arrival order.
# Each frame is reduced to its points' timestamps (`frames`, a list of
# lists); `restart` is the wall clock in ms when the receiver came back and
# `down` when it went away.  Prints the first check that fails, and the
# arrival order in brief.
central_after_restart() {
	python3 - "$T/tap.out" "$DOWN_MS" "$RESTART_MS" "$@" <<'PY'
import json, sys
path, down, restart, checks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
frames = []
for l in open(path):
	if not l.strip():
		continue
	f = json.loads(l)
	if f.get("type") != "SAMPLES" or not f.get("body"):
		continue
	p = f["body"]["points"]
	frames.append([p[i + 1] for i in range(0, len(p), 3)])
def first(pred):
	"""Index of the first frame with a point for which pred holds."""
	return next((i for i, ts in enumerate(frames) if any(pred(t) for t in ts)), None)
def last(pred):
	"""Index of the last frame with a point for which pred holds."""
	return max((i for i, ts in enumerate(frames) if any(pred(t) for t in ts)), default=None)
env = {"frames": frames, "first": first, "last": last,
    "down": down, "restart": restart}
for c in checks:
	if not eval(c, env):
		print("failed: " + c)
		for i, ts in enumerate(frames[:40]):
			print("  frame %d: %d points, %+.1f .. %+.1f s from the restart"
			    % (i, len(ts), (min(ts) - restart) / 1e3, (max(ts) - restart) / 1e3))
		sys.exit(1)
PY
}

@test "receiver down for ~20 s while streaming, then back: every sample once, live before the backlog is through" {
	setup_e2e msgpack "backlog_rate = 200; batch_samples = 500;"
	start_central
	start_writer
	start_e2e_uploader
	t0=$(( $(date +%s) * 1000 ))
	start_load p -D belabox-001 -s 100 -b 100 -r 100 -i 1000 -T "$t0" \
	    -n "$TOTAL" -w 120 "$SOCK"

	# Streaming: the central database fills as the device commits.
	WAIT_S=30 wait_for central_ge 500
	stop_central_receiver
	DOWN_MS=$(date +%s%3N)
	# Tap the central writer from now on: what it takes in after the
	# restart, in order.
	"$BIN/ternctl" -f "$CCONF" tap -t SAMPLES "$CSOCK" >"$T/tap.out" 2>"$T/tap.err" &
	PIDS+=("$!")
	TAP_PID=$!

	# The outage: about 20 s of samples pile up on the device, which
	# keeps retrying.
	WAIT_S=60 wait_for stat_ge upload_pending_samples 2000
	n_down=$(central_samples)
	grep -q "failed" "$T/uploader.log"

	RESTART_MS=$(date +%s%3N)
	start_central_receiver
	WAIT_S=90 wait_for load_done
	run load_field "$T/p.out" acked
	assert_output "$TOTAL"
	WAIT_S=60 wait_for e2e_settled "$TOTAL"
	kill -INT "$TAP_PID"
	wait_exit "$TAP_PID" || true

	# Exactly once, values as the device stored them.
	assert_central_equals_device
	run cstat_of samples_new
	assert_output "$TOTAL"
	run bad_values belabox-001 "$t0"
	assert_output 0
	grep -q "recovered after" "$T/uploader.log"

	# Nothing arrived while the receiver was down.
	[ "$n_down" -lt "$TOTAL" ]
	# Live first: the newest samples of the moment the link came back
	# (made in the last 3 s before it) reached the central writer among
	# the first requests, before the last of the outage's older samples
	# did; those came behind, oldest first, over several requests.  (The
	# first request after the restart may be the batch that was in hand
	# when the link went down.)
	run central_after_restart \
	    'first(lambda t: t >= restart - 3000) is not None' \
	    'last(lambda t: t < restart - 5000) is not None' \
	    'first(lambda t: t >= restart - 3000) <= 3' \
	    'first(lambda t: t >= restart - 3000) < last(lambda t: t < restart - 5000)' \
	    'len([f for f in frames if max(f) < restart - 5000]) >= 3' \
	    '(lambda b: b == sorted(b))([min(f) for f in frames if max(f) < restart - 5000])'
	assert_success
}
