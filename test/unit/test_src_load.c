/*
 * test_src_load.c -- the load source against fixture trees.
 */
#include "unit.h"
#include "srcfix.h"

TEST(load_arm_board)
{
	struct fix	f;

	CHECK_INT(fix_start(&f, "load", FIX "arm-board"), 0);
	CHECK_INT(fix_round(&f, 1000000), 0);
	CHECK_SAMPLE(f.b, "load.1m", "", 1.52, 1e-12);
	CHECK_SAMPLE(f.b, "load.5m", "", 1.31, 1e-12);
	CHECK_SAMPLE(f.b, "load.15m", "", 1.09, 1e-12);
	CHECK_SAMPLE(f.b, "load.procs_running", "", 3, 0);
	CHECK_SAMPLE(f.b, "load.procs_blocked", "", 1, 0);
	CHECK_SAMPLE(f.b, "system.uptime_s", "", 87012.34, 1e-9);
	CHECK_INT(fix_count(f.b, "load.ctxt_per_s"), 0);
	batch_reset(f.b);
	f.src.root = FIX "arm-board/next";
	CHECK_INT(fix_round(&f, 1010000), 0);
	CHECK_SAMPLE(f.b, "load.ctxt_per_s", "", 5432.1, 1e-9);
	CHECK_SAMPLE(f.b, "load.procs_running", "", 2, 0);
	CHECK_SAMPLE(f.b, "load.procs_blocked", "", 0, 0);
	CHECK_SAMPLE(f.b, "load.1m", "", 1.60, 1e-12);
	fix_stop(&f);
}

TEST(load_x86_server)
{
	struct fix	f;

	CHECK_INT(fix_start(&f, "load", FIX "x86-server"), 0);
	CHECK_INT(fix_round(&f, 1000), 0);
	f.src.root = FIX "x86-server/next";
	CHECK_INT(fix_round(&f, 4000), 0);
	/* ctxt 822301 -> 823882 in 3 s */
	CHECK_SAMPLE(f.b, "load.ctxt_per_s", "", 1581.0 / 3, 1e-9);
	CHECK_INT(fix_count(f.b, "load.1m"), 2);
	fix_stop(&f);
}

TEST(load_missing)
{
	struct fix	f;

	CHECK_INT(fix_start(&f, "load", FIX "exec"), -1);
	CHECK_HAS(f.err, "proc/loadavg");
	fix_stop(&f);
}

int
main(void)
{
	RUN(load_arm_board);
	RUN(load_x86_server);
	RUN(load_missing);
	return UNIT_DONE();
}
