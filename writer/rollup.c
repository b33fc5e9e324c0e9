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

struct agg {
	int64_t	bucket;
	int64_t	count;
	double	sum, min, max, last;
	int64_t	last_ts;
};

struct rollup {
	struct store		*store;
	struct series_table	*series;
	struct raw_reader	*raw;
	struct conf_tier	 tiers[CONF_MAX_TIERS];
	uint32_t		 ntiers;
	int64_t			 cursor;	/* last series stepped */
	uint32_t		 cur_tier;

	sqlite3_stmt		*mark, *next_series, *dirty_buckets;
	sqlite3_stmt		*children, *put, *del_row, *clear, *pending;

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

void
rollup_set_tiers(struct rollup *r, const struct conf_writer *c)
{
	memcpy(r->tiers, c->tiers, sizeof(r->tiers));
	r->ntiers = c->ntiers;
	r->cur_tier = 0;
	r->cursor = 0;
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
	rollup_set_tiers(r, c);
	if ((r->raw = raw_wrap(store->db, err, errlen)) == NULL ||
	    prep(r, &r->mark, "INSERT OR IGNORE INTO dirty (tier, series, "
	    "bucket) VALUES (?, ?, ?)", err, errlen) == -1 ||
	    prep(r, &r->next_series, "SELECT series FROM dirty WHERE tier = ?1 "
	    "AND series > ?2 AND bucket < ?3 ORDER BY series LIMIT 1", err,
	    errlen) == -1 ||
	    prep(r, &r->dirty_buckets, "SELECT bucket FROM dirty WHERE tier = "
	    "?1 AND series = ?2 AND bucket < ?3 ORDER BY bucket LIMIT ?4", err,
	    errlen) == -1 ||
	    prep(r, &r->children, "SELECT bucket, count, sum, min, max, last, "
	    "last_ts FROM tier WHERE tier = ?1 AND series = ?2 AND bucket >= ?3 "
	    "AND bucket < ?4 ORDER BY bucket", err, errlen) == -1 ||
	    prep(r, &r->put, "INSERT OR REPLACE INTO tier (tier, series, bucket, "
	    "count, sum, min, max, last, last_ts) VALUES (?, ?, ?, ?, ?, ?, ?, "
	    "?, ?)", err, errlen) == -1 ||
	    prep(r, &r->del_row, "DELETE FROM tier WHERE tier = ? AND series = ? "
	    "AND bucket = ?", err, errlen) == -1 ||
	    prep(r, &r->clear, "DELETE FROM dirty WHERE tier = ?1 AND series = "
	    "?2 AND bucket >= ?3 AND bucket <= ?4", err, errlen) == -1 ||
	    prep(r, &r->pending, "SELECT count(*) FROM dirty", err,
	    errlen) == -1) {
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
	sqlite3_finalize(r->clear);
	sqlite3_finalize(r->pending);
	raw_close(r->raw);
	raw_result_free(&r->res);
	free(r->aggs);
	free(r);
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

/* Start of the bucket of size b holding ts (ts >= 0, as the writer
 * enforces; floor division all the same). */
static int64_t
bucket_of(int64_t ts, int64_t b)
{
	int64_t	q = ts / b;

	if (ts % b != 0 && ts < 0)
		q--;
	return q * b;
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
		bk = bucket_of(ts[i], b0);
		if (bk == s->dirty_bucket)
			continue;
		sqlite3_bind_int64(r->mark, 1, b0);
		sqlite3_bind_int64(r->mark, 2, s->id);
		sqlite3_bind_int64(r->mark, 3, bk);
		if (step_done(r, r->mark, "mark") == -1)
			return -1;
		/* Samples arrive in order, so remembering the newest bucket
		 * catches nearly every repeat. */
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

static int
agg_reserve(struct rollup *r, size_t n)
{
	struct agg	*na;
	size_t		 ncap = r->aggcap ? r->aggcap : 256;

	if (n <= r->aggcap)
		return 0;
	while (ncap < n)
		ncap *= 2;
	if ((na = realloc(r->aggs, ncap * sizeof(*na))) == NULL)
		return -1;
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

/* Finest tier: from the raw samples of each dirty bucket. */
static int
from_raw(struct rollup *r, int64_t series, int64_t b, size_t n)
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
			continue;	/* in a bucket that is not dirty */
		agg_add(&r->aggs[k], 1, r->res.v[i], r->res.v[i], r->res.v[i],
		    r->res.v[i], r->res.ts[i]);
	}
	return 0;
}

/* Coarser tiers: from the rows of the tier below. */
static int
from_children(struct rollup *r, int64_t series, int64_t child, int64_t b,
    size_t n)
{
	sqlite3_stmt	*st = r->children;
	size_t		 k = 0;
	int		 rc;

	sqlite3_bind_int64(st, 1, child);
	sqlite3_bind_int64(st, 2, series);
	sqlite3_bind_int64(st, 3, r->aggs[0].bucket);
	sqlite3_bind_int64(st, 4, r->aggs[n - 1].bucket + b);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t	cb = sqlite3_column_int64(st, 0);

		while (k < n && cb >= r->aggs[k].bucket + b)
			k++;
		if (k == n)
			break;
		if (cb < r->aggs[k].bucket)
			continue;
		agg_add(&r->aggs[k], sqlite3_column_int64(st, 1),
		    sqlite3_column_double(st, 2), sqlite3_column_double(st, 3),
		    sqlite3_column_double(st, 4), sqlite3_column_double(st, 5),
		    sqlite3_column_int64(st, 6));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(r, "read children");
	return 0;
}

/* Writes the recomputed buckets, marks their parents, clears the marks. */
static int
write_step(struct rollup *r, uint32_t ti, int64_t series, size_t n)
{
	int64_t	b = r->tiers[ti].bucket_ms, pb = 0, last_parent = INT64_MIN;
	size_t	i;

	if (store_begin(r->store) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		struct agg	*a = &r->aggs[i];
		sqlite3_stmt	*st = a->count > 0 ? r->put : r->del_row;

		sqlite3_bind_int64(st, 1, b);
		sqlite3_bind_int64(st, 2, series);
		sqlite3_bind_int64(st, 3, a->bucket);
		if (a->count > 0) {
			sqlite3_bind_int64(st, 4, a->count);
			sqlite3_bind_double(st, 5, a->sum);
			sqlite3_bind_double(st, 6, a->min);
			sqlite3_bind_double(st, 7, a->max);
			sqlite3_bind_double(st, 8, a->last);
			sqlite3_bind_int64(st, 9, a->last_ts);
		}
		if (step_done(r, st, "write bucket") == -1)
			goto fail;
		if (ti + 1 < r->ntiers) {
			pb = bucket_of(a->bucket, r->tiers[ti + 1].bucket_ms);
			if (pb == last_parent)
				continue;
			last_parent = pb;
			sqlite3_bind_int64(r->mark, 1, r->tiers[ti + 1].bucket_ms);
			sqlite3_bind_int64(r->mark, 2, series);
			sqlite3_bind_int64(r->mark, 3, pb);
			if (step_done(r, r->mark, "mark parent") == -1)
				goto fail;
		}
	}
	sqlite3_bind_int64(r->clear, 1, b);
	sqlite3_bind_int64(r->clear, 2, series);
	sqlite3_bind_int64(r->clear, 3, r->aggs[0].bucket);
	sqlite3_bind_int64(r->clear, 4, r->aggs[n - 1].bucket);
	if (step_done(r, r->clear, "clear marks") == -1 ||
	    store_commit(r->store) == -1)
		goto fail;
	return 0;
fail:
	store_rollback(r->store);
	return -1;
}

/*
 * Finds the next series with complete dirty buckets in tier ti after the
 * cursor; 1 found (*series set), 0 none, -1 error.
 */
static int
next_series(struct rollup *r, uint32_t ti, int64_t cutoff, int64_t *series)
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

int
rollup_step(struct rollup *r, int64_t now_ms, int max_buckets)
{
	int64_t		 series = 0, b, cutoff;
	uint32_t	 ti, tried;
	size_t		 n = 0, i;
	int		 rc;

	for (tried = 0; tried <= r->ntiers; tried++) {
		ti = r->cur_tier;
		if (ti >= r->ntiers) {
			r->cur_tier = 0;
			r->cursor = 0;
			continue;
		}
		b = r->tiers[ti].bucket_ms;
		/* Buckets that start before cutoff have ended. */
		cutoff = bucket_of(now_ms, b);
		if ((rc = next_series(r, ti, cutoff, &series)) == -1)
			return -1;
		if (rc == 1)
			goto found;
		/* This tier is done; its parents may now be due. */
		r->cur_tier++;
		r->cursor = 0;
	}
	return 0;

found:
	r->cursor = series;
	sqlite3_bind_int64(r->dirty_buckets, 1, b);
	sqlite3_bind_int64(r->dirty_buckets, 2, series);
	sqlite3_bind_int64(r->dirty_buckets, 3, cutoff);
	sqlite3_bind_int(r->dirty_buckets, 4, max_buckets);
	while ((rc = sqlite3_step(r->dirty_buckets)) == SQLITE_ROW) {
		if (agg_reserve(r, n + 1) == -1) {
			sqlite3_reset(r->dirty_buckets);
			r->store->rc = SQLITE_NOMEM;
			snprintf(r->store->err, sizeof(r->store->err),
			    "rollup: out of memory");
			return -1;
		}
		memset(&r->aggs[n], 0, sizeof(r->aggs[n]));
		r->aggs[n++].bucket = sqlite3_column_int64(r->dirty_buckets, 0);
	}
	sqlite3_reset(r->dirty_buckets);
	if (rc != SQLITE_DONE)
		return fail(r, "read dirty buckets");
	if (n == 0)
		return 0;
	/* A series with more due than one step takes stays current. */
	if (n == (size_t)max_buckets)
		r->cursor = series - 1;
	if (ti == 0)
		rc = from_raw(r, series, b, n);
	else
		rc = from_children(r, series, r->tiers[ti - 1].bucket_ms, b, n);
	if (rc == -1 || write_step(r, ti, series, n) == -1)
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

int64_t
rollup_pending(struct rollup *r)
{
	int64_t	n = 0;

	if (sqlite3_step(r->pending) == SQLITE_ROW)
		n = sqlite3_column_int64(r->pending, 0);
	sqlite3_reset(r->pending);
	return n;
}
