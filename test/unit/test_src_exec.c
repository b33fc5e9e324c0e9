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

static int
setup(struct source *src, struct conf_source *c, const char *cmd,
    const char *instance, int64_t timeout_ms)
{
	char	err[256];

	*c = fix_conf("exec");
	c->command = (char *)(uintptr_t)cmd;
	c->timeout_ms = timeout_ms;
	snprintf(c->instance, sizeof(c->instance), "%s", instance);
	if (source_init(src, c, "/", 0, err, sizeof(err)) == -1) {
		UNIT_FAIL("init: %s", err);
		return -1;
	}
	return 0;
}

TEST(exec_good)
{
	struct conf_source c;
	struct source	 src;
	struct batch	*b = batch_new();
	char		 err[256];

	if (setup(&src, &c, FIX "exec/good.sh", "enc", 5000) == -1)
		return;
	CHECK_INT(src.ops->read(&src, b, 1000, err, sizeof(err)), 0);
	CHECK_SAMPLE(b, "belabox_bitrate_kbps", "instance=enc", 6000, 0);
	CHECK_SAMPLE(b, "belabox_link_rtt_ms", "instance=enc,link=usb0", 62.5,
	    0);
	/* The line's own instance label wins. */
	CHECK_SAMPLE(b, "belabox_link_rtt_ms", "instance=box2,link=eth0",
	    18.25, 0);
	CHECK_SAMPLE(b, "tern.exec.errors", "reason=exit,source=exec/enc", 0,
	    0);
	CHECK_SAMPLE(b, "tern.exec.errors", "reason=parse,source=exec/enc", 0,
	    0);
	CHECK_INT(fix_count(b, "tern.exec.duration_ms"), 1);
	source_fini(&src);
	batch_free(b);
}

TEST(exec_garbage_lines)
{
	struct conf_source c;
	struct source	 src;
	struct batch	*b = batch_new();
	char		 err[256];

	if (setup(&src, &c, FIX "exec/garbage.sh", "", 5000) == -1)
		return;
	/* Bad lines are not a failure of the source. */
	CHECK_INT(src.ops->read(&src, b, 1000, err, sizeof(err)), 0);
	CHECK_SAMPLE(b, "ok_one", "", 1, 0);
	CHECK_SAMPLE(b, "ok_two", "a=x", 2, 0);
	CHECK_SAMPLE(b, "ok_three", "", 300, 0);
	CHECK_INT(fix_count(b, "bad_value"), 0);
	CHECK_INT(fix_count(b, "bad_escape"), 0);
	CHECK_SAMPLE(b, "tern.exec.errors", "reason=parse,source=exec", 4, 0);
	/* Counted across rounds. */
	batch_reset(b);
	CHECK_INT(src.ops->read(&src, b, 2000, err, sizeof(err)), 0);
	CHECK_SAMPLE(b, "tern.exec.errors", "reason=parse,source=exec", 8, 0);
	source_fini(&src);
	batch_free(b);
}

TEST(exec_failing_script)
{
	struct conf_source c;
	struct source	 src;
	struct batch	*b = batch_new();
	char		 err[256] = "";

	if (setup(&src, &c, FIX "exec/fail.sh", "", 5000) == -1)
		return;
	CHECK_INT(src.ops->read(&src, b, 1000, err, sizeof(err)), -1);
	CHECK_HAS(err, "exit status 3");
	CHECK_HAS(err, "cannot reach the encoder");
	/* The good line printed before the failure is kept. */
	CHECK_SAMPLE(b, "partial_metric", "", 7, 0);
	CHECK_SAMPLE(b, "tern.exec.errors", "reason=exit,source=exec", 1, 0);
	source_fini(&src);
	batch_free(b);
}

TEST(exec_timeout)
{
	struct conf_source c;
	struct source	 src;
	struct batch	*b = batch_new();
	char		 err[256] = "";
	int64_t		 t0;

	if (setup(&src, &c, FIX "exec/slow.sh", "", 300) == -1)
		return;
	t0 = mono_ms();
	CHECK_INT(src.ops->read(&src, b, 1000, err, sizeof(err)), -1);
	/* Back within the timeout and a little: never the script's 30 s. */
	CHECK(mono_ms() - t0 < 1500);
	CHECK_HAS(err, "no exit after 300 ms");
	CHECK_SAMPLE(b, "early_metric", "", 1, 0);
	CHECK_INT(fix_count(b, "late_metric"), 0);
	CHECK_SAMPLE(b, "tern.exec.errors", "reason=timeout,source=exec", 1,
	    0);
	source_fini(&src);
	batch_free(b);
}

TEST(exec_no_such_command)
{
	struct conf_source c;
	struct source	 src;
	struct batch	*b = batch_new();
	char		 err[256] = "";

	if (setup(&src, &c, "/nonexistent/script", "", 5000) == -1)
		return;
	CHECK_INT(src.ops->read(&src, b, 1000, err, sizeof(err)), -1);
	CHECK_HAS(err, "exit status 127");
	source_fini(&src);
	batch_free(b);
}

TEST(exec_no_command_configured)
{
	struct conf_source c = fix_conf("exec");
	struct source	 src;
	char		 err[256] = "";

	CHECK_INT(source_init(&src, &c, "/", 0, err, sizeof(err)), -1);
	CHECK_HAS(err, "no command");
	source_fini(&src);
}

/* The scheduler backs a failing exec off and restores it on success. */
TEST(exec_backoff)
{
	struct conf_source c;
	struct source	 src;
	struct batch	*b = batch_new();

	if (setup(&src, &c, "exit 1", "", 5000) == -1)
		return;
	CHECK_INT(src.interval_ms, SOURCE_DEFAULT_INTERVAL_MS);
	CHECK_INT(sched_run(&src, 1000, b), -1);
	CHECK_INT(src.cur_ms, 20000);
	CHECK_INT(src.next_due, 20000);
	CHECK_INT(sched_run(&src, 20000, b), -1);
	CHECK_INT(src.cur_ms, 40000);
	CHECK_INT(src.fail.failures, 2);
	c.command = (char *)(uintptr_t)"echo ok 1";
	CHECK_INT(sched_run(&src, 40000, b), 0);
	CHECK_INT(src.cur_ms, 10000);
	CHECK_INT(src.next_due, 50000);
	CHECK_INT(src.fail.failures, 0);
	source_fini(&src);
	batch_free(b);
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
