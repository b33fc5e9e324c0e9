/*
 * load.c -- ternctl load: a synthetic producer for tests and benchmarks.
 *
 * It behaves as a real producer does -- HELLO, SAMPLES with sequence
 * numbers, a bounded queue of unacknowledged frames resent after every
 * reconnect -- so the tests that kill the writer under it exercise the
 * same path a sampler takes.  Its queue refuses rather than drops: load
 * exists to prove that nothing acknowledged is lost, so it waits instead.
 *
 * Samples are a pure function of their index i, so a test can recompute
 * exactly what was sent:
 *   series  s = i mod S                      (label series="s")
 *   round   k = i div S
 *   ts        = T0 + k * STEP
 *   value     = round(50 + 20 sin((k + s) / 30), 2 decimals)
 *
 * At the end it prints one line:
 *   sent=N acked=N frames=N elapsed_s=X samples_per_s=Y
 * and exits 0 if every sample was acknowledged, 1 if not (-w deadline).
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "ctl.h"
#include "peer.h"
#include "sendq.h"

/* A real-time rate is paced in ticks of this length. */
#define LOAD_TICK_MS	10

struct load {
	struct event_base	*base;
	struct peer_client	*client;
	struct sendq		 q;
	msgpack_sbuffer		 sb;
	struct event		*tick, *deadline, *sig;

	/* parameters */
	double			 rate;		/* samples/s, 0: flat out */
	uint32_t		 nseries;
	uint32_t		 batch;
	double			 duration_s;	/* 0: until total */
	uint64_t		 total;		/* 0: until duration */
	const char		*device;
	const char		*name;
	int64_t			 step_ms, t0_ms;
	double			 wait_s;

	/* state */
	uint64_t		 next;		/* index of the next sample */
	uint64_t		 frames;
	double			 start, gen_end;
	int			 generating;
	double			 budget;	/* samples allowed by rate */
	double			 last_tick;

	/* one frame's worth of series, labels and points */
	struct series_ref	*series;
	struct label		*labels;
	char			*labelbuf;	/* "123" per series */
	struct point		*points;
};

static double
mono_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
sample_value(uint64_t k, uint64_t s)
{
	return round((50.0 + 20.0 * sin((double)(k + s) / 30.0)) * 100.0) /
	    100.0;
}

static int
done_generating(struct load *l)
{
	if (l->total > 0 && l->next >= l->total)
		return 1;
	if (l->duration_s > 0 && mono_s() - l->start >= l->duration_s)
		return 1;
	return 0;
}

/*
 * Encodes the next frame (up to batch samples) into l->sb.  Its series
 * table holds one entry per distinct series in the frame; with batch <=
 * nseries (the usual case) each sample has its own.
 */
static uint32_t
build_frame(struct load *l, uint32_t want, int64_t *from, int64_t *to)
{
	struct samples_msg	m;
	uint32_t		j, ns = 0;
	uint64_t		i, s, k;

	memset(&m, 0, sizeof(m));
	for (j = 0; j < want; j++) {
		i = l->next + j;
		s = i % l->nseries;
		k = i / l->nseries;
		/* The frame's series table: one entry per sample unless the
		 * batch wraps past nseries, which reuses entries. */
		if (j < l->nseries) {
			struct series_ref *r = &l->series[ns];
			char *lb = l->labelbuf + (size_t)ns * 24;

			r->name = PSTR(l->name);
			r->nlabels = 1;
			r->labels = &l->labels[ns];
			snprintf(lb, 24, "%llu", (unsigned long long)s);
			l->labels[ns].k = PSTR("series");
			l->labels[ns].v = PSTR(lb);
			ns++;
		}
		l->points[j].idx = j < l->nseries ? j : j % l->nseries;
		l->points[j].ts = l->t0_ms + (int64_t)k * l->step_ms;
		l->points[j].value = sample_value(k, s);
	}
	m.device = PSTR(l->device);
	m.nseries = ns;
	m.series = l->series;
	m.npoints = want;
	m.points = l->points;
	*from = l->points[0].ts;
	*to = l->points[want - 1].ts;
	msgpack_sbuffer_clear(&l->sb);
	if (body_encode_samples(&l->sb, &m) == -1)
		return 0;
	return want;
}

