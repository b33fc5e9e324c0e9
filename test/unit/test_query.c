/*
 * test_query.c -- range queries (writer/query.h) on a real database with
 * seed 001's default tiers (minute 24 h, hour 7 d, day 90 d, raw 2 h):
 * the tier each range picks, the finer tiers filling the tail, fallback
 * to a coarser tier where the finer ones hold nothing, reduction to N
 * points (count-weighted average, true min and max) checked against a
 * recomputation from the samples, gaps as count 0, and oldest_ts.
 */
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "query.h"
#include "rollup.h"
#include "series.h"
#include "store.h"
#include "unit.h"

static char	dir[] = "/tmp/tern-test-query.XXXXXX";
static char	dbpath[256];

#define MIN_MS		60000LL
#define HOUR_MS		3600000LL
#define DAY_MS		86400000LL
/* "Now": 13:30:15 on a day boundary's day. */
#define NOW		(19676LL * DAY_MS + 13 * HOUR_MS + 30 * MIN_MS + 15000)
/* Series A: one sample a minute, at :30, for the 40 days before NOW. */
#define A_N		(40 * 1440)
#define A_T0		(NOW - 40 * DAY_MS - 15000 + 30000)

static struct conf	 c;
static struct store	 s;
static struct series_table t;
static int64_t		 ida, idb, idc, idd;

static double
val(int64_t i)
{
	return (double)(i % 97) + 0.25 * (double)(i % 3);
}

static int64_t
bucket_of(int64_t ts, int64_t b)
{
	return ts - ts % b;
}

static int64_t
mkseries(const char *name)
{
	struct series_ref	ref = { PSTR(name), 0, NULL };
	char			err[128];
	struct series		*se;

	se = series_intern(&t, PSTR("dev"), &ref, err, sizeof(err));
	if (se == NULL || store_begin(&s) == -1 ||
	    store_put_series(&s, se) == -1 || store_commit(&s) == -1) {
		UNIT_FAIL("series %s", name);
		return 0;
	}
	se->persisted = 1;
	return se->id;
}

/* n samples of series id at t0 + i * step, value val(i), skipping
 * [hole0, hole1); marked dirty if ru is given. */
static void
put(struct rollup *ru, int64_t id, int64_t t0, int64_t step, int64_t n,
    int64_t hole0, int64_t hole1)
{
	int64_t		*ts = malloc((size_t)n * sizeof(*ts));
	double		*v = malloc((size_t)n * sizeof(*v));
	int64_t		 i, k = 0;

	for (i = 0; i < n; i++) {
		int64_t	x = t0 + i * step;

		if (x >= hole0 && x < hole1)
			continue;
		ts[k] = x;
		v[k++] = val(i);
	}
	if (store_begin(&s) == -1 || store_put_head(&s, id, NULL, ts, v,
	    (size_t)k) == -1 || (ru != NULL && rollup_mark(ru,
	    series_by_id(&t, id), ts, (size_t)k) == -1) ||
	    store_commit(&s) == -1)
		UNIT_FAIL("put: %.200s", s.err);
	/* What the writer's flush does after a commit. */
	if (k > 0 && ts[k - 1] > series_by_id(&t, id)->last_ts)
		series_by_id(&t, id)->last_ts = ts[k - 1];
	free(ts);
	free(v);
}

static void
setup(void)
{
	struct rollup	*ru;
	char		 err[256];
	int		 rc;

	conf_defaults(&c);
	snprintf(c.writer.database, sizeof(c.writer.database), "%.200s", dbpath);
	c.writer.synchronous = CONF_SYNC_OFF;
	if (store_open(&s, &c.writer) == -1) {
		UNIT_FAIL("store_open: %.200s", s.err);
		return;
	}
	series_table_init(&t);
	if ((ru = rollup_new(&s, &t, &c.writer, err, sizeof(err))) == NULL) {
		UNIT_FAIL("rollup_new: %.200s", err);
		return;
	}
	ida = mkseries("a");
	idc = mkseries("c");
	idd = mkseries("d");
	idb = mkseries("b");
	put(ru, ida, A_T0, MIN_MS, A_N, 0, 0);
	/* C: 2 days, 6 to 4 days ago, so only hours and days are made
	 * (minutes are never made beyond their 24 h); its raw is then
	 * deleted, as retention would have. */
	put(ru, idc, bucket_of(NOW - 6 * DAY_MS, DAY_MS), MIN_MS, 2 * 1440,
	    0, 0);
	/* D: the last day at one a minute, with a 3-hour hole. */
	put(ru, idd, bucket_of(NOW - DAY_MS, MIN_MS), MIN_MS, 1440,
	    NOW - 10 * HOUR_MS, NOW - 7 * HOUR_MS);
	while ((rc = rollup_step(ru, NOW, 512)) > 0)
		;
	if (rc != 0)
		UNIT_FAIL("rollup: %.200s", s.err);
	if (sqlite3_exec(s.db, "DELETE FROM tier_rows WHERE tid = (SELECT id "
	    "FROM tier_ids WHERE bucket_ms = 60000) AND series = 2; DELETE FROM chunk WHERE series = 2; DELETE FROM head "
	    "WHERE series = 2", NULL, NULL, NULL) != SQLITE_OK)
		UNIT_FAIL("delete: %s", sqlite3_errmsg(s.db));
	/* B: raw only, the last 90 minutes every 10 s, never rolled up. */
	put(NULL, idb, NOW - 90 * MIN_MS, 10000, 540, 0, 0);
	rollup_free(ru);
}

