/*
 * test_src_exec.c -- the exec source with the scripts under
 * test/fixtures/exec/: good output, garbage lines, a failing script and
 * one that overruns its timeout.
 */
#include <signal.h>
#include <time.h>

#include "unit.h"
#include "srcfix.h"

static int64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An exec source running cmd with a timeout: 0, or -1 (see f->err). */
static int
exec_start(struct fix *f, const char *cmd, const char *instance,
    int64_t timeout_ms)
{
	fix_init(f, "exec");
	f->c.command = (char *)(uintptr_t)cmd;
	f->c.timeout_ms = timeout_ms;
	snprintf(f->c.instance, sizeof(f->c.instance), "%s", instance);
	return fix_open(f, "/");
}

TEST(exec_good)
{
	struct fix	f;

	CHECK_INT(exec_start(&f, FIX "exec/good.sh", "enc", 5000), 0);
	CHECK_INT(fix_round(&f, 1000), 0);
	CHECK_SAMPLE(f.b, "belabox_bitrate_kbps", "instance=enc", 6000, 0);
	CHECK_SAMPLE(f.b, "belabox_link_rtt_ms", "instance=enc,link=usb0", 62.5,
	    0);
	/* The line's own instance label wins. */
	CHECK_SAMPLE(f.b, "belabox_link_rtt_ms", "instance=box2,link=eth0",
	    18.25, 0);
	CHECK_SAMPLE(f.b, "tern.exec.errors", "reason=exit,source=exec/enc", 0,
	    0);
	CHECK_SAMPLE(f.b, "tern.exec.errors", "reason=parse,source=exec/enc", 0,
	    0);
	CHECK_INT(fix_count(f.b, "tern.exec.duration_ms"), 1);
	fix_stop(&f);
}

TEST(exec_garbage_lines)
{
	struct fix	f;

	CHECK_INT(exec_start(&f, FIX "exec/garbage.sh", "", 5000), 0);
	/* Bad lines are not a failure of the source. */
	CHECK_INT(fix_round(&f, 1000), 0);
	CHECK_SAMPLE(f.b, "ok_one", "", 1, 0);
	CHECK_SAMPLE(f.b, "ok_two", "a=x", 2, 0);
	CHECK_SAMPLE(f.b, "ok_three", "", 300, 0);
	CHECK_INT(fix_count(f.b, "bad_value"), 0);
	CHECK_INT(fix_count(f.b, "bad_escape"), 0);
	CHECK_SAMPLE(f.b, "tern.exec.errors", "reason=parse,source=exec", 4, 0);
	/* Counted across rounds. */
	batch_reset(f.b);
	CHECK_INT(fix_round(&f, 2000), 0);
	CHECK_SAMPLE(f.b, "tern.exec.errors", "reason=parse,source=exec", 8, 0);
	fix_stop(&f);
}

TEST(exec_failing_script)
{
	struct fix	f;

	CHECK_INT(exec_start(&f, FIX "exec/fail.sh", "", 5000), 0);
	CHECK_INT(fix_round(&f, 1000), -1);
	CHECK_HAS(f.err, "exit status 3");
	CHECK_HAS(f.err, "cannot reach the encoder");
	/* The good line printed before the failure is kept. */
	CHECK_SAMPLE(f.b, "partial_metric", "", 7, 0);
	CHECK_SAMPLE(f.b, "tern.exec.errors", "reason=exit,source=exec", 1, 0);
	fix_stop(&f);
}

TEST(exec_timeout)
{
	struct fix	f;
	int64_t		t0;

	CHECK_INT(exec_start(&f, FIX "exec/slow.sh", "", 300), 0);
	t0 = mono_ms();
	CHECK_INT(fix_round(&f, 1000), -1);
	/* Back within the timeout and a little: never the script's 30 s. */
	CHECK(mono_ms() - t0 < 1500);
	CHECK_HAS(f.err, "no exit after 300 ms");
	CHECK_SAMPLE(f.b, "early_metric", "", 1, 0);
	CHECK_INT(fix_count(f.b, "late_metric"), 0);
	CHECK_SAMPLE(f.b, "tern.exec.errors", "reason=timeout,source=exec", 1,
	    0);
	fix_stop(&f);
}

TEST(exec_no_such_command)
{
	struct fix	f;

	CHECK_INT(exec_start(&f, "/nonexistent/script", "", 5000), 0);
	CHECK_INT(fix_round(&f, 1000), -1);
	CHECK_HAS(f.err, "exit status 127");
	fix_stop(&f);
}

TEST(exec_no_command_configured)
{
	struct fix	f;

	CHECK_INT(fix_start(&f, "exec", "/"), -1);
	CHECK_HAS(f.err, "no command");
	fix_stop(&f);
}

/* The scheduler backs a failing exec off and restores it on success. */
TEST(exec_backoff)
{
	struct fix	f;

	if (exec_start(&f, "exit 1", "", 5000) == -1) {
		UNIT_FAIL("init: %s", f.err);
		fix_stop(&f);
		return;
	}
	CHECK_INT(f.src.interval_ms, SOURCE_DEFAULT_INTERVAL_MS);
	CHECK_INT(sched_run(&f.src, 1000, f.b), -1);
	CHECK_INT(f.src.cur_ms, 20000);
	CHECK_INT(f.src.next_due, 20000);
	CHECK_INT(sched_run(&f.src, 20000, f.b), -1);
	CHECK_INT(f.src.cur_ms, 40000);
	CHECK_INT(f.src.fail.failures, 2);
	f.c.command = (char *)(uintptr_t)"echo ok 1";
	CHECK_INT(sched_run(&f.src, 40000, f.b), 0);
	CHECK_INT(f.src.cur_ms, 10000);
	CHECK_INT(f.src.next_due, 50000);
	CHECK_INT(f.src.fail.failures, 0);
	fix_stop(&f);
}

int
main(void)
{
	RUN(exec_good);
	RUN(exec_garbage_lines);
	RUN(exec_failing_script);
	RUN(exec_timeout);
	RUN(exec_no_such_command);
	RUN(exec_no_command_configured);
	RUN(exec_backoff);
	return UNIT_DONE();
}
