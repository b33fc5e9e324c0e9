/*
 * json.h -- a small JSON tokenizer for the srt source's stats documents.
 *
 * Why not jansson: the sampler reads one small document per round from a
 * trusted local server or file, and needs a handful of numbers out of it;
 * a tokenizer into a caller-provided array is 250 lines, allocates
 * nothing, and keeps the sampler's dependencies (and RSS) where they are.
 * It does no I/O.
 *
 * json_parse turns the text into a flat array of tokens in document
 * order.  A container's children follow it; tok.next is the index just
 * past its subtree, so siblings are walked by jumping to next.  In an
 * object the children alternate key (a string token) and value.
 */
#ifndef TERN_JSON_H
#define TERN_JSON_H

#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH	32

enum json_type {
	JSON_OBJECT = 1,
	JSON_ARRAY,
	JSON_STRING,
	JSON_NUMBER,
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL,
};

struct json_tok {
	uint8_t		type;		/* enum json_type */
	uint32_t	start, end;	/* bytes; a string's exclude quotes */
	uint32_t	next;		/* index after this token's subtree */
};

/*
 * Tokenizes s[0..n), which must be exactly one JSON value (blanks around
 * it allowed).  Returns the number of tokens, or -1 with a reason in err
 * (syntax error, more than max tokens, nesting deeper than
 * JSON_MAX_DEPTH, a document longer than 4 GiB).
 */
long	json_parse(const char *s, size_t n, struct json_tok *t, size_t max,
	    char *err, size_t errlen);

/* The value of key in the object at index obj, or -1. */
long	json_get(const char *s, const struct json_tok *t, long obj,
	    const char *key);

/* 1 when string token i equals str after unescaping (escapes compare
 * unequal except \" \\ \/). */
int	json_eq(const char *s, const struct json_tok *t, long i,
	    const char *str);

/* A number token (or a string holding one) as a double: 0, or -1. */
int	json_num(const char *s, const struct json_tok *t, long i, double *v);

/* A string token unescaped into out (cut at size-1; \u escapes become
 * UTF-8, surrogate pairs included); numbers are copied as written.
 * Returns 0, or -1 for other types. */
int	json_str(const char *s, const struct json_tok *t, long i, char *out,
	    size_t size);

#endif
