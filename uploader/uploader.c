/*
 * uploader.c -- tern-uploader: ships the samples its writer committed to a
 * central receiver over HTTP, and tells the writer to advance the upload
 * cursor only after the receiver answered 2xx.
 *
 * The conversation with the writer (FRAMES.md, "Upload"):
 *
 *   FETCH {max, backlog}  ->  BATCH {id, device, series, points}
 *   POST the batch; 2xx   ->  DONE {id}
 *   other 4xx             ->  DONE {id, set_aside, reason}
 *
 * Two lanes, each holding at most one batch and one easy handle: "live"
 * asks for the newest pending samples and sends them at once; "backlog"
 * asks for the oldest, paced to uploader.backlog_rate samples/s by a token
 * bucket, so after an outage the dashboard is live again at the first
 * request while history fills in behind it.  The memory the uploader holds
 * is therefore two batches, whatever the size of the backlog.
 *
 * Nothing here decides that a sample is uploaded except a 2xx: a batch
 * that failed, or was in flight when a connection or the process went
 * away, is simply never DONE, and the writer sends its rows again later
 * (the receiver's writer stores a sample once).  A DONE is only ever sent
 * on the writer connection its BATCH came from: batch ids start again at
 * 1 when the writer restarts, so an old id on a new connection could name
 * someone else's batch.
 *
 * Failures: a transport error, a timeout, 5xx, 408 or 429 is retried with
 * capped exponential backoff and full jitter (or what Retry-After says);
 * while the live lane is failing the backlog lane waits, so an outage
 * costs one probe per backoff, not two.  401/403 stops all sending until
 * the credential works, probing at uploader.retry_max and re-reading the
 * token file before every request, so a fixed token is picked up without
 * a restart.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "clock.h"
#include "body.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "payload.h"
#include "peer.h"
#include "post.h"
#include "retry.h"

#define USAGE	"tern-uploader [-dnv] [-f file]"

/* We only send FETCH, DONE and STATS, each well under 2 KiB. */
#define UPLOADER_OUT_BYTES	(64u * 1024)

/* After SIGTERM, requests in flight may finish for this long. */
#define STOP_MS			5000
/* ... and the DONEs they produced get this long to reach the writer. */
#define CLOSE_FLUSH_MS		1000

/* A status line in the log this often. */
#define STATUS_MS		(60 * 1000)
/* The writer's counters (pending samples, oldest) are asked for this
 * often; they decide whether a backlog exists. */
#define STATS_POLL_MS		(10 * 1000)
/* A rejected credential is logged again at most this often. */
#define AUTH_LOG_MS		(10 * 60 * 1000)

/*
 * While a backlog exists, the writer answers a live FETCH with the newest
 * pending samples, which after the first batch are backlog too.  So the
 * live lane then asks once per interval for about twice what arrived new
 * in its last batch (at least LIVE_MIN_MAX), which keeps live data live
 * without letting the live lane drain the backlog unpaced.  One second is
 * the writer's default commit interval.
 */
#define LIVE_BACKLOG_INTERVAL_MS	1000
#define LIVE_MIN_MAX			100

/* The receiver's reason in a set-aside DONE: the first bytes of its body. */
#define REASON_MAX		200

enum lane_state {
	LANE_IDLE,		/* no batch, no FETCH */
	LANE_FETCHING,		/* FETCH sent, BATCH not yet here */
	LANE_HELD,		/* a batch, waiting for its turn or a retry */
	LANE_SENDING,		/* a batch, its request in flight */
};

enum { LIVE = 0, BACKLOG = 1, NLANES = 2 };

struct uploader;

struct lane {
	struct uploader		*u;
	const char		*name;		/* "live", "backlog" */
	int			 backlog;
	enum lane_state		 state;
	struct post_req		*req;
	struct event		*retry_ev;	/* backoff before a retry */
	struct event		*fetch_ev;	/* live: paced FETCH */
	uint64_t		 fetch_seq;	/* header seq of our FETCH */
	uint32_t		 fetch_max;
	/* The batch held. */
	uint64_t		 id;
	uint64_t		 gen;		/* writer connection it came on */
	uint32_t		 npoints;
	int64_t			 oldest_ts, newest_ts;
	unsigned		 attempts;
	msgpack_sbuffer		 body;		/* what is POSTed */
	msgpack_sbuffer		 json;		/* JSON before gzip */
	/* live: the newest sample sent, and what the next FETCH asks for */
	int64_t			 frontier_ts;
	uint32_t		 next_max;
};

struct counters {
	uint64_t	batches_ok, samples_ok;
	uint64_t	live_samples, backlog_samples;
	uint64_t	setaside_batches, setaside_samples;
	uint64_t	requests, failed_requests, auth_rejections;
	uint64_t	bytes_sent, json_skipped;
};

