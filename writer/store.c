/*
 * store.c -- see store.h.
 *
 * Storage layout, and why.
 *
 * Two figures measured on this project's machines decide it.  Rows keyed
 * (series, ts) insert at 270-300k rows/s but write 2.7-3 KB to disk per row,
 * because every commit rewrites one B-tree page per series: the samples of
 * one commit are scattered over as many pages as there are series.  An SD
 * card dies of that.  Rows appended in time order write 60-140 bytes per
 * row, but reading one series back then scans every series.
 *
 * So raw samples live in two tables of compressed chunks (chunk.h: one or
 * two bytes per sample for a regular series, against ~25 for a row):
 *
 *   head   what the last few minutes of commits appended.  Each commit adds
 *          one row per series it touched, in rowid order, so the table's
 *          pages are written once, at the end.  It has no index: row ids
 *          are keyed by time (store.h, schema 8), so a one-series read
 *          scans the rows of its time range, which are few because the
 *          head only holds minutes.
 *
 *   chunk  the compacted history.  Compaction (store_compact_step) merges
 *          one series' head rows into chunks of up to CHUNK_MAX_SAMPLES and
 *          deletes them from the head.  It runs every compact_ms or when
 *          the head holds compact_samples per series, so it touches a page
 *          per series once per several hundred samples instead of once per
 *          commit.
 *
 * A read of one series is an index range in each table -- a handful of
 * chunks -- done in one read transaction so that a concurrent
 * compaction, which moves samples from head to chunk atomically, never
 * shows a sample twice or not at all.
 *
 * Idempotence: the writer knows each series' newest committed timestamp.
 * A sample newer than that is new; an older one (a resend after a
 * reconnect, or a late backfill) is looked up first (store_has_sample) and
 * dropped if present.  So every (series, ts) is stored at most once, which
 * is the guarantee a (series, ts) primary key would give, without the page
 * scatter of maintaining one.
 *
 * The sqlite3 CLI sees counts and time spans (n, t0, t1) directly; values
 * are in the chunk encoding and come out through `ternctl dump`.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chunk.h"
#include "log.h"
#include "store.h"

/*
 * The seeds' views over the finest tier, as migrations 2 -> 3 made them
 * and 6 -> 7 makes them again after rebuilding the tier table.
 */
#define VIEW_METRICS \
	/* seed 003: timestamp (ms), metric_name, metric_value, device_id -- \
	 * one row per series and minute (the finest tier), the average. */ \
	"CREATE VIEW metrics AS" \
	"  SELECT t.bucket AS timestamp, s.name AS metric_name," \
	"    t.sum / t.count AS metric_value, s.device AS device_id," \
	"    s.labels AS labels" \
	"  FROM tier t JOIN series s ON s.id = t.series" \
	"  WHERE t.tier = (SELECT min(tier) FROM tier);"

/* seed 000's columns, one per metric, and the series names they take
 * (tern's own and the seed's). */
#define SYSTEM_METRICS_COLUMNS \
	"    s.device AS agent_id," \
	"    max(CASE WHEN s.name = 'cpu_usage' OR (s.name = 'cpu.busy_pct'" \
	"      AND s.labels = 'core=\"total\"') THEN t.sum / t.count END)" \
	"      AS cpu_usage," \
	"    CAST(max(CASE WHEN s.name IN ('memory_used', 'mem.used_bytes')" \
	"      THEN t.sum / t.count END) AS INTEGER) AS memory_used," \
	"    CAST(max(CASE WHEN s.name IN ('memory_total', 'mem.total_bytes')" \
	"      THEN t.sum / t.count END) AS INTEGER) AS memory_total," \
	"    max(CASE WHEN s.name = 'disk_free_percent' OR" \
	"      (s.name = 'disk.free_pct' AND s.labels = 'mount=\"/\"')" \
	"      THEN t.sum / t.count END) AS disk_free_percent"

#define SYSTEM_METRICS_NAMES \
	"    ('cpu_usage', 'cpu.busy_pct', 'memory_used', 'mem.used_bytes'," \
	"     'memory_total', 'mem.total_bytes', 'disk_free_percent'," \
	"     'disk.free_pct')"

#define VIEW_SYSTEM_METRICS \
	"CREATE VIEW system_metrics AS" \
	"  SELECT datetime(t.bucket / 1000, 'unixepoch') AS time," \
	SYSTEM_METRICS_COLUMNS \
	"  FROM tier t JOIN series s ON s.id = t.series" \
	"  WHERE t.tier = (SELECT min(tier) FROM tier) AND s.name IN" \
	SYSTEM_METRICS_NAMES \
	"  GROUP BY t.bucket, s.device;"

/*
 * The same views from schema 9 on, over tier_rows: the finest tier holding
 * rows found through tier_ids, not by scanning the `tier` view.
 */
#define FINEST_TIER_9 \
	"(SELECT i.id FROM tier_ids i WHERE EXISTS (SELECT 1 FROM" \
	"   tier_rows r WHERE r.tid = i.id) ORDER BY i.bucket_ms LIMIT 1)"

#define VIEW_METRICS_9 \
	"CREATE VIEW metrics AS" \
	"  SELECT t.b * i.bucket_ms AS timestamp, s.name AS metric_name," \
	"    t.sum / t.count AS metric_value, s.device AS device_id," \
	"    s.labels AS labels" \
	"  FROM tier_rows t JOIN tier_ids i ON i.id = t.tid" \
	"    JOIN series s ON s.id = t.series" \
	"  WHERE t.tid = " FINEST_TIER_9 ";"

#define VIEW_SYSTEM_METRICS_9 \
	"CREATE VIEW system_metrics AS" \
	"  SELECT datetime(t.b * i.bucket_ms / 1000, 'unixepoch') AS time," \
	SYSTEM_METRICS_COLUMNS \
	"  FROM tier_rows t JOIN tier_ids i ON i.id = t.tid" \
	"    JOIN series s ON s.id = t.series" \
	"  WHERE t.tid = " FINEST_TIER_9 " AND s.name IN" \
	SYSTEM_METRICS_NAMES \
	"  GROUP BY t.b * i.bucket_ms, s.device;"

/*
 * Numbered migrations.  Entry i brings the schema from version i to i+1;
 * each runs in its own transaction with the user_version bump, so a crash
 * between two leaves a database at a well-defined version.  Never edit a
 * released entry: add one.
 */
