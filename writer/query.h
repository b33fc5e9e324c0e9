/*
 * query.h -- history queries on a read-only connection: series listing
 * and range queries that pick a tier and reduce to N points.
 *
 * The tier is chosen by the length of the range, as seed 001 specifies:
 * up to the raw retention (2 h) raw samples, up to each tier's retention
 * that tier (24 h minute, 7 d hour), beyond that the coarsest.  A tier
 * only holds buckets the rollup has completed, so the newest part of a
 * range -- after the tier's last bucket -- is filled from the next finer
 * tier, down to raw samples; a range a tier holds nothing of at all is
 * answered from a finer tier, and failing that a coarser one.
 *
 * Reduction to N points (a sparkline N pixels wide) groups the rows into
 * N equal slots -- never narrower than the tier's bucket or the series'
 * sampling interval -- with the count-weighted average, the minimum and
 * the maximum of each.  A slot with no data is a gap (count 0), never a
 * zero.
 */
#ifndef TERN_QUERY_H
#define TERN_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "conf.h"

struct query;

struct query_point {
	int64_t	ts;		/* slot start, ms */
	int64_t	count;		/* samples behind it; 0 = gap */
	double	avg, min, max;
};

struct query_result {
	char			 tier[32];	/* "raw", "minute", ... */
	int64_t			 step_ms;	/* width of a point */
	size_t			 n;		/* points, gaps included */
	size_t			 present;	/* points with data */
	struct query_point	*pts;
	size_t			 cap;
	int64_t			 oldest_ts;	/* oldest held, any tier; 0 none */
};

struct query_series {
	int64_t		id;
	const char	*device, *name, *labels;	/* valid in the callback */
};

/*
 * Opens path read-only with c's tiers and raw retention (c is copied).
 * Returns NULL with a reason in err.
 */
struct query	*query_open(const char *path, const struct conf_writer *c,
		    char *err, size_t errlen);
void		 query_close(struct query *);

/*
 * Range query: series, [from, to] in ms, npoints (0: one point per row of
 * the chosen tier).  Fills out (replacing its contents).  Returns the
 * number of points, or -1 with a reason in err.
 */
long		 query_range(struct query *, int64_t series, int64_t from,
		    int64_t to, size_t npoints, struct query_result *out,
		    char *err, size_t errlen);
void		 query_result_free(struct query_result *);

/*
 * Calls fn for each series matching the filters (NULL or "" = any):
 * device and name exactly, labels as a substring of the canonical text.
 * Returns the number of series, or -1 with err.
 */
long		 query_list(struct query *, const char *device, const char *name,
		    const char *labels, void (*fn)(const struct query_series *,
		    void *), void *arg, char *err, size_t errlen);

/*
 * Resolves "name" or "name{k=\"v\",...}" (labels in any order) on device
 * to a series id: the id, 0 if there is none, -1 with err if the spec is
 * malformed.
 */
int64_t		 query_find(struct query *, const char *device,
		    const char *spec, char *err, size_t errlen);

#endif