struct uploader {
	struct event_base	*base;
	struct conf		 conf;
	const struct conf_uploader *uc;
	struct peer_self	 self;
	struct peer_client	*client;
	struct body_dec		*dec;
	struct post		*post;
	struct lane		 lanes[NLANES];
	msgpack_sbuffer		 sb;		/* frames we send */
	const char		*ctype;

	/* The writer connection. */
	uint64_t		 gen;		/* bumped on every disconnect */
	uint64_t		 seq;		/* FETCH/STATS header seq */
	int			 echo;		/* BATCH echoes FETCH's seq */
	unsigned		 nfetch;	/* FETCHes unanswered */

	/* The link to the receiver. */
	unsigned		 failures;	/* consecutive, both lanes */
	struct log_once		 linkfail, tokenfail, setaside_once;
	int			 auth_blocked;
	uint64_t		 auth_attempts;
	int64_t			 auth_logged_ms;
	struct event		*auth_ev;
	char			 token[POST_TOKEN_MAX];
	int64_t			 last_success_ms;	/* wall clock */
	long			 last_status;

	/* The backlog: does one exist, and the pacing bucket. */
	int			 backlog_hint;
	double			 tokens;
	int64_t			 tokens_ms;
	uint32_t		 chunk;
	struct event		*pace_ev;

	/* What the writer's STATS said. */
	int			 w_have;
	int64_t			 w_pending, w_oldest_ts;

	struct counters		 st, st_min;	/* now, a minute ago */
	struct event		*status_ev, *stats_ev, *stop_ev;
	struct event		*sig_term, *sig_int, *watchdog;
	int			 stopping, finished;
};

static void	pump(struct uploader *);
static void	lane_post(struct lane *);
static void	finish(struct uploader *);
static const char *age_str(int64_t, char *, size_t);




/* A uniform double in [0, 1) for the jitter. */
static double
uniform01(void)
{
	return (double)(peer_random64() >> 11) / 9007199254740992.0;
}

/* Forgets the lane's batch (never DONE: the writer sends it again). */
static void
lane_reset(struct lane *l)
{
	evtimer_del(l->retry_ev);
	l->state = LANE_IDLE;
	l->id = 0;
	l->npoints = 0;
	l->attempts = 0;
	msgpack_sbuffer_clear(&l->body);
	msgpack_sbuffer_clear(&l->json);
}

static int
lane_has_batch(const struct lane *l)
{
	return l->state == LANE_HELD || l->state == LANE_SENDING;
}

/* --- the writer conversation --- */

static void
send_fetch(struct uploader *u, struct lane *l, uint32_t max)
{
	struct peer		*p = peer_client_peer(u->client);
	struct fetch_msg	 fm;

	if (p == NULL)
		return;
	fm.max = max;
	fm.backlog = l->backlog;
	msgpack_sbuffer_clear(&u->sb);
	if (body_encode_fetch(&u->sb, &fm) == -1 ||
	    peer_send_sb(p, FRAME_FETCH, ++u->seq, &u->sb) == -1) {
		log_warnx("cannot send FETCH to the writer: %s",
		    strerror(errno));
		return;
	}
	l->state = LANE_FETCHING;
	l->fetch_seq = u->seq;
	l->fetch_max = max;
	u->nfetch++;
}

/* DONE for the lane's batch, on the connection it came from only. */
static void
send_done(struct uploader *u, struct lane *l, int set_aside,
    const char *reason)
{
	struct peer	*p = peer_client_peer(u->client);
	struct done_msg	 dm;

	if (p == NULL || l->gen != u->gen) {
		log_debug("%s batch %" PRIu64 ": writer connection gone; no "
		    "DONE, the writer sends it again", l->name, l->id);
		return;
	}
	memset(&dm, 0, sizeof(dm));
	dm.id = l->id;
	dm.set_aside = set_aside;
	dm.reason = PSTR(reason != NULL ? reason : "");
	msgpack_sbuffer_clear(&u->sb);
	if (body_encode_done(&u->sb, &dm) == -1 ||
	    peer_send_sb(p, FRAME_DONE, 0, &u->sb) == -1)
		log_warnx("cannot send DONE for batch %" PRIu64 " (%s); the "
		    "writer will send it again", l->id, strerror(errno));
}

/* Adds to the backlog bucket what the time since the last refill earned. */
static void
refill(struct uploader *u)
{
	int64_t	now = (int64_t)clock_mono_ms();
	double	cap = (double)(u->chunk > u->uc->backlog_rate ? u->chunk :
		    u->uc->backlog_rate);

	u->tokens += (double)(now - u->tokens_ms) / 1000.0 *
	    (double)u->uc->backlog_rate;
	if (u->tokens > cap)
		u->tokens = cap;
	u->tokens_ms = now;
}

