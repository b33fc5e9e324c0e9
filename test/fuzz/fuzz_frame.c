/*
 * fuzz_frame.c -- libFuzzer target: raw bytes as a stream from a peer.
 *
 * The reader takes frames off the front of the input as a connection
 * would, and every body decoder (not just the one for the frame's type: a
 * hostile peer chooses the type) and the JSON renderer run on each body.
 * A TAP body's inner frame is parsed in its turn, as ternctl tap would.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "frame.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct body_dec	*dec;
static char		*json;

#define ASSERT(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c);	\
		abort();						\
	}								\
} while (0)

static void	stream(const uint8_t *, size_t, int);

static void
bodies(const struct frame *f, int depth)
{
	const uint8_t		*p = f->body;
	size_t			 n = f->hdr.length, len;
	char			 err[256];
	struct samples_msg	 sm;
	struct hello_msg	 h;
	struct ack_msg		 a;
	struct error_msg	 e;
	struct ping_msg		 pi;
	struct fetch_msg	 fe;
	struct done_msg		 d;
	struct loglevel_msg	 l;
	struct stats_msg	 s;
	struct tap_msg		 t;
	unsigned		 r;

	ASSERT(strcmp(frame_type_name(f->hdr.type), "?") != 0);
	for (r = ROLE_NONE; r <= ROLE_MAX; r++)
		(void)frame_allowed((enum role)r, f->hdr.type);

	if (body_decode_samples(dec, p, n, &sm, err, sizeof(err)) == 0) {
		/* Every point refers to a series that exists. */
		for (len = 0; len < sm.npoints; len++)
			ASSERT(sm.points[len].idx < sm.nseries);
	}
	(void)body_decode_hello(dec, p, n, &h, err, sizeof(err));
	(void)body_decode_ack(dec, p, n, &a, err, sizeof(err));
	(void)body_decode_error(dec, p, n, &e, err, sizeof(err));
	(void)body_decode_ping(dec, p, n, &pi, err, sizeof(err));
	(void)body_decode_fetch(dec, p, n, &fe, err, sizeof(err));
	(void)body_decode_done(dec, p, n, &d, err, sizeof(err));
	(void)body_decode_loglevel(dec, p, n, &l, err, sizeof(err));
	(void)body_decode_stats(dec, p, n, &s, err, sizeof(err));
	if (body_decode_tap(dec, p, n, &t, err, sizeof(err)) == 0 &&
	    depth < 2)
		stream(t.frame, t.frame_len, depth + 1);
	(void)body_to_json(p, n, &json, &len, err, sizeof(err));
}

static void
stream(const uint8_t *data, size_t size, int depth)
{
	struct frame	f;
	size_t		consumed, off = 0;
	char		err[256];
	int		rc;

	for (;;) {
		rc = frame_parse(data + off, size - off, FRAME_MAX_BODY, &f,
		    &consumed, err, sizeof(err));
		if (rc != 1) {
			ASSERT(consumed == 0);
			ASSERT(rc == 0 || err[0] != '\0');
			break;
		}
		ASSERT(consumed >= FRAME_HDR_LEN && consumed <= size - off);
		ASSERT(f.hdr.length <= FRAME_MAX_BODY);
		bodies(&f, depth);
		off += consumed;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (dec == NULL && (dec = body_dec_new()) == NULL)
		abort();
	stream(data, size, 0);
	return 0;
}
