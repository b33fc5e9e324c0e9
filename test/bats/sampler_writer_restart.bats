#!/usr/bin/env bats
# The writer dies (kill -9) and comes back while tern-sampler runs at a
# 200 ms interval: nothing is lost beyond what the sampler counted as
# dropped and recorded as a gap -- nothing at all while its queue holds
# the outage.
#
# Rounds are counted by an exec source that appends a line to $T/ticks
# each time it runs, so the outage lasts a number of rounds, not a number
# of seconds.  Samples are stamped with the time the round ran, a few ms
# after the aligned instant, so a sample's round is floor(ts / 200).

load helper

setup() { setup_tern; }
teardown() { teardown_tern; }

INTERVAL_MS=200

# sampler_conf [EXTRA_KEYS]: every system source plus the tick counter.
sampler_conf() {
	write_sampler_conf "interval = \"${INTERVAL_MS}ms\"; ${1:-}
	metrics = (
		{ name = \"load\"; }, { name = \"memory\"; }, { name = \"cpu\"; },
		{ name = \"disk\"; }, { name = \"diskio\"; }, { name = \"net\"; },
		{ name = \"thermal\"; },
		{ name = \"exec\"; instance = \"tick\";
		  command = \"echo x >>$T/ticks; echo tick 1\"; }
	);"
}

ticks() {
	[ -e "$T/ticks" ] && wc -l <"$T/ticks" || echo 0
}
ticks_ge() {
	[ "$(ticks)" -ge "$1" ]
}
# wait_rounds N: until the sampler has run N more rounds.
wait_rounds() {
	local n
	n=$(ticks)
	WAIT_S=$(( $1 + 30 )) wait_for ticks_ge $((n + $1))
}

# round_problems NAME: from the last dump_db, "dup R" for each round R
# of series NAME (no labels) stored more than once and "hole R" for each
# round missing between its first and its last.
round_problems() {
	samples_of "$1" | awk -v i="$INTERVAL_MS" '
	BEGIN { CONVFMT = OFMT = "%.0f" }
	{ r = int($1 / i); n[r]++; if (NR == 1 || r < lo) lo = r; if (r > hi) hi = r }
	END {
		for (r = lo; r <= hi; r++)
			if (!(r in n)) print "hole", r
			else if (n[r] > 1) print "dup", r
	}'
}

@test "writer kill -9 and restart within the queue's capacity: every round stored once, no gap" {
	sampler_conf
	start_writer
	start_sampler
	WAIT_S=30 wait_for stored_ge load.1m "" 5
	kill9_writer
	# Rounds sampled while the writer is away wait in the queue.
	wait_rounds 10
	start_writer
	WAIT_S=30 wait_for grep -q "resending" "$T/sampler.log"
	n=$(stored_of load.1m "")
	WAIT_S=30 wait_for stored_ge load.1m "" $((n + 5))
	stop_sampler
	dump_db

	run samples_of load.1m
	[ "${#lines[@]}" -ge 20 ] || fail "only ${#lines[@]} rounds stored"
	run round_problems load.1m
	assert_output ""
	run round_problems mem.used_bytes
	assert_output ""
	run sqlite3 "$DB" "SELECT count(*) FROM gap"
	assert_output 0
	run grep -E "dropp|exiting with" "$T/sampler.log"
	assert_output ""
	assert_sampler_clean
}

@test "a 64k queue and a long outage: the lost rounds are a recorded gap whose count the sampler logged" {
	sampler_conf 'queue_bytes = "64k";'
	start_writer
	start_sampler
	WAIT_S=30 wait_for stored_ge load.1m "" 5
	kill9_writer
	WAIT_S=60 wait_for grep -q "queue full" "$T/sampler.log"
	# The queue holds about 20 rounds here; 50 more rounds drop the
	# frames that carry the first gap markers too.
	wait_rounds 50
	start_writer
	WAIT_S=30 wait_for grep -q "acknowledging again" "$T/sampler.log"
	wait_rounds 5
	stop_sampler

	run grep -c "writer unreachable and queue full (65536 bytes): dropping" \
	    "$T/sampler.log"
	[ "$output" -ge 1 ] || fail "no drop logged"
	run grep "exiting with" "$T/sampler.log"
	assert_output ""
	dropped=$(sed -n 's/.* \([0-9][0-9]*\) samples were dropped while the writer was unreachable/\1/p' \
	    "$T/sampler.log")
	[ -n "$dropped" ] && [ "$dropped" -gt 0 ] || fail "no drop count at exit"

	# Every dropped sample is in the gap table, once.
	run sqlite3 "$DB" "SELECT sum(count) FROM gap WHERE device = 'bats-device'"
	assert_output "$dropped"
	run sqlite3 "$DB" "SELECT DISTINCT reason FROM gap"
	assert_output "producer queue full"

	# Rounds are missing, and only inside the recorded gaps.
	dump_db
	sqlite3 -separator ' ' "$DB" "SELECT from_ts, to_ts FROM gap" >"$T/gaps"
	run round_problems load.1m
	refute_output --partial dup
	assert_output --partial hole
	echo "$output" >"$T/holes"
	run awk -v i="$INTERVAL_MS" '
	    BEGIN { CONVFMT = OFMT = "%.0f" }
	    NR == FNR { lo[NR] = int($1 / i); hi[NR] = int($2 / i); n = NR; next }
	    { for (k = 1; k <= n; k++) if ($2 >= lo[k] && $2 <= hi[k]) next
	      print "unrecorded", $0 }' "$T/gaps" "$T/holes"
	assert_output ""
	assert_sampler_clean
}
