/*
 * chunk.c -- encoder and decoder for the chunk format described in chunk.h.
 *
 * Two properties shape this file.
 *
 * Speed: the writer encodes every sample it compacts and decodes every chunk
 * a query touches, so both directions run in one pass with no allocation,
 * and the common cases (a one-byte timestamp varint, a value that repeats)
 * take the shortest path.
 *
 * Canonical form: every sequence of samples has exactly one encoding, and
 * the decoder accepts only that encoding.  Overlong varints, a varint whose
 * tenth byte carries bits beyond 64, and a control byte that claims fewer
 * zero bytes than the XOR really has are all rejected.  That makes "decode,
 * re-encode, compare" an exact test (the fuzz target relies on it) and
 * means two chunks hold the same samples if and only if their bytes are
 * equal.
 *
 * Timestamp arithmetic is done in uint64_t, where wrap-around is defined.
 * A delta between two int64_t timestamps that strictly increase lies in
 * [1, 2^64 - 1], so it fits a uint64_t exactly; the delta-of-delta is taken
 * modulo 2^64 and stored as the int64_t with those bits, which is a
 * bijection, so a decoder recovers the delta by adding modulo 2^64.  Series
 * that jump across the whole int64_t range therefore encode like any other;
 * they just cost ten bytes for that sample.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "chunk.h"

/* A uint64_t needs at most ten 7-bit groups; the tenth holds only bit 63. */
#define VARINT_MAX_LEN	10

/* The value control byte for "XOR is zero", and for lz = tz = 0. */
#define CTL_REPEAT	0x00
#define CTL_FULL	0x88

/*
 * Inlining the walker into both chunk_decode and chunk_count lets the
 * compiler drop the stores from chunk_count; without it the hot loop would
 * test a flag per sample.
 */
#if defined(__GNUC__)
#define CHUNK_INLINE	static inline __attribute__((always_inline))
#else
#define CHUNK_INLINE	static inline
#endif

static uint64_t
zigzag(uint64_t u)
{
	/* The int64_t with bits u, sign folded into bit 0, without signed ops. */
	return (u << 1) ^ (0 - (u >> 63));
}

static uint64_t
unzigzag(uint64_t z)
{
	return (z >> 1) ^ (0 - (z & 1));
}

static uint8_t *
put_varint(uint8_t *o, uint64_t x)
{
	while (x >= 0x80) {
		*o++ = (uint8_t)(x | 0x80);
		x >>= 7;
	}
	*o++ = (uint8_t)x;
	return o;
}

/*
 * Byte-by-byte loads and stores: compilers turn these into one unaligned
 * move (and a bswap where needed), and they are correct on any host
 * byte order and alignment.
 */
static void
put_le64(uint8_t *o, uint64_t x)
{
	for (int i = 0; i < 8; i++)
		o[i] = (uint8_t)(x >> (8 * i));
}

static uint64_t
get_le64(const uint8_t *p)
{
	uint64_t x = 0;

	for (int i = 0; i < 8; i++)
		x |= (uint64_t)p[i] << (8 * i);
	return x;
}

static void
put_be64(uint8_t *o, uint64_t x)
{
	for (int i = 0; i < 8; i++)
		o[i] = (uint8_t)(x >> (56 - 8 * i));
}

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t x = 0;

	for (int i = 0; i < 8; i++)
		x = x << 8 | p[i];
	return x;
}

