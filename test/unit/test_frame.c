/*
 * test_frame.c -- the frame header, the reader and the role table, and
 * every frame type taken the whole way: message -> body -> frame bytes ->
 * frame_parse -> decoder -> the same message.
 */
#include <stdlib.h>
#include <syslog.h>

#include "unit.h"
#include "body.h"
#include "frame.h"

static struct body_dec	*dec;
static char		 err[256];

/* A whole frame: header for type and seq, then the body in sb. */
static uint8_t *
frame_bytes(unsigned type, uint64_t seq, const msgpack_sbuffer *sb,
    size_t *len)
{
	struct frame_header	 h = { (uint32_t)sb->size, (uint16_t)type,
				     PROTO_VERSION, 0, seq };
	uint8_t			*p;

	*len = FRAME_HDR_LEN + sb->size;
	if ((p = malloc(*len)) == NULL)
		abort();
	frame_header_encode(&h, p);
	memcpy(p + FRAME_HDR_LEN, sb->data, sb->size);
	return p;
}

/* A header alone, with the fields a test wants to break. */
static void
raw_header(uint8_t *p, uint32_t length, uint16_t type, uint8_t version,
    uint8_t flags)
{
	struct frame_header	h = { length, type, version, flags, 0 };

	frame_header_encode(&h, p);
}

TEST(header_layout)
{
	struct frame_header	h = { 0x01020304, 0x0010, 1, 0,
				    0x1122334455667788ULL }, back;
	static const uint8_t	want[FRAME_HDR_LEN] = {
		0x01, 0x02, 0x03, 0x04,		/* length, big-endian */
		0x00, 0x10,			/* type */
		0x01,				/* version */
		0x00,				/* flags */
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88	/* seq */
	};
	uint8_t			p[FRAME_HDR_LEN];

	frame_header_encode(&h, p);
	CHECK(memcmp(p, want, sizeof(want)) == 0);
	CHECK_INT(frame_header_decode(p, &back, UINT32_MAX, err,
	    sizeof(err)), 0);
	CHECK_INT(back.length, 0x01020304);
	CHECK_INT(back.type, FRAME_SAMPLES);
	CHECK_INT(back.version, 1);
	CHECK_INT(back.flags, 0);
	CHECK(back.seq == 0x1122334455667788ULL);
}

/* Fed a frame a byte at a time, the reader asks for more until the end. */
TEST(parse_every_split)
{
	struct ping_msg	 ping = { 12345 };
	msgpack_sbuffer	 sb;
	struct frame	 f;
	uint8_t		*one, *two;
	size_t		 n1, k, consumed;

	msgpack_sbuffer_init(&sb);
	CHECK_INT(body_encode_ping(&sb, &ping), 0);
	one = frame_bytes(FRAME_PING, 7, &sb, &n1);
	/* Two frames back to back in one buffer. */
	if ((two = malloc(2 * n1)) == NULL)
		abort();
	memcpy(two, one, n1);
	memcpy(two + n1, one, n1);
	two[n1 + 15] = 8;	/* the second frame's seq */

	for (k = 0; k < n1; k++) {
		consumed = 99;
		if (frame_parse(two, k, FRAME_MAX_BODY, &f, &consumed, err,
		    sizeof(err)) != 0 || consumed != 0)
			UNIT_FAIL("%zu of %zu bytes: not 0 or consumed %zu",
			    k, n1, consumed);
	}
	CHECK_INT(frame_parse(two, n1, FRAME_MAX_BODY, &f, &consumed, err,
	    sizeof(err)), 1);
	CHECK_INT(consumed, n1);
	CHECK_INT(f.hdr.type, FRAME_PING);
	CHECK_INT(f.hdr.seq, 7);
	CHECK(f.body == two + FRAME_HDR_LEN);

	/* The whole buffer yields the first frame, then the second. */
	CHECK_INT(frame_parse(two, 2 * n1, FRAME_MAX_BODY, &f, &consumed, err,
	    sizeof(err)), 1);
	CHECK_INT(consumed, n1);
	CHECK_INT(frame_parse(two + n1, n1, FRAME_MAX_BODY, &f, &consumed,
	    err, sizeof(err)), 1);
	CHECK_INT(f.hdr.seq, 8);
	CHECK_INT(consumed, n1);

	free(one);
	free(two);
	msgpack_sbuffer_destroy(&sb);
}

