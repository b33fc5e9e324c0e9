/*
 * test_body.c -- msgpack bodies: the check, every decoder's acceptance and
 * rejection, the encoders' limits and the JSON rendering.
 *
 * Bodies are written in a small notation so that each case reads as the
 * bytes a peer would send (see mp below): {'k':v}, [a,b], 'str', 'x'*300
 * (repeated), b'bin', 42, -1, 1.5, f1.5 (float32), nil, true, false, and
 * x'c1 ff' for raw bytes.  Inside quotes \xHH, \n, \r, \t, \\ and \' are
 * escapes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <syslog.h>

#include "unit.h"
#include "body.h"
#include "frame.h"

static msgpack_sbuffer	 tb;		/* the body mp built last */
static struct body_dec	*dec;
static char		 err[256];

/* mp's parser: one value from *s, packed onto pk. */
static int	mp_value(msgpack_packer *, const char **);

static void
mp_skip(const char **s)
{
	while (isspace((unsigned char)**s))
		(*s)++;
}

/* A quoted string after the opening quote; returns its length in buf. */
static size_t
mp_quoted(const char **s, char *buf, size_t cap)
{
	size_t	n = 0;
	char	hex[3] = { 0 };

	while (**s != '\0' && **s != '\'') {
		if (**s == '\\') {
			(*s)++;
			switch (**s) {
			case 'x':
				hex[0] = (*s)[1];
				hex[1] = (*s)[2];
				buf[n++] = (char)strtoul(hex, NULL, 16);
				*s += 3;
				continue;
			case 'n':
				buf[n++] = '\n';
				break;
			case 'r':
				buf[n++] = '\r';
				break;
			case 't':
				buf[n++] = '\t';
				break;
			default:
				buf[n++] = **s;
				break;
			}
		} else
			buf[n++] = **s;
		(*s)++;
		if (n + 1 >= cap)
			abort();
	}
	if (**s == '\'')
		(*s)++;
	return n;
}

static int
mp_string(msgpack_packer *pk, const char **s, int bin)
{
	static char	buf[4096];
	char		*rep;
	size_t		n, r, times = 1;

	n = mp_quoted(s, buf, sizeof(buf));
	if (**s == '*') {
		(*s)++;
		times = strtoul(*s, NULL, 10);
		while (isdigit((unsigned char)**s))
			(*s)++;
	}
	if ((rep = malloc(n * times + 1)) == NULL)
		abort();
	for (r = 0; r < times; r++)
		memcpy(rep + r * n, buf, n);
	if (bin) {
		msgpack_pack_bin(pk, n * times);
		msgpack_pack_bin_body(pk, rep, n * times);
	} else {
		msgpack_pack_str(pk, n * times);
		msgpack_pack_str_body(pk, rep, n * times);
	}
	free(rep);
	return 0;
}

/* Counts the elements of a container whose opening bracket is at *s. */
static uint32_t
mp_count(const char *s, int *pairs)
{
	int		depth = 0, quoted = 0;
	uint32_t	n = 0, seen = 0;

	*pairs = *s == '{';
	for (s++; *s != '\0'; s++) {
		if (quoted) {
			if (*s == '\\')
				s++;
			else if (*s == '\'')
				quoted = 0;
			continue;
		}
		if (*s == '\'')
			quoted = 1;
		if (!isspace((unsigned char)*s) && depth == 0 &&
		    *s != ']' && *s != '}')
			seen = 1;
		if (*s == '[' || *s == '{')
			depth++;
		else if ((*s == ']' || *s == '}') && depth-- == 0)
			break;
		else if (*s == ',' && depth == 0)
			n++;
	}
	return seen ? n + 1 : 0;
}

static int
mp_value(msgpack_packer *pk, const char **s)
{
	const char	*p, *q;
	uint32_t	 n, i;
	char		*end;
	int		 pairs;

	mp_skip(s);
	p = *s;
	if (*p == '[' || *p == '{') {
		n = mp_count(p, &pairs);
		if (pairs)
			msgpack_pack_map(pk, n);
		else
			msgpack_pack_array(pk, n);
		(*s)++;
		for (i = 0; i < n; i++) {
			mp_skip(s);
			if (**s == ',')
				(*s)++;
			mp_value(pk, s);
			if (pairs) {
				mp_skip(s);
				if (**s == ':')
					(*s)++;
				mp_value(pk, s);
			}
		}
		mp_skip(s);
		(*s)++;
	} else if (*p == '\'') {
		(*s)++;
		mp_string(pk, s, 0);
	} else if (p[0] == 'b' && p[1] == '\'') {
		*s += 2;
		mp_string(pk, s, 1);
	} else if (p[0] == 'x' && p[1] == '\'') {
		char	buf[1024], hex[3] = { 0 };
		size_t	k = 0;

		for (*s += 2; **s != '\''; *s += 2) {
			while (**s == ' ')
				(*s)++;
			hex[0] = (*s)[0];
			hex[1] = (*s)[1];
			buf[k++] = (char)strtoul(hex, NULL, 16);
		}
		(*s)++;
		msgpack_sbuffer_write(pk->data, buf, k);
	} else if (strncmp(p, "nil", 3) == 0) {
		msgpack_pack_nil(pk);
		*s += 3;
	} else if (strncmp(p, "true", 4) == 0) {
		msgpack_pack_true(pk);
		*s += 4;
	} else if (strncmp(p, "false", 5) == 0) {
		msgpack_pack_false(pk);
		*s += 5;
	} else if (*p == 'f') {
		msgpack_pack_float(pk, strtof(p + 1, &end));
		*s = end;
	} else {
		for (q = p; *q == '-' || isdigit((unsigned char)*q); q++)
			;
		if (*q == '.' || *q == 'e') {
			msgpack_pack_double(pk, strtod(p, &end));
		} else if (*p == '-') {
			msgpack_pack_int64(pk, strtoll(p, &end, 10));
		} else
			msgpack_pack_uint64(pk, strtoull(p, &end, 10));
		if (end == p)
			abort();
		*s = end;
	}
	return 0;
}

