/*
 * test_store.c -- the writer's storage and the raw read module, on real
 * SQLite files: head inserts, duplicate detection, compaction into chunks,
 * reads across head and chunks (with overlapping late chunks), the
 * newest-N read, migrations and series loading after a reopen.
 */
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "dbfix.h"
#include "read.h"
#include "series.h"
#include "store.h"
#include "unit.h"

static char	dir[] = "/tmp/tern-test-store.XXXXXX";
static char	dbpath[256];

static void
open_store(struct store *s)
{
	struct conf	c;

	conf_defaults(&c);
	snprintf(c.writer.database, sizeof(c.writer.database), "%.200s", dbpath);
	c.writer.synchronous = CONF_SYNC_OFF;	/* tests need no fsync */
	if (store_open(s, &c.writer) == -1)
		UNIT_FAIL("store_open: %.200s", s->err);
	conf_free(&c);
}

static void
fresh(void)
{
	char	p[300];

	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
}

/* Inserts samples ts = t0 + i*step, value = i, as one head row. */
static void
put_run(struct store *s, int64_t series, int64_t t0, int64_t step, size_t n)
{
	int64_t	*ts = malloc(n * sizeof(*ts));
	double	*v = malloc(n * sizeof(*v));
	size_t	 i;

	for (i = 0; i < n; i++) {
		ts[i] = t0 + (int64_t)i * step;
		v[i] = (double)(t0 + (int64_t)i * step) / 1000.0;
	}
	CHECK(store_begin(s) == 0);
	CHECK(store_put_head(s, series, NULL, ts, v, n) == 0);
	CHECK(store_commit(s) == 0);
	free(ts);
	free(v);
}

static struct series *
mkseries(struct series_table *t, struct store *s, const char *dev,
    const char *name)
{
	struct series_ref	ref = { PSTR(name), 0, NULL };
	char			err[128];
	struct series		*se;

	se = series_intern(t, PSTR(dev), &ref, err, sizeof(err));
	CHECK(se != NULL);
	if (se == NULL)
		return NULL;
	CHECK(store_begin(s) == 0);
	CHECK(store_put_series(s, se) == 0);
	CHECK(store_commit(s) == 0);
	se->persisted = 1;
	return se;
}

