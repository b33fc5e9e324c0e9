#!/usr/bin/env bats
# Garbage, oversized, lying-length, out-of-order, wrong-version and
# out-of-role frames drop only the peer that sent them, while a good
# producer keeps being acknowledged.  The bad peers are crafted byte by
# byte by rawpeer.py.

load helper

setup() { setup_tern; }
teardown() { teardown_tern; }

# The bodies the bad peers send, as hex.
GARBAGE=$(printf 'GET / HTTP/1.1\r\nHost: tern\r\n\r\n' | od -An -tx1 | tr -d ' \n')
# A 100-byte SAMPLES body: {"device": <str32 of 1000 bytes>} cut after 88.
BAD_BODY="81a6646576696365db000003e8$(printf '00%.0s' $(seq 88))"
ACK_BODY="82a373657101a36e657701"	# {"seq": 1, "new": 1}
# The frame size limit, as proto/frame.h defines it ("(1u * 1024 * 1024)").
LIMIT=$(( $(sed -n 's/^#define[[:space:]]*FRAME_MAX_BODY[[:space:]]*//p' \
    "$BATS_TEST_DIRNAME/../../proto/frame.h" | tr -d 'u') ))

# The whole rogues' gallery, one connection each; every rawpeer output is
# kept in $T/rp-NAME.out.
run_bad_peers() {
	rawpeer --raw "$GARBAGE" >"$T/rp-garbage.out"
	rawpeer --hello --name rp-oversize --frame SAMPLES:4194305 \
	    >"$T/rp-oversize.out"
	rawpeer --hello --name rp-limit1 --frame SAMPLES:$((LIMIT + 1)) \
	    >"$T/rp-limit1.out"
	rawpeer --hello --name rp-lying --body 00112233445566778899 \
	    --frame SAMPLES:1000 --close >"$T/rp-lying.out"
	rawpeer --hello --name rp-badbody --body "$BAD_BODY" --frame SAMPLES \
	    >"$T/rp-badbody.out"
	rawpeer --samples evil-device --frame SAMPLES >"$T/rp-nohello.out"
	rawpeer --hello --hdr-version 2 --name rp-v2 >"$T/rp-v2.out"
	rawpeer --hello --version 2 --name rp-bodyv2 >"$T/rp-bodyv2.out"
	rawpeer --hello --name rp-ack --body "$ACK_BODY" --frame ACK \
	    >"$T/rp-ack.out"
}

@test "bad frames drop only their peer while a good producer keeps being acked" {
	start_writer
	start_load good -D good-device -s 20 -b 20 -r 2000 -d 12 -w 60 "$SOCK"
	GOOD=$LOAD_PID
	WAIT_S=30 wait_for stat_ge samples_new 1

	run_bad_peers

	# Each bad peer was hung up on by the writer (the lying one hung up
	# itself, mid-frame).
	for name in garbage oversize limit1 badbody nohello v2 bodyv2 ack; do
		run tail -1 "$T/rp-$name.out"
		assert_output "closed by writer"
	done
	run cat "$T/rp-lying.out"
	assert_output "$(printf 'HELLO role=writer name=tern-writer\nclosed by us')"

	# The writer is alive and the good producer, still streaming, is still
	# being acknowledged after all of that.
	alive "$WRITER_PID"
	alive "$GOOD"
	before=$(stat_of samples_new)
	WAIT_S=30 wait_for stat_ge samples_new $((${before%.*} + 1))
	WAIT_S=60 wait_exit "$GOOD"
	run cat "$T/good.out"
	assert_output --regexp "^sent=([0-9]+) acked=\1 "
	acked=$(load_field "$T/good.out" acked)
	[ "$acked" -gt 10000 ]
	alive "$WRITER_PID"

	# Every drop is a log line naming the peer and the reason.
	log=$T/writer.log
	run grep -F "peer (before HELLO): dropped: protocol version 72, expected 1" "$log"
	assert_success
	run grep -E "peer rp-oversize\[[0-9]+\]: dropped: frame length 4194305 exceeds limit $LIMIT$" "$log"
	assert_success
	run grep -E "peer rp-limit1\[[0-9]+\]: dropped: frame length $((LIMIT + 1)) exceeds limit $LIMIT$" "$log"
	assert_success
	run grep -E "peer rp-badbody\[[0-9]+\]: dropped: SAMPLES: str length 1000 at offset 8 exceeds the 88 remaining bytes$" "$log"
	assert_success
	run grep -F "peer (before HELLO): dropped: SAMPLES: expected HELLO first, got SAMPLES" "$log"
	assert_success
	run grep -F "peer (before HELLO): dropped: protocol version 2, expected 1" "$log"
	assert_success
	run grep -F "peer (before HELLO): dropped: HELLO: protocol version 2, this side speaks 1" "$log"
	assert_success
	run grep -E "peer rp-ack\[[0-9]+\]: dropped: ACK: a producer may not send ACK$" "$log"
	assert_success
	# The lying peer hung up mid-frame: its partial frame is discarded
	# with the connection.
	run grep -E "peer rp-lying\[[0-9]+\]: disconnected" "$log"
	assert_success
	run grep -c "dropped:" "$log"
	assert_output 8
	# The good producer was never dropped nor reconnected.
	run grep -c "peer ternctl-load\[$GOOD\]: connected as producer" "$log"
	assert_output 1
	run grep "ternctl-load\[$GOOD\]: dropped" "$log"
	assert_failure

	# Only the good producer's samples were stored, every one of them.
	run stored_samples
	assert_output "$acked"
	run distinct_samples
	assert_output "$acked"
	run sqlite3 "$DB" "SELECT DISTINCT device FROM series"
	assert_output good-device
	assert_no_sanitizer_report "$T/writer.log" "$T/good.err"
}

@test "a dropped peer is told why: the writer's ERROR carries the reason" {
	start_writer

	run rawpeer --raw "$GARBAGE"
	assert_line "ERROR reason=protocol version 72, expected 1"
	assert_line --index 1 "closed by writer"

	run rawpeer --hello --name rp-oversize --frame SAMPLES:4194305
	assert_line "ERROR reason=frame length 4194305 exceeds limit $LIMIT"

	run rawpeer --hello --name rp-badbody --body "$BAD_BODY" --frame SAMPLES
	assert_line "ERROR reason=SAMPLES: str length 1000 at offset 8 exceeds the 88 remaining bytes"

	run rawpeer --samples evil-device --frame SAMPLES
	assert_line "ERROR reason=SAMPLES: expected HELLO first, got SAMPLES"

	run rawpeer --hello --hdr-version 2 --name rp-v2
	assert_line "ERROR reason=protocol version 2, expected 1"

	run rawpeer --hello --version 2 --name rp-bodyv2
	assert_line "ERROR reason=HELLO: protocol version 2, this side speaks 1"

	run rawpeer --hello --name rp-ack --body "$ACK_BODY" --frame ACK
	assert_line "ERROR reason=ACK: a producer may not send ACK"

	alive "$WRITER_PID"
	assert_no_sanitizer_report
}