/* Whether lane l may send a FETCH now. */
static int
may_fetch(struct uploader *u, struct lane *l)
{
	if (l->state != LANE_IDLE)
		return 0;
	/*
	 * Until the writer shows that it echoes FETCH's header seq in its
	 * BATCH, only one FETCH is outstanding, so every BATCH answers the
	 * one FETCH there is.  The writer holds a FETCH only when nothing
	 * at all is pending, and then there is no backlog to ask for.
	 */
	if (!u->echo && u->nfetch > 0)
		return 0;
	if (!l->backlog)
		return !evtimer_pending(l->fetch_ev, NULL);
	/* No new backlog batches while the receiver is refusing. */
	if (!u->backlog_hint || u->failures > 0 || u->auth_blocked)
		return 0;
	refill(u);
	if (u->tokens < (double)u->chunk) {
		if (!evtimer_pending(u->pace_ev, NULL))
			clock_arm(u->pace_ev, (int64_t)ceil(((double)u->chunk -
			    u->tokens) * 1000.0 /
			    (double)u->uc->backlog_rate));
		return 0;
	}
	return 1;
}

/* Whether lane l may start its request now. */
static int
may_send(struct uploader *u, struct lane *l)
{
	if (u->stopping || u->auth_blocked || l->state != LANE_HELD ||
	    evtimer_pending(l->retry_ev, NULL))
		return 0;
	/* In an outage the live lane probes for both. */
	if (l->backlog && u->failures > 0 &&
	    lane_has_batch(&u->lanes[LIVE]))
		return 0;
	return 1;
}

static void
pump(struct uploader *u)
{
	struct lane	*l;
	int		 i;

	if (u->stopping)
		return;
	for (i = 0; i < NLANES; i++) {
		l = &u->lanes[i];
		if (may_send(u, l))
			lane_post(l);
	}
	if (peer_client_peer(u->client) == NULL)
		return;
	for (i = 0; i < NLANES; i++) {
		l = &u->lanes[i];
		if (may_fetch(u, l))
			send_fetch(u, l, l->backlog ? u->chunk :
			    (u->backlog_hint ? l->next_max :
			    u->uc->batch_samples));
	}
}

/*
 * Which lane a BATCH answers: the FETCH with its header seq if the writer
 * echoes it, else the one FETCH outstanding.
 */
static struct lane *
batch_lane(struct uploader *u, uint64_t seq)
{
	int	i;

	for (i = 0; seq != 0 && i < NLANES; i++)
		if (u->lanes[i].state == LANE_FETCHING &&
		    u->lanes[i].fetch_seq == seq) {
			if (!u->echo)
				log_debug("the writer echoes FETCH seq: live "
				    "and backlog FETCHes may overlap");
			u->echo = 1;
			return &u->lanes[i];
		}
	for (i = 0; i < NLANES; i++)
		if (u->lanes[i].state == LANE_FETCHING)
			return &u->lanes[i];
	return NULL;
}

/* Counts the points of m newer than ts. */
static uint32_t
count_newer(const struct samples_msg *m, int64_t ts)
{
	uint32_t	i, n = 0;

	for (i = 0; i < m->npoints; i++)
		if (m->points[i].ts > ts)
			n++;
	return n;
}

