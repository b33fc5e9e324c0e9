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
