/*
 * test_src_cpu.c -- the cpu source against fixture trees.
 */
#include "unit.h"
#include "srcfix.h"

/* Two rounds 10 s apart on the RK3588 board. */
TEST(cpu_arm_board_split)
{
	struct fix	f;

	CHECK_INT(fix_start(&f, "cpu", FIX "arm-board"), 0);
	CHECK_INT(fix_round(&f, 1000000), 0);
	/* The first round has nothing to compare with. */
	CHECK_INT(fix_count(f.b, "cpu.busy_pct"), 0);
	batch_reset(f.b);
	f.src.root = FIX "arm-board/next";
	CHECK_INT(fix_round(&f, 1010000), 0);
	/* Total: user 1200 nice 40 system 560 idle 5800 iowait 200 irq 80
	 * softirq 120 of 8000 ticks. */
	CHECK_SAMPLE(f.b, "cpu.busy_pct", "core=total", 25.0, 1e-9);
	CHECK_SAMPLE(f.b, "cpu.user_pct", "core=total", 15.5, 1e-9);
	CHECK_SAMPLE(f.b, "cpu.system_pct", "core=total", 7.0, 1e-9);
	CHECK_SAMPLE(f.b, "cpu.iowait_pct", "core=total", 2.5, 1e-9);
	CHECK_SAMPLE(f.b, "cpu.irq_pct", "core=total", 2.5, 1e-9);
	CHECK_SAMPLE(f.b, "cpu.steal_pct", "core=total", 0.0, 1e-9);
	CHECK_SAMPLE(f.b, "cpu.idle_pct", "core=total", 72.5, 1e-9);
	/* cpu0: user 300 system 100 idle 550 iowait 50. */
	CHECK_SAMPLE(f.b, "cpu.busy_pct", "core=0", 40.0, 1e-9);
	/* cpu7's iowait went back 2 ticks: taken as 0, not a reset. */
	CHECK_SAMPLE(f.b, "cpu.busy_pct", "core=7", 20.0, 1e-9);
	CHECK_INT(fix_count(f.b, "cpu.busy_pct"), 9);
	/* The split is for the total only. */
	CHECK_INT(fix_count(f.b, "cpu.user_pct"), 1);
	fix_stop(&f);
}

/* Real /proc/stat of an x86 VM, two snapshots taken 3 s apart. */
TEST(cpu_x86_server)
{
	struct fix	f;

	CHECK_INT(fix_start(&f, "cpu", FIX "x86-server"), 0);
	CHECK_INT(fix_round(&f, 1000), 0);
	f.src.root = FIX "x86-server/next";
	CHECK_INT(fix_round(&f, 4000), 0);
	/* total: user 107 system 43 idle 487 iowait 8 = 645; busy 150 */
	CHECK_SAMPLE(f.b, "cpu.busy_pct", "core=total", 100.0 * 150 / 645,
	    1e-9);
	/* cpu0: user 10 system 10 idle 301 iowait 2 = 323; busy 20 */
	CHECK_SAMPLE(f.b, "cpu.busy_pct", "core=0", 100.0 * 20 / 323, 1e-9);
	CHECK_INT(fix_count(f.b, "cpu.busy_pct"), 3);
	fix_stop(&f);
}

/* Same file twice: no ticks passed, no sample (not a division by 0). */
TEST(cpu_no_time_passed)
{
	struct fix	f;

	CHECK_INT(fix_start(&f, "cpu", FIX "x86-server"), 0);
	CHECK_INT(fix_round(&f, 1000), 0);
	CHECK_INT(fix_round(&f, 2000), 0);
	CHECK_INT(batch_npoints(f.b), 0);
	fix_stop(&f);
}

TEST(cpu_missing_file)
{
	struct fix	f;

	CHECK_INT(fix_start(&f, "cpu", FIX "nonexistent"), -1);
	CHECK_INT(f.src.enabled, 0);
	CHECK_HAS(f.err, "nonexistent/proc/stat");
	fix_stop(&f);
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
