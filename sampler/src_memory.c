/*
 * src_memory.c -- memory and swap from /proc/meminfo, pressure stall
 * information from /proc/pressure/{cpu,memory,io}.
 *
 * used = MemTotal - MemAvailable: what the kernel could not hand to a new
 * program without swapping, which is what "used" means to an operator
 * (free(1) since procps 3.3.10 agrees).  Kernels before 3.14 have no
 * MemAvailable; there MemFree + Buffers + Cached stands in for it.
 *
 * PSI exists from Linux 4.20 when the kernel was built with it and not
 * booted with psi=0 (then the files exist but reading fails with
 * EOPNOTSUPP).  init probes each file once; the ones that do not work are
 * left out for the life of the sampler.  Only avg10 is sent: avg60 and
 * avg300 are averages the rollups compute anyway.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "source.h"

static const char *const mem_psi[] = { "cpu", "memory", "io" };
#define MEM_NPSI	(sizeof(mem_psi) / sizeof(mem_psi[0]))

struct mem_state {
	struct procfs_buf buf;
	int		 psi[MEM_NPSI];	/* 1: this pressure file works */
};

static int
mem_init(struct source *src, char *err, size_t errlen)
{
	struct mem_state *st;
	char		 rel[64];
	size_t		 i;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (procfs_load(&st->buf, src->root, "proc/meminfo") == -1) {
		snprintf(err, errlen, "%s/proc/meminfo: %s", src->root,
		    strerror(errno));
		procfs_buf_free(&st->buf);
		free(st);
		return -1;
	}
	for (i = 0; i < MEM_NPSI; i++) {
		snprintf(rel, sizeof(rel), "proc/pressure/%s", mem_psi[i]);
		st->psi[i] = procfs_load(&st->buf, src->root, rel) == 0;
	}
	src->priv = st;
	return 0;
}

static void
mem_fini(struct source *src)
{
	struct mem_state *st = src->priv;

	procfs_buf_free(&st->buf);
	free(st);
}

/* "some avg10=1.23 avg60=..." -> 1.23 */
static void
mem_psi_line(struct batch *b, const char *p, const char *res, int64_t now)
{
	struct label_kv	 l = { "resource", res };
	const char	*name;
	double		 v;

	if (strncmp(p, "some ", 5) == 0)
		name = "pressure.some_pct";
	else if (strncmp(p, "full ", 5) == 0)
		name = "pressure.full_pct";
	else
		return;
	p += 5;
	while (*p == ' ')
		p++;
	if (strncmp(p, "avg10=", 6) != 0 || procfs_dec(p + 6, &v) == NULL)
		return;
	batch_add(b, name, &l, 1, now, v);
}

static int
mem_read(struct source *src, struct batch *b, int64_t now, char *err,
    size_t errlen)
{
	struct mem_state *st = src->priv;
	static const char *const keys[] = { "MemTotal:", "MemAvailable:",
	    "MemFree:", "Buffers:", "Cached:", "SwapTotal:", "SwapFree:" };
	enum { TOTAL, AVAIL, FREE, BUFFERS, CACHED, STOTAL, SFREE, NKEYS };
	uint64_t	 v[NKEYS];
	int		 have[NKEYS] = { 0 };
	const char	*p, *q;
	char		 rel[64];
	size_t		 i, kl;
	double		 total, avail, used;

	if (procfs_load(&st->buf, src->root, "proc/meminfo") == -1) {
		snprintf(err, errlen, "%s/proc/meminfo: %s", src->root,
		    strerror(errno));
		return -1;
	}
	for (p = st->buf.p; p != NULL; p = procfs_next_line(p))
		for (i = 0; i < NKEYS; i++) {
			kl = strlen(keys[i]);
			if (strncmp(p, keys[i], kl) != 0)
				continue;
			if ((q = procfs_u64(p + kl, &v[i])) != NULL) {
				/* Every value of interest is in kB. */
				v[i] *= 1024;
				have[i] = 1;
			}
			break;
		}
	if (!have[TOTAL] || v[TOTAL] == 0) {
		snprintf(err, errlen, "%s/proc/meminfo: no MemTotal",
		    src->root);
		return -1;
	}
	total = (double)v[TOTAL];
	if (have[AVAIL])
		avail = (double)v[AVAIL];
	else
		avail = (double)(v[FREE] * have[FREE] +
		    v[BUFFERS] * have[BUFFERS] + v[CACHED] * have[CACHED]);
	if (avail > total)
		avail = total;
	used = total - avail;
	batch_add(b, "mem.total_bytes", NULL, 0, now, total);
	batch_add(b, "mem.available_bytes", NULL, 0, now, avail);
	batch_add(b, "mem.used_bytes", NULL, 0, now, used);
	batch_add(b, "mem.used_pct", NULL, 0, now, 100.0 * used / total);
	if (have[STOTAL] && have[SFREE]) {
		batch_add(b, "mem.swap_total_bytes", NULL, 0, now,
		    (double)v[STOTAL]);
		batch_add(b, "mem.swap_used_bytes", NULL, 0, now,
		    v[STOTAL] > v[SFREE] ? (double)(v[STOTAL] - v[SFREE]) : 0);
	}

	for (i = 0; i < MEM_NPSI; i++) {
		if (!st->psi[i])
			continue;
		snprintf(rel, sizeof(rel), "proc/pressure/%s", mem_psi[i]);
		/* A pressure file failing once is not worth failing the
		 * memory numbers for: skip it this round. */
		if (procfs_load(&st->buf, src->root, rel) == -1)
			continue;
		for (p = st->buf.p; p != NULL; p = procfs_next_line(p))
			mem_psi_line(b, p, mem_psi[i], now);
	}
	return 0;
}

const struct source_ops src_memory_ops = {
	.name = "memory",
	.init = mem_init,
	.read = mem_read,
	.fini = mem_fini,
};