static void	finish_check(struct load *);

/* Sends queued frames, then generates new ones while window and rate allow. */
static void
pump(struct load *l)
{
	struct peer		*p = peer_client_peer(l->client);
	uint32_t		 want, n;
	int64_t			 from, to;

	if (p == NULL)
		return;
	if (peer_send_unsent(p, &l->q, 0, NULL) == -1)
		return;		/* the drained callback resumes */
	while (l->generating) {
		if (done_generating(l)) {
			l->generating = 0;
			l->gen_end = mono_s();
			break;
		}
		want = l->batch;
		if (l->total > 0 && l->total - l->next < want)
			want = (uint32_t)(l->total - l->next);
		if (l->rate > 0 && l->budget < want)
			break;		/* the tick adds budget */
		if ((n = build_frame(l, want, &from, &to)) == 0) {
			fprintf(stderr, "ternctl load: cannot encode a frame\n");
			exit(1);
		}
		if (!sendq_fits(&l->q, l->sb.size))
			break;		/* window full: an ACK frees room */
		if (sendq_push(&l->q, l->sb.data, l->sb.size, n, from, to) == 0)
			break;
		l->next += n;
		l->frames++;
		if (l->rate > 0)
			l->budget -= n;
		if (peer_send_unsent(p, &l->q, 0, NULL) == -1)
			return;
	}
	finish_check(l);
}

static void
print_summary(struct load *l)
{
	double	el = (l->generating ? mono_s() : l->gen_end) - l->start;
	double	all = mono_s() - l->start;

	printf("sent=%llu acked=%llu frames=%llu elapsed_s=%.3f "
	    "samples_per_s=%.0f\n", (unsigned long long)l->next,
	    (unsigned long long)l->q.acked_samples,
	    (unsigned long long)l->frames, all,
	    all > 0 ? (double)l->q.acked_samples / all : 0.0);
	(void)el;
	fflush(stdout);
}

static void
finish_check(struct load *l)
{
	if (!l->generating && l->q.nframes == 0)
		event_base_loopbreak(l->base);
}

static int
dispatch(struct peer *p, const struct frame *f, void *arg, char *err,
    size_t errlen)
{
	struct load	*l = arg;

	if (f == NULL)
		return 0;	/* reconnect resends via up() */
	if (f->hdr.type != FRAME_ACK)
		return 0;
	sendq_ack(&l->q, f->hdr.seq);
	pump(l);
	return 0;
}

static void
drained(struct peer *p, void *arg)
{
	pump(arg);
}

static void
up(struct peer_client *c, struct peer *p, void *arg)
{
	struct load	*l = arg;

	peer_set_data(p, l);
	peer_set_drained(p, drained);
	if (l->q.nframes > 0)
		fprintf(stderr, "ternctl load: connected; resending %zu "
		    "unacknowledged frames\n", l->q.nframes);
	sendq_rewind(&l->q);
	pump(l);
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct load	*l = arg;
	double		 now = mono_s();

	if (l->rate > 0) {
		l->budget += (now - l->last_tick) * l->rate;
		/* Do not bank more than a second of idle time -- or one
		 * frame, when a frame holds more than a second's worth. */
		if (l->budget > l->rate && l->budget > l->batch)
			l->budget = l->rate > l->batch ? l->rate : l->batch;
	}
	l->last_tick = now;
	pump(l);
}

static void
deadline(evutil_socket_t fd, short what, void *arg)
{
	struct load	*l = arg;

	fprintf(stderr, "ternctl load: %zu frames still unacknowledged at the "
	    "deadline\n", l->q.nframes);
	event_base_loopbreak(l->base);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct load	*l = arg;

	l->generating = 0;
	l->gen_end = mono_s();
	event_base_loopbreak(l->base);
}