static int
on_batch(struct uploader *u, const struct frame *f, char *err, size_t errlen)
{
	struct samples_msg	 m;
	struct lane		*l;
	const void		*src = f->body;
	size_t			 srclen = f->hdr.length;
	uint32_t		 i, skipped = 0, fresh;

	if (body_decode_samples(u->dec, f->body, f->hdr.length, &m, err,
	    errlen) == -1)
		return -1;
	if (m.id == 0) {
		snprintf(err, errlen, "BATCH without an id");
		return -1;
	}
	if ((l = batch_lane(u, f->hdr.seq)) == NULL) {
		/* It stays in flight at the writer until we reconnect. */
		log_warnx("BATCH %" PRIu64 " arrived with no FETCH "
		    "outstanding; ignored", m.id);
		return 0;
	}
	u->nfetch--;
	l->state = LANE_IDLE;
	l->id = m.id;
	l->gen = u->gen;
	l->npoints = m.npoints;
	l->attempts = 0;
	l->oldest_ts = INT64_MAX;
	l->newest_ts = INT64_MIN;
	for (i = 0; i < m.npoints; i++) {
		if (m.points[i].ts < l->oldest_ts)
			l->oldest_ts = m.points[i].ts;
		if (m.points[i].ts > l->newest_ts)
			l->newest_ts = m.points[i].ts;
	}

	if (l->backlog) {
		u->tokens -= (double)m.npoints;
		/* Less than half of what we asked for: the oldest end has
		 * met the newest, the backlog is gone. */
		if ((uint64_t)m.npoints * 2 < l->fetch_max)
			u->backlog_hint = 0;
	} else {
		/* A (nearly) full live batch: more is pending than one
		 * batch takes, which is a backlog. */
		if ((uint64_t)m.npoints * 4 >= (uint64_t)l->fetch_max * 3 &&
		    l->fetch_max == u->uc->batch_samples)
			u->backlog_hint = 1;
		fresh = l->frontier_ts == 0 ? m.npoints :
		    count_newer(&m, l->frontier_ts);
		l->next_max = fresh * 2 < LIVE_MIN_MAX ? LIVE_MIN_MAX :
		    fresh * 2;
		if (l->next_max > u->uc->batch_samples)
			l->next_max = u->uc->batch_samples;
		if (m.npoints > 0 && l->newest_ts > l->frontier_ts)
			l->frontier_ts = l->newest_ts;
	}

	if (m.npoints == 0 && m.ngaps == 0) {
		/* Nothing to send: acknowledge it as is. */
		send_done(u, l, 0, NULL);
		lane_reset(l);
		pump(u);
		return 0;
	}

	msgpack_sbuffer_clear(&l->body);
	msgpack_sbuffer_clear(&l->json);
	if (u->uc->format == CONF_FORMAT_JSON) {
		if (payload_json(&m, u->conf.device, clock_wall_ms(), &l->json,
		    &skipped) == -1)
			goto nomem;
		u->st.json_skipped += skipped;
		src = l->json.data;
		srclen = l->json.size;
	}
	if (u->uc->gzip) {
		if (payload_gzip(src, srclen, &l->body) == -1)
			goto nomem;
	} else if (msgpack_sbuffer_write(&l->body, src, srclen) != 0)
		goto nomem;
	msgpack_sbuffer_clear(&l->json);
	l->state = LANE_HELD;
	log_debug("%s batch %" PRIu64 ": %u samples, %zu bytes to send",
	    l->name, l->id, l->npoints, l->body.size);
	pump(u);
	return 0;
nomem:
	lane_reset(l);
	/* Dropping the connection makes the writer take the batch back. */
	snprintf(err, errlen, "cannot encode batch %" PRIu64 " for upload",
	    m.id);
	return -1;
}

static void
on_stats_reply(struct uploader *u, const struct frame *f)
{
	struct stats_msg	m;
	char			err[128];
	uint64_t		held = 0;
	uint32_t		i;
	int			have = 0;

	if (body_decode_stats(u->dec, f->body, f->hdr.length, &m, err,
	    sizeof(err)) == -1) {
		log_debug("writer STATS: %s", err);
		return;
	}
	for (i = 0; i < m.n; i++) {
		if (pstr_eq(m.kv[i].name, "upload_pending_samples")) {
			u->w_pending = (int64_t)m.kv[i].value;
			have = 1;
		} else if (pstr_eq(m.kv[i].name, "upload_oldest_pending_ts"))
			u->w_oldest_ts = (int64_t)m.kv[i].value;
	}
	if (!have)
		return;
	u->w_have = 1;
	/* Pending counts what our lanes hold too (not yet DONE). */
	for (i = 0; i < NLANES; i++)
		if (lane_has_batch(&u->lanes[i]))
			held += u->lanes[i].npoints;
	u->backlog_hint = (uint64_t)u->w_pending > held +
	    u->uc->batch_samples;
	pump(u);
}

static int
dispatch(struct peer *p, const struct frame *f, void *arg, char *err,
    size_t errlen)
{
	struct uploader	*u = arg;
	struct lane	*l;
	int		 i;

	if (f == NULL) {
		/*
		 * The writer takes back every batch it sent on this
		 * connection.  Held batches are dropped; a request in
		 * flight finishes, but sends no DONE (gen differs).
		 */
		u->gen++;
		u->nfetch = 0;
		u->echo = 0;
		for (i = 0; i < NLANES; i++) {
			l = &u->lanes[i];
			if (l->state == LANE_FETCHING || l->state == LANE_HELD)
				lane_reset(l);
		}
		if (u->stopping)
			event_base_loopexit(u->base, NULL);
		else
			log_info("writer connection lost; its batches will be "
			    "sent again after the reconnect");
		return 0;
	}
	switch (f->hdr.type) {
	case FRAME_BATCH:
		return on_batch(u, f, err, errlen);
	case FRAME_STATS:
		on_stats_reply(u, f);
		return 0;
	default:
		return 0;
	}
}

/*
 * Asks the writer for its counters, and tells it ours: the writer keeps
 * the last set an uploader sent and shows it in its own STATS reply, so
 * `ternctl status` on the device covers the upload side too.
 */
