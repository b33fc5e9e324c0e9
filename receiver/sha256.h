/*
 * sha256.h -- SHA-256 (FIPS 180-4) and a constant-time comparison, for the
 * receiver's device tokens.
 *
 * Why our own: the token check is the only hash tern needs, OpenSSL is not
 * among our dependencies, and neither libsystemd nor libcurl exports one.
 * The implementation is the textbook one, checked against the FIPS 180-2
 * and NIST CAVS vectors in test/unit/test_receiver_sha256.c.  No I/O.
 */
#ifndef TERN_SHA256_H
#define TERN_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN	32

struct sha256 {
	uint32_t	h[8];
	uint64_t	nbytes;
	uint8_t		buf[64];
	size_t		nbuf;
};

void	sha256_init(struct sha256 *);
void	sha256_update(struct sha256 *, const void *p, size_t n);
/* Writes the digest into out and leaves the context unusable. */
void	sha256_final(struct sha256 *, uint8_t out[SHA256_LEN]);
/* The digest of p[0..n) in one call. */
void	sha256(const void *p, size_t n, uint8_t out[SHA256_LEN]);

/*
 * 0 when a[0..n) equals b[0..n), else nonzero.  The time taken depends on
 * n only, never on where the first difference is, so a client cannot
 * learn a stored hash byte by byte from response times.
 */
int	sha256_ct_compare(const void *a, const void *b, size_t n);

/*
 * Parses exactly 64 hex digits (either case) into out.  Returns 0, or -1
 * for anything else.
 */
int	sha256_from_hex(const char *s, size_t n, uint8_t out[SHA256_LEN]);
/* Writes the 64 lowercase hex digits and a NUL into out[65]. */
void	sha256_to_hex(const uint8_t d[SHA256_LEN], char out[65]);

#endif
