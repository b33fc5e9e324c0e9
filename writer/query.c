/*
 * query.c -- see query.h.
 *
 * A query gathers "rows" -- (start, width, count, sum, min, max) -- in
 * ascending time: from the chosen tier first, then for the part of the
 * range after the tier's last bucket from the next finer tier, and so on
 * down to raw samples (rows of width 1 and count 1).  Reduction then works
 * on rows without caring where they came from.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "query.h"
#include "read.h"
#include "series.h"
#include "store.h"

struct row {
	int64_t	start, width, count;
	double	sum, min, max;
};

struct query {
	sqlite3			*db;
	struct raw_reader	*raw;
	struct conf_writer	 c;
	sqlite3_stmt		*tier_rows, *tier_min, *raw_min, *list;
	struct raw_result	 res;
	struct row		*rows;
	size_t			 nrows, rowcap;
};

struct query *
query_open(const char *path, const struct conf_writer *c, char *err,
    size_t errlen)
{
	struct query	*q;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	q->c = *c;
	if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
		    q->db ? sqlite3_errmsg(q->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(q->db, 5000);
	if ((q->raw = raw_wrap(q->db, err, errlen)) == NULL)
		goto fail;
	/* Tier rows by bucket index (store.h), with the `buckets` view's
	 * coalesce inline so that the key range is an index range. */
	if (sqlite3_prepare_v3(q->db, "SELECT b * ?1, count, sum, coalesce(min, "
	    "sum), coalesce(max, min, sum) FROM tier_rows WHERE tid = "
	    STORE_TIER_ID_SQL("?1") " AND series = ?2 AND b >= ?3 AND b <= ?4 "
	    "ORDER BY b", -1, SQLITE_PREPARE_PERSISTENT, &q->tier_rows, NULL)
	    != SQLITE_OK ||
	    sqlite3_prepare_v3(q->db, "SELECT min(b) * ?1 FROM tier_rows WHERE "
	    "tid = " STORE_TIER_ID_SQL("?1") " AND series = ?2", -1,
	    SQLITE_PREPARE_PERSISTENT, &q->tier_min, NULL) != SQLITE_OK ||
	    /* A packed head row's t0 is its oldest sample of any series:
	     * oldest() looks inside it. */
	    sqlite3_prepare_v3(q->db, "SELECT min(t0), 1, NULL FROM chunk "
	    "WHERE series = ?1 UNION ALL SELECT t0, series, CASE series WHEN 0 "
	    "THEN data END FROM head WHERE series IN (0, ?1)", -1,
	    SQLITE_PREPARE_PERSISTENT, &q->raw_min, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(q->db, "SELECT id, device, name, labels FROM "
	    "series WHERE (?1 = '' OR device = ?1) AND (?2 = '' OR name = ?2) "
	    "AND (?3 = '' OR instr(labels, ?3) > 0) ORDER BY device, name, "
	    "labels", -1, SQLITE_PREPARE_PERSISTENT, &q->list, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: not a tern database (schema %d): %s",
		    path, STORE_SCHEMA_VERSION, sqlite3_errmsg(q->db));
		goto fail;
	}
	store_fadvise(path, 0);
	return q;
fail:
	query_close(q);
	return NULL;
}

void
query_close(struct query *q)
{
	if (q == NULL)
		return;
	sqlite3_finalize(q->tier_rows);
	sqlite3_finalize(q->tier_min);
	sqlite3_finalize(q->raw_min);
	sqlite3_finalize(q->list);
	raw_close(q->raw);
	raw_result_free(&q->res);
	sqlite3_close(q->db);
	free(q->rows);
	free(q);
}

void
query_result_free(struct query_result *r)
{
	free(r->pts);
	memset(r, 0, sizeof(*r));
}

static struct row *
row_add(struct query *q)
{
	struct row	*nr;
	size_t		 ncap;

	if (q->nrows == q->rowcap) {
		ncap = q->rowcap ? q->rowcap * 2 : 1024;
		if ((nr = realloc(q->rows, ncap * sizeof(*nr))) == NULL)
			return NULL;
		q->rows = nr;
		q->rowcap = ncap;
	}
	return &q->rows[q->nrows++];
}

/*
 * Appends tier ti's rows with start in [from, to]; returns the end of the
 * last one (from if none), or -1 on error.
 */
static int64_t
rows_from_tier(struct query *q, uint32_t ti, int64_t series, int64_t from,
    int64_t to, char *err, size_t errlen)
{
	sqlite3_stmt	*st = q->tier_rows;
	int64_t		 b = q->c.tiers[ti].bucket_ms, end = from;
	struct row	*r;
	int		 rc;

	sqlite3_bind_int64(st, 1, b);
	sqlite3_bind_int64(st, 2, series);
	sqlite3_bind_int64(st, 3, store_div_floor(from, b));
	sqlite3_bind_int64(st, 4, store_div_floor(to, b));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = row_add(q)) == NULL) {
			sqlite3_reset(st);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		r->start = sqlite3_column_int64(st, 0);
		r->width = b;
		r->count = sqlite3_column_int64(st, 1);
		r->sum = sqlite3_column_double(st, 2);
		r->min = sqlite3_column_double(st, 3);
		r->max = sqlite3_column_double(st, 4);
		end = r->start + b;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "tier %s: %s", q->c.tiers[ti].name,
		    sqlite3_errmsg(q->db));
		return -1;
	}
	return end;
}

