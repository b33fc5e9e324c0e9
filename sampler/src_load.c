/*
 * src_load.c -- load averages, runnable and blocked processes, context
 * switches per second and uptime.
 *
 * /proc/loadavg: "0.20 0.18 0.12 1/80 11206".  /proc/stat gives
 * procs_running, procs_blocked (gauges) and ctxt (a counter since boot,
 * 64-bit in the kernel).  /proc/uptime: "350735.47 234388.90".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "rate.h"
#include "source.h"

struct load_state {
	struct procfs_buf buf;
	struct rate_tab	*rates;
};

static int
load_init(struct source *src, char *err, size_t errlen)
{
	struct load_state *st;
	static const char *const need[] = { "proc/loadavg", "proc/stat",
	    "proc/uptime" };
	size_t		 i;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!procfs_exists(src->root, need[i])) {
			snprintf(err, errlen, "%s/%s: missing", src->root,
			    need[i]);
			return -1;
		}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->rates = rate_new()) == NULL) {
		free(st);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	src->priv = st;
	return 0;
}

static void
load_fini(struct source *src)
{
	struct load_state *st = src->priv;

	procfs_buf_free(&st->buf);
	rate_free(st->rates);
	free(st);
}

static int
load_read(struct source *src, struct batch *b, int64_t now, char *err,
    size_t errlen)
{
	struct load_state *st = src->priv;
	const struct procfs_buf *ps;
	const char	*p, *file;
	double		 l1, l5, l15, up, r;
	uint64_t	 v;

	file = "proc/loadavg";
	if (procfs_load(&st->buf, src->root, file) == -1)
		goto fail;
	p = st->buf.p;
	if ((p = procfs_dec(p, &l1)) == NULL ||
	    (p = procfs_dec(p, &l5)) == NULL ||
	    (p = procfs_dec(p, &l15)) == NULL)
		goto bad;
	batch_add(b, "load.1m", NULL, 0, now, l1);
	batch_add(b, "load.5m", NULL, 0, now, l5);
	batch_add(b, "load.15m", NULL, 0, now, l15);

	file = "proc/stat";
	if ((ps = procfs_load_round(src->root, file, now)) == NULL)
		goto fail;
	for (p = ps->p; p != NULL; p = procfs_next_line(p)) {
		if (strncmp(p, "ctxt ", 5) == 0 &&
		    procfs_u64(p + 5, &v) != NULL &&
		    rate_update(st->rates, "ctxt", v, now, RATE_W64, 0, &r,
		    NULL) == 1)
			batch_add(b, "load.ctxt_per_s", NULL, 0, now, r);
		else if (strncmp(p, "procs_running ", 14) == 0 &&
		    procfs_u64(p + 14, &v) != NULL)
			batch_add(b, "load.procs_running", NULL, 0, now,
			    (double)v);
		else if (strncmp(p, "procs_blocked ", 14) == 0 &&
		    procfs_u64(p + 14, &v) != NULL)
			batch_add(b, "load.procs_blocked", NULL, 0, now,
			    (double)v);
	}

	file = "proc/uptime";
	if (procfs_load(&st->buf, src->root, file) == -1)
		goto fail;
	if (procfs_dec(st->buf.p, &up) == NULL)
		goto bad;
	batch_add(b, "system.uptime_s", NULL, 0, now, up);
	return 0;
fail:
	snprintf(err, errlen, "%s/%s: %s", src->root, file, strerror(errno));
	return -1;
bad:
	snprintf(err, errlen, "%s/%s: unexpected format", src->root, file);
	return -1;
}

const struct source_ops src_load_ops = {
	.name = "load",
	.init = load_init,
	.read = load_read,
	.fini = load_fini,
};