static const char *const migrations[] = {
	/* 0 -> 1: series, raw head and chunks, gaps. */
	"CREATE TABLE series ("
	"  id INTEGER PRIMARY KEY,"
	"  device TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  labels TEXT NOT NULL,"		/* canonical k="v",... */
	"  created_ms INTEGER NOT NULL,"
	"  UNIQUE (device, name, labels));"
	"CREATE TABLE head ("
	"  id INTEGER PRIMARY KEY,"		/* append order */
	"  series INTEGER NOT NULL,"
	"  t0 INTEGER NOT NULL,"		/* first ts, ms */
	"  t1 INTEGER NOT NULL,"		/* last ts, ms */
	"  n INTEGER NOT NULL,"			/* samples in data */
	"  data BLOB NOT NULL);"		/* chunk.h encoding */
	"CREATE INDEX head_series ON head (series, t1);"
	"CREATE TABLE chunk ("
	"  id INTEGER PRIMARY KEY,"
	"  series INTEGER NOT NULL,"
	"  t0 INTEGER NOT NULL,"
	"  t1 INTEGER NOT NULL,"
	"  n INTEGER NOT NULL,"
	"  data BLOB NOT NULL);"
	"CREATE INDEX chunk_series ON chunk (series, t1);"
	"CREATE TABLE gap ("
	"  id INTEGER PRIMARY KEY,"
	"  device TEXT NOT NULL,"
	"  from_ts INTEGER NOT NULL,"
	"  to_ts INTEGER NOT NULL,"
	"  count INTEGER NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  recorded_ms INTEGER NOT NULL);",

	/*
	 * 1 -> 2: the upload cursor and the device registry.  A head row's
	 * `up` says whether its samples reached the receiver: 0 pending, 1
	 * uploaded, 2 set aside (the receiver refused them for good).  The
	 * partial index holds only pending rows, so it is tiny when the link
	 * is up and is the backlog's queue when it is down; compaction leaves
	 * pending rows in the head while an uploader is configured.
	 */
	"ALTER TABLE head ADD COLUMN up INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX head_pending ON head (id) WHERE up = 0;"
	"CREATE TABLE devices ("
	"  id TEXT PRIMARY KEY,"		/* the device id */
	"  hostname TEXT NOT NULL DEFAULT '',"
	"  address TEXT NOT NULL DEFAULT '',"
	"  os TEXT NOT NULL DEFAULT '',"
	"  first_seen_ms INTEGER NOT NULL,"
	"  last_seen_ms INTEGER NOT NULL,"
	"  last_batch_ms INTEGER NOT NULL);"
	"CREATE TABLE setaside ("
	"  id INTEGER PRIMARY KEY,"
	"  batch INTEGER NOT NULL,"		/* the writer's BATCH id */
	"  samples INTEGER NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  recorded_ms INTEGER NOT NULL);",

	/*
	 * 2 -> 3: rollup tiers (rollup.c explains them), the dirty-bucket
	 * queue, and the seeds' tables as views.  `tier` is the tier's
	 * bucket size in ms, which identifies it across renames.  Rows are
	 * series-major so that a range query is one index range; the rollup
	 * writes each series' rows once per run, not once per commit.
	 */
	"CREATE TABLE tier ("
	"  tier INTEGER NOT NULL,"		/* bucket size, ms */
	"  series INTEGER NOT NULL,"
	"  bucket INTEGER NOT NULL,"		/* bucket start, ms */
	"  count INTEGER NOT NULL,"
	"  sum REAL NOT NULL,"
	"  min REAL NOT NULL,"
	"  max REAL NOT NULL,"
	"  last REAL NOT NULL,"
	"  last_ts INTEGER NOT NULL,"
	"  PRIMARY KEY (tier, series, bucket)) WITHOUT ROWID;"
	"CREATE TABLE dirty ("
	"  tier INTEGER NOT NULL,"
	"  series INTEGER NOT NULL,"
	"  bucket INTEGER NOT NULL,"
	"  PRIMARY KEY (tier, series, bucket)) WITHOUT ROWID;"
	"CREATE TABLE state ("
	"  key TEXT PRIMARY KEY,"
	"  value INTEGER NOT NULL);"
	VIEW_METRICS
	/* seed 000: agents and system_metrics. */
	"CREATE VIEW agents AS"
	"  SELECT id, hostname, address AS ip_address, os,"
	"    datetime(first_seen_ms / 1000, 'unixepoch') AS created_at,"
	"    datetime(last_seen_ms / 1000, 'unixepoch') AS updated_at"
	"  FROM devices;"
	VIEW_SYSTEM_METRICS,

	/*
	 * 3 -> 4: the head indexed by time, not by series.  With a few
	 * hundred series sampled every few seconds, each commit adds one head
	 * row per series, and a (series, t1) index puts those entries on as
	 * many different pages: every commit rewrote most of the index, some
	 * 4 KiB per sample.  A (t1, series) index takes them all at its end.
	 * A read of one series scans the head's index entries in its time
	 * range -- the head holds minutes, so that is a few thousand -- and
	 * compaction reads each step's series in one pass.
	 */
	"DROP INDEX head_series;"
	"CREATE INDEX head_time ON head (t1, series);",

	/*
	 * 4 -> 5: a gap is recorded once.  A frame carrying a gap marker that
	 * was committed but not acknowledged (the writer was killed) comes
	 * again, and its gap with it.
	 */
	"DELETE FROM gap WHERE id NOT IN (SELECT min(id) FROM gap GROUP BY"
	"  device, from_ts, to_ts, count, reason);"
	"CREATE UNIQUE INDEX gap_once ON gap (device, from_ts, to_ts, count,"
	"  reason);",

	/*
	 * 5 -> 6: rollup watermarks (rollup.h).  Samples that arrive in
	 * order no longer mark their bucket dirty in the commit: one row per
	 * (series, minute) written by every commit was most of ingest's
	 * writes.  A tier's watermark starts after its newest row; what is
	 * still dirty stays in the queue and is done as before.
	 */
	"CREATE TABLE rolled ("
	"  tier INTEGER NOT NULL,"		/* bucket size, ms */
	"  series INTEGER NOT NULL,"
	"  upto INTEGER NOT NULL,"		/* everything before is rolled */
	"  PRIMARY KEY (tier, series)) WITHOUT ROWID;"
	"INSERT INTO rolled (tier, series, upto)"
	"  SELECT tier, series, max(bucket) + tier FROM tier"
	"  GROUP BY tier, series;",
	/*
	 * 6 -> 7: slimmer tier rows.  A bucket's min, max and last are
	 * stored only where they say something: min is NULL when the bucket
	 * holds one sample (it is the sum), max when it equals min, last when
	 * it equals max.  The `buckets` view resolves them, and every reader
	 * goes through it.  last_ts is gone: children never overlap, so the
	 * newest child's last is its parent's.  With seed 001's minute
	 * samples most minute rows hold one sample, and the row shrinks from
	 * some 57 bytes to 27.  The views name the table, so they are made
	 * again around the rebuild.
	 */
	"DROP VIEW metrics;"
	"DROP VIEW system_metrics;"
	"CREATE TABLE tier_new ("
	"  tier INTEGER NOT NULL,"		/* bucket size, ms */
	"  series INTEGER NOT NULL,"
	"  bucket INTEGER NOT NULL,"		/* bucket start, ms */
	"  count INTEGER NOT NULL,"
	"  sum REAL NOT NULL,"
	"  min REAL,"				/* NULL: the sum (count 1) */
	"  max REAL,"				/* NULL: the min */
	"  last REAL,"				/* NULL: the max */
	"  PRIMARY KEY (tier, series, bucket)) WITHOUT ROWID;"
	"INSERT INTO tier_new SELECT tier, series, bucket, count, sum,"
	"  CASE WHEN count = 1 AND min IS sum THEN NULL ELSE min END,"
	"  CASE WHEN max IS min THEN NULL ELSE max END,"
	"  CASE WHEN last IS max THEN NULL ELSE last END FROM tier;"
	"DROP TABLE tier;"
	"ALTER TABLE tier_new RENAME TO tier;"
	"CREATE VIEW buckets AS"
	"  SELECT tier, series, bucket, count, sum,"
	"    coalesce(min, sum) AS min, coalesce(max, min, sum) AS max,"
	"    coalesce(last, max, min, sum) AS last"
	"  FROM tier;"
	VIEW_METRICS
	VIEW_SYSTEM_METRICS,

	/*
	 * 7 -> 8: head rows numbered by time (store.h: store_head_key), and
	 * no time index.  Appending to an index B-tree splits its last page
	 * over three siblings where a rowid append fills a fresh page, so
	 * the (t1, series) index took 4-5 of a commit's 9-10 page writes,
	 * and an index entry to insert and one to delete for every head row.
	 * Readers scan the rowid range from key(from) instead.  Rows are
	 * renumbered in time order: id = key(t1) + rank, unique and never
	 * below key(t1).
	 */
	"CREATE TABLE head_new ("
	"  id INTEGER PRIMARY KEY,"		/* >= key(t1), store.h */
	"  series INTEGER NOT NULL,"
	"  t0 INTEGER NOT NULL,"
	"  t1 INTEGER NOT NULL,"
	"  n INTEGER NOT NULL,"
	"  data BLOB NOT NULL,"
	"  up INTEGER NOT NULL DEFAULT 0);"
	"INSERT INTO head_new (id, series, t0, t1, n, data, up)"
	"  SELECT " STORE_HEAD_KEY_SQL("t1") " + row_number() OVER"
	"    (ORDER BY t1, id) - 1, series, t0, t1, n, data, up FROM head;"
	"DROP TABLE head;"
	"ALTER TABLE head_new RENAME TO head;"
	"CREATE INDEX head_pending ON head (id) WHERE up = 0;",

	/*
	 * 8 -> 9: tier rows keyed by small numbers.  A row's key was the
	 * bucket size in ms (60000: four bytes in every row) and the bucket
	 * start in ms (six bytes); it is now the tier's id in tier_ids (0,
	 * 1, 2 for the default tiers: SQLite stores 0 and 1 in no bytes at
	 * all) and the bucket's index, start / size (four bytes for a
	 * minute, two for a day).  A minute row of one sample shrinks from
	 * 33 bytes to 27, which is 2.6 MB of seed 001's 90 days (make
	 * bench: history.db_bytes).  `tier` is now a view with the old
	 * columns, so the sqlite3 CLI and the views above it read as before;
	 * the writer and the query module use tier_rows and bind bucket
	 * indexes (store.h).  Ids go to bucket sizes in ascending order, the
	 * finest tier first.
	 */
	"DROP VIEW metrics;"
	"DROP VIEW system_metrics;"
	"DROP VIEW buckets;"
	"CREATE TABLE tier_ids ("
	"  id INTEGER PRIMARY KEY,"
	"  bucket_ms INTEGER NOT NULL UNIQUE);"
	"INSERT INTO tier_ids (id, bucket_ms) SELECT row_number() OVER"
	"  (ORDER BY tier) - 1, tier FROM (SELECT DISTINCT tier FROM tier);"
	"CREATE TABLE tier_rows ("
	"  tid INTEGER NOT NULL,"		/* tier_ids.id */
	"  series INTEGER NOT NULL,"
	"  b INTEGER NOT NULL,"			/* bucket start / bucket_ms */
	"  count INTEGER NOT NULL,"
	"  sum REAL NOT NULL,"
	"  min REAL,"				/* NULL: the sum (count 1) */
	"  max REAL,"				/* NULL: the min */
	"  last REAL,"				/* NULL: the max */
	"  PRIMARY KEY (tid, series, b)) WITHOUT ROWID;"
	"INSERT INTO tier_rows SELECT i.id, t.series, t.bucket / t.tier,"
	"  t.count, t.sum, t.min, t.max, t.last"
	"  FROM tier t JOIN tier_ids i ON i.bucket_ms = t.tier"
	"  ORDER BY i.id, t.series, t.bucket;"
	"DROP TABLE tier;"
	"CREATE VIEW tier AS"
	"  SELECT i.bucket_ms AS tier, r.series AS series,"
	"    r.b * i.bucket_ms AS bucket, r.count AS count, r.sum AS sum,"
	"    r.min AS min, r.max AS max, r.last AS last"
	"  FROM tier_rows r JOIN tier_ids i ON i.id = r.tid;"
	"CREATE VIEW buckets AS"
	"  SELECT tier, series, bucket, count, sum,"
	"    coalesce(min, sum) AS min, coalesce(max, min, sum) AS max,"
	"    coalesce(last, max, min, sum) AS last"
	"  FROM tier;"
	VIEW_METRICS_9
	VIEW_SYSTEM_METRICS_9,

	/*
	 * 9 -> 10: packed head rows.  A head row of series 0 holds short
	 * runs of many series (chunk.h: packed head rows; store.h says
	 * which), so that a commit of a round of a few hundred series adds
	 * one row of some 11 bytes a sample instead of a row of some 48
	 * bytes per series, each commit filling a page or more.  Existing
	 * rows stay as they are; the version only keeps an older writer,
	 * which would read series 0 as a series, away from the file.
	 */
	"SELECT 1;",
};

