/*
 * chunk.h -- the compressed encoding of one series' samples.
 *
 * Raw samples live in SQLite as chunks: one BLOB per series per span of
 * time, holding that series' samples in ascending timestamp order, encoded
 * so that a regular series costs one or two bytes per sample instead of the
 * 20-odd bytes of a (series, ts, value) row.  The encoding is byte-aligned
 * (simpler and faster to decode than Gorilla's bit stream, at a small cost
 * in size):
 *
 *   header   varint  count              number of samples, >= 1
 *            zigzag  first_ts           ms since the epoch
 *            8 bytes first value        IEEE-754 bits, little-endian
 *   then for each following sample:
 *            zigzag  delta-of-delta of the timestamp (0 for a regular series;
 *                    the delta before the second sample counts as 0, so
 *                    the second sample stores its plain delta)
 *            value   XOR of its bits with the previous value's bits:
 *                      0x00                    XOR is zero (value repeated)
 *                      (lz << 4 | tz), bytes   lz = leading zero bytes (0..7),
 *                                              tz = trailing zero bytes
 *                                              (0..7), then the 8-lz-tz
 *                                              middle bytes, most
 *                                              significant first.  lz+tz < 8,
 *                                              and the byte is never 0x00
 *                                              because XOR != 0 means 8-lz-tz
 *                                              >= 1; (0,0) is written 0x88.
 *
 * Timestamps within a chunk are strictly increasing (duplicates are removed
 * before encoding).  A decoder rejects anything that does not parse exactly:
 * truncated input, trailing bytes, a count above CHUNK_MAX_SAMPLES, a
 * timestamp that does not increase, or a bad control byte.
 */
#ifndef TERN_CHUNK_H
#define TERN_CHUNK_H

#include <stddef.h>
#include <stdint.h>

/*
 * A chunk holds at most this many samples.  Compaction cuts a series into
 * chunks of this size so a read of the last hour decodes a chunk or two,
 * and so a chunk of a 1 s series (about 1.5 KiB) fits a 4 KiB page.
 */
#define CHUNK_MAX_SAMPLES	4096

/* The largest encoding of n samples: header plus worst-case per sample. */
#define CHUNK_MAX_BYTES(n)	(10 + 10 + 8 + (size_t)(n) * (10 + 9))

/*
 * Encodes n >= 1 samples (ts strictly increasing) into out, which must hold
 * CHUNK_MAX_BYTES(n) bytes.  Returns the encoded length, or 0 if n is 0,
 * n exceeds CHUNK_MAX_SAMPLES or the timestamps do not increase.
 */
size_t	chunk_encode(const int64_t *ts, const double *v, size_t n,
	    uint8_t *out);

/*
 * Decodes a chunk.  ts and v must hold max entries.  Returns the number of
 * samples decoded (>= 1), or -1 with a reason in err when the chunk is
 * malformed or holds more than max samples.
 */
long	chunk_decode(const uint8_t *p, size_t n, int64_t *ts, double *v,
	    size_t max, char *err, size_t errlen);

/* The sample count from a chunk's header, or -1 if it is malformed. */
long	chunk_count(const uint8_t *p, size_t n);

/*
 * A packed head row holds a commit's short runs of many series in one
 * BLOB (store.c says when a run is packed), so that a commit of a round
 * of a few hundred series adds one row instead of a row per series:
 *
 *   header   zigzag  base               ms since the epoch
 *   then entries, series strictly ascending, to the end of the BLOB:
 *            varint  series             the first entry's id, then the
 *                                       difference from the previous (>= 1)
 *            varint  count              1 .. CHUNK_MAX_SAMPLES
 *            count x zigzag  ts - base  strictly increasing
 *                    8 bytes value      IEEE-754 bits, little-endian
 *
 * A row holds at least one entry.  A round of samples taken at the same
 * time costs some 11 bytes a sample:
 * no value compression, since an entry holds a sample or two.  Decoders
 * reject what does not parse exactly, as chunk_decode does.
 */
#define PACK_HEADER_MAX_BYTES	10
#define PACK_ENTRY_MAX_BYTES(n)	(10 + 10 + (size_t)(n) * (10 + 8))

struct pack_iter {
	const uint8_t	*p, *end;
	int64_t		 base;
	int64_t		 series;	/* of the entry last read */
	int64_t		 first, last;	/* its first and last ts */
	size_t		 idx;
};

/* Writes the header into out (PACK_HEADER_MAX_BYTES); returns its length. */
size_t	pack_begin(uint8_t *out, int64_t base);

/*
 * Appends the entry of series (> prev, the previous entry's series or 0)
 * with n samples (ts strictly increasing) to out, which must hold
 * PACK_ENTRY_MAX_BYTES(n).  Returns its length, 0 on bad arguments.
 */
size_t	pack_put(uint8_t *out, int64_t prev, int64_t series, int64_t base,
	    const int64_t *ts, const double *v, size_t n);

/* Reads a packed row's header; -1 with a reason in err. */
int	pack_open(struct pack_iter *, const uint8_t *p, size_t n, char *err,
	    size_t errlen);

/*
 * Decodes the next entry into *series and ts, v (max entries each).
 * Returns its sample count, 0 at the end of the row, -1 with a reason.
 */
long	pack_next(struct pack_iter *, int64_t *series, int64_t *ts,
	    double *v, size_t max, char *err, size_t errlen);

/*
 * Decodes the entry of series from a packed row.  Returns its sample count,
 * 0 if the row holds none of it, -1 with a reason (entries before it are
 * validated too).
 */
long	pack_find(const uint8_t *p, size_t n, int64_t series, int64_t *ts,
	    double *v, size_t max, char *err, size_t errlen);

/*
 * The first and last timestamps of series' entry in a packed row, without
 * decoding the values.  Returns the count, 0 if absent, -1 if corrupt.
 */
long	pack_span(const uint8_t *p, size_t n, int64_t series, int64_t *first,
	    int64_t *last);

/*
 * A head row's samples of series: a row of one series (row_series ==
 * series) is a chunk, a packed row (row_series 0) is searched.  Returns
 * the count, 0 if the row holds none of series, -1 with a reason.
 */
long	head_decode(int64_t row_series, int64_t series, const uint8_t *p,
	    size_t n, int64_t *ts, double *v, size_t max, char *err,
	    size_t errlen);

#endif