static uint64_t
dbits(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static double
bitsd(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

size_t
chunk_encode(const int64_t *ts, const double *v, size_t n, uint8_t *out)
{
	uint8_t		*o = out;
	uint64_t	 prev_ts, prev_delta = 0, prev_bits;

	if (n == 0 || n > CHUNK_MAX_SAMPLES)
		return 0;

	o = put_varint(o, n);
	o = put_varint(o, zigzag((uint64_t)ts[0]));
	prev_bits = dbits(v[0]);
	put_le64(o, prev_bits);
	o += 8;
	prev_ts = (uint64_t)ts[0];

	for (size_t i = 1; i < n; i++) {
		uint64_t delta, dod, bits, x;

		if (ts[i] <= ts[i - 1])
			return 0;
		delta = (uint64_t)ts[i] - prev_ts;
		dod = delta - prev_delta;
		if (dod == 0)
			*o++ = 0;
		else
			o = put_varint(o, zigzag(dod));
		prev_ts = (uint64_t)ts[i];
		prev_delta = delta;

		bits = dbits(v[i]);
		x = bits ^ prev_bits;
		prev_bits = bits;
		if (x == 0) {
			*o++ = CTL_REPEAT;
		} else {
			unsigned lz = (unsigned)__builtin_clzll(x) >> 3;
			unsigned tz = (unsigned)__builtin_ctzll(x) >> 3;
			unsigned nb = 8 - lz - tz;

			*o++ = (lz | tz) ? (uint8_t)(lz << 4 | tz) : CTL_FULL;
			/*
			 * One 8-byte store, of which the first nb bytes count.
			 * It stays inside CHUNK_MAX_BYTES(n): that bound leaves
			 * 19 bytes per sample plus a spare 19, and at most 11
			 * of this sample's have been used before this store.
			 */
			put_be64(o, (x >> (8 * tz)) << (8 * (8 - nb)));
			o += nb;
		}
	}
	return (size_t)(o - out);
}

/* Writes a reason into err, if the caller gave room for one. */
static void __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The index passed to get_varint for a header field, which has none. */
#define NO_INDEX	((size_t)-1)

/* Names the field of a varint error: "sample count" or "timestamp 12". */
static void __attribute__((format(printf, 5, 6)))
fail_field(char *err, size_t errlen, const char *what, size_t idx,
    const char *fmt, ...)
{
	va_list	ap;
	int	len;

	if (err == NULL || errlen == 0)
		return;
	if (idx == NO_INDEX)
		len = snprintf(err, errlen, "%s: ", what);
	else
		len = snprintf(err, errlen, "%s %zu: ", what, idx);
	if (len < 0 || (size_t)len >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + len, errlen - (size_t)len, fmt, ap);
	va_end(ap);
}

/*
 * Reads the varint at *pp.  Returns 0 and advances *pp, or -1 with a reason
 * naming the field (`what`, and `idx` unless it is NO_INDEX) so that a log
 * line says where a chunk went wrong.  Only the shortest encoding of a value
 * is accepted.
 */
CHUNK_INLINE int
get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out,
    const char *what, size_t idx, char *err, size_t errlen)
{
	const uint8_t	*p = *pp;
	uint64_t	 x = 0;

	/* Most timestamps of a regular series are a single zero byte. */
	if (p < end && *p < 0x80) {
		*out = *p;
		*pp = p + 1;
		return 0;
	}
	for (int i = 0; ; i++) {
		uint8_t b;

		if (p >= end) {
			fail_field(err, errlen, what, idx, "truncated varint");
			return -1;
		}
		b = *p++;
		if (i == VARINT_MAX_LEN - 1) {
			if (b & 0x80) {
				fail_field(err, errlen, what, idx, "varint "
				    "longer than %d bytes", VARINT_MAX_LEN);
				return -1;
			}
			if (b > 1) {
				fail_field(err, errlen, what, idx,
				    "varint overflows 64 bits");
				return -1;
			}
		}
		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			if (b == 0 && i > 0) {
				fail_field(err, errlen, what, idx,
				    "overlong varint");
				return -1;
			}
			*out = x;
			*pp = p;
			return 0;
		}
	}
}

/*
 * The one parser behind chunk_decode and chunk_count: validates the whole
 * chunk and, when `store` is set, fills ts and v.  Returns the count or -1.
 */