/* Builds the body for spec into tb and returns its bytes. */
static const uint8_t *
mp(const char *spec)
{
	msgpack_packer	pk;

	msgpack_sbuffer_clear(&tb);
	msgpack_packer_init(&pk, &tb, msgpack_sbuffer_write);
	while (*spec != '\0') {
		mp_value(&pk, &spec);
		mp_skip(&spec);
	}
	return (const uint8_t *)tb.data;
}

/* Decodes spec as SAMPLES into *m; returns the decoder's result. */
static int
samples(const char *spec, struct samples_msg *m)
{
	err[0] = '\0';
	mp(spec);
	return body_decode_samples(dec, (const uint8_t *)tb.data, tb.size, m,
	    err, sizeof(err));
}

#define SAMPLES_FAIL(spec, reason) do {					\
	struct samples_msg _m;						\
	CHECK_INT(samples(spec, &_m), -1);				\
	CHECK_HAS(err, reason);						\
} while (0)

/* Any decoder over spec: must fail with reason. */
#define DEC_FAIL(fn, type, spec, reason) do {				\
	type _m;							\
	err[0] = '\0';							\
	mp(spec);							\
	CHECK_INT(fn(dec, (const uint8_t *)tb.data, tb.size, &_m, err,	\
	    sizeof(err)), -1);						\
	CHECK_HAS(err, reason);						\
} while (0)

static int
check_hex(const char *hex)
{
	mp(hex);
	err[0] = '\0';
	return body_check((const uint8_t *)tb.data, tb.size, err,
	    sizeof(err));
}

#define CHECK_REJECTS(hex, reason) do {					\
	CHECK_INT(check_hex(hex), -1);					\
	CHECK_HAS(err, reason);						\
} while (0)

/* Every msgpack format, 38 objects in one array; msgpack-c must agree. */
TEST(check_accepts_every_format)
{
	msgpack_zone	z;
	msgpack_object	o;
	size_t		off = 0;

	mp("x'dc0026'"
	    "x'00' x'7f' x'e0' x'ff' x'80' x'90' x'a0' x'c0' x'c2' x'c3'"
	    "x'c401aa' x'c50001bb' x'c600000001cc'"
	    "x'c7010501' x'c800010502' x'c9000000010503'"
	    "x'ca3f800000' x'cb3ff0000000000000'"
	    "x'cc01' x'cd0102' x'ce01020304' x'cf0102030405060708'"
	    "x'd0ff' x'd1ffff' x'd2ffffffff' x'd3ffffffffffffffff'"
	    "x'd40101' x'd5010102' x'd60101020304'"
	    "x'd7010102030405060708'"
	    "x'd801000102030405060708090a0b0c0d0e0f'"
	    "x'd90161' x'da000161' x'db0000000161'"
	    "x'dc0000' x'dd00000000' x'de0000' x'df00000000'");
	CHECK_INT(body_check((const uint8_t *)tb.data, tb.size, err,
	    sizeof(err)), 0);
	msgpack_zone_init(&z, 1024);
	CHECK_INT(msgpack_unpack(tb.data, tb.size, &off, &z, &o),
	    MSGPACK_UNPACK_SUCCESS);
	CHECK_INT(o.type, MSGPACK_OBJECT_ARRAY);
	CHECK_INT(o.via.array.size, 38);
	msgpack_zone_destroy(&z);
}

TEST(check_rejects)
{
	CHECK_INT(body_check(NULL, 0, err, sizeof(err)), -1);
	CHECK_HAS(err, "body is empty");
	CHECK_REJECTS("x'c1'", "reserved type byte 0xc1 at offset 0");
	CHECK_REJECTS("x'92 01 c1'", "reserved type byte 0xc1 at offset 2");
	CHECK_REJECTS("x'a56162'",
	    "str length 5 at offset 0 exceeds the 2 remaining bytes");
	CHECK_REJECTS("x'db ffffffff 61'", "str length 4294967295");
	CHECK_REJECTS("x'c6 00000010 00'", "bin length 16");
	CHECK_REJECTS("x'c7 05 01 00'", "ext length 5");
	CHECK_REJECTS("x'd8 01 00'", "ext length 16");
	CHECK_REJECTS("x'd8'", "truncated at offset 0");
	CHECK_REJECTS("x'cd 01'", "truncated at offset 0: type 0xcd needs 2 "
	    "more bytes, 1 remain");
	CHECK_REJECTS("x'cb 00000000'", "truncated at offset 0");
	CHECK_REJECTS("x'dd ffffffff 00'", "array count 4294967295 at offset "
	    "0 exceeds the 1 remaining bytes");
	CHECK_REJECTS("x'df ffffffff 0000'", "map count 4294967295");
	CHECK_REJECTS("x'81 01'", "map count 1 at offset 0 needs 2 bytes, "
	    "1 remain");
	CHECK_REJECTS("x'93 01 02'", "array count 3 at offset 0 exceeds");
	CHECK_REJECTS("x'92 91 01'", "truncated at offset 3");
	CHECK_REJECTS("x'01 02'",
	    "1 trailing bytes after the body at offset 1");
	CHECK_REJECTS("{'a':1} x'00 00'", "2 trailing bytes");
}

TEST(check_nesting_limit)
{
	CHECK_INT(check_hex("[[[[[[[[]]]]]]]]"), 0);		/* 8 deep */
	CHECK_INT(check_hex("{'a':[[[[[[[1]]]]]]]}"), 0);
	CHECK_REJECTS("[[[[[[[[[]]]]]]]]]", "nesting deeper than 8 at "
	    "offset 8");
	CHECK_REJECTS("{'a':{'b':[[[[[[{}]]]]]]}}", "nesting deeper than 8");
	/* A deep but lying prefix fails on its length, not the stack. */
	CHECK_REJECTS("x'9191919191919191 91'",
	    "array count 1 at offset 8 exceeds the 0 remaining bytes");
}

/*
 * A four-byte body claiming 2^32 elements must be refused by the walker:
 * were it handed to msgpack-c, that would try to allocate 96 GiB.
 */
