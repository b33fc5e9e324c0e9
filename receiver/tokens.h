/*
 * tokens.h -- per-device bearer tokens, stored hashed.
 *
 * receiver.tokens_file has one line per device: "DEVICE_ID SHA256HEX",
 * the hex SHA-256 of the device's token.  Blank lines and lines starting
 * with '#' are skipped.  The token itself is never stored on the receiver,
 * so a leaked file does not let anyone send as a device.
 *
 * A request's "Authorization: Bearer TOKEN" is hashed and compared, in
 * constant time, against every stored hash (all of them, without stopping
 * at a match), so response times reveal neither which hash matched nor how
 * much of one did.  The device is the one on the matching line: identity
 * comes from the token, never from the body.
 */
#ifndef TERN_TOKENS_H
#define TERN_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

/* A device id is what device.id allows: 1 to 63 bytes. */
#define TOKENS_DEVICE_MAX	63
/* More lines than this is a configuration mistake, not a fleet. */
#define TOKENS_MAX		100000

struct token_ent {
	char	device[TOKENS_DEVICE_MAX + 1];
	uint8_t	hash[SHA256_LEN];
};

struct tokens {
	struct token_ent	*v;
	size_t			 n;
};

/*
 * Parses text[0..n) (the file's contents; name is used in messages) into
 * t, which need not be initialised.  Returns 0, or -1 with
 * "name:line: reason" in err and t empty.  Reasons: a line without
 * exactly two fields, a device id that is empty, too long or not
 * [A-Za-z0-9_.:-], a hash that is not 64 hex digits, a device given twice.
 */
int	tokens_parse(struct tokens *t, const char *name, const char *text,
	    size_t n, char *err, size_t errlen);

/* Reads path and parses it as above; unreadable files are errors too. */
int	tokens_load(struct tokens *t, const char *path, char *err,
	    size_t errlen);

void	tokens_free(struct tokens *t);

/*
 * The device whose stored hash is SHA-256(token[0..n)), or NULL.  The
 * returned string belongs to t.
 */
const char *tokens_lookup(const struct tokens *t, const char *token,
	    size_t n);

#endif
