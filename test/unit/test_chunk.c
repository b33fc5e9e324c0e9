/*
 * test_chunk.c -- the chunk codec: exact bytes, round trips, sizes, and
 * every way a chunk can be malformed.
 *
 * Buffers handed to the codec are heap blocks of exactly the size the
 * contract promises (CHUNK_MAX_BYTES(n) to encode into, the encoded length
 * to decode from), so that under AddressSanitizer a read or write one byte
 * too far is a failure rather than luck.
 */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "unit.h"

/* A fixed seed keeps a failure reproducible; the seed is printed. */
#define SEED		0x7465726e63686bULL
#define RANDOM_CHUNKS	10000

static uint64_t rng_state = SEED;

/* splitmix64: tiny, fast, and good enough to pick test cases. */
static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0; the bias of a modulo does not matter here. */
static uint64_t
rnd_below(uint64_t n)
{
	return rnd() % n;
}

static uint64_t
bits_of(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static double
double_of(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

static double
round2(double x)
{
	return round(x * 100.0) / 100.0;
}

/*
 * Encodes n samples into an exact-size heap buffer, decodes them back from
 * an exact-size copy, and checks bit-exact equality and chunk_count.
 * Returns the encoded length, or 0 after recording a failure.
 */
static size_t
roundtrip(const int64_t *ts, const double *v, size_t n)
{
	uint8_t	*buf, *copy;
	int64_t	*dts;
	double	*dv;
	size_t	 len;
	long	 got;
	char	 err[128] = "";

	buf = malloc(CHUNK_MAX_BYTES(n));
	dts = malloc(n * sizeof(*dts));
	dv = malloc(n * sizeof(*dv));
	if (buf == NULL || dts == NULL || dv == NULL) {
		UNIT_FAIL("out of memory");
		free(buf), free(dts), free(dv);
		return 0;
	}
	len = chunk_encode(ts, v, n, buf);
	if (len == 0 || len > CHUNK_MAX_BYTES(n)) {
		UNIT_FAIL("encode of %zu samples returned %zu", n, len);
		free(buf), free(dts), free(dv);
		return 0;
	}
	copy = malloc(len);
	if (copy == NULL) {
		UNIT_FAIL("out of memory");
		free(buf), free(dts), free(dv);
		return 0;
	}
	memcpy(copy, buf, len);

	/* Exactly n slots: a decoder that writes one more trips ASan. */
	got = chunk_decode(copy, len, dts, dv, n, err, sizeof(err));
	if (got != (long)n) {
		UNIT_FAIL("decode of %zu samples returned %ld: %s", n, got,
		    err);
		len = 0;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (dts[i] != ts[i] || bits_of(dv[i]) != bits_of(v[i])) {
			UNIT_FAIL("sample %zu of %zu: got (%" PRId64 ", %016"
			    PRIx64 "), expected (%" PRId64 ", %016" PRIx64 ")",
			    i, n, dts[i], bits_of(dv[i]), ts[i],
			    bits_of(v[i]));
			len = 0;
			goto out;
		}
	}
	if (chunk_count(copy, len) != (long)n) {
		UNIT_FAIL("chunk_count == %ld, expected %zu",
		    chunk_count(copy, len), n);
		len = 0;
	}
out:
	free(copy);
	free(buf);
	free(dts);
	free(dv);
	return len;
}

/* The format of chunk.h, byte for byte, so a change to it cannot slip in. */
TEST(exact_bytes)
{
	int64_t	ts[6] = { 1000, 2000, 3000, 3500, 4000, 4001 };
	double	v[6];
	uint8_t	out[CHUNK_MAX_BYTES(6)];
	static const uint8_t want[] = {
		0x06,				/* count */
		0xd0, 0x0f,			/* zigzag(1000) = 2000 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f,	/* 1.0 LE */
		0xd0, 0x0f, 0x00,		/* dod 1000; repeat */
		0x00, 0x06, 0x7f, 0xf0,		/* dod 0; 1.0^2.0, tz 6 */
		0xe7, 0x07, 0x07, 0x80,		/* dod -500; sign bit, tz 7 */
		0x00, 0x88, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
		0xe5, 0x07, 0x25, 0xff,		/* dod -499; lz 2, tz 5 */
	};
	size_t	len;

	v[0] = 1.0;
	v[1] = 1.0;
	v[2] = 2.0;
	v[3] = -2.0;
	v[4] = double_of(bits_of(v[3]) ^ 0x0100000000000001ULL);
	v[5] = double_of(bits_of(v[4]) ^ 0x0000ff0000000000ULL);
	len = chunk_encode(ts, v, 6, out);
	CHECK_INT(len, sizeof(want));
	if (len == sizeof(want))
		CHECK(memcmp(out, want, len) == 0);
	CHECK_INT(roundtrip(ts, v, 6), sizeof(want));
}

/* A constant-interval series of a constant value: one byte per field. */
TEST(constant_series_size)
{
	enum { N = CHUNK_MAX_SAMPLES };
	static int64_t	ts[N];
	static double	v[N];
	size_t		len;

	for (size_t i = 0; i < N; i++) {
		ts[i] = 1700000000000 + (int64_t)i * 10000;
		v[i] = 42.5;
	}
	len = roundtrip(ts, v, N);
	printf("# constant 10 s series of a constant: %zu bytes for %d "
	    "samples, %.3f bytes/sample\n", len, N, (double)len / N);
	/*
	 * The header (count, first ts, first value), the second sample's
	 * plain delta of 10000 (a 3-byte varint) and a repeat, then two bytes
	 * a sample.
	 */
	CHECK_INT(len, 2 + 6 + 8 + 3 + 1 + 2 * (N - 2));
}

/*
 * A CPU percentage sampled every 10 s and rounded to 2 decimals, with the
 * few milliseconds of jitter a real sampler has.  Two shapes: a busy box
 * whose value changes at every sample, and a quiet one whose value holds
 * for three samples out of four.
 */
TEST(cpu_series_size)
{
	enum { N = CHUNK_MAX_SAMPLES };
	static int64_t	ts[N];
	static double	busy[N], idle[N];
	size_t		len_busy, len_idle;
	double		level = 35.0;
	int64_t		t = 1700000000000;

	for (size_t i = 0; i < N; i++) {
		t += 10000 + (int64_t)rnd_below(7) - 3;
		ts[i] = t;
		level += ((double)rnd_below(2001) - 1000.0) / 1000.0;
		if (level < 5.0)
			level = 5.0;
		if (level > 95.0)
			level = 95.0;
		busy[i] = round2(level + ((double)rnd_below(401) - 200) / 100.0);
		idle[i] = i == 0 || rnd_below(4) == 0 ?
		    round2((double)rnd_below(300) / 100.0) : idle[i - 1];
	}
	len_busy = roundtrip(ts, busy, N);
	len_idle = roundtrip(ts, idle, N);
	printf("# cpu %% every 10 s, 2 decimals, changing every sample: "
	    "%.3f bytes/sample\n", (double)len_busy / N);
	printf("# cpu %% every 10 s, 2 decimals, repeating 3 samples in 4: "
	    "%.3f bytes/sample\n", (double)len_idle / N);
	/*
	 * A 2-decimal value is not a binary fraction, so its low mantissa
	 * bytes differ from its neighbour's: the XOR keeps 6 or 7 bytes and
	 * such a sample costs about 9 bytes, still well under the 16 of a raw
	 * (ts, value) pair and the 20-odd of a row.  Only repeats are cheap.
	 */
	CHECK(len_busy > 0 && len_busy < (size_t)N * 10);
	CHECK(len_idle > 0 && len_idle < (size_t)N * 5);
}

TEST(irregular_timestamps)
{
	enum { N = 1000 };
	int64_t	ts[N];
	double	v[N];
	int64_t	t = 1700000000000;

	for (size_t i = 0; i < N; i++) {
		/* Deltas from 1 ms to about a day, in no pattern. */
		t += 1 + (int64_t)rnd_below((uint64_t)1 << rnd_below(27));
		ts[i] = t;
		v[i] = (double)i * 0.5;
	}
	CHECK(roundtrip(ts, v, N) > 0);
}

TEST(negative_timestamps)
{
	int64_t	ts[] = { -1700000000000, -1699999990000, -1699999980000,
	    -5, -1, 0, 1, 10000 };
	double	v[] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	CHECK(roundtrip(ts, v, 8) > 0);
}

/* Deltas and deltas-of-deltas that do not fit an int64_t. */
TEST(timestamps_at_int64_bounds)
{
	int64_t	a[] = { INT64_MIN, INT64_MIN + 1, -1, 0, INT64_MAX - 1,
	    INT64_MAX };
	int64_t	b[] = { INT64_MIN, INT64_MAX };
	int64_t	c[] = { INT64_MIN, 0, INT64_MAX };
	int64_t	d[] = { INT64_MIN, INT64_MIN + 1, INT64_MAX };
	int64_t	e[] = { INT64_MIN, INT64_MAX - 1, INT64_MAX };
	int64_t	f[] = { INT64_MAX };
	int64_t	g[] = { INT64_MIN };
	double	v[6] = { 0, 1, 2, 3, 4, 5 };

	CHECK(roundtrip(a, v, 6) > 0);
	CHECK(roundtrip(b, v, 2) > 0);
	CHECK(roundtrip(c, v, 3) > 0);
	CHECK(roundtrip(d, v, 3) > 0);
	CHECK(roundtrip(e, v, 3) > 0);
	CHECK(roundtrip(f, v, 1) > 0);
	CHECK(roundtrip(g, v, 1) > 0);
}

TEST(special_values_bit_exact)
{
	double	v[16];
	int64_t	ts[16];
	size_t	n = 0;

	v[n++] = NAN;
	v[n++] = -NAN;
	v[n++] = double_of(0x7ff0000000000001ULL);	/* signalling NaN */
	v[n++] = double_of(0x7ff8dead0000beefULL);	/* NaN with payload */
	v[n++] = double_of(0xfff0000000000001ULL);
	v[n++] = INFINITY;
	v[n++] = -INFINITY;
	v[n++] = 0.0;
	v[n++] = -0.0;
	v[n++] = 0.0;
	v[n++] = DBL_MIN;
	v[n++] = DBL_TRUE_MIN;
	v[n++] = -DBL_MAX;
	v[n++] = DBL_MAX;
	v[n++] = double_of(0xffffffffffffffffULL);
	v[n++] = double_of(0);
	for (size_t i = 0; i < n; i++)
		ts[i] = (int64_t)i;
	CHECK(roundtrip(ts, v, n) > 0);
	/* Each one alone, as the first value of a chunk. */
	for (size_t i = 0; i < n; i++)
		CHECK(roundtrip(ts, v + i, 1) > 0);
}

TEST(single_sample)
{
	int64_t	ts = 1700000000000;
	double	v = 3.25;

	/* count, zigzag varint of the timestamp (6 bytes), 8 value bytes. */
	CHECK_INT(roundtrip(&ts, &v, 1), 1 + 6 + 8);
}

TEST(max_samples)
{
	enum { N = CHUNK_MAX_SAMPLES + 1 };
	static int64_t	ts[N];
	static double	v[N];
	static uint8_t	out[CHUNK_MAX_BYTES(N)];

	for (size_t i = 0; i < N; i++) {
		ts[i] = (int64_t)i * 1000;
		v[i] = double_of(rnd());
	}
	CHECK(roundtrip(ts, v, CHUNK_MAX_SAMPLES) > 0);
	CHECK_INT(chunk_encode(ts, v, CHUNK_MAX_SAMPLES + 1, out), 0);
}

/* The worst case of CHUNK_MAX_BYTES is reachable and not exceeded. */
TEST(worst_case_size)
{
	enum { N = CHUNK_MAX_SAMPLES };
	static int64_t	ts[N];
	static double	v[N];
	size_t		len;

	/*
	 * Alternating deltas of 1 and 2^52 + 1 make every delta-of-delta an
	 * eight-byte varint (the int64_t range has room for only a few deltas
	 * big enough for ten), and alternating bit patterns whose XOR has no
	 * zero byte make every value nine bytes.
	 */
	ts[0] = INT64_MIN;
	for (size_t i = 1; i < N; i++)
		ts[i] = ts[i - 1] + ((i & 1) ? 1 : ((int64_t)1 << 52) + 1);
	for (size_t i = 0; i < N; i++)
		v[i] = double_of((i & 1) ? 0x0101010101010101ULL :
		    0xfefefefefefefefeULL);
	len = roundtrip(ts, v, N);
	CHECK(len > 0 && len <= CHUNK_MAX_BYTES(N));
	printf("# worst case: %.3f bytes/sample (bound %.3f)\n",
	    (double)len / N, (double)CHUNK_MAX_BYTES(N) / N);
}

TEST(encode_rejects)
{
	int64_t	up[] = { 1, 2, 3 };
	int64_t	same[] = { 1, 2, 2 };
	int64_t	down[] = { 1, 3, 2 };
	int64_t	wrap[] = { INT64_MAX, INT64_MIN };
	double	v[] = { 1, 2, 3 };
	uint8_t	out[CHUNK_MAX_BYTES(3)];

	CHECK_INT(chunk_encode(up, v, 0, out), 0);
	CHECK_INT(chunk_encode(same, v, 3, out), 0);
	CHECK_INT(chunk_encode(down, v, 3, out), 0);
	CHECK_INT(chunk_encode(wrap, v, 2, out), 0);
	CHECK(chunk_encode(up, v, 3, out) > 0);
}

/* Fills ts[0..n) with strictly increasing timestamps of a random shape. */
static void
random_timestamps(int64_t *ts, size_t n)
{
	uint64_t	kind = rnd_below(5), room;
	int64_t		t;

	switch (kind) {
	case 0:		/* anywhere, including the bounds */
		t = (int64_t)rnd();
		break;
	case 1:
		t = INT64_MIN + (int64_t)rnd_below(1000);
		break;
	default:	/* recent epoch milliseconds */
		t = 1700000000000 + (int64_t)rnd_below(1000000000);
		break;
	}
	/* Leave room for n - 1 further timestamps of at least 1 ms. */
	if (t > INT64_MAX - (int64_t)n)
		t = INT64_MAX - (int64_t)n;
	ts[0] = t;
	for (size_t i = 1; i < n; i++) {
		uint64_t d;

		switch (kind) {
		case 0:		/* any delta that fits */
			d = 1 + (rnd() >> rnd_below(64));
			break;
		case 1:		/* jitter around an interval */
		case 2:
			d = 1000 + rnd_below(5);
			break;
		case 3:		/* exactly regular */
			d = 10000;
			break;
		default:	/* small and irregular */
			d = 1 + rnd_below(100000);
			break;
		}
		/* The room to INT64_MAX less one per later sample. */
		room = (uint64_t)INT64_MAX - (uint64_t)ts[i - 1] -
		    (uint64_t)(n - 1 - i);
		if (d > room)
			d = room;
		if (d == 0)
			d = 1;
		ts[i] = (int64_t)((uint64_t)ts[i - 1] + d);
	}
}

static void
random_values(double *v, size_t n)
{
	uint64_t kind = rnd_below(5);

	for (size_t i = 0; i < n; i++) {
		switch (rnd_below(4) == 0 ? rnd_below(5) : kind) {
		case 0:		/* any bit pattern */
			v[i] = double_of(rnd());
			break;
		case 1:		/* repeats */
			v[i] = i > 0 && rnd_below(3) ? v[i - 1] : (double)
			    rnd_below(10);
			break;
		case 2:		/* 2-decimal gauge */
			v[i] = round2((double)rnd_below(10000) / 100.0);
			break;
		case 3:		/* a counter */
			v[i] = i > 0 ? v[i - 1] + (double)rnd_below(5000) :
			    (double)rnd();
			break;
		default:	/* few bits changed */
			v[i] = double_of((i > 0 ? bits_of(v[i - 1]) : rnd()) ^
			    ((uint64_t)1 << rnd_below(64)));
			break;
		}
	}
}

TEST(random_roundtrip)
{
	static int64_t	ts[CHUNK_MAX_SAMPLES];
	static double	v[CHUNK_MAX_SAMPLES];
	size_t		total = 0, bytes = 0;

	printf("# seed %#llx, %d chunks\n", (unsigned long long)SEED,
	    RANDOM_CHUNKS);
	for (int k = 0; k < RANDOM_CHUNKS && !unit.cur_failed; k++) {
		/* Mostly short chunks, some up to the limit. */
		size_t n = rnd_below(8) == 0 ?
		    1 + rnd_below(CHUNK_MAX_SAMPLES) : 1 + rnd_below(64);

		random_timestamps(ts, n);
		random_values(v, n);
		bytes += roundtrip(ts, v, n);
		total += n;
	}
	printf("# %zu samples, %.3f bytes/sample\n", total,
	    (double)bytes / (double)total);
}

/* Every prefix of a valid chunk is rejected, and so is one more byte. */
TEST(prefixes_and_suffixes_rejected)
{
	int64_t	ts[64];
	double	v[64];
	uint8_t	buf[CHUNK_MAX_BYTES(64) + 1];
	char	err[128];

	for (int k = 0; k < 200 && !unit.cur_failed; k++) {
		size_t n = 1 + rnd_below(64), len;

		random_timestamps(ts, n);
		random_values(v, n);
		len = chunk_encode(ts, v, n, buf);
		CHECK(len > 0);
		for (size_t cut = 0; cut < len; cut++) {
			uint8_t *p = malloc(cut + 1);

			if (p == NULL)
				break;
			memcpy(p, buf, cut);
			err[0] = '\0';
			if (chunk_decode(p, cut, ts, v, 64, err,
			    sizeof(err)) != -1 || chunk_count(p, cut) != -1)
				UNIT_FAIL("prefix %zu of %zu accepted", cut,
				    len);
			else
				CHECK_HAS(err, "truncated");
			free(p);
		}
		buf[len] = (uint8_t)rnd();
		err[0] = '\0';
		CHECK_INT(chunk_decode(buf, len + 1, ts, v, 64, err,
		    sizeof(err)), -1);
		CHECK_HAS(err, "trailing");
		CHECK_INT(chunk_count(buf, len + 1), -1);
	}
}

struct bad {
	const char	*name;
	uint8_t		 bytes[40];
	size_t		 len;
	size_t		 max;
	const char	*reason;	/* substring of the error */
};

/* First value 1.0, little-endian. */
#define ONE	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f

static const struct bad bad[] = {
	{ "empty", { 0 }, 0, 8, "truncated" },
	{ "count truncated", { 0x80 }, 1, 8, "truncated varint" },
	{ "count 11 bytes", { 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	    0x80, 0x80, 0x80, 0x00 }, 11, 8, "longer than 10 bytes" },
	{ "count overlong", { 0x81, 0x00, 0x00, ONE }, 11, 8, "overlong" },
	{ "count 0", { 0x00, 0x00, ONE }, 10, 8, "count is 0" },
	{ "count above limit", { 0x81, 0x40, 0x00, ONE }, 11, 8192,
	    "above the limit" },
	{ "count 2^64-1", { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0x01, 0x00, ONE }, 19, 8, "above the limit" },
	{ "count 10th byte too big", { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0x02, 0x00, ONE }, 19, 8, "overflows 64 bits" },
	{ "count above max", { 0x03, 0x00, ONE, 0x02, 0x00, 0x00, 0x00 }, 14,
	    2, "above max" },
	{ "first ts truncated", { 0x01, 0xff }, 2, 8, "truncated varint" },
	{ "first ts 11 bytes", { 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0x01, ONE }, 20, 8,
	    "longer than 10 bytes" },
	{ "first value truncated", { 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0xf0 }, 9, 8, "truncated first value" },
	{ "trailing byte", { 0x01, 0x00, ONE, 0x00 }, 11, 8, "trailing" },
	{ "sample missing", { 0x02, 0x00, ONE }, 10, 8, "truncated varint" },
	{ "dod truncated", { 0x02, 0x00, ONE, 0x80 }, 11, 8,
	    "truncated varint" },
	{ "dod 11 bytes", { 0x02, 0x00, ONE, 0x80, 0x80, 0x80, 0x80, 0x80,
	    0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00 }, 22, 8,
	    "longer than 10 bytes" },
	{ "dod overlong", { 0x02, 0x00, ONE, 0x82, 0x00, 0x00 }, 13, 8,
	    "overlong" },
	{ "delta 0", { 0x02, 0x00, ONE, 0x00, 0x00 }, 12, 8,
	    "does not increase" },
	{ "delta back to 0", { 0x03, 0x00, ONE, 0x02, 0x00, 0x01, 0x00 }, 14,
	    8, "does not increase" },
	/* first ts INT64_MAX (zigzag 2^64 - 2), then +1 */
	{ "ts overflow", { 0x02, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0x01, ONE, 0x02, 0x00 }, 21, 8, "overflows int64" },
	/* first ts 0, then a delta of -1, i.e. 2^64 - 1 */
	{ "ts decrease", { 0x02, 0x00, ONE, 0x01, 0x00 }, 12, 8,
	    "overflows int64" },
	{ "value missing", { 0x02, 0x00, ONE, 0x02 }, 11, 8,
	    "truncated value" },
	{ "value bytes missing", { 0x02, 0x00, ONE, 0x02, 0x06, 0x7f }, 13, 8,
	    "truncated value" },
	{ "control 0x80", { 0x02, 0x00, ONE, 0x02, 0x80, 1, 1, 1, 1, 1, 1, 1,
	    1 }, 20, 8, "bad control byte" },
	{ "control 0x08", { 0x02, 0x00, ONE, 0x02, 0x08, 1, 1, 1, 1, 1, 1, 1,
	    1 }, 20, 8, "bad control byte" },
	{ "control 0x8f", { 0x02, 0x00, ONE, 0x02, 0x8f, 1 }, 13, 8,
	    "bad control byte" },
	{ "control lz+tz 8", { 0x02, 0x00, ONE, 0x02, 0x44, 1 }, 13, 8,
	    "bad control byte" },
	{ "control lz+tz 14", { 0x02, 0x00, ONE, 0x02, 0x77, 1 }, 13, 8,
	    "bad control byte" },
	{ "control lz 7 tz 1", { 0x02, 0x00, ONE, 0x02, 0x71, 1 }, 13, 8,
	    "bad control byte" },
	{ "middle byte zero", { 0x02, 0x00, ONE, 0x02, 0x07, 0x00 }, 13, 8,
	    "not minimal" },
	{ "leading zero byte", { 0x02, 0x00, ONE, 0x02, 0x06, 0x00, 0x01 },
	    14, 8, "not minimal" },
	{ "trailing zero byte", { 0x02, 0x00, ONE, 0x02, 0x06, 0x01, 0x00 },
	    14, 8, "not minimal" },
	{ "0x88 with zero ends", { 0x02, 0x00, ONE, 0x02, 0x88, 0, 1, 1, 1,
	    1, 1, 1, 1 }, 20, 8, "not minimal" },
};

TEST(malformed_rejected)
{
	int64_t	ts[8];
	double	v[8];
	char	err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad	*b = &bad[i];
		uint8_t			*p = malloc(b->len ? b->len : 1);
		long			 got;

		if (p == NULL)
			break;
		memcpy(p, b->bytes, b->len);
		err[0] = '\0';
		got = chunk_decode(p, b->len, ts, v, b->max, err, sizeof(err));
		if (got != -1)
			UNIT_FAIL("%s: decoded %ld samples", b->name, got);
		else if (strstr(err, b->reason) == NULL)
			UNIT_FAIL("%s: \"%s\", expected \"%s\"", b->name, err,
			    b->reason);
		/*
		 * chunk_count validates like a decode with max
		 * CHUNK_MAX_SAMPLES, so only the "above max" chunk counts.
		 */
		got = chunk_count(p, b->len);
		if (got != -1 && strcmp(b->reason, "above max") != 0)
			UNIT_FAIL("%s: chunk_count == %ld", b->name, got);
		free(p);
	}
	/* The one case that only max rejects: chunk_count sees 3. */
	CHECK_INT(chunk_count((const uint8_t *)"\x03\x00" "\0\0\0\0\0\0\xf0\x3f"
	    "\x02\x00\x00\x00", 14), 3);
	CHECK_INT(chunk_count(NULL, 0), -1);
	CHECK_INT(chunk_decode(NULL, 0, ts, v, 8, err, sizeof(err)), -1);
}

/* A tiny or absent error buffer is truncated or ignored, never overrun. */
TEST(error_buffer_sizes)
{
	static const uint8_t	p[] = { 0x02, 0x00, ONE, 0x00, 0x00 };
	int64_t			ts[2];
	double			v[2];
	char			err[8];

	memset(err, 'x', sizeof(err));
	CHECK_INT(chunk_decode(p, sizeof(p), ts, v, 2, err, 4), -1);
	CHECK_INT(strlen(err), 3);
	CHECK_INT(err[4], 'x');
	CHECK_INT(chunk_decode(p, sizeof(p), ts, v, 2, err, 1), -1);
	CHECK_STR(err, "");
	CHECK_INT(chunk_decode(p, sizeof(p), ts, v, 2, NULL, 0), -1);
	CHECK_INT(chunk_decode(p, sizeof(p), ts, v, 2, err, 0), -1);
}

/*
 * Packed rows: exact bytes of a small row, every entry found and decoded
 * back, absent series, and the walk used by compaction and the loaders.
 */
static void
pack_roundtrip(void)
{
	static const int64_t	series[] = { 3, 4, 9, 130, 131 };
	int64_t			ts[4], got_ts[8], s, first, last;
	double			v[4], got_v[8];
	uint8_t			*buf;
	size_t			len, k, i, n;
	struct pack_iter	it;
	long			got;
	char			err[128];

	buf = malloc(PACK_HEADER_MAX_BYTES + 5 * PACK_ENTRY_MAX_BYTES(4));
	CHECK(buf != NULL);
	if (buf == NULL)
		return;
	len = pack_begin(buf, 1700000000000);
	for (i = 0; i < 5; i++) {
		n = i % 4 + 1;
		for (k = 0; k < n; k++) {
			ts[k] = 1700000000000 + (int64_t)(k * 1000) -
			    (int64_t)i;
			v[k] = (double)series[i] + (double)k / 8;
		}
		k = pack_put(buf + len, i ? series[i - 1] : 0, series[i],
		    1700000000000, ts, v, n);
		CHECK(k > 0);
		len += k;
	}
	/* Header 6 bytes; entry 0: series 3, count 1, ts +0, value. */
	CHECK_INT(buf[6], 3);
	CHECK_INT(buf[7], 1);
	CHECK_INT(buf[8], 0);
	for (i = 0; i < 5; i++) {
		n = i % 4 + 1;
		got = pack_find(buf, len, series[i], got_ts, got_v, 8, err,
		    sizeof(err));
		CHECK_INT(got, (long)n);
		for (k = 0; k < n && got == (long)n; k++) {
			CHECK_INT(got_ts[k], 1700000000000 +
			    (int64_t)(k * 1000) - (int64_t)i);
			CHECK(got_v[k] == (double)series[i] + (double)k / 8);
		}
		CHECK_INT(pack_span(buf, len, series[i], &first, &last),
		    (long)n);
		CHECK_INT(first, 1700000000000 - (int64_t)i);
		CHECK_INT(last, 1700000000000 + (int64_t)((n - 1) * 1000) -
		    (int64_t)i);
		CHECK_INT(head_decode(0, series[i], buf, len, got_ts, got_v, 8,
		    err, sizeof(err)), (long)n);
	}
	/* Absent: before, between and after the entries. */
	CHECK_INT(pack_find(buf, len, 1, got_ts, got_v, 8, err, sizeof(err)),
	    0);
	CHECK_INT(pack_find(buf, len, 5, got_ts, got_v, 8, err, sizeof(err)),
	    0);
	CHECK_INT(pack_find(buf, len, 1000, got_ts, got_v, 8, err,
	    sizeof(err)), 0);
	CHECK_INT(head_decode(7, 3, buf, len, got_ts, got_v, 8, err,
	    sizeof(err)), 0);
	/* The walk gives every entry in order, then 0. */
	CHECK_INT(pack_open(&it, buf, len, err, sizeof(err)), 0);
	for (i = 0; i < 5; i++) {
		CHECK_INT(pack_next(&it, &s, NULL, NULL, 0, err, sizeof(err)),
		    (long)(i % 4 + 1));
		CHECK_INT(s, series[i]);
	}
	CHECK_INT(pack_next(&it, &s, NULL, NULL, 0, err, sizeof(err)), 0);
	/* Too small a buffer for an entry is an error, not an overrun. */
	CHECK_INT(pack_find(buf, len, 130, got_ts, got_v, 1, err,
	    sizeof(err)), -1);
	free(buf);
}

static void
pack_rejects(void)
{
	uint8_t		 buf[64], *p;
	int64_t		 ts[2] = { 10, 10 }, got_ts[4];
	double		 v[2] = { 1, 2 }, got_v[4];
	size_t		 len, k, cut;
	char		 err[128];

	/* Series must ascend strictly and start above 0; ts must increase. */
	len = pack_begin(buf, 0);
	CHECK_INT(pack_put(buf + len, 0, 0, 0, ts, v, 1), 0);
	CHECK_INT(pack_put(buf + len, 5, 5, 0, ts, v, 1), 0);
	CHECK_INT(pack_put(buf + len, 0, 5, 0, ts, v, 2), 0);
	CHECK_INT(pack_put(buf + len, 0, 5, 0, ts, v, 0), 0);
	k = pack_put(buf + len, 0, 5, 0, ts, v, 1);
	CHECK(k > 0);
	len += k;
	/* Every truncation is refused with a reason, as is an empty row. */
	for (cut = 1; cut < len; cut++) {
		if ((p = malloc(cut)) == NULL)
			break;
		memcpy(p, buf, cut);
		err[0] = '\0';
		CHECK_INT(pack_find(p, cut, 5, got_ts, got_v, 4, err,
		    sizeof(err)), -1);
		CHECK(err[0] != '\0');
		free(p);
	}
	CHECK_INT(pack_find(NULL, 0, 5, got_ts, got_v, 4, err, sizeof(err)),
	    -1);
	/* Header, series delta, count, ts, value: a zero delta, a zero
	 * count. */
	CHECK_INT(len, 12);
	buf[1] = 0;
	CHECK_INT(pack_find(buf, len, 5, got_ts, got_v, 4, err, sizeof(err)),
	    -1);
	CHECK_HAS(err, "series not ascending");
	buf[1] = 5;
	buf[2] = 0;
	CHECK_INT(pack_find(buf, len, 5, got_ts, got_v, 4, err, sizeof(err)),
	    -1);
	CHECK_HAS(err, "0 samples");
}

int
main(void)
{
	RUN(exact_bytes);
	RUN(constant_series_size);
	RUN(cpu_series_size);
	RUN(irregular_timestamps);
	RUN(negative_timestamps);
	RUN(timestamps_at_int64_bounds);
	RUN(special_values_bit_exact);
	RUN(single_sample);
	RUN(max_samples);
	RUN(worst_case_size);
	RUN(encode_rejects);
	RUN(random_roundtrip);
	RUN(prefixes_and_suffixes_rejected);
	RUN(malformed_rejected);
	RUN(error_buffer_sizes);
	RUN(pack_roundtrip);
	RUN(pack_rejects);
	return UNIT_DONE();
}