/* An empty body is a complete frame at 16 bytes. */
TEST(parse_empty_body)
{
	uint8_t		p[FRAME_HDR_LEN];
	struct frame	f;
	size_t		consumed;

	raw_header(p, 0, FRAME_STATS, PROTO_VERSION, 0);
	CHECK_INT(frame_parse(p, sizeof(p), FRAME_MAX_BODY, &f, &consumed, err,
	    sizeof(err)), 1);
	CHECK_INT(consumed, FRAME_HDR_LEN);
	CHECK_INT(f.hdr.length, 0);
}

static int
parse_header(uint32_t length, uint16_t type, uint8_t version, uint8_t flags,
    uint32_t max_body)
{
	uint8_t		p[FRAME_HDR_LEN];
	struct frame	f;
	size_t		consumed = 99;
	int		rc;

	raw_header(p, length, type, version, flags);
	err[0] = '\0';
	/* The header alone must be enough to refuse: no body is buffered. */
	rc = frame_parse(p, sizeof(p), max_body, &f, &consumed, err,
	    sizeof(err));
	if (consumed != 0)
		return 99;
	return rc;
}

#define HEADER_FAILS(len, type, ver, flags, max, reason) do {		\
	CHECK_INT(parse_header(len, type, ver, flags, max), -1);	\
	CHECK_HAS(err, reason);						\
} while (0)

TEST(parse_rejects)
{
	HEADER_FAILS(10, FRAME_PING, 2, 0, FRAME_MAX_BODY,
	    "protocol version 2, expected 1");
	HEADER_FAILS(10, FRAME_PING, 0, 0, FRAME_MAX_BODY,
	    "protocol version 0, expected 1");
	HEADER_FAILS(10, 99, PROTO_VERSION, 0, FRAME_MAX_BODY,
	    "unknown frame type 99");
	HEADER_FAILS(10, 0, PROTO_VERSION, 0, FRAME_MAX_BODY,
	    "unknown frame type 0");
	HEADER_FAILS(10, 7, PROTO_VERSION, 0, FRAME_MAX_BODY,
	    "unknown frame type 7");
	HEADER_FAILS(10, 0xffff, PROTO_VERSION, 0, FRAME_MAX_BODY,
	    "unknown frame type 65535");
	HEADER_FAILS(10, FRAME_PING, PROTO_VERSION, 0x80, FRAME_MAX_BODY,
	    "unknown flags 0x80 in PING frame");
	HEADER_FAILS(10, FRAME_PING, PROTO_VERSION, 0x03, FRAME_MAX_BODY,
	    "unknown flags 0x02");
	CHECK_INT(parse_header(10, FRAME_SAMPLES, PROTO_VERSION,
	    FRAME_F_COMMIT, FRAME_MAX_BODY), 0);
	HEADER_FAILS(5000000, FRAME_SAMPLES, PROTO_VERSION, 0, FRAME_MAX_BODY,
	    "frame length 5000000 exceeds limit 1048576");
	HEADER_FAILS(0xffffffff, FRAME_SAMPLES, PROTO_VERSION, 0,
	    FRAME_MAX_BODY, "frame length 4294967295 exceeds limit 1048576");
	HEADER_FAILS(101, FRAME_SAMPLES, PROTO_VERSION, 0, 100,
	    "frame length 101 exceeds limit 100");
	/* The limit itself is allowed; the reader then waits for the body. */
	CHECK_INT(parse_header(FRAME_MAX_BODY, FRAME_SAMPLES, PROTO_VERSION, 0,
	    FRAME_MAX_BODY), 0);
	CHECK_INT(parse_header(100, FRAME_SAMPLES, PROTO_VERSION, 0, 100), 0);
}

