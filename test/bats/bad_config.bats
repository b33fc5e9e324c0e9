#!/usr/bin/env bats
# A bad configuration file is reported with its file and line, by
# `tern-writer -n`, by `tern-writer` itself (which then does not start) and
# by `ternctl check`, and each exits 1.  A good one is "configuration OK".

load helper

setup() { setup_tern; }
teardown() { teardown_tern; }

# rejected FILE LINE MESSAGE: every way of reading FILE fails with status 1
# and names FILE:LINE and MESSAGE; the writer creates neither its socket
# nor its database.
rejected() {
	local file=$1 line=$2 msg=$3

	run timeout 60 "$BIN/tern-writer" -f "$file" -n
	assert_failure 1
	assert_output --partial "$file:$line: $msg"
	refute_output --partial "configuration OK"
	refute_output --regexp 'Sanitizer|runtime error'

	run timeout 60 "$BIN/tern-writer" -f "$file"
	assert_failure 1
	assert_output --partial "$file:$line: $msg"
	refute_output --regexp 'Sanitizer|runtime error'
	[ ! -e "$SOCK" ]
	[ ! -e "$DB" ]

	run timeout 60 "$BIN/ternctl" -f "$file" check
	assert_failure 1
	assert_output "ternctl: $file:$line: $msg"
}

@test "an unknown key is rejected with file:line" {
	cat >"$T/bad.conf" <<CONF
device = { id = "bats-device"; };
writer = {
	socket = "$SOCK";
	database = "$DB";
	flsh_ms = 100;
};
CONF
	rejected "$T/bad.conf" 5 "unknown key 'writer.flsh_ms'"
}

@test "an unknown section is rejected with file:line" {
	cat >"$T/bad.conf" <<CONF
writer = {
	socket = "$SOCK";
	database = "$DB";
};

uplaoder = {
	url = "https://example.org/";
};
CONF
	rejected "$T/bad.conf" 6 "unknown key 'uplaoder'"
}

@test "out-of-range values are rejected with file:line" {
	cat >"$T/bad.conf" <<CONF
writer = {
	socket = "$SOCK";
	database = "$DB";
	flush_samples = 20000;
	# a comment line, to be counted
	flush_ms = "20m";
};
CONF
	rejected "$T/bad.conf" 6 "writer.flush_ms: 20m is above the maximum 10m"

	cat >"$T/bad2.conf" <<CONF
writer = {
	socket = "$SOCK";
	database = "$DB";
	flush_samples = 0;
};
CONF
	rejected "$T/bad2.conf" 4 "writer.flush_samples: 0 is below the minimum 1"

	cat >"$T/bad3.conf" <<CONF
writer = { socket = "$SOCK"; database = "$DB"; };
sampler = {
	metrics = (
		{ name = "cpu"; },
		{ name = "load"; interval = "50ms"; }
	);
};
CONF
	rejected "$T/bad3.conf" 5 "sampler.metrics[1].interval: 50ms is below the minimum 100ms"
}

@test "a syntax error is rejected with file:line" {
	cat >"$T/bad.conf" <<CONF
writer = {
	socket = "$SOCK";
	database = "$DB";
	flush_ms = = 100;
};
CONF
	rejected "$T/bad.conf" 4 "syntax error"

	# An unclosed section: the error is where the file ends.
	cat >"$T/bad2.conf" <<CONF
writer = {
	socket = "$SOCK";
	database = "$DB";

CONF
	rejected "$T/bad2.conf" 5 "syntax error"
}

@test "a good configuration is OK, and so is the shipped one" {
	write_conf 'flush_ms = "250ms"; flush_samples = 5000;'
	run "$BIN/tern-writer" -f "$CONF" -n
	assert_success
	assert_output "$CONF: configuration OK"
	[ ! -e "$SOCK" ]
	[ ! -e "$DB" ]
	run "$BIN/ternctl" -f "$CONF" check
	assert_success
	assert_output "$CONF: configuration OK"

	run "$BIN/tern-writer" -f "$TOP/conf/tern.conf" -n
	assert_success
	assert_output "$TOP/conf/tern.conf: configuration OK"

	# And the writer really starts on the good one.
	start_writer
	stop_writer
	assert_no_sanitizer_report
}