/* Appends raw samples in [from, to] as rows of width 1. */
static int
rows_from_raw(struct query *q, int64_t series, int64_t from, int64_t to,
    char *err, size_t errlen)
{
	struct row	*r;
	long		 n, i;

	if (from > to)
		return 0;
	if ((n = raw_read(q->raw, series, from, to, 0, &q->res, err,
	    errlen)) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if ((r = row_add(q)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		r->start = q->res.ts[i];
		r->width = 1;
		r->count = 1;
		r->sum = r->min = r->max = q->res.v[i];
	}
	return 0;
}

/*
 * Gathers rows for [from, to] starting at tier level lvl (0 = raw,
 * 1..ntiers = tiers), then finer levels for the uncovered tail.
 */
static int
gather(struct query *q, int lvl, int64_t series, int64_t from, int64_t to,
    int *used, char *err, size_t errlen)
{
	int64_t	end;
	size_t	before;

	*used = -1;
	for (; lvl > 0; lvl--) {
		before = q->nrows;
		end = rows_from_tier(q, (uint32_t)lvl - 1, series, from, to,
		    err, errlen);
		if (end < 0)
			return -1;
		/* The answer is named after the coarsest level that gave. */
		if (*used < 0 && q->nrows > before)
			*used = lvl;
		if (end > to)
			return 0;
		from = end;
	}
	before = q->nrows;
	if (rows_from_raw(q, series, from, to, err, errlen) == -1)
		return -1;
	if (*used < 0 && q->nrows > before)
		*used = 0;
	return 0;
}

/* The oldest timestamp the database holds for series, or 0. */
static int64_t
oldest(struct query *q, int64_t series)
{
	int64_t		best = INT64_MAX, v;
	uint32_t	i;

	sqlite3_bind_int64(q->raw_min, 1, series);
	while (sqlite3_step(q->raw_min) == SQLITE_ROW) {
		int64_t	first, last;

		if (sqlite3_column_type(q->raw_min, 0) == SQLITE_NULL ||
		    (v = sqlite3_column_int64(q->raw_min, 0)) >= best)
			continue;
		if (sqlite3_column_int64(q->raw_min, 1) != 0)
			best = v;
		else if (pack_span(sqlite3_column_blob(q->raw_min, 2),
		    (size_t)sqlite3_column_bytes(q->raw_min, 2), series,
		    &first, &last) > 0 && first < best)
			best = first;
	}
	sqlite3_reset(q->raw_min);
	for (i = 0; i < q->c.ntiers; i++) {
		sqlite3_bind_int64(q->tier_min, 1, q->c.tiers[i].bucket_ms);
		sqlite3_bind_int64(q->tier_min, 2, series);
		if (sqlite3_step(q->tier_min) == SQLITE_ROW &&
		    sqlite3_column_type(q->tier_min, 0) != SQLITE_NULL) {
			v = sqlite3_column_int64(q->tier_min, 0);
			if (v < best)
				best = v;
		}
		sqlite3_reset(q->tier_min);
	}
	return best == INT64_MAX ? 0 : best;
}

/* The level seed 001's rule picks for a range of span ms. */
static int
pick_level(const struct query *q, int64_t span)
{
	uint32_t	i;

	if (span <= q->c.raw_retention_ms || q->c.ntiers == 0)
		return 0;
	for (i = 0; i < q->c.ntiers; i++)
		if (span <= q->c.tiers[i].retention_ms)
			return (int)i + 1;
	return (int)q->c.ntiers;
}

static int
sort_rows_cmp(const void *a, const void *b)
{
	const struct row	*x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/* Groups the rows into points of step ms from `from`. */
static int
reduce(struct query *q, int64_t from, int64_t to, int64_t step,
    struct query_result *out, char *err, size_t errlen)
{
	size_t		 n = (size_t)((to - from) / step) + 1, i, k;
	struct query_point *p;

	if (n > out->cap) {
		p = realloc(out->pts, n * sizeof(*p));
		if (p == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		out->pts = p;
		out->cap = n;
	}
	for (i = 0; i < n; i++) {
		memset(&out->pts[i], 0, sizeof(out->pts[i]));
		out->pts[i].ts = from + (int64_t)i * step;
	}
	for (k = 0; k < q->nrows; k++) {
		const struct row *r = &q->rows[k];

		/* A bucket belongs to a range by its start. */
		if (r->start < from || r->start > to)
			continue;
		p = &out->pts[(r->start - from) / step];
		if (p->count == 0) {
			p->min = r->min;
			p->max = r->max;
		} else {
			if (r->min < p->min)
				p->min = r->min;
			if (r->max > p->max)
				p->max = r->max;
		}
		p->count += r->count;
		p->avg += r->sum;	/* the sum until divided below */
	}
	out->present = 0;
	for (i = 0; i < n; i++)
		if (out->pts[i].count > 0) {
			out->pts[i].avg /= (double)out->pts[i].count;
			out->present++;
		}
	out->n = n;
	return 0;
}

long
query_range(struct query *q, int64_t series, int64_t from, int64_t to,
    size_t npoints, struct query_result *out, char *err, size_t errlen)
{
	int	 lvl, want, tried;
	int64_t	 span, step, width;
	int	 order[2 * CONF_MAX_TIERS + 2], norder = 0, i;

	out->n = out->present = 0;
	if (from > to) {
		snprintf(err, errlen, "range starts after it ends");
		return -1;
	}
	span = to - from;
	want = pick_level(q, span);
	/* The preferred level, then finer ones, then coarser ones. */
	for (i = want; i >= 0; i--)
		order[norder++] = i;
	for (i = want + 1; i <= (int)q->c.ntiers; i++)
		order[norder++] = i;
	if (sqlite3_exec(q->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "begin: %s", sqlite3_errmsg(q->db));
		return -1;
	}
	lvl = -1;
	for (tried = 0; tried < norder; tried++) {
		q->nrows = 0;
		if (gather(q, order[tried], series, from, to, &lvl, err,
		    errlen) == -1) {
			sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL);
			return -1;
		}
		if (q->nrows > 0)
			break;
	}
	if (lvl < 0)
		lvl = want;
	out->oldest_ts = oldest(q, series);
	sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL);
	snprintf(out->tier, sizeof(out->tier), "%s",
	    lvl == 0 ? "raw" : q->c.tiers[lvl - 1].name);
	/* Rows from two levels may interleave at the seam. */
	if (q->nrows > 1)
		qsort(q->rows, q->nrows, sizeof(*q->rows), sort_rows_cmp);

	/*
	 * A point is never narrower than the tier's bucket, nor than the
	 * raw sampling interval: otherwise every other slot of a 10 s series
	 * drawn at 5 s would be a gap that is not one.
	 */
	width = lvl == 0 ? 1 : q->c.tiers[lvl - 1].bucket_ms;
	if (lvl == 0 && q->nrows > 1)
		width = (q->rows[q->nrows - 1].start - q->rows[0].start) /
		    (int64_t)(q->nrows - 1);
	if (width < 1)
		width = 1;
	if (npoints == 0)
		step = width;
	else {
		step = span / (int64_t)npoints + 1;
		if (step < width)
			step = width;
	}
	out->step_ms = step;
	if (reduce(q, from, to, step, out, err, errlen) == -1)
		return -1;
	return (long)out->n;
}

long
query_list(struct query *q, const char *device, const char *name,
    const char *labels, void (*fn)(const struct query_series *, void *),
    void *arg, char *err, size_t errlen)
{
	struct query_series	 s;
	long			 n = 0;
	int			 rc;

	sqlite3_bind_text(q->list, 1, device ? device : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(q->list, 2, name ? name : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(q->list, 3, labels ? labels : "", -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q->list)) == SQLITE_ROW) {
		s.id = sqlite3_column_int64(q->list, 0);
		s.device = (const char *)sqlite3_column_text(q->list, 1);
		s.name = (const char *)sqlite3_column_text(q->list, 2);
		s.labels = (const char *)sqlite3_column_text(q->list, 3);
		fn(&s, arg);
		n++;
	}
	sqlite3_reset(q->list);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "list series: %s", sqlite3_errmsg(q->db));
		return -1;
	}
	return n;
}