CHUNK_INLINE long
chunk_walk(const uint8_t *p, size_t n, int64_t *ts, double *v, size_t max,
    char *err, size_t errlen, int store)
{
	const uint8_t	*end;
	uint64_t	 count, z, prev_ts, prev_delta = 0, prev_bits;

	/* Even p + 0 is undefined for a null p, so test before computing end. */
	if (p == NULL || n == 0) {
		fail(err, errlen, "sample count: truncated varint (empty chunk)");
		return -1;
	}
	end = p + n;
	if (get_varint(&p, end, &count, "sample count", NO_INDEX, err,
	    errlen) == -1)
		return -1;
	if (count == 0) {
		fail(err, errlen, "sample count is 0");
		return -1;
	}
	if (count > CHUNK_MAX_SAMPLES) {
		fail(err, errlen, "sample count %llu above the limit of %d",
		    (unsigned long long)count, CHUNK_MAX_SAMPLES);
		return -1;
	}
	if (count > max) {
		fail(err, errlen, "sample count %llu above max %zu",
		    (unsigned long long)count, max);
		return -1;
	}
	if (get_varint(&p, end, &z, "timestamp", 0, err, errlen) == -1)
		return -1;
	if (end - p < 8) {
		fail(err, errlen, "truncated first value");
		return -1;
	}
	prev_ts = unzigzag(z);
	prev_bits = get_le64(p);
	p += 8;
	if (store) {
		ts[0] = (int64_t)prev_ts;
		v[0] = bitsd(prev_bits);
	}

	for (size_t i = 1; i < count; i++) {
		uint64_t delta, room, x;
		unsigned c, lz, tz, nb;

		if (get_varint(&p, end, &z, "timestamp", i, err, errlen) == -1)
			return -1;
		delta = prev_delta + unzigzag(z);
		if (delta == 0) {
			fail(err, errlen, "timestamp %zu does not increase", i);
			return -1;
		}
		/*
		 * INT64_MAX - prev_ts is in [0, 2^64 - 1] for any int64_t
		 * prev_ts, so the uint64_t subtraction gives it exactly.
		 */
		room = (uint64_t)INT64_MAX - prev_ts;
		if (delta > room) {
			fail(err, errlen, "timestamp %zu overflows int64", i);
			return -1;
		}
		prev_ts += delta;
		prev_delta = delta;

		if (p >= end) {
			fail(err, errlen, "truncated value %zu", i);
			return -1;
		}
		c = *p++;
		if (c != CTL_REPEAT) {
			if (c == CTL_FULL) {
				lz = tz = 0;
			} else if (c & 0x88) {
				fail(err, errlen, "bad control byte 0x%02x "
				    "in value %zu", c, i);
				return -1;
			} else {
				lz = c >> 4;
				tz = c & 0x07;
				if (lz + tz >= 8) {
					fail(err, errlen, "bad control byte "
					    "0x%02x in value %zu: lz+tz >= 8",
					    c, i);
					return -1;
				}
			}
			nb = 8 - lz - tz;
			if ((size_t)(end - p) < nb) {
				fail(err, errlen, "truncated value %zu", i);
				return -1;
			}
			/* One load when the input has 8 bytes left. */
			if (end - p >= 8)
				x = get_be64(p) >> (8 * (8 - nb));
			else {
				x = 0;
				for (unsigned k = 0; k < nb; k++)
					x = x << 8 | p[k];
			}
			if ((x >> (8 * (nb - 1))) == 0 || (x & 0xff) == 0) {
				fail(err, errlen, "control byte 0x%02x of value "
				    "%zu is not minimal", c, i);
				return -1;
			}
			p += nb;
			prev_bits ^= x << (8 * tz);
		}
		if (store) {
			ts[i] = (int64_t)prev_ts;
			v[i] = bitsd(prev_bits);
		}
	}
	if (p != end) {
		fail(err, errlen, "%zu trailing bytes after %llu samples",
		    (size_t)(end - p), (unsigned long long)count);
		return -1;
	}
	return (long)count;
}

long
chunk_decode(const uint8_t *p, size_t n, int64_t *ts, double *v, size_t max,
    char *err, size_t errlen)
{
	return chunk_walk(p, n, ts, v, max, err, errlen, 1);
}

/*
 * The count is returned only for a chunk that chunk_decode would accept
 * with max CHUNK_MAX_SAMPLES, not read from the header alone: a caller that
 * sizes a buffer from it and then decodes gets the same answer twice.  A
 * full walk without stores runs at well over 100 million samples a second,
 * so the check costs little.
 */
long
chunk_count(const uint8_t *p, size_t n)
{
	return chunk_walk(p, n, NULL, NULL, CHUNK_MAX_SAMPLES, NULL, 0, 0);
}

/* --- packed head rows (chunk.h) --- */

size_t
pack_begin(uint8_t *out, int64_t base)
{
	return (size_t)(put_varint(out, zigzag((uint64_t)base)) - out);
}

size_t
pack_put(uint8_t *out, int64_t prev, int64_t series, int64_t base,
    const int64_t *ts, const double *v, size_t n)
{
	uint8_t	*o = out;
	size_t	 i;

	if (series <= prev || prev < 0 || n == 0 || n > CHUNK_MAX_SAMPLES)
		return 0;
	for (i = 1; i < n; i++)
		if (ts[i] <= ts[i - 1])
			return 0;
	o = put_varint(o, (uint64_t)(series - prev));
	o = put_varint(o, n);
	for (i = 0; i < n; i++) {
		o = put_varint(o, zigzag((uint64_t)ts[i] - (uint64_t)base));
		put_le64(o, dbits(v[i]));
		o += 8;
	}
	return (size_t)(o - out);
}