#define NMIGRATIONS	(int)(sizeof(migrations) / sizeof(migrations[0]))
_Static_assert(NMIGRATIONS == STORE_SCHEMA_VERSION,
    "STORE_SCHEMA_VERSION must count the migrations");

/* SQLite waits this long for a lock held by a reader's checkpoint or a
 * backup before failing; readers never block the writer in WAL mode, so
 * this only matters for `ternctl backup` and the sqlite3 CLI. */
#define STORE_BUSY_TIMEOUT_MS	5000

/* The page cache: enough for the head, its index and the hot chunk pages
 * of a few thousand series, small enough for a 512 MiB board. */
#define STORE_CACHE_KIB		8192

static int
fail(struct store *s, const char *what)
{
	s->rc = s->db ? sqlite3_extended_errcode(s->db) : SQLITE_ERROR;
	snprintf(s->err, sizeof(s->err), "%.200s: %.300s", what,
	    s->db ? sqlite3_errmsg(s->db) : "no database");
	return -1;
}

/* An allocation failed while doing what. */
static int
nomem(struct store *s, const char *what)
{
	s->rc = SQLITE_NOMEM;
	snprintf(s->err, sizeof(s->err), "%.200s: out of memory", what);
	return -1;
}

static int	head_next_load(struct store *);

static int
exec(struct store *s, const char *sql)
{
	char	*msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		s->rc = sqlite3_extended_errcode(s->db);
		snprintf(s->err, sizeof(s->err), "%.80s: %s", sql,
		    msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
prepare(struct store *s, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
	    NULL) != SQLITE_OK)
		return fail(s, sql);
	return 0;
}

/* Steps a statement expected to return no rows, then resets it. */
static int
step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int	rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return fail(s, what);
	return 0;
}

/*
 * Head rows are queued by store_put_head and inserted STORE_HEAD_BATCH at
 * a time by one multi-row INSERT: at one sample per series and commit (a
 * device's round, or seed 003's 100-series requests) a statement per row
 * spent more on the statement's set-up and halt than on the row.  The
 * queue is emptied before anything reads the head and before COMMIT, and
 * dropped by a rollback.
 */
static int
prepare_head_many(struct store *s)
{
	char	sql[64 + STORE_HEAD_BATCH * 24];
	size_t	off;
	int	i, n;

	off = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO head (id, "
	    "series, t0, t1, n, data, up) VALUES ");
	for (i = 0; i < STORE_HEAD_BATCH; i++) {
		n = snprintf(sql + off, sizeof(sql) - off, "%s(?,?,?,?,?,?,?)",
		    i > 0 ? "," : "");
		if (n < 0 || (size_t)n >= sizeof(sql) - off)
			return -1;
		off += (size_t)n;
	}
	return prepare(s, &s->ins_head_many, sql);
}

static int	head_flush(struct store *);

/* put_chunks' sink for the head: queues the row, and inserts the queue
 * once it holds a statement's worth. */
static int
head_queue(struct store *s, int64_t series, int64_t t0, int64_t t1,
    size_t n, const uint8_t *data, size_t len, const char *what)
{
	struct head_q	*q;
	uint8_t		*nb;
	size_t		 nc;

	if (s->nhq == s->hqcap) {
		nc = s->hqcap ? s->hqcap * 2 : STORE_HEAD_BATCH;
		if ((q = reallocarray(s->hq, nc, sizeof(*q))) == NULL)
			return nomem(s, what);
		s->hq = q;
		s->hqcap = nc;
	}
	if (s->hqcap_bytes - s->hqlen < len) {
		nc = s->hqcap_bytes ? s->hqcap_bytes : 16384;
		while (nc - s->hqlen < len)
			nc *= 2;
		if ((nb = realloc(s->hqbuf, nc)) == NULL)
			return nomem(s, what);
		s->hqbuf = nb;
		s->hqcap_bytes = nc;
	}
	memcpy(s->hqbuf + s->hqlen, data, len);
	q = &s->hq[s->nhq++];
	q->id = store_head_key(t1);
	if (q->id < s->head_next)
		q->id = s->head_next;
	s->head_next = q->id + 1;
	q->series = series;
	q->t0 = t0;
	q->t1 = t1;
	q->n = (int64_t)n;
	q->off = s->hqlen;
	q->len = len;
	s->hqlen += len;
	return s->nhq == STORE_HEAD_BATCH ? head_flush(s) : 0;
}

static void
head_bind(struct store *s, sqlite3_stmt *st, int base, const struct head_q *q)
{
	sqlite3_bind_int64(st, base + 1, q->id);
	sqlite3_bind_int64(st, base + 2, q->series);
	sqlite3_bind_int64(st, base + 3, q->t0);
	sqlite3_bind_int64(st, base + 4, q->t1);
	sqlite3_bind_int64(st, base + 5, q->n);
	sqlite3_bind_blob(st, base + 6, s->hqbuf + q->off, (int)q->len,
	    SQLITE_STATIC);
	/* Without an uploader nothing is pending: rows go in as uploaded,
	 * so the partial index of pending rows stays empty instead of
	 * taking a page write at every commit. */
	sqlite3_bind_int(st, base + 7, s->upload_gate ? 0 : 1);
}

static int	pack_flush(struct store *);

/* Inserts the queued head rows, packed ones too (inside the transaction). */
static int
head_flush(struct store *s)
{
	size_t	i = 0;
	int	r, rc = 0;

	if (s->npk > 0 && pack_flush(s) == -1)
		return -1;

	for (; rc == 0 && s->nhq - i >= STORE_HEAD_BATCH;
	    i += STORE_HEAD_BATCH) {
		for (r = 0; r < STORE_HEAD_BATCH; r++)
			head_bind(s, s->ins_head_many, r * 7, &s->hq[i + r]);
		rc = step_done(s, s->ins_head_many, "insert head");
	}
	for (; rc == 0 && i < s->nhq; i++) {
		head_bind(s, s->ins_head, 0, &s->hq[i]);
		rc = step_done(s, s->ins_head, "insert head");
	}
	s->nhq = 0;
	s->hqlen = 0;
	return rc;
}

static int
wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store	*s = arg;

	s->wal_pages = pages;
	return SQLITE_OK;
}

static int
pragma_int(struct store *s, const char *sql, int *out)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(s, sql);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(s, sql);
	return 0;
}

