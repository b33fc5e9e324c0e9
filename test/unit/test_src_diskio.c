/*
 * test_src_diskio.c -- the diskio source: rates per whole disk.
 */
#include "unit.h"
#include "srcfix.h"

TEST(diskio_arm_board)
{
	struct fix	f;

	CHECK_INT(fix_start(&f, "diskio", FIX "arm-board"), 0);
	CHECK_INT(fix_round(&f, 1000000), 0);
	CHECK_INT(batch_npoints(f.b), 0);
	f.src.root = FIX "arm-board/next";
	CHECK_INT(fix_round(&f, 1010000), 0);
	/* +100 reads, +20480 sectors, +250 writes, +40960 sectors,
	 * +2500 ms busy in 10 s */
	CHECK_SAMPLE(f.b, "diskio.read_ops_per_s", "device=nvme0n1", 10, 1e-9);
	CHECK_SAMPLE(f.b, "diskio.read_bytes_per_s", "device=nvme0n1",
	    1048576, 1e-6);
	CHECK_SAMPLE(f.b, "diskio.write_ops_per_s", "device=nvme0n1", 25,
	    1e-9);
	CHECK_SAMPLE(f.b, "diskio.write_bytes_per_s", "device=nvme0n1",
	    2097152, 1e-6);
	CHECK_SAMPLE(f.b, "diskio.busy_pct", "device=nvme0n1", 25, 1e-9);
	/* 12000 ms of io_ticks in 10 s (overlapping requests): capped. */
	CHECK_SAMPLE(f.b, "diskio.busy_pct", "device=mmcblk1", 100, 0);
	CHECK_SAMPLE(f.b, "diskio.read_ops_per_s", "device=mmcblk1", 0.5,
	    1e-9);
	/* Partitions, zram and loop devices are not disks. */
	CHECK_NONE(f.b, "diskio.busy_pct", "device=nvme0n1p2");
	CHECK_NONE(f.b, "diskio.busy_pct", "device=zram0");
	CHECK_NONE(f.b, "diskio.busy_pct", "device=loop0");
	CHECK_INT(fix_count(f.b, "diskio.busy_pct"), 2);
	fix_stop(&f);
}

/* Real /proc/diskstats of an x86 VM, 3 s apart, during a 64 MB write. */
TEST(diskio_x86_server)
{
	struct fix	f;

	CHECK_INT(fix_start(&f, "diskio", FIX "x86-server"), 0);
	CHECK_INT(fix_round(&f, 1000), 0);
	f.src.root = FIX "x86-server/next";
	CHECK_INT(fix_round(&f, 4000), 0);
	CHECK_SAMPLE(f.b, "diskio.read_ops_per_s", "device=vda", 2239.0 / 3,
	    1e-9);
	CHECK_SAMPLE(f.b, "diskio.read_bytes_per_s", "device=vda",
	    59832.0 * 512 / 3, 1e-6);
	CHECK_SAMPLE(f.b, "diskio.write_bytes_per_s", "device=vda",
	    137136.0 * 512 / 3, 1e-6);
	CHECK_SAMPLE(f.b, "diskio.busy_pct", "device=vda", 124.0 / 30, 1e-9);
	CHECK_INT(fix_count(f.b, "diskio.busy_pct"), 1);
	fix_stop(&f);
}

TEST(diskio_missing)
{
	struct fix	f;

	CHECK_INT(fix_start(&f, "diskio", FIX "srt"), -1);
	CHECK_HAS(f.err, "proc/diskstats");
	fix_stop(&f);
}

int
main(void)
{
	RUN(diskio_arm_board);
	RUN(diskio_x86_server);
	RUN(diskio_missing);
	return UNIT_DONE();
}
