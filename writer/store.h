/*
 * store.h -- the writer's SQLite database: schema, migrations, ingest
 * transactions, compaction and checkpoints.
 *
 * Only tern-writer opens the database read-write (store_open); every other
 * reader goes through read.h on a read-only connection.  Functions return 0
 * (or a count) on success and -1 on failure, with the SQLite result code in
 * store->rc and a message in store->err; the caller decides whether the
 * failure is transient (a full disk) or fatal.
 */
#ifndef TERN_STORE_H
#define TERN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "body.h"
#include "conf.h"
#include "series.h"

/* The schema version this binary migrates to (PRAGMA user_version). */
#define STORE_SCHEMA_VERSION	10

/* Row ids as a JSON array, for json_each(): one statement per set. */
struct idlist {
	char		*p;
	size_t		 len, cap;
};

/*
 * A head row's id is never below its newest timestamp (t1, ms) times
 * 65536, the timestamp clamped to +-2^46 ms (some 2,200 years) so that the
 * product fits: id = max(key(t1), previous id + 1).  A reader that wants
 * rows with t1 >= from scans the rowid range from key(from) on, which is
 * what an index on t1 did, without the index (schema 8 says why).  The
 * bound is only a lower one: rows of a late or backfilling producer come
 * with ids above their time.  STORE_HEAD_KEY_SQL is the same key in SQL,
 * for a bound parameter or column.
 */
#define STORE_HEAD_KEY_TMAX	70368744177663		/* 2^46 - 1 ms */
#define STORE_HEAD_KEY_TMIN	(-70368744177664)	/* -2^46 ms */
#define STORE_HEAD_KEY_MUL	65536
#define STORE_STR_(x)		#x
#define STORE_STR(x)		STORE_STR_(x)
#define STORE_HEAD_KEY_SQL(x)	"(max(min(" x ", " \
				STORE_STR(STORE_HEAD_KEY_TMAX) "), " \
				STORE_STR(STORE_HEAD_KEY_TMIN) ") * " \
				STORE_STR(STORE_HEAD_KEY_MUL) ")"

static inline int64_t
store_head_key(int64_t t)
{
	if (t > STORE_HEAD_KEY_TMAX)
		t = STORE_HEAD_KEY_TMAX;
	if (t < STORE_HEAD_KEY_TMIN)
		t = STORE_HEAD_KEY_TMIN;
	return t * STORE_HEAD_KEY_MUL;
}

/*
 * Tier rows are keyed by the tier's small id (table tier_ids) and the
 * bucket's index, its start divided by the bucket size (schema 9 says
 * why).  Readers bind bucket indexes: the first bucket starting at or
 * after ms is store_div_ceil(ms, size), the last starting at or before it
 * store_div_floor(ms, size).  STORE_TIER_ID_SQL(x) is the id of the tier
 * of bucket size x (a bound parameter), NULL if it has none yet.
 */
#define STORE_TIER_ID_SQL(x) \
	"(SELECT id FROM tier_ids WHERE bucket_ms = " x ")"