int
pack_open(struct pack_iter *it, const uint8_t *p, size_t n, char *err,
    size_t errlen)
{
	uint64_t	z;

	memset(it, 0, sizeof(*it));
	if (p == NULL || n == 0) {
		fail(err, errlen, "packed row: empty");
		return -1;
	}
	it->end = p + n;
	if (get_varint(&p, it->end, &z, "packed row base", NO_INDEX, err,
	    errlen) == -1)
		return -1;
	if (p == it->end) {
		fail(err, errlen, "packed row: no entries");
		return -1;
	}
	it->p = p;
	it->base = (int64_t)unzigzag(z);
	return 0;
}

/* The walker behind pack_next and pack_find; ts NULL only validates. */
static long
pack_walk(struct pack_iter *it, int64_t *series, int64_t *ts, double *v,
    size_t max, char *err, size_t errlen)
{
	const uint8_t	*p = it->p;
	uint64_t	 d, n, z, i;
	int64_t		 t, prev = 0;

	if (p == it->end)
		return 0;
	if (get_varint(&p, it->end, &d, "packed entry series", it->idx, err,
	    errlen) == -1 ||
	    get_varint(&p, it->end, &n, "packed entry count", it->idx, err,
	    errlen) == -1)
		return -1;
	if (d == 0 || d > (uint64_t)(INT64_MAX - it->series)) {
		fail(err, errlen, "packed entry %zu: series not ascending",
		    it->idx);
		return -1;
	}
	if (n == 0 || n > CHUNK_MAX_SAMPLES || (ts != NULL && n > max)) {
		fail(err, errlen, "packed entry %zu: %llu samples", it->idx,
		    (unsigned long long)n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (get_varint(&p, it->end, &z, "packed timestamp", it->idx,
		    err, errlen) == -1)
			return -1;
		t = (int64_t)((uint64_t)it->base + unzigzag(z));
		if (i > 0 && t <= prev) {
			fail(err, errlen, "packed entry %zu: timestamp %llu "
			    "not increasing", it->idx, (unsigned long long)i);
			return -1;
		}
		if ((size_t)(it->end - p) < 8) {
			fail(err, errlen, "packed entry %zu: truncated value",
			    it->idx);
			return -1;
		}
		if (ts != NULL) {
			ts[i] = t;
			v[i] = bitsd(get_le64(p));
		}
		p += 8;
		if (i == 0)
			it->first = t;
		prev = t;
	}
	it->last = prev;
	it->series += (int64_t)d;
	it->idx++;
	it->p = p;
	*series = it->series;
	return (long)n;
}

long
pack_next(struct pack_iter *it, int64_t *series, int64_t *ts, double *v,
    size_t max, char *err, size_t errlen)
{
	return pack_walk(it, series, ts, v, max, err, errlen);
}

long
pack_find(const uint8_t *p, size_t n, int64_t series, int64_t *ts, double *v,
    size_t max, char *err, size_t errlen)
{
	struct pack_iter	it, at;
	int64_t			s;
	long			k;

	if (pack_open(&it, p, n, err, errlen) == -1)
		return -1;
	for (;;) {
		at = it;
		/* Entries before it are validated, not stored. */
		if ((k = pack_walk(&it, &s, NULL, NULL, 0, err, errlen)) <= 0)
			return k;
		if (s == series)
			return pack_walk(&at, &s, ts, v, max, err, errlen);
		if (s > series)
			return 0;	/* ascending: it is not here */
	}
}

long
head_decode(int64_t row_series, int64_t series, const uint8_t *p, size_t n,
    int64_t *ts, double *v, size_t max, char *err, size_t errlen)
{
	if (row_series == 0)
		return pack_find(p, n, series, ts, v, max, err, errlen);
	if (row_series != series)
		return 0;
	return chunk_decode(p, n, ts, v, max, err, errlen);
}

long
pack_span(const uint8_t *p, size_t n, int64_t series, int64_t *first,
    int64_t *last)
{
	struct pack_iter	it;
	int64_t			s;
	long			k;

	if (pack_open(&it, p, n, NULL, 0) == -1)
		return -1;
	while ((k = pack_walk(&it, &s, NULL, NULL, 0, NULL, 0)) > 0) {
		if (s == series) {
			*first = it.first;
			*last = it.last;
			return k;
		}
		if (s > series)
			return 0;
	}
	return k;
}
