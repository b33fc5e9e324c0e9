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
	uint64_t		 reported_drops;
};

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
arm_ms(struct event *ev, int64_t ms)
{
	struct timeval	tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	evtimer_add(ev, &tv);
}

/* Sends every queued frame not yet on this connection. */
static void
pump(struct sampler *s)
{
	struct peer		*p = peer_client_peer(s->client);
	struct sendq_frame	*f;

	if (p == NULL)
		return;
	while ((f = sendq_next_unsent(&s->q)) != NULL) {
		if (peer_send(p, FRAME_SAMPLES, f->seq, f->body, f->len) == -1)
			return;		/* the drained callback resumes */
		sendq_mark_sent(&s->q, f);
	}
}

/* Encodes the batch as one SAMPLES frame and queues it. */
static void
send_batch(struct sampler *s)
{
	struct samples_msg	m;
	struct gap		g;
	int64_t			from = INT64_MAX, to = INT64_MIN;
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
	    sendq_push(&s->q, s->sb.data, s->sb.size, m.npoints, from, to)
	    == 0)
		log_warnx("cannot queue a frame of %u samples (%zu bytes); "
		    "dropped", m.npoints, s->sb.size);
	batch_reset(s->batch);
	if (s->q.dropped_frames > s->reported_drops) {
		log_warnx("writer unreachable and queue full (%zu bytes): "
		    "%llu samples dropped so far, oldest first",
		    s->q.limit, (unsigned long long)s->q.dropped_samples);
		s->reported_drops = s->q.dropped_frames;
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
		wait = sources_run_due(s->src, now_ms(), s->batch);
		send_batch(s);
		if (wait != 0)
			break;
	}
	if (wait < 0) {
		log_error("no source is enabled; nothing to sample");
		return;
	}
	arm_ms(s->tick, wait);
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

	if (f == NULL)
		return 0;	/* up() resends after the reconnect */
	switch (f->hdr.type) {
	case FRAME_ACK:
		sendq_ack(&s->q, f->hdr.seq);
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
	arm_ms(s->stop_ev, STOP_ACK_MS);
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
	    (s.src = sources_new(&s.conf.sampler, now_ms())) == NULL ||
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
	arm_ms(s.tick, 0);
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