/*
 * The reference for series A: what a query of [from, to] from level lvl
 * (0 raw, 1 minute, 2 hour, 3 day) must give, computed from the samples.
 * A tier holds the buckets that ended by NOW; each level's rows start at
 * or after where the coarser level's rows end; a row counts in the slot
 * its start falls in, and a row starting before `from` is not shown.
 */
static void
reference(int lvl, int64_t from, int64_t to, int64_t step, size_t n,
    struct query_point *ref)
{
	static const int64_t	b[] = { 1, MIN_MS, HOUR_MS, DAY_MS };
	int64_t			f = from, i, end, start;
	size_t			k;

	for (k = 0; k < n; k++) {
		memset(&ref[k], 0, sizeof(ref[k]));
		ref[k].ts = from + (int64_t)k * step;
	}
	for (; lvl >= 0; lvl--) {
		end = f;
		for (i = 0; i < A_N; i++) {
			int64_t	ts = A_T0 + i * MIN_MS;
			double	x = val(i);

			start = lvl == 0 ? ts : bucket_of(ts, b[lvl]);
			if (start < bucket_of(f, b[lvl]) || start > to ||
			    (lvl > 0 && start >= bucket_of(NOW, b[lvl])) ||
			    (lvl == 0 && ts < f))
				continue;
			if (start + b[lvl] > end && lvl > 0)
				end = start + b[lvl];
			if (start < from)
				continue;
			k = (size_t)((start - from) / step);
			if (ref[k].count == 0 || x < ref[k].min)
				ref[k].min = x;
			if (ref[k].count == 0 || x > ref[k].max)
				ref[k].max = x;
			ref[k].count++;
			ref[k].avg += x;
		}
		f = end;
	}
	for (k = 0; k < n; k++)
		if (ref[k].count > 0)
			ref[k].avg /= (double)ref[k].count;
}

/* Queries A over [NOW - range, NOW] and compares with the reference. */
static void
check_a(struct query *q, int64_t range, size_t points, const char *tier,
    int lvl)
{
	struct query_result	r;
	struct query_point	*ref;
	char			err[256];
	long			n;
	size_t			k;
	int64_t			total = 0;

	memset(&r, 0, sizeof(r));
	n = query_range(q, ida, NOW - range, NOW, points, &r, err, sizeof(err));
	if (n < 0) {
		UNIT_FAIL("query: %.200s", err);
		return;
	}
	CHECK_STR(r.tier, tier);
	CHECK(r.n <= points);
	CHECK_INT(r.n, (long)n);
	if ((ref = calloc(r.n, sizeof(*ref))) == NULL)
		return;
	reference(lvl, NOW - range, NOW, r.step_ms, r.n, ref);
	for (k = 0; k < r.n && !unit.cur_failed; k++) {
		CHECK_INT(r.pts[k].ts, ref[k].ts);
		CHECK_INT(r.pts[k].count, ref[k].count);
		if (ref[k].count == 0)
			continue;
		CHECK_NEAR(r.pts[k].avg, ref[k].avg, 1e-9 * fabs(ref[k].avg));
		CHECK(r.pts[k].min == ref[k].min);
		CHECK(r.pts[k].max == ref[k].max);
		total += r.pts[k].count;
	}
	if (unit.cur_failed)
		fprintf(stderr, "# range %lld points %zu: point %zu\n",
		    (long long)range, points, k - 1);
	CHECK(total > 0);
	CHECK_INT(r.oldest_ts, bucket_of(A_T0, DAY_MS));
	free(ref);
	query_result_free(&r);
}

static struct query *
qopen(void)
{
	char		 err[256];
	struct query	*q = query_open(dbpath, &c.writer, err, sizeof(err));

	if (q == NULL)
		UNIT_FAIL("query_open: %.200s", err);
	return q;
}

/* 1 h raw, 24 h minute, 7 d hour, 30 d and 90 d day; N-point reduction. */
TEST(tier_by_range_and_reduction)
{
	struct query	*q = qopen();

	if (q == NULL)
		return;
	check_a(q, HOUR_MS, 60, "raw", 0);
	check_a(q, 24 * HOUR_MS, 500, "minute", 1);
	check_a(q, 24 * HOUR_MS, 10, "minute", 1);
	check_a(q, 7 * DAY_MS, 500, "hour", 2);
	check_a(q, 7 * DAY_MS, 7, "hour", 2);
	check_a(q, 30 * DAY_MS, 500, "day", 3);
	check_a(q, 90 * DAY_MS, 500, "day", 3);
	check_a(q, 90 * DAY_MS, 3, "day", 3);
	query_close(q);
}

