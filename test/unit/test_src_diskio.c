/*
 * test_src_diskio.c -- the diskio source: rates per whole disk.
 */
#include "unit.h"
#include "srcfix.h"

TEST(diskio_arm_board)
{
	struct conf_source c = fix_conf("diskio");
	struct source	 src;
	struct batch	*b = batch_new();
	char		 err[256];

	CHECK_INT(source_init(&src, &c, FIX "arm-board", 0, err,
	    sizeof(err)), 0);
	CHECK_INT(src.ops->read(&src, b, 1000000, err, sizeof(err)), 0);
	CHECK_INT(batch_npoints(b), 0);
	src.root = FIX "arm-board/next";
	CHECK_INT(src.ops->read(&src, b, 1010000, err, sizeof(err)), 0);
	/* +100 reads, +20480 sectors, +250 writes, +40960 sectors,
	 * +2500 ms busy in 10 s */
	CHECK_SAMPLE(b, "diskio.read_ops_per_s", "device=nvme0n1", 10, 1e-9);
	CHECK_SAMPLE(b, "diskio.read_bytes_per_s", "device=nvme0n1",
	    1048576, 1e-6);
	CHECK_SAMPLE(b, "diskio.write_ops_per_s", "device=nvme0n1", 25, 1e-9);
	CHECK_SAMPLE(b, "diskio.write_bytes_per_s", "device=nvme0n1",
	    2097152, 1e-6);
	CHECK_SAMPLE(b, "diskio.busy_pct", "device=nvme0n1", 25, 1e-9);
	/* 12000 ms of io_ticks in 10 s (overlapping requests): capped. */
	CHECK_SAMPLE(b, "diskio.busy_pct", "device=mmcblk1", 100, 0);
	CHECK_SAMPLE(b, "diskio.read_ops_per_s", "device=mmcblk1", 0.5, 1e-9);
	/* Partitions, zram and loop devices are not disks. */
	CHECK_NONE(b, "diskio.busy_pct", "device=nvme0n1p2");
	CHECK_NONE(b, "diskio.busy_pct", "device=zram0");
	CHECK_NONE(b, "diskio.busy_pct", "device=loop0");
	CHECK_INT(fix_count(b, "diskio.busy_pct"), 2);
	source_fini(&src);
	batch_free(b);
}

/* Real /proc/diskstats of an x86 VM, 3 s apart, during a 64 MB write. */
TEST(diskio_x86_server)
{
	struct conf_source c = fix_conf("diskio");
	struct source	 src;
	struct batch	*b = batch_new();
	char		 err[256];

	CHECK_INT(source_init(&src, &c, FIX "x86-server", 0, err,
	    sizeof(err)), 0);
	CHECK_INT(src.ops->read(&src, b, 1000, err, sizeof(err)), 0);
	src.root = FIX "x86-server/next";
	CHECK_INT(src.ops->read(&src, b, 4000, err, sizeof(err)), 0);
	CHECK_SAMPLE(b, "diskio.read_ops_per_s", "device=vda", 2239.0 / 3,
	    1e-9);
	CHECK_SAMPLE(b, "diskio.read_bytes_per_s", "device=vda",
	    59832.0 * 512 / 3, 1e-6);
	CHECK_SAMPLE(b, "diskio.write_bytes_per_s", "device=vda",
	    137136.0 * 512 / 3, 1e-6);
	CHECK_SAMPLE(b, "diskio.busy_pct", "device=vda", 124.0 / 30, 1e-9);
	CHECK_INT(fix_count(b, "diskio.busy_pct"), 1);
	source_fini(&src);
	batch_free(b);
}

TEST(diskio_missing)
{
	struct conf_source c = fix_conf("diskio");
	struct source	 src;
	char		 err[256] = "";

	CHECK_INT(source_init(&src, &c, FIX "srt", 0, err, sizeof(err)), -1);
	CHECK_HAS(err, "proc/diskstats");
	source_fini(&src);
}

int
main(void)
{
	RUN(diskio_arm_board);
	RUN(diskio_x86_server);
	RUN(diskio_missing);
	return UNIT_DONE();
}
