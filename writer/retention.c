/*
 * retention.c -- see retention.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "log.h"
#include "retention.h"

/* Series pruned per transaction: each is a few index-range deletes. */
#define RETENTION_STEP_SERIES	64
/* Pending head rows dropped per transaction when over the cap. */
#define RETENTION_CAP_ROWS	1000
/* Free bytes below which (or below 1/RETENTION_VACUUM_SHARE of the
 * file) nothing is vacuumed: they are reused by the next inserts.  More
 * than a steady-state pass frees. */
#define RETENTION_VACUUM_MIN_FREE	(1 << 20)
#define RETENTION_VACUUM_SHARE		20
/* Retention cuts at whole 1/RETENTION_GRANULES of a window (see
 * granule_floor): 16 keeps at most 6% more than asked for. */
#define RETENTION_GRANULES	16
/* Bytes handed back per incremental vacuum call. */
#define RETENTION_VACUUM_BYTES	(4 << 20)

struct retention {
	struct store		*store;
	struct series_table	*series;
	const struct rollup	*ru;
	struct retention_stats	 st;
	sqlite3_stmt		*min_dirty, *del_chunk, *del_head, *del_tier;
	sqlite3_stmt		*pending_bytes, *oldest_pending, *del_row;
	sqlite3_stmt		*freelist, *vacuum, *page_count;
	/* The lowest raw cutoff of the pass's series so far: packed head
	 * rows (store.h) hold many series and go once older than it. */
	int64_t			 pack_cut;
};

static int
prep(struct retention *r, sqlite3_stmt **st, const char *sql, char *err,
    size_t errlen)
{
	if (sqlite3_prepare_v3(r->store->db, sql, -1,
	    SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "retention: %s",
		    sqlite3_errmsg(r->store->db));
		return -1;
	}
	return 0;
}

struct retention *
retention_new(struct store *store, struct series_table *series,
    const struct rollup *ru, char *err, size_t errlen)
{
	struct retention	*r;
	char			 vacuum_sql[64];

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(vacuum_sql, sizeof(vacuum_sql), "PRAGMA incremental_vacuum(%d)",
	    RETENTION_VACUUM_BYTES / store->page_size);
	r->store = store;
	r->series = series;
	r->ru = ru;
	if (prep(r, &r->min_dirty, "SELECT min(bucket) FROM dirty WHERE tier "
	    "= ? AND series = ?", err, errlen) == -1 ||
	    prep(r, &r->del_chunk, "DELETE FROM chunk WHERE series = ? AND "
	    "t1 < ?", err, errlen) == -1 ||
	    /* Rows below key(cut) in the rowid order hold only samples
	     * before the cut (store.h); rows of a late producer, numbered
	     * above their time, go in a later pass. */
	    prep(r, &r->del_head, "DELETE FROM head WHERE id < "
	    STORE_HEAD_KEY_SQL("?2") " AND series = ?1 AND t1 < ?2 AND "
	    "(?3 = 0 OR up != 0)", err, errlen) == -1 ||
	    prep(r, &r->del_tier, "DELETE FROM tier_rows WHERE tid = "
	    STORE_TIER_ID_SQL("?1") " AND series = ?2 AND b < ?3", err,
	    errlen) == -1 ||
	    prep(r, &r->pending_bytes, "SELECT coalesce(sum(length(data)), 0) "
	    "FROM head WHERE up = 0", err, errlen) == -1 ||
	    prep(r, &r->oldest_pending, "SELECT h.id, h.t0, h.t1, h.n, "
	    "length(h.data), s.device, CASE h.series WHEN 0 THEN h.data END "
	    "FROM head h LEFT JOIN series s ON s.id = h.series WHERE h.up = 0 "
	    "ORDER BY h.id LIMIT ?", err, errlen) == -1 ||
	    prep(r, &r->del_row, "DELETE FROM head WHERE id = ?", err,
	    errlen) == -1 ||
	    prep(r, &r->freelist, "PRAGMA freelist_count", err, errlen) == -1 ||
	    prep(r, &r->page_count, "PRAGMA page_count", err, errlen) == -1 ||
	    prep(r, &r->vacuum, vacuum_sql, err, errlen) == -1) {
		retention_free(r);
		return NULL;
	}
	return r;
}

