/*
 * test_receiver_ingest.c -- the receiver's body parsers, RFC 3339, the
 * frame splitter, capped gzip and the rate limiter.
 */
#include <stdlib.h>
#include <zlib.h>

#include "unit.h"
#include "gunzip.h"
#include "ingest.h"
#include "ratelimit.h"

#define NOW	1760193000123LL

static int
p003(struct ingest_batch *b, const char *s, struct ingest_err *e)
{
	memset(e, 0, sizeof(*e));
	return ingest_parse_seed003(b, s, strlen(s), NOW, e);
}

TEST(rfc3339)
{
	int64_t	ms;

	CHECK_INT(ingest_rfc3339("2025-10-11T14:30:00.123Z", 24, &ms), 0);
	CHECK_INT(ms, 1760193000123LL);
	CHECK_INT(ingest_rfc3339("1970-01-01T00:00:00Z", 20, &ms), 0);
	CHECK_INT(ms, 0);
	CHECK_INT(ingest_rfc3339("2025-10-11t16:30:00.123456789+02:00", 35, &ms), 0);
	CHECK_INT(ms, 1760193000123LL);
	CHECK_INT(ingest_rfc3339("2025-10-11 14:30:00.1-00:30", 27, &ms), 0);
	CHECK_INT(ms, 1760193000100LL + 1800000);
	CHECK_INT(ingest_rfc3339("2024-02-29T00:00:00Z", 20, &ms), 0);
	CHECK_INT(ingest_rfc3339("2023-02-29T00:00:00Z", 20, &ms), -1);
	CHECK_INT(ingest_rfc3339("2025-10-11T14:30:00", 19, &ms), -1);
	CHECK_INT(ingest_rfc3339("2025-13-11T14:30:00Z", 20, &ms), -1);
	CHECK_INT(ingest_rfc3339("2025-10-11T24:30:00Z", 20, &ms), -1);
	CHECK_INT(ingest_rfc3339("2025-10-11T14:30:00.Z", 21, &ms), -1);
	CHECK_INT(ingest_rfc3339("2025-10-11T14:30:00Zx", 21, &ms), -1);
	CHECK_INT(ingest_rfc3339("2025-10-11T14:30:00+0200", 24, &ms), -1);
}

TEST(seed003_example)
{
	struct ingest_batch	b;
	struct ingest_err	e;
	const char		*s = "{\n  \"device_id\": \"belabox-001\",\n"
	    "  \"timestamp\": \"2025-10-11T14:30:00.123Z\",\n  \"metrics\": [\n"
	    "    {\n      \"name\": \"cpu.temperature\",\n      \"value\": 52.3,\n"
	    "      \"timestamp\": \"2025-10-11T14:30:00.123Z\"\n    },\n"
	    "    {\"name\": \"srt.packet_loss\", \"value\": 0, \"labels\": "
	    "{\"stream\": \"live\"}},\n"
	    "    {\"name\": \"x\", \"value\": 1, \"timestamp\": 1700000000000}\n"
	    "  ]\n}";

	ingest_batch_init(&b);
	CHECK_INT(p003(&b, s, &e), 0);
	CHECK_INT(b.m.npoints, 3);
	CHECK(pstr_eq(b.m.device, "belabox-001"));
	CHECK(pstr_eq(b.m.series[0].name, "cpu.temperature"));
	CHECK_NEAR(b.m.points[0].value, 52.3, 0);
	CHECK_INT(b.m.points[0].ts, 1760193000123LL);
	CHECK_INT(b.m.points[1].ts, 1760193000123LL);	/* the top-level one */
	CHECK_INT(b.m.series[1].nlabels, 1);
	CHECK(pstr_eq(b.m.series[1].labels[0].v, "live"));
	CHECK_INT(b.m.points[2].ts, 1700000000000LL);
	ingest_batch_free(&b);
}

static void
bad003(const char *s, const char *field, long index)
{
	struct ingest_batch	b;
	struct ingest_err	e;

	ingest_batch_init(&b);
	if (p003(&b, s, &e) != -1)
		UNIT_FAIL("accepted: %s", s);
	else if (strcmp(e.field, field) != 0 || e.index != index ||
	    e.status != 400 || e.error[0] == '\0')
		UNIT_FAIL("%s: got field \"%s\" index %ld (%s)", s, e.field,
		    e.index, e.error);
	ingest_batch_free(&b);
}

