/*
 * writer.c -- tern-writer: the single owner of the SQLite database.
 *
 * Producers (samplers, receivers, ternctl load) send SAMPLES frames over
 * the Unix socket.  The writer groups what they send into transactions,
 * flushed when flush_samples are held or the oldest has waited flush_ms,
 * and answers each producer with a cumulative ACK only after COMMIT has
 * returned.  This is the writer's one promise: an ACK means "on disk".  It
 * is redis's AE_BARRIER problem in another guise -- the reply must not
 * overtake the write it reports -- solved by sending ACKs from the flush,
 * never from the frame handler.
 *
 * A commit that fails (a full disk, an I/O error) is rolled back, the held
 * samples stay in memory, every producer is paused (so memory stays
 * bounded at one batch) and the commit is retried with backoff; producers
 * are not acked until it succeeds.  Ingest thereby resumes by itself when
 * space returns.
 *
 * Between flushes the writer compacts the head into per-series chunks
 * (store.c explains the layout) in small transactions, and runs WAL
 * checkpoints itself.
 */
#include <sys/queue.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "body.h"
#include "conf.h"
#include "daemon.h"
#include "frame.h"
#include "log.h"
#include "peer.h"
#include "series.h"
#include "store.h"
#include "retention.h"
#include "rollup.h"
#include "upload.h"

#define USAGE	"tern-writer [-dnv] [-f file]"

/*
 * Retrying a failed commit: first after a second, doubling to 8 s.  Short
 * enough that ingest resumes promptly when an operator frees space, long
 * enough not to spin on a disk that stays full.
 */
#define RETRY_MIN_MS	1000
#define RETRY_MAX_MS	8000

/*
 * Compaction moves whole series, up to this many samples, per
 * transaction.  Steps are few and large because a step rewrites each head
 * page it touches -- a page holds rows of every series -- while a step
 * that empties a page frees it without writing it.  Seed 001's
 * installation (255 series every 5 s) compacts 30,600 one-sample rows
 * every 10 minutes: in steps of 64 series that wrote 9.2 MB, each head
 * page four times over, some 300 bytes per sample (make bench:
 * history.write_bytes_per_sample); in one step it writes the chunks and
 * the freed pages' bookkeeping.  A step costs some 3 us a row on the
 * 2-core bench machine (255 series, 6,230 rows: 18 ms), so a full one
 * holds a flush up for about 100 ms there and several times that on a
 * Pi: once per compaction, against the flush_ms a producer waits for its
 * ACK anyway.
 */
#define COMPACT_STEP_SAMPLES	32768

/*
 * A rollup step recomputes at most this many buckets, of one series or
 * several: a few hundred rows read and written, well under the few
 * milliseconds a flush may wait behind it.
 */
#define ROLLUP_STEP_BUCKETS	512

/*
 * Checkpoint once the WAL holds this many pages (4 MiB at 4 KiB pages,
 * SQLite's own default threshold), besides every checkpoint_ms: frequent
 * enough that readers never walk a long WAL, rare enough that a page
 * rewritten by many commits is copied to the database once.
 */
#define CKPT_WAL_PAGES		1024

/*
 * A device's last_seen in the registry is refreshed at most this often
 * (or when its agent record comes): refreshing it at every commit would
 * cost a page write per commit for a timestamp nobody needs to the second.
 */
#define DEVICE_REFRESH_MS	60000

/* Timestamps outside [0, 2100-01-01) are a producer's bug, not data. */
#define TS_MAX_MS		4102444800000LL

/* How long a stopping writer waits for its ACKs to reach producers. */
#define STOP_DRAIN_MS		2000

/* Counters a client reported in its STATS (the uploader's). */
#define PROD_MAX_STATS	16

struct prod {
	struct peer		*peer;
	uint32_t		 nstats;
	char			 stat_name[PROD_MAX_STATS][48];
	double			 stat_value[PROD_MAX_STATS];
	struct writer		*w;
	TAILQ_ENTRY(prod)	 wait_entry;	/* in w->waiting */
	TAILQ_ENTRY(prod)	 tap_entry;	/* in w->taps */
	int			 waiting;
	int			 is_tap;
	uint64_t		 pend_seq;	/* newest seq in the batch */
	uint64_t		 pend_new;	/* its samples not yet known */
	uint64_t		 tap_lost;	/* TAP frames this tap missed */
};

struct gap_rec {
	char		device[BODY_MAX_NAME + 1];
	struct gap	g;
};

/* A device seen in the held batch, for the device registry. */
struct dev_rec {
	char	id[BODY_MAX_NAME + 1];
	char	hostname[BODY_MAX_NAME + 1];
	char	address[BODY_MAX_NAME + 1];
	char	os[BODY_MAX_NAME + 1];
};

struct dev_seen {
	char	id[BODY_MAX_NAME + 1];
	int64_t	stored_ms;
};

struct writer {
	struct event_base	*base;
	struct conf		 conf;
	struct store		 store;
	struct series_table	 series;
	struct peer_listener	*lis;
	struct peer_self	 self;
	struct body_dec		*dec;
	msgpack_sbuffer		 sb;		/* ACK, TAP, STATS bodies */
	uint8_t			*framebuf;	/* a whole frame, for taps */
	size_t			 framecap;

	/* The batch held until the next commit, in arrival order. */
	struct series		**pend_s;
	int64_t			*pend_ts;
	double			*pend_v;
	struct prod		**pend_p;
	size_t			 npend, pendcap;
	struct gap_rec		*gaps;
	size_t			 ngaps, gapcap;
	struct dev_rec		*devs;
	size_t			 ndevs, devcap;
	struct dev_seen		*seen;		/* when each was last stored */
	size_t			 nseen, seencap;
	struct upload		*up;
	struct rollup		*ru;
	struct retention	*ret;
	TAILQ_HEAD(, prod)	 waiting;	/* producers owed an ACK */
	TAILQ_HEAD(, prod)	 taps;
	size_t			 ntaps;

	/* Flush scratch: the batch grouped by series. */
	struct series		**touched;
	size_t			 ntouched, touchcap;
	int64_t			*grp_ts;
	double			*grp_v;
	struct prod		**grp_p;
	size_t			 grpcap;
	struct series		**fr_series;	/* one frame's series table */
	size_t			 fr_cap;

