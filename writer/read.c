/*
 * read.c -- see read.h.
 *
 * A series' samples are spread over head rows and chunk rows, each an
 * encoded run in ascending time; a packed head row (series 0) holds short
 * runs of many series, and its t0 and t1 bound all of them.  Chunks are
 * indexed on (series, t1) and head rows are numbered by time (store.h),
 * so walking t1 downwards visits the newest runs first; for "the newest
 * max samples" the walk stops as soon as no remaining run can hold a
 * sample newer than the max-th newest already found -- every remaining
 * run ends (t1) before it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "read.h"
#include "store.h"

struct raw_reader {
	sqlite3		*db;
	int		 own;
	sqlite3_stmt	*begin, *end, *runs, *series;
	int64_t		*ts;	/* decode scratch: one chunk */
	double		*v;
};

static const char RUNS_SQL[] =
	"SELECT t0, t1, data, series FROM head WHERE id >= "
	STORE_HEAD_KEY_SQL("?2") " AND series IN (0, ?1) AND t1 >= ?2 "
	"UNION ALL "
	"SELECT t0, t1, data, series FROM chunk WHERE series = ?1 AND "
	"t1 >= ?2 ORDER BY 2 DESC";

static struct raw_reader *
reader_init(sqlite3 *db, int own, char *err, size_t errlen)
{
	struct raw_reader	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		if (own)
			sqlite3_close(db);
		return NULL;
	}
	r->db = db;
	r->own = own;
	r->ts = malloc(CHUNK_MAX_SAMPLES * sizeof(*r->ts));
	r->v = malloc(CHUNK_MAX_SAMPLES * sizeof(*r->v));
	if (r->ts == NULL || r->v == NULL) {
		snprintf(err, errlen, "out of memory");
		raw_close(r);
		return NULL;
	}
	if (sqlite3_prepare_v3(db, "BEGIN", -1, SQLITE_PREPARE_PERSISTENT,
	    &r->begin, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT,
	    &r->end, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db, RUNS_SQL, -1, SQLITE_PREPARE_PERSISTENT,
	    &r->runs, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db, "SELECT id FROM series WHERE device = ? AND "
	    "name = ? AND labels = ?", -1, SQLITE_PREPARE_PERSISTENT,
	    &r->series, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "not a tern database: %s",
		    sqlite3_errmsg(db));
		raw_close(r);
		return NULL;
	}
	return r;
}

struct raw_reader *
raw_open(const char *path, char *err, size_t errlen)
{
	struct raw_reader	*r;
	sqlite3			*db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
		    db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	if ((r = reader_init(db, 1, err, errlen)) != NULL)
		store_fadvise(path, 0);
	return r;
}

struct raw_reader *
raw_wrap(sqlite3 *db, char *err, size_t errlen)
{
	return reader_init(db, 0, err, errlen);
}

void
raw_close(struct raw_reader *r)
{
	if (r == NULL)
		return;
	sqlite3_finalize(r->begin);
	sqlite3_finalize(r->end);
	sqlite3_finalize(r->runs);
	sqlite3_finalize(r->series);
	if (r->own)
		sqlite3_close(r->db);
	free(r->ts);
	free(r->v);
	free(r);
}

void
raw_result_free(struct raw_result *res)
{
	free(res->ts);
	free(res->v);
	memset(res, 0, sizeof(*res));
}

static int
res_reserve(struct raw_result *res, size_t n)
{
	size_t	 ncap = res->cap ? res->cap : 1024;
	int64_t	*nts;
	double	*nv;

	if (n <= res->cap)
		return 0;
	while (ncap < n)
		ncap *= 2;
	if ((nts = realloc(res->ts, ncap * sizeof(*nts))) == NULL)
		return -1;
	res->ts = nts;
	if ((nv = realloc(res->v, ncap * sizeof(*nv))) == NULL)
		return -1;
	res->v = nv;
	res->cap = ncap;
	return 0;
}

