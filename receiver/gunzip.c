/*
 * gunzip.c -- see gunzip.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "gunzip.h"

int
gunzip(const uint8_t *in, size_t n, int gzip, size_t cap, uint8_t **out,
    size_t *outlen, char *err, size_t errlen)
{
	z_stream	 z;
	uint8_t		*buf = NULL, *nb;
	size_t		 size;
	int		 zr, rc = -1;

	*out = NULL;
	*outlen = 0;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, gzip ? 15 + 16 : 15) != Z_OK) {
		snprintf(err, errlen, "inflate: cannot initialise");
		return -1;
	}
	/* Start at four times the input: typical, and grows by doubling. */
	size = n < cap / 4 ? n * 4 + 256 : cap;
	if (size > cap)
		size = cap;
	if ((buf = malloc(size + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = buf;
	z.avail_out = (uInt)size;
	for (;;) {
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END)
			break;
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			snprintf(err, errlen, "corrupt %s body: %s",
			    gzip ? "gzip" : "deflate", z.msg ? z.msg : "error");
			goto out;
		}
		if (z.avail_out == 0) {
			if (size >= cap) {
				rc = -2;
				snprintf(err, errlen, "decompressed body larger "
				    "than %zu bytes", cap);
				goto out;
			}
			size_t	used = (size_t)(z.next_out - buf);

			size = size * 2 > cap ? cap : size * 2;
			if ((nb = realloc(buf, size + 1)) == NULL) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			z.next_out = nb + used;
			z.avail_out = (uInt)(size - used);
			buf = nb;
			continue;
		}
		if (z.avail_in == 0) {
			snprintf(err, errlen, "truncated %s body",
			    gzip ? "gzip" : "deflate");
			goto out;
		}
	}
	if (z.avail_in != 0) {
		snprintf(err, errlen, "bytes after the end of the %s stream",
		    gzip ? "gzip" : "deflate");
		goto out;
	}
	*outlen = z.total_out;
	buf[*outlen] = '\0';
	*out = buf;
	buf = NULL;
	rc = 0;
out:
	inflateEnd(&z);
	free(buf);
	return rc;
}