	struct event		*flush_ev, *retry_ev, *compact_ev, *ckpt_ev;
	struct event		*rollup_ev, *retention_ev;
	int			 rolling, pruning;
	int64_t			 prune_cursor;
	struct log_once		 rollup_fail, retention_fail;
	struct event		*sig_term, *sig_int, *sig_hup, *stop_ev;
	struct event		*watchdog;
	int			 failing;
	int64_t			 retry_ms;
	struct log_once		 commit_fail;
	struct log_once		 compact_fail, late_once;
	int			 stopping;

	int64_t			 head_samples;
	int64_t			 head_since_ms;
	int			 compacting;
	int64_t			 compact_cursor;

	struct {
		uint64_t	frames, samples_in, samples_new, duplicates;
		uint64_t	commits, commit_failures, compactions;
		uint64_t	gaps, tap_lost, too_late;
		double		last_commit_ms;
	} st;
};

static int	flush(struct writer *);




/* --- taps --- */

/*
 * Copies one frame the writer handled to every tap.  A tap whose buffer is
 * full misses the frame and the miss is counted and reported in the next
 * TAP it does get: the pipeline never waits for a tap.
 */
static void
tap_copy(struct writer *w, struct peer *from, const char *dir, unsigned type,
    uint64_t seq, const uint8_t *body, size_t len)
{
	struct frame_header	 h;
	struct tap_msg		 m;
	struct prod		*t;
	uint8_t			*nb;
	int			 shared = 0;

	if (w->ntaps == 0)
		return;
	if (FRAME_HDR_LEN + len > w->framecap) {
		if ((nb = realloc(w->framebuf, FRAME_HDR_LEN + len)) == NULL)
			return;
		w->framebuf = nb;
		w->framecap = FRAME_HDR_LEN + len;
	}
	h.length = (uint32_t)len;
	h.type = (uint16_t)type;
	h.version = PROTO_VERSION;
	h.flags = 0;
	h.seq = seq;
	frame_header_encode(&h, w->framebuf);
	memcpy(w->framebuf + FRAME_HDR_LEN, body, len);
	m.peer = PSTR(peer_label(from));
	m.dir = PSTR(dir);
	m.frame = w->framebuf;
	m.frame_len = (uint32_t)(FRAME_HDR_LEN + len);
	TAILQ_FOREACH(t, &w->taps, tap_entry) {
		/* One encoding serves every tap that has lost nothing. */
		if (t->tap_lost > 0 || !shared) {
			m.lost = t->tap_lost;
			msgpack_sbuffer_clear(&w->sb);
			if (body_encode_tap(&w->sb, &m) == -1)
				return;
			shared = t->tap_lost == 0;
		}
		if (peer_send_sb(t->peer, FRAME_TAP, 0, &w->sb) == -1) {
			t->tap_lost++;
			w->st.tap_lost++;
		} else
			t->tap_lost = 0;
		if (t->tap_lost > 0)
			shared = 0;
	}
}

/* Sends a frame to p, copying it to the taps. */
static int
send_frame(struct writer *w, struct peer *p, unsigned type, uint64_t seq,
    const msgpack_sbuffer *sb)
{
	int	rc = peer_send_sb(p, type, seq, sb);

	if (rc == 0 && w->ntaps > 0 && type != FRAME_TAP) {
		/* tap_copy reuses w->sb: copy the body out first. */
		uint8_t	*copy = malloc(sb->size ? sb->size : 1);

		if (copy != NULL) {
			memcpy(copy, sb->data, sb->size);
			tap_copy(w, p, "out", type, seq, copy, sb->size);
			free(copy);
		}
	}
	return rc;
}

/* --- the held batch --- */

static int
pend_reserve(struct writer *w, size_t n)
{
	size_t	ncap = w->pendcap ? w->pendcap : 4096;
	void	*p;

	if (n <= w->pendcap)
		return 0;
	while (ncap < n)
		ncap *= 2;
	if ((p = realloc(w->pend_s, ncap * sizeof(*w->pend_s))) == NULL)
		return -1;
	w->pend_s = p;
	if ((p = realloc(w->pend_ts, ncap * sizeof(*w->pend_ts))) == NULL)
		return -1;
	w->pend_ts = p;
	if ((p = realloc(w->pend_v, ncap * sizeof(*w->pend_v))) == NULL)
		return -1;
	w->pend_v = p;
	if ((p = realloc(w->pend_p, ncap * sizeof(*w->pend_p))) == NULL)
		return -1;
	w->pend_p = p;
	w->pendcap = ncap;
	return 0;
}

static int
grp_reserve(struct writer *w, size_t n)
{
	void	*p;

	if (n <= w->grpcap)
		return 0;
	if ((p = realloc(w->grp_ts, n * sizeof(*w->grp_ts))) == NULL)
		return -1;
	w->grp_ts = p;
	if ((p = realloc(w->grp_v, n * sizeof(*w->grp_v))) == NULL)
		return -1;
	w->grp_v = p;
	if ((p = realloc(w->grp_p, n * sizeof(*w->grp_p))) == NULL)
		return -1;
	w->grp_p = p;
	w->grpcap = n;
	return 0;
}

/*
 * Pauses or resumes the producers: only their frames need a commit.  Taps,
 * ternctl and the uploader keep being served, so an operator can see a
 * failing writer (ternctl status) while it fails.
 */
static void
pause_one(struct peer *p, void *arg)
{
	if (peer_info(p)->role == ROLE_PRODUCER)
		peer_pause(p);
}

static void
resume_one(struct peer *p, void *arg)
{
	if (peer_info(p)->role == ROLE_PRODUCER)
		peer_resume(p);
}

/* Sends every waiting producer its cumulative ACK. */
static void
ack_waiting(struct writer *w)
{
	struct prod	*pr;
	struct ack_msg	 a;

	while ((pr = TAILQ_FIRST(&w->waiting)) != NULL) {
		TAILQ_REMOVE(&w->waiting, pr, wait_entry);
		pr->waiting = 0;
		a.seq = pr->pend_seq;
		a.new_samples = pr->pend_new;
		pr->pend_new = 0;
		msgpack_sbuffer_clear(&w->sb);
		if (body_encode_ack(&w->sb, &a) == -1)
			continue;
		if (send_frame(w, pr->peer, FRAME_ACK, a.seq, &w->sb) == -1)
			/* Its ACKs pile up unread: it is not a producer we
			 * can serve, and it will resend after reconnecting. */
			peer_drop(pr->peer, "ACK: output buffer full, peer "
			    "is not reading its acknowledgements");
	}
}