/* The header is filled even when refused, for the caller's log line. */
TEST(decode_fills_refused_header)
{
	uint8_t			p[FRAME_HDR_LEN];
	struct frame_header	h;

	raw_header(p, 77, 99, PROTO_VERSION, 0);
	CHECK_INT(frame_header_decode(p, &h, FRAME_MAX_BODY, err,
	    sizeof(err)), -1);
	CHECK_INT(h.type, 99);
	CHECK_INT(h.length, 77);
	/* A NULL or empty reason buffer is allowed. */
	CHECK_INT(frame_header_decode(p, &h, FRAME_MAX_BODY, NULL, 0), -1);
}

TEST(names)
{
	unsigned	t, n = 0;

	CHECK_STR(frame_type_name(FRAME_HELLO), "HELLO");
	CHECK_STR(frame_type_name(FRAME_SAMPLES), "SAMPLES");
	CHECK_STR(frame_type_name(FRAME_TAP), "TAP");
	CHECK_STR(frame_type_name(0), "?");
	CHECK_STR(frame_type_name(7), "?");
	CHECK_STR(frame_type_name(FRAME_TYPE_MAX + 1), "?");
	CHECK_STR(frame_type_name(100000), "?");
	CHECK_INT(frame_type_by_name("samples"), FRAME_SAMPLES);
	CHECK_INT(frame_type_by_name("LogLevel"), FRAME_LOGLEVEL);
	CHECK_INT(frame_type_by_name("DONE"), FRAME_DONE);
	CHECK_INT(frame_type_by_name("?"), 0);
	CHECK_INT(frame_type_by_name(""), 0);
	CHECK_INT(frame_type_by_name("SAMPLE"), 0);
	/* Every name maps back to its type. */
	for (t = 0; t <= FRAME_TYPE_MAX; t++) {
		if (frame_table[t].name == NULL)
			continue;
		n++;
		CHECK_INT(frame_type_by_name(frame_type_name(t)), t);
	}
	CHECK_INT(n, 12);

	CHECK_STR(role_name(ROLE_WRITER), "writer");
	CHECK_STR(role_name(ROLE_PRODUCER), "producer");
	CHECK_STR(role_name(ROLE_UPLOADER), "uploader");
	CHECK_STR(role_name(ROLE_TAP), "tap");
	CHECK_STR(role_name(ROLE_CTL), "ctl");
	CHECK_STR(role_name(ROLE_NONE), "none");
	CHECK_STR(role_name((enum role)42), "?");
	CHECK_INT(role_by_name("producer", 8), ROLE_PRODUCER);
	CHECK_INT(role_by_name("ctl", 3), ROLE_CTL);
	CHECK_INT(role_by_name("tap", 3), ROLE_TAP);
	CHECK_INT(role_by_name("writer", 6), ROLE_WRITER);
	CHECK_INT(role_by_name("uploader", 8), ROLE_UPLOADER);
	/* The length counts: HELLO strings are not NUL-terminated. */
	CHECK_INT(role_by_name("ctlx", 3), ROLE_CTL);
	CHECK_INT(role_by_name("ctl", 2), ROLE_NONE);
	CHECK_INT(role_by_name("Writer", 6), ROLE_NONE);
	CHECK_INT(role_by_name("none", 4), ROLE_NONE);
	CHECK_INT(role_by_name("", 0), ROLE_NONE);
	CHECK_INT(role_by_name(NULL, 0), ROLE_NONE);
}