/*
 * The newest part of a range, after the tier's last complete bucket, is
 * filled from the finer tiers down to raw: a 30-day query of A reaches
 * the last raw sample before NOW.
 */
TEST(finer_tiers_fill_the_tail)
{
	struct query		*q = qopen();
	struct query_result	 r;
	char			 err[256];
	int64_t			 last = A_T0 + (A_N - 1) * MIN_MS, first;
	int64_t			 total = 0;
	size_t			 k;

	if (q == NULL)
		return;
	memset(&r, 0, sizeof(r));
	CHECK(query_range(q, ida, NOW - 30 * DAY_MS, NOW, 0, &r, err,
	    sizeof(err)) > 0);
	/* One point per day (npoints 0).  The day bucket that starts
	 * before `from` is not shown; every sample after it is, the
	 * newest ones through the hour, minute and raw levels. */
	CHECK_STR(r.tier, "day");
	CHECK_INT(r.step_ms, DAY_MS);
	for (k = 0; k < r.n; k++)
		total += r.pts[k].count;
	first = bucket_of(NOW - 30 * DAY_MS, DAY_MS) + DAY_MS + 30000;
	CHECK_INT(total, (last - first) / MIN_MS + 1);
	query_result_free(&r);
	query_close(q);
}

/*
 * A range the preferred tier and all finer ones hold nothing of is
 * answered by a coarser one: C's raw is gone and its minutes were never
 * made, a 1 h range 5 days ago comes from the hour tier.  B was never rolled up: its 24 h
 * range comes from raw samples.
 */
TEST(fallback_between_tiers)
{
	struct query		*q = qopen();
	struct query_result	 r;
	char			 err[256];
	int64_t			 h = bucket_of(NOW - 5 * DAY_MS, HOUR_MS);
	size_t			 k;
	int64_t			 total = 0;

	if (q == NULL)
		return;
	memset(&r, 0, sizeof(r));
	CHECK(query_range(q, idc, h, h + HOUR_MS - 1, 60, &r, err,
	    sizeof(err)) > 0);
	CHECK_STR(r.tier, "hour");
	CHECK_INT(r.present, 1);
	CHECK_INT(r.pts[0].count, 60);
	CHECK(r.oldest_ts == bucket_of(NOW - 6 * DAY_MS, DAY_MS));
	CHECK(query_range(q, idb, NOW - DAY_MS, NOW, 500, &r, err,
	    sizeof(err)) > 0);
	for (k = 0; k < r.n; k++)
		total += r.pts[k].count;
	CHECK_INT(total, 540);
	CHECK_INT(r.oldest_ts, NOW - 90 * MIN_MS);
	/* Nothing at all: points, all gaps. */
	CHECK(query_range(q, idb, NOW - 30 * DAY_MS, NOW - 20 * DAY_MS, 100,
	    &r, err, sizeof(err)) > 0);
	CHECK_INT(r.present, 0);
	query_result_free(&r);
	query_close(q);
}

/* A hole in the data is a run of points with count 0, not zeros. */
TEST(gaps_are_gaps)
{
	struct query		*q = qopen();
	struct query_result	 r;
	char			 err[256];
	size_t			 k, gaps = 0;
	int			 ok = 1;

	if (q == NULL)
		return;
	memset(&r, 0, sizeof(r));
	CHECK(query_range(q, idd, NOW - DAY_MS, NOW, 48, &r, err,
	    sizeof(err)) > 0);
	CHECK_STR(r.tier, "minute");
	for (k = 0; k < r.n; k++) {
		int64_t	a = r.pts[k].ts, b = a + r.step_ms;
		int	inside = a >= NOW - 10 * HOUR_MS &&
			    b <= NOW - 7 * HOUR_MS;

		if (r.pts[k].count == 0)
			gaps++;
		/* Wholly inside the hole: a gap; wholly outside: data. */
		if (inside != (r.pts[k].count == 0) &&
		    (inside || b <= NOW - 10 * HOUR_MS ||
		    a >= NOW - 7 * HOUR_MS))
			ok = 0;
	}
	CHECK(ok);
	CHECK(gaps >= 5);
	CHECK_INT(r.present, r.n - gaps);
	query_result_free(&r);
	query_close(q);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(dbpath, sizeof(dbpath), "%s/t.db", dir);
	setup();
	RUN(tier_by_range_and_reduction);
	RUN(finer_tiers_fill_the_tail);
	RUN(fallback_between_tiers);
	RUN(gaps_are_gaps);
	series_table_free(&t);
	store_close(&s);
	conf_free(&c);
	unlink(dbpath);
	{
		char	p[300];

		snprintf(p, sizeof(p), "%s-wal", dbpath);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", dbpath);
		unlink(p);
	}
	rmdir(dir);
	return UNIT_DONE();
}