TEST(seed003_malformed)
{
	bad003("{\"metrics\": [", "", -1);
	bad003("[1]", "", -1);
	bad003("{}", "metrics", -1);
	bad003("{\"metrics\": {}}", "metrics", -1);
	bad003("{\"metrics\": [1]}", "metrics", 0);
	bad003("{\"metrics\": [{\"name\":\"a\",\"value\":1},{\"value\":1}]}", "metrics.name", 1);
	bad003("{\"metrics\": [{\"name\":\"a b\",\"value\":1}]}", "metrics.name", 0);
	bad003("{\"metrics\": [{\"name\":\"a\",\"value\":\"1\"}]}", "metrics.value", 0);
	bad003("{\"metrics\": [{\"name\":\"a\",\"value\":1e999}]}", "metrics.value", 0);
	bad003("{\"metrics\": [{\"name\":\"a\",\"value\":1},{\"name\":\"a\",\"value\":1,\"timestamp\":\"yesterday\"}]}", "metrics.timestamp", 1);
	bad003("{\"metrics\": [{\"name\":\"a\",\"value\":1,\"timestamp\":-5}]}", "metrics.timestamp", 0);
	bad003("{\"timestamp\": \"2025\", \"metrics\": []}", "timestamp", -1);
	bad003("{\"device_id\": 5, \"metrics\": []}", "device_id", -1);
	bad003("{\"metrics\": [{\"name\":\"a\",\"value\":1,\"labels\":{\"k\":1}}]}", "metrics.labels", 0);
	bad003("{\"metrics\": [{\"name\":\"a\",\"value\":1,\"labels\":{\"1k\":\"v\"}}]}", "metrics.labels", 0);
	bad003("{\"metrics\": [{\"name\":\"a\",\"value\":1,\"labels\":{\"k\":\"v\",\"k\":\"w\"}}]}", "metrics.labels", 0);
}

TEST(v1_json)
{
	struct ingest_batch	b;
	struct ingest_err	e;
	const char		*s = "{\"device\":\"d1\",\"series\":[{\"name\":\"cpu\","
	    "\"labels\":{\"core\":\"0\"}},{\"name\":\"mem\"}],\"points\":"
	    "[[0,1700000000000,1.5],[1,\"2025-10-11T14:30:00.123Z\",2],"
	    "[0,1700000001000,-3]],\"agent\":{\"hostname\":\"h\",\"os\":\"linux\"}}";

	ingest_batch_init(&b);
	CHECK_INT(ingest_parse_json(&b, s, strlen(s), &e), 0);
	CHECK_INT(b.m.nseries, 2);
	CHECK_INT(b.m.npoints, 3);
	CHECK_INT(b.m.points[1].idx, 1);
	CHECK_INT(b.m.points[1].ts, 1760193000123LL);
	CHECK_NEAR(b.m.points[2].value, -3, 0);
	CHECK_INT(b.m.has_agent, 1);
	CHECK(pstr_eq(b.m.agent.os, "linux"));
	ingest_batch_free(&b);
}

static void
badv1(const char *s, const char *field, long index)
{
	struct ingest_batch	b;
	struct ingest_err	e;

	ingest_batch_init(&b);
	memset(&e, 0, sizeof(e));
	if (ingest_parse_json(&b, s, strlen(s), &e) != -1)
		UNIT_FAIL("accepted: %s", s);
	else if (strcmp(e.field, field) != 0 || e.index != index)
		UNIT_FAIL("%s: got field \"%s\" index %ld (%s)", s, e.field,
		    e.index, e.error);
	ingest_batch_free(&b);
}

TEST(v1_json_malformed)
{
	badv1("{\"points\":[]}", "series", -1);
	badv1("{\"series\":[]}", "points", -1);
	badv1("{\"series\":[{\"name\":\"a\"}],\"points\":[[0,1,1],[1,1,1]]}", "points.index", 1);
	badv1("{\"series\":[{\"name\":\"a\"}],\"points\":[[0,1,1],[0,1]]}", "points", 1);
	badv1("{\"series\":[{\"name\":\"a\"}],\"points\":[[0.5,1,1]]}", "points.index", 0);
	badv1("{\"series\":[{\"name\":\"a\"}],\"points\":[[0,5000000000000,1]]}", "points.timestamp", 0);
	badv1("{\"series\":[{\"name\":\"a\"}],\"points\":[[0,1,null]]}", "points.value", 0);
	badv1("{\"series\":[{\"name\":\"\"}],\"points\":[]}", "series.name", 0);
	badv1("{\"series\":[\"a\"],\"points\":[]}", "series", 0);
	badv1("{\"series\":[],\"points\":[],\"agent\":[]}", "agent", -1);
}