/* The whole role table, spelled out: any change here is a wire change. */
TEST(allowed)
{
	static const struct {
		unsigned	type;
		const char	*who;	/* N W P U T C: may send? */
	} want[] = {
		{ FRAME_HELLO,		"111111" },
		{ FRAME_ERROR,		"111111" },
		{ FRAME_PING,		"011111" },
		{ FRAME_PONG,		"011111" },
		{ FRAME_STATS,		"011111" },
		{ FRAME_LOGLEVEL,	"000001" },
		{ FRAME_SAMPLES,	"001000" },
		{ FRAME_ACK,		"010000" },
		{ FRAME_FETCH,		"000100" },
		{ FRAME_BATCH,		"010000" },
		{ FRAME_DONE,		"000100" },
		{ FRAME_TAP,		"010000" },
	};
	size_t		i;
	unsigned	r, t;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		for (r = ROLE_NONE; r <= ROLE_MAX; r++)
			if (frame_allowed((enum role)r, want[i].type) !=
			    (want[i].who[r] == '1'))
				UNIT_FAIL("%s from %s", frame_type_name(
				    want[i].type), role_name((enum role)r));
	/* Types that do not exist are allowed to nobody. */
	for (t = 0; t <= FRAME_TYPE_MAX + 2; t++) {
		if (t <= FRAME_TYPE_MAX && frame_table[t].name != NULL)
			continue;
		for (r = ROLE_NONE; r <= ROLE_MAX; r++)
			CHECK_INT(frame_allowed((enum role)r, t), 0);
	}
	CHECK_INT(frame_allowed((enum role)(ROLE_MAX + 1), FRAME_HELLO), 0);
}

/*
 * Every type the whole way through.  wire() turns the body in sb into a
 * frame, parses it back and leaves the body for the decoder.
 */
static msgpack_sbuffer	 wsb;
static uint8_t		*wbuf;
static struct frame	 wf;

static int
wire(unsigned type, uint64_t seq)
{
	size_t	len, consumed;
	int	rc;

	free(wbuf);
	wbuf = frame_bytes(type, seq, &wsb, &len);
	rc = frame_parse(wbuf, len, FRAME_MAX_BODY, &wf, &consumed, err,
	    sizeof(err));
	msgpack_sbuffer_clear(&wsb);
	if (rc != 1 || consumed != len || wf.hdr.type != type ||
	    wf.hdr.seq != seq)
		return -1;
	return 0;
}

/* The decoder arguments for the body wire() left, into out. */
#define BODY_ARGS(out)	wf.body, wf.hdr.length, (out), err, sizeof(err)

