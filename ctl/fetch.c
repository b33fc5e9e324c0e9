/*
 * fetch.c -- ternctl fetch: take one BATCH from a writer as an uploader
 * would, print it as JSON, and optionally acknowledge it.
 *
 *   ternctl fetch [-m MAX] [-b] [-k] [-s REASON] [SOCKET]
 *
 * -b asks for the backlog (oldest pending) instead of live (newest); -k
 * sends DONE, marking the batch uploaded; -s REASON sends DONE with
 * set_aside.  Without -k or -s the batch stays pending, so fetch is also
 * a way to look at what the uploader will send next.  Exits 0 after one
 * batch, 1 if none arrives within 5 seconds.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "ctl.h"
#include "peer.h"

struct fetch {
	struct event_base	*base;
	struct body_dec		*dec;
	struct fetch_msg	 req;
	int			 ack;
	const char		*set_aside;
	int			 rc;
	char			*json;
	size_t			 jsonlen;
};

static int
fetch_dispatch(struct peer *p, const struct frame *f, void *arg, char *err,
    size_t errlen)
{
	struct fetch		*x = arg;
	struct samples_msg	 m;
	struct done_msg		 d;
	msgpack_sbuffer		 sb;

	if (f == NULL || f->hdr.type != FRAME_BATCH)
		return 0;
	if (body_decode_samples(x->dec, f->body, f->hdr.length, &m, err,
	    errlen) == -1)
		return -1;
	if (body_to_json(f->body, f->hdr.length, &x->json, &x->jsonlen, err,
	    errlen) == -1)
		return -1;
	printf("%s\n", x->json);
	fflush(stdout);
	if (x->ack || x->set_aside != NULL) {
		memset(&d, 0, sizeof(d));
		d.id = m.id;
		if (x->set_aside != NULL) {
			d.set_aside = 1;
			d.reason = PSTR(x->set_aside);
		}
		msgpack_sbuffer_init(&sb);
		if (body_encode_done(&sb, &d) == 0)
			(void)peer_send_sb(p, FRAME_DONE, 0, &sb);
		msgpack_sbuffer_destroy(&sb);
		/* Close only after the DONE is written. */
		peer_close_flush(p, 2000);
	}
	x->rc = 0;
	event_base_loopexit(x->base, NULL);
	return 0;
}

static void
fetch_up(struct peer_client *c, struct peer *p, void *arg)
{
	struct fetch	*x = arg;
	msgpack_sbuffer	 sb;

	msgpack_sbuffer_init(&sb);
	if (body_encode_fetch(&sb, &x->req) == 0)
		(void)peer_send_sb(p, FRAME_FETCH, 0, &sb);
	msgpack_sbuffer_destroy(&sb);
}

static void
fetch_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct fetch	*x = arg;

	fprintf(stderr, "ternctl fetch: nothing pending\n");
	event_base_loopbreak(x->base);
}

int
ctl_fetch(struct ctl *ctl, int argc, char **argv)
{
	struct fetch		 x;
	struct peer_self	 self = { ROLE_UPLOADER, "ternctl-fetch", "", 0 };
	struct peer_client	*c;
	struct event		*to;
	struct timeval		 tv = { 5, 0 };
	const char		*sock = ctl->conf.writer.socket;
	int			 ch;

	memset(&x, 0, sizeof(x));
	x.rc = 1;
	x.req.max = 1000;
	while ((ch = getopt(argc, argv, "m:bks:")) != -1) {
		switch (ch) {
		case 'm':
			x.req.max = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			x.req.backlog = 1;
			break;
		case 'k':
			x.ack = 1;
			break;
		case 's':
			x.set_aside = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind < argc)
		sock = argv[optind];
	if (x.req.max == 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	x.base = event_base_new();
	x.dec = body_dec_new();
	if (x.base == NULL || x.dec == NULL)
		return 1;
	c = peer_client_new(x.base, sock, &self, 1 << 20, fetch_up,
	    fetch_dispatch, &x);
	to = evtimer_new(x.base, fetch_timeout, &x);
	if (c == NULL || to == NULL)
		return 1;
	evtimer_add(to, &tv);
	event_base_dispatch(x.base);
	/* Let a pending DONE drain before the connection goes. */
	peer_client_stop(c);
	if (x.rc == 0 && (x.ack || x.set_aside != NULL)) {
		struct timeval	d = { 0, 200000 };

		event_base_loopexit(x.base, &d);
		event_base_dispatch(x.base);
	}
	peer_client_free(c);
	event_free(to);
	body_dec_free(x.dec);
	free(x.json);
	event_base_free(x.base);
	return x.rc;
}