static int
migrate(struct store *s)
{
	int	version = 0, v;
	char	sql[64];

	if (pragma_int(s, "PRAGMA user_version", &version) == -1)
		return -1;
	if (version > NMIGRATIONS) {
		snprintf(s->err, sizeof(s->err), "database schema version %d "
		    "is newer than this tern-writer (%d): refusing to touch it",
		    version, NMIGRATIONS);
		s->rc = SQLITE_ERROR;
		return -1;
	}
	for (v = version; v < NMIGRATIONS; v++) {
		if (exec(s, "BEGIN IMMEDIATE") == -1)
			return -1;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (exec(s, migrations[v]) == -1 || exec(s, sql) == -1) {
			(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		if (exec(s, "COMMIT") == -1)
			return -1;
		log_info("%s: migrated schema to version %d", s->path, v + 1);
	}
	return 0;
}

/*
 * How long the start-up integrity check may take.  quick_check reads every
 * page, so on a large database on an SD card it can take minutes; a
 * writer that does not come up in that time is worse than one that starts
 * on a database it only checked part of.
 */
#define STORE_CHECK_MS		10000

static int
check_progress(void *arg)
{
	struct timespec	ts;
	double		*deadline = arg;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6 > *deadline;
}

/*
 * After an unclean shutdown (the state row says the last run did not stop
 * cleanly), runs a time-bounded PRAGMA quick_check.  A database that fails
 * it is reported as corrupt (store->rc SQLITE_CORRUPT) so that the caller
 * can quarantine it.  Then marks this run as not yet stopped cleanly.
 */
static int
check_unclean(struct store *s)
{
	sqlite3_stmt	*st;
	struct timespec	 ts;
	double		 deadline;
	int		 clean = 1, rc;
	char		 result[256] = "";

	if (sqlite3_prepare_v2(s->db, "SELECT value FROM state WHERE key = "
	    "'clean'", -1, &st, NULL) != SQLITE_OK)
		return fail(s, "state");
	if (sqlite3_step(st) == SQLITE_ROW)
		clean = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (!clean) {
		log_warnx("%s: the last run did not stop cleanly; checking the "
		    "database (at most %d s)", s->path, STORE_CHECK_MS / 1000);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		deadline = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6 +
		    STORE_CHECK_MS;
		sqlite3_progress_handler(s->db, 10000, check_progress,
		    &deadline);
		rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st,
		    NULL);
		if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
			snprintf(result, sizeof(result), "%s",
			    (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		sqlite3_progress_handler(s->db, 0, NULL, NULL);
		if (rc == SQLITE_INTERRUPT)
			log_warnx("%s: integrity check not finished in %d s; "
			    "starting anyway", s->path, STORE_CHECK_MS / 1000);
		else if ((rc & 0xff) == SQLITE_CORRUPT ||
		    (rc & 0xff) == SQLITE_NOTADB ||
		    (rc == SQLITE_ROW && strcmp(result, "ok") != 0)) {
			s->rc = SQLITE_CORRUPT;
			snprintf(s->err, sizeof(s->err), "integrity check "
			    "failed: %.200s", result[0] ? result :
			    sqlite3_errstr(rc));
			return -1;
		} else
			log_info("%s: integrity check ok", s->path);
	}
	return exec(s, "INSERT OR REPLACE INTO state (key, value) VALUES "
	    "('clean', 0)");
}

int
store_quarantine(const char *path, char *moved, size_t movedlen)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	char		from[CONF_PATH_MAX + 8], to[CONF_PATH_MAX + 64];
	time_t		now = time(NULL);
	struct tm	tm;
	char		stamp[32];
	size_t		i;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(from, sizeof(from), "%s%s", path, sfx[i]);
		snprintf(to, sizeof(to), "%s.corrupt-%s%s", path, stamp, sfx[i]);
		if (rename(from, to) == -1 && errno != ENOENT)
			return -1;
		if (i == 0)
			snprintf(moved, movedlen, "%s", to);
	}
	return 0;
}

/*
 * SQLite reads and writes its files a page at a time, anywhere in them.
 * Left to itself, the kernel reads ahead around each miss, into large
 * folios on recent kernels, and then accounts a 4 KiB page written into
 * such a folio as the whole folio dirtied.  Measured on this project's
 * machines (Linux 6.18, ext4): 8 scattered page writes into a file
 * cached by read-ahead counted 397,312 bytes of write_bytes (48 KiB a
 * page) for 36,864 bytes that reached the disk; with POSIX_FADV_RANDOM,
 * 36,864 and 36,864.  Read-ahead also caches pages SQLite did not ask
 * for, which a small board's memory pays for.  So every
 * descriptor this process holds on path and its WAL is marked random
 * access; drop also evicts the file's clean cached pages once, so that
 * what read-ahead cached before us is read again in pages.  SQLite does
 * not hand out its descriptors: they are found in /proc/self/fd.
 */
void
store_fadvise(const char *path, int drop)
{
	char		 want[PATH_MAX], wal[PATH_MAX + 8], link[PATH_MAX];
	char		 fdpath[300];
	struct dirent	*de;
	DIR		*d;
	ssize_t		 n;
	int		 fd;

	if (realpath(path, want) == NULL || (d = opendir("/proc/self/fd")) ==
	    NULL)
		return;
	snprintf(wal, sizeof(wal), "%s-wal", want);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%s",
		    de->d_name);
		if ((n = readlink(fdpath, link, sizeof(link) - 1)) <= 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, want) != 0 && strcmp(link, wal) != 0)
			continue;
		fd = atoi(de->d_name);
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
		if (drop)
			(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	}
	closedir(d);
}

int
store_open(struct store *s, const struct conf_writer *c)
{
	static const char *const sync_names[] = { "OFF", "NORMAL", "FULL" };
	char	sql[128];
	int	fresh;

	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", c->database);
	if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		return fail(s, s->path);
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
	if (pragma_int(s, "PRAGMA user_version", &fresh) == -1)
		return -1;
	/*
	 * auto_vacuum can only be chosen before the first table exists.
	 * INCREMENTAL lets retention hand freed pages back to the file system
	 * in small steps instead of one long VACUUM.
	 */
	if (fresh == 0 && exec(s, "PRAGMA auto_vacuum = INCREMENTAL") == -1)
		return -1;
	/*
	 * WAL: readers (queries, the uploader, backups) never block the
	 * writer, and a commit appends to one file instead of rewriting pages
	 * in place.  mmap stays off: an I/O error on a mapped page is a SIGBUS,
	 * and SD cards do have I/O errors.  Checkpoints are ours
	 * (wal_autocheckpoint 0): the writer runs them between commits, where
	 * their cost is visible and bounded, instead of inside a commit.
	 */
	snprintf(sql, sizeof(sql), "PRAGMA synchronous = %s",
	    sync_names[c->synchronous]);
	if (exec(s, "PRAGMA journal_mode = WAL") == -1 ||
	    exec(s, sql) == -1 ||
	    exec(s, "PRAGMA mmap_size = 0") == -1 ||
	    exec(s, "PRAGMA temp_store = MEMORY") == -1 ||
	    exec(s, "PRAGMA wal_autocheckpoint = 0") == -1)
		return -1;
	snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit = %llu",
	    (unsigned long long)c->journal_size_limit);
	if (exec(s, sql) == -1)
		return -1;
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", STORE_CACHE_KIB);
	if (exec(s, sql) == -1)
		return -1;
	if (pragma_int(s, "PRAGMA page_size", &s->page_size) == -1)
		return -1;
	if (migrate(s) == -1)
		return -1;
	if (check_unclean(s) == -1)
		return -1;
	/* Both files are open now: check_unclean wrote. */
	store_fadvise(s->path, 1);
	sqlite3_wal_hook(s->db, wal_hook, s);

	if (prepare(s, &s->begin, "BEGIN IMMEDIATE") == -1 ||
	    prepare(s, &s->commit, "COMMIT") == -1 ||
	    prepare(s, &s->rollback, "ROLLBACK") == -1 ||
	    prepare(s, &s->ins_series, "INSERT INTO series (id, device, name, "
	    "labels, created_ms) VALUES (?, ?, ?, ?, "
	    "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))") == -1 ||
	    prepare(s, &s->ins_head, "INSERT INTO head (id, series, t0, t1, "
	    "n, data, up) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)") == -1 ||
	    prepare_head_many(s) == -1 ||
	    prepare(s, &s->ins_chunk, "INSERT INTO chunk (series, t0, t1, n, "
	    "data) VALUES (?, ?, ?, ?, ?)") == -1 ||
	    prepare(s, &s->ins_gap, "INSERT OR IGNORE INTO gap (device, from_ts, to_ts, "
	    "count, reason, recorded_ms) VALUES (?, ?, ?, ?, ?, ?)") == -1 ||
	    /* Series 0: a packed row, which may hold the series. */
	    prepare(s, &s->find_head, "SELECT data, series FROM head WHERE "
	    "id >= " STORE_HEAD_KEY_SQL("?2") " AND series IN (0, ?1) AND "
	    "t1 >= ?2 AND t0 <= ?2") == -1 ||
	    prepare(s, &s->find_chunk, "SELECT data, series FROM chunk WHERE "
	    "series = ?1 AND t1 >= ?2 AND t0 <= ?2") == -1 ||
	    /* The compaction plan: every head row's series, or only the
	     * uploaded ones' while an uploader is configured. */
	    prepare(s, &s->head_plan, "SELECT id, series, n, CASE series "
	    "WHEN 0 THEN data END FROM head") == -1 ||
	    prepare(s, &s->head_plan_up, "SELECT id, series, n, CASE series "
	    "WHEN 0 THEN data END FROM head WHERE up != 0") == -1 ||
	    prepare(s, &s->head_get, "SELECT data FROM head WHERE id = ?1")
	    == -1 ||
	    prepare(s, &s->head_set, "UPDATE head SET t0 = ?2, t1 = ?3, "
	    "n = ?4, data = ?5 WHERE id = ?1") == -1 ||
	    /* A compaction step's rows, in the plan's order (the array's:
	     * CROSS JOIN keeps it the outer loop), and their removal: one
	     * statement each per step, not per row, since a statement's
	     * set-up and halt cost more than the lookup of one row. */
	    prepare(s, &s->head_rows, "SELECT h.id, h.series, h.data, h.up "
	    "FROM json_each(?1) AS j CROSS JOIN head AS h ON h.id = j.value")
	    == -1 ||
	    prepare(s, &s->head_del, "DELETE FROM head WHERE id IN "
	    "(SELECT value FROM json_each(?1))") == -1 ||
	    prepare(s, &s->has_bucket, "SELECT 1 FROM tier_rows WHERE tid = "
	    STORE_TIER_ID_SQL("?1") " AND series = ?2 AND b = ?3") == -1 ||
	    prepare(s, &s->head_count, "SELECT coalesce(sum(n), 0) FROM head "
	    "WHERE ?1 = 0 OR up != 0") == -1 ||
	    prepare(s, &s->pending_new, "SELECT id, series, n, data FROM head "
	    "WHERE up = 0 ORDER BY id DESC") == -1 ||
	    prepare(s, &s->pending_old, "SELECT id, series, n, data FROM head "
	    "WHERE up = 0 ORDER BY id") == -1 ||
	    prepare(s, &s->pending_count, "SELECT count(*), coalesce(sum(n), 0), "
	    "coalesce(min(t0), 0) FROM head WHERE up = 0") == -1 ||
	    prepare(s, &s->mark_up, "UPDATE head SET up = ?2 WHERE id = ?1 AND "
	    "up = 0") == -1 ||
	    prepare(s, &s->ins_setaside, "INSERT INTO setaside (batch, samples, "
	    "reason, recorded_ms) VALUES (?, ?, ?, ?)") == -1 ||
	    prepare(s, &s->upsert_device, "INSERT INTO devices (id, hostname, "
	    "address, os, first_seen_ms, last_seen_ms, last_batch_ms) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?5) ON CONFLICT (id) DO UPDATE SET "
	    "hostname = coalesce(nullif(excluded.hostname, ''), hostname), "
	    "address = coalesce(nullif(excluded.address, ''), address), "
	    "os = coalesce(nullif(excluded.os, ''), os), "
	    "last_seen_ms = excluded.last_seen_ms, "
	    "last_batch_ms = excluded.last_batch_ms") == -1)
		return -1;
	return head_next_load(s);
}

