/*
 * test_src_memory.c -- the memory source (meminfo and PSI).
 */
#include "unit.h"
#include "srcfix.h"

TEST(memory_arm_board)
{
	struct batch *b = fix_one_round("memory", FIX "arm-board");

	CHECK_SAMPLE(b, "mem.total_bytes", "", 16110512.0 * 1024, 0);
	CHECK_SAMPLE(b, "mem.available_bytes", "", 12345678.0 * 1024, 0);
	CHECK_SAMPLE(b, "mem.used_bytes", "", 3764834.0 * 1024, 0);
	CHECK_SAMPLE(b, "mem.used_pct", "", 100.0 * 3764834 / 16110512, 1e-9);
	CHECK_SAMPLE(b, "mem.swap_total_bytes", "", 8055252.0 * 1024, 0);
	CHECK_SAMPLE(b, "mem.swap_used_bytes", "", 154018.0 * 1024, 0);
	CHECK_SAMPLE(b, "pressure.some_pct", "resource=cpu", 4.21, 1e-12);
	CHECK_SAMPLE(b, "pressure.full_pct", "resource=cpu", 0, 0);
	CHECK_SAMPLE(b, "pressure.some_pct", "resource=memory", 0.12, 1e-12);
	CHECK_SAMPLE(b, "pressure.full_pct", "resource=memory", 0.08, 1e-12);
	CHECK_SAMPLE(b, "pressure.some_pct", "resource=io", 1.5, 1e-12);
	CHECK_SAMPLE(b, "pressure.full_pct", "resource=io", 1.25, 1e-12);
	batch_free(b);
}

/* A 3.4 kernel: no MemAvailable, no PSI. */
TEST(memory_old_kernel)
{
	struct batch *b = fix_one_round("memory", FIX "arm32-board");

	/* available = MemFree + Buffers + Cached */
	CHECK_SAMPLE(b, "mem.available_bytes", "", 304690.0 * 1024, 0);
	CHECK_SAMPLE(b, "mem.used_bytes", "", 200438.0 * 1024, 0);
	CHECK_SAMPLE(b, "mem.swap_used_bytes", "", 0, 0);
	CHECK_INT(fix_count(b, "pressure.some_pct"), 0);
	batch_free(b);
}

/* Real /proc/meminfo of an x86 VM without swap. */
TEST(memory_x86_server)
{
	struct batch *b = fix_one_round("memory", FIX "x86-server");
	double	total = 0, used = 0;

	CHECK_SAMPLE(b, "mem.used_bytes", "", (24684084.0 - 24316396) * 1024,
	    0);
	CHECK_SAMPLE(b, "mem.swap_total_bytes", "", 0, 0);
	CHECK_SAMPLE(b, "pressure.some_pct", "resource=cpu", 0.44, 1e-12);
	fix_get(b, "mem.total_bytes", "", &total);
	fix_get(b, "mem.used_bytes", "", &used);
	CHECK(used <= total);
	batch_free(b);
}

TEST(memory_missing)
{
	struct fix	f;

	CHECK_INT(fix_start(&f, "memory", FIX "srt"), -1);
	CHECK_HAS(f.err, "proc/meminfo");
	fix_stop(&f);
}

int
main(void)
{
	RUN(memory_arm_board);
	RUN(memory_old_kernel);
	RUN(memory_x86_server);
	RUN(memory_missing);
	return UNIT_DONE();
}