int
ctl_load(struct ctl *ctl, int argc, char **argv)
{
	struct load		 l;
	struct peer_self	 self = { ROLE_PRODUCER, "ternctl-load", "", 0 };
	const char		*sock = ctl->conf.writer.socket;
	struct timeval		 tv;
	uint64_t		 qbytes = 16u << 20;
	int			 ch, rc;

	memset(&l, 0, sizeof(l));
	l.nseries = 255;
	l.batch = 100;
	l.total = 10000;
	l.device = ctl->conf.device;
	l.name = "load.value";
	l.step_ms = 1000;
	l.t0_ms = 1700000000000LL;
	l.wait_s = 60;
	while ((ch = getopt(argc, argv, "r:s:b:d:n:D:N:i:T:q:w:")) != -1) {
		switch (ch) {
		case 'r':
			l.rate = strtod(optarg, NULL);
			break;
		case 's':
			l.nseries = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			l.batch = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			l.duration_s = strtod(optarg, NULL);
			l.total = 0;
			break;
		case 'n':
			l.total = strtoull(optarg, NULL, 10);
			break;
		case 'D':
			l.device = optarg;
			break;
		case 'N':
			l.name = optarg;
			break;
		case 'i':
			l.step_ms = strtoll(optarg, NULL, 10);
			break;
		case 'T':
			l.t0_ms = strtoll(optarg, NULL, 10);
			break;
		case 'q':
			qbytes = strtoull(optarg, NULL, 10);
			break;
		case 'w':
			l.wait_s = strtod(optarg, NULL);
			break;
		default:
			return 2;
		}
	}
	if (optind < argc)
		sock = argv[optind];
	if (l.nseries == 0 || l.batch == 0 || l.batch > 100000 ||
	    l.step_ms <= 0 || (l.total == 0 && l.duration_s <= 0)) {
		fprintf(stderr, "ternctl load: need -s >= 1, 1 <= -b <= 100000, "
		    "-i >= 1 and -n or -d\n");
		return 2;
	}
	self.device = l.device;
	self.epoch = peer_random64();
	signal(SIGPIPE, SIG_IGN);
	sendq_init(&l.q, qbytes, SENDQ_REFUSE);
	msgpack_sbuffer_init(&l.sb);
	l.series = calloc(l.batch, sizeof(*l.series));
	l.labels = calloc(l.batch, sizeof(*l.labels));
	l.labelbuf = calloc(l.batch, 24);
	l.points = calloc(l.batch, sizeof(*l.points));
	l.base = event_base_new();
	if (l.series == NULL || l.labels == NULL || l.labelbuf == NULL ||
	    l.points == NULL || l.base == NULL) {
		fprintf(stderr, "ternctl load: out of memory\n");
		return 1;
	}
	l.client = peer_client_new(l.base, sock, &self, 4u << 20, up, dispatch,
	    &l);
	l.tick = event_new(l.base, -1, EV_PERSIST, tick, &l);
	l.sig = evsignal_new(l.base, SIGINT, on_signal, &l);
	if (l.client == NULL || l.tick == NULL || l.sig == NULL) {
		fprintf(stderr, "ternctl load: cannot set up\n");
		return 1;
	}
	evsignal_add(l.sig, NULL);
	tv.tv_sec = 0;
	tv.tv_usec = LOAD_TICK_MS * 1000;
	event_add(l.tick, &tv);
	l.start = l.last_tick = mono_s();
	l.generating = 1;
	if (l.wait_s > 0) {
		l.deadline = evtimer_new(l.base, deadline, &l);
		/* The deadline counts from the end of generation in spirit;
		 * measured from the start plus the planned duration. */
		tv.tv_sec = (time_t)(l.wait_s + l.duration_s);
		tv.tv_usec = 0;
		evtimer_add(l.deadline, &tv);
	}
	event_base_dispatch(l.base);
	print_summary(&l);
	rc = (l.q.nframes == 0 && !l.generating) ? 0 : 1;
	peer_client_free(l.client);
	sendq_clear(&l.q);
	msgpack_sbuffer_destroy(&l.sb);
	event_free(l.tick);
	event_free(l.sig);
	if (l.deadline != NULL)
		event_free(l.deadline);
	event_base_free(l.base);
	free(l.series);
	free(l.labels);
	free(l.labelbuf);
	free(l.points);
	return rc;
}