int
store_mark_clean(struct store *s)
{
	return exec(s, "INSERT OR REPLACE INTO state (key, value) VALUES "
	    "('clean', 1)");
}

int
store_is_corrupt(const struct store *s)
{
	return (s->rc & 0xff) == SQLITE_CORRUPT ||
	    (s->rc & 0xff) == SQLITE_NOTADB;
}

void
store_close(struct store *s)
{
	sqlite3_stmt	**sts[] = {
		&s->begin, &s->commit, &s->rollback, &s->ins_series,
		&s->ins_head, &s->ins_head_many, &s->ins_chunk, &s->ins_gap,
		&s->find_head, &s->find_chunk, &s->head_plan, &s->head_plan_up,
		&s->head_rows, &s->head_del, &s->head_get, &s->head_set,
		&s->head_count, &s->has_bucket,
		&s->pending_new, &s->pending_old, &s->pending_count,
		&s->mark_up, &s->ins_setaside, &s->upsert_device,
	};
	size_t		  i;

	for (i = 0; i < sizeof(sts) / sizeof(sts[0]); i++) {
		sqlite3_finalize(*sts[i]);
		*sts[i] = NULL;
	}
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		log_warnx("%s: close: %s", s->path, sqlite3_errmsg(s->db));
	s->db = NULL;
	free(s->ts);
	free(s->v);
	free(s->enc);
	free(s->plan);
	free(s->hq);
	free(s->hqbuf);
	free(s->pk);
	free(s->pk_ts);
	free(s->pk_v);
	free(s->rows.p);
	free(s->dels.p);
	s->plan = NULL;
	s->nplan = s->plancap = s->planpos = 0;
	s->ts = NULL;
	s->v = NULL;
	s->enc = NULL;
	s->cap = s->enccap = 0;
}

/* Grows the sample scratch to hold n samples. */
static int
reserve(struct store *s, size_t n)
{
	size_t	 ncap = s->cap ? s->cap : CHUNK_MAX_SAMPLES;
	int64_t	*nts;
	double	*nv;

	if (n <= s->cap)
		return 0;
	while (ncap < n)
		ncap *= 2;
	if ((nts = realloc(s->ts, ncap * sizeof(*nts))) == NULL)
		return -1;
	s->ts = nts;
	if ((nv = realloc(s->v, ncap * sizeof(*nv))) == NULL)
		return -1;
	s->v = nv;
	s->cap = ncap;
	return 0;
}

static uint8_t *
enc_buf(struct store *s, size_t n)
{
	size_t	need = CHUNK_MAX_BYTES(n);
	uint8_t	*p;

	if (need > s->enccap) {
		if ((p = realloc(s->enc, need)) == NULL)
			return NULL;
		s->enc = p;
		s->enccap = need;
	}
	return s->enc;
}

/* Raises each series' newest timestamp to its newest in packed rows. */
static int
load_packed_last(struct store *s, struct series_table *t)
{
	sqlite3_stmt		*st;
	struct pack_iter	 it;
	struct series		*se;
	int64_t			 series;
	int			 rc;

	if (sqlite3_prepare_v2(s->db, "SELECT id, data FROM head WHERE "
	    "series = 0", -1, &st, NULL) != SQLITE_OK)
		return fail(s, "load series");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (pack_open(&it, sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1), NULL, 0) == -1)
			continue;
		while (pack_next(&it, &series, NULL, NULL, 0, NULL, 0) > 0)
			if ((se = series_by_id(t, series)) != NULL &&
			    it.last > se->last_ts)
				se->last_ts = it.last;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(s, "load series");
}