static void
send_stats_request(struct uploader *u)
{
	struct peer		*p = peer_client_peer(u->client);
	struct stat_kv		 kv[10];
	struct stats_msg	 m;
	uint32_t		 n = 0;

	if (p == NULL)
		return;
#define KV(k, v) do {							\
	kv[n].name = PSTR(k);						\
	kv[n++].value = (double)(v);					\
} while (0)
	KV("uploader_backlog_samples", u->w_pending);
	KV("uploader_oldest_pending_ts", u->w_oldest_ts);
	KV("uploader_last_success_ms", u->last_success_ms);
	KV("uploader_consecutive_failures", u->failures);
	KV("uploader_setaside_batches", u->st.setaside_batches);
	KV("uploader_auth_blocked", u->auth_blocked);
	KV("uploader_requests", u->st.requests);
	KV("uploader_failed_requests", u->st.failed_requests);
	KV("uploader_samples_ok", u->st.samples_ok);
	KV("uploader_bytes_sent", u->st.bytes_sent);
#undef KV
	m.n = n;
	m.kv = kv;
	msgpack_sbuffer_clear(&u->sb);
	if (body_encode_stats(&u->sb, &m) == 0)
		(void)peer_send_sb(p, FRAME_STATS, ++u->seq, &u->sb);
}

static void
up(struct peer_client *c, struct peer *p, void *arg)
{
	struct uploader	*u = arg;

	peer_set_data(p, u);
	log_info("connected to the writer; uploading to %s", u->uc->url);
	send_stats_request(u);
	pump(u);
}

/* --- the receiver --- */

/* The link works again (any answer but 401/403 says so). */
static void
link_ok(struct uploader *u)
{
	int	i;

	u->failures = 0;
	log_once_ok(&u->linkfail, u->uc->url);
	if (u->auth_blocked) {
		log_info("credential accepted by %s after %" PRIu64
		    " rejected attempts; sending again", u->uc->url,
		    u->auth_attempts);
		u->auth_blocked = 0;
		u->auth_attempts = 0;
		evtimer_del(u->auth_ev);
	}
	/* Whatever waits for a backoff goes now. */
	for (i = 0; i < NLANES; i++)
		evtimer_del(u->lanes[i].retry_ev);
}

/* The first bytes of the response, escaped for a log line and a DONE. */
static void
reason_of(const struct post_result *r, char *out, size_t outlen)
{
	char	esc[REASON_MAX * 4 + 8];

	if (r->body_len == 0) {
		snprintf(out, outlen, "HTTP %ld", r->status);
		return;
	}
	log_escape(r->body, r->body_len > REASON_MAX ? REASON_MAX :
	    r->body_len, esc, sizeof(esc));
	snprintf(out, outlen, "HTTP %ld: %s", r->status, esc);
}

static void
on_post_done(struct post_req *req, const struct post_result *r, void *arg)
{
	struct lane		*l = arg;
	struct uploader		*u = l->u;
	enum retry_class	 cls = retry_classify(r->code, r->status);
	int			 stale = l->gen != u->gen;
	char			 reason[REASON_MAX * 4 + 32], every[32];
	int64_t			 delay, ra;

	l->state = LANE_HELD;
	u->last_status = r->status;
	switch (cls) {
	case RETRY_OK:
		link_ok(u);
		log_once_ok(&u->setaside_once, "batches set aside");
		u->last_success_ms = clock_wall_ms();
		u->st.batches_ok++;
		u->st.samples_ok += l->npoints;
		if (l->backlog)
			u->st.backlog_samples += l->npoints;
		else
			u->st.live_samples += l->npoints;
		log_debug("%s batch %" PRIu64 ": HTTP %ld in %" PRId64 " ms",
		    l->name, l->id, r->status, r->elapsed_ms);
		send_done(u, l, 0, NULL);
		lane_reset(l);
		if (!l->backlog && u->backlog_hint && !u->stopping)
			clock_arm(l->fetch_ev, LIVE_BACKLOG_INTERVAL_MS);
		break;
	case RETRY_SET_ASIDE:
		link_ok(u);
		reason_of(r, reason, sizeof(reason));
		u->st.setaside_batches++;
		u->st.setaside_samples += l->npoints;
		log_once_fail(&u->setaside_once, LOG_WARNING, "%s batch %"
		    PRIu64 " (%u samples) refused by the receiver and set "
		    "aside: %s", l->name, l->id, l->npoints, reason);
		send_done(u, l, 1, reason);
		lane_reset(l);
		break;
	case RETRY_AUTH:
		reason_of(r, reason, sizeof(reason));
		u->st.auth_rejections++;
		u->auth_attempts++;
		if (!u->auth_blocked) {
			log_error("credential rejected by %s (%s): holding "
			    "every batch, retrying every %s with the token "
			    "file re-read each time", u->uc->url, reason,
			    age_str(u->uc->retry_max_ms, every,
			    sizeof(every)));
			u->auth_blocked = 1;
			u->auth_logged_ms = (int64_t)clock_mono_ms();
		} else if ((int64_t)clock_mono_ms() - u->auth_logged_ms >= AUTH_LOG_MS) {
			log_error("credential rejected, %" PRIu64 " attempts "
			    "(%s)", u->auth_attempts, reason);
			u->auth_logged_ms = (int64_t)clock_mono_ms();
		}
		if (stale)
			lane_reset(l);
		if (!evtimer_pending(u->auth_ev, NULL))
			clock_arm(u->auth_ev, u->uc->retry_max_ms);
		break;
	case RETRY_AGAIN:
		u->failures++;
		u->st.failed_requests++;
		l->attempts++;
		/* Samples pile up while the receiver is away. */
		u->backlog_hint = 1;
		if (r->code != CURLE_OK)
			snprintf(reason, sizeof(reason), "%s", r->error);
		else
			reason_of(r, reason, sizeof(reason));
		delay = -1;
		if (r->retry_after != NULL &&
		    retry_after_parse(r->retry_after, time(NULL), &ra) == 0)
			delay = ra > u->uc->retry_min_ms ? ra :
			    u->uc->retry_min_ms;
		if (delay < 0)
			delay = retry_backoff_ms(u->failures - 1,
			    u->uc->retry_min_ms, u->uc->retry_max_ms,
			    uniform01());
		log_once_fail(&u->linkfail, LOG_WARNING, "upload to %s failed: "
		    "%s; retrying with backoff, samples are kept", u->uc->url,
		    reason);
		log_debug("%s batch %" PRIu64 ": %s; retry %u in %" PRId64
		    " ms", l->name, l->id, reason, l->attempts, delay);
		if (stale || u->stopping)
			lane_reset(l);
		else
			clock_arm(l->retry_ev, delay);
		break;
	}
	if (stale && l->state != LANE_IDLE)
		lane_reset(l);
	if (u->stopping) {
		if (post_active(u->post) == 0)
			finish(u);
		return;
	}
	pump(u);
}

