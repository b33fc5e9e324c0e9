/*
 * test_uploader_payload.c -- the bytes the uploader POSTs: seed 003's JSON
 * for a BATCH (exact strings), RFC 3339 timestamps, gzip round trips.
 */
#include <math.h>
#include <stdlib.h>

#include "body.h"
#include "payload.h"
#include "unit.h"

/* 2025-10-11T14:30:00.000Z, the seed's example time */
#define T0	1760193000000LL

static char *
str_of(msgpack_sbuffer *sb)
{
	msgpack_sbuffer_write(sb, "", 1);
	return sb->data;
}

TEST(rfc3339)
{
	char	ts[PAYLOAD_TS_LEN];

	CHECK_STR(payload_rfc3339(T0 + 123, ts), "2025-10-11T14:30:00.123Z");
	CHECK_STR(payload_rfc3339(0, ts), "1970-01-01T00:00:00.000Z");
	CHECK_STR(payload_rfc3339(-1, ts), "1969-12-31T23:59:59.999Z");
	CHECK_STR(payload_rfc3339(951782400005LL, ts),
	    "2000-02-29T00:00:00.005Z");
}

/* The seed's payload, exactly: one series, no labels. */
TEST(json_seed_003_exact)
{
	struct series_ref	s = { PSTR("cpu.temperature"), 0, NULL };
	struct point		p = { 0, T0 + 123, 52.3 };
	struct samples_msg	m;
	msgpack_sbuffer		sb;
	uint32_t		skipped = 99;

	memset(&m, 0, sizeof(m));
	m.id = 7;
	m.device = PSTR("belabox-001");
	m.nseries = 1;
	m.series = &s;
	m.npoints = 1;
	m.points = &p;
	msgpack_sbuffer_init(&sb);
	CHECK_INT(payload_json(&m, "unused", T0 + 123, &sb, &skipped), 0);
	CHECK_STR(str_of(&sb), "{\"device_id\":\"belabox-001\","
	    "\"timestamp\":\"2025-10-11T14:30:00.123Z\",\"metrics\":["
	    "{\"name\":\"cpu.temperature\",\"value\":52.3,"
	    "\"timestamp\":\"2025-10-11T14:30:00.123Z\"}]}");
	CHECK_INT(skipped, 0);
	msgpack_sbuffer_destroy(&sb);
}

/* Labels, several points, the default device, a skipped NaN, escaping. */
TEST(json_small_batch_exact)
{
	struct label		lb[2] = {
		{ PSTR("stream"), PSTR("belabox") },
		{ PSTR("note"), PSTR("a\"b\\c\n\x01\xc3\xa9\xff") },
	};
	struct series_ref	s[2] = {
		{ PSTR("cpu.temperature"), 0, NULL },
		{ PSTR("srt.packet_loss"), 2, lb },
	};
	struct point		p[4] = {
		{ 0, T0, 52.25 },
		{ 1, T0 + 5000, 0.1 },
		{ 1, T0 + 10000, NAN },
		{ 0, T0 + 30000, -3e-07 },
	};
	struct samples_msg	m;
	msgpack_sbuffer		sb;
	uint32_t		skipped = 0;

	memset(&m, 0, sizeof(m));
	m.nseries = 2;
	m.series = s;
	m.npoints = 4;
	m.points = p;
	msgpack_sbuffer_init(&sb);
	CHECK_INT(payload_json(&m, "pi-7", T0 + 31000, &sb, &skipped), 0);
	CHECK_STR(str_of(&sb), "{\"device_id\":\"pi-7\","
	    "\"timestamp\":\"2025-10-11T14:30:31.000Z\",\"metrics\":["
	    "{\"name\":\"cpu.temperature\",\"value\":52.25,"
	    "\"timestamp\":\"2025-10-11T14:30:00.000Z\"},"
	    "{\"name\":\"srt.packet_loss\",\"value\":0.1,"
	    "\"timestamp\":\"2025-10-11T14:30:05.000Z\","
	    "\"labels\":{\"stream\":\"belabox\","
	    "\"note\":\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\\ufffd\"}},"
	    "{\"name\":\"cpu.temperature\",\"value\":-3e-07,"
	    "\"timestamp\":\"2025-10-11T14:30:30.000Z\"}]}");
	CHECK_INT(skipped, 1);
	msgpack_sbuffer_destroy(&sb);
}