TEST(huge_count_fails_before_msgpack)
{
	struct samples_msg	m;
	static const uint8_t	lie[] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 0x00 };
	static const uint8_t	lie2[] = { 0x81, 0xa6, 's', 'e', 'r', 'i',
				    'e', 's', 0xdd, 0xff, 0xff, 0xff, 0xff };

	CHECK_INT(body_decode_samples(dec, lie, sizeof(lie), &m, err,
	    sizeof(err)), -1);
	CHECK_HAS(err, "array count 4294967295 at offset 0 exceeds the 1 "
	    "remaining bytes");
	CHECK_INT(body_decode_samples(dec, lie2, sizeof(lie2), &m, err,
	    sizeof(err)), -1);
	CHECK_HAS(err, "array count 4294967295 at offset 8 exceeds the 0 "
	    "remaining bytes");
}

TEST(samples_roundtrip)
{
	struct label		l0[] = { { PSTR("cpu"), PSTR("0") },
				    { PSTR("mode"), PSTR("user") } };
	struct series_ref	s[] = { { PSTR("cpu_seconds"), 2, l0 },
				    { PSTR("load1"), 0, NULL } };
	struct point		pt[] = { { 0, 1700000000000, 12.5 },
				    { 1, 1700000000000, 0.25 },
				    { 0, -5, -1e300 },
				    { 1, INT64_MAX, NAN } };
	struct gap		g[] = { { 1, 2, 3 }, { -10, -10, UINT64_MAX } };
	struct samples_msg	in = { 7, PSTR("board-1"), 2, s, 4, pt, 2, g };
	struct samples_msg	out;
	msgpack_sbuffer		sb;

	msgpack_sbuffer_init(&sb);
	CHECK_INT(body_encode_samples(&sb, &in), 0);
	CHECK_INT(body_decode_samples(dec, (const uint8_t *)sb.data, sb.size,
	    &out, err, sizeof(err)), 0);
	CHECK_INT(out.id, 7);
	CHECK(pstr_eq(out.device, "board-1"));
	CHECK_INT(out.nseries, 2);
	CHECK(pstr_eq(out.series[0].name, "cpu_seconds"));
	CHECK_INT(out.series[0].nlabels, 2);
	CHECK(pstr_eq(out.series[0].labels[0].k, "cpu"));
	CHECK(pstr_eq(out.series[0].labels[0].v, "0"));
	CHECK(pstr_eq(out.series[0].labels[1].k, "mode"));
	CHECK(pstr_eq(out.series[0].labels[1].v, "user"));
	CHECK(pstr_eq(out.series[1].name, "load1"));
	CHECK_INT(out.series[1].nlabels, 0);
	CHECK_INT(out.npoints, 4);
	CHECK_INT(out.points[0].idx, 0);
	CHECK_INT(out.points[0].ts, 1700000000000);
	CHECK(out.points[0].value == 12.5);
	CHECK_INT(out.points[1].idx, 1);
	CHECK(out.points[1].value == 0.25);
	CHECK_INT(out.points[2].ts, -5);
	CHECK(out.points[2].value == -1e300);
	CHECK_INT(out.points[3].ts, INT64_MAX);
	CHECK(isnan(out.points[3].value));
	CHECK_INT(out.ngaps, 2);
	CHECK_INT(out.gaps[0].from_ts, 1);
	CHECK_INT(out.gaps[0].to_ts, 2);
	CHECK_INT(out.gaps[0].count, 3);
	CHECK(out.gaps[1].count == UINT64_MAX);
	/* Strings borrow from the body, as body.h says. */
	CHECK(out.device.p >= sb.data && out.device.p < sb.data + sb.size);
	msgpack_sbuffer_destroy(&sb);
}

TEST(samples_accepts)
{
	struct samples_msg	m;

	/* Key order is free; device, gaps and id are optional. */
	CHECK_INT(samples("{'points':[0,5,1], 'series':[['up',[]]]}", &m), 0);
	CHECK_INT(m.device.n, 0);
	CHECK(m.device.p != NULL);
	CHECK_INT(m.id, 0);
	CHECK_INT(m.ngaps, 0);
	CHECK_INT(m.npoints, 1);
	CHECK(m.points[0].value == 1.0);

	/* Values as float32, float64, negative and huge integers. */
	CHECK_INT(samples("{'series':[['a',[]]], 'points':[0,1,f0.5, "
	    "0,2,-3, 0,3,18446744073709551615, 0,-4,2.5]}", &m), 0);
	CHECK_INT(m.npoints, 4);
	CHECK(m.points[0].value == 0.5);
	CHECK(m.points[1].value == -3.0);
	CHECK(m.points[2].value == 18446744073709551615.0);
	CHECK_INT(m.points[3].ts, -4);
	CHECK(m.points[3].value == 2.5);

	/* Unknown keys, even of strange types, belong to newer peers. */
	CHECK_INT(samples("{'series':[], 'points':[], 'future':{'x':[1]}, "
	    "7:nil, nil:'x'}", &m), 0);
	CHECK_INT(m.nseries, 0);
	CHECK_INT(m.npoints, 0);

	/* Limits are inclusive. */
	CHECK_INT(samples("{'device':'d'*255, 'series':[['n'*255, "
	    "['k'*255, 'v'*1024]]], 'points':[]}", &m), 0);
	CHECK_INT(m.device.n, 255);
	CHECK_INT(m.series[0].labels[0].v.n, 1024);
	CHECK_INT(samples("{'series':[['a',['k','']]], 'points':[], "
	    "'gaps':[], 'id':18446744073709551615}", &m), 0);
	CHECK(m.id == UINT64_MAX);
	CHECK_INT(m.series[0].labels[0].v.n, 0);
}

/* A series spec with n labels. */
static char *
labels_spec(int n)
{
	static char	buf[4096];
	int		o, i;

	o = snprintf(buf, sizeof(buf), "{'series':[['m',[");
	for (i = 0; i < n; i++)
		o += snprintf(buf + o, sizeof(buf) - (size_t)o, "%s'k%d','v'",
		    i ? "," : "", i);
	snprintf(buf + o, sizeof(buf) - (size_t)o, "]]], 'points':[]}");
	return buf;
}

