/*
 * test_src_cpu.c -- the cpu source against fixture trees.
 */
#include "unit.h"
#include "srcfix.h"

/* Two rounds 10 s apart on the RK3588 board. */
TEST(cpu_arm_board_split)
{
	struct conf_source c = fix_conf("cpu");
	struct source	 src;
	struct batch	*b = batch_new();
	char		 err[256];

	CHECK_INT(source_init(&src, &c, FIX "arm-board", 0, err,
	    sizeof(err)), 0);
	CHECK_INT(src.ops->read(&src, b, 1000000, err, sizeof(err)), 0);
	/* The first round has nothing to compare with. */
	CHECK_INT(fix_count(b, "cpu.busy_pct"), 0);
	batch_reset(b);
	src.root = FIX "arm-board/next";
	CHECK_INT(src.ops->read(&src, b, 1010000, err, sizeof(err)), 0);
	/* Total: user 1200 nice 40 system 560 idle 5800 iowait 200 irq 80
	 * softirq 120 of 8000 ticks. */
	CHECK_SAMPLE(b, "cpu.busy_pct", "core=total", 25.0, 1e-9);
	CHECK_SAMPLE(b, "cpu.user_pct", "core=total", 15.5, 1e-9);
	CHECK_SAMPLE(b, "cpu.system_pct", "core=total", 7.0, 1e-9);
	CHECK_SAMPLE(b, "cpu.iowait_pct", "core=total", 2.5, 1e-9);
	CHECK_SAMPLE(b, "cpu.irq_pct", "core=total", 2.5, 1e-9);
	CHECK_SAMPLE(b, "cpu.steal_pct", "core=total", 0.0, 1e-9);
	CHECK_SAMPLE(b, "cpu.idle_pct", "core=total", 72.5, 1e-9);
	/* cpu0: user 300 system 100 idle 550 iowait 50. */
	CHECK_SAMPLE(b, "cpu.busy_pct", "core=0", 40.0, 1e-9);
	/* cpu7's iowait went back 2 ticks: taken as 0, not a reset. */
	CHECK_SAMPLE(b, "cpu.busy_pct", "core=7", 20.0, 1e-9);
	CHECK_INT(fix_count(b, "cpu.busy_pct"), 9);
	/* The split is for the total only. */
	CHECK_INT(fix_count(b, "cpu.user_pct"), 1);
	source_fini(&src);
	batch_free(b);
}

/* Real /proc/stat of an x86 VM, two snapshots taken 3 s apart. */
TEST(cpu_x86_server)
{
	struct conf_source c = fix_conf("cpu");
	struct source	 src;
	struct batch	*b = batch_new();
	char		 err[256];

	CHECK_INT(source_init(&src, &c, FIX "x86-server", 0, err,
	    sizeof(err)), 0);
	CHECK_INT(src.ops->read(&src, b, 1000, err, sizeof(err)), 0);
	src.root = FIX "x86-server/next";
	CHECK_INT(src.ops->read(&src, b, 4000, err, sizeof(err)), 0);
	/* total: user 107 system 43 idle 487 iowait 8 = 645; busy 150 */
	CHECK_SAMPLE(b, "cpu.busy_pct", "core=total", 100.0 * 150 / 645, 1e-9);
	/* cpu0: user 10 system 10 idle 301 iowait 2 = 323; busy 20 */
	CHECK_SAMPLE(b, "cpu.busy_pct", "core=0", 100.0 * 20 / 323, 1e-9);
	CHECK_INT(fix_count(b, "cpu.busy_pct"), 3);
	source_fini(&src);
	batch_free(b);
}

/* Same file twice: no ticks passed, no sample (not a division by 0). */
TEST(cpu_no_time_passed)
{
	struct conf_source c = fix_conf("cpu");
	struct source	 src;
	struct batch	*b = batch_new();
	char		 err[256];

	CHECK_INT(source_init(&src, &c, FIX "x86-server", 0, err,
	    sizeof(err)), 0);
	CHECK_INT(src.ops->read(&src, b, 1000, err, sizeof(err)), 0);
	CHECK_INT(src.ops->read(&src, b, 2000, err, sizeof(err)), 0);
	CHECK_INT(batch_npoints(b), 0);
	source_fini(&src);
	batch_free(b);
}

TEST(cpu_missing_file)
{
	struct conf_source c = fix_conf("cpu");
	struct source	 src;
	char		 err[256] = "";

	CHECK_INT(source_init(&src, &c, FIX "nonexistent", 0, err,
	    sizeof(err)), -1);
	CHECK_INT(src.enabled, 0);
	CHECK_HAS(err, "nonexistent/proc/stat");
	source_fini(&src);
}

int
main(void)
{
	RUN(cpu_arm_board_split);
	RUN(cpu_x86_server);
	RUN(cpu_no_time_passed);
	RUN(cpu_missing_file);
	return UNIT_DONE();
}
