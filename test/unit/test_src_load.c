/*
 * test_src_load.c -- the load source against fixture trees.
 */
#include "unit.h"
#include "srcfix.h"

TEST(load_arm_board)
{
	struct conf_source c = fix_conf("load");
	struct source	 src;
	struct batch	*b = batch_new();
	char		 err[256];

	CHECK_INT(source_init(&src, &c, FIX "arm-board", 0, err,
	    sizeof(err)), 0);
	CHECK_INT(src.ops->read(&src, b, 1000000, err, sizeof(err)), 0);
	CHECK_SAMPLE(b, "load.1m", "", 1.52, 1e-12);
	CHECK_SAMPLE(b, "load.5m", "", 1.31, 1e-12);
	CHECK_SAMPLE(b, "load.15m", "", 1.09, 1e-12);
	CHECK_SAMPLE(b, "load.procs_running", "", 3, 0);
	CHECK_SAMPLE(b, "load.procs_blocked", "", 1, 0);
	CHECK_SAMPLE(b, "system.uptime_s", "", 87012.34, 1e-9);
	CHECK_INT(fix_count(b, "load.ctxt_per_s"), 0);
	batch_reset(b);
	src.root = FIX "arm-board/next";
	CHECK_INT(src.ops->read(&src, b, 1010000, err, sizeof(err)), 0);
	CHECK_SAMPLE(b, "load.ctxt_per_s", "", 5432.1, 1e-9);
	CHECK_SAMPLE(b, "load.procs_running", "", 2, 0);
	CHECK_SAMPLE(b, "load.procs_blocked", "", 0, 0);
	CHECK_SAMPLE(b, "load.1m", "", 1.60, 1e-12);
	source_fini(&src);
	batch_free(b);
}

TEST(load_x86_server)
{
	struct conf_source c = fix_conf("load");
	struct source	 src;
	struct batch	*b = batch_new();
	char		 err[256];

	CHECK_INT(source_init(&src, &c, FIX "x86-server", 0, err,
	    sizeof(err)), 0);
	CHECK_INT(src.ops->read(&src, b, 1000, err, sizeof(err)), 0);
	src.root = FIX "x86-server/next";
	CHECK_INT(src.ops->read(&src, b, 4000, err, sizeof(err)), 0);
	/* ctxt 822301 -> 823882 in 3 s */
	CHECK_SAMPLE(b, "load.ctxt_per_s", "", 1581.0 / 3, 1e-9);
	CHECK_INT(fix_count(b, "load.1m"), 2);
	source_fini(&src);
	batch_free(b);
}

TEST(load_missing)
{
	struct conf_source c = fix_conf("load");
	struct source	 src;
	char		 err[256] = "";

	CHECK_INT(source_init(&src, &c, FIX "exec", 0, err, sizeof(err)), -1);
	CHECK_HAS(err, "proc/loadavg");
	source_fini(&src);
}

int
main(void)
{
	RUN(load_arm_board);
	RUN(load_x86_server);
	RUN(load_missing);
	return UNIT_DONE();
}