TEST(agent_payload)
{
	struct ingest_batch	b;
	struct ingest_err	e;
	const char		*s = "{\"agent_id\":\"pve-1\",\"hostname\":\"pve1\","
	    "\"ip\":\"10.0.0.2\",\"os\":\"linux\",\"cpu_usage\":12.5,"
	    "\"memory_used\":1024,\"memory_total\":4096,"
	    "\"disk_free_percent\":55.5,\"timestamp\":\"2025-10-11T14:30:00.123Z\"}";

	ingest_batch_init(&b);
	CHECK_INT(ingest_parse_agent(&b, s, strlen(s), NOW, &e), 0);
	CHECK(pstr_eq(b.m.device, "pve-1"));
	CHECK(pstr_eq(b.m.agent.hostname, "pve1"));
	CHECK(pstr_eq(b.m.agent.address, "10.0.0.2"));
	CHECK_INT(b.m.npoints, 4);
	CHECK(pstr_eq(b.m.series[3].name, "disk_free_percent"));
	CHECK_NEAR(b.m.points[1].value, 1024, 0);
	CHECK_INT(b.m.points[0].ts, 1760193000123LL);
	/* Nested form, figures under "metrics", no timestamp: now. */
	s = "{\"agent\":{\"id\":\"x\",\"hostname\":\"h\",\"ip_address\":\"::1\"},"
	    "\"metrics\":{\"cpu_usage\":1}}";
	CHECK_INT(ingest_parse_agent(&b, s, strlen(s), NOW, &e), 0);
	CHECK(pstr_eq(b.m.agent.address, "::1"));
	CHECK_INT(b.m.npoints, 1);
	CHECK_INT(b.m.points[0].ts, NOW);
	s = "{\"ip\":\"1\"}";
	CHECK_INT(ingest_parse_agent(&b, s, strlen(s), NOW, &e), -1);
	CHECK_STR(e.field, "hostname");
	s = "{\"hostname\":\"h\",\"cpu_usage\":\"high\"}";
	CHECK_INT(ingest_parse_agent(&b, s, strlen(s), NOW, &e), -1);
	CHECK_STR(e.field, "cpu_usage");
	ingest_batch_free(&b);
}

TEST(msgpack_body)
{
	struct ingest_batch	b;
	struct ingest_err	e;
	struct series_ref	s = { PSTR("cpu"), 0, NULL };
	struct point		p[2] = { { 0, 1000, 1 }, { 0, INGEST_TS_MAX_MS, 2 } };
	struct samples_msg	m;
	msgpack_sbuffer		sb;

	memset(&m, 0, sizeof(m));
	m.nseries = 1;
	m.series = &s;
	m.npoints = 1;
	m.points = p;
	msgpack_sbuffer_init(&sb);
	CHECK_INT(body_encode_samples(&sb, &m), 0);
	ingest_batch_init(&b);
	CHECK_INT(ingest_parse_msgpack(&b, (uint8_t *)sb.data, sb.size, &e), 0);
	CHECK_INT(b.m.npoints, 1);
	/* A timestamp the writer would refuse is refused here. */
	m.npoints = 2;
	msgpack_sbuffer_clear(&sb);
	CHECK_INT(body_encode_samples(&sb, &m), 0);
	CHECK_INT(ingest_parse_msgpack(&b, (uint8_t *)sb.data, sb.size, &e), -1);
	CHECK_STR(e.field, "points.timestamp");
	CHECK_INT(e.index, 1);
	/* Garbage names the decoder's reason. */
	CHECK_INT(ingest_parse_msgpack(&b, (const uint8_t *)"\x81\xa6points\x01", 9, &e), -1);
	CHECK(e.error[0] != '\0');
	msgpack_sbuffer_destroy(&sb);
	ingest_batch_free(&b);
}

struct collected {
	int		 n;
	uint32_t	 points;
	size_t		 maxlen;
	struct body_dec	*dec;
	int		 bad;
};

static int
collect(void *arg, const uint8_t *body, size_t len, uint32_t np, int64_t from,
    int64_t to)
{
	struct collected	*c = arg;
	struct samples_msg	 m;
	char			 err[256];

	c->n++;
	c->points += np;
	if (len > c->maxlen)
		c->maxlen = len;
	if (body_decode_samples(c->dec, body, len, &m, err, sizeof(err)) == -1 ||
	    m.npoints != np || !pstr_eq(m.device, "dev") ||
	    m.points[0].ts != from || m.points[np - 1].ts != to)
		c->bad++;
	return 0;
}