TEST(roundtrip_every_type)
{
	struct hello_msg	 hello = { PSTR("producer"),
				     PSTR("tern-sampler"), 77, PROTO_VERSION,
				     PSTR("pi"), 99 }, h2;
	struct error_msg	 em;
	struct ping_msg		 ping = { -3 }, p2;
	struct stat_kv		 kv = { PSTR("frames_in"), 42 };
	struct stats_msg	 stats = { 1, &kv }, s2;
	struct loglevel_msg	 ll = { LOG_WARNING }, ll2;
	struct label		 lab = { PSTR("core"), PSTR("1") };
	struct series_ref	 ser = { PSTR("cpu"), 1, &lab };
	struct point		 pt[2] = { { 0, 1000, 1.5 }, { 0, 2000, 2.5 } };
	struct samples_msg	 sm = { 0, PSTR("pi"), 1, &ser, 2, pt, 0,
				     NULL }, sm2;
	struct ack_msg		 ack = { 5, 2 }, a2;
	struct fetch_msg	 fetch = { 5000 }, f2;
	struct done_msg		 done = { 31 }, d2;
	struct tap_msg		 tap, t2;
	struct frame		 inner;
	uint8_t			*copy;
	size_t			 len, consumed;

	msgpack_sbuffer_init(&wsb);

	CHECK_INT(body_encode_hello(&wsb, &hello), 0);
	CHECK_INT(wire(FRAME_HELLO, 0), 0);
	CHECK_INT(body_decode_hello(dec, BODY_ARGS(&h2)), 0);
	CHECK(pstr_eq(h2.role, "producer") && pstr_eq(h2.name, "tern-sampler"));
	CHECK(h2.pid == 77 && h2.version == PROTO_VERSION && h2.epoch == 99);
	CHECK(pstr_eq(h2.device, "pi"));
	CHECK_INT(role_by_name(h2.role.p, h2.role.n), ROLE_PRODUCER);

	CHECK_INT(body_encode_error(&wsb, "protocol version 2, expected 1"), 0);
	CHECK_INT(wire(FRAME_ERROR, 0), 0);
	CHECK_INT(body_decode_error(dec, BODY_ARGS(&em)), 0);
	CHECK(pstr_eq(em.reason, "protocol version 2, expected 1"));

	CHECK_INT(body_encode_ping(&wsb, &ping), 0);
	CHECK_INT(wire(FRAME_PING, 0), 0);
	CHECK_INT(body_decode_ping(dec, BODY_ARGS(&p2)), 0);
	CHECK_INT(p2.t, -3);
	CHECK_INT(body_encode_ping(&wsb, &p2), 0);
	CHECK_INT(wire(FRAME_PONG, 0), 0);
	CHECK_INT(body_decode_ping(dec, BODY_ARGS(&p2)), 0);
	CHECK_INT(p2.t, -3);

	CHECK_INT(body_encode_empty(&wsb), 0);
	CHECK_INT(wire(FRAME_STATS, 0), 0);
	CHECK_INT(body_decode_stats(dec, BODY_ARGS(&s2)), 0);
	CHECK_INT(s2.n, 0);
	CHECK_INT(body_encode_stats(&wsb, &stats), 0);
	CHECK_INT(wire(FRAME_STATS, 0), 0);
	CHECK_INT(body_decode_stats(dec, BODY_ARGS(&s2)), 0);
	CHECK_INT(s2.n, 1);
	CHECK(pstr_eq(s2.kv[0].name, "frames_in") && s2.kv[0].value == 42);

	CHECK_INT(body_encode_loglevel(&wsb, &ll), 0);
	CHECK_INT(wire(FRAME_LOGLEVEL, 0), 0);
	CHECK_INT(body_decode_loglevel(dec, BODY_ARGS(&ll2)), 0);
	CHECK_INT(ll2.level, LOG_WARNING);

	CHECK_INT(body_encode_samples(&wsb, &sm), 0);
	CHECK_INT(wire(FRAME_SAMPLES, 1234), 0);
	CHECK_INT(body_decode_samples(dec, BODY_ARGS(&sm2)), 0);
	CHECK(pstr_eq(sm2.device, "pi") && sm2.id == 0);
	CHECK(sm2.nseries == 1 && pstr_eq(sm2.series[0].name, "cpu"));
	CHECK(sm2.series[0].nlabels == 1 &&
	    pstr_eq(sm2.series[0].labels[0].k, "core") &&
	    pstr_eq(sm2.series[0].labels[0].v, "1"));
	CHECK(sm2.npoints == 2 && sm2.points[1].ts == 2000 &&
	    sm2.points[1].value == 2.5 && sm2.points[0].idx == 0);

	CHECK_INT(body_encode_ack(&wsb, &ack), 0);
	CHECK_INT(wire(FRAME_ACK, 1234), 0);
	CHECK_INT(body_decode_ack(dec, BODY_ARGS(&a2)), 0);
	CHECK(a2.seq == 5 && a2.new_samples == 2);

	CHECK_INT(body_encode_fetch(&wsb, &fetch), 0);
	CHECK_INT(wire(FRAME_FETCH, 0), 0);
	CHECK_INT(body_decode_fetch(dec, BODY_ARGS(&f2)), 0);
	CHECK_INT(f2.max, 5000);

	sm.id = 17;
	sm.ngaps = 1;
	sm.gaps = &(struct gap){ 10, 20, 3 };
	CHECK_INT(body_encode_samples(&wsb, &sm), 0);
	CHECK_INT(wire(FRAME_BATCH, 0), 0);
	CHECK_INT(body_decode_samples(dec, BODY_ARGS(&sm2)), 0);
	CHECK_INT(sm2.id, 17);
	CHECK(sm2.ngaps == 1 && sm2.gaps[0].from_ts == 10 &&
	    sm2.gaps[0].to_ts == 20 && sm2.gaps[0].count == 3);
	CHECK_INT(sm2.npoints, 2);

	CHECK_INT(body_encode_done(&wsb, &done), 0);
	CHECK_INT(wire(FRAME_DONE, 0), 0);
	CHECK_INT(body_decode_done(dec, BODY_ARGS(&d2)), 0);
	CHECK_INT(d2.id, 31);

	/* TAP carries a whole frame, which parses in its turn. */
	CHECK_INT(body_encode_ack(&wsb, &ack), 0);
	copy = frame_bytes(FRAME_ACK, 1234, &wsb, &len);
	msgpack_sbuffer_clear(&wsb);
	tap = (struct tap_msg){ PSTR("sampler[81]"), PSTR("out"), 3, copy,
	    (uint32_t)len };
	CHECK_INT(body_encode_tap(&wsb, &tap), 0);
	CHECK_INT(wire(FRAME_TAP, 0), 0);
	CHECK_INT(body_decode_tap(dec, BODY_ARGS(&t2)), 0);
	CHECK(pstr_eq(t2.peer, "sampler[81]") && pstr_eq(t2.dir, "out"));
	CHECK_INT(t2.lost, 3);
	CHECK_INT(t2.frame_len, len);
	CHECK_INT(frame_parse(t2.frame, t2.frame_len, FRAME_MAX_BODY, &inner,
	    &consumed, err, sizeof(err)), 1);
	CHECK_INT(inner.hdr.type, FRAME_ACK);
	CHECK_INT(inner.hdr.seq, 1234);
	CHECK_INT(body_decode_ack(dec, inner.body, inner.hdr.length, &a2, err,
	    sizeof(err)), 0);
	CHECK(a2.seq == 5 && a2.new_samples == 2);
	free(copy);

	free(wbuf);
	wbuf = NULL;
	msgpack_sbuffer_destroy(&wsb);
}

