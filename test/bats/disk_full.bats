#!/usr/bin/env bats
# The writer's database on a small file system that fills up, then space is
# freed: no crash, nothing acknowledged lost, ingest resumes by itself.
#
# The file system is a 3 MiB tmpfs mounted in a private mount namespace, so
# the whole scenario runs inside diskfull.sh under unshare; it prints
# "key=value" lines that the tests below assert on.

load helper

setup() {
	setup_tern
	MNT=$T/mnt
	DB=$MNT/tern.db
	# No checkpoint and no compaction during the test: the WAL only grows,
	# so once the file system is full every commit needs space it lacks.
	write_conf 'checkpoint_ms = "1h"; compact_ms = "1d"; compact_samples = 65536;'
	if [ "$(id -u)" = 0 ]; then
		UNSHARE=(unshare --mount --propagation private)
	else
		UNSHARE=(unshare -Urm)
	fi
	if ! "${UNSHARE[@]}" true 2>/dev/null; then
		skip "cannot create a mount namespace here (${UNSHARE[*]})"
	fi
}
teardown() { teardown_tern; }

# run_diskfull: runs the scenario; its output is in $output and $T/out.
run_diskfull() {
	run timeout 600 "${UNSHARE[@]}" bash "$BATS_TEST_DIRNAME/diskfull.sh" \
	    "$BIN" "$CONF" "$DB" "$MNT" "$T"
	printf '%s\n' "$output" >"$T/out"
	assert_line mount=ok
	assert_line writer_up=1
	assert_line done=1
}

@test "a full disk, then freed: no crash, nothing acknowledged lost, ingest resumes by itself" {
	run_diskfull

	# Acknowledged before the disk filled.
	assert_line --regexp '^loadA: sent=20000 acked=20000 '
	assert_line loadA_rc=0
	assert_line avail_kib=0

	# While full: commits fail and are logged, the writer runs, load B is
	# not acknowledged, and load A's samples are all still there.
	assert_line commit_failed=1
	assert_line writer_alive=1
	assert_line stored_while_full=20000
	assert_line loadB_waiting=1

	# Freed: ingest resumed with nobody's help, everything acknowledged.
	assert_line loadB_rc=0
	assert_line --regexp '^loadB: sent=30000 acked=30000 '
	assert_line recovered=1
	assert_line status_failing_after=0
	assert_line writer_rc=0

	# Every sample of A and B stored, once, with the values sent.
	assert_line stored=50000
	assert_line distinct=50000
	assert_line devices=before-full,during-full
	assert_line bad_values=0

	# The failure was logged once, the recovery once, and the producer
	# was paused, not dropped.
	run grep -cE "commit of [0-9]+ samples failed: .*(full|space).*; holding them, producers paused, retrying" "$T/writer.log"
	assert_output 1
	run grep -cE "commit: recovered after [0-9]+ failures?" "$T/writer.log"
	assert_output 1
	run grep -E "ternctl-load\[[0-9]+\]: (dropped|connection error)" "$T/writer.log"
	assert_failure
	run grep -c "connected as producer, device 'during-full'" "$T/writer.log"
	assert_output 1
	assert_no_sanitizer_report "$T/writer.log" "$T/loadA.err" "$T/loadB.err"
}

@test "while the disk is full, ternctl status answers and shows failing 1" {
	run_diskfull
	assert_line commit_failed=1
	assert_line writer_alive=1
	assert_line status_failing=1
	assert_line --regexp '^status_commit_failures=[1-9][0-9]*$'
}