/* Starts the lane's request, token read fresh from its file. */
static void
lane_post(struct lane *l)
{
	struct uploader	*u = l->u;
	char		 err[256];
	int64_t		 delay;

	evtimer_del(l->retry_ev);
	u->token[0] = '\0';
	if (u->uc->token_file[0] != '\0') {
		if (post_read_token(u->uc->token_file, u->token,
		    sizeof(u->token), err, sizeof(err)) == -1) {
			log_once_fail(&u->tokenfail, LOG_ERR, "cannot read the "
			    "token: %s; samples are kept", err);
			goto later;
		}
		log_once_ok(&u->tokenfail, u->uc->token_file);
	}
	if (post_start(l->req, l->body.data, l->body.size, u->ctype,
	    u->uc->gzip, u->token, err, sizeof(err)) == -1) {
		explicit_bzero(u->token, sizeof(u->token));
		log_warnx("cannot start a request: %s", err);
		goto later;
	}
	explicit_bzero(u->token, sizeof(u->token));
	l->state = LANE_SENDING;
	log_debug("%s batch %" PRIu64 ": POST %zu bytes, attempt %u", l->name,
	    l->id, l->body.size, l->attempts + 1);
	u->st.requests++;
	u->st.bytes_sent += l->body.size;
	return;
later:
	l->attempts++;
	delay = retry_backoff_ms(l->attempts - 1, u->uc->retry_min_ms,
	    u->uc->retry_max_ms, uniform01());
	/* At least retry_min: a local failure is not fixed in no time. */
	clock_arm(l->retry_ev, delay > u->uc->retry_min_ms ? delay :
	    u->uc->retry_min_ms);
}

/* --- timers --- */

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lane	*l = arg;

	pump(l->u);
}

static void
fetch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lane	*l = arg;

	pump(l->u);
}

static void
pace_cb(evutil_socket_t fd, short what, void *arg)
{
	pump(arg);
}

/* Blocked on the credential: one probe per retry_max. */
static void
auth_cb(evutil_socket_t fd, short what, void *arg)
{
	struct uploader	*u = arg;
	struct lane	*l = NULL;

	if (u->stopping || !u->auth_blocked)
		return;
	if (u->lanes[LIVE].state == LANE_HELD)
		l = &u->lanes[LIVE];
	else if (u->lanes[BACKLOG].state == LANE_HELD)
		l = &u->lanes[BACKLOG];
	if (l != NULL)
		lane_post(l);
	else {
		clock_arm(u->auth_ev, u->uc->retry_max_ms);
		pump(u);
	}
}

static void
stats_cb(evutil_socket_t fd, short what, void *arg)
{
	send_stats_request(arg);
}

/* "12s", "3m", "2h", "4d" */
static const char *
age_str(int64_t ms, char *buf, size_t len)
{
	int64_t	s = ms / 1000;

	if (ms < 1000)
		snprintf(buf, len, "%lldms", (long long)ms);
	else if (s < 120)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 7200)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else if (s < 2 * 86400)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
	return buf;
}