/* Orders a series' pending samples by (ts, arrival) for dedup. */
struct tsidx {
	int64_t	ts;
	size_t	pos;
};

static int
tsidx_cmp(const void *a, const void *b)
{
	const struct tsidx	*x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

/*
 * Sorts grp[off..off+n) by ts, keeping arrival order among equal ts, so
 * that the first copy of a duplicate is the one kept.
 */
static int
sort_slice(struct writer *w, size_t off, size_t n)
{
	struct tsidx	*ix;
	int64_t		*ts;
	double		*v;
	struct prod	**p;
	size_t		 i;

	ix = malloc(n * sizeof(*ix));
	ts = malloc(n * sizeof(*ts));
	v = malloc(n * sizeof(*v));
	p = malloc(n * sizeof(*p));
	if (ix == NULL || ts == NULL || v == NULL || p == NULL) {
		free(ix);
		free(ts);
		free(v);
		free(p);
		return -1;
	}
	for (i = 0; i < n; i++) {
		ix[i].ts = w->grp_ts[off + i];
		ix[i].pos = i;
	}
	qsort(ix, n, sizeof(*ix), tsidx_cmp);
	for (i = 0; i < n; i++) {
		ts[i] = w->grp_ts[off + ix[i].pos];
		v[i] = w->grp_v[off + ix[i].pos];
		p[i] = w->grp_p[off + ix[i].pos];
	}
	memcpy(w->grp_ts + off, ts, n * sizeof(*ts));
	memcpy(w->grp_v + off, v, n * sizeof(*v));
	memcpy(w->grp_p + off, p, n * sizeof(*p));
	free(ix);
	free(ts);
	free(v);
	free(p);
	return 0;
}

/*
 * Whether d's registry row should be written in this commit: a device seen
 * for the first time by this writer, one whose agent record came with the
 * batch, or one not refreshed for DEVICE_REFRESH_MS.  Marks it stored.
 */
static int
device_due(struct writer *w, const struct dev_rec *d)
{
	struct dev_seen	*e = NULL, *ns;
	int64_t		 now = clock_wall_ms();
	size_t		 i;

	for (i = 0; i < w->nseen; i++)
		if (strcmp(w->seen[i].id, d->id) == 0) {
			e = &w->seen[i];
			break;
		}
	if (e == NULL) {
		if (w->nseen == w->seencap) {
			size_t nc = w->seencap ? w->seencap * 2 : 8;

			if ((ns = realloc(w->seen, nc * sizeof(*ns))) == NULL)
				return 1;
			w->seen = ns;
			w->seencap = nc;
		}
		e = &w->seen[w->nseen++];
		snprintf(e->id, sizeof(e->id), "%s", d->id);
		e->stored_ms = INT64_MIN / 2;
	}
	if (d->hostname[0] == '\0' && d->address[0] == '\0' &&
	    d->os[0] == '\0' && now - e->stored_ms < DEVICE_REFRESH_MS)
		return 0;
	e->stored_ms = now;
	return 1;
}

/*
 * A sample older than the raw retention may fall in a bucket that would
 * have to be recomputed from raw samples already pruned (rollup.h says
 * which); it cannot be stored without making that bucket shrink to it.
 * (It may also be a resend of a pruned sample, which could no longer be
 * recognised as one.)  Such samples are refused, counted and logged once;
 * backfill into buckets that hold nothing yet -- a device's outage
 * arriving late -- is stored as usual.  Returns 1 refused, 0 fine, -1.
 */
static int
too_late(struct writer *w, struct series *s, int64_t ts)
{
	const struct conf_writer *c = &w->conf.writer;
	int64_t			 now = clock_wall_ms();
	int			 rc;

	if (c->ntiers == 0 || ts >= now - c->raw_retention_ms)
		return 0;
	if ((rc = rollup_too_late(w->ru, s, ts, now)) <= 0)
		return rc;
	w->st.too_late++;
	log_once_fail(&w->late_once, LOG_WARNING, "series %lld: sample at %lld "
	    "refused: older than the raw retention and a bucket holding it "
	    "is already rolled up (counted as too_late; logged once)",
	    (long long)s->id, (long long)ts);
	return 1;
}

/*
 * Writes one series' slice of the batch to the head: sorted, duplicates
 * within the batch and samples already stored removed.  *kept and *last
 * report what was written.
 */
static int
flush_series(struct writer *w, struct series *s, size_t *kept, int64_t *last)
{
	size_t	 off = s->pend_off, n = s->npend, i, o = 0;
	int	 sorted = 1, rc;
	int64_t	 prev = INT64_MIN;

	for (i = 1; i < n; i++)
		if (w->grp_ts[off + i] <= w->grp_ts[off + i - 1]) {
			sorted = 0;
			break;
		}
	if (!sorted && sort_slice(w, off, n) == -1) {
		w->store.rc = SQLITE_NOMEM;
		snprintf(w->store.err, sizeof(w->store.err), "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		int64_t	t = w->grp_ts[off + i];
		int	dup = 0;

		if (o > 0 && t == prev)
			dup = 1;
		else if (t <= s->last_ts) {
			/* Older than what is stored: a resend or backfill. */
			if ((rc = store_has_sample(&w->store, s->id, t)) == -1)
				return -1;
			dup = rc;
			if (!dup && (rc = too_late(w, s, t)) != 0) {
				if (rc == -1)
					return -1;
				if (w->grp_p[off + i] != NULL &&
				    w->grp_p[off + i]->pend_new > 0)
					w->grp_p[off + i]->pend_new--;
				continue;
			}
		}
		if (dup) {
			w->st.duplicates++;
			if (w->grp_p[off + i] != NULL &&
			    w->grp_p[off + i]->pend_new > 0)
				w->grp_p[off + i]->pend_new--;
			continue;
		}
		w->grp_ts[off + o] = t;
		w->grp_v[off + o] = w->grp_v[off + i];
		o++;
		prev = t;
	}
	*kept = o;
	*last = o > 0 ? w->grp_ts[off + o - 1] : INT64_MIN;
	if (!s->persisted && store_put_series(&w->store, s) == -1)
		return -1;
	if (o > 0 && (store_put_head(&w->store, s->id, s->device,
	    w->grp_ts + off, w->grp_v + off, o) == -1 ||
	    rollup_mark(w->ru, s, w->grp_ts + off, o) == -1))
		return -1;
	return 0;
}

static void
compact_kick(struct writer *w)
{
	int64_t	 now = clock_wall_ms();
	uint64_t per = w->series.n > 0 ? w->series.n : 1;

	if (w->compacting || w->head_samples == 0 || w->stopping)
		return;
	if ((uint64_t)w->head_samples >= (uint64_t)w->conf.writer.compact_samples
	    * per || now - w->head_since_ms >= w->conf.writer.compact_ms) {
		w->compacting = 1;
		w->compact_cursor = 0;
		clock_arm(w->compact_ev, 0);
	}
}

static void
checkpoint_maybe(struct writer *w, int force)
{
	if (!force && w->store.wal_pages < CKPT_WAL_PAGES)
		return;
	if (store_checkpoint(&w->store, SQLITE_CHECKPOINT_PASSIVE) == -1)
		log_warnx("%s: %s", w->store.path, w->store.err);
}

/*
 * Commits the held batch and acknowledges it.  Returns 0, or -1 when the
 * commit failed: then nothing was acknowledged, the batch is still held,
 * producers are paused and a retry is scheduled.
 */
static int
flush(struct writer *w)
{
	struct series	*s;
	size_t		 i, off, kept, total_new = 0;
	int64_t		*lasts = NULL, last;
	double		 t0 = clock_mono_ms();

	if (w->flush_ev != NULL)
		evtimer_del(w->flush_ev);
	if (w->npend == 0 && w->ngaps == 0 && w->ndevs == 0) {
		ack_waiting(w);
		return 0;
	}

	/* Group by series: count, prefix offsets, scatter (stable). */
	w->ntouched = 0;
	for (i = 0; i < w->npend; i++) {
		s = w->pend_s[i];
		if (s->npend++ == 0) {
			if (w->ntouched == w->touchcap) {
				size_t		 nc = w->touchcap ? w->touchcap * 2
				    : 256;
				struct series	**nt = realloc(w->touched,
				    nc * sizeof(*nt));

				if (nt == NULL)
					goto nomem;
				w->touched = nt;
				w->touchcap = nc;
			}
			w->touched[w->ntouched++] = s;
		}
	}
	if (grp_reserve(w, w->npend) == -1 ||
	    (lasts = malloc((w->ntouched + 1) * sizeof(*lasts))) == NULL)
		goto nomem;
	for (i = 0, off = 0; i < w->ntouched; i++) {
		w->touched[i]->pend_off = (uint32_t)off;
		off += w->touched[i]->npend;
		w->touched[i]->npend = 0;	/* reused as fill count */
	}
	for (i = 0; i < w->npend; i++) {
		s = w->pend_s[i];
		off = s->pend_off + s->npend++;
		w->grp_ts[off] = w->pend_ts[i];
		w->grp_v[off] = w->pend_v[i];
		w->grp_p[off] = w->pend_p[i];
	}

	if (store_begin(&w->store) == -1)
		goto fail;
	for (i = 0; i < w->ntouched; i++) {
		if (flush_series(w, w->touched[i], &kept, &lasts[i]) == -1)
			goto fail;
		total_new += kept;
	}
	for (i = 0; i < w->ngaps; i++)
		if (store_put_gap(&w->store, w->gaps[i].device, &w->gaps[i].g,
		    "producer queue full", clock_wall_ms()) == -1)
			goto fail;
	for (i = 0; i < w->ndevs; i++) {
		struct dev_rec	*d = &w->devs[i];

		if (device_due(w, d) &&
		    store_put_device(&w->store, d->id, d->hostname, d->address,
		    d->os, clock_wall_ms()) == -1)
			goto fail;
	}
	if (store_commit(&w->store) == -1)
		goto fail;

	/* Committed: only now does anything in memory say so. */
	for (i = 0; i < w->ntouched; i++) {
		s = w->touched[i];
		s->persisted = 1;
		last = lasts[i];
		if (last > s->last_ts)
			s->last_ts = last;
		s->npend = 0;
	}
	free(lasts);
	w->st.commits++;
	w->st.samples_new += total_new;
	w->st.gaps += w->ngaps;
	w->st.last_commit_ms = clock_mono_ms() - t0;
	if (total_new > 0 && w->head_samples == 0)
		w->head_since_ms = clock_wall_ms();
	w->head_samples += (int64_t)total_new;
	log_debug("commit: %zu samples held, %zu new, %zu series, %.2f ms",
	    w->npend, total_new, w->ntouched, w->st.last_commit_ms);
	w->npend = 0;
	w->ngaps = 0;
	w->ndevs = 0;
	ack_waiting(w);
	if (total_new > 0)
		upload_serve(w->up);
	if (w->failing) {
		w->failing = 0;
		w->retry_ms = 0;
		log_once_ok(&w->commit_fail, "commit");
		if (!w->stopping)
			peer_listener_foreach(w->lis, resume_one, w);
	}
	checkpoint_maybe(w, 0);
	compact_kick(w);
	return 0;

nomem:
	w->store.rc = SQLITE_NOMEM;
	snprintf(w->store.err, sizeof(w->store.err), "out of memory grouping "
	    "the batch");
fail:
	free(lasts);
	store_rollback(&w->store);
	for (i = 0; i < w->ntouched; i++) {
		w->touched[i]->npend = 0;
		/* Its dirty marks were rolled back with the samples. */
		rollup_forget(w->touched[i]);
	}
	w->st.commit_failures++;
	log_once_fail(&w->commit_fail, LOG_ERR, "commit of %zu samples failed: "
	    "%s; holding them, producers paused, retrying", w->npend,
	    w->store.err);
	if (!w->failing) {
		w->failing = 1;
		peer_listener_foreach(w->lis, pause_one, w);
	}
	if (!w->stopping) {
		w->retry_ms = w->retry_ms == 0 ? RETRY_MIN_MS :
		    (w->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS :
		    w->retry_ms * 2);
		clock_arm(w->retry_ev, w->retry_ms);
	}
	return -1;
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct writer	*w = arg;

	if (!w->failing)
		(void)flush(w);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)flush(arg);
}

static void
compact_cb(evutil_socket_t fd, short what, void *arg)
{
	struct writer	*w = arg;
	int		 n;

	if (w->stopping || w->failing) {
		w->compacting = 0;
		return;
	}
	n = store_compact_step(&w->store, &w->compact_cursor,
	    COMPACT_STEP_SAMPLES);
	if (n == -1) {
		log_once_fail(&w->compact_fail, LOG_ERR, "compaction: %s; "
		    "will retry", w->store.err);
		w->compacting = 0;
		return;
	}
	log_once_ok(&w->compact_fail, "compaction");
	if (n > 0) {
		/* Let pending I/O run before the next step. */
		clock_arm(w->compact_ev, 0);
		return;
	}
	w->compacting = 0;
	w->st.compactions++;
	w->head_samples = store_head_samples(&w->store);
	w->head_since_ms = w->head_samples > 0 ? clock_wall_ms() : 0;
	checkpoint_maybe(w, 1);
}

/*
 * Rollup and retention run as passes of small steps, each its own
 * transaction, with the event loop (and so ingest) running between steps.
 */
static void
rollup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct writer	*w = arg;
	int		 n;

	if (w->stopping)
		return;
	if (w->failing) {
		clock_arm(w->rollup_ev, w->conf.writer.rollup_ms);
		return;
	}
	n = rollup_step(w->ru, clock_wall_ms(), ROLLUP_STEP_BUCKETS);
	if (n > 0) {
		log_once_ok(&w->rollup_fail, "rollup");
		clock_arm(w->rollup_ev, 0);
		return;
	}
	if (n < 0)
		log_once_fail(&w->rollup_fail, LOG_ERR, "%s; retrying at the "
		    "next interval", w->store.err);
	else
		log_once_ok(&w->rollup_fail, "rollup");
	checkpoint_maybe(w, 0);
	clock_arm(w->rollup_ev, w->conf.writer.rollup_ms);
}