TEST(samples_rejects)
{
	struct samples_msg	m;

	SAMPLES_FAIL("[]", "body is not a map");
	SAMPLES_FAIL("{'points':[]}", "missing required key \"series\"");
	SAMPLES_FAIL("{'series':[]}", "missing required key \"points\"");
	SAMPLES_FAIL("{'series':[], 'points':[], 'series':[]}",
	    "duplicate key \"series\"");
	SAMPLES_FAIL("{'device':1, 'series':[], 'points':[]}",
	    "device is not a string (integer)");
	SAMPLES_FAIL("{'device':'d'*256, 'series':[], 'points':[]}",
	    "device longer than 255 bytes");
	SAMPLES_FAIL("{'id':-1, 'series':[], 'points':[]}", "id out of range");
	SAMPLES_FAIL("{'id':'x', 'series':[], 'points':[]}",
	    "id is not an unsigned integer (str)");

	SAMPLES_FAIL("{'series':{}, 'points':[]}",
	    "series is not an array (map)");
	SAMPLES_FAIL("{'series':[1], 'points':[]}",
	    "series[0] is not a [name, labels] pair");
	SAMPLES_FAIL("{'series':[['a',[],1]], 'points':[]}",
	    "series[0] is not a [name, labels] pair");
	SAMPLES_FAIL("{'series':[['a',[]],[b'x',[]]], 'points':[]}",
	    "series[1]: name is not a string (bin)");
	SAMPLES_FAIL("{'series':[['',[]]], 'points':[]}",
	    "series[0]: name is empty");
	SAMPLES_FAIL("{'series':[['n'*256,[]]], 'points':[]}",
	    "series[0]: name longer than 255 bytes");
	SAMPLES_FAIL("{'series':[['a',nil]], 'points':[]}",
	    "series[0]: labels is not an array (nil)");
	SAMPLES_FAIL("{'series':[['a',['k']]], 'points':[]}",
	    "series[0]: labels has an odd number of elements");
	SAMPLES_FAIL("{'series':[['a',[1,'v']]], 'points':[]}",
	    "series[0]: label key is not a string");
	SAMPLES_FAIL("{'series':[['a',['','v']]], 'points':[]}",
	    "series[0]: label key is empty");
	SAMPLES_FAIL("{'series':[['a',['k'*256,'v']]], 'points':[]}",
	    "series[0]: label key longer than 255 bytes");
	SAMPLES_FAIL("{'series':[['a',['k',true]]], 'points':[]}",
	    "series[0]: label value is not a string (bool)");
	SAMPLES_FAIL("{'series':[['a',[]],['b',[]],['c',['k','v'*1025]]], "
	    "'points':[]}", "series[2]: label value longer than 1024");
	CHECK_INT(samples(labels_spec(BODY_MAX_LABELS), &m), 0);
	CHECK_INT(m.series[0].nlabels, BODY_MAX_LABELS);
	SAMPLES_FAIL(labels_spec(BODY_MAX_LABELS + 1),
	    "series[0]: too many labels (33, limit 32)");

	SAMPLES_FAIL("{'series':[], 'points':'x'}",
	    "points is not an array (str)");
	SAMPLES_FAIL("{'series':[['a',[]]], 'points':[0,1]}",
	    "points has 2 elements, not a multiple of 3");
	SAMPLES_FAIL("{'series':[['a',[]]], 'points':[0,1,2,0]}",
	    "points has 4 elements, not a multiple of 3");
	SAMPLES_FAIL("{'series':[['a',[]]], 'points':[0,1,2, 'a',1,2]}",
	    "points[1]: idx is not an unsigned integer (str)");
	SAMPLES_FAIL("{'series':[['a',[]]], 'points':[1,1,1]}",
	    "points[0]: idx out of range (1 series)");
	SAMPLES_FAIL("{'series':[], 'points':[0,1,1]}",
	    "points[0]: idx out of range (0 series)");
	SAMPLES_FAIL("{'series':[['a',[]]], 'points':[-1,1,1]}",
	    "points[0]: idx out of range");
	SAMPLES_FAIL("{'series':[['a',[]]], 'points':[4294967296,1,1]}",
	    "points[0]: idx out of range");
	SAMPLES_FAIL("{'series':[['a',[]]], 'points':[0,1,1, 0,2,1, 0,3,1, "
	    "0,4,1, 0,5,1, 0,6,1, 0,7,1, 0,'8',1]}",
	    "points[7]: ts is not an integer (str)");
	SAMPLES_FAIL("{'series':[['a',[]]], 'points':[0,1.0,1]}",
	    "points[0]: ts is not an integer (float)");
	SAMPLES_FAIL("{'series':[['a',[]]], "
	    "'points':[0,9223372036854775808,1]}",
	    "points[0]: ts out of range for int64");
	SAMPLES_FAIL("{'series':[['a',[]]], 'points':[0,1,'1']}",
	    "points[0]: value is not a number (str)");
	SAMPLES_FAIL("{'series':[['a',[]]], 'points':[0,1,nil]}",
	    "points[0]: value is not a number (nil)");

	SAMPLES_FAIL("{'series':[], 'points':[], 'gaps':1}",
	    "gaps is not an array");
	SAMPLES_FAIL("{'series':[], 'points':[], 'gaps':[[1,2]]}",
	    "gaps[0] is not a [from_ts, to_ts, count] triple");
	SAMPLES_FAIL("{'series':[], 'points':[], 'gaps':[['1',2,3]]}",
	    "gaps[0]: from_ts is not an int64 (str)");
	SAMPLES_FAIL("{'series':[], 'points':[], 'gaps':[[1,2.5,3]]}",
	    "gaps[0]: to_ts is not an int64 (float)");
	SAMPLES_FAIL("{'series':[], 'points':[], 'gaps':[[1,2,3],[1,2,-3]]}",
	    "gaps[1]: count is not an unsigned integer");
	SAMPLES_FAIL("{'series':[], 'points':[], 'gaps':[[3,2,1]]}",
	    "gaps[0]: from_ts after to_ts");
}

