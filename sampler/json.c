/*
 * json.c -- see json.h.  A recursive descent over RFC 8259, strict about
 * syntax (no trailing commas, no comments, no leading zeros), bounded by
 * the caller's token array and JSON_MAX_DEPTH.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct jp {
	const char	*s;
	size_t		 n, pos;
	struct json_tok	*t;
	size_t		 max, ntok;
	char		*err;
	size_t		 errlen;
};

static int	jp_value(struct jp *, int depth);

static int
jp_fail(struct jp *p, const char *what)
{
	snprintf(p->err, p->errlen, "%s at byte %zu", what, p->pos);
	return -1;
}

static void
jp_ws(struct jp *p)
{
	while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
	    p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static long
jp_tok(struct jp *p, int type)
{
	if (p->ntok == p->max)
		return -1;
	p->t[p->ntok].type = (uint8_t)type;
	p->t[p->ntok].start = (uint32_t)p->pos;
	p->t[p->ntok].end = (uint32_t)p->pos;
	p->t[p->ntok].next = (uint32_t)p->ntok + 1;
	return (long)p->ntok++;
}

static int
jp_hex4(const char *s)
{
	int	i, v = 0, c;

	for (i = 0; i < 4; i++) {
		c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static int
jp_string(struct jp *p)
{
	long	i;
	unsigned char c;

	p->pos++;		/* the quote */
	if ((i = jp_tok(p, JSON_STRING)) == -1)
		return jp_fail(p, "too many tokens");
	while (p->pos < p->n) {
		c = (unsigned char)p->s[p->pos];
		if (c == '"') {
			p->t[i].end = (uint32_t)p->pos++;
			return 0;
		}
		if (c < 0x20)
			return jp_fail(p, "control character in string");
		if (c == '\\') {
			if (p->pos + 1 >= p->n)
				break;
			c = (unsigned char)p->s[p->pos + 1];
			if (c == 'u') {
				if (p->pos + 6 > p->n ||
				    jp_hex4(p->s + p->pos + 2) == -1)
					return jp_fail(p, "bad \\u escape");
				p->pos += 6;
				continue;
			}
			if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
				return jp_fail(p, "bad escape");
			p->pos += 2;
			continue;
		}
		p->pos++;
	}
	return jp_fail(p, "unterminated string");
}

static int
jp_number(struct jp *p)
{
	size_t	st = p->pos;
	long	i;

#define DIGITS(p) while ((p)->pos < (p)->n && (p)->s[(p)->pos] >= '0' && \
	    (p)->s[(p)->pos] <= '9') (p)->pos++
	if ((i = jp_tok(p, JSON_NUMBER)) == -1)
		return jp_fail(p, "too many tokens");
	if (p->pos < p->n && p->s[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->n || p->s[p->pos] < '0' || p->s[p->pos] > '9')
		return jp_fail(p, "bad number");
	if (p->s[p->pos] == '0')
		p->pos++;
	else
		DIGITS(p);
	if (p->pos < p->n && p->s[p->pos] == '.') {
		p->pos++;
		st = p->pos;
		DIGITS(p);
		if (p->pos == st)
			return jp_fail(p, "bad fraction");
	}
	if (p->pos < p->n && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->n && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		st = p->pos;
		DIGITS(p);
		if (p->pos == st)
			return jp_fail(p, "bad exponent");
	}
#undef DIGITS
	p->t[i].end = (uint32_t)p->pos;
	return 0;
}

static int
jp_word(struct jp *p, const char *w, int type)
{
	size_t	n = strlen(w);
	long	i;

	if (p->n - p->pos < n || memcmp(p->s + p->pos, w, n) != 0)
		return jp_fail(p, "unexpected character");
	if ((i = jp_tok(p, type)) == -1)
		return jp_fail(p, "too many tokens");
	p->pos += n;
	p->t[i].end = (uint32_t)p->pos;
	return 0;
}

static int
jp_container(struct jp *p, int depth, int obj)
{
	long	i;
	char	close = obj ? '}' : ']';

	if (depth >= JSON_MAX_DEPTH)
		return jp_fail(p, "nested too deep");
	if ((i = jp_tok(p, obj ? JSON_OBJECT : JSON_ARRAY)) == -1)
		return jp_fail(p, "too many tokens");
	p->pos++;
	jp_ws(p);
	if (p->pos < p->n && p->s[p->pos] == close) {
		p->pos++;
		goto done;
	}
	for (;;) {
		jp_ws(p);
		if (obj) {
			if (p->pos >= p->n || p->s[p->pos] != '"')
				return jp_fail(p, "expected a key");
			if (jp_string(p) == -1)
				return -1;
			jp_ws(p);
			if (p->pos >= p->n || p->s[p->pos] != ':')
				return jp_fail(p, "expected ':'");
			p->pos++;
		}
		if (jp_value(p, depth + 1) == -1)
			return -1;
		jp_ws(p);
		if (p->pos < p->n && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->n && p->s[p->pos] == close) {
			p->pos++;
			break;
		}
		return jp_fail(p, obj ? "expected ',' or '}'" :
		    "expected ',' or ']'");
	}
done:
	p->t[i].end = (uint32_t)p->pos;
	p->t[i].next = (uint32_t)p->ntok;
	return 0;
}