/* Every finite double survives the text form exactly. */
TEST(json_numbers_round_trip)
{
	const double		vs[] = { 0.1, 1.0 / 3, 1e300, -2.5e-300,
	    123456789012345678.0, 5e-324, 0.0 };
	struct series_ref	s = { PSTR("x"), 0, NULL };
	struct point		p;
	struct samples_msg	m;
	msgpack_sbuffer		sb;
	const char		*v;
	size_t			 i;

	for (i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
		memset(&m, 0, sizeof(m));
		p.idx = 0;
		p.ts = T0;
		p.value = vs[i];
		m.nseries = 1;
		m.series = &s;
		m.npoints = 1;
		m.points = &p;
		msgpack_sbuffer_init(&sb);
		CHECK_INT(payload_json(&m, "d", T0, &sb, NULL), 0);
		v = strstr(str_of(&sb), "\"value\":");
		CHECK(v != NULL);
		if (v != NULL && strtod(v + 8, NULL) != vs[i])
			UNIT_FAIL("%.17g came back as %.17g", vs[i],
			    strtod(v + 8, NULL));
		msgpack_sbuffer_destroy(&sb);
	}
}

TEST(json_empty_batch)
{
	struct samples_msg	m;
	msgpack_sbuffer		sb;

	memset(&m, 0, sizeof(m));
	m.device = PSTR("d1");
	msgpack_sbuffer_init(&sb);
	CHECK_INT(payload_json(&m, "x", 0, &sb, NULL), 0);
	CHECK_STR(str_of(&sb), "{\"device_id\":\"d1\",\"timestamp\":"
	    "\"1970-01-01T00:00:00.000Z\",\"metrics\":[]}");
	msgpack_sbuffer_destroy(&sb);
}

static void
round_trip(const char *in, size_t n)
{
	msgpack_sbuffer	z, back;

	msgpack_sbuffer_init(&z);
	msgpack_sbuffer_init(&back);
	CHECK_INT(payload_gzip(in, n, &z), 0);
	/* A gzip member: magic, deflate. */
	CHECK(z.size >= 18);
	CHECK((unsigned char)z.data[0] == 0x1f &&
	    (unsigned char)z.data[1] == 0x8b && z.data[2] == 8);
	CHECK_INT(payload_gunzip(z.data, z.size, n + 1, &back), 0);
	CHECK_INT(back.size, n);
	CHECK(n == 0 || memcmp(back.data, in, n) == 0);
	msgpack_sbuffer_destroy(&z);
	msgpack_sbuffer_destroy(&back);
}

TEST(gzip_round_trip)
{
	char	*big;
	size_t	 i, n = 3u << 20;
	uint32_t x = 1;

	round_trip("", 0);
	round_trip("hello, receiver", 15);
	if ((big = malloc(n)) == NULL) {
		UNIT_FAIL("malloc");
		return;
	}
	/* Half compressible text, half noise. */
	for (i = 0; i < n / 2; i++)
		big[i] = "{\"name\":\"cpu.usage\",\"value\":1}"[i % 30];
	for (; i < n; i++) {
		x = x * 1103515245u + 12345u;
		big[i] = (char)(x >> 16);
	}
	round_trip(big, n);
	free(big);
}

/* gzip appends; it does not overwrite what the buffer holds. */
TEST(gzip_appends)
{
	msgpack_sbuffer	z, back;

	msgpack_sbuffer_init(&z);
	msgpack_sbuffer_init(&back);
	msgpack_sbuffer_write(&z, "AB", 2);
	CHECK_INT(payload_gzip("abcabcabc", 9, &z), 0);
	CHECK(memcmp(z.data, "AB", 2) == 0);
	CHECK_INT(payload_gunzip(z.data + 2, z.size - 2, 100, &back), 0);
	CHECK_INT(back.size, 9);
	msgpack_sbuffer_destroy(&z);
	msgpack_sbuffer_destroy(&back);
}

TEST(gunzip_refuses)
{
	msgpack_sbuffer	z, back;

	msgpack_sbuffer_init(&z);
	msgpack_sbuffer_init(&back);
	CHECK_INT(payload_gzip("0123456789012345678901234567890123456789",
	    40, &z), 0);
	/* Too large for the limit, truncated, corrupt. */
	CHECK_INT(payload_gunzip(z.data, z.size, 39, &back), -1);
	CHECK_INT(back.size, 0);
	CHECK_INT(payload_gunzip(z.data, z.size - 4, 100, &back), -1);
	z.data[12] ^= 0x55;
	CHECK_INT(payload_gunzip(z.data, z.size, 100, &back), -1);
	CHECK_INT(payload_gunzip("not gzip", 8, 100, &back), -1);
	msgpack_sbuffer_destroy(&z);
	msgpack_sbuffer_destroy(&back);
}

int
main(void)
{
	RUN(rfc3339);
	RUN(json_seed_003_exact);
	RUN(json_small_batch_exact);
	RUN(json_numbers_round_trip);
	RUN(json_empty_batch);
	RUN(gzip_round_trip);
	RUN(gzip_appends);
	RUN(gunzip_refuses);
	return UNIT_DONE();
}
