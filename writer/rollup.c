/*
 * rollup.c -- see rollup.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "read.h"
#include "rollup.h"

/* Series steps one rollup transaction takes at most (rollup_step says
 * why); with max_buckets, this bounds its time. */
#define ROLLUP_TXN_STEPS	64

_Static_assert(CONF_MAX_TIERS <= SERIES_MAX_TIERS,
    "struct series must hold a watermark per tier");

struct agg {
	int64_t	bucket;
	int64_t	count;
	double	sum, min, max, last;
	int64_t	last_ts;	/* a raw sample's ts, or a child bucket's start */
};

/* The two passes over a tier: late samples' marks, then new samples. */
enum { PASS_DIRTY, PASS_NEW };

struct rollup {
	struct store		*store;
	struct series_table	*series;
	struct raw_reader	*raw;
	struct conf_tier	 tiers[CONF_MAX_TIERS];
	uint32_t		 ntiers;
	int64_t			 cursor;	/* last series stepped */
	uint32_t		 cur_tier;
	int			 pass;

	sqlite3_stmt		*mark, *next_series, *dirty_buckets;
	sqlite3_stmt		*children, *put, *del_row, *clear, *pending;
	sqlite3_stmt		*del_range, *set_rolled, *load_rolled;
	sqlite3_stmt		*add_tier;
	sqlite3_stmt		*first_raw, *first_child;

	struct raw_result	 res;
	struct agg		*aggs;
	size_t			 aggcap;
};

static int
prep(struct rollup *r, sqlite3_stmt **st, const char *sql, char *err,
    size_t errlen)
{
	if (sqlite3_prepare_v3(r->store->db, sql, -1,
	    SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "rollup: %s", sqlite3_errmsg(r->store->db));
		return -1;
	}
	return 0;
}

static int
fail(struct rollup *r, const char *what)
{
	r->store->rc = sqlite3_extended_errcode(r->store->db);
	snprintf(r->store->err, sizeof(r->store->err), "rollup: %s: %s", what,
	    sqlite3_errmsg(r->store->db));
	return -1;
}

static int
step_done(struct rollup *r, sqlite3_stmt *st, const char *what)
{
	int	rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : fail(r, what);
}

/* Start of the bucket of size b holding ts (floor division). */
static int64_t
bucket_of(int64_t ts, int64_t b)
{
	return store_div_floor(ts, b) * b;
}