/* Every proper prefix of a good body is refused by the check. */
TEST(truncated_bodies)
{
	struct label		l = { PSTR("k"), PSTR("v") };
	struct series_ref	s = { PSTR("m"), 1, &l };
	struct point		pt[] = { { 0, 1, 2.0 }, { 0, 2, 3.0 } };
	struct gap		g = { 1, 2, 3 };
	struct samples_msg	in = { 9, PSTR("dev"), 1, &s, 2, pt, 1, &g };
	struct samples_msg	out;
	msgpack_sbuffer		sb;
	size_t			k;
	uint8_t			*copy;

	msgpack_sbuffer_init(&sb);
	CHECK_INT(body_encode_samples(&sb, &in), 0);
	for (k = 0; k < sb.size; k++) {
		/* A copy of exactly k bytes, so ASan sees any overread. */
		copy = malloc(k + 1);
		memcpy(copy, sb.data, k);
		err[0] = '\0';
		if (body_decode_samples(dec, copy, k, &out, err,
		    sizeof(err)) != -1 || err[0] == '\0')
			UNIT_FAIL("prefix of %zu bytes accepted", k);
		if (k > 0 && strstr(err, "truncated") == NULL &&
		    strstr(err, "exceeds") == NULL &&
		    strstr(err, "needs") == NULL)
			UNIT_FAIL("prefix %zu: %s", k, err);
		free(copy);
	}
	msgpack_sbuffer_destroy(&sb);
}

/* Scratch memory is reused and regrown without mixing up messages. */
TEST(scratch_reuse)
{
	struct label		l[4 * 100];
	struct series_ref	s[100];
	struct point		pt[300];
	struct samples_msg	big = { 0 }, out;
	msgpack_sbuffer		sb;
	char			names[100][24];
	int			i, j, round;

	for (i = 0; i < 100; i++)
		snprintf(names[i], sizeof(names[i]), "metric_%d", i);
	for (i = 0; i < 100; i++) {
		s[i].name = PSTR(names[i]);
		s[i].nlabels = (uint32_t)(i % 5);
		s[i].labels = &l[4 * i];
		for (j = 0; j < 4; j++) {
			l[4 * i + j].k = PSTR("key");
			l[4 * i + j].v = PSTR(names[(i + j) % 100]);
		}
	}
	for (i = 0; i < 300; i++)
		pt[i] = (struct point){ (uint32_t)(i % 100), i, i * 0.5 };
	big.nseries = 100;
	big.series = s;
	big.npoints = 300;
	big.points = pt;

	msgpack_sbuffer_init(&sb);
	CHECK_INT(body_encode_samples(&sb, &big), 0);
	for (round = 0; round < 3; round++) {
		CHECK_INT(samples("{'series':[['x',['a','b']]], "
		    "'points':[0,1,2]}", &out), 0);
		CHECK_INT(out.npoints, 1);
		CHECK(pstr_eq(out.series[0].labels[0].v, "b"));
		CHECK_INT(body_decode_samples(dec, (const uint8_t *)sb.data,
		    sb.size, &out, err, sizeof(err)), 0);
		CHECK_INT(out.nseries, 100);
		CHECK_INT(out.npoints, 300);
		for (i = 0; i < 100; i++) {
			CHECK(pstr_eq(out.series[i].name, names[i]));
			CHECK_INT(out.series[i].nlabels, i % 5);
			for (j = 0; j < i % 5; j++)
				CHECK(pstr_eq(out.series[i].labels[j].v,
				    names[(i + j) % 100]));
		}
		for (i = 0; i < 300; i++) {
			CHECK_INT(out.points[i].idx, i % 100);
			CHECK_INT(out.points[i].ts, i);
			CHECK(out.points[i].value == i * 0.5);
		}
	}
	msgpack_sbuffer_destroy(&sb);
}

/*
 * A frame far above the usual size grows the scratch past what is kept;
 * the next decode releases it and must still be right.
 */
TEST(scratch_trim)
{
	struct series_ref	 s = { PSTR("m"), 0, NULL };
	struct samples_msg	 big = { 0 }, out;
	struct point		*pt;
	msgpack_sbuffer		 sb;
	uint32_t		 i, n = 60000;	/* 1.4 MB of struct point */
	int			 round;

	if ((pt = calloc(n, sizeof(*pt))) == NULL)
		abort();
	for (i = 0; i < n; i++)
		pt[i] = (struct point){ 0, i, i };
	big.nseries = 1;
	big.series = &s;
	big.npoints = n;
	big.points = pt;
	msgpack_sbuffer_init(&sb);
	CHECK_INT(body_encode_samples(&sb, &big), 0);
	for (round = 0; round < 2; round++) {
		CHECK_INT(body_decode_samples(dec, (const uint8_t *)sb.data,
		    sb.size, &out, err, sizeof(err)), 0);
		CHECK_INT(out.npoints, n);
		CHECK_INT(out.points[n - 1].ts, n - 1);
		CHECK_INT(samples("{'series':[['x',['a','b']]], "
		    "'points':[0,1,2]}", &out), 0);
		CHECK(pstr_eq(out.series[0].labels[0].v, "b"));
		CHECK_INT(out.points[0].ts, 1);
	}
	msgpack_sbuffer_destroy(&sb);
	free(pt);
}

