/*
 * payload.c -- see payload.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "payload.h"

/*
 * gzip level 6 (zlib's default): on a batch of metrics JSON it gets within
 * a few percent of level 9 at a third of the CPU, which matters on a
 * single-core board that also encodes video.
 */
#define PAYLOAD_GZIP_LEVEL	6

/* msgpack_sbuffer_write returns 0 or -1, and only fails on ENOMEM. */
static int
put(msgpack_sbuffer *out, const char *s, size_t n)
{
	/* msgpack-c would memcpy 0 bytes to a NULL buffer: undefined. */
	if (n == 0)
		return 0;
	return msgpack_sbuffer_write(out, s, n) == 0 ? 0 : -1;
}

static int
puts_(msgpack_sbuffer *out, const char *s)
{
	return put(out, s, strlen(s));
}

char *
payload_rfc3339(int64_t ms, char *out)
{
	struct tm	tm;
	time_t		secs;
	int64_t		frac;
	char		buf[64];	/* roomy: the compiler cannot see the
					   year check below */

	/* Floor division, so -1 ms is 23:59:59.999 of the day before. */
	secs = (time_t)(ms / 1000);
	frac = ms % 1000;
	if (frac < 0) {
		frac += 1000;
		secs--;
	}
	if (gmtime_r(&secs, &tm) == NULL ||
	    tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
		snprintf(out, PAYLOAD_TS_LEN, "1970-01-01T00:00:00.000Z");
		return out;
	}
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)frac);
	memcpy(out, buf, PAYLOAD_TS_LEN - 1);
	out[PAYLOAD_TS_LEN - 1] = '\0';
	return out;
}

/*
 * Length of the valid UTF-8 sequence at s[0..n), or 0 if it is not one
 * (overlong forms, surrogates and values above U+10FFFF included).
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	uint32_t	cp;
	size_t		len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* A JSON string, quotes included. */
static int
put_str(msgpack_sbuffer *out, const char *p, size_t n)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*s = (const unsigned char *)p;
	size_t			 i = 0, run, k;
	char			 esc[7];
	int			 rc = put(out, "\"", 1);

	while (i < n && rc == 0) {
		/* Copy the longest run that needs no escaping in one go. */
		for (run = i; run < n && s[run] >= 0x20 && s[run] < 0x80 &&
		    s[run] != '"' && s[run] != '\\'; run++)
			;
		if (run > i) {
			rc |= put(out, p + i, run - i);
			i = run;
			continue;
		}
		switch (s[i]) {
		case '"':
			rc |= put(out, "\\\"", 2);
			break;
		case '\\':
			rc |= put(out, "\\\\", 2);
			break;
		case '\n':
			rc |= put(out, "\\n", 2);
			break;
		case '\r':
			rc |= put(out, "\\r", 2);
			break;
		case '\t':
			rc |= put(out, "\\t", 2);
			break;
		default:
			if (s[i] < 0x20) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[s[i] >> 4];
				esc[5] = hex[s[i] & 15];
				rc |= put(out, esc, 6);
				break;
			}
			if ((k = utf8_len(s + i, n - i)) == 0) {
				rc |= puts_(out, "\\ufffd");
				break;
			}
			rc |= put(out, p + i, k);
			i += k;
			continue;
		}
		i++;
	}
	rc |= put(out, "\"", 1);
	return rc;
}

/* The shortest %g rendering that strtod reads back as v (v is finite). */
static int
put_num(msgpack_sbuffer *out, double v)
{
	char	buf[40];
	int	prec;

	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return puts_(out, buf);
}

int
payload_json(const struct samples_msg *m, const char *device, int64_t now_ms,
    msgpack_sbuffer *out, uint32_t *skipped)
{
	const struct series_ref	*s;
	const struct point	*pt;
	char			 ts[PAYLOAD_TS_LEN];
	uint32_t		 i, j, nskip = 0;
	int			 first = 1, rc = 0;

	rc |= puts_(out, "{\"device_id\":");
	if (m->device.n > 0)
		rc |= put_str(out, m->device.p, m->device.n);
	else
		rc |= put_str(out, device, strlen(device));
	rc |= puts_(out, ",\"timestamp\":\"");
	rc |= puts_(out, payload_rfc3339(now_ms, ts));
	rc |= puts_(out, "\",\"metrics\":[");
	for (i = 0; i < m->npoints && rc == 0; i++) {
		pt = &m->points[i];
		if (!isfinite(pt->value) || pt->idx >= m->nseries) {
			nskip++;
			continue;
		}
		s = &m->series[pt->idx];
		rc |= puts_(out, first ? "{\"name\":" : ",{\"name\":");
		first = 0;
		rc |= put_str(out, s->name.p, s->name.n);
		rc |= puts_(out, ",\"value\":");
		rc |= put_num(out, pt->value);
		rc |= puts_(out, ",\"timestamp\":\"");
		rc |= puts_(out, payload_rfc3339(pt->ts, ts));
		rc |= put(out, "\"", 1);
		if (s->nlabels > 0) {
			rc |= puts_(out, ",\"labels\":{");
			for (j = 0; j < s->nlabels; j++) {
				if (j > 0)
					rc |= put(out, ",", 1);
				rc |= put_str(out, s->labels[j].k.p,
				    s->labels[j].k.n);
				rc |= put(out, ":", 1);
				rc |= put_str(out, s->labels[j].v.p,
				    s->labels[j].v.n);
			}
			rc |= put(out, "}", 1);
		}
		rc |= put(out, "}", 1);
	}
	rc |= puts_(out, "]}");
	if (skipped != NULL)
		*skipped = nskip;
	return rc == 0 ? 0 : -1;
}

int
payload_gzip(const void *in, size_t n, msgpack_sbuffer *out)
{
	z_stream	z;
	uLong		bound;
	size_t		start = out->size;
	int		rc;

	memset(&z, 0, sizeof(z));
	/* 15 + 16: a 32 KiB window with a gzip header and trailer. */
	if (deflateInit2(&z, PAYLOAD_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	/* deflateBound is exact enough to compress in one call. */
	bound = deflateBound(&z, (uLong)n);
	if (out->alloc - out->size < bound) {
		size_t	 need = out->size + bound;
		char	*p = realloc(out->data, need);

		if (p == NULL) {
			deflateEnd(&z);
			return -1;
		}
		out->data = p;
		out->alloc = need;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)out->data + out->size;
	z.avail_out = (uInt)(out->alloc - out->size);
	rc = deflate(&z, Z_FINISH);
	if (rc != Z_STREAM_END) {
		deflateEnd(&z);
		out->size = start;
		return -1;
	}
	out->size += z.total_out;
	deflateEnd(&z);
	return 0;
}

int
payload_gunzip(const void *in, size_t n, size_t max, msgpack_sbuffer *out)
{
	z_stream	z;
	char		buf[16384];
	size_t		start = out->size, got = 0, k;
	int		rc;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return -1;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	do {
		z.next_out = (Bytef *)buf;
		z.avail_out = sizeof(buf);
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END)
			break;
		k = sizeof(buf) - z.avail_out;
		got += k;
		if (got > max || (k > 0 &&
		    msgpack_sbuffer_write(out, buf, k) != 0)) {
			rc = Z_MEM_ERROR;
			break;
		}
	} while (rc == Z_OK && (z.avail_in > 0 || z.avail_out == 0));
	inflateEnd(&z);
	if (rc != Z_STREAM_END) {
		out->size = start;
		return -1;
	}
	return 0;
}
