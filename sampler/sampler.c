/*
 * sampler.c -- tern-sampler: runs the sources on their intervals and
 * delivers their samples to the writer.
 *
 * Delivery is the producer's half of "nothing acknowledged is lost": every
 * SAMPLES frame stays in a bounded queue (sampler.queue_bytes) until the
 * writer ACKs it, and everything unacknowledged is sent again after a
 * reconnect.  The sampler never waits for the writer -- sampling goes on
 * while it is down or slow -- so when the queue is full the oldest frames
 * are dropped, counted, and the next frame carries a gap marker that the
 * writer records with the time range and count lost.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "batch.h"
#include "body.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "peer.h"
#include "sendq.h"
#include "source.h"

#define USAGE	"tern-sampler [-dnv] [-f file]"

/* Output buffered for the writer beyond which we wait for it to drain:
 * the unacked frames are in the send queue anyway. */
#define SAMPLER_OUT_BYTES	(1u << 20)

/* How long a stopping sampler waits for the ACKs of what it sent. */
#define STOP_ACK_MS		3000

/*
 * A gap marker travels in a frame, and while the writer stays away for
 * longer than the queue holds, that frame is dropped in its turn.  So the
 * sampler keeps a copy of every marker it queued until the writer
 * acknowledges the frame carrying it; a marker whose frame was dropped
 * goes back into the queue's pending gap, for the next frame to carry,
 * and the range recorded grows instead of being lost.  There is at most
 * one entry per queued frame.
 */
struct carried_gap {
	uint64_t	seq;		/* the frame carrying it */
	struct gap	g;
};

struct sampler {
	struct event_base	*base;
	struct conf		 conf;
	struct sources		*src;
	struct batch		*batch;
	struct sendq		 q;
	msgpack_sbuffer		 sb;
	struct peer_client	*client;
	struct peer_self	 self;
	struct event		*tick, *sig_term, *sig_int, *stop_ev;
	struct event		*watchdog;
	int			 stopping;
	struct carried_gap	*carried;	/* oldest first */
	size_t			 ncarried, carriedcap;
	uint64_t		 sent_upto;	/* on this connection */
	int			 dropping;	/* drops since the last ACK */
	uint64_t		 drops_before;	/* dropped_samples then */
};



/* Adds g's range and count to into. */
static void
gap_merge(struct gap *into, const struct gap *g)
{
	if (into->count == 0 || g->from_ts < into->from_ts)
		into->from_ts = g->from_ts;
	if (into->count == 0 || g->to_ts > into->to_ts)
		into->to_ts = g->to_ts;
	into->count += g->count;
}

/* Forgets the n oldest markers. */
static void
carried_shift(struct sampler *s, size_t n)
{
	if (n == 0)
		return;
	memmove(s->carried, s->carried + n,
	    (s->ncarried - n) * sizeof(*s->carried));
	s->ncarried -= n;
}

/* Forgets the markers of frames the writer acknowledged (seq <= acked). */
static void
carried_ack(struct sampler *s, uint64_t acked)
{
	size_t	i = 0;

	while (i < s->ncarried && s->carried[i].seq <= acked)
		i++;
	carried_shift(s, i);
}

/*
 * After a push: markers whose frames are no longer queued, and were not
 * acknowledged (carried_ack removed those), were dropped with their
 * frames.  A frame already sent on the live connection reaches the writer
 * all the same (unless the writer dies before its COMMIT), and its marker
 * sent again would be recorded twice; the others go back into the
 * pending gap.
 */
static void
carried_dropped(struct sampler *s)
{
	struct sendq_frame	*first = TAILQ_FIRST(&s->q.frames);
	size_t			 i;

	for (i = 0; i < s->ncarried &&
	    (first == NULL || s->carried[i].seq < first->seq); i++)
		if (s->carried[i].seq > s->sent_upto)
			gap_merge(&s->q.pending_gap, &s->carried[i].g);
	carried_shift(s, i);
}