TEST(hello)
{
	struct hello_msg	in = { PSTR("producer"), PSTR("tern-sampler"),
				    4242, PROTO_VERSION, PSTR("board"),
				    0x0123456789abcdefULL };
	struct hello_msg	out;
	msgpack_sbuffer		sb;

	msgpack_sbuffer_init(&sb);
	CHECK_INT(body_encode_hello(&sb, &in), 0);
	CHECK_INT(body_decode_hello(dec, (const uint8_t *)sb.data, sb.size,
	    &out, err, sizeof(err)), 0);
	CHECK(pstr_eq(out.role, "producer"));
	CHECK(pstr_eq(out.name, "tern-sampler"));
	CHECK_INT(out.pid, 4242);
	CHECK_INT(out.version, PROTO_VERSION);
	CHECK(pstr_eq(out.device, "board"));
	CHECK(out.epoch == 0x0123456789abcdefULL);
	msgpack_sbuffer_destroy(&sb);

	/* Another version decodes, so that the caller can answer ERROR. */
	mp("{'role':'ctl', 'name':'ternctl', 'version':2}");
	CHECK_INT(body_decode_hello(dec, (const uint8_t *)tb.data, tb.size,
	    &out, err, sizeof(err)), 0);
	CHECK_INT(out.version, 2);
	CHECK_INT(out.pid, 0);
	CHECK_INT(out.device.n, 0);

	DEC_FAIL(body_decode_hello, struct hello_msg,
	    "{'name':'n', 'version':1}", "missing required key \"role\"");
	DEC_FAIL(body_decode_hello, struct hello_msg,
	    "{'role':'ctl', 'version':1}", "missing required key \"name\"");
	DEC_FAIL(body_decode_hello, struct hello_msg,
	    "{'role':'ctl', 'name':'n'}", "missing required key \"version\"");
	DEC_FAIL(body_decode_hello, struct hello_msg,
	    "{'role':1, 'name':'n', 'version':1}",
	    "role is not a string (integer)");
	DEC_FAIL(body_decode_hello, struct hello_msg,
	    "{'role':'ctl', 'name':'n'*256, 'version':1}",
	    "name longer than 255 bytes");
	DEC_FAIL(body_decode_hello, struct hello_msg,
	    "{'role':'ctl', 'name':'n', 'version':'1'}",
	    "version is not an unsigned integer (str)");
	DEC_FAIL(body_decode_hello, struct hello_msg,
	    "{'role':'ctl', 'name':'n', 'version':4294967296}",
	    "version out of range 0..4294967295");
	DEC_FAIL(body_decode_hello, struct hello_msg,
	    "{'role':'ctl', 'name':'n', 'version':1, 'pid':1.5}",
	    "pid is not an integer (float)");
	DEC_FAIL(body_decode_hello, struct hello_msg,
	    "{'role':'ctl', 'name':'n', 'version':1, 'epoch':-1}",
	    "epoch out of range");
	DEC_FAIL(body_decode_hello, struct hello_msg,
	    "{'role':'ctl', 'name':'n', 'version':1, 'device':[]}",
	    "device is not a string (array)");
}

TEST(small_messages)
{
	msgpack_sbuffer		sb;
	struct ack_msg		ack = { UINT64_MAX, 12 }, ack2;
	struct error_msg	em;
	struct ping_msg		ping = { INT64_MIN }, ping2;
	struct fetch_msg	fetch = { UINT32_MAX, 1 }, fetch2;
	struct done_msg		done = { 77, 1, { "bad schema", 10 } }, done2;
	struct loglevel_msg	ll = { LOG_DEBUG }, ll2;

	msgpack_sbuffer_init(&sb);
#define RT(enc, decf, inp, outp) do {					\
	msgpack_sbuffer_clear(&sb);					\
	CHECK_INT(enc(&sb, inp), 0);					\
	CHECK_INT(decf(dec, (const uint8_t *)sb.data, sb.size, outp,	\
	    err, sizeof(err)), 0);					\
} while (0)
	RT(body_encode_ack, body_decode_ack, &ack, &ack2);
	CHECK(ack2.seq == UINT64_MAX);
	CHECK_INT(ack2.new_samples, 12);
	RT(body_encode_error, body_decode_error, "version 2 not spoken", &em);
	CHECK(pstr_eq(em.reason, "version 2 not spoken"));
	RT(body_encode_error, body_decode_error, "", &em);
	CHECK_INT(em.reason.n, 0);
	RT(body_encode_ping, body_decode_ping, &ping, &ping2);
	CHECK(ping2.t == INT64_MIN);
	RT(body_encode_fetch, body_decode_fetch, &fetch, &fetch2);
	CHECK(fetch2.max == UINT32_MAX);
	CHECK_INT(fetch2.backlog, 1);
	RT(body_encode_done, body_decode_done, &done, &done2);
	CHECK_INT(done2.id, 77);
	CHECK_INT(done2.set_aside, 1);
	CHECK(pstr_eq(done2.reason, "bad schema"));
	RT(body_encode_loglevel, body_decode_loglevel, &ll, &ll2);
	CHECK_INT(ll2.level, LOG_DEBUG);
#undef RT
	msgpack_sbuffer_destroy(&sb);

	DEC_FAIL(body_decode_ack, struct ack_msg, "{}",
	    "missing required key \"seq\"");
	DEC_FAIL(body_decode_ack, struct ack_msg, "{'seq':-5}",
	    "seq out of range");
	DEC_FAIL(body_decode_ack, struct ack_msg, "{'seq':1, 'new':'x'}",
	    "new is not an unsigned integer (str)");
	DEC_FAIL(body_decode_error, struct error_msg, "{'reason':1}",
	    "reason is not a string");
	DEC_FAIL(body_decode_error, struct error_msg, "{}",
	    "missing required key \"reason\"");
	DEC_FAIL(body_decode_ping, struct ping_msg, "{'t':nil}",
	    "t is not an integer (nil)");
	DEC_FAIL(body_decode_ping, struct ping_msg,
	    "{'t':18446744073709551615}",
	    "t out of range for int64");
	DEC_FAIL(body_decode_fetch, struct fetch_msg, "{'max':4294967296}",
	    "max out of range 0..4294967295");
	DEC_FAIL(body_decode_fetch, struct fetch_msg, "{'max':f1.0}",
	    "max is not an unsigned integer (float)");
	DEC_FAIL(body_decode_done, struct done_msg, "{'ID':1}",
	    "missing required key \"id\"");
	DEC_FAIL(body_decode_loglevel, struct loglevel_msg, "{'level':9}",
	    "level 9 is not a syslog priority from 3 (err) to 7 (debug)");
	DEC_FAIL(body_decode_loglevel, struct loglevel_msg, "{'level':2}",
	    "level 2 is not a syslog priority");
	DEC_FAIL(body_decode_loglevel, struct loglevel_msg, "{'level':'info'}",
	    "level is not an integer (str)");
	DEC_FAIL(body_decode_ping, struct ping_msg, "'t'",
	    "body is not a map");
}