int
store_load_series(struct store *s, struct series_table *t)
{
	sqlite3_stmt	*st, *mx;
	struct series	*se;
	int		 rc;
	int64_t		 last;

	if (sqlite3_prepare_v2(s->db, "SELECT id, device, name, labels FROM "
	    "series ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		return fail(s, "load series");
	/* Per-series MAX on the (series, t1) indexes: two seeks each. */
	if (sqlite3_prepare_v2(s->db, "SELECT max(coalesce((SELECT max(t1) "
	    "FROM head WHERE series = ?1), -9223372036854775807 - 1), "
	    "coalesce((SELECT max(t1) FROM chunk WHERE series = ?1), "
	    "-9223372036854775807 - 1))", -1, &mx, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return fail(s, "load series");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		se = series_add_loaded(t, sqlite3_column_int64(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2),
		    (const char *)sqlite3_column_text(st, 3));
		if (se == NULL) {
			snprintf(s->err, sizeof(s->err), "series %lld cannot "
			    "be loaded (out of memory or malformed)",
			    (long long)sqlite3_column_int64(st, 0));
			rc = SQLITE_NOMEM;
			break;
		}
		sqlite3_bind_int64(mx, 1, se->id);
		if (sqlite3_step(mx) == SQLITE_ROW) {
			last = sqlite3_column_int64(mx, 0);
			se->last_ts = last;
		}
		sqlite3_reset(mx);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(mx);
	if (rc != SQLITE_DONE) {
		if (rc != SQLITE_NOMEM)
			return fail(s, "load series");
		s->rc = rc;
		return -1;
	}
	return load_packed_last(s, t);
}

int
store_begin(struct store *s)
{
	return step_done(s, s->begin, "BEGIN");
}

int
store_commit(struct store *s)
{
	if ((s->nhq > 0 || s->npk > 0) && head_flush(s) == -1)
		return -1;
	return step_done(s, s->commit, "COMMIT");
}

void
store_rollback(struct store *s)
{
	s->nhq = 0;
	s->hqlen = 0;
	s->npk = 0;
	s->npk_samples = 0;
	if (!sqlite3_get_autocommit(s->db)) {
		sqlite3_step(s->rollback);
		sqlite3_reset(s->rollback);
	}
}

int
store_put_series(struct store *s, const struct series *se)
{
	sqlite3_stmt	*st = s->ins_series;

	sqlite3_bind_int64(st, 1, se->id);
	sqlite3_bind_text(st, 2, se->device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, se->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, se->labels, -1, SQLITE_STATIC);
	return step_done(s, st, "insert series");
}

/*
 * A chunk's encoding is cut at about this many bytes, so that four rows
 * (each some 30 bytes more) share a 4 KiB page.  A chunk of a regular
 * series (1-2 bytes a sample) is far below it; a noisy one (up to 10)
 * would otherwise take a page of its own and leave a third of it empty,
 * or spill into an overflow page.
 */
#define STORE_CHUNK_BYTES	980

/* Where put_chunks sends each chunk: the head's queue or the chunk table. */
typedef int	(*chunk_sink)(struct store *, int64_t series, int64_t t0,
		    int64_t t1, size_t n, const uint8_t *data, size_t len,
		    const char *what);

/* put_chunks' sink for per-series storage (compaction). */
static int
chunk_insert(struct store *s, int64_t series, int64_t t0, int64_t t1,
    size_t n, const uint8_t *data, size_t len, const char *what)
{
	sqlite3_stmt	*st = s->ins_chunk;

	sqlite3_bind_int64(st, 1, series);
	sqlite3_bind_int64(st, 2, t0);
	sqlite3_bind_int64(st, 3, t1);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)n);
	sqlite3_bind_blob(st, 5, data, (int)len, SQLITE_STATIC);
	return step_done(s, st, what);
}

/*
 * Cuts samples into chunks of at most CHUNK_MAX_SAMPLES samples and about
 * STORE_CHUNK_BYTES bytes, and hands each to sink.
 */
static int
put_chunks(struct store *s, chunk_sink sink, int64_t series,
    const int64_t *ts, const double *v, size_t n, const char *what)
{
	size_t	 k, len;
	uint8_t	*buf;

	while (n > 0) {
		k = n < CHUNK_MAX_SAMPLES ? n : CHUNK_MAX_SAMPLES;
		if ((buf = enc_buf(s, k)) == NULL)
			return nomem(s, what);
		if ((len = chunk_encode(ts, v, k, buf)) == 0) {
			s->rc = SQLITE_MISUSE;
			snprintf(s->err, sizeof(s->err), "%s: series %lld: "
			    "timestamps not increasing", what,
			    (long long)series);
			return -1;
		}
		/* Too big to share a page: fewer samples, in proportion. */
		while (len > STORE_CHUNK_BYTES && k > 1) {
			k = k * STORE_CHUNK_BYTES / len;
			if (k == 0)
				k = 1;
			len = chunk_encode(ts, v, k, buf);
		}
		if (sink(s, series, ts[0], ts[k - 1], k, buf, len,
		    what) == -1)
			return -1;
		ts += k;
		v += k;
		n -= k;
	}
	return 0;
}

/* Queues a short run for a packed row (head_flush writes them). */
static int
pack_queue(struct store *s, int64_t series, const char *group,
    const int64_t *ts, const double *v, size_t n)
{
	struct pack_q	*q;
	size_t		 i, nc;
	int64_t		*nts;
	double		*nv;

	for (i = 1; i < n; i++)
		if (ts[i] <= ts[i - 1]) {
			s->rc = SQLITE_MISUSE;
			snprintf(s->err, sizeof(s->err), "insert head: series "
			    "%lld: timestamps not increasing", (long long)series);
			return -1;
		}
	if (s->npk == s->pkcap) {
		nc = s->pkcap ? s->pkcap * 2 : 256;
		if ((q = reallocarray(s->pk, nc, sizeof(*q))) == NULL)
			return nomem(s, "insert head");
		s->pk = q;
		s->pkcap = nc;
	}
	if (s->pk_samples_cap - s->npk_samples < n) {
		nc = s->pk_samples_cap ? s->pk_samples_cap * 2 : 1024;
		while (nc - s->npk_samples < n)
			nc *= 2;
		if ((nts = reallocarray(s->pk_ts, nc, sizeof(*nts))) == NULL)
			return nomem(s, "insert head");
		s->pk_ts = nts;
		if ((nv = reallocarray(s->pk_v, nc, sizeof(*nv))) == NULL)
			return nomem(s, "insert head");
		s->pk_v = nv;
		s->pk_samples_cap = nc;
	}
	memcpy(s->pk_ts + s->npk_samples, ts, n * sizeof(*ts));
	memcpy(s->pk_v + s->npk_samples, v, n * sizeof(*v));
	q = &s->pk[s->npk++];
	q->series = series;
	q->group = group;
	q->off = s->npk_samples;
	q->n = n;
	s->npk_samples += n;
	return 0;
}

static int
group_cmp(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

/* By group, then series, then queue order. */
static int
pack_cmp(const void *a, const void *b)
{
	const struct pack_q	*x = a, *y = b;
	int			 c = group_cmp(x->group, y->group);

	if (c != 0)
		return c;
	if (x->series != y->series)
		return x->series < y->series ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * Encodes the queued short runs as packed rows, one group at a time, and
 * queues the rows.  A series queued twice in a transaction goes in a
 * second row: entries ascend strictly.
 */
static int
pack_flush(struct store *s)
{
	uint8_t			 buf[PACK_HEADER_MAX_BYTES + STORE_PACK_BYTES +
				    PACK_ENTRY_MAX_BYTES(STORE_PACK_RUN)];
	const struct pack_q	*q, *first;
	size_t			 i, j, npk = s->npk, len, k;
	int64_t			 prev, base, t0, t1, total;

	/* head_queue may insert what is queued, which comes back here:
	 * there is nothing to pack then. */
	s->npk = 0;
	if (npk > 1)
		qsort(s->pk, npk, sizeof(*s->pk), pack_cmp);
	for (i = 0; i < npk; i = j) {
		first = &s->pk[i];
		base = s->pk_ts[first->off];
		len = pack_begin(buf, base);
		prev = total = 0;
		t0 = INT64_MAX;
		t1 = INT64_MIN;
		for (j = i; j < npk; j++) {
			q = &s->pk[j];
			if (j > i && (len >= PACK_HEADER_MAX_BYTES +
			    STORE_PACK_BYTES || q->series == prev ||
			    group_cmp(q->group, first->group) != 0))
				break;
			k = pack_put(buf + len, prev, q->series, base,
			    s->pk_ts + q->off, s->pk_v + q->off, q->n);
			if (k == 0) {
				s->rc = SQLITE_MISUSE;
				snprintf(s->err, sizeof(s->err), "insert head: "
				    "series %lld cannot be packed",
				    (long long)q->series);
				s->npk_samples = 0;
				return -1;
			}
			len += k;
			prev = q->series;
			total += (int64_t)q->n;
			if (s->pk_ts[q->off] < t0)
				t0 = s->pk_ts[q->off];
			if (s->pk_ts[q->off + q->n - 1] > t1)
				t1 = s->pk_ts[q->off + q->n - 1];
		}
		if (head_queue(s, 0, t0, t1, (size_t)total, buf, len,
		    "insert head") == -1) {
			s->npk_samples = 0;
			return -1;
		}
	}
	s->npk_samples = 0;
	return 0;
}

int
store_put_head(struct store *s, int64_t series, const char *group,
    const int64_t *ts, const double *v, size_t n)
{
	if (n > 0 && n <= STORE_PACK_RUN && series > 0)
		return pack_queue(s, series, group, ts, v, n);
	return put_chunks(s, head_queue, series, ts, v, n, "insert head");
}

int
store_put_gap(struct store *s, const char *device, const struct gap *g,
    const char *reason, int64_t now_ms)
{
	sqlite3_stmt	*st = s->ins_gap;

	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, g->from_ts);
	sqlite3_bind_int64(st, 3, g->to_ts);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)g->count);
	sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now_ms);
	return step_done(s, st, "insert gap");
}

/* Looks for ts in the chunks st returns; 1 found, 0 not, -1 error. */
static int
find_in(struct store *s, sqlite3_stmt *st, int64_t series, int64_t ts)
{
	char	 why[128];
	long	 n, lo, hi, mid;
	int	 rc, found = 0;

	sqlite3_bind_int64(st, 1, series);
	sqlite3_bind_int64(st, 2, ts);
	while (!found && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const uint8_t	*p = sqlite3_column_blob(st, 0);
		size_t		 len = (size_t)sqlite3_column_bytes(st, 0);

		if (reserve(s, CHUNK_MAX_SAMPLES) == -1) {
			sqlite3_reset(st);
			s->rc = SQLITE_NOMEM;
			snprintf(s->err, sizeof(s->err), "lookup: no memory");
			return -1;
		}
		n = head_decode(sqlite3_column_int64(st, 1), series, p, len,
		    s->ts, s->v, s->cap, why, sizeof(why));
		if (n < 0) {
			log_warnx("%s: series %lld: corrupt chunk skipped: %s",
			    s->path, (long long)series, why);
			continue;
		}
		lo = 0;
		hi = n - 1;
		while (lo <= hi) {
			mid = lo + (hi - lo) / 2;
			if (s->ts[mid] == ts) {
				found = 1;
				break;
			}
			if (s->ts[mid] < ts)
				lo = mid + 1;
			else
				hi = mid - 1;
		}
	}
	if (!found && rc != SQLITE_DONE) {
		sqlite3_reset(st);
		return fail(s, "lookup");
	}
	sqlite3_reset(st);
	return found;
}

int
store_has_sample(struct store *s, int64_t series, int64_t ts)
{
	int	rc;

	if ((s->nhq > 0 || s->npk > 0) && head_flush(s) == -1)
		return -1;
	if ((rc = find_in(s, s->find_head, series, ts)) != 0)
		return rc;
	return find_in(s, s->find_chunk, series, ts);
}