void
retention_free(struct retention *r)
{
	if (r == NULL)
		return;
	sqlite3_finalize(r->min_dirty);
	sqlite3_finalize(r->del_chunk);
	sqlite3_finalize(r->del_head);
	sqlite3_finalize(r->del_tier);
	sqlite3_finalize(r->pending_bytes);
	sqlite3_finalize(r->oldest_pending);
	sqlite3_finalize(r->del_row);
	sqlite3_finalize(r->freelist);
	sqlite3_finalize(r->vacuum);
	sqlite3_finalize(r->page_count);
	free(r);
}

static int
fail(struct retention *r, const char *what)
{
	r->store->rc = sqlite3_extended_errcode(r->store->db);
	snprintf(r->store->err, sizeof(r->store->err), "retention: %s: %s",
	    what, sqlite3_errmsg(r->store->db));
	return -1;
}

/* Runs a DELETE and adds its row count to *counter. */
static int
delete(struct retention *r, sqlite3_stmt *st, uint64_t *counter,
    const char *what)
{
	int	rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return fail(r, what);
	*counter += (uint64_t)sqlite3_changes(r->store->db);
	return 0;
}

/* The oldest dirty bucket of tier (bucket size) for series, or INT64_MAX. */
static int64_t
oldest_dirty(struct retention *r, int64_t tier, int64_t series)
{
	int64_t	v = INT64_MAX;

	sqlite3_bind_int64(r->min_dirty, 1, tier);
	sqlite3_bind_int64(r->min_dirty, 2, series);
	if (sqlite3_step(r->min_dirty) == SQLITE_ROW &&
	    sqlite3_column_type(r->min_dirty, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(r->min_dirty, 0);
	sqlite3_reset(r->min_dirty);
	return v;
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/*
 * cutoff rounded down to a multiple of the retention's granule: the
 * retention over RETENTION_GRANULES, at least one bucket.  Every pass
 * within a granule deletes nothing, so a series' pages are rewritten by
 * the retention once per granule rather than on every pass; the rows kept
 * the longer are at most a granule of the window.
 */
static int64_t
granule_floor(int64_t cutoff, int64_t retention, int64_t bucket)
{
	int64_t	g = retention / RETENTION_GRANULES, r;

	if (g < bucket)		/* bucket >= 1: g is never 0 */
		g = bucket;
	r = cutoff % g;
	return cutoff - (r < 0 ? r + g : r);
}

static int
prune_series(struct retention *r, const struct conf_writer *c,
    const struct series *s, int64_t now)
{
	int64_t		cutoff, id = s->id;
	uint32_t	i;

	/* Raw: past retention, but not what a tier has still to read. */
	cutoff = granule_floor(now - c->raw_retention_ms, c->raw_retention_ms, 1);
	for (i = 0; i < c->ntiers; i++)
		cutoff = min64(cutoff, oldest_dirty(r, c->tiers[i].bucket_ms, id));
	rollup_raw_keep(r->ru, s, now, &cutoff);
	r->pack_cut = min64(r->pack_cut, cutoff);
	sqlite3_bind_int64(r->del_chunk, 1, id);
	sqlite3_bind_int64(r->del_chunk, 2, cutoff);
	if (delete(r, r->del_chunk, &r->st.raw_rows, "raw chunks") == -1)
		return -1;
	sqlite3_bind_int64(r->del_head, 1, id);
	sqlite3_bind_int64(r->del_head, 2, cutoff);
	sqlite3_bind_int(r->del_head, 3, r->store->upload_gate);
	if (delete(r, r->del_head, &r->st.raw_rows, "raw head") == -1)
		return -1;
	for (i = 0; i < c->ntiers; i++) {
		cutoff = granule_floor(now - c->tiers[i].retention_ms,
		    c->tiers[i].retention_ms, c->tiers[i].bucket_ms);
		if (i + 1 < c->ntiers)
			cutoff = min64(cutoff,
			    oldest_dirty(r, c->tiers[i + 1].bucket_ms, id));
		sqlite3_bind_int64(r->del_tier, 1, c->tiers[i].bucket_ms);
		sqlite3_bind_int64(r->del_tier, 2, id);
		sqlite3_bind_int64(r->del_tier, 3, store_div_ceil(cutoff,
		    c->tiers[i].bucket_ms));
		if (delete(r, r->del_tier, &r->st.tier_rows, "tier rows") == -1)
			return -1;
	}
	return 0;
}

static int
prune_packed(struct retention *r)
{
	sqlite3_bind_int64(r->del_head, 1, 0);
	sqlite3_bind_int64(r->del_head, 2, r->pack_cut);
	sqlite3_bind_int(r->del_head, 3, r->store->upload_gate);
	return delete(r, r->del_head, &r->st.raw_rows, "packed raw head");
}

/*
 * The device of oldest_pending's row: its series', or for a packed row its
 * first entry's (a packed row holds one device's series).
 */
static const char *
pending_device(struct retention *r)
{
	sqlite3_stmt		*st = r->oldest_pending;
	const struct series	*s;
	struct pack_iter	 it;
	int64_t			 series;

	if (sqlite3_column_type(st, 5) != SQLITE_NULL)
		return (const char *)sqlite3_column_text(st, 5);
	if (sqlite3_column_type(st, 6) != SQLITE_NULL &&
	    pack_open(&it, sqlite3_column_blob(st, 6),
	    (size_t)sqlite3_column_bytes(st, 6), NULL, 0) == 0 &&
	    pack_next(&it, &series, NULL, NULL, 0, NULL, 0) > 0 &&
	    (s = series_by_id(r->series, series)) != NULL)
		return s->device;
	return "";
}

/*
 * Over the unuploaded cap: drops the oldest pending head rows, one
 * transaction of at most RETENTION_CAP_ROWS, recording a gap per device.
 * Returns 1 if it dropped something (call again), 0 if under the cap.
 */
static int
cap_step(struct retention *r, const struct conf_writer *c, int64_t now)
{
	int64_t		bytes = 0, excess;
	struct gap	g;
	char		device[BODY_MAX_NAME + 1] = "";
	int		rc, dropped = 0;

	if (!r->store->upload_gate)
		return 0;
	if (sqlite3_step(r->pending_bytes) == SQLITE_ROW)
		bytes = sqlite3_column_int64(r->pending_bytes, 0);
	sqlite3_reset(r->pending_bytes);
	if (bytes <= (int64_t)c->raw_unuploaded_bytes)
		return 0;
	excess = bytes - (int64_t)c->raw_unuploaded_bytes;
	memset(&g, 0, sizeof(g));
	if (store_begin(r->store) == -1)
		return -1;
	sqlite3_bind_int(r->oldest_pending, 1, RETENTION_CAP_ROWS);
	while (excess > 0 &&
	    (rc = sqlite3_step(r->oldest_pending)) == SQLITE_ROW) {
		const char *dev = pending_device(r);

		/* One gap row per run of rows from the same device. */
		if (g.count > 0 && strcmp(device, dev) != 0) {
			if (store_put_gap(r->store, device, &g,
			    "unuploaded raw cap", now) == -1)
				goto fail;
			memset(&g, 0, sizeof(g));
		}
		snprintf(device, sizeof(device), "%s", dev);
		if (g.count == 0 || sqlite3_column_int64(r->oldest_pending, 1) <
		    g.from_ts)
			g.from_ts = sqlite3_column_int64(r->oldest_pending, 1);
		if (sqlite3_column_int64(r->oldest_pending, 2) > g.to_ts)
			g.to_ts = sqlite3_column_int64(r->oldest_pending, 2);
		g.count += (uint64_t)sqlite3_column_int64(r->oldest_pending, 3);
		excess -= sqlite3_column_int64(r->oldest_pending, 4);
		sqlite3_bind_int64(r->del_row, 1,
		    sqlite3_column_int64(r->oldest_pending, 0));
		if (sqlite3_step(r->del_row) != SQLITE_DONE) {
			sqlite3_reset(r->del_row);
			goto fail;
		}
		sqlite3_reset(r->del_row);
		dropped = 1;
	}
	sqlite3_reset(r->oldest_pending);
	if (g.count > 0 && store_put_gap(r->store, device, &g,
	    "unuploaded raw cap", now) == -1)
		goto fail;
	if (store_commit(r->store) == -1)
		goto fail;
	if (g.count > 0) {
		r->st.capped_samples += g.count;
		log_warnx("retention: not-yet-uploaded raw samples exceed %llu "
		    "bytes: dropped the oldest (device %s, %llu samples, "
		    "%lld..%lld); a gap records them",
		    (unsigned long long)c->raw_unuploaded_bytes, device,
		    (unsigned long long)g.count, (long long)g.from_ts,
		    (long long)g.to_ts);
	}
	return dropped;
fail:
	sqlite3_reset(r->oldest_pending);
	store_rollback(r->store);
	return fail(r, "unuploaded cap");
}

/*
 * Hands free pages back to the file system, a bounded batch at a time --
 * but only when there are many.  In steady state, pruning frees a few
 * pages a pass and the next inserts reuse them, which keeps the file flat
 * by itself; an incremental vacuum then would only move the file's last
 * pages into the holes, writing them twice (WAL and checkpoint) for
 * nothing.  It is after a large drop (a tier's retention shortened, a
 * backlog pruned) that returning the space matters.
 */
static int
vacuum_step(struct retention *r)
{
	int64_t	before = 0, after = 0, pages = 0;

	if (sqlite3_step(r->freelist) == SQLITE_ROW)
		before = sqlite3_column_int64(r->freelist, 0);
	sqlite3_reset(r->freelist);
	if (sqlite3_step(r->page_count) == SQLITE_ROW)
		pages = sqlite3_column_int64(r->page_count, 0);
	sqlite3_reset(r->page_count);
	if (before * r->store->page_size < RETENTION_VACUUM_MIN_FREE ||
	    before * RETENTION_VACUUM_SHARE < pages)
		return 0;
	while (sqlite3_step(r->vacuum) == SQLITE_ROW)
		;
	sqlite3_reset(r->vacuum);
	if (sqlite3_step(r->freelist) == SQLITE_ROW)
		after = sqlite3_column_int64(r->freelist, 0);
	sqlite3_reset(r->freelist);
	if (after < before)
		r->st.vacuumed_pages += (uint64_t)(before - after);
	return after > 0 && after < before;
}

int
retention_step(struct retention *r, const struct conf_writer *c,
    int64_t now, int64_t *cursor)
{
	const struct series *s;
	int64_t	id;
	int	n = 0, rc;

	if (*cursor <= r->series->max_id) {
		if (*cursor == 0)
			r->pack_cut = INT64_MAX;
		if (store_begin(r->store) == -1)
			return -1;
		for (id = *cursor + 1; id <= r->series->max_id &&
		    n < RETENTION_STEP_SERIES; id++) {
			if ((s = series_by_id(r->series, id)) == NULL)
				continue;
			if (prune_series(r, c, s, now) == -1) {
				store_rollback(r->store);
				return -1;
			}
			n++;
		}
		/* The pass's last step: packed rows older than every
		 * series' cutoff. */
		if (id > r->series->max_id && r->pack_cut != INT64_MAX &&
		    prune_packed(r) == -1) {
			store_rollback(r->store);
			return -1;
		}
		if (store_commit(r->store) == -1) {
			store_rollback(r->store);
			return -1;
		}
		*cursor = id - 1;
		if (*cursor < r->series->max_id)
			return 1;
		*cursor = r->series->max_id + 1;
		return 1;
	}
	if ((rc = cap_step(r, c, now)) != 0)
		return rc;
	if ((rc = vacuum_step(r)) != 0)
		return rc < 0 ? -1 : 1;
	return 0;
}

void
retention_stats(const struct retention *r, struct retention_stats *st)
{
	*st = r->st;
}