static int
jp_value(struct jp *p, int depth)
{
	jp_ws(p);
	if (p->pos >= p->n)
		return jp_fail(p, "unexpected end");
	switch (p->s[p->pos]) {
	case '{':
		return jp_container(p, depth, 1);
	case '[':
		return jp_container(p, depth, 0);
	case '"':
		return jp_string(p);
	case 't':
		return jp_word(p, "true", JSON_TRUE);
	case 'f':
		return jp_word(p, "false", JSON_FALSE);
	case 'n':
		return jp_word(p, "null", JSON_NULL);
	default:
		return jp_number(p);
	}
}

long
json_parse(const char *s, size_t n, struct json_tok *t, size_t max,
    char *err, size_t errlen)
{
	struct jp	p = { s, n, 0, t, max, 0, err, errlen };

	if (n > UINT32_MAX) {
		snprintf(err, errlen, "document too long");
		return -1;
	}
	if (jp_value(&p, 0) == -1)
		return -1;
	jp_ws(&p);
	if (p.pos != n)
		return jp_fail(&p, "trailing characters");
	return (long)p.ntok;
}

int
json_eq(const char *s, const struct json_tok *t, long i, const char *str)
{
	const char	*p = s + t[i].start, *e = s + t[i].end;

	if (t[i].type != JSON_STRING)
		return 0;
	while (p < e) {
		char c = *p++;

		if (c == '\\') {
			c = *p++;
			if (c != '"' && c != '\\' && c != '/')
				return 0;
		}
		if (*str++ != c)
			return 0;
	}
	return *str == '\0';
}

long
json_get(const char *s, const struct json_tok *t, long obj, const char *key)
{
	long	i;

	if (obj < 0 || t[obj].type != JSON_OBJECT)
		return -1;
	for (i = obj + 1; i < (long)t[obj].next; i = (long)t[i + 1].next)
		if (json_eq(s, t, i, key))
			return i + 1;
	return -1;
}

int
json_num(const char *s, const struct json_tok *t, long i, double *v)
{
	char	buf[64], *end;
	size_t	n;

	if (i < 0 || (t[i].type != JSON_NUMBER && t[i].type != JSON_STRING))
		return -1;
	n = t[i].end - t[i].start;
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s + t[i].start, n);
	buf[n] = '\0';
	if (t[i].type == JSON_STRING &&
	    strspn(buf, "0123456789.eE+-") != n)
		return -1;
	*v = strtod(buf, &end);
	return *end == '\0' ? 0 : -1;
}

static size_t
utf8(unsigned long cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

int
json_str(const char *s, const struct json_tok *t, long i, char *out,
    size_t size)
{
	const char	*p, *e;
	size_t		 o = 0, k;
	char		 u[4];
	unsigned long	 cp;
	int		 lo;

	if (i < 0 || size == 0 ||
	    (t[i].type != JSON_STRING && t[i].type != JSON_NUMBER))
		return -1;
	p = s + t[i].start;
	e = s + t[i].end;
	while (p < e) {
		if (*p != '\\') {
			u[0] = *p++;
			k = 1;
		} else {
			p++;
			switch (*p) {
			case 'b': u[0] = '\b'; k = 1; p++; break;
			case 'f': u[0] = '\f'; k = 1; p++; break;
			case 'n': u[0] = '\n'; k = 1; p++; break;
			case 'r': u[0] = '\r'; k = 1; p++; break;
			case 't': u[0] = '\t'; k = 1; p++; break;
			case 'u':
				/* The tokenizer checked the four digits. */
				cp = (unsigned long)jp_hex4(p + 1);
				p += 5;
				if (cp >= 0xd800 && cp < 0xdc00 && e - p >= 6 &&
				    p[0] == '\\' && p[1] == 'u' &&
				    (lo = jp_hex4(p + 2)) >= 0xdc00 &&
				    lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					    ((unsigned long)lo - 0xdc00);
					p += 6;
				} else if (cp >= 0xd800 && cp < 0xe000)
					cp = 0xfffd;	/* lone surrogate */
				k = utf8(cp, u);
				break;
			default: u[0] = *p++; k = 1; break;
			}
		}
		if (o + k >= size)
			break;
		memcpy(out + o, u, k);
		o += k;
	}
	out[o] = '\0';
	return 0;
}