int64_t
store_head_samples(struct store *s)
{
	int64_t	n = 0;

	sqlite3_bind_int(s->head_count, 1, s->upload_gate);
	if (sqlite3_step(s->head_count) == SQLITE_ROW)
		n = sqlite3_column_int64(s->head_count, 0);
	sqlite3_reset(s->head_count);
	return n;
}

/* Sorts (ts, v) pairs by ts; used only when head rows overlap in time. */
static void
sort_pairs(int64_t *ts, double *v, size_t n)
{
	size_t	i, j;
	int64_t	t;
	double	x;

	/* Shell sort: no allocation, fine for a few thousand samples. */
	for (size_t gap = n / 2; gap > 0; gap /= 2)
		for (i = gap; i < n; i++) {
			t = ts[i];
			x = v[i];
			for (j = i; j >= gap && ts[j - gap] > t; j -= gap) {
				ts[j] = ts[j - gap];
				v[j] = v[j - gap];
			}
			ts[j] = t;
			v[j] = x;
		}
}

/*
 * Writes one series' samples gathered from its head rows as chunks: sorted
 * if rows overlapped in time, duplicates dropped (the writer never stores
 * a (series, ts) twice; this only guards against a bug).
 */
static int
compact_flush(struct store *s, int64_t series, size_t n, int sorted)
{
	size_t	i, o;

	if (!sorted) {
		sort_pairs(s->ts, s->v, n);
		for (i = 1, o = 1; i < n; i++)
			if (s->ts[i] != s->ts[o - 1]) {
				s->ts[o] = s->ts[i];
				s->v[o++] = s->v[i];
			}
		n = n > 0 ? o : 0;
	}
	if (n == 0)
		return 0;
	return put_chunks(s, chunk_insert, series, s->ts, s->v, n,
	    "compaction insert");
}

static int
plan_cmp(const void *a, const void *b)
{
	const struct head_ref	*x = a, *y = b;

	if (x->series != y->series)
		return x->series < y->series ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Lists the head rows a compaction pass takes, grouped by series in id
 * (time) order.  Rows committed after this are left to the next pass.
 * One scan of the head per pass: it has no series index (migrations
 * 3 -> 4 and 7 -> 8 say why), so finding each step's series by query
 * would scan and sort the whole head once per step.
 */
static struct head_ref *
plan_add(struct store *s)
{
	struct head_ref	*np;
	size_t		 nc;

	if (s->nplan == s->plancap) {
		nc = s->plancap ? s->plancap * 2 : 1024;
		if ((np = reallocarray(s->plan, nc, sizeof(*np))) == NULL)
			return NULL;
		s->plan = np;
		s->plancap = nc;
	}
	memset(&s->plan[s->nplan], 0, sizeof(s->plan[0]));
	return &s->plan[s->nplan++];
}

/*
 * Plans the entries of packed row id: one per series, each knowing the
 * row's last series, which is when the row can go.  A row that does not
 * parse to its end is planned up to where it does (the rest is logged and
 * dropped with the row); one with no readable entry is planned as series
 * 0, which compact_next deletes.
 */
static int
plan_packed(struct store *s, int64_t id, const uint8_t *p, size_t len)
{
	struct pack_iter	 it;
	struct head_ref		*r;
	size_t			 first = s->nplan, i;
	int64_t			 series = 0;
	long			 k = -1;
	char			 why[128];

	if (pack_open(&it, p, len, why, sizeof(why)) == 0)
		while ((k = pack_next(&it, &series, NULL, NULL, 0, why,
		    sizeof(why))) > 0) {
			if ((r = plan_add(s)) == NULL)
				return nomem(s, "compaction plan");
			r->id = id;
			r->series = series;
			r->n = k;
			r->packed = 1;
		}
	if (k < 0)
		log_warnx("%s: packed head row %lld corrupt after %zu series "
		    "(%s); the rest is dropped at compaction", s->path,
		    (long long)id, s->nplan - first, why);
	if (s->nplan == first) {
		if ((r = plan_add(s)) == NULL)
			return nomem(s, "compaction plan");
		r->id = id;
		r->packed = 1;
	}
	for (i = first; i < s->nplan; i++)
		s->plan[i].last_series = series;
	return 0;
}

/*
 * Lists the head rows a compaction pass takes, grouped by series in id
 * (time) order; a packed row is listed once for each series it holds.
 * Rows committed after this are left to the next pass.  One scan of the
 * head per pass: it has no series index (migrations 3 -> 4 and 7 -> 8
 * say why), so finding each step's series by query would scan and sort
 * the whole head once per step.
 */
static int
compact_plan(struct store *s)
{
	sqlite3_stmt	*st = s->upload_gate ? s->head_plan_up : s->head_plan;
	struct head_ref	*r;
	int		 rc;

	s->nplan = s->planpos = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_int64(st, 1) == 0) {
			if (plan_packed(s, sqlite3_column_int64(st, 0),
			    sqlite3_column_blob(st, 3),
			    (size_t)sqlite3_column_bytes(st, 3)) == -1) {
				sqlite3_reset(st);
				return -1;
			}
			continue;
		}
		if ((r = plan_add(s)) == NULL) {
			sqlite3_reset(st);
			return nomem(s, "compaction plan");
		}
		r->id = sqlite3_column_int64(st, 0);
		r->series = sqlite3_column_int64(st, 1);
		r->n = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return fail(s, "compaction scan");
	if (s->nplan > 1)
		qsort(s->plan, s->nplan, sizeof(*s->plan), plan_cmp);
	return 0;
}

/* head_next after the newest head row (store.h: store_head_key). */
static int
head_next_load(struct store *s)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(s->db, "SELECT max(id) FROM head", -1, &st,
	    NULL) != SQLITE_OK)
		return fail(s, "head ids");
	if ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		s->head_next = sqlite3_column_int64(st, 0) + 1;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : fail(s, "head ids");
}

/*
 * Appends id to a JSON array of row ids being built ("[1,2", closed by
 * ids_close); by hand, since a compaction step formats thousands.  Ids
 * are time keys (store.h), so a sample from before 1970 makes one
 * negative.
 */
/* Room for need more bytes in l. */
static int
ids_room(struct idlist *l, size_t need)
{
	char	*np;
	size_t	 nc = l->cap ? l->cap : 4096;

	while (nc - l->len < need)
		nc *= 2;
	if (nc == l->cap)
		return 0;
	if ((np = realloc(l->p, nc)) == NULL)
		return -1;
	l->p = np;
	l->cap = nc;
	return 0;
}