static void
status_cb(evutil_socket_t fd, short what, void *arg)
{
	struct uploader		*u = arg;
	const struct counters	*a = &u->st_min, *b = &u->st;
	char			 pend[96], last[32], old[32];
	int64_t			 now = clock_wall_ms();

	if (u->w_have)
		snprintf(pend, sizeof(pend), "%lld pending, oldest %s ago",
		    (long long)u->w_pending, u->w_pending > 0 &&
		    u->w_oldest_ts > 0 ? age_str(now - u->w_oldest_ts, old,
		    sizeof(old)) : "-");
	else
		snprintf(pend, sizeof(pend), "pending unknown");
	if (u->last_success_ms > 0)
		age_str(now - u->last_success_ms, last, sizeof(last));
	else
		snprintf(last, sizeof(last), "never");
	log_info("status: %" PRIu64 " samples uploaded in the last minute "
	    "(live %" PRIu64 ", backlog %" PRIu64 "); %s; last success %s%s; "
	    "%u consecutive failures; %" PRIu64 " batches set aside%s",
	    b->samples_ok - a->samples_ok, b->live_samples - a->live_samples,
	    b->backlog_samples - a->backlog_samples, pend, last,
	    u->last_success_ms > 0 ? " ago" : "", u->failures,
	    b->setaside_batches, u->auth_blocked ? "; CREDENTIAL REJECTED" :
	    "");
	u->st_min = u->st;
}

/* --- stopping --- */

/* In-flight requests are done or out of time: flush DONEs and exit. */
static void
finish(struct uploader *u)
{
	struct peer	*p;
	int		 i, n = 0;

	if (u->finished)
		return;
	u->finished = 1;
	for (i = 0; i < NLANES; i++)
		if (post_busy(u->lanes[i].req)) {
			post_cancel(u->lanes[i].req);
			lane_reset(&u->lanes[i]);
			n++;
		}
	if (n > 0)
		log_info("%d requests unfinished at the deadline; the writer "
		    "sends those batches again", n);
	if ((p = peer_client_peer(u->client)) != NULL)
		peer_close_flush(p, CLOSE_FLUSH_MS);	/* dispatch(NULL) exits */
	else
		event_base_loopexit(u->base, NULL);
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	finish(arg);
}

static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	struct uploader	*u = arg;
	int		 i;

	if (u->stopping)
		return;
	u->stopping = 1;
	daemon_stopping();
	if (u->client == NULL) {	/* disabled */
		event_base_loopexit(u->base, NULL);
		return;
	}
	peer_client_stop(u->client);
	evtimer_del(u->pace_ev);
	evtimer_del(u->auth_ev);
	evtimer_del(u->stats_ev);
	for (i = 0; i < NLANES; i++) {
		evtimer_del(u->lanes[i].fetch_ev);
		if (u->lanes[i].state == LANE_HELD)
			lane_reset(&u->lanes[i]);
	}
	if (post_active(u->post) == 0) {
		finish(u);
		return;
	}
	log_info("stopping; waiting up to %d s for %u requests in flight",
	    STOP_MS / 1000, post_active(u->post));
	clock_arm(u->stop_ev, STOP_MS);
}

/* --- start --- */

static void
lane_init(struct uploader *u, struct lane *l, const char *name, int backlog)
{
	l->u = u;
	l->name = name;
	l->backlog = backlog;
	l->next_max = u->uc->batch_samples;
	msgpack_sbuffer_init(&l->body);
	msgpack_sbuffer_init(&l->json);
	l->req = post_req_new(u->post, on_post_done, l);
	l->retry_ev = evtimer_new(u->base, retry_cb, l);
	l->fetch_ev = evtimer_new(u->base, fetch_cb, l);
	if (l->req == NULL || l->retry_ev == NULL || l->fetch_ev == NULL)
		fatalx("cannot set up the %s lane", name);
}

static void
lane_fini(struct lane *l)
{
	post_req_free(l->req);
	if (l->retry_ev != NULL)
		event_free(l->retry_ev);
	if (l->fetch_ev != NULL)
		event_free(l->fetch_ev);
	msgpack_sbuffer_destroy(&l->body);
	msgpack_sbuffer_destroy(&l->json);
}

/* Checks what the table in conf.c cannot: a URL is needed when enabled. */
static void
check_conf(const struct conf_uploader *c)
{
	char	err[256];
	char	tok[POST_TOKEN_MAX];

	if (c->url[0] == '\0')
		fatalx("uploader.url is not set (uploader.enabled is true)");
	if (strncmp(c->url, "http://", 7) != 0 &&
	    strncmp(c->url, "https://", 8) != 0)
		fatalx("uploader.url must start with http:// or https://");
	if (c->retry_min_ms > c->retry_max_ms)
		fatalx("uploader.retry_min is larger than uploader.retry_max");
	if (!c->tls_verify)
		log_warnx("uploader.tls_verify is false: the receiver's "
		    "certificate is not checked");
	if (c->token_file[0] == '\0')
		log_warnx("uploader.token_file is not set: requests carry no "
		    "credential");
	else if (post_read_token(c->token_file, tok, sizeof(tok), err,
	    sizeof(err)) == -1)
		log_warnx("cannot read the token yet (%s); samples are kept "
		    "until it can be read", err);
	explicit_bzero(tok, sizeof(tok));
}

