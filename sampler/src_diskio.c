/*
 * src_diskio.c -- throughput, operations and utilisation of each block
 * device, from /proc/diskstats.
 *
 * A line: "major minor name reads rmerged rsectors rms writes wmerged
 * wsectors wms inflight io_ms weighted_ms [discard and flush fields]".
 * Sectors are always 512 bytes in this file, whatever the device's real
 * sector size.  busy % is io_ms (time with at least one request in
 * flight) over wall time, which is iostat's %util.
 *
 * Which devices: whole disks only, because a partition's traffic is
 * already in its disk's.  A whole disk is one that has <root>/sys/block/
 * <name>; partitions live below their disk there.  loop, ram and zram
 * devices are skipped (files and memory, not disks).  dm-* and md* stay:
 * they double count their members but are what an LVM or RAID user
 * watches.  Without /sys/block under root every listed device that is
 * not skipped by name is kept.  The verdict per name is cached and the
 * cache dropped every DISKIO_RECHECK rounds, so hot-plugged disks appear.
 *
 * The fields are "unsigned long": 32 bits on a 32-bit kernel, so rates
 * use RATE_WAUTO (see rate.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "rate.h"
#include "source.h"

#define DISKIO_MAX_DEVS	256	/* cached verdicts */
#define DISKIO_RECHECK	600	/* rounds between cache flushes */

struct diskio_dev {
	char	name[32];
	int	keep;
};

struct diskio_state {
	struct procfs_buf buf;
	struct rate_tab	*rates;
	int		 have_sysblock;
	struct diskio_dev devs[DISKIO_MAX_DEVS];
	size_t		 ndevs;
	unsigned	 rounds;
};

static int
diskio_init(struct source *src, char *err, size_t errlen)
{
	struct diskio_state *st;

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->rates = rate_new()) == NULL) {
		free(st);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (procfs_load(&st->buf, src->root, "proc/diskstats") == -1) {
		snprintf(err, errlen, "%s/proc/diskstats: %s", src->root,
		    strerror(errno));
		procfs_buf_free(&st->buf);
		rate_free(st->rates);
		free(st);
		return -1;
	}
	st->have_sysblock = procfs_exists(src->root, "sys/block");
	src->priv = st;
	return 0;
}

static void
diskio_fini(struct source *src)
{
	struct diskio_state *st = src->priv;

	procfs_buf_free(&st->buf);
	rate_free(st->rates);
	free(st);
}

static int
diskio_keep(struct source *src, struct diskio_state *st, const char *name)
{
	char	rel[96];
	size_t	i;
	int	keep;

	for (i = 0; i < st->ndevs; i++)
		if (strcmp(st->devs[i].name, name) == 0)
			return st->devs[i].keep;
	if (strncmp(name, "loop", 4) == 0 || strncmp(name, "ram", 3) == 0 ||
	    strncmp(name, "zram", 4) == 0)
		keep = 0;
	else if (st->have_sysblock) {
		snprintf(rel, sizeof(rel), "sys/block/%s", name);
		keep = procfs_exists(src->root, rel);
	} else
		keep = 1;
	if (st->ndevs < DISKIO_MAX_DEVS) {
		snprintf(st->devs[st->ndevs].name, sizeof(st->devs[0].name),
		    "%s", name);
		st->devs[st->ndevs++].keep = keep;
	}
	return keep;
}

static void
diskio_rate(struct diskio_state *st, struct batch *b, const char *dev,
    const char *what, const char *metric, uint64_t v, double scale,
    double cap, int64_t now)
{
	struct label_kv	l = { "device", dev };
	char		key[80];
	double		r;

	snprintf(key, sizeof(key), "%s/%s", dev, what);
	if (rate_update(st->rates, key, v, now, RATE_WAUTO, 0, &r, NULL) == 1) {
		r *= scale;
		batch_add(b, metric, &l, 1, now, cap > 0 && r > cap ? cap : r);
	}
}

static int
diskio_read(struct source *src, struct batch *b, int64_t now, char *err,
    size_t errlen)
{
	struct diskio_state *st = src->priv;
	const char	*p, *q;
	char		 name[32];
	uint64_t	 f[10], skip;
	size_t		 i;

	if (procfs_load(&st->buf, src->root, "proc/diskstats") == -1) {
		snprintf(err, errlen, "%s/proc/diskstats: %s", src->root,
		    strerror(errno));
		return -1;
	}
	if (++st->rounds % DISKIO_RECHECK == 0)
		st->ndevs = 0;
	for (p = st->buf.p; p != NULL; p = procfs_next_line(p)) {
		if ((q = procfs_u64(p, &skip)) == NULL ||
		    (q = procfs_u64(q, &skip)) == NULL ||
		    (q = procfs_word(q, "", name, sizeof(name))) == NULL)
			continue;
		for (i = 0; i < 10; i++)
			if ((q = procfs_u64(q, &f[i])) == NULL)
				break;
		/* 2.6.25 and later print at least these ten fields. */
		if (i < 10 || !diskio_keep(src, st, name))
			continue;
		diskio_rate(st, b, name, "r", "diskio.read_ops_per_s", f[0], 1,
		    0, now);
		diskio_rate(st, b, name, "rs", "diskio.read_bytes_per_s", f[2],
		    512, 0, now);
		diskio_rate(st, b, name, "w", "diskio.write_ops_per_s", f[4], 1,
		    0, now);
		diskio_rate(st, b, name, "ws", "diskio.write_bytes_per_s",
		    f[6], 512, 0, now);
		/* io_ms per second of wall time is a tenth of busy %; queued
		 * requests overlap, so cap at 100. */
		diskio_rate(st, b, name, "io", "diskio.busy_pct", f[9], 0.1,
		    100, now);
	}
	rate_sweep(st->rates);
	return 0;
}

const struct source_ops src_diskio_ops = {
	.name = "diskio",
	.init = diskio_init,
	.read = diskio_read,
	.fini = diskio_fini,
};