/* Start of the first bucket of size b at or after ts. */
static int64_t
bucket_ceil(int64_t ts, int64_t b)
{
	return store_div_ceil(ts, b) * b;
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t
max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/*
 * Reads every series' watermarks from the rolled table.  A tier without a
 * row for a series (a new series, a tier added by SIGHUP) starts at
 * INT64_MIN: its first step begins at the series' oldest data.
 */
static int
load_watermarks(struct rollup *r)
{
	struct series	*s;
	int64_t		 id;
	uint32_t	 i;
	int		 rc;

	for (id = 1; id <= r->series->max_id; id++)
		if ((s = series_by_id(r->series, id)) != NULL)
			for (i = 0; i < SERIES_MAX_TIERS; i++)
				s->rolled[i] = INT64_MIN;
	while ((rc = sqlite3_step(r->load_rolled)) == SQLITE_ROW) {
		int64_t	tier = sqlite3_column_int64(r->load_rolled, 0);

		s = series_by_id(r->series,
		    sqlite3_column_int64(r->load_rolled, 1));
		for (i = 0; s != NULL && i < r->ntiers; i++)
			if (r->tiers[i].bucket_ms == tier)
				s->rolled[i] = sqlite3_column_int64(
				    r->load_rolled, 2);
	}
	sqlite3_reset(r->load_rolled);
	return rc == SQLITE_DONE ? 0 : fail(r, "load watermarks");
}

int
rollup_set_tiers(struct rollup *r, const struct conf_writer *c)
{
	uint32_t	i;

	memcpy(r->tiers, c->tiers, sizeof(r->tiers));
	r->ntiers = c->ntiers;
	/* Every tier's rows need its id (store.h); a new tier gets the
	 * next one, ids of tiers no longer configured stay with their rows. */
	for (i = 0; i < r->ntiers; i++) {
		sqlite3_bind_int64(r->add_tier, 1, r->tiers[i].bucket_ms);
		if (step_done(r, r->add_tier, "register tier") == -1)
			return -1;
	}
	r->cur_tier = 0;
	r->pass = PASS_DIRTY;
	r->cursor = 0;
	return load_watermarks(r);
}

struct rollup *
rollup_new(struct store *store, struct series_table *series,
    const struct conf_writer *c, char *err, size_t errlen)
{
	struct rollup	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->store = store;
	r->series = series;
	if ((r->raw = raw_wrap(store->db, err, errlen)) == NULL ||
	    prep(r, &r->mark, "INSERT OR IGNORE INTO dirty (tier, series, "
	    "bucket) VALUES (?, ?, ?)", err, errlen) == -1 ||
	    prep(r, &r->next_series, "SELECT series FROM dirty WHERE tier = ?1 "
	    "AND series > ?2 AND bucket < ?3 ORDER BY series LIMIT 1", err,
	    errlen) == -1 ||
	    prep(r, &r->dirty_buckets, "SELECT bucket FROM dirty WHERE tier = "
	    "?1 AND series = ?2 AND bucket < ?3 ORDER BY bucket LIMIT ?4", err,
	    errlen) == -1 ||
	    /* Tier rows by bucket index (store.h); the `buckets` view's
	     * coalesce, inline so that the key range is an index range. */
	    prep(r, &r->children, "SELECT b * ?1, count, sum, coalesce(min, "
	    "sum), coalesce(max, min, sum), coalesce(last, max, min, sum) "
	    "FROM tier_rows WHERE tid = " STORE_TIER_ID_SQL("?1") " AND "
	    "series = ?2 AND b >= ?3 AND b < ?4 ORDER BY b", err, errlen)
	    == -1 ||
	    prep(r, &r->put, "INSERT OR REPLACE INTO tier_rows (tid, series, "
	    "b, count, sum, min, max, last) VALUES (" STORE_TIER_ID_SQL("?1")
	    ", ?2, ?3, ?4, ?5, ?6, ?7, ?8)", err, errlen) == -1 ||
	    prep(r, &r->del_row, "DELETE FROM tier_rows WHERE tid = "
	    STORE_TIER_ID_SQL("?1") " AND series = ?2 AND b = ?3", err,
	    errlen) == -1 ||
	    prep(r, &r->del_range, "DELETE FROM tier_rows WHERE tid = "
	    STORE_TIER_ID_SQL("?1") " AND series = ?2 AND b >= ?3 AND b < ?4",
	    err, errlen) == -1 ||
	    prep(r, &r->clear, "DELETE FROM dirty WHERE tier = ?1 AND series = "
	    "?2 AND bucket >= ?3 AND bucket <= ?4", err, errlen) == -1 ||
	    prep(r, &r->pending, "SELECT count(*) FROM dirty WHERE bucket + "
	    "tier <= ?1", err, errlen) == -1 ||
	    prep(r, &r->set_rolled, "INSERT OR REPLACE INTO rolled (tier, "
	    "series, upto) VALUES (?, ?, ?)", err, errlen) == -1 ||
	    prep(r, &r->load_rolled, "SELECT tier, series, upto FROM rolled",
	    err, errlen) == -1 ||
	    /* A chunk that ends at or after from holds the first sample at
	     * or after from, or starts after it.  A packed head row (series
	     * 0) may hold none of the series: its t0 is a lower bound, which
	     * is all first_at's callers need (they skip what is empty). */
	    prep(r, &r->first_raw, "SELECT min(m) FROM (SELECT max(min(t0), "
	    "?2) AS m FROM chunk WHERE series = ?1 AND t1 >= ?2 UNION ALL "
	    "SELECT max(min(t0), ?2) FROM head WHERE id >= "
	    STORE_HEAD_KEY_SQL("?2") " AND t1 >= ?2 AND series IN (0, ?1))",
	    err, errlen) == -1 ||
	    prep(r, &r->add_tier, "INSERT OR IGNORE INTO tier_ids (id, "
	    "bucket_ms) VALUES ((SELECT coalesce(max(id) + 1, 0) FROM "
	    "tier_ids), ?1)", err, errlen) == -1 ||
	    prep(r, &r->first_child, "SELECT min(b) * ?1 FROM tier_rows WHERE "
	    "tid = " STORE_TIER_ID_SQL("?1") " AND series = ?2 AND b >= ?3",
	    err, errlen) == -1) {
		rollup_free(r);
		return NULL;
	}
	if (rollup_set_tiers(r, c) == -1) {
		snprintf(err, errlen, "%s", store->err);
		rollup_free(r);
		return NULL;
	}
	return r;
}

void
rollup_free(struct rollup *r)
{
	if (r == NULL)
		return;
	sqlite3_finalize(r->mark);
	sqlite3_finalize(r->next_series);
	sqlite3_finalize(r->dirty_buckets);
	sqlite3_finalize(r->children);
	sqlite3_finalize(r->put);
	sqlite3_finalize(r->del_row);
	sqlite3_finalize(r->del_range);
	sqlite3_finalize(r->add_tier);
	sqlite3_finalize(r->clear);
	sqlite3_finalize(r->pending);
	sqlite3_finalize(r->set_rolled);
	sqlite3_finalize(r->load_rolled);
	sqlite3_finalize(r->first_raw);
	sqlite3_finalize(r->first_child);
	raw_close(r->raw);
	raw_result_free(&r->res);
	free(r->aggs);
	free(r);
}

int
rollup_mark(struct rollup *r, struct series *s, const int64_t *ts, size_t n)
{
	int64_t	b0, bk;
	size_t	i;

	if (r->ntiers == 0)
		return 0;
	b0 = r->tiers[0].bucket_ms;
	for (i = 0; i < n; i++) {
		/* At or past the watermark: the next pass takes it anyway. */
		if (s->rolled[0] == INT64_MIN || ts[i] >= s->rolled[0])
			continue;
		bk = bucket_of(ts[i], b0);
		if (bk == s->dirty_bucket)
			continue;
		sqlite3_bind_int64(r->mark, 1, b0);
		sqlite3_bind_int64(r->mark, 2, s->id);
		sqlite3_bind_int64(r->mark, 3, bk);
		if (step_done(r, r->mark, "mark") == -1)
			return -1;
		/* A backfill arrives in order, so remembering the newest
		 * bucket catches nearly every repeat. */
		if (bk > s->dirty_bucket)
			s->dirty_bucket = bk;
	}
	return 0;
}

void
rollup_forget(struct series *s)
{
	s->dirty_bucket = INT64_MIN;
}

int
rollup_too_late(struct rollup *r, struct series *s, int64_t ts, int64_t now)
{
	uint32_t	i;
	int64_t		b;
	int		rc;

	for (i = 0; i < r->ntiers; i++) {
		b = bucket_of(ts, r->tiers[i].bucket_ms);
		/* A bucket made from its children is recomputed whole. */
		if (i > 0 && b >= now - r->tiers[i - 1].retention_ms)
			continue;
		if ((rc = store_has_bucket(r->store, r->tiers[i].bucket_ms,
		    s->id, b)) != 0)
			return rc;
	}
	return 0;
}

static int
agg_reserve(struct rollup *r, size_t n)
{
	struct agg	*na;
	size_t		 ncap = r->aggcap ? r->aggcap : 256;

	if (n <= r->aggcap)
		return 0;
	while (ncap < n)
		ncap *= 2;
	if ((na = realloc(r->aggs, ncap * sizeof(*na))) == NULL) {
		r->store->rc = SQLITE_NOMEM;
		snprintf(r->store->err, sizeof(r->store->err),
		    "rollup: out of memory");
		return -1;
	}
	r->aggs = na;
	r->aggcap = ncap;
	return 0;
}

static void
agg_add(struct agg *a, int64_t count, double sum, double min, double max,
    double last, int64_t last_ts)
{
	if (a->count == 0) {
		a->min = min;
		a->max = max;
		a->last = last;
		a->last_ts = last_ts;
	} else {
		/* fmin/fmax would hide a NaN; a NaN sample makes the bucket's
		 * extremes NaN, as it makes its sum NaN. */
		if (min < a->min || isnan(min))
			a->min = min;
		if (max > a->max || isnan(max))
			a->max = max;
		if (last_ts >= a->last_ts) {
			a->last = last;
			a->last_ts = last_ts;
		}
	}
	a->count += count;
	a->sum += sum;
}

/*
 * Where tier ti's bucket starting at bucket is made from: the tier below
 * while that tier still holds every child of it, otherwise the raw
 * samples (a backfill older than the tier below keeps).  1 raw, 0 tier.
 */
static int
from_raw_source(const struct rollup *r, uint32_t ti, int64_t bucket,
    int64_t now)
{
	return ti == 0 || bucket < now - r->tiers[ti - 1].retention_ms;
}

/*
 * Raw samples a step may read when a tier is made from raw: the span of
 * max_buckets finest buckets, rounded down to whole buckets of b, at
 * least one.
 */
static int64_t
raw_span(const struct rollup *r, int64_t b, int max_buckets)
{
	int64_t	span = r->tiers[0].bucket_ms * max_buckets;

	return span < b ? b : span / b * b;
}

/*
 * Aggregates the buckets r->aggs[0..n) (ascending, preset, zero counts)
 * of size b from the raw samples in their span.
 */
static int
agg_raw_list(struct rollup *r, int64_t series, int64_t b, size_t n)
{
	char	 err[256];
	long	 got, i;
	size_t	 k = 0;
	int64_t	 from = r->aggs[0].bucket, to = r->aggs[n - 1].bucket + b - 1;

	got = raw_read(r->raw, series, from, to, 0, &r->res, err, sizeof(err));
	if (got < 0) {
		r->store->rc = SQLITE_ERROR;
		snprintf(r->store->err, sizeof(r->store->err), "rollup: %s",
		    err);
		return -1;
	}
	/* Both lists ascend: one merge walk. */
	for (i = 0; i < got && k < n; i++) {
		while (k < n && r->res.ts[i] >= r->aggs[k].bucket + b)
			k++;
		if (k == n)
			break;
		if (r->res.ts[i] < r->aggs[k].bucket)
			continue;	/* in a bucket that is not asked for */
		agg_add(&r->aggs[k], 1, r->res.v[i], r->res.v[i], r->res.v[i],
		    r->res.v[i], r->res.ts[i]);
	}
	return 0;
}

/* The same from the rows of the tier below (bucket size child). */
static int
agg_child_list(struct rollup *r, int64_t series, int64_t child, int64_t b,
    size_t n)
{
	sqlite3_stmt	*st = r->children;
	size_t		 k = 0;
	int		 rc;

	sqlite3_bind_int64(st, 1, child);
	sqlite3_bind_int64(st, 2, series);
	sqlite3_bind_int64(st, 3, store_div_ceil(r->aggs[0].bucket, child));
	sqlite3_bind_int64(st, 4, store_div_ceil(r->aggs[n - 1].bucket + b,
	    child));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t	cb = sqlite3_column_int64(st, 0);

		while (k < n && cb >= r->aggs[k].bucket + b)
			k++;
		if (k == n)
			break;
		if (cb < r->aggs[k].bucket)
			continue;
		/* Children never overlap: the newest one's last is the
		 * parent's, so its start orders them. */
		agg_add(&r->aggs[k], sqlite3_column_int64(st, 1),
		    sqlite3_column_double(st, 2), sqlite3_column_double(st, 3),
		    sqlite3_column_double(st, 4), sqlite3_column_double(st, 5),
		    cb);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(r, "read children");
	return 0;
}

/* Appends to r->aggs the bucket of size b holding ts, if it is new. */
static struct agg *
agg_at(struct rollup *r, size_t *n, int64_t ts, int64_t b)
{
	int64_t	bk = bucket_of(ts, b);

	if (*n > 0 && r->aggs[*n - 1].bucket == bk)
		return &r->aggs[*n - 1];
	if (agg_reserve(r, *n + 1) == -1)
		return NULL;
	memset(&r->aggs[*n], 0, sizeof(r->aggs[*n]));
	r->aggs[*n].bucket = bk;
	return &r->aggs[(*n)++];
}

/*
 * Aggregates every non-empty bucket of size b in [lo, hi) into r->aggs
 * from raw samples (raw 1) or the tier below; *n is how many.
 */
static int
agg_range(struct rollup *r, uint32_t ti, int64_t series, int64_t lo,
    int64_t hi, int raw, size_t *n)
{
	int64_t		 b = r->tiers[ti].bucket_ms, child;
	struct agg	*a;
	char		 err[256];
	long		 got, i;
	int		 rc;

	*n = 0;
	if (raw) {
		got = raw_read(r->raw, series, lo, hi - 1, 0, &r->res, err,
		    sizeof(err));
		if (got < 0) {
			r->store->rc = SQLITE_ERROR;
			snprintf(r->store->err, sizeof(r->store->err),
			    "rollup: %s", err);
			return -1;
		}
		for (i = 0; i < got; i++) {
			if ((a = agg_at(r, n, r->res.ts[i], b)) == NULL)
				return -1;
			agg_add(a, 1, r->res.v[i], r->res.v[i], r->res.v[i],
			    r->res.v[i], r->res.ts[i]);
		}
		return 0;
	}
	child = r->tiers[ti - 1].bucket_ms;
	sqlite3_bind_int64(r->children, 1, child);
	sqlite3_bind_int64(r->children, 2, series);
	sqlite3_bind_int64(r->children, 3, store_div_ceil(lo, child));
	sqlite3_bind_int64(r->children, 4, store_div_ceil(hi, child));
	while ((rc = sqlite3_step(r->children)) == SQLITE_ROW) {
		if ((a = agg_at(r, n, sqlite3_column_int64(r->children, 0),
		    b)) == NULL) {
			sqlite3_reset(r->children);
			return -1;
		}
		agg_add(a, sqlite3_column_int64(r->children, 1),
		    sqlite3_column_double(r->children, 2),
		    sqlite3_column_double(r->children, 3),
		    sqlite3_column_double(r->children, 4),
		    sqlite3_column_double(r->children, 5),
		    sqlite3_column_int64(r->children, 0));
	}
	sqlite3_reset(r->children);
	if (rc != SQLITE_DONE)
		return fail(r, "read children");
	return 0;
}

/* Binds v, or NULL if may and v is the same double as as. */
static void
bind_unless_same(sqlite3_stmt *st, int col, double v, int may, double as)
{
	if (may && memcmp(&v, &as, sizeof(v)) == 0)
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_double(st, col, v);
}

/* Writes aggregate a of tier ti, or deletes its row if it is empty. */
static int
put_agg(struct rollup *r, uint32_t ti, int64_t series, const struct agg *a)
{
	sqlite3_stmt	*st = a->count > 0 ? r->put : r->del_row;

	sqlite3_bind_int64(st, 1, r->tiers[ti].bucket_ms);
	sqlite3_bind_int64(st, 2, series);
	sqlite3_bind_int64(st, 3, store_div_floor(a->bucket,
	    r->tiers[ti].bucket_ms));
	if (a->count > 0) {
		/* NULL where the `buckets` view restores the value (migration
		 * 6 -> 7): min of one sample, max equal to min, last equal to
		 * max -- equal to the bit, so -0.0 and NaNs survive. */
		sqlite3_bind_int64(st, 4, a->count);
		sqlite3_bind_double(st, 5, a->sum);
		bind_unless_same(st, 6, a->min, a->count == 1, a->sum);
		bind_unless_same(st, 7, a->max, 1, a->min);
		bind_unless_same(st, 8, a->last, 1, a->max);
	}
	return step_done(r, st, "write bucket");
}

static int
clear_marks(struct rollup *r, uint32_t ti, int64_t series, int64_t from,
    int64_t to)
{
	sqlite3_bind_int64(r->clear, 1, r->tiers[ti].bucket_ms);
	sqlite3_bind_int64(r->clear, 2, series);
	sqlite3_bind_int64(r->clear, 3, from);
	sqlite3_bind_int64(r->clear, 4, to);
	return step_done(r, r->clear, "clear marks");
}

/*
 * Late samples: writes the recomputed dirty buckets r->aggs[0..n), marks
 * their parents, clears the marks.  Buckets older than the tier keeps
 * are not written (retention would delete them) but still mark parents.
 */
static int
write_dirty(struct rollup *r, uint32_t ti, int64_t series, size_t n,
    int64_t now)
{
	int64_t	pb, last_parent = INT64_MIN;
	size_t	i;

	for (i = 0; i < n; i++) {
		struct agg	*a = &r->aggs[i];

		if (a->bucket >= now - r->tiers[ti].retention_ms &&
		    put_agg(r, ti, series, a) == -1)
			return -1;
		if (ti + 1 < r->ntiers) {
			pb = bucket_of(a->bucket, r->tiers[ti + 1].bucket_ms);
			if (pb == last_parent)
				continue;
			last_parent = pb;
			sqlite3_bind_int64(r->mark, 1, r->tiers[ti + 1].bucket_ms);
			sqlite3_bind_int64(r->mark, 2, series);
			sqlite3_bind_int64(r->mark, 3, pb);
			if (step_done(r, r->mark, "mark parent") == -1)
				return -1;
		}
	}
	return clear_marks(r, ti, series, r->aggs[0].bucket,
	    r->aggs[n - 1].bucket);
}

/*
 * Finds the next series with complete dirty buckets in tier ti after the
 * cursor; 1 found (*series set), 0 none, -1 error.
 */
static int
next_dirty_series(struct rollup *r, uint32_t ti, int64_t cutoff,
    int64_t *series)
{
	int	rc;

	sqlite3_bind_int64(r->next_series, 1, r->tiers[ti].bucket_ms);
	sqlite3_bind_int64(r->next_series, 2, r->cursor);
	sqlite3_bind_int64(r->next_series, 3, cutoff);
	rc = sqlite3_step(r->next_series);
	if (rc == SQLITE_ROW)
		*series = sqlite3_column_int64(r->next_series, 0);
	sqlite3_reset(r->next_series);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : fail(r, "find dirty series");
}

/*
 * One step of the dirty pass of tier ti: recomputes up to max_buckets of
 * the next dirty series' complete buckets.  Returns buckets done, 0 if no
 * series is left, -1.
 */
static int
dirty_step(struct rollup *r, uint32_t ti, int64_t now, int max_buckets)
{
	int64_t	b = r->tiers[ti].bucket_ms, cutoff = bucket_of(now, b);
	int64_t	series = 0;
	size_t	n = 0, i;
	int	rc, raw;

	if ((rc = next_dirty_series(r, ti, cutoff, &series)) <= 0)
		return rc;
	r->cursor = series;
	sqlite3_bind_int64(r->dirty_buckets, 1, b);
	sqlite3_bind_int64(r->dirty_buckets, 2, series);
	sqlite3_bind_int64(r->dirty_buckets, 3, cutoff);
	sqlite3_bind_int(r->dirty_buckets, 4, max_buckets);
	while ((rc = sqlite3_step(r->dirty_buckets)) == SQLITE_ROW) {
		if (agg_reserve(r, n + 1) == -1) {
			sqlite3_reset(r->dirty_buckets);
			return -1;
		}
		memset(&r->aggs[n], 0, sizeof(r->aggs[n]));
		r->aggs[n++].bucket = sqlite3_column_int64(r->dirty_buckets, 0);
	}
	sqlite3_reset(r->dirty_buckets);
	if (rc != SQLITE_DONE)
		return fail(r, "read dirty buckets");
	if (n == 0)
		return 1;
	/* One source per step, and a bounded span of raw samples. */
	raw = from_raw_source(r, ti, r->aggs[0].bucket, now);
	for (i = 1; i < n; i++)
		if (from_raw_source(r, ti, r->aggs[i].bucket, now) != raw ||
		    (raw && r->aggs[i].bucket - r->aggs[0].bucket >=
		    raw_span(r, b, max_buckets)))
			break;
	/* A series with more due than this step takes stays current. */
	if (i < n || n == (size_t)max_buckets)
		r->cursor = series - 1;
	n = i;
	if (raw)
		rc = agg_raw_list(r, series, b, n);
	else
		rc = agg_child_list(r, series, r->tiers[ti - 1].bucket_ms, b, n);
	if (rc == -1 || write_dirty(r, ti, series, n, now) == -1)
		return -1;
	if (ti == 0) {
		struct series	*s = series_by_id(r->series, series);

		/* A sample for a bucket already rolled must mark it again. */
		for (i = 0; s != NULL && i < n; i++)
			if (r->aggs[i].bucket == s->dirty_bucket)
				rollup_forget(s);
	}
	return (int)n;
}

/*
 * The complete buckets of tier ti that s has not rolled: [*lo, *hi), *lo
 * INT64_MIN if the tier has never run for s.  1 if there are some that may
 * hold data, 0 if not.  *hi is also where the tier's watermark could be
 * when nothing is due, which is how far the tier above may go.
 */
static int
new_range(const struct rollup *r, const struct series *s, uint32_t ti,
    int64_t now, int64_t *lo, int64_t *hi)
{
	int64_t	b = r->tiers[ti].bucket_ms, clo, chi;

	*hi = bucket_of(now, b);
	if (ti > 0) {
		/* Only buckets whose children are all rolled: up to the tier
		 * below's watermark, or as far as it could go if it has
		 * nothing left to do. */
		if (!new_range(r, s, ti - 1, now, &clo, &chi))
			clo = chi > s->rolled[ti - 1] ? chi : s->rolled[ti - 1];
		if (clo == INT64_MIN)
			*hi = INT64_MIN;
		else if (bucket_of(clo, b) < *hi)
			*hi = bucket_of(clo, b);
	}
	*lo = s->rolled[ti];
	/* Nothing at or after the watermark, nothing to do: every tier's
	 * data comes from the raw samples, the newest of which is last_ts. */
	if (s->last_ts == INT64_MIN || *hi == INT64_MIN ||
	    (*lo != INT64_MIN && s->last_ts < *lo))
		return 0;
	return *lo == INT64_MIN || *lo < *hi;
}

/* The first raw sample (raw 1) or child row at or after from, INT64_MAX
 * if none. */
static int
first_at(struct rollup *r, uint32_t ti, int64_t series, int64_t from,
    int raw, int64_t *out)
{
	sqlite3_stmt	*st = raw ? r->first_raw : r->first_child;
	int		 rc;

	if (raw) {
		sqlite3_bind_int64(st, 1, series);
		sqlite3_bind_int64(st, 2, from);
	} else {
		sqlite3_bind_int64(st, 1, r->tiers[ti - 1].bucket_ms);
		sqlite3_bind_int64(st, 2, series);
		sqlite3_bind_int64(st, 3, store_div_ceil(from,
		    r->tiers[ti - 1].bucket_ms));
	}
	rc = sqlite3_step(st);
	*out = INT64_MAX;
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(r, "first");
}

/*
 * One step of the new-samples pass for series s in tier ti: recomputes the
 * next stretch of its unrolled range and moves its watermark past it, in
 * one transaction.  Returns >0 if it moved the watermark, 0 if nothing was
 * due, -1.
 */
static int
new_step(struct rollup *r, struct series *s, uint32_t ti, int64_t now,
    int max_buckets)
{
	int64_t	b = r->tiers[ti].bucket_ms, lo, hi, top, first, keep;
	size_t	n, i;
	int	raw;

	if (!new_range(r, s, ti, now, &lo, &hi))
		return 0;
	if (lo == INT64_MIN) {
		/* Never run: from the oldest data there is. */
		int64_t	f2 = INT64_MAX;

		if (first_at(r, ti, s->id, INT64_MIN, 1, &first) == -1 ||
		    (ti > 0 && first_at(r, ti, s->id, INT64_MIN, 0, &f2) == -1))
			return -1;
		first = min64(first, f2);
		if (first == INT64_MAX)
			return 0;
		lo = bucket_of(first, b);
		if (lo >= hi) {
			/* Nothing complete yet.  Nothing before lo is rolled
			 * either, so lo is a true watermark; kept in memory
			 * only, the next start finds it again. */
			s->rolled[ti] = lo;
			return 0;
		}
	}
	/* Buckets older than the tier keeps are not made at all. */
	keep = bucket_ceil(now - r->tiers[ti].retention_ms, b);
	if (lo < keep)
		lo = min64(keep, hi);
	top = hi;
	raw = lo < hi && from_raw_source(r, ti, lo, now);
	if (raw && ti > 0)
		top = min64(hi, bucket_ceil(now - r->tiers[ti - 1].retention_ms,
		    b));
	/* Bounded: skip an empty stretch, then take at most a span. */
	if (lo < top) {
		int64_t	span = raw ? raw_span(r, b, max_buckets) :
		    b * max_buckets;

		if (top - lo > span) {
			if (first_at(r, ti, s->id, lo, raw, &first) == -1)
				return -1;
			lo = first >= top ? top : max64(lo, bucket_of(first, b));
			top = min64(top, lo + span);
		}
	}
	n = 0;
	if (lo < top && agg_range(r, ti, s->id, lo, top, raw, &n) == -1)
		return -1;
	sqlite3_bind_int64(r->del_range, 1, b);
	sqlite3_bind_int64(r->del_range, 2, s->id);
	sqlite3_bind_int64(r->del_range, 3, store_div_ceil(lo, b));
	sqlite3_bind_int64(r->del_range, 4, store_div_ceil(top, b));
	if (lo < top && step_done(r, r->del_range, "clear range") == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (put_agg(r, ti, s->id, &r->aggs[i]) == -1)
			return -1;
	if (lo < top && clear_marks(r, ti, s->id, lo, top - 1) == -1)
		return -1;
	sqlite3_bind_int64(r->set_rolled, 1, b);
	sqlite3_bind_int64(r->set_rolled, 2, s->id);
	sqlite3_bind_int64(r->set_rolled, 3, top);
	if (step_done(r, r->set_rolled, "watermark") == -1)
		return -1;
	/* Ahead of the commit; rollup_step reloads it if that fails. */
	s->rolled[ti] = top;
	return n > 0 ? (int)n : 1;
}

/*
 * One series' work: a dirty step or a new-samples step of the tier in
 * turn.  Returns buckets done (at least 1 if anything moved), 0 when every
 * tier is done, -1.
 */
static int
series_step(struct rollup *r, int64_t now_ms, int max_buckets)
{
	struct series	*s;
	uint32_t	 tried;
	int		 rc;

	for (tried = 0; tried <= 2 * r->ntiers + 1; tried++) {
		uint32_t	ti = r->cur_tier;

		if (ti >= r->ntiers) {
			r->cur_tier = 0;
			r->pass = PASS_DIRTY;
			r->cursor = 0;
			continue;
		}
		if (r->pass == PASS_DIRTY) {
			if ((rc = dirty_step(r, ti, now_ms, max_buckets)) != 0)
				return rc;
			r->pass = PASS_NEW;
			r->cursor = 0;
			continue;
		}
		while (r->cursor < r->series->max_id) {
			r->cursor++;
			if ((s = series_by_id(r->series, r->cursor)) == NULL)
				continue;
			if ((rc = new_step(r, s, ti, now_ms, max_buckets)) != 0) {
				/* Stay on a series until it is done. */
				r->cursor--;
				return rc;
			}
		}
		/* This tier is done; its parents may now be due. */
		r->cur_tier++;
		r->pass = PASS_DIRTY;
		r->cursor = 0;
	}
	return 0;
}

/*
 * Series steps share a transaction, up to max_buckets buckets or
 * ROLLUP_TXN_STEPS steps.  A transaction's own writes -- the `rolled`
 * table's page, the tier's interior pages, the pointer map -- cost the
 * same for one series as for sixty, and a transaction per series wrote
 * them for each of a run's 255 (some 9 pages a series: the first run
 * after a restart of seed 001's installation wrote 9.8 MB, in shared
 * transactions 1.2 MB; /proc/PID/io).  A failed step leaves nothing: the
 * transaction is rolled back and the watermarks the steps moved in memory
 * are read back from the database.  The error reported stays the step's;
 * a read that fails too leaves watermarks at INT64_MIN, which only makes
 * the next steps start from a series' oldest data.
 */
int
rollup_step(struct rollup *r, int64_t now_ms, int max_buckets)
{
	char	why[sizeof(r->store->err)];
	int	done = 0, steps = 0, rc, why_rc;

	if (store_begin(r->store) == -1)
		return -1;
	while (done < max_buckets && steps < ROLLUP_TXN_STEPS) {
		if ((rc = series_step(r, now_ms, max_buckets - done)) < 0)
			goto fail;
		if (rc == 0)
			break;
		done += rc;
		steps++;
	}
	if (store_commit(r->store) == -1)
		goto fail;
	return done;
fail:
	store_rollback(r->store);
	why_rc = r->store->rc;
	memcpy(why, r->store->err, sizeof(why));
	(void)load_watermarks(r);
	r->store->rc = why_rc;
	memcpy(r->store->err, why, sizeof(why));
	return -1;
}

int64_t
rollup_pending(struct rollup *r, int64_t now_ms)
{
	struct series	*s;
	int64_t		 n = 0, id, lo, hi;
	uint32_t	 i;

	sqlite3_bind_int64(r->pending, 1, now_ms);
	if (sqlite3_step(r->pending) == SQLITE_ROW)
		n = sqlite3_column_int64(r->pending, 0);
	sqlite3_reset(r->pending);
	for (id = 1; id <= r->series->max_id; id++) {
		if ((s = series_by_id(r->series, id)) == NULL)
			continue;
		for (i = 0; i < r->ntiers; i++)
			if (new_range(r, s, i, now_ms, &lo, &hi))
				n += lo == INT64_MIN ? 1 :
				    (hi - lo) / r->tiers[i].bucket_ms;
	}
	return n;
}

void
rollup_raw_keep(const struct rollup *r, const struct series *s, int64_t now,
    int64_t *from)
{
	uint32_t	i;
	int64_t		k;

	if (r->ntiers == 0)
		return;
	*from = min64(*from, s->rolled[0]);
	for (i = 1; i < r->ntiers; i++) {
		/* A tier whose next buckets come from raw samples. */
		if (s->rolled[i] != INT64_MIN &&
		    s->rolled[i] >= now - r->tiers[i - 1].retention_ms)
			continue;
		k = s->rolled[i] == INT64_MIN ? INT64_MIN :
		    max64(s->rolled[i], now - r->tiers[i].retention_ms);
		*from = min64(*from, k);
	}
}
