/*
 * fuzz_body.c -- libFuzzer target: raw bytes as a frame body.
 *
 * Besides "does not crash", it checks three properties:
 *  - body_check and msgpack-c agree: whatever the check accepts, msgpack-c
 *    unpacks completely (the check is what keeps msgpack-c's allocations
 *    honest, so it must not accept anything msgpack-c would read otherwise);
 *  - a decoder never succeeds on a body the check refused;
 *  - what a decoder accepts, the encoder accepts, and decoding the
 *    re-encoded body gives the same message ("what we send we also accept",
 *    in both directions).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "frame.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct body_dec	*dec, *dec2;
static char		*json;

#define ASSERT(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c);	\
		abort();						\
	}								\
} while (0)

static int
pstr_same(struct pstr a, struct pstr b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

/* Same bits, so that NaN equals itself and -0 differs from 0. */
static int
num_same(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

static void
samples_again(const struct samples_msg *a)
{
	msgpack_sbuffer		 sb;
	struct samples_msg	 b;
	char			 err[256];
	uint32_t		 i, j;

	msgpack_sbuffer_init(&sb);
	ASSERT(body_encode_samples(&sb, a) == 0);
	ASSERT(body_decode_samples(dec2, (const uint8_t *)sb.data, sb.size,
	    &b, err, sizeof(err)) == 0);
	ASSERT(a->id == b.id && pstr_same(a->device, b.device));
	ASSERT(a->nseries == b.nseries && a->npoints == b.npoints &&
	    a->ngaps == b.ngaps);
	for (i = 0; i < a->nseries; i++) {
		ASSERT(pstr_same(a->series[i].name, b.series[i].name));
		ASSERT(a->series[i].nlabels == b.series[i].nlabels);
		for (j = 0; j < a->series[i].nlabels; j++) {
			ASSERT(pstr_same(a->series[i].labels[j].k,
			    b.series[i].labels[j].k));
			ASSERT(pstr_same(a->series[i].labels[j].v,
			    b.series[i].labels[j].v));
		}
	}
	for (i = 0; i < a->npoints; i++)
		ASSERT(a->points[i].idx == b.points[i].idx &&
		    a->points[i].ts == b.points[i].ts &&
		    num_same(a->points[i].value, b.points[i].value));
	for (i = 0; i < a->ngaps; i++)
		ASSERT(a->gaps[i].from_ts == b.gaps[i].from_ts &&
		    a->gaps[i].to_ts == b.gaps[i].to_ts &&
		    a->gaps[i].count == b.gaps[i].count);
	msgpack_sbuffer_destroy(&sb);
}

static void
small_again(const uint8_t *p, size_t n)
{
	msgpack_sbuffer		sb;
	char			err[256];
	struct hello_msg	h, h2;
	struct ack_msg		a, a2;
	struct error_msg	e, e2;
	struct ping_msg		pi, pi2;
	struct fetch_msg	f, f2;
	struct done_msg		d, d2;
	struct loglevel_msg	l, l2;
	struct stats_msg	s, s2;
	struct tap_msg		t, t2;
	char			*reason;
	uint32_t		i;

	msgpack_sbuffer_init(&sb);
#define AGAIN(name, m, m2, same) do {					\
	if (body_decode_##name(dec, p, n, &m, err, sizeof(err)) == 0) {	\
		msgpack_sbuffer_clear(&sb);				\
		ASSERT(body_encode_##name(&sb, &m) == 0);		\
		ASSERT(body_decode_##name(dec2, (const uint8_t *)sb.data, \
		    sb.size, &m2, err, sizeof(err)) == 0);		\
		ASSERT(same);						\
	}								\
} while (0)
	AGAIN(hello, h, h2, pstr_same(h.role, h2.role) &&
	    pstr_same(h.name, h2.name) && h.pid == h2.pid &&
	    h.version == h2.version && pstr_same(h.device, h2.device) &&
	    h.epoch == h2.epoch);
	AGAIN(ack, a, a2, a.seq == a2.seq && a.new_samples == a2.new_samples);
	AGAIN(ping, pi, pi2, pi.t == pi2.t);
	AGAIN(fetch, f, f2, f.max == f2.max);
	AGAIN(done, d, d2, d.id == d2.id);
	AGAIN(loglevel, l, l2, l.level == l2.level);
	AGAIN(tap, t, t2, pstr_same(t.peer, t2.peer) &&
	    pstr_same(t.dir, t2.dir) && t.lost == t2.lost &&
	    t.frame_len == t2.frame_len &&
	    (t.frame_len == 0 || memcmp(t.frame, t2.frame, t.frame_len) == 0));
#undef AGAIN

	/* ERROR's encoder takes a C string: only reasons without a NUL. */
	if (body_decode_error(dec, p, n, &e, err, sizeof(err)) == 0 &&
	    memchr(e.reason.p, '\0', e.reason.n) == NULL) {
		ASSERT((reason = strndup(e.reason.p, e.reason.n)) != NULL);
		msgpack_sbuffer_clear(&sb);
		ASSERT(body_encode_error(&sb, reason) == 0);
		ASSERT(body_decode_error(dec2, (const uint8_t *)sb.data,
		    sb.size, &e2, err, sizeof(err)) == 0);
		ASSERT(pstr_same(e.reason, e2.reason));
		free(reason);
	}

	if (body_decode_stats(dec, p, n, &s, err, sizeof(err)) == 0) {
		msgpack_sbuffer_clear(&sb);
		ASSERT(body_encode_stats(&sb, &s) == 0);
		ASSERT(body_decode_stats(dec2, (const uint8_t *)sb.data,
		    sb.size, &s2, err, sizeof(err)) == 0);
		ASSERT(s.n == s2.n);
		for (i = 0; i < s.n; i++)
			ASSERT(pstr_same(s.kv[i].name, s2.kv[i].name) &&
			    num_same(s.kv[i].value, s2.kv[i].value));
	}
	msgpack_sbuffer_destroy(&sb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct samples_msg	sm;
	msgpack_zone		z;
	msgpack_object		o;
	char			err[256];
	size_t			off = 0, len;
	int			checked;

	if (dec == NULL && ((dec = body_dec_new()) == NULL ||
	    (dec2 = body_dec_new()) == NULL))
		abort();

	checked = body_check(data, size, err, sizeof(err)) == 0;
	if (checked) {
		ASSERT(msgpack_zone_init(&z, 4096));
		ASSERT(msgpack_unpack((const char *)data, size, &off, &z, &o) ==
		    MSGPACK_UNPACK_SUCCESS);
		ASSERT(off == size);
		msgpack_zone_destroy(&z);
	}

	if (body_decode_samples(dec, data, size, &sm, err, sizeof(err)) == 0) {
		ASSERT(checked);
		samples_again(&sm);
	} else
		ASSERT(err[0] != '\0');
	small_again(data, size);

	if (body_to_json(data, size, &json, &len, err, sizeof(err)) == 0) {
		ASSERT(checked);
		ASSERT(strlen(json) == len);
	} else
		ASSERT(!checked);
	return 0;
}
