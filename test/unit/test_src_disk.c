/*
 * test_src_disk.c -- the disk source: which filesystems, and their space.
 */
#include "unit.h"
#include "srcfix.h"

TEST(disk_arm_board)
{
	struct batch *b = fix_one_round("disk", FIX "arm-board");
	double	used = 61035008.0 - 45776256;

	CHECK_SAMPLE(b, "disk.total_bytes", "mount=/", 61035008.0 * 4096, 0);
	CHECK_SAMPLE(b, "disk.free_bytes", "mount=/", 42709632.0 * 4096, 0);
	CHECK_SAMPLE(b, "disk.used_bytes", "mount=/", used * 4096, 0);
	CHECK_SAMPLE(b, "disk.free_pct", "mount=/",
	    100.0 * 42709632 / (used + 42709632), 1e-9);
	CHECK_SAMPLE(b, "disk.inodes_free_pct", "mount=/",
	    100.0 * 14891234 / 15269888, 1e-9);
	/* log2ram's zram ext4 is a filesystem that fills up: kept. */
	CHECK_SAMPLE(b, "disk.free_pct", "mount=/var/log",
	    100.0 * 8704 / (3072 + 8704), 1e-9);
	/* "\040" in /proc/mounts is a space; vfat has no inode counts. */
	CHECK_SAMPLE(b, "disk.free_pct", "mount=/media/sd card", 50.0, 1e-9);
	CHECK_NONE(b, "disk.inodes_free_pct", "mount=/media/sd card");
	/* Skipped: a second mount of nvme0n1p2, squashfs, nfs4, tmpfs. */
	CHECK_NONE(b, "disk.free_pct", "mount=/var/log.hdd");
	CHECK_NONE(b, "disk.free_pct", "mount=/snap/core22/1033");
	CHECK_NONE(b, "disk.free_pct", "mount=/mnt/recordings");
	CHECK_NONE(b, "disk.free_pct", "mount=/tmp");
	CHECK_INT(fix_count(b, "disk.total_bytes"), 3);
	batch_free(b);
}

/* Real mounts and statvfs of an x86 VM: only / is a real filesystem. */
TEST(disk_x86_server)
{
	struct batch *b = fix_one_round("disk", FIX "x86-server");
	double	used = 66053021.0 - 61858400;

	CHECK_SAMPLE(b, "disk.free_pct", "mount=/",
	    100.0 * 20889676 / (used + 20889676), 1e-9);
	CHECK_INT(fix_count(b, "disk.total_bytes"), 1);
	batch_free(b);
}

/* Without statvfs.txt the real system call runs: root "/" here. */
TEST(disk_real_root)
{
	struct batch *b = fix_one_round("disk", "/");
	double	v = -1;

	if (fix_get(b, "disk.free_pct", "mount=/", &v) == 1)
		CHECK(v >= 0 && v <= 100);
	batch_free(b);
}

TEST(disk_missing)
{
	struct fix	f;

	CHECK_INT(fix_start(&f, "disk", FIX "srt"), -1);
	CHECK_HAS(f.err, "proc/self/mounts");
	fix_stop(&f);
}

int
main(void)
{
	RUN(disk_arm_board);
	RUN(disk_x86_server);
	RUN(disk_real_root);
	RUN(disk_missing);
	return UNIT_DONE();
}
