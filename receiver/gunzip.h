/*
 * gunzip.h -- Content-Encoding: gzip (and deflate) with a cap on the
 * output, so a small compressed body cannot expand into gigabytes (a gzip
 * bomb).  No I/O.
 */
#ifndef TERN_GUNZIP_H
#define TERN_GUNZIP_H

#include <stddef.h>
#include <stdint.h>

/*
 * A decompressed body may be this many times receiver.max_body_bytes:
 * metrics compress 5 to 20 times, and the cap is what one request may
 * make the receiver hold.
 */
#define GUNZIP_FACTOR	4

/*
 * Inflates in[0..n) (gzip when gzip is 1, zlib's deflate format when 0)
 * into a buffer it allocates, *out (the caller frees it), *outlen bytes.
 * Returns 0; -1 with a reason for corrupt or truncated input or trailing
 * bytes; -2 when the output would pass cap bytes (nothing returned).
 */
int	gunzip(const uint8_t *in, size_t n, int gzip, size_t cap,
	    uint8_t **out, size_t *outlen, char *err, size_t errlen);

#endif
