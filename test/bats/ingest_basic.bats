#!/usr/bin/env bats
# Producers -> writer -> rows checked with the sqlite3 CLI and ternctl dump.

load helper

setup() { setup_tern; }
teardown() { teardown_tern; }

@test "two producers' samples are committed, acknowledged and stored once" {
	start_writer
	run "$BIN/ternctl" -f "$CONF" load -D dev-a -s 50 -b 100 -n 20000 "$SOCK"
	assert_success
	assert_output --partial "sent=20000 acked=20000"
	run "$BIN/ternctl" -f "$CONF" load -D dev-b -s 30 -b 70 -n 9000 "$SOCK"
	assert_success
	assert_output --partial "acked=9000"

	# The sqlite3 CLI sees the series and the sample counts.
	run sqlite3 "$DB" "SELECT device, count(*) FROM series GROUP BY device ORDER BY device"
	assert_output "$(printf 'dev-a|50\ndev-b|30')"
	run stored_samples
	assert_output 29000
	run sqlite3 "$DB" "SELECT min(t0), max(t1) FROM (SELECT t0, t1 FROM head UNION ALL SELECT t0, t1 FROM chunk) h JOIN series s ON 1 WHERE s.device = 'dev-a'"
	assert_output "1700000000000|1700000399000"

	# Values: round 7 of series 3 of dev-a is what load computed.
	want=$(expected_value 7 3)
	run bash -c "'$BIN/ternctl' -f '$CONF' dump '$DB' | awk -F'\t' '\$2 == \"dev-a\" && \$4 == \"series=\\\"3\\\"\" && \$5 == 1700000007000 { print \$6 }'"
	assert_output "$want"
	run distinct_samples
	assert_output 29000
}

@test "a resend of stored samples is harmless: stored once, ACK says 0 new" {
	start_writer
	run "$BIN/ternctl" -f "$CONF" load -s 10 -b 10 -n 1000 "$SOCK"
	assert_success
	run "$BIN/ternctl" -f "$CONF" load -s 10 -b 10 -n 1000 "$SOCK"
	assert_success
	assert_output --partial "acked=1000"
	run stored_samples
	assert_output 1000
	run stat_of duplicates
	assert_output 1000
}

@test "SIGTERM commits what is held, acknowledges it and exits 0" {
	# A long flush interval: only the stop can commit these samples.
	write_conf 'flush_ms = "10m"; flush_samples = 1000000;'
	start_writer
	"$BIN/ternctl" -f "$CONF" load -s 20 -b 20 -n 400 -w 30 "$SOCK" >"$T/load.out" &
	LOAD=$!
	wait_stat held_samples 400
	run stored_samples
	assert_output 0
	stop_writer
	wait "$LOAD"
	run cat "$T/load.out"
	assert_output --partial "acked=400"
	run stored_samples
	assert_output 400
	run grep -c "stopping; committing 400 held samples" "$T/writer.log"
	assert_output 1
}