static void
retention_cb(evutil_socket_t fd, short what, void *arg)
{
	struct writer	*w = arg;
	int		 n;

	if (w->stopping)
		return;
	if (w->failing) {
		clock_arm(w->retention_ev, w->conf.writer.retention_ms);
		return;
	}
	n = retention_step(w->ret, &w->conf.writer, clock_wall_ms(),
	    &w->prune_cursor);
	if (n > 0) {
		clock_arm(w->retention_ev, 0);
		return;
	}
	if (n < 0)
		log_once_fail(&w->retention_fail, LOG_ERR, "%s; retrying at the "
		    "next interval", w->store.err);
	else
		log_once_ok(&w->retention_fail, "retention");
	w->prune_cursor = 0;
	checkpoint_maybe(w, 0);
	clock_arm(w->retention_ev, w->conf.writer.retention_ms);
}

static void
ckpt_cb(evutil_socket_t fd, short what, void *arg)
{
	struct writer	*w = arg;

	checkpoint_maybe(w, 1);
	compact_kick(w);
	clock_arm(w->ckpt_ev, w->conf.writer.checkpoint_ms);
}

/* --- frames --- */

/* Remembers that device sent in this batch (and what its agent said). */
static int
note_device(struct writer *w, struct pstr device, const struct samples_msg *m)
{
	struct dev_rec	*d = NULL;
	size_t		 i;

	for (i = 0; i < w->ndevs; i++)
		if (pstr_eq(device, w->devs[i].id)) {
			d = &w->devs[i];
			break;
		}
	if (d == NULL) {
		if (w->ndevs == w->devcap) {
			size_t		 nc = w->devcap ? w->devcap * 2 : 8;
			struct dev_rec	*nd = realloc(w->devs, nc * sizeof(*nd));

			if (nd == NULL)
				return -1;
			w->devs = nd;
			w->devcap = nc;
		}
		d = &w->devs[w->ndevs++];
		memset(d, 0, sizeof(*d));
		snprintf(d->id, sizeof(d->id), "%.*s", (int)device.n, device.p);
	}
	if (m->has_agent) {
		snprintf(d->hostname, sizeof(d->hostname), "%.*s",
		    (int)m->agent.hostname.n, m->agent.hostname.p);
		snprintf(d->address, sizeof(d->address), "%.*s",
		    (int)m->agent.address.n, m->agent.address.p);
		snprintf(d->os, sizeof(d->os), "%.*s", (int)m->agent.os.n,
		    m->agent.os.p);
	}
	return 0;
}