/* Remembers the marker g that frame seq carries; 0, or -1 out of memory. */
static int
carried_add(struct sampler *s, uint64_t seq, const struct gap *g)
{
	struct carried_gap	*n;
	size_t			 nc;

	if (s->ncarried == s->carriedcap) {
		nc = s->carriedcap ? s->carriedcap * 2 : 16;
		if ((n = reallocarray(s->carried, nc, sizeof(*n))) == NULL)
			return -1;
		s->carried = n;
		s->carriedcap = nc;
	}
	s->carried[s->ncarried].seq = seq;
	s->carried[s->ncarried].g = *g;
	s->ncarried++;
	return 0;
}

/* Sends every queued frame not yet on this connection. */
static void
pump(struct sampler *s)
{
	struct peer		*p = peer_client_peer(s->client);

	if (p == NULL)
		return;
	/* A full buffer: the drained callback resumes. */
	(void)peer_send_unsent(p, &s->q, 0, &s->sent_upto);
}

/* Encodes the batch as one SAMPLES frame and queues it. */
static void
send_batch(struct sampler *s)
{
	struct samples_msg	m;
	struct gap		g;
	int64_t			from = INT64_MAX, to = INT64_MIN;
	uint64_t		seq;
	uint32_t		i;

	if (batch_npoints(s->batch) == 0)
		return;
	if (batch_view(s->batch, &m) == -1) {
		log_warnx("cannot build a frame from %zu samples; dropped",
		    batch_npoints(s->batch));
		batch_reset(s->batch);
		return;
	}
	m.device = PSTR(s->conf.device);
	if (sendq_take_gap(&s->q, &g)) {
		m.gaps = &g;
		m.ngaps = 1;
	}
	for (i = 0; i < m.npoints; i++) {
		if (m.points[i].ts < from)
			from = m.points[i].ts;
		if (m.points[i].ts > to)
			to = m.points[i].ts;
	}
	msgpack_sbuffer_clear(&s->sb);
	if (body_encode_samples(&s->sb, &m) == -1 ||
	    (seq = sendq_push(&s->q, s->sb.data, s->sb.size, m.npoints, from,
	    to)) == 0) {
		/* Lost here, so recorded like a drop from the queue. */
		struct gap lost = { from, to, m.npoints };

		log_warnx("cannot queue a frame of %u samples (%zu bytes); "
		    "dropped", m.npoints, s->sb.size);
		if (m.ngaps > 0)
			gap_merge(&s->q.pending_gap, &g);
		gap_merge(&s->q.pending_gap, &lost);
		s->q.dropped_samples += m.npoints;
	} else if (m.ngaps > 0 && carried_add(s, seq, &g) == -1)
		log_warnx("out of memory: the gap marker of frame %llu is not "
		    "kept for a resend", (unsigned long long)seq);
	carried_dropped(s);
	batch_reset(s->batch);
	if (s->q.dropped_samples > s->drops_before && !s->dropping) {
		log_warnx("writer unreachable and queue full (%zu bytes): "
		    "dropping the oldest samples", s->q.limit);
		s->dropping = 1;
	}
	pump(s);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sampler	*s = arg;
	int64_t		 wait;

	if (s->stopping)
		return;
	for (;;) {
		wait = sources_run_due(s->src, clock_wall_ms(), s->batch);
		send_batch(s);
		if (wait != 0)
			break;
	}
	if (wait < 0) {
		log_error("no source is enabled; nothing to sample");
		return;
	}
	clock_arm(s->tick, wait);
}

static void
stop_done(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopexit(((struct sampler *)arg)->base, NULL);
}

static int
dispatch(struct peer *p, const struct frame *f, void *arg, char *err,
    size_t errlen)
{
	struct sampler	*s = arg;

	if (f == NULL) {
		/* What was sent unacknowledged may not have arrived; up()
		 * resends it after the reconnect. */
		s->sent_upto = 0;
		return 0;
	}
	switch (f->hdr.type) {
	case FRAME_ACK:
		sendq_ack(&s->q, f->hdr.seq);
		carried_ack(s, f->hdr.seq);
		if (s->dropping) {
			log_info("writer acknowledging again; %llu samples "
			    "were dropped while the queue was full, recorded "
			    "as a gap", (unsigned long long)
			    (s->q.dropped_samples - s->drops_before));
			s->dropping = 0;
			s->drops_before = s->q.dropped_samples;
		}
		if (s->stopping && s->q.nframes == 0)
			event_active(s->stop_ev, 0, 0);
		pump(s);
		return 0;
	default:
		return 0;
	}
}