static int
ids_add(struct idlist *l, int64_t id)
{
	char		 digits[24];
	size_t		 nd = 0;
	uint64_t	 u = id < 0 ? -(uint64_t)id : (uint64_t)id;

	/* Separator, sign, digits, and a closing ']' to come. */
	if (ids_room(l, sizeof(digits) + 3) == -1)
		return -1;
	do {
		digits[nd++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	l->p[l->len] = l->len == 0 ? '[' : ',';
	l->len++;
	if (id < 0)
		l->p[l->len++] = '-';
	while (nd > 0)
		l->p[l->len++] = digits[--nd];
	return 0;
}

/* Closes the array: "[]" when nothing was added. */
static int
ids_close(struct idlist *l)
{
	if (ids_room(l, 2) == -1)
		return -1;
	if (l->len == 0)
		l->p[l->len++] = '[';
	l->p[l->len++] = ']';
	return 0;
}

/*
 * Decodes series' samples of one head row (its entry, for a packed row)
 * onto the scratch buffers at *n.  An unreadable row is logged and
 * dropped (it is still deleted).
 */
static void
compact_decode(struct store *s, const struct head_ref *ref,
    const uint8_t *p, size_t len, size_t *n, int *sorted)
{
	long	cnt, k;
	char	why[128];

	if (ref->series == 0)
		return;		/* a packed row with nothing readable */
	cnt = ref->packed ? ref->n : chunk_count(p, len);
	if (cnt < 0 || reserve(s, *n + (size_t)cnt) == -1) {
		log_warnx("%s: series %lld: head row %lld unreadable, dropped "
		    "at compaction", s->path, (long long)ref->series,
		    (long long)ref->id);
	} else if ((k = head_decode(ref->packed ? 0 : ref->series,
	    ref->series, p, len, s->ts + *n, s->v + *n, (size_t)cnt, why,
	    sizeof(why))) <= 0) {
		log_warnx("%s: series %lld: head row %lld corrupt (%s), "
		    "dropped at compaction", s->path, (long long)ref->series,
		    (long long)ref->id, k == 0 ? "series not in it" : why);
	} else {
		if (*n > 0 && s->ts[*n] <= s->ts[*n - 1])
			*sorted = 0;
		*n += (size_t)k;
	}
}

static int
cmp_id(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Rewrites packed row id without its entries of series up to `upto`, which
 * a compaction step has moved: every sample stays in exactly one place at
 * each commit, whatever step comes next or does not.
 */
static int
pack_trim(struct store *s, int64_t id, int64_t upto)
{
	uint8_t			*buf;
	struct pack_iter	 it;
	int64_t			 series, prev = 0, t0 = INT64_MAX, t1 = INT64_MIN;
	int64_t			 total = 0;
	size_t			 len, k;
	long			 n;
	char			 why[128];
	int			 rc;

	if (reserve(s, CHUNK_MAX_SAMPLES) == -1)
		return nomem(s, "compaction");
	sqlite3_bind_int64(s->head_get, 1, id);
	if ((rc = sqlite3_step(s->head_get)) != SQLITE_ROW) {
		sqlite3_reset(s->head_get);
		return rc == SQLITE_DONE ? 0 : fail(s, "compaction trim");
	}
	len = (size_t)sqlite3_column_bytes(s->head_get, 0);
	if (pack_open(&it, sqlite3_column_blob(s->head_get, 0), len, why,
	    sizeof(why)) == -1) {
		sqlite3_reset(s->head_get);
		return 0;	/* planned as unreadable: deleted at its end */
	}
	/* The same header and a subset of the entries; only the first kept
	 * entry's series delta can grow, by a varint's worth. */
	if ((buf = malloc(len + 10)) == NULL) {
		sqlite3_reset(s->head_get);
		return nomem(s, "compaction trim");
	}
	len = pack_begin(buf, it.base);
	while ((n = pack_next(&it, &series, s->ts, s->v, s->cap, why,
	    sizeof(why))) > 0) {
		if (series <= upto)
			continue;
		k = pack_put(buf + len, prev, series, it.base, s->ts, s->v,
		    (size_t)n);
		len += k;
		prev = series;
		total += n;
		if (s->ts[0] < t0)
			t0 = s->ts[0];
		if (s->ts[n - 1] > t1)
			t1 = s->ts[n - 1];
	}
	sqlite3_reset(s->head_get);
	if (total == 0) {
		free(buf);
		return 0;
	}
	sqlite3_bind_int64(s->head_set, 1, id);
	sqlite3_bind_int64(s->head_set, 2, t0);
	sqlite3_bind_int64(s->head_set, 3, t1);
	sqlite3_bind_int64(s->head_set, 4, total);
	sqlite3_bind_blob(s->head_set, 5, buf, (int)len, SQLITE_STATIC);
	rc = step_done(s, s->head_set, "compaction trim");
	free(buf);
	return rc;
}

/*
 * Moves the head rows of the plan's next series into chunks, in one
 * transaction, and deletes them: whole series, until they hold
 * max_samples samples (at least one series).  A packed row goes with its
 * last series; one the step has taken only some series of is rewritten
 * without them.  A row gone since the plan was made (retention took it)
 * does not come back from the read; one not yet uploaded while the gate
 * is up is left where it is.  Returns the number of series moved.
 */
static int
compact_next(struct store *s, int64_t max_samples)
{
	sqlite3_stmt	*st = s->head_rows;
	size_t		 i = s->planpos, j, n = 0, ntrim = 0, trimcap = 0, t;
	int64_t		 series = -1, id, taken = 0, last;
	int64_t		*trim = NULL, *nt;
	int		 done = 0, sorted = 1, rc;

	while (i < s->nplan && (done == 0 || taken < max_samples)) {
		int64_t	cur = s->plan[i].series;

		for (; i < s->nplan && s->plan[i].series == cur; i++) {
			if (ids_add(&s->rows, s->plan[i].id) == -1)
				goto nomem;
			taken += s->plan[i].n;
		}
		done++;
	}
	last = s->plan[i - 1].series;
	if (ids_close(&s->rows) == -1)
		goto nomem;
	if (store_begin(s) == -1)
		goto fail;
	sqlite3_bind_text(st, 1, s->rows.p, (int)s->rows.len, SQLITE_STATIC);
	/* Rows come back in the plan's order, less any gone: j follows. */
	j = s->planpos;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const struct head_ref	*ref;

		id = sqlite3_column_int64(st, 0);
		while (j < i && s->plan[j].id != id)
			j++;
		if (j == i)
			break;		/* cannot happen: the list is the plan's */
		ref = &s->plan[j++];
		if (s->upload_gate && sqlite3_column_int(st, 3) == 0)
			continue;
		if (ref->series != series) {
			if (series != -1 &&
			    compact_flush(s, series, n, sorted) == -1)
				goto fail;
			series = ref->series;
			n = 0;
			sorted = 1;
		}
		compact_decode(s, ref, sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2), &n, &sorted);
		if (!ref->packed || ref->last_series <= last) {
			if ((!ref->packed || ref->series == ref->last_series) &&
			    ids_add(&s->dels, id) == -1)
				goto nomem;
		} else {
			/* Once per entry, so a row comes several times:
			 * sorted and made unique below. */
			if (ntrim == trimcap) {
				trimcap = trimcap ? trimcap * 2 : 256;
				if ((nt = reallocarray(trim, trimcap,
				    sizeof(*trim))) == NULL)
					goto nomem;
				trim = nt;
			}
			trim[ntrim++] = id;
		}
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fail(s, "compaction read");
		goto fail;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (series != -1 && compact_flush(s, series, n, sorted) == -1)
		goto fail;
	if (ntrim > 1)
		qsort(trim, ntrim, sizeof(*trim), cmp_id);
	for (t = 0; t < ntrim; t++)
		if ((t == 0 || trim[t] != trim[t - 1]) &&
		    pack_trim(s, trim[t], last) == -1)
			goto fail;
	if (ids_close(&s->dels) == -1)
		goto nomem;
	sqlite3_bind_text(s->head_del, 1, s->dels.p, (int)s->dels.len,
	    SQLITE_STATIC);
	rc = step_done(s, s->head_del, "compaction delete");
	sqlite3_clear_bindings(s->head_del);
	if (rc == -1 || store_commit(s) == -1)
		goto fail;
	s->planpos = i;
	s->rows.len = s->dels.len = 0;
	free(trim);
	return done;
nomem:
	nomem(s, "compaction");
fail:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	store_rollback(s);	/* a no-op if store_begin failed */
	s->rows.len = s->dels.len = 0;
	free(trim);
	return -1;
}

int
store_compact_step(struct store *s, int64_t *cursor, int64_t max_samples)
{
	if (*cursor == 0) {
		if (compact_plan(s) == -1)
			return -1;
		*cursor = 1;
	}
	if (s->planpos >= s->nplan)
		return 0;
	return compact_next(s, max_samples);
}

int
store_checkpoint(struct store *s, int mode)
{
	int	log_frames = 0, ckpt = 0, rc;

	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, mode, &log_frames, &ckpt);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		return fail(s, "checkpoint");
	if (ckpt >= log_frames)
		s->wal_pages = 0;
	return 0;
}

static int64_t
file_bytes(const char *path)
{
	struct stat	st;

	return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

int64_t
store_db_bytes(const struct store *s)
{
	return file_bytes(s->path);
}

int64_t
store_wal_bytes(const struct store *s)
{
	char	wal[CONF_PATH_MAX + 8];

	snprintf(wal, sizeof(wal), "%s-wal", s->path);
	return file_bytes(wal);
}

int
store_mark_uploaded(struct store *s, const int64_t *rows, size_t n, int up)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(s->mark_up, 1, rows[i]);
		sqlite3_bind_int(s->mark_up, 2, up);
		if (step_done(s, s->mark_up, "mark uploaded") == -1)
			return -1;
	}
	return 0;
}

int
store_put_setaside(struct store *s, uint64_t batch, uint64_t samples,
    const char *reason, int64_t now_ms)
{
	sqlite3_stmt	*st = s->ins_setaside;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)batch);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)samples);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now_ms);
	return step_done(s, st, "insert setaside");
}

int
store_put_device(struct store *s, const char *id, const char *hostname,
    const char *address, const char *os, int64_t now_ms)
{
	sqlite3_stmt	*st = s->upsert_device;

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hostname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, address, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, os, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now_ms);
		return step_done(s, st, "upsert device");
}

int
store_pending(struct store *s, int64_t *rows, int64_t *samples,
    int64_t *oldest_ts)
{
	int	rc;

	*rows = *samples = *oldest_ts = 0;
	rc = sqlite3_step(s->pending_count);
	if (rc == SQLITE_ROW) {
		*rows = sqlite3_column_int64(s->pending_count, 0);
		*samples = sqlite3_column_int64(s->pending_count, 1);
		*oldest_ts = sqlite3_column_int64(s->pending_count, 2);
	}
	sqlite3_reset(s->pending_count);
	return rc == SQLITE_ROW ? 0 : fail(s, "pending count");
}

int
store_has_bucket(struct store *s, int64_t tier, int64_t series, int64_t bucket)
{
	int	rc;

	sqlite3_bind_int64(s->has_bucket, 1, tier);
	sqlite3_bind_int64(s->has_bucket, 2, series);
	sqlite3_bind_int64(s->has_bucket, 3, store_div_floor(bucket, tier));
	rc = sqlite3_step(s->has_bucket);
	sqlite3_reset(s->has_bucket);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : fail(s, "bucket lookup");
}