TEST(stats)
{
	struct stat_kv		kv[] = { { PSTR("samples_in"), 1e6 },
				    { PSTR("peers"), 3 } };
	struct stats_msg	in = { 2, kv }, out;
	msgpack_sbuffer		sb;

	msgpack_sbuffer_init(&sb);
	CHECK_INT(body_encode_stats(&sb, &in), 0);
	CHECK_INT(body_decode_stats(dec, (const uint8_t *)sb.data, sb.size,
	    &out, err, sizeof(err)), 0);
	CHECK_INT(out.n, 2);
	CHECK(pstr_eq(out.kv[0].name, "samples_in"));
	CHECK(out.kv[0].value == 1e6);
	CHECK(pstr_eq(out.kv[1].name, "peers"));
	CHECK(out.kv[1].value == 3);

	/* The request: an empty map. */
	msgpack_sbuffer_clear(&sb);
	CHECK_INT(body_encode_empty(&sb), 0);
	CHECK_INT(sb.size, 1);
	CHECK_INT((uint8_t)sb.data[0], 0x80);
	CHECK_INT(body_decode_stats(dec, (const uint8_t *)sb.data, sb.size,
	    &out, err, sizeof(err)), 0);
	CHECK_INT(out.n, 0);
	msgpack_sbuffer_destroy(&sb);

	mp("{'a':1, 'b':-2, 'c':f0.5}");
	CHECK_INT(body_decode_stats(dec, (const uint8_t *)tb.data, tb.size,
	    &out, err, sizeof(err)), 0);
	CHECK(out.kv[1].value == -2 && out.kv[2].value == 0.5);
	DEC_FAIL(body_decode_stats, struct stats_msg, "{'a':1, 'b':'x'}",
	    "stats[1]: value is not a number (str)");
	DEC_FAIL(body_decode_stats, struct stats_msg, "{1:1}",
	    "stats[0]: name is not a string (integer)");
	DEC_FAIL(body_decode_stats, struct stats_msg, "{'':1}",
	    "stats[0]: name is empty");
	DEC_FAIL(body_decode_stats, struct stats_msg, "{'s'*256:1}",
	    "stats[0]: name longer than 255 bytes");
}

TEST(tap)
{
	static const uint8_t	fr[] = { 0, 0, 0, 1, 0, 3, 1, 0,
				    0, 0, 0, 0, 0, 0, 0, 9, 0x80 };
	struct tap_msg		in = { PSTR("producer[12]"), PSTR("in"), 5, fr,
				    sizeof(fr) }, out;
	msgpack_sbuffer		sb;

	msgpack_sbuffer_init(&sb);
	CHECK_INT(body_encode_tap(&sb, &in), 0);
	CHECK_INT(body_decode_tap(dec, (const uint8_t *)sb.data, sb.size,
	    &out, err, sizeof(err)), 0);
	CHECK(pstr_eq(out.peer, "producer[12]"));
	CHECK(pstr_eq(out.dir, "in"));
	CHECK_INT(out.lost, 5);
	CHECK_INT(out.frame_len, sizeof(fr));
	CHECK(memcmp(out.frame, fr, sizeof(fr)) == 0);
	msgpack_sbuffer_destroy(&sb);

	DEC_FAIL(body_decode_tap, struct tap_msg,
	    "{'peer':'p', 'dir':'up', 'frame':b''}",
	    "dir is not \"in\" or \"out\"");
	DEC_FAIL(body_decode_tap, struct tap_msg,
	    "{'peer':'p', 'dir':'out', 'frame':'abc'}",
	    "frame is not a bin (str)");
	DEC_FAIL(body_decode_tap, struct tap_msg, "{'peer':'p', 'dir':'out'}",
	    "missing required key \"frame\"");
	DEC_FAIL(body_decode_tap, struct tap_msg,
	    "{'dir':'out', 'frame':b''}", "missing required key \"peer\"");
	DEC_FAIL(body_decode_tap, struct tap_msg,
	    "{'peer':'p', 'dir':'in', 'lost':-1, 'frame':b''}",
	    "lost out of range");
}

/* What the encoders refuse, the decoders would refuse too. */
TEST(encoders_enforce_limits)
{
	char			 longname[BODY_MAX_LABELVAL + 2];
	struct label		 l[BODY_MAX_LABELS + 1];
	struct series_ref	 s = { PSTR("m"), 0, l };
	struct point		 pt = { 1, 0, 0 };
	struct gap		 g = { 2, 1, 0 };
	struct samples_msg	 m = { 0, PSTR(""), 1, &s, 0, &pt, 0, &g };
	struct hello_msg	 h = { PSTR("ctl"), PSTR("n"), 1, 1,
				     PSTR(""), 0 };
	struct stat_kv		 kv = { PSTR(""), 1 };
	struct stats_msg	 st = { 1, &kv };
	struct tap_msg		 tap = { PSTR("p"), PSTR("sideways"), 0, NULL,
				     0 };
	struct loglevel_msg	 ll = { LOG_CRIT };
	msgpack_sbuffer		 sb;
	int			 i;

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	for (i = 0; i <= BODY_MAX_LABELS; i++)
		l[i] = (struct label){ PSTR("k"), PSTR("v") };
	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_write(&sb, "prefix", 6);

	CHECK_INT(body_encode_samples(&sb, &m), 0);
	sb.size = 6;
	s.nlabels = BODY_MAX_LABELS + 1;
	CHECK_INT(body_encode_samples(&sb, &m), -1);
	s.nlabels = 1;
	l[0].v = (struct pstr){ longname, BODY_MAX_LABELVAL + 1 };
	CHECK_INT(body_encode_samples(&sb, &m), -1);
	l[0].v = (struct pstr){ longname, BODY_MAX_LABELVAL };
	CHECK_INT(body_encode_samples(&sb, &m), 0);
	sb.size = 6;
	l[0].k = (struct pstr){ longname, BODY_MAX_NAME + 1 };
	CHECK_INT(body_encode_samples(&sb, &m), -1);
	l[0].k = PSTR("");
	CHECK_INT(body_encode_samples(&sb, &m), -1);
	l[0].k = PSTR("k");
	s.name = PSTR("");
	CHECK_INT(body_encode_samples(&sb, &m), -1);
	s.name = PSTR("m");
	m.npoints = 1;		/* idx 1 of 1 series */
	CHECK_INT(body_encode_samples(&sb, &m), -1);
	m.npoints = 0;
	m.ngaps = 1;		/* from after to */
	CHECK_INT(body_encode_samples(&sb, &m), -1);
	m.ngaps = 0;
	m.device = (struct pstr){ longname, BODY_MAX_NAME + 1 };
	CHECK_INT(body_encode_samples(&sb, &m), -1);

	h.name = (struct pstr){ longname, BODY_MAX_NAME + 1 };
	CHECK_INT(body_encode_hello(&sb, &h), -1);
	CHECK_INT(body_encode_stats(&sb, &st), -1);
	CHECK_INT(body_encode_tap(&sb, &tap), -1);
	CHECK_INT(body_encode_loglevel(&sb, &ll), -1);
	/* Nothing was appended by the refusals. */
	CHECK_INT(sb.size, 6);
	msgpack_sbuffer_destroy(&sb);
}