static void
drained(struct peer *p, void *arg)
{
	pump(arg);
}

static void
up(struct peer_client *c, struct peer *p, void *arg)
{
	struct sampler	*s = arg;

	peer_set_data(p, s);
	peer_set_drained(p, drained);
	if (s->q.nframes > 0)
		log_info("connected to the writer; resending %zu unacknowledged "
		    "frames", s->q.nframes);
	s->sent_upto = 0;
	sendq_rewind(&s->q);
	pump(s);
}

/* SIGTERM: stop sampling, give what was sent a moment to be acknowledged. */
static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	struct sampler	*s = arg;

	if (s->stopping)
		return;
	s->stopping = 1;
	daemon_stopping();
	evtimer_del(s->tick);
	peer_client_stop(s->client);
	if (s->q.nframes == 0) {
		event_active(s->stop_ev, 0, 0);
		return;
	}
	log_info("stopping; waiting for %zu frames to be acknowledged",
	    s->q.nframes);
	clock_arm(s->stop_ev, STOP_ACK_MS);
}

int
main(int argc, char **argv)
{
	struct sampler		 s;
	struct daemon_opts	 o;
	uint64_t		 unacked = 0;
	struct sendq_frame	*f;

	memset(&s, 0, sizeof(s));
	daemon_getopt(argc, argv, &o, NULL, NULL, NULL, USAGE);
	if (optind != argc) {
		fprintf(stderr, "usage: %s\n", USAGE);
		return EXIT_USAGE;
	}
	daemon_start("tern-sampler", &o, &s.conf);
	signal(SIGPIPE, SIG_IGN);

	sendq_init(&s.q, s.conf.sampler.queue_bytes, SENDQ_DROP_OLDEST);
	msgpack_sbuffer_init(&s.sb);
	if ((s.batch = batch_new()) == NULL ||
	    (s.src = sources_new(&s.conf.sampler, clock_wall_ms())) == NULL ||
	    (s.base = event_base_new()) == NULL)
		fatalx("out of memory");
	s.self.role = ROLE_PRODUCER;
	s.self.name = "tern-sampler";
	s.self.device = s.conf.device;
	s.self.epoch = peer_random64();
	s.client = peer_client_new(s.base, s.conf.writer.socket, &s.self,
	    SAMPLER_OUT_BYTES, up, dispatch, &s);
	s.tick = evtimer_new(s.base, tick_cb, &s);
	s.stop_ev = evtimer_new(s.base, stop_done, &s);
	s.sig_term = evsignal_new(s.base, SIGTERM, on_term, &s);
	s.sig_int = evsignal_new(s.base, SIGINT, on_term, &s);
	if (s.client == NULL || s.tick == NULL || s.stop_ev == NULL ||
	    s.sig_term == NULL || s.sig_int == NULL)
		fatalx("cannot create events");
	evsignal_add(s.sig_term, NULL);
	evsignal_add(s.sig_int, NULL);
	s.watchdog = daemon_watchdog(s.base);
	clock_arm(s.tick, 0);
	log_info("sampling for device '%s' into %s", s.conf.device,
	    s.conf.writer.socket);
	daemon_ready(NULL);

	event_base_dispatch(s.base);

	for (f = TAILQ_FIRST(&s.q.frames); f != NULL; f = TAILQ_NEXT(f, entry))
		unacked += f->npoints;
	if (unacked > 0)
		log_warnx("exiting with %llu samples unacknowledged",
		    (unsigned long long)unacked);
	if (s.q.dropped_samples > 0)
		log_warnx("%llu samples were dropped while the writer was "
		    "unreachable", (unsigned long long)s.q.dropped_samples);
	peer_client_free(s.client);
	sendq_clear(&s.q);
	free(s.carried);
	msgpack_sbuffer_destroy(&s.sb);
	sources_free(s.src);
	batch_free(s.batch);
	event_free(s.tick);
	event_free(s.stop_ev);
	event_free(s.sig_term);
	event_free(s.sig_int);
	if (s.watchdog != NULL)
		event_free(s.watchdog);
	event_base_free(s.base);
	conf_free(&s.conf);
	log_info("stopped");
	return 0;
}
