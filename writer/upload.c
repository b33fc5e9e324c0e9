/*
 * upload.c -- see upload.h.
 */
#include <sys/queue.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "chunk.h"
#include "log.h"
#include "upload.h"

/*
 * FETCHes waiting at once.  A device has one uploader, which keeps one
 * live and one backlog FETCH open; a second uploader (a misconfiguration,
 * or a restart racing the old one's exit) still fits.
 */
#define UPLOAD_MAX_WAITS	8

struct upbatch {
	TAILQ_ENTRY(upbatch)	 entry;
	uint64_t		 id;
	struct peer		*peer;
	int64_t			*rows;		/* sorted ascending */
	size_t			 nrows;
	uint64_t		 samples;
};

struct upwait {
	struct peer	*peer;
	uint64_t	 seq;		/* of the FETCH, echoed in BATCH */
	uint32_t	 max;
	int		 backlog;
};

struct upload {
	struct store		*store;
	struct series_table	*series;
	upload_send_cb		 send;
	void			*arg;
	TAILQ_HEAD(, upbatch)	 inflight;
	struct upwait		 waits[UPLOAD_MAX_WAITS];
	uint64_t		 next_id;
	uint32_t		 gen;		/* of the batch being built */
	struct upload_stats	 st;
	msgpack_sbuffer		 sb;

	/* Batch scratch, kept between batches. */
	struct series		**bseries;	/* the batch's series */
	size_t			 nbseries, bseriescap;
	struct point		*points;
	size_t			 npoints, pointcap;
	int64_t			*rows;
	size_t			 nrows, rowcap;
	int64_t			 ts[CHUNK_MAX_SAMPLES];
	double			 v[CHUNK_MAX_SAMPLES];
};


struct upload *
upload_new(struct store *store, struct series_table *series,
    upload_send_cb send, void *arg)
{
	struct upload	*u;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return NULL;
	u->store = store;
	u->series = series;
	u->send = send;
	u->arg = arg;
	u->next_id = 1;
	TAILQ_INIT(&u->inflight);
	msgpack_sbuffer_init(&u->sb);
	return u;
}

static void
batch_free(struct upload *u, struct upbatch *b)
{
	TAILQ_REMOVE(&u->inflight, b, entry);
	u->st.inflight--;
	free(b->rows);
	free(b);
}