static char	*jout;		/* json's buffer, reused across calls */

static const char *
json(const char *spec)
{
	size_t	len;

	mp(spec);
	if (body_to_json((const uint8_t *)tb.data, tb.size, &jout, &len, err,
	    sizeof(err)) == -1)
		return "(error)";
	if (len != strlen(jout))
		return "(bad length)";
	return jout;
}

/*
 * CHECK_STR would print the whole expression; these strings are long, so
 * the report shows the start of each side instead.
 */
#define CHECK_JSON(spec, want) do {					\
	const char *_got = json(spec), *_want = (want);			\
	if (strcmp(_got, _want) != 0)					\
		UNIT_FAIL("json: got %.220s want %.220s", _got, _want);	\
} while (0)

TEST(to_json)
{
	char	*out = NULL;
	size_t	 len = 99;

	CHECK_JSON("{'a':1, 'b':[-2, 1.5, nil, true, false], "
	    "'s':'q\"\\\\\\n\\x01\\x7f\xc3\xa9\\xff\\xc3', "
	    "'bin':b'\\x00\\x01\\x02', "
	    "3:f0.1, nil:'x', [1,'a']:2, b'k':{}, "
	    "'nan':x'cb7ff8000000000000', 'inf':x'ca7f800000', "
	    "'d':[0.1, 0.30000000000000004, 1e300, -0.0, 123456789012.5], "
	    "'big':[18446744073709551615, -9223372036854775808], "
	    "'ext':x'd405aa'}",
	    "{\"a\":1,\"b\":[-2,1.5,null,true,false],"
	    "\"s\":\"q\\\"\\\\\\n\\u0001\x7f\xc3\xa9\\ufffd\\ufffd\","
	    "\"bin\":\"AAEC\","
	    "\"3\":0.1,\"null\":\"x\",\"[1,\\\"a\\\"]\":2,\"aw==\":{},"
	    "\"nan\":null,\"inf\":null,"
	    "\"d\":[0.1,0.30000000000000004,1e+300,-0,123456789012.5],"
	    "\"big\":[18446744073709551615,-9223372036854775808],"
	    "\"ext\":{\"ext\":5,\"data\":\"qg==\"}}");
	CHECK_JSON("{}", "{}");
	CHECK_JSON("'\\t\\x1f\\x08\\x0c\\r'", "\"\\t\\u001f\\b\\f\\r\"");
	/* Overlong, surrogate and out-of-range sequences are invalid. */
	CHECK_JSON("'\\xc0\\x80\\xed\\xa0\\x80\\xf4\\x90\\x80\\x80'",
	    "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"
	    "\\ufffd\\ufffd\\ufffd\\ufffd\"");
	CHECK_JSON("'\xf0\x9f\x90\xa6'", "\"\xf0\x9f\x90\xa6\"");
	CHECK_JSON("[b'', b'a', b'ab', b'abc']",
	    "[\"\",\"YQ==\",\"YWI=\",\"YWJj\"]");

	/* Refuses what the check refuses, and leaves *out usable. */
	mp("x'cd 01'");
	CHECK_INT(body_to_json((const uint8_t *)tb.data, tb.size, &out, &len,
	    err, sizeof(err)), -1);
	CHECK_HAS(err, "truncated");
	CHECK_INT(len, 0);
	mp("'x'*1000");
	CHECK_INT(body_to_json((const uint8_t *)tb.data, tb.size, &out, &len,
	    err, sizeof(err)), 0);
	CHECK_INT(len, 1002);
	mp("[1]");
	CHECK_INT(body_to_json((const uint8_t *)tb.data, tb.size, &out, &len,
	    err, sizeof(err)), 0);
	CHECK_STR(out, "[1]");
	free(out);
	free(jout);
	jout = NULL;
}

TEST(pstr)
{
	struct pstr	e = { NULL, 0 };

	CHECK(pstr_eq(PSTR("abc"), "abc"));
	CHECK(!pstr_eq(PSTR("abc"), "ab"));
	CHECK(!pstr_eq(PSTR("ab"), "abc"));
	CHECK(!pstr_eq(PSTR("abd"), "abc"));
	CHECK(pstr_eq(e, ""));
	CHECK(!pstr_eq(e, "a"));
}

int
main(void)
{
	msgpack_sbuffer_init(&tb);
	if ((dec = body_dec_new()) == NULL)
		return 1;
	RUN(check_accepts_every_format);
	RUN(check_rejects);
	RUN(check_nesting_limit);
	RUN(huge_count_fails_before_msgpack);
	RUN(samples_roundtrip);
	RUN(samples_accepts);
	RUN(samples_rejects);
	RUN(truncated_bodies);
	RUN(scratch_reuse);
	RUN(scratch_trim);
	RUN(hello);
	RUN(small_messages);
	RUN(stats);
	RUN(tap);
	RUN(encoders_enforce_limits);
	RUN(to_json);
	RUN(pstr);
	body_dec_free(dec);
	body_dec_free(NULL);
	msgpack_sbuffer_destroy(&tb);
	return UNIT_DONE();
}