/* a / b rounded down and up, for b > 0 (C's / truncates toward zero). */
static inline int64_t
store_div_floor(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

static inline int64_t
store_div_ceil(int64_t a, int64_t b)
{
	return a / b + (a % b > 0);
}

/* Head rows one INSERT statement takes (store.c says why). */
#define STORE_HEAD_BATCH	32

/* A head row queued for that statement; its data is in store->hqbuf. */
struct head_q {
	int64_t		 id, series, t0, t1, n;
	size_t		 off, len;
};

/*
 * A run of at most STORE_PACK_RUN samples goes into a packed head row
 * (chunk.h) with the short runs of the other series of its group (the
 * device) in the same transaction, up to STORE_PACK_BYTES a row: one row
 * of some 11 bytes a sample instead of a 48-byte row per series.  Larger
 * runs (a receiver's batches, a backfill) keep a row of their own, where
 * chunk.h's compression pays.  The byte cap keeps a row on its page: a
 * longer BLOB would spill onto overflow pages.
 */
#define STORE_PACK_RUN		4
#define STORE_PACK_BYTES	3600

/* A short run waiting for its packed row; samples in store->pk_ts/pk_v. */
struct pack_q {
	int64_t		 series;
	const char	*group;
	size_t		 off, n;
};

/* A head row's entry in a compaction pass's plan: a row of one series,
 * or one series' entry of a packed row (packed set, last_series the
 * row's last entry). */
struct head_ref {
	int64_t		 series, id, n;
	int64_t		 last_series;	/* packed rows only */
	int		 packed;
};

struct store {
	sqlite3		*db;
	char		 path[CONF_PATH_MAX];
	int		 rc;		/* SQLite code of the last failure */
	char		 err[512];
	int		 page_size;
	int		 wal_pages;	/* pages in the WAL, from the WAL hook */

	sqlite3_stmt	*begin, *commit, *rollback;
	sqlite3_stmt	*ins_series, *ins_head, *ins_head_many, *ins_chunk;
	sqlite3_stmt	*ins_gap;
	sqlite3_stmt	*find_head, *find_chunk;
	sqlite3_stmt	*head_plan, *head_plan_up, *head_rows, *head_del;
	sqlite3_stmt	*head_get, *head_set;
	sqlite3_stmt	*head_count, *has_bucket;
	sqlite3_stmt	*pending_new, *pending_old, *pending_count, *mark_up;
	sqlite3_stmt	*ins_setaside, *upsert_device;

	/* 1 while an uploader is configured: compaction then leaves head rows
	 * that are not yet uploaded where the uploader finds them. */
	int		 upload_gate;

	/* Scratch buffers reused by compaction and lookups. */
	int64_t		*ts;
	double		*v;
	size_t		 cap;
	uint8_t		*enc;
	size_t		 enccap;
	struct head_ref	*plan;		/* a compaction pass's head rows */
	int64_t		 head_next;	/* the next head row's id, at least;
					 * only grows (a rollback skips ids) */
	struct head_q	*hq;		/* head rows queued in the transaction */
	size_t		 nhq, hqcap;
	uint8_t		*hqbuf;		/* their data */
	size_t		 hqlen, hqcap_bytes;
	struct pack_q	*pk;		/* short runs for packed rows */
	size_t		 npk, pkcap;
	int64_t		*pk_ts;		/* their samples */
	double		*pk_v;
	size_t		 npk_samples, pk_samples_cap;
	struct idlist	 rows, dels;	/* a step's head rows, and those it
					 * moved */
	size_t		 nplan, plancap, planpos;
};

/*
 * Opens (creating if needed) the database at c->database, applies the
 * pragmas and any pending migrations.  Returns 0, or -1 with store->err set
 * (store_close must still be called).
 */
int	store_open(struct store *, const struct conf_writer *c);
/*
 * 1 when the last failure means the file is not a sound database (corrupt,
 * not a database, or failing the start-up check after an unclean stop).
 */
int	store_is_corrupt(const struct store *);

/*
 * Moves path and its -wal and -shm aside as PATH.corrupt-STAMP[-wal|-shm]
 * so that a fresh database can start; *moved names the new main file.
 * Returns 0 or -1 (errno).
 */
int	store_quarantine(const char *path, char *moved, size_t movedlen);

/*
 * Marks this process's descriptors on the database at path and its WAL
 * for random access (no read-ahead); drop also evicts the files' clean
 * cached pages once.  store.c says why.
 */
void	store_fadvise(const char *path, int drop);

/* Records a clean stop, so the next start skips the integrity check. */
int	store_mark_clean(struct store *);

/* Finalises statements and closes; safe on a failed or zeroed store. */
void	store_close(struct store *);

/* Loads every series and its newest timestamp into t. */
int	store_load_series(struct store *, struct series_table *t);

int	store_begin(struct store *);
int	store_commit(struct store *);
/* Rolls back if a transaction is open; never fails in a way that matters. */
void	store_rollback(struct store *);

/* Inserts s's row (inside a transaction). */
int	store_put_series(struct store *, const struct series *s);

/*
 * Appends n samples of one series, timestamps strictly increasing, to the
 * head (inside a transaction): as one or more chunks, or, for a short run,
 * in a packed row with the other short runs of group (the series' device;
 * NULL is a group too).  group must stay valid until the commit.
 */
int	store_put_head(struct store *, int64_t series, const char *group,
	    const int64_t *ts, const double *v, size_t n);

/* Records a gap: samples a producer dropped before they reached us. */
int	store_put_gap(struct store *, const char *device, const struct gap *g,
	    const char *reason, int64_t now_ms);

/* 1 if the sample (series, ts) is stored, 0 if not, -1 on error. */
int	store_has_sample(struct store *, int64_t series, int64_t ts);

/* 1 if tier (bucket size) holds a row for (series, the bucket holding
 * bucket, ms), 0 if not. */
int	store_has_bucket(struct store *, int64_t tier, int64_t series,
	    int64_t bucket);

/* Samples currently in the head (for the compaction trigger). */
int64_t	store_head_samples(struct store *);

/*
 * One step of a compaction pass: the head rows of whole series, until
 * they hold max_samples samples, move into per-series chunks, in one
 * transaction.  A pass starts with *cursor 0, which lists the head's rows
 * as they are then; later steps take the next series of that list.  Returns the number of series
 * compacted (0: the pass is complete), or -1; a failed step may be
 * retried with the same cursor.
 */
int	store_compact_step(struct store *, int64_t *cursor,
	    int64_t max_samples);

/*
 * Upload state of head rows (inside a transaction): up is 1 uploaded or
 * 2 set aside; rows already marked are left alone.
 */
int	store_mark_uploaded(struct store *, const int64_t *rows, size_t n,
	    int up);
int	store_put_setaside(struct store *, uint64_t batch, uint64_t samples,
	    const char *reason, int64_t now_ms);

/*
 * Registers or refreshes a device (inside a transaction).  A non-empty
 * hostname, address or os replaces the stored one; empty ones (a frame
 * without an agent record) leave it.
 */
int	store_put_device(struct store *, const char *id, const char *hostname,
	    const char *address, const char *os, int64_t now_ms);

/* Pending (not uploaded) head rows, their samples and oldest timestamp. */
int	store_pending(struct store *, int64_t *rows, int64_t *samples,
	    int64_t *oldest_ts);

/*
 * Runs a WAL checkpoint: SQLITE_CHECKPOINT_PASSIVE when readers must not
 * wait, TRUNCATE at shutdown.  Returns 0 or -1.
 */
int	store_checkpoint(struct store *, int mode);

/* Database and WAL file sizes in bytes (0 if absent). */
int64_t	store_db_bytes(const struct store *);
int64_t	store_wal_bytes(const struct store *);

#endif