void
upload_free(struct upload *u)
{
	struct upbatch	*b;

	if (u == NULL)
		return;
	while ((b = TAILQ_FIRST(&u->inflight)) != NULL)
		batch_free(u, b);
	msgpack_sbuffer_destroy(&u->sb);
	free(u->bseries);
	free(u->points);
	free(u->rows);
	free(u);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Whether head row id is part of a batch in flight. */
static int
in_flight(const struct upload *u, int64_t id)
{
	const struct upbatch	*b;

	TAILQ_FOREACH(b, &u->inflight, entry)
		if (b->nrows > 0 && id >= b->rows[0] &&
		    id <= b->rows[b->nrows - 1] &&
		    bsearch(&id, b->rows, b->nrows, sizeof(id), cmp_i64))
			return 1;
	return 0;
}

static int
grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t	ncap = *cap ? *cap : 256;
	void	*np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if ((np = realloc(*p, ncap * size)) == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

/* Appends k samples of se, from u->ts and u->v, to the batch's points. */
static int
add_run(struct upload *u, struct series *se, long k)
{
	if (grow((void **)&u->points, &u->pointcap, u->npoints + (size_t)k,
	    sizeof(*u->points)) == -1 ||
	    grow((void **)&u->bseries, &u->bseriescap, u->nbseries + 1,
	    sizeof(*u->bseries)) == -1)
		return -1;
	if (se->up_gen != u->gen) {
		se->up_gen = u->gen;
		se->up_idx = (uint32_t)u->nbseries;
		u->bseries[u->nbseries++] = se;
	}
	for (long j = 0; j < k; j++) {
		u->points[u->npoints].idx = se->up_idx;
		u->points[u->npoints].ts = u->ts[j];
		u->points[u->npoints++].value = u->v[j];
	}
	return 0;
}

/*
 * The series of a head row's first run: the row's own, or a packed row's
 * first entry's (a packed row holds one device's series).  NULL if the row
 * does not parse or its series is unknown.
 */
static struct series *
row_series(struct upload *u, int64_t series, const uint8_t *p, size_t len)
{
	struct pack_iter	it;

	if (series == 0 && (pack_open(&it, p, len, NULL, 0) == -1 ||
	    pack_next(&it, &series, NULL, NULL, 0, NULL, 0) <= 0))
		return NULL;
	return series_by_id(u->series, series);
}

/*
 * Adds a head row's samples to the batch: its run, or each entry of a
 * packed row.  Returns the samples added, 0 if the row is unreadable
 * (logged; it is skipped), -1 out of memory.
 */
static long
add_row(struct upload *u, int64_t id, struct series *se, int64_t series,
    const uint8_t *p, size_t len)
{
	struct pack_iter	 it;
	char			 why[128];
	long			 k, total = 0;
	size_t			 npoints = u->npoints, nbseries = u->nbseries;

	if (series != 0) {
		if ((k = chunk_decode(p, len, u->ts, u->v, CHUNK_MAX_SAMPLES,
		    why, sizeof(why))) < 0)
			goto bad;
		return add_run(u, se, k) == -1 ? -1 : k;
	}
	if (pack_open(&it, p, len, why, sizeof(why)) == -1)
		goto bad;
	while ((k = pack_next(&it, &series, u->ts, u->v, CHUNK_MAX_SAMPLES,
	    why, sizeof(why))) > 0) {
		if ((se = series_by_id(u->series, series)) == NULL) {
			snprintf(why, sizeof(why), "series %lld unknown",
			    (long long)series);
			k = -1;
			break;
		}
		if (add_run(u, se, k) == -1)
			return -1;
		total += k;
	}
	if (k == 0)
		return total;
bad:
	/* Whole rows or nothing: a batch is acknowledged by its rows. */
	u->npoints = npoints;
	while (u->nbseries > nbseries)
		u->bseries[--u->nbseries]->up_gen = 0;
	log_warnx("upload: head row %lld unreadable (%s); skipped",
	    (long long)id, why);
	return 0;
}

/*
 * Collects pending rows (newest or oldest first) of one device, up to max
 * samples, into the scratch arrays.  Returns the number of rows, or -1.
 */
static long
collect(struct upload *u, int backlog, uint32_t max)
{
	sqlite3_stmt	*st = backlog ? u->store->pending_old :
			    u->store->pending_new;
	const char	*device = NULL;
	struct series	*se;
	long		 k;
	int		 rc;
	size_t		 total = 0;

	u->nbseries = u->npoints = u->nrows = 0;
	if (++u->gen == 0)
		u->gen = 1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t		 id = sqlite3_column_int64(st, 0);
		int64_t		 series = sqlite3_column_int64(st, 1);
		int64_t		 n = sqlite3_column_int64(st, 2);
		const uint8_t	*p = sqlite3_column_blob(st, 3);
		size_t		 len = (size_t)sqlite3_column_bytes(st, 3);

		if (in_flight(u, id))
			continue;
		if ((se = row_series(u, series, p, len)) == NULL)
			continue;
		if (device == NULL)
			device = se->device;
		else if (strcmp(device, se->device) != 0)
			continue;	/* another device: a later BATCH */
		if (total > 0 && total + (size_t)n > max)
			break;
		if ((k = add_row(u, id, se, series, p, len)) == -1 ||
		    grow((void **)&u->rows, &u->rowcap, u->nrows + 1,
		    sizeof(*u->rows)) == -1) {
			sqlite3_reset(st);
			return -1;
		}
		if (k == 0)
			continue;
		u->rows[u->nrows++] = id;
		total += (size_t)k;
		if (total >= max)
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		log_warnx("upload: reading pending rows: %s",
		    sqlite3_errmsg(u->store->db));
		return -1;
	}
	return (long)u->nrows;
}

/*
 * Encodes the collected rows as a BATCH body in u->sb.  Labels are parsed
 * back out of each series' canonical text into one buffer sized first.
 */
static int
encode(struct upload *u, uint64_t id)
{
	struct samples_msg	 m;
	struct series_ref	*refs;
	struct label		*labels;
	char			*buf;
	size_t			 i, need = 0, nl = 0, o = 0;
	int			 n, rc = -1;

	for (i = 0; i < u->nbseries; i++)
		need += strlen(u->bseries[i]->labels) + 1;
	refs = calloc(u->nbseries + 1, sizeof(*refs));
	labels = calloc(u->nbseries * BODY_MAX_LABELS + 1, sizeof(*labels));
	buf = malloc(need + 1);
	if (refs == NULL || labels == NULL || buf == NULL)
		goto done;
	for (i = 0; i < u->nbseries; i++) {
		const struct series	*se = u->bseries[i];
		size_t			 len = strlen(se->labels) + 1;

		n = series_labels_parse(se->labels, labels + nl,
		    BODY_MAX_LABELS, buf + o, len);
		if (n < 0) {
			log_warnx("upload: series %lld has malformed labels",
			    (long long)se->id);
			goto done;
		}
		refs[i].name = PSTR(se->name);
		refs[i].labels = labels + nl;
		refs[i].nlabels = (uint32_t)n;
		nl += (size_t)n;
		o += len;
	}
	memset(&m, 0, sizeof(m));
	m.id = id;
	m.device = PSTR(u->bseries[0]->device);
	m.nseries = (uint32_t)u->nbseries;
	m.series = refs;
	m.npoints = (uint32_t)u->npoints;
	m.points = u->points;
	msgpack_sbuffer_clear(&u->sb);
	rc = body_encode_samples(&u->sb, &m);
done:
	free(refs);
	free(labels);
	free(buf);
	return rc;
}

/* Builds and sends one BATCH for w; 1 sent, 0 nothing pending, -1 error. */
static int
serve_one(struct upload *u, struct upwait *w)
{
	struct upbatch	*b;
	long		 nrows;

	if ((nrows = collect(u, w->backlog, w->max)) <= 0)
		return nrows < 0 ? -1 : 0;
	if (encode(u, u->next_id) == -1 || u->sb.size > FRAME_MAX_BODY)
		return -1;
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->rows = malloc(u->nrows * sizeof(*b->rows))) == NULL) {
		free(b);
		return -1;
	}
	memcpy(b->rows, u->rows, u->nrows * sizeof(*b->rows));
	b->nrows = u->nrows;
	qsort(b->rows, b->nrows, sizeof(*b->rows), cmp_i64);
	b->id = u->next_id;
	b->peer = w->peer;
	b->samples = u->npoints;
	if (u->send(w->peer, w->seq, &u->sb, u->arg) == -1) {
		/* Its buffer is full; the rows stay pending. */
		free(b->rows);
		free(b);
		return 0;
	}
	u->next_id++;
	TAILQ_INSERT_TAIL(&u->inflight, b, entry);
	u->st.inflight++;
	u->st.batches++;
	u->st.samples += b->samples;
	w->peer = NULL;		/* answered */
	return 1;
}