static int
on_samples(struct writer *w, struct prod *pr, const struct frame *f,
    char *err, size_t errlen)
{
	struct samples_msg	 m;
	struct pstr		 device;
	const struct peer_info	*pi = peer_info(pr->peer);
	struct series		*s;
	char			 why[256];
	uint32_t		 i;

	if (body_decode_samples(w->dec, f->body, f->hdr.length, &m, err,
	    errlen) == -1)
		return -1;
	device = m.device;
	if (device.n == 0)
		device = PSTR(pi->device);
	if (device.n == 0) {
		snprintf(err, errlen, "no device: neither the frame nor HELLO "
		    "names one");
		return -1;
	}
	/* Check everything before holding anything: a bad frame adds no
	 * sample to the batch. */
	if (m.nseries > w->fr_cap) {
		struct series	**nf = realloc(w->fr_series,
		    m.nseries * sizeof(*nf));

		if (nf == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		w->fr_series = nf;
		w->fr_cap = m.nseries;
	}
	for (i = 0; i < m.nseries; i++) {
		s = series_intern(&w->series, device, &m.series[i], why,
		    sizeof(why));
		if (s == NULL) {
			snprintf(err, errlen, "series[%u]: %s", i, why);
			return -1;
		}
		w->fr_series[i] = s;
	}
	for (i = 0; i < m.npoints; i++)
		if (m.points[i].ts < 0 || m.points[i].ts >= TS_MAX_MS) {
			snprintf(err, errlen, "points[%u]: timestamp %lld ms "
			    "is outside 1970..2100", i,
			    (long long)m.points[i].ts);
			return -1;
		}
	if (pend_reserve(w, w->npend + m.npoints) == -1) {
		snprintf(err, errlen, "out of memory holding %u samples",
		    m.npoints);
		return -1;
	}
	if (m.ngaps > 0 && w->ngaps + m.ngaps > w->gapcap) {
		size_t		 nc = w->ngaps + m.ngaps + 8;
		struct gap_rec	*ng = realloc(w->gaps, nc * sizeof(*ng));

		if (ng == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		w->gaps = ng;
		w->gapcap = nc;
	}
	for (i = 0; i < m.npoints; i++) {
		w->pend_s[w->npend] = w->fr_series[m.points[i].idx];
		w->pend_ts[w->npend] = m.points[i].ts;
		w->pend_v[w->npend] = m.points[i].value;
		w->pend_p[w->npend] = pr;
		w->npend++;
	}
	if (note_device(w, device, &m) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < m.ngaps; i++) {
		struct gap_rec	*g = &w->gaps[w->ngaps++];

		snprintf(g->device, sizeof(g->device), "%.*s", (int)device.n,
		    device.p);
		g->g = m.gaps[i];
		log_warnx("peer %s: reports %llu samples dropped in its queue "
		    "between %lld and %lld", peer_label(pr->peer),
		    (unsigned long long)g->g.count, (long long)g->g.from_ts,
		    (long long)g->g.to_ts);
	}
	w->st.frames++;
	w->st.samples_in += m.npoints;
	if (f->hdr.seq > pr->pend_seq)
		pr->pend_seq = f->hdr.seq;
	pr->pend_new += m.npoints;
	if (!pr->waiting) {
		TAILQ_INSERT_TAIL(&w->waiting, pr, wait_entry);
		pr->waiting = 1;
	}
	tap_copy(w, pr->peer, "in", f->hdr.type, f->hdr.seq, f->body,
	    f->hdr.length);
	if (w->npend >= w->conf.writer.flush_samples)
		(void)flush(w);
	else if (f->hdr.flags & FRAME_F_COMMIT)
		/* Someone waits: commit once this turn's frames are read. */
		clock_arm(w->flush_ev, 0);
	else if (!evtimer_pending(w->flush_ev, NULL))
		clock_arm(w->flush_ev, w->conf.writer.flush_ms);
	return 0;
}

/*
 * A STATS request may carry the sender's own counters (the uploader
 * reports its backlog and failures this way); they are kept, replacing the
 * last set, and included in every reply.
 */
static int
keep_stats(struct writer *w, struct prod *pr, const struct frame *f,
    char *err, size_t errlen)
{
	struct stats_msg	m;
	uint32_t		i;

	if (body_decode_stats(w->dec, f->body, f->hdr.length, &m, err,
	    errlen) == -1)
		return -1;
	if (m.n == 0)
		return 0;
	pr->nstats = 0;
	for (i = 0; i < m.n && pr->nstats < PROD_MAX_STATS; i++) {
		log_escape(m.kv[i].name.p, m.kv[i].name.n,
		    pr->stat_name[pr->nstats], sizeof(pr->stat_name[0]));
		pr->stat_value[pr->nstats++] = m.kv[i].value;
	}
	return 0;
}

/* Adds every client's reported counters to a reply. */
static void
peer_stats(struct peer *p, void *arg)
{
	struct stats_msg	*m = arg;
	struct prod		*pr = peer_data(p);
	uint32_t		 i;

	for (i = 0; pr != NULL && i < pr->nstats && m->n < 64; i++) {
		m->kv[m->n].name = PSTR(pr->stat_name[i]);
		m->kv[m->n++].value = pr->stat_value[i];
	}
}

static int
on_stats(struct writer *w, struct prod *pr, const struct frame *f)
{
	struct stat_kv		 kv[64];
	struct stats_msg	 m;
	struct upload_stats	 us;
	struct retention_stats	 rs;
	int64_t			 prow = 0, psamp = 0, pold = 0;
	uint32_t		 n = 0;

#define KV(k, v) do {							\
	kv[n].name = PSTR(k);						\
	kv[n++].value = (double)(v);					\
} while (0)
	KV("frames", w->st.frames);
	KV("samples_in", w->st.samples_in);
	KV("samples_new", w->st.samples_new);
	KV("duplicates", w->st.duplicates);
	KV("too_late", w->st.too_late);
	KV("commits", w->st.commits);
	KV("commit_failures", w->st.commit_failures);
	KV("last_commit_ms", w->st.last_commit_ms);
	KV("held_samples", w->npend);
	KV("failing", w->failing);
	KV("series", w->series.n);
	KV("head_samples", w->head_samples);
	KV("compactions", w->st.compactions);
	KV("gaps", w->st.gaps);
	KV("peers", peer_listener_count(w->lis));
	KV("taps", w->ntaps);
	KV("tap_lost", w->st.tap_lost);
	KV("db_bytes", store_db_bytes(&w->store));
	KV("wal_bytes", store_wal_bytes(&w->store));
	upload_stats(w->up, &us);
	(void)store_pending(&w->store, &prow, &psamp, &pold);
	KV("upload_pending_samples", psamp);
	KV("upload_oldest_pending_ts", pold);
	KV("upload_batches", us.batches);
	KV("upload_inflight", us.inflight);
	KV("upload_done_samples", us.done_samples);
	KV("upload_setaside_batches", us.setaside_batches);
	KV("upload_setaside_samples", us.setaside_samples);
	KV("upload_last_done_ms", us.last_done_ms);
	retention_stats(w->ret, &rs);
	KV("rollup_pending_buckets", rollup_pending(w->ru, clock_wall_ms()));
	KV("retention_raw_rows", rs.raw_rows);
	KV("retention_tier_rows", rs.tier_rows);
	KV("retention_capped_samples", rs.capped_samples);
	KV("vacuumed_pages", rs.vacuumed_pages);
#undef KV
	m.n = n;
	m.kv = kv;
	peer_listener_foreach(w->lis, peer_stats, &m);
	msgpack_sbuffer_clear(&w->sb);
	if (body_encode_stats(&w->sb, &m) == -1)
		return 0;
	(void)send_frame(w, pr->peer, FRAME_STATS, f->hdr.seq, &w->sb);
	return 0;
}

/* Forgets a producer: its held samples stay in the batch, unattributed. */
static void
prod_free(struct writer *w, struct prod *pr)
{
	size_t	i;

	if (pr->waiting)
		TAILQ_REMOVE(&w->waiting, pr, wait_entry);
	if (pr->is_tap) {
		TAILQ_REMOVE(&w->taps, pr, tap_entry);
		w->ntaps--;
	}
	for (i = 0; i < w->npend; i++)
		if (w->pend_p[i] == pr)
			w->pend_p[i] = NULL;
	free(pr);
}

static int
dispatch(struct peer *p, const struct frame *f, void *arg, char *err,
    size_t errlen)
{
	struct writer		*w = arg;
	struct prod		*pr = peer_data(p);
	struct loglevel_msg	 ll;
	struct fetch_msg	 fm;
	struct done_msg		 dm;

	if (f == NULL) {
		upload_peer_gone(w->up, p);
		if (pr != NULL)
			prod_free(w, pr);
		peer_set_data(p, NULL);
		if (w->stopping && peer_listener_count(w->lis) == 0)
			event_active(w->stop_ev, 0, 0);
		return 0;
	}
	switch (f->hdr.type) {
	case FRAME_SAMPLES:
		return on_samples(w, pr, f, err, errlen);
	case FRAME_STATS:
		tap_copy(w, p, "in", f->hdr.type, f->hdr.seq, f->body,
		    f->hdr.length);
		if (keep_stats(w, pr, f, err, errlen) == -1)
			return -1;
		return on_stats(w, pr, f);
	case FRAME_LOGLEVEL:
		if (body_decode_loglevel(w->dec, f->body, f->hdr.length, &ll,
		    err, errlen) == -1)
			return -1;
		if (ll.level < LOG_ERR || ll.level > LOG_DEBUG) {
			snprintf(err, errlen, "level %d is not err..debug",
			    ll.level);
			return -1;
		}
		log_info("peer %s: log level set to %s", peer_label(p),
		    log_level_name(ll.level));
		log_setlevel(ll.level);
		return 0;
	case FRAME_FETCH:
		if (body_decode_fetch(w->dec, f->body, f->hdr.length, &fm, err,
		    errlen) == -1)
			return -1;
		tap_copy(w, p, "in", f->hdr.type, f->hdr.seq, f->body,
		    f->hdr.length);
		return upload_fetch(w->up, p, f->hdr.seq, &fm, err, errlen);
	case FRAME_DONE:
		if (body_decode_done(w->dec, f->body, f->hdr.length, &dm, err,
		    errlen) == -1)
			return -1;
		tap_copy(w, p, "in", f->hdr.type, f->hdr.seq, f->body,
		    f->hdr.length);
		return upload_done(w->up, p, &dm, err, errlen);
	case FRAME_PONG:
		return 0;
	default:
		/* The role table let it through, but this writer does not
		 * serve that conversation yet. */
		snprintf(err, errlen, "not served by this writer");
		return -1;
	}
}

static int
accept_peer(struct peer *p, void *arg, char *err, size_t errlen)
{
	struct writer		*w = arg;
	struct prod		*pr;
	const struct peer_info	*pi = peer_info(p);

	if (w->stopping) {
		snprintf(err, errlen, "writer is stopping");
		return -1;
	}
	if (peer_listener_count(w->lis) > w->conf.writer.max_peers) {
		snprintf(err, errlen, "too many peers (max_peers %u)",
		    w->conf.writer.max_peers);
		return -1;
	}
	if ((pr = calloc(1, sizeof(*pr))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pr->peer = p;
	pr->w = w;
	if (pi->role == ROLE_TAP) {
		pr->is_tap = 1;
		TAILQ_INSERT_TAIL(&w->taps, pr, tap_entry);
		w->ntaps++;
		peer_set_outlimit(p, w->conf.writer.tap_out_bytes);
	}
	peer_set_data(p, pr);
	peer_set_dispatch(p, dispatch, w);
	if (w->failing && pi->role == ROLE_PRODUCER)
		peer_pause(p);
	return 0;
}

static int
send_batch(struct peer *p, uint64_t seq, const msgpack_sbuffer *sb, void *arg)
{
	return send_frame(arg, p, FRAME_BATCH, seq, sb);
}

/* --- start and stop --- */

static void
stop_done(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopexit(((struct writer *)arg)->base, NULL);
}

static void
close_one(struct peer *p, void *arg)
{
	peer_close_flush(p, STOP_DRAIN_MS);
}

/*
 * SIGTERM: stop accepting, stop reading, commit what is held, send the
 * ACKs, let them drain, exit.  A commit that fails here leaves the samples
 * unacknowledged, which is safe: their producers still hold them.
 */
static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	struct writer	*w = arg;

	if (w->stopping)
		return;
	w->stopping = 1;
	daemon_stopping();
	log_info("signal %d: stopping; committing %zu held samples",
	    (int)sig, w->npend);
	peer_listener_stop(w->lis);
	peer_listener_foreach(w->lis, pause_one, w);
	if (w->npend > 0 || w->ngaps > 0) {
		if (flush(w) == -1)
			log_error("stopping with %zu samples not committed: %s; "
			    "their producers still hold them", w->npend,
			    w->store.err);
	} else
		ack_waiting(w);
	peer_listener_foreach(w->lis, close_one, w);
	if (peer_listener_count(w->lis) == 0)
		event_active(w->stop_ev, 0, 0);
	else
		clock_arm(w->stop_ev, STOP_DRAIN_MS + 500);
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct writer	*w = arg;
	struct conf	 c;
	char		 err[1024];

	/*
	 * The log level, tiers and retention are re-read; the socket and the
	 * database cannot change under a running writer.
	 */
	if (conf_load(&c, w->conf.path[0] ? w->conf.path : NULL, err,
	    sizeof(err)) == -1) {
		log_error("SIGHUP: %s; keeping the running configuration", err);
		conf_free(&c);
		return;
	}
	log_setlevel(c.log_level);
	w->conf.log_level = c.log_level;
	memcpy(w->conf.writer.tiers, c.writer.tiers, sizeof(c.writer.tiers));
	w->conf.writer.ntiers = c.writer.ntiers;
	w->conf.writer.raw_retention_ms = c.writer.raw_retention_ms;
	w->conf.writer.raw_unuploaded_bytes = c.writer.raw_unuploaded_bytes;
	w->conf.writer.rollup_ms = c.writer.rollup_ms;
	w->conf.writer.retention_ms = c.writer.retention_ms;
	if (rollup_set_tiers(w->ru, &w->conf.writer) == -1)
		log_error("SIGHUP: %s; the rollup starts over from the oldest "
		    "data", w->store.err);
	log_info("SIGHUP: configuration re-read: log level %s, %u tiers, raw "
	    "kept %lld ms", log_level_name(c.log_level), c.writer.ntiers,
	    (long long)c.writer.raw_retention_ms);
	conf_free(&c);
}

int
main(int argc, char **argv)
{
	struct writer		 w;
	struct daemon_opts	 o;
	char			 status[128];

	memset(&w, 0, sizeof(w));
	daemon_getopt(argc, argv, &o, NULL, NULL, NULL, USAGE);
	if (optind != argc) {
		fprintf(stderr, "usage: %s\n", USAGE);
		return EXIT_USAGE;
	}
	daemon_start("tern-writer", &o, &w.conf);
	signal(SIGPIPE, SIG_IGN);

	TAILQ_INIT(&w.waiting);
	TAILQ_INIT(&w.taps);
	series_table_init(&w.series);
	msgpack_sbuffer_init(&w.sb);
	if ((w.dec = body_dec_new()) == NULL)
		fatalx("out of memory");
	if (store_open(&w.store, &w.conf.writer) == -1) {
		char	moved[CONF_PATH_MAX + 64];

		/*
		 * A corrupt database must not become a crash loop: move it
		 * aside, keep it for an operator, and start on a fresh one.
		 * Producers still hold what was not acknowledged.
		 */
		if (!store_is_corrupt(&w.store))
			fatalx("%s: %s", w.conf.writer.database, w.store.err);
		store_close(&w.store);
		if (store_quarantine(w.conf.writer.database, moved,
		    sizeof(moved)) == -1)
			fatal("%s: cannot move the corrupt database aside",
			    w.conf.writer.database);
		log_error("%s: database is corrupt (%s); moved it to %s and "
		    "started a fresh one", w.conf.writer.database, w.store.err,
		    moved);
		if (store_open(&w.store, &w.conf.writer) == -1)
			fatalx("%s: %s", w.conf.writer.database, w.store.err);
	}
	if (store_load_series(&w.store, &w.series) == -1)
		fatalx("%s: %s", w.conf.writer.database, w.store.err);
	w.store.upload_gate = w.conf.uploader.enabled;
	if ((w.up = upload_new(&w.store, &w.series, send_batch, &w)) == NULL)
		fatalx("out of memory");
	{
		char	err[512];

		if ((w.ru = rollup_new(&w.store, &w.series, &w.conf.writer, err,
		    sizeof(err))) == NULL ||
		    (w.ret = retention_new(&w.store, &w.series, w.ru, err,
		    sizeof(err))) == NULL)
			fatalx("%s: %s", w.conf.writer.database, err);
	}
	w.head_samples = store_head_samples(&w.store);
	w.head_since_ms = w.head_samples > 0 ? clock_wall_ms() : 0;

	if ((w.base = event_base_new()) == NULL)
		fatalx("cannot create the event base");
	w.self.role = ROLE_WRITER;
	w.self.name = "tern-writer";
	w.self.device = w.conf.device;
	w.self.epoch = peer_random64();
	w.lis = peer_listen(w.base, w.conf.writer.socket, &w.self,
	    w.conf.writer.peer_out_bytes, accept_peer, &w);
	if (w.lis == NULL) {
		if (errno == EADDRINUSE)
			fatalx("%s: another tern-writer is listening there",
			    w.conf.writer.socket);
		fatal("listen on %s", w.conf.writer.socket);
	}
	w.flush_ev = evtimer_new(w.base, flush_cb, &w);
	w.retry_ev = evtimer_new(w.base, retry_cb, &w);
	w.compact_ev = evtimer_new(w.base, compact_cb, &w);
	w.ckpt_ev = evtimer_new(w.base, ckpt_cb, &w);
	w.rollup_ev = evtimer_new(w.base, rollup_cb, &w);
	w.retention_ev = evtimer_new(w.base, retention_cb, &w);
	w.stop_ev = evtimer_new(w.base, stop_done, &w);
	w.sig_term = evsignal_new(w.base, SIGTERM, on_term, &w);
	w.sig_int = evsignal_new(w.base, SIGINT, on_term, &w);
	w.sig_hup = evsignal_new(w.base, SIGHUP, on_hup, &w);
	if (w.flush_ev == NULL || w.retry_ev == NULL || w.compact_ev == NULL ||
	    w.ckpt_ev == NULL || w.stop_ev == NULL || w.sig_term == NULL ||
	    w.rollup_ev == NULL || w.retention_ev == NULL ||
	    w.sig_int == NULL || w.sig_hup == NULL)
		fatalx("cannot create events");
	evsignal_add(w.sig_term, NULL);
	evsignal_add(w.sig_int, NULL);
	evsignal_add(w.sig_hup, NULL);
	clock_arm(w.ckpt_ev, w.conf.writer.checkpoint_ms);
	/* What was dirty when the writer stopped is rolled up first. */
	clock_arm(w.rollup_ev, 0);
	clock_arm(w.retention_ev, w.conf.writer.retention_ms);
	w.watchdog = daemon_watchdog(w.base);

	log_info("listening on %s, database %s, %zu series, %lld samples in "
	    "head", w.conf.writer.socket, w.conf.writer.database, w.series.n,
	    (long long)w.head_samples);
	snprintf(status, sizeof(status), "serving %s", w.conf.writer.socket);
	daemon_ready(status);

	event_base_dispatch(w.base);

	peer_listener_free(w.lis);
	upload_free(w.up);
	rollup_free(w.ru);
	retention_free(w.ret);
	if (store_checkpoint(&w.store, SQLITE_CHECKPOINT_TRUNCATE) == -1)
		log_warnx("%s", w.store.err);
	if (store_mark_clean(&w.store) == -1)
		log_warnx("%s", w.store.err);
	store_close(&w.store);
	series_table_free(&w.series);
	body_dec_free(w.dec);
	msgpack_sbuffer_destroy(&w.sb);
	free(w.framebuf);
	free(w.pend_s);
	free(w.pend_ts);
	free(w.pend_v);
	free(w.pend_p);
	free(w.gaps);
	free(w.devs);
	free(w.seen);
	free(w.touched);
	free(w.grp_ts);
	free(w.grp_v);
	free(w.grp_p);
	free(w.fr_series);
	event_free(w.flush_ev);
	event_free(w.retry_ev);
	event_free(w.compact_ev);
	event_free(w.ckpt_ev);
	event_free(w.rollup_ev);
	event_free(w.retention_ev);
	event_free(w.stop_ev);
	event_free(w.sig_term);
	event_free(w.sig_int);
	event_free(w.sig_hup);
	if (w.watchdog != NULL)
		event_free(w.watchdog);
	event_base_free(w.base);
	conf_free(&w.conf);
	log_info("stopped");
	return 0;
}
