/*
 * src_cpu.c -- CPU time split, from /proc/stat deltas.
 *
 * /proc/stat counts, per CPU, the ticks (USER_HZ) spent in each state
 * since boot: user nice system idle iowait irq softirq steal guest
 * guest_nice.  guest and guest_nice are already inside user and nice, so
 * they are left out of the total.  A share is the field's delta over the
 * total's delta since the previous round.
 *
 * Per CPU only busy % is emitted, the full split only for the total: a
 * 64-core server would otherwise send 384 series a second that nobody
 * reads one by one.
 *
 * iowait (and on some kernels idle) can go backwards by a few ticks when
 * a CPU leaves NO_HZ idle; such a field's delta is taken as 0 instead of
 * treating the whole CPU as reset.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "source.h"

enum {
	F_USER, F_NICE, F_SYSTEM, F_IDLE, F_IOWAIT, F_IRQ, F_SOFTIRQ, F_STEAL,
	CPU_NFIELDS
};

/* CPUs tracked; more than the largest machines Linux runs on today. */
#define CPU_MAX		8192

struct cpu_prev {
	uint64_t	f[CPU_NFIELDS];
	int		valid;
};

struct cpu_state {
	struct cpu_prev	*prev;		/* [0] total, [n + 1] cpu n */
	size_t		 nprev;
};

static int
cpu_init(struct source *src, char *err, size_t errlen)
{
	const struct procfs_buf *ps;
	struct cpu_state *st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	errno = 0;
	if ((ps = procfs_load_round(src->root, "proc/stat",
	    INT64_MIN)) == NULL || strncmp(ps->p, "cpu ", 4) != 0) {
		snprintf(err, errlen, "%s/proc/stat: %s", src->root,
		    errno ? strerror(errno) : "no cpu line");
		free(st);
		return -1;
	}
	src->priv = st;
	return 0;
}

static void
cpu_fini(struct source *src)
{
	struct cpu_state *st = src->priv;

	free(st->prev);
	free(st);
}

static struct cpu_prev *
cpu_slot(struct cpu_state *st, size_t i)
{
	struct cpu_prev	*np;
	size_t		 n;

	if (i >= CPU_MAX)
		return NULL;
	if (i >= st->nprev) {
		n = i + 16;
		if ((np = realloc(st->prev, n * sizeof(*np))) == NULL)
			return NULL;
		memset(np + st->nprev, 0, (n - st->nprev) * sizeof(*np));
		st->prev = np;
		st->nprev = n;
	}
	return &st->prev[i];
}

static void
cpu_emit(struct batch *b, const char *core, int full, const uint64_t *d,
    uint64_t total, int64_t now)
{
	struct label_kv	l = { "core", core };
	double		t = (double)total;
	uint64_t	busy = total - d[F_IDLE] - d[F_IOWAIT];

	batch_add(b, "cpu.busy_pct", &l, 1, now, 100.0 * (double)busy / t);
	if (!full)
		return;
	batch_add(b, "cpu.user_pct", &l, 1, now,
	    100.0 * (double)(d[F_USER] + d[F_NICE]) / t);
	batch_add(b, "cpu.system_pct", &l, 1, now,
	    100.0 * (double)d[F_SYSTEM] / t);
	batch_add(b, "cpu.iowait_pct", &l, 1, now,
	    100.0 * (double)d[F_IOWAIT] / t);
	batch_add(b, "cpu.irq_pct", &l, 1, now,
	    100.0 * (double)(d[F_IRQ] + d[F_SOFTIRQ]) / t);
	batch_add(b, "cpu.steal_pct", &l, 1, now,
	    100.0 * (double)d[F_STEAL] / t);
	batch_add(b, "cpu.idle_pct", &l, 1, now,
	    100.0 * (double)d[F_IDLE] / t);
}

static int
cpu_read(struct source *src, struct batch *b, int64_t now, char *err,
    size_t errlen)
{
	const struct procfs_buf *ps;
	struct cpu_state *st = src->priv;
	struct cpu_prev	*pv;
	const char	*p, *q;
	uint64_t	 cur[CPU_NFIELDS], d[CPU_NFIELDS], total, n;
	size_t		 i, idx;
	int		 seen = 0;
	char		 core[24];

	if ((ps = procfs_load_round(src->root, "proc/stat", now)) == NULL) {
		snprintf(err, errlen, "%s/proc/stat: %s", src->root,
		    strerror(errno));
		return -1;
	}
	for (p = ps->p; p != NULL; p = procfs_next_line(p)) {
		if (strncmp(p, "cpu", 3) != 0)
			continue;
		q = p + 3;
		if (*q == ' ') {
			idx = 0;
			snprintf(core, sizeof(core), "total");
		} else {
			if ((q = procfs_u64(q, &n)) == NULL || n >= CPU_MAX)
				continue;
			idx = (size_t)n + 1;
			snprintf(core, sizeof(core), "%llu",
			    (unsigned long long)n);
		}
		memset(cur, 0, sizeof(cur));
		for (i = 0; i < CPU_NFIELDS; i++)
			if ((q = procfs_u64(q, &cur[i])) == NULL)
				break;
		if (i < 4)		/* not even idle: not a cpu line */
			continue;
		seen++;
		if ((pv = cpu_slot(st, idx)) == NULL)
			continue;
		total = 0;
		for (i = 0; i < CPU_NFIELDS; i++) {
			d[i] = pv->valid && cur[i] >= pv->f[i] ?
			    cur[i] - pv->f[i] : 0;
			total += d[i];
		}
		if (pv->valid && total > 0)
			cpu_emit(b, core, idx == 0, d, total, now);
		memcpy(pv->f, cur, sizeof(cur));
		pv->valid = 1;
	}
	if (seen == 0) {
		snprintf(err, errlen, "%s/proc/stat: no cpu lines", src->root);
		return -1;
	}
	return 0;
}

const struct source_ops src_cpu_ops = {
	.name = "cpu",
	.init = cpu_init,
	.read = cpu_read,
	.fini = cpu_fini,
};