int
main(int argc, char **argv)
{
	struct uploader		 u;
	struct daemon_opts	 o;

	memset(&u, 0, sizeof(u));
	daemon_getopt(argc, argv, &o, NULL, NULL, NULL, USAGE);
	if (optind != argc) {
		fprintf(stderr, "usage: %s\n", USAGE);
		return EXIT_USAGE;
	}
	daemon_start("tern-uploader", &o, &u.conf);
	signal(SIGPIPE, SIG_IGN);
	u.uc = &u.conf.uploader;
	if ((u.base = event_base_new()) == NULL)
		fatalx("cannot create the event base");
	u.sig_term = evsignal_new(u.base, SIGTERM, on_term, &u);
	u.sig_int = evsignal_new(u.base, SIGINT, on_term, &u);
	if (u.sig_term == NULL || u.sig_int == NULL)
		fatalx("cannot create events");
	evsignal_add(u.sig_term, NULL);
	evsignal_add(u.sig_int, NULL);
	u.watchdog = daemon_watchdog(u.base);

	if (!u.uc->enabled) {
		/* Restart=always would restart an exiting program forever. */
		log_info("uploader.enabled is false: nothing to upload; idle "
		    "until stopped");
		daemon_ready("disabled");
		event_base_dispatch(u.base);
		goto out;
	}
	check_conf(u.uc);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("cannot initialise libcurl");
	u.ctype = u.uc->format == CONF_FORMAT_JSON ? "application/json" :
	    "application/msgpack";
	u.chunk = u.uc->batch_samples < u.uc->backlog_rate ?
	    u.uc->batch_samples : u.uc->backlog_rate;
	u.tokens = (double)u.chunk;
	u.tokens_ms = (int64_t)clock_mono_ms();
	/* A restart may find a backlog; the first STATS reply says. */
	u.backlog_hint = 1;
	msgpack_sbuffer_init(&u.sb);
	if ((u.dec = body_dec_new()) == NULL ||
	    (u.post = post_new(u.base, u.uc)) == NULL)
		fatalx("out of memory");
	lane_init(&u, &u.lanes[LIVE], "live", 0);
	lane_init(&u, &u.lanes[BACKLOG], "backlog", 1);
	u.self.role = ROLE_UPLOADER;
	u.self.name = "tern-uploader";
	u.self.device = u.conf.device;
	u.self.epoch = peer_random64();
	u.client = peer_client_new(u.base, u.conf.writer.socket, &u.self,
	    UPLOADER_OUT_BYTES, up, dispatch, &u);
	u.auth_ev = evtimer_new(u.base, auth_cb, &u);
	u.pace_ev = evtimer_new(u.base, pace_cb, &u);
	u.stop_ev = evtimer_new(u.base, stop_cb, &u);
	u.status_ev = event_new(u.base, -1, EV_PERSIST, status_cb, &u);
	u.stats_ev = event_new(u.base, -1, EV_PERSIST, stats_cb, &u);
	if (u.client == NULL || u.auth_ev == NULL || u.pace_ev == NULL ||
	    u.stop_ev == NULL || u.status_ev == NULL || u.stats_ev == NULL)
		fatalx("cannot create events");
	clock_arm(u.status_ev, STATUS_MS);
	clock_arm(u.stats_ev, STATS_POLL_MS);
	log_info("uploading device '%s' from %s to %s (%s%s)", u.conf.device,
	    u.conf.writer.socket, u.uc->url, u.uc->format ==
	    CONF_FORMAT_JSON ? "json" : "msgpack", u.uc->gzip ? ", gzip" : "");
	daemon_ready(NULL);

	event_base_dispatch(u.base);

	lane_fini(&u.lanes[LIVE]);
	lane_fini(&u.lanes[BACKLOG]);
	post_free(u.post);
	peer_client_free(u.client);
	body_dec_free(u.dec);
	msgpack_sbuffer_destroy(&u.sb);
	event_free(u.auth_ev);
	event_free(u.pace_ev);
	event_free(u.stop_ev);
	event_free(u.status_ev);
	event_free(u.stats_ev);
	curl_global_cleanup();
out:
	log_info("stopped: %" PRIu64 " batches (%" PRIu64 " samples) "
	    "uploaded, %" PRIu64 " set aside", u.st.batches_ok,
	    u.st.samples_ok, u.st.setaside_batches);
	event_free(u.sig_term);
	event_free(u.sig_int);
	if (u.watchdog != NULL)
		event_free(u.watchdog);
	event_base_free(u.base);
	conf_free(&u.conf);
	return 0;
}