TEST(migrations_and_pragmas)
{
	struct store	s;
	sqlite3_stmt	*st;

	fresh();
	open_store(&s);
	CHECK(sqlite3_prepare_v2(s.db, "PRAGMA user_version", -1, &st, NULL)
	    == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(st, 0), STORE_SCHEMA_VERSION);
	sqlite3_finalize(st);
	CHECK(sqlite3_prepare_v2(s.db, "PRAGMA journal_mode", -1, &st, NULL)
	    == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	CHECK(sqlite3_prepare_v2(s.db, "PRAGMA auto_vacuum", -1, &st, NULL)
	    == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(st, 0), 2);	/* incremental */
	sqlite3_finalize(st);
	store_close(&s);
	/* Reopening applies nothing twice. */
	open_store(&s);
	store_close(&s);
}

TEST(newer_schema_is_refused)
{
	struct store	s;
	struct conf	c;

	fresh();
	open_store(&s);
	CHECK(sqlite3_exec(s.db, "PRAGMA user_version = 99", NULL, NULL, NULL)
	    == SQLITE_OK);
	store_close(&s);
	conf_defaults(&c);
	snprintf(c.writer.database, sizeof(c.writer.database), "%.200s", dbpath);
	CHECK(store_open(&s, &c.writer) == -1);
	CHECK_HAS(s.err, "newer than this tern-writer");
	store_close(&s);
	conf_free(&c);
}

/* Text of a query's rows, "|" between columns, ";" after each row. */
static void
rows_text(sqlite3 *db, const char *sql, char *out, size_t len)
{
	sqlite3_stmt	*st;
	size_t		 o = 0;
	int		 i;

	out[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(out, len, "error: %s", sqlite3_errmsg(db));
		return;
	}
	while (sqlite3_step(st) == SQLITE_ROW && o < len)
		for (i = 0; i < sqlite3_column_count(st) && o < len; i++)
			o += (size_t)snprintf(out + o, len - o, "%s%s",
			    sqlite3_column_type(st, i) == SQLITE_NULL ? "-" :
			    (const char *)sqlite3_column_text(st, i),
			    i + 1 < sqlite3_column_count(st) ? "|" : ";");
	sqlite3_finalize(st);
}

/*
 * Schema 8's tier table, rows of three tiers (one before 1970, one with
 * NULLs for the values the view restores) becomes tier_rows under the
 * `tier` view with the same rows: ids by ascending bucket size, buckets as
 * indexes.
 */
TEST(migration_9_tier_keys)
{
	struct store	s;
	char		got[1024];
	static const char schema8[] =
	    "DROP VIEW metrics; DROP VIEW system_metrics;"
	    "DROP VIEW buckets; DROP VIEW tier; DROP TABLE tier_rows;"
	    "DROP TABLE tier_ids;"
	    "CREATE TABLE tier (tier INTEGER NOT NULL, series INTEGER NOT NULL,"
	    "  bucket INTEGER NOT NULL, count INTEGER NOT NULL, sum REAL NOT"
	    "  NULL, min REAL, max REAL, last REAL,"
	    "  PRIMARY KEY (tier, series, bucket)) WITHOUT ROWID;"
	    "CREATE VIEW buckets AS SELECT * FROM tier;"
	    "CREATE VIEW metrics AS SELECT 1; CREATE VIEW system_metrics AS"
	    "  SELECT 1;"
	    "INSERT INTO tier VALUES (86400000, 1, 1767225600000, 30, 45.0,"
	    "  1.0, 2.0, 1.5), (60000, 1, 1767225660000, 1, 7.0, NULL, NULL,"
	    "  NULL), (60000, 1, -120000, 2, 3.0, 1.0, NULL, NULL),"
	    "  (3600000, 2, 1767222000000, 4, 8.0, 1.0, 3.0, NULL);"
	    "INSERT INTO series (id, device, name, labels, created_ms) VALUES"
	    "  (1, 'd', 'm', '', 0);"
	    "PRAGMA user_version = 8";

	fresh();
	open_store(&s);
	CHECK(sqlite3_exec(s.db, schema8, NULL, NULL, NULL) == SQLITE_OK);
	store_close(&s);
	open_store(&s);
	rows_text(s.db, "SELECT * FROM tier_ids ORDER BY id", got, sizeof(got));
	CHECK_STR(got, "0|60000;1|3600000;2|86400000;");
	rows_text(s.db, "SELECT tid, series, b FROM tier_rows", got,
	    sizeof(got));
	CHECK_STR(got, "0|1|-2;0|1|29453761;1|2|490895;2|1|20454;");
	rows_text(s.db, "SELECT * FROM tier ORDER BY tier, series, bucket", got,
	    sizeof(got));
	CHECK_STR(got, "60000|1|-120000|2|3.0|1.0|-|-;"
	    "60000|1|1767225660000|1|7.0|-|-|-;"
	    "3600000|2|1767222000000|4|8.0|1.0|3.0|-;"
	    "86400000|1|1767225600000|30|45.0|1.0|2.0|1.5;");
	rows_text(s.db, "SELECT * FROM buckets WHERE tier = 60000 ORDER BY "
	    "bucket", got, sizeof(got));
	CHECK_STR(got, "60000|1|-120000|2|3.0|1.0|1.0|1.0;"
	    "60000|1|1767225660000|1|7.0|7.0|7.0|7.0;");
	/* The finest tier through the seed 003 view. */
	rows_text(s.db, "SELECT timestamp, metric_value FROM metrics ORDER BY "
	    "timestamp", got, sizeof(got));
	CHECK_STR(got, "-120000|1.5;1767225660000|7.0;");
	/* A bucket lookup binds the bucket's index. */
	CHECK_INT(store_has_bucket(&s, 3600000, 2, 1767222000000), 1);
	CHECK_INT(store_has_bucket(&s, 3600000, 2, 1767225600000), 0);
	CHECK_INT(store_has_bucket(&s, 60000, 1, -120000), 1);
	/* The bucket-index bounds readers bind, either side of 0. */
	CHECK_INT(store_div_floor(-1, 60000), -1);
	CHECK_INT(store_div_ceil(-1, 60000), 0);
	CHECK_INT(store_div_floor(-120000, 60000), -2);
	CHECK_INT(store_div_ceil(-120000, 60000), -2);
	CHECK_INT(store_div_floor(59999, 60000), 0);
	CHECK_INT(store_div_ceil(60001, 60000), 2);
	store_close(&s);
}

TEST(has_sample_head_and_chunk)
{
	struct store		s;
	struct series_table	t;
	struct series		*se;
	int64_t			cursor = 0;

	fresh();
	open_store(&s);
	series_table_init(&t);
	se = mkseries(&t, &s, "d", "m");
	put_run(&s, se->id, 1000, 10, 100);	/* 1000 .. 1990 */
	CHECK_INT(store_has_sample(&s, se->id, 1000), 1);
	CHECK_INT(store_has_sample(&s, se->id, 1500), 1);
	CHECK_INT(store_has_sample(&s, se->id, 1505), 0);
	CHECK_INT(store_has_sample(&s, se->id, 2000), 0);
	CHECK_INT(store_has_sample(&s, se->id + 1, 1500), 0);
	CHECK_INT(store_head_samples(&s), 100);
	CHECK_INT(store_compact_step(&s, &cursor, 64), 1);
	CHECK_INT(store_compact_step(&s, &cursor, 64), 0);
	CHECK_INT(store_head_samples(&s), 0);
	CHECK_INT(store_has_sample(&s, se->id, 1990), 1);
	CHECK_INT(store_has_sample(&s, se->id, 1991), 0);
	series_table_free(&t);
	store_close(&s);
}

/*
 * Head row ids (schema 8): never below key(t1), increasing in insertion
 * order, also for a backfill older than what is there and after a
 * reopen; the time-bounded lookups find rows numbered above their time.
 */
TEST(head_ids_bound_backfill)
{
	struct store		s;
	struct series_table	t;
	struct series		*a, *b;
	struct raw_result	 out = { 0 };
	sqlite3_stmt		*st;
	char			 err[256];
	int64_t			 prev = INT64_MIN, n = 0;

	fresh();
	open_store(&s);
	series_table_init(&t);
	a = mkseries(&t, &s, "d", "a");
	b = mkseries(&t, &s, "d", "b");
	put_run(&s, a->id, 5000000, 1000, 10);		/* 5000 .. 5009 s */
	put_run(&s, b->id, 1000000, 1000, 10);		/* backfill: 1000 s */
	store_close(&s);
	open_store(&s);
	put_run(&s, a->id, 2000000, 1000, 5);		/* older again */
	CHECK(sqlite3_prepare_v2(s.db, "SELECT id, t1 FROM head ORDER BY id",
	    -1, &st, NULL) == SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t	id = sqlite3_column_int64(st, 0);

		CHECK(id >= store_head_key(sqlite3_column_int64(st, 1)));
		CHECK(id > prev);
		prev = id;
		n++;
	}
	sqlite3_finalize(st);
	CHECK_INT(n, 3);
	CHECK_INT(store_has_sample(&s, b->id, 1005000), 1);
	CHECK_INT(store_has_sample(&s, a->id, 2004000), 1);
	CHECK_INT(store_has_sample(&s, a->id, 2005000), 0);
	/* A reader asked for 1500 s on finds a's old row (numbered after
	 * the 5000 s one) and its new one. */
	{
		struct raw_reader *r = raw_wrap(s.db, err, sizeof(err));

		CHECK(r != NULL);
		if (r != NULL) {
			CHECK_INT(raw_read(r, a->id, 1500000, 6000000, 100,
			    &out, err, sizeof(err)), 15);
			raw_result_free(&out);
			raw_close(r);
		}
	}
	CHECK_INT(store_head_key(INT64_MAX), 70368744177663LL * 65536);
	CHECK_INT(store_head_key(INT64_MIN), -70368744177664LL * 65536);
	series_table_free(&t);
	store_close(&s);
}

/* A head row with a negative id (the migration numbers a pre-1970 row
 * key(t1) + rank); compaction still finds, moves and deletes it. */
TEST(compaction_negative_ids)
{
	struct store		s;
	struct series_table	t;
	struct series		*se;
	int64_t			cursor = 0;

	fresh();
	open_store(&s);
	series_table_init(&t);
	se = mkseries(&t, &s, "d", "old");
	put_run(&s, se->id, -50000, 1000, 10);		/* -50 .. -41 s */
	CHECK(sqlite3_exec(s.db, "UPDATE head SET id = -41000 * 65536",
	    NULL, NULL, NULL) == SQLITE_OK);
	CHECK_INT(store_head_samples(&s), 10);
	CHECK_INT(store_compact_step(&s, &cursor, 64), 1);
	CHECK_INT(store_compact_step(&s, &cursor, 64), 0);
	CHECK_INT(store_head_samples(&s), 0);
	CHECK_INT(store_has_sample(&s, se->id, -45000), 1);
	series_table_free(&t);
	store_close(&s);
}

/*
 * Short runs of one device's series go into packed rows, one a commit;
 * every reader finds its series in them, and compaction in steps of one
 * series moves each series out exactly once, rewriting the packed rows
 * until their last series goes with them.
 */
TEST(packed_rows_read_and_compact_in_steps)
{
	struct store		s;
	struct series_table	t;
	struct series		*se[3];
	struct raw_reader	*r;
	struct raw_result	res = { 0 };
	char			err[256];
	int64_t			cursor = 0, ts[10];
	double			v[10];
	long			n, i;
	int			k, round, ok = 1;

	fresh();
	open_store(&s);
	series_table_init(&t);
	se[0] = mkseries(&t, &s, "d", "a");
	se[1] = mkseries(&t, &s, "d", "b");
	se[2] = mkseries(&t, &s, "d", "c");
	if (se[0] == NULL || se[1] == NULL || se[2] == NULL)
		return;
	for (round = 0; round < 10; round++) {
		CHECK(store_begin(&s) == 0);
		for (k = 2; k >= 0; k--) {	/* any order: rows ascend */
			ts[0] = round * 1000;
			v[0] = k * 100 + round;
			CHECK(store_put_head(&s, se[k]->id, "d", ts, v, 1) == 0);
		}
		CHECK(store_commit(&s) == 0);
	}
	/* A longer run keeps a row of its own. */
	for (i = 0; i < 10; i++) {
		ts[i] = 10000 + i * 1000;
		v[i] = 100 + 10 + i;
	}
	CHECK(store_begin(&s) == 0);
	CHECK(store_put_head(&s, se[1]->id, "d", ts, v, 10) == 0);
	CHECK(store_commit(&s) == 0);
	CHECK_INT(count_of(&s, "SELECT count(*) FROM head WHERE series = 0"),
	    10);
	CHECK_INT(count_of(&s, "SELECT count(*) FROM head"), 11);
	CHECK_INT(store_head_samples(&s), 40);
	CHECK_INT(store_has_sample(&s, se[0]->id, 5000), 1);
	CHECK_INT(store_has_sample(&s, se[0]->id, 5500), 0);
	CHECK_INT(store_has_sample(&s, se[2]->id, 9000), 1);

	r = raw_wrap(s.db, err, sizeof(err));
	CHECK(r != NULL);
	if (r == NULL)
		return;
	for (k = 0; k < 3; k++) {
		/* Before, after one step per series, and at the end. */
		for (int step = 0; step < 3; step++) {
			n = raw_read(r, se[step]->id, INT64_MIN, INT64_MAX, 0,
			    &res, err, sizeof(err));
			CHECK_INT(n, step == 1 ? 20 : 10);
			for (i = 0; i < n; i++)
				if (res.ts[i] != i * 1000 || res.v[i] !=
				    step * 100 + i)
					ok = 0;
		}
		CHECK(ok);
		/* One series a step: a's entries leave the packed rows, which
		 * are rewritten; with c they go. */
		CHECK_INT(store_compact_step(&s, &cursor, 1), 1);
		CHECK_INT(count_of(&s, "SELECT count(*) FROM head WHERE "
		    "series = 0"), k < 2 ? 10 : 0);
		CHECK_INT(count_of(&s, "SELECT coalesce(sum(n), 0) FROM head "
		    "WHERE series = 0"), k == 0 ? 20 : k == 1 ? 10 : 0);
		CHECK_INT(count_of(&s, "SELECT coalesce(sum(n), 0) FROM "
		    "chunk"), k == 0 ? 10 : k == 1 ? 30 : 40);
	}
	CHECK_INT(store_compact_step(&s, &cursor, 1), 0);
	CHECK_INT(store_head_samples(&s), 0);
	CHECK_INT(store_has_sample(&s, se[1]->id, 19000), 1);
	raw_result_free(&res);
	raw_close(r);
	series_table_free(&t);
	store_close(&s);
}

/* Head rows that overlap in time (a late backfill) compact into order. */
TEST(compaction_merges_overlapping_rows)
{
	struct store		s;
	struct series_table	t;
	struct series		*se;
	struct raw_reader	*r;
	struct raw_result	res = { 0 };
	char			err[256];
	int64_t			cursor = 0;
	long			n, i;
	int			ok = 1;

	fresh();
	open_store(&s);
	series_table_init(&t);
	se = mkseries(&t, &s, "d", "m");
	put_run(&s, se->id, 10000, 20, 50);	/* 10000, 10020, ... */
	put_run(&s, se->id, 10010, 20, 50);	/* interleaved late */
	CHECK_INT(store_compact_step(&s, &cursor, 64), 1);
	r = raw_wrap(s.db, err, sizeof(err));
	CHECK(r != NULL);
	n = raw_read(r, se->id, INT64_MIN, INT64_MAX, 0, &res, err,
	    sizeof(err));
	CHECK_INT(n, 100);
	for (i = 0; i < n; i++)
		if (res.ts[i] != 10000 + i * 10 ||
		    res.v[i] != (double)res.ts[i] / 1000.0)
			ok = 0;
	CHECK(ok);
	raw_result_free(&res);
	raw_close(r);
	series_table_free(&t);
	store_close(&s);
}

/*
 * The newest-N read must not stop early when an older-starting chunk (a
 * late one) still holds samples newer than what it has found.
 */
TEST(read_newest_n_with_late_chunk)
{
	struct store		s;
	struct series_table	t;
	struct series		*se;
	struct raw_reader	*r;
	struct raw_result	res = { 0 };
	char			err[256];
	int64_t			cursor = 0;
	long			n;

	fresh();
	open_store(&s);
	series_table_init(&t);
	se = mkseries(&t, &s, "d", "m");
	put_run(&s, se->id, 0, 100, 1000);	/* 0 .. 99900, step 100 */
	CHECK_INT(store_compact_step(&s, &cursor, 64), 1);
	put_run(&s, se->id, 100000, 100, 10);	/* 100000 .. 100900 head */
	put_run(&s, se->id, 50, 1000, 100);	/* late: 50 .. 99050 */
	r = raw_open(dbpath, err, sizeof(err));
	CHECK(r != NULL);
	if (r == NULL)
		return;
	n = raw_read(r, se->id, INT64_MIN, INT64_MAX, 25, &res, err,
	    sizeof(err));
	CHECK_INT(n, 25);
	/* Newest 25 of the union: 10 from the head, then 99900, 99800, ...
	 * and the late 99050 sits between 99000 and 99100. */
	CHECK_INT(res.ts[24], 100900);
	CHECK_INT(res.ts[15], 100000);
	CHECK_INT(res.ts[14], 99900);
	CHECK_INT(res.ts[0], 98600);	/* 99900..99100, 99050, 99000..98600 */
	{
		int	found = 0;
		long	i;

		for (i = 0; i < n; i++)
			if (res.ts[i] == 99050)
				found = 1;
		CHECK(found);
	}
	/* Time-bounded read. */
	n = raw_read(r, se->id, 99000, 99200, 0, &res, err, sizeof(err));
	CHECK_INT(n, 4);	/* 99000, 99050, 99100, 99200 */
	/* Empty and inverted ranges. */
	CHECK_INT(raw_read(r, se->id, 200000, 300000, 0, &res, err,
	    sizeof(err)), 0);
	CHECK_INT(raw_read(r, se->id, 10, 5, 0, &res, err, sizeof(err)), 0);
	CHECK_INT(raw_read(r, 999, INT64_MIN, INT64_MAX, 0, &res, err,
	    sizeof(err)), 0);
	raw_result_free(&res);
	raw_close(r);
	series_table_free(&t);
	store_close(&s);
}

TEST(series_reload_and_last_ts)
{
	struct store		s;
	struct series_table	t, t2;
	struct series		*a, *b, *x;
	struct raw_reader	*r;
	char			err[128];

	fresh();
	open_store(&s);
	series_table_init(&t);
	a = mkseries(&t, &s, "dev", "cpu.busy_pct");
	b = mkseries(&t, &s, "dev", "mem.used_bytes");
	put_run(&s, a->id, 5000, 1000, 10);	/* last 14000 */
	put_run(&s, b->id, 7000, 1000, 3);	/* last 9000 */
	store_close(&s);

	open_store(&s);
	series_table_init(&t2);
	CHECK(store_load_series(&s, &t2) == 0);
	CHECK_INT(t2.n, 2);
	x = series_by_id(&t2, a->id);
	CHECK(x != NULL && x->last_ts == 14000);
	CHECK(x != NULL && x->persisted == 1);
	x = series_by_id(&t2, b->id);
	CHECK(x != NULL && x->last_ts == 9000);
	r = raw_wrap(s.db, err, sizeof(err));
	CHECK_INT(raw_series_id(r, "dev", "mem.used_bytes", "", err,
	    sizeof(err)), b->id);
	CHECK_INT(raw_series_id(r, "dev", "nope", "", err, sizeof(err)), 0);
	raw_close(r);
	series_table_free(&t);
	series_table_free(&t2);
	store_close(&s);
}

TEST(gap_rows)
{
	struct store	s;
	struct gap	g = { 100, 200, 42 };
	sqlite3_stmt	*st;

	fresh();
	open_store(&s);
	CHECK(store_begin(&s) == 0);
	CHECK(store_put_gap(&s, "dev", &g, "producer queue full", 5) == 0);
	CHECK(store_commit(&s) == 0);
	CHECK(sqlite3_prepare_v2(s.db, "SELECT device, from_ts, to_ts, count "
	    "FROM gap", -1, &st, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "dev");
	CHECK_INT(sqlite3_column_int64(st, 3), 42);
	sqlite3_finalize(st);
	store_close(&s);
}

TEST(raw_open_missing_file)
{
	char	err[256];

	CHECK(raw_open("/nonexistent/tern.db", err, sizeof(err)) == NULL);
	CHECK_HAS(err, "/nonexistent/tern.db");
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(dbpath, sizeof(dbpath), "%s/t.db", dir);
	RUN(migrations_and_pragmas);
	RUN(newer_schema_is_refused);
	RUN(migration_9_tier_keys);
	RUN(has_sample_head_and_chunk);
	RUN(head_ids_bound_backfill);
	RUN(compaction_negative_ids);
	RUN(compaction_merges_overlapping_rows);
	RUN(packed_rows_read_and_compact_in_steps);
	RUN(read_newest_n_with_late_chunk);
	RUN(series_reload_and_last_ts);
	RUN(gap_rows);
	RUN(raw_open_missing_file);
	fresh();
	rmdir(dir);
	return UNIT_DONE();
}