void
upload_serve(struct upload *u)
{
	size_t	i;

	for (i = 0; i < UPLOAD_MAX_WAITS; i++)
		if (u->waits[i].peer != NULL &&
		    serve_one(u, &u->waits[i]) == -1)
			log_warnx("upload: cannot build a batch; will retry "
			    "after the next commit");
}

int
upload_fetch(struct upload *u, struct peer *p, uint64_t seq,
    const struct fetch_msg *f, char *err, size_t errlen)
{
	struct upwait	*w = NULL;
	size_t		 i;

	for (i = 0; i < UPLOAD_MAX_WAITS; i++)
		if (u->waits[i].peer == p &&
		    u->waits[i].backlog == f->backlog) {
			w = &u->waits[i];
			break;
		}
	for (i = 0; w == NULL && i < UPLOAD_MAX_WAITS; i++)
		if (u->waits[i].peer == NULL)
			w = &u->waits[i];
	if (w == NULL) {
		snprintf(err, errlen, "too many FETCHes waiting (%d)",
		    UPLOAD_MAX_WAITS);
		return -1;
	}
	w->peer = p;
	w->seq = seq;
	w->max = f->max;
	w->backlog = f->backlog;
	if (serve_one(u, w) == -1)
		log_warnx("upload: cannot build a batch; will retry after the "
		    "next commit");
	return 0;
}

int
upload_done(struct upload *u, struct peer *p, const struct done_msg *d,
    char *err, size_t errlen)
{
	struct upbatch	*b;
	char		 reason[256];

	TAILQ_FOREACH(b, &u->inflight, entry)
		if (b->id == d->id)
			break;
	if (b == NULL) {
		log_debug("upload: DONE for unknown batch %llu ignored",
		    (unsigned long long)d->id);
		return 0;
	}
	if (b->peer != p) {
		snprintf(err, errlen, "DONE for batch %llu sent to another "
		    "peer", (unsigned long long)d->id);
		return -1;
	}
	log_escape(d->reason.p, d->reason.n, reason, sizeof(reason));
	if (store_begin(u->store) == -1 ||
	    store_mark_uploaded(u->store, b->rows, b->nrows,
	    d->set_aside ? 2 : 1) == -1 ||
	    (d->set_aside && store_put_setaside(u->store, b->id, b->samples,
	    reason, clock_wall_ms()) == -1) ||
	    store_commit(u->store) == -1) {
		store_rollback(u->store);
		log_warnx("upload: recording batch %llu: %s; its samples stay "
		    "pending and will be sent again",
		    (unsigned long long)b->id, u->store->err);
		batch_free(u, b);
		return 0;
	}
	if (d->set_aside) {
		u->st.setaside_batches++;
		u->st.setaside_samples += b->samples;
		log_warnx("upload: batch %llu (%llu samples) set aside: the "
		    "receiver refused it: %s", (unsigned long long)b->id,
		    (unsigned long long)b->samples, reason);
	} else {
		u->st.done_batches++;
		u->st.done_samples += b->samples;
	}
	u->st.last_done_ms = clock_wall_ms();
	batch_free(u, b);
	upload_serve(u);
	return 0;
}

void
upload_peer_gone(struct upload *u, struct peer *p)
{
	struct upbatch	*b, *next;
	size_t		 i;

	for (i = 0; i < UPLOAD_MAX_WAITS; i++)
		if (u->waits[i].peer == p)
			u->waits[i].peer = NULL;
	for (b = TAILQ_FIRST(&u->inflight); b != NULL; b = next) {
		next = TAILQ_NEXT(b, entry);
		if (b->peer == p)
			batch_free(u, b);
	}
}

void
upload_stats(const struct upload *u, struct upload_stats *st)
{
	*st = u->st;
}
