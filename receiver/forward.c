/*
 * forward.c -- see forward.h.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "ingest.h"
#include "log.h"
#include "peer.h"
#include "sendq.h"

struct fwd_frame {
	struct fwd_frame	*next;
	uint32_t		 npoints;
	int64_t			 from_ts, to_ts;
	size_t			 len;
	uint8_t			 body[];
};

struct link;

struct fwd_req {
	TAILQ_ENTRY(fwd_req)	 entry;		/* in fw->waiting */
	struct fwd		*fw;
	struct link		*link;		/* NULL while waiting */
	struct fwd_frame	*frames, **tail;	/* until bound */
	size_t			 bytes;
	uint64_t		 npoints, new_samples, last_seq;
	fwd_done_cb		 cb;		/* NULL once answered */
	void			*arg;
	struct event		*timer;
};

struct link {
	struct fwd		*fw;
	int			 idx;
	struct peer_client	*client;
	struct sendq		 q;
	struct fwd_req		*cur;
};

struct fwd {
	struct event_base	*base;
	struct peer_self	 self;
	char			 device[128];
	struct link		 links[FWD_LINKS];
	TAILQ_HEAD(, fwd_req)	 waiting;
	size_t			 npending, bytes, limit;
	struct body_dec		*dec;
	struct event		*stats_ev;
	int			 failing;
};

static void	assign(struct fwd *);

static void
req_free(struct fwd_req *r)
{
	struct fwd_frame	*f;

	while ((f = r->frames) != NULL) {
		r->frames = f->next;
		free(f);
	}
	if (r->timer != NULL)
		event_free(r->timer);
	r->fw->npending--;
	r->fw->bytes -= r->bytes;
	free(r);
}

/* Tells the request's owner; the request itself may live on. */
static void
answer(struct fwd_req *r, int status)
{
	fwd_done_cb	cb = r->cb;

	r->cb = NULL;
	if (r->timer != NULL)
		evtimer_del(r->timer);
	if (cb != NULL)
		cb(r->arg, status, r->npoints, r->new_samples);
}

/* Sends what the link has not sent on this connection. */
static void
pump(struct link *l)
{
	struct peer		*p = peer_client_peer(l->client);

	if (p == NULL)
		return;
	/*
	 * An HTTP client waits for every frame here: FRAME_F_COMMIT asks the
	 * writer to commit at its next turn instead of after flush_ms.
	 */
	/* A full buffer: the drained callback resumes. */
	(void)peer_send_unsent(p, &l->q, FRAME_F_COMMIT, NULL);
}

static void
bind_req(struct link *l, struct fwd_req *r)
{
	struct fwd_frame	*f;

	l->cur = r;
	r->link = l;
	while ((f = r->frames) != NULL) {
		r->frames = f->next;
		/* The link's queue holds everything admitted, so it fits. */
		r->last_seq = sendq_push(&l->q, f->body, f->len, f->npoints,
		    f->from_ts, f->to_ts);
		free(f);
	}
	r->tail = &r->frames;
	pump(l);
}

/* Gives waiting requests to idle links that are up. */
static void
assign(struct fwd *fw)
{
	struct fwd_req	*r;
	int		 i;

	for (i = 0; i < FWD_LINKS && !TAILQ_EMPTY(&fw->waiting); i++) {
		struct link *l = &fw->links[i];

		if (l->cur != NULL || peer_client_peer(l->client) == NULL)
			continue;
		r = TAILQ_FIRST(&fw->waiting);
		TAILQ_REMOVE(&fw->waiting, r, entry);
		bind_req(l, r);
	}
}

static void
on_ack(struct link *l, const struct ack_msg *a)
{
	struct fwd_req	*r = l->cur;

	sendq_ack(&l->q, a->seq);
	if (r == NULL)
		return;
	r->new_samples += a->new_samples;
	if (a->seq < r->last_seq)
		return;
	l->cur = NULL;
	answer(r, 200);
	req_free(r);
	assign(l->fw);
}

static int
link_dispatch(struct peer *p, const struct frame *f, void *arg, char *err,
    size_t errlen)
{
	struct link		*l = arg;
	struct ack_msg		 a;
	struct stats_msg	 st;
	uint32_t		 i;

	if (f == NULL)
		return 0;	/* reconnect resends from the queue */
	switch (f->hdr.type) {
	case FRAME_ACK:
		if (body_decode_ack(l->fw->dec, f->body, f->hdr.length, &a, err,
		    errlen) == -1)
			return -1;
		on_ack(l, &a);
		return 0;
	case FRAME_STATS:
		if (body_decode_stats(l->fw->dec, f->body, f->hdr.length, &st,
		    err, errlen) == -1)
			return -1;
		for (i = 0; i < st.n; i++)
			if (pstr_eq(st.kv[i].name, "failing"))
				l->fw->failing = st.kv[i].value != 0;
		return 0;
	default:
		return 0;
	}
}

static void
link_drained(struct peer *p, void *arg)
{
	pump(arg);
}

static void
link_up(struct peer_client *c, struct peer *p, void *arg)
{
	struct link	*l = arg;

	peer_set_drained(p, link_drained);
	peer_set_data(p, l);
	if (l->q.nframes > 0)
		log_info("writer link %d: connected; resending %zu "
		    "unacknowledged frames", l->idx, l->q.nframes);
	sendq_rewind(&l->q);
	pump(l);
	assign(l->fw);
}