TEST(encode_splits_frames)
{
	enum { NS = 3000, NP = 60000 };
	struct series_ref	*s = calloc(NS, sizeof(*s));
	struct label		 l[8];
	struct point		*p = calloc(NP, sizeof(*p));
	struct samples_msg	 m;
	struct collected	 c = { 0 };
	char			 err[128], val[1001];
	int			 i;

	memset(val, 'v', 1000);
	val[1000] = '\0';
	for (i = 0; i < 8; i++) {
		static const char *const keys[] = { "a", "b", "c", "d", "e",
		    "f", "g", "h" };

		l[i].k = PSTR(keys[i]);
		l[i].v = PSTR(val);
	}
	for (i = 0; i < NS; i++) {
		s[i].name = PSTR("m");
		s[i].nlabels = 8;
		s[i].labels = l;
	}
	for (i = 0; i < NP; i++) {
		p[i].idx = (uint32_t)(i % NS);
		p[i].ts = 1000 + i;
		p[i].value = i;
	}
	memset(&m, 0, sizeof(m));
	m.device = PSTR("dev");
	m.nseries = NS;
	m.series = s;
	m.npoints = NP;
	m.points = p;
	c.dec = body_dec_new();
	CHECK(ingest_encode(&m, 1u << 20, collect, &c, err, sizeof(err)) > 1);
	CHECK_INT(c.points, NP);
	CHECK(c.maxlen <= 1u << 20);
	CHECK_INT(c.bad, 0);
	body_dec_free(c.dec);
	free(s);
	free(p);
}

static size_t
gz(const char *in, size_t n, uint8_t *out, size_t cap)
{
	z_stream	z;

	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	deflate(&z, Z_FINISH);
	n = z.total_out;
	deflateEnd(&z);
	return n;
}

TEST(gunzip_cap)
{
	static char	plain[1 << 20];
	static uint8_t	comp[1 << 20];
	uint8_t		*out;
	size_t		 n, outlen;
	char		 err[128];

	memset(plain, 'x', sizeof(plain));
	n = gz(plain, sizeof(plain), comp, sizeof(comp));
	CHECK(n < 4096);
	CHECK_INT(gunzip(comp, n, 1, sizeof(plain), &out, &outlen, err,
	    sizeof(err)), 0);
	CHECK_INT(outlen, sizeof(plain));
	CHECK(out != NULL && memcmp(out, plain, outlen) == 0);
	free(out);
	/* A bomb: a cap below the plain size. */
	CHECK_INT(gunzip(comp, n, 1, sizeof(plain) - 1, &out, &outlen, err,
	    sizeof(err)), -2);
	CHECK(out == NULL);
	/* Truncated and corrupt input, and trailing garbage. */
	CHECK_INT(gunzip(comp, n / 2, 1, sizeof(plain), &out, &outlen, err,
	    sizeof(err)), -1);
	comp[n] = 'z';
	CHECK_INT(gunzip(comp, n + 1, 1, sizeof(plain), &out, &outlen, err,
	    sizeof(err)), -1);
	CHECK_INT(gunzip((const uint8_t *)"hello", 5, 1, 100, &out, &outlen,
	    err, sizeof(err)), -1);
}

TEST(rate_bucket)
{
	struct bucket	b = { 100, 0 };
	uint32_t	retry = 0;

	/* rate 10/s, burst 100 */
	CHECK_INT(bucket_take(&b, 10, 100, 0, 60, &retry), 0);
	CHECK_INT(bucket_take(&b, 10, 100, 0, 60, &retry), -1);
	CHECK_INT(retry, 2);		/* 40 held, 20 more need 2 s */
	CHECK_INT(bucket_take(&b, 10, 100, 2000, 60, &retry), 0);
	/* Refill stops at the burst. */
	CHECK_INT(bucket_take(&b, 10, 100, 1e6, 100, &retry), 0);
	CHECK_INT(bucket_take(&b, 10, 100, 1e6, 1, &retry), -1);
	/* A request above the burst passes only from a full bucket, into
	 * debt. */
	b.tokens = 100;
	CHECK_INT(bucket_take(&b, 10, 100, 1e6, 500, &retry), 0);
	CHECK_INT(bucket_take(&b, 10, 100, 1e6, 1, &retry), -1);
	CHECK_INT(retry, 41);
	/* rate 0: no limit. */
	CHECK_INT(bucket_take(&b, 0, 100, 0, 1u << 30, &retry), 0);
}

TEST(rate_per_device)
{
	struct ratelimit	r;
	uint32_t		retry;

	ratelimit_init(&r, 10, 20);
	CHECK_INT(ratelimit_take(&r, "a", 0, 20, &retry), 0);
	CHECK_INT(ratelimit_take(&r, "a", 0, 1, &retry), -1);
	CHECK_INT(ratelimit_take(&r, "b", 0, 20, &retry), 0);
	CHECK_INT(ratelimit_take(&r, "a", 100, 1, &retry), 0);
	ratelimit_free(&r);
}

int
main(void)
{
	RUN(rfc3339);
	RUN(seed003_example);
	RUN(seed003_malformed);
	RUN(v1_json);
	RUN(v1_json_malformed);
	RUN(agent_payload);
	RUN(msgpack_body);
	RUN(encode_splits_frames);
	RUN(gunzip_cap);
	RUN(rate_bucket);
	RUN(rate_per_device);
	return UNIT_DONE();
}