/* Sorts ascending by ts (runs arrive newest first, each ascending). */
static void
sort_result(struct raw_result *res)
{
	size_t	gap, i, j;
	int64_t	t;
	double	x;

	for (gap = res->n / 2; gap > 0; gap /= 2)
		for (i = gap; i < res->n; i++) {
			t = res->ts[i];
			x = res->v[i];
			for (j = i; j >= gap && res->ts[j - gap] > t; j -= gap) {
				res->ts[j] = res->ts[j - gap];
				res->v[j] = res->v[j - gap];
			}
			res->ts[j] = t;
			res->v[j] = x;
		}
}

/*
 * The max-th newest ts among the collected samples, found without sorting
 * them all: a quickselect would do, but the collected set is "max plus at
 * most one chunk", so sorting a copy is cheap and simple.
 */
static int64_t
kth_newest(struct raw_result *res, size_t max)
{
	sort_result(res);
	return res->ts[res->n - max];
}

long
raw_read(struct raw_reader *r, int64_t series, int64_t from, int64_t to,
    size_t max, struct raw_result *out, char *err, size_t errlen)
{
	int	 rc, own_txn;
	long	 k, i;
	int64_t	 t0, t1, bound = INT64_MIN;
	char	 why[128];

	out->n = 0;
	if (from > to)
		return 0;
	/* A caller already inside a read transaction has its snapshot. */
	own_txn = sqlite3_get_autocommit(r->db);
	if (own_txn && sqlite3_step(r->begin) != SQLITE_DONE) {
		snprintf(err, errlen, "begin: %s", sqlite3_errmsg(r->db));
		sqlite3_reset(r->begin);
		return -1;
	}
	sqlite3_reset(r->begin);
	sqlite3_bind_int64(r->runs, 1, series);
	sqlite3_bind_int64(r->runs, 2, from);
	while ((rc = sqlite3_step(r->runs)) == SQLITE_ROW) {
		t0 = sqlite3_column_int64(r->runs, 0);
		t1 = sqlite3_column_int64(r->runs, 1);
		if (max > 0 && t1 < bound)
			break;		/* nothing left can be newer */
		if (t0 > to)
			continue;
		k = head_decode(sqlite3_column_int64(r->runs, 3), series,
		    sqlite3_column_blob(r->runs, 2),
		    (size_t)sqlite3_column_bytes(r->runs, 2), r->ts, r->v,
		    CHUNK_MAX_SAMPLES, why, sizeof(why));
		if (k < 0) {
			snprintf(err, errlen, "series %lld: corrupt chunk "
			    "[%lld, %lld]: %s", (long long)series,
			    (long long)t0, (long long)t1, why);
			rc = SQLITE_CORRUPT;
			break;
		}
		if (res_reserve(out, out->n + (size_t)k) == -1) {
			snprintf(err, errlen, "out of memory");
			rc = SQLITE_NOMEM;
			break;
		}
		for (i = 0; i < k; i++)
			if (r->ts[i] >= from && r->ts[i] <= to) {
				out->ts[out->n] = r->ts[i];
				out->v[out->n++] = r->v[i];
			}
		if (max > 0 && out->n >= max)
			bound = kth_newest(out, max);
	}
	sqlite3_reset(r->runs);
	if (own_txn) {
		sqlite3_step(r->end);
		sqlite3_reset(r->end);
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		if (rc != SQLITE_CORRUPT && rc != SQLITE_NOMEM)
			snprintf(err, errlen, "read series %lld: %s",
			    (long long)series, sqlite3_errmsg(r->db));
		return -1;
	}
	sort_result(out);
	if (max > 0 && out->n > max) {
		memmove(out->ts, out->ts + (out->n - max), max * sizeof(*out->ts));
		memmove(out->v, out->v + (out->n - max), max * sizeof(*out->v));
		out->n = max;
	}
	return (long)out->n;
}

int64_t
raw_series_id(struct raw_reader *r, const char *device, const char *name,
    const char *labels, char *err, size_t errlen)
{
	int64_t	id = 0;
	int	rc;

	sqlite3_bind_text(r->series, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(r->series, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(r->series, 3, labels, -1, SQLITE_STATIC);
	rc = sqlite3_step(r->series);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(r->series, 0);
	sqlite3_reset(r->series);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(err, errlen, "series lookup: %s",
		    sqlite3_errmsg(r->db));
		return -1;
	}
	return id;
}