static void
req_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct fwd_req	*r = arg;
	struct link	*l = r->link;
	struct fwd	*fw = r->fw;

	if (l == NULL) {
		/* Never sent: dropping it stores nothing. */
		log_warnx("writer: no link for %d ms; answering 503",
		    FWD_WAIT_MS);
		TAILQ_REMOVE(&r->fw->waiting, r, entry);
		answer(r, 503);
		req_free(r);
		return;
	}
	log_warnx("writer link %d: no ACK for %d ms; answering 503", l->idx,
	    FWD_WAIT_MS);
	answer(r, 503);
	if (peer_client_peer(l->client) == NULL) {
		/* Down: forget its frames; the client will resend. */
		sendq_clear(&l->q);
		l->cur = NULL;
		req_free(r);
		assign(fw);
	}
	/* Up: the link stays bound until the ACK, so that the next
	 * request's `new` is not mixed with this one's. */
}

static void
stats_tick(evutil_socket_t fd, short what, void *arg)
{
	struct fwd	*fw = arg;
	struct peer	*p = peer_client_peer(fw->links[0].client);
	msgpack_sbuffer	 sb;
	struct timeval	 tv = { FWD_STATS_MS / 1000, (FWD_STATS_MS % 1000) *
	    1000 };

	if (p != NULL) {
		msgpack_sbuffer_init(&sb);
		if (body_encode_empty(&sb) == 0)
			(void)peer_send_sb(p, FRAME_STATS, 0, &sb);
		msgpack_sbuffer_destroy(&sb);
	}
	evtimer_add(fw->stats_ev, &tv);
}

struct fwd *
fwd_new(struct event_base *base, const char *socket, const char *device,
    size_t queue_bytes)
{
	struct fwd	*fw;
	int		 i;

	if ((fw = calloc(1, sizeof(*fw))) == NULL)
		return NULL;
	fw->base = base;
	fw->limit = queue_bytes;
	TAILQ_INIT(&fw->waiting);
	snprintf(fw->device, sizeof(fw->device), "%s", device);
	fw->self.role = ROLE_PRODUCER;
	fw->self.name = "tern-receiver";
	fw->self.device = fw->device;
	fw->self.epoch = peer_random64();
	if ((fw->dec = body_dec_new()) == NULL ||
	    (fw->stats_ev = evtimer_new(base, stats_tick, fw)) == NULL)
		goto fail;
	for (i = 0; i < FWD_LINKS; i++) {
		struct link *l = &fw->links[i];

		l->fw = fw;
		l->idx = i;
		sendq_init(&l->q, queue_bytes, SENDQ_REFUSE);
		l->client = peer_client_new(base, socket, &fw->self,
		    FWD_LINK_OUT, link_up, link_dispatch, l);
		if (l->client == NULL)
			goto fail;
	}
	stats_tick(-1, 0, fw);
	return fw;
fail:
	fwd_free(fw);
	return NULL;
}

void
fwd_free(struct fwd *fw)
{
	struct fwd_req	*r;
	int		 i;

	if (fw == NULL)
		return;
	while ((r = TAILQ_FIRST(&fw->waiting)) != NULL) {
		TAILQ_REMOVE(&fw->waiting, r, entry);
		answer(r, 503);
		req_free(r);
	}
	for (i = 0; i < FWD_LINKS; i++) {
		struct link *l = &fw->links[i];

		if ((r = l->cur) != NULL) {
			l->cur = NULL;
			answer(r, 503);
			req_free(r);
		}
		peer_client_free(l->client);
		sendq_clear(&l->q);
	}
	if (fw->stats_ev != NULL)
		event_free(fw->stats_ev);
	body_dec_free(fw->dec);
	free(fw);
}

static int
collect(void *arg, const uint8_t *body, size_t len, uint32_t npoints,
    int64_t from, int64_t to)
{
	struct fwd_req		*r = arg;
	struct fwd_frame	*f;

	if (r->fw->bytes + len > r->fw->limit)
		return -1;
	if ((f = malloc(sizeof(*f) + len)) == NULL)
		return -1;
	f->next = NULL;
	f->npoints = npoints;
	f->from_ts = from;
	f->to_ts = to;
	f->len = len;
	memcpy(f->body, body, len);
	*r->tail = f;
	r->tail = &f->next;
	r->bytes += len;
	r->fw->bytes += len;
	return 0;
}

int
fwd_submit(struct fwd *fw, const struct samples_msg *m, fwd_done_cb cb,
    void *arg, int *status, char *err, size_t errlen)
{
	struct fwd_req	*r;
	struct timeval	 tv = { FWD_WAIT_MS / 1000, (FWD_WAIT_MS % 1000) *
	    1000 };

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		*status = 503;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->fw = fw;
	r->tail = &r->frames;
	r->cb = cb;
	r->arg = arg;
	r->npoints = m->npoints;
	fw->npending++;
	if (ingest_encode(m, FRAME_MAX_BODY, collect, r, err, errlen) == -1) {
		if (strstr(err, "cannot queue") != NULL) {
			*status = 503;
			snprintf(err, errlen, "the receiver's queue to its "
			    "writer is full");
		} else
			*status = 500;
		req_free(r);
		return -1;
	}
	if ((r->timer = evtimer_new(fw->base, req_timeout, r)) == NULL) {
		*status = 503;
		snprintf(err, errlen, "out of memory");
		req_free(r);
		return -1;
	}
	evtimer_add(r->timer, &tv);
	TAILQ_INSERT_TAIL(&fw->waiting, r, entry);
	assign(fw);
	return 0;
}

int
fwd_links_up(const struct fwd *fw)
{
	int	i, n = 0;

	for (i = 0; i < FWD_LINKS; i++)
		if (peer_client_peer(fw->links[i].client) != NULL)
			n++;
	return n;
}

int
fwd_writer_failing(const struct fwd *fw)
{
	return fw->failing;
}

size_t
fwd_pending(const struct fwd *fw)
{
	return fw->npending;
}

size_t
fwd_bytes(const struct fwd *fw)
{
	return fw->bytes;
}
