/*
 * srcfix.h -- helpers for the sampler's source tests: set up one source
 * on a fixture tree, run rounds, and look samples up by name and labels.
 */
#ifndef TERN_SRCFIX_H
#define TERN_SRCFIX_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "source.h"
#include "unit.h"

#define FIX	"test/fixtures/"

/* A conf_source of type name; strings are borrowed. */
static inline struct conf_source
fix_conf(const char *name)
{
	struct conf_source c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.enabled = 1;
	return c;
}

/*
 * One source under test and the batch its rounds fill: what every source
 * test sets up.  A test reads as
 *
 *	CHECK_INT(fix_start(&f, "cpu", FIX "x86-server"), 0);
 *	CHECK_INT(fix_round(&f, 1000), 0);
 *	f.src.root = FIX "x86-server/next";	(the next snapshot)
 *	CHECK_INT(fix_round(&f, 4000), 0);
 *	CHECK_SAMPLE(f.b, "cpu.busy_pct", "core=total", ..., 1e-9);
 *	fix_stop(&f);
 *
 * Sources that need configuration (exec, prometheus, srt) are set up in
 * two steps: fix_init, then fields of f.c, then fix_open.  The source
 * borrows f.c, so f stays where it is until fix_stop.
 */
struct fix {
	struct conf_source	 c;
	struct source		 src;
	struct batch		*b;
	char			 err[256];	/* the last error */
};

/* Prepares f for a source of type name on the sampler's defaults. */
static inline void
fix_init(struct fix *f, const char *name)
{
	memset(f, 0, sizeof(*f));
	f->c = fix_conf(name);
	f->b = batch_new();
}

/* Runs the source's init on root: 0, or -1 with the reason in f->err. */
static inline int
fix_open(struct fix *f, const char *root)
{
	return source_init(&f->src, &f->c, root, 0, f->err, sizeof(f->err));
}

/* fix_init and fix_open. */
static inline int
fix_start(struct fix *f, const char *name, const char *root)
{
	fix_init(f, name);
	return fix_open(f, root);
}

/* Reads one round stamped now_ms into f->b: 0, or -1 with the reason in
 * f->err (also when the source did not start). */
static inline int
fix_round(struct fix *f, int64_t now_ms)
{
	if (!f->src.enabled) {
		snprintf(f->err, sizeof(f->err), "source not started");
		return -1;
	}
	return f->src.ops->read(&f->src, f->b, now_ms, f->err,
	    sizeof(f->err));
}

/* Undoes fix_init and fix_open, whichever ran. */
static inline void
fix_stop(struct fix *f)
{
	source_fini(&f->src);
	batch_free(f->b);
	f->b = NULL;
}

/*
 * For sources whose one round says it all: starts source type name on
 * root, reads one round, stops it and returns its samples (the caller
 * frees the batch).  A failure is a test failure naming the reason.
 */
static inline struct batch *
fix_one_round(const char *name, const char *root)
{
	struct fix	 f;
	struct batch	*b;

	if (fix_start(&f, name, root) == -1 || fix_round(&f, 1000) == -1)
		UNIT_FAIL("%s on %s: %s", name, root, f.err);
	b = f.b;
	f.b = NULL;
	fix_stop(&f);
	return b;
}

/*
 * The canonical label string of series i: "k=v,k=v" in key order (the
 * batch sorts them), "" for none.
 */
static inline void
fix_labels(const struct samples_msg *m, uint32_t i, char *out, size_t size)
{
	size_t	 o = 0;
	uint32_t j;

	out[0] = '\0';
	for (j = 0; j < m->series[i].nlabels; j++) {
		const struct label *l = &m->series[i].labels[j];
		int n = snprintf(out + o, size - o, "%s%.*s=%.*s",
		    j ? "," : "", (int)l->k.n, l->k.p, (int)l->v.n, l->v.p);

		if (n < 0 || (size_t)n >= size - o)
			return;
		o += (size_t)n;
	}
}

/*
 * Finds the last point of name{labels} (labels in canonical form) in b.
 * Returns the number of points of that series, the last value in *v.
 */
static inline int
fix_get(struct batch *b, const char *name, const char *labels, double *v)
{
	struct samples_msg m;
	char		 ls[2048];
	uint32_t	 i;
	int		 n = 0;

	if (batch_view(b, &m) == -1)
		return -1;
	for (i = 0; i < m.npoints; i++) {
		const struct series_ref *s = &m.series[m.points[i].idx];

		if (s->name.n != strlen(name) ||
		    memcmp(s->name.p, name, s->name.n) != 0)
			continue;
		fix_labels(&m, m.points[i].idx, ls, sizeof(ls));
		if (strcmp(ls, labels) != 0)
			continue;
		n++;
		if (v)
			*v = m.points[i].value;
	}
	return n;
}

/* The number of points named name, whatever their labels. */
static inline int
fix_count(struct batch *b, const char *name)
{
	struct samples_msg m;
	uint32_t	 i;
	int		 n = 0;

	if (batch_view(b, &m) == -1)
		return -1;
	for (i = 0; i < m.npoints; i++) {
		const struct series_ref *s = &m.series[m.points[i].idx];

		if (s->name.n == strlen(name) &&
		    memcmp(s->name.p, name, s->name.n) == 0)
			n++;
	}
	return n;
}

/* Prints every point, for a person debugging a test. */
static inline void
fix_dump(struct batch *b)
{
	struct samples_msg m;
	char		 ls[2048];
	uint32_t	 i;

	if (batch_view(b, &m) == -1)
		return;
	for (i = 0; i < m.npoints; i++) {
		fix_labels(&m, m.points[i].idx, ls, sizeof(ls));
		fprintf(stderr, "# %.*s{%s} %.17g @%lld\n",
		    (int)m.series[m.points[i].idx].name.n,
		    m.series[m.points[i].idx].name.p, ls, m.points[i].value,
		    (long long)m.points[i].ts);
	}
}

/* Checks that name{labels} has exactly one point, equal to want +- eps. */
#define CHECK_SAMPLE(b, name, labels, want, eps) do {			\
	double	_v = 0;							\
	int	_n = fix_get((b), (name), (labels), &_v);		\
	if (_n != 1)							\
		UNIT_FAIL("%s{%s}: %d points, expected 1", (name),	\
		    (labels), _n);					\
	else								\
		CHECK_NEAR(_v, (want), (eps));				\
} while (0)

#define CHECK_NONE(b, name, labels) do {				\
	int	_n = fix_get((b), (name), (labels), NULL);		\
	if (_n != 0)							\
		UNIT_FAIL("%s{%s}: %d points, expected none", (name),	\
		    (labels), _n);					\
} while (0)

#endif