int64_t
query_find(struct query *q, const char *device, const char *spec, char *err,
    size_t errlen)
{
	struct label		 labels[BODY_MAX_LABELS];
	struct series_ref	 ref;
	char			 name[BODY_MAX_NAME + 1], inner[2048];
	char			 buf[2048], canon[SERIES_KEY_MAX];
	const char		*brace = strchr(spec, '{');
	size_t			 nl;
	int			 n = 0;

	nl = brace ? (size_t)(brace - spec) : strlen(spec);
	if (nl == 0 || nl > BODY_MAX_NAME) {
		snprintf(err, errlen, "series '%s': no metric name", spec);
		return -1;
	}
	memcpy(name, spec, nl);
	name[nl] = '\0';
	if (brace != NULL) {
		size_t	il = strlen(brace + 1);

		if (il == 0 || brace[il] != '}' || il >= sizeof(inner)) {
			snprintf(err, errlen, "series '%s': labels must end "
			    "with }", spec);
			return -1;
		}
		memcpy(inner, brace + 1, il - 1);
		inner[il - 1] = '\0';
		if ((n = series_labels_parse(inner, labels, BODY_MAX_LABELS,
		    buf, sizeof(buf))) < 0) {
			snprintf(err, errlen, "series '%s': labels are not "
			    "k=\"v\",...", spec);
			return -1;
		}
	}
	ref.name = PSTR(name);
	ref.nlabels = (uint32_t)n;
	ref.labels = labels;
	if (series_labels_text(&ref, canon, sizeof(canon), err, errlen) < 0)
		return -1;
	return raw_series_id(q->raw, device, name, canon, err, errlen);
}