/* A body decoded as the wrong type fails with a reason, not a crash. */
TEST(wrong_decoder)
{
	struct ping_msg		ping = { 1 };
	struct hello_msg	h;
	struct samples_msg	sm;
	struct tap_msg		t;

	msgpack_sbuffer_init(&wsb);
	CHECK_INT(body_encode_ping(&wsb, &ping), 0);
	CHECK_INT(wire(FRAME_PING, 0), 0);
	CHECK_INT(body_decode_hello(dec, BODY_ARGS(&h)), -1);
	CHECK_HAS(err, "missing required key \"role\"");
	CHECK_INT(body_decode_samples(dec, BODY_ARGS(&sm)), -1);
	CHECK_HAS(err, "missing required key \"series\"");
	CHECK_INT(body_decode_tap(dec, BODY_ARGS(&t)), -1);
	CHECK_HAS(err, "missing required key \"peer\"");
	free(wbuf);
	wbuf = NULL;
	msgpack_sbuffer_destroy(&wsb);
}

int
main(void)
{
	if ((dec = body_dec_new()) == NULL)
		return 1;
	RUN(header_layout);
	RUN(parse_every_split);
	RUN(parse_empty_body);
	RUN(parse_rejects);
	RUN(decode_fills_refused_header);
	RUN(names);
	RUN(allowed);
	RUN(roundtrip_every_type);
	RUN(wrong_decoder);
	body_dec_free(dec);
	return UNIT_DONE();
}
