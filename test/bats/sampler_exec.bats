#!/usr/bin/env bats
# exec sources whose commands misbehave (test/fixtures/exec): one prints a
# good line and exits 3, one mixes garbage with good lines.  Good lines
# are stored; the failure and the bad lines are logged once and counted in
# tern.exec.errors{source,reason}; the sampler and its other sources go on.

load helper

setup() { setup_tern; }
teardown() { teardown_tern; }

FIX=$BATS_TEST_DIRNAME/../fixtures/exec

# exec_conf INSTANCE SCRIPT: the load source beside one exec source.
exec_conf() {
	write_sampler_conf "interval = \"250ms\";
	metrics = (
		{ name = \"load\"; },
		{ name = \"exec\"; instance = \"$1\"; command = \"$FIX/$2\"; }
	);"
}

# stamps NAME LABELS: its timestamps, oldest first.
stamps() {
	samples_of "$1" "$2" | awk '{ print $1 }'
}

@test "exec: a script that prints a good line and exits 3 is kept, logged once, counted, backed off" {
	exec_conf fail fail.sh
	start_writer
	start_sampler
	errs='reason="exit",source="exec/fail"'
	WAIT_S=60 wait_for stored_ge tern.exec.errors "$errs" 3
	# The rest of the sampler is unaffected.
	n=$(stored_of load.1m)
	WAIT_S=30 wait_for stored_ge load.1m "" $((n + 3))
	stop_sampler
	dump_db

	# Every run counted one more exit failure: 1, 2, 3, ...
	run values_of tern.exec.errors "$errs"
	runs=${#lines[@]}
	assert_output "$(seq 1 "$runs")"
	for r in spawn timeout output parse; do
		run values_of tern.exec.errors "reason=\"$r\",source=\"exec/fail\""
		assert_output "$(yes 0 | head -n "$runs")"
	done
	# The good line before the failure was stored from every run.
	run values_of partial_metric 'instance="fail"'
	assert_output "$(yes 7 | head -n "$runs")"
	run stamps partial_metric 'instance="fail"'
	assert_output "$(stamps tern.exec.errors "$errs")"
	# Backed off: fewer runs than the load source's rounds.
	run samples_of load.1m
	[ "$runs" -lt "${#lines[@]}" ] || fail "$runs runs in ${#lines[@]} rounds"

	# One log line for the run of failures, with the script's stderr.
	run grep -c 'source exec/fail: exit status 3: cannot reach the encoder (retrying at a doubling interval)' \
	    "$T/sampler.log"
	assert_output 1
	assert_sampler_clean
}

@test "exec: good lines among garbage are stored, the 4 bad ones per run counted and logged once" {
	exec_conf garbage garbage.sh
	start_writer
	start_sampler
	errs='reason="parse",source="exec/garbage"'
	WAIT_S=60 wait_for stored_ge tern.exec.errors "$errs" 4
	stop_sampler
	dump_db

	run values_of tern.exec.errors "$errs"
	runs=${#lines[@]}
	assert_output "$(seq 4 4 $((4 * runs)))"
	run values_of tern.exec.errors 'reason="exit",source="exec/garbage"'
	assert_output "$(yes 0 | head -n "$runs")"

	# The good lines, from every run, with their own labels and the
	# source's instance.
	run values_of ok_one 'instance="garbage"'
	assert_output "$(yes 1 | head -n "$runs")"
	run values_of ok_two 'a="x",instance="garbage"'
	assert_output "$(yes 2 | head -n "$runs")"
	run values_of ok_three 'instance="garbage"'
	assert_output "$(yes 300 | head -n "$runs")"
	# ... and nothing from the bad ones.
	run sqlite3 "$DB" "SELECT DISTINCT name FROM series
	    WHERE name NOT LIKE 'load.%' AND name NOT LIKE 'system.%' ORDER BY name"
	assert_output "$(printf '%s\n' ok_one ok_three ok_two tern.exec.duration_ms \
	    tern.exec.errors)"

	# A run of rounds with bad lines is logged once, naming the first.
	run grep -c 'source exec/garbage: 4 bad lines, first line 2: ' "$T/sampler.log"
	assert_output 1
	# Bad output is not a failure of the command: no back-off.
	run grep -c 'source exec/garbage: .*retrying' "$T/sampler.log"
	assert_output 0
	assert_sampler_clean
}
