/*
 * prom.c -- see prom.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <math.h>

#include "prom.h"

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char *
blanks(char *p)
{
	while (is_blank(*p))
		p++;
	return p;
}

static int
name_start(char c, int colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (colon && c == ':');
}

static int
name_char(char c, int colon)
{
	return name_start(c, colon) || (c >= '0' && c <= '9');
}

/* Scans a name at p; returns its end or NULL. */
static char *
scan_name(char *p, int colon)
{
	if (!name_start(*p, colon))
		return NULL;
	while (name_char(*p, colon))
		p++;
	return p;
}

/* Parses a value token (NUL-terminated). */
static int
parse_value(const char *s, double *v)
{
	const char	*t = s;
	char		*end;
	int		 neg = 0;

	if (*t == '+' || *t == '-') {
		neg = *t == '-';
		t++;
	}
	if (strcasecmp(t, "inf") == 0 || strcasecmp(t, "infinity") == 0) {
		*v = neg ? -INFINITY : INFINITY;
		return 0;
	}
	if (strcasecmp(s, "nan") == 0) {
		*v = NAN;
		return 0;
	}
	/* Plain decimals only: strtod would also take hex and "nan(...)". */
	if (*s == '\0' || strspn(s, "0123456789.eE+-") != strlen(s))
		return -1;
	*v = strtod(s, &end);
	return *end == '\0' && end != s ? 0 : -1;
}

static int
parse_ts(const char *s, int64_t *ts)
{
	char	*end;
	long long v;

	if (*s == '\0' || strspn(s, "-0123456789") != strlen(s))
		return -1;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return -1;
	*ts = v;
	return 0;
}

#define BAD(...) do {							\
	snprintf(err, errlen, __VA_ARGS__);				\
	return -1;							\
} while (0)

/* Labels: p is after '{'; returns the position after '}' or NULL. */
static char *
parse_labels(char *p, struct prom_sample *out, char *err, size_t errlen)
{
	char	*k, *ke, *w;
	size_t	 i;

	for (;;) {
		p = blanks(p);
		if (*p == '}')
			return p + 1;
		if (out->nlabels == BODY_MAX_LABELS) {
			snprintf(err, errlen, "more than %d labels",
			    BODY_MAX_LABELS);
			return NULL;
		}
		k = p;
		if ((ke = scan_name(p, 0)) == NULL) {
			snprintf(err, errlen, "bad label name at \"%.20s\"", p);
			return NULL;
		}
		if ((size_t)(ke - k) > BODY_MAX_NAME) {
			snprintf(err, errlen, "label name too long");
			return NULL;
		}
		p = blanks(ke);
		if (*p != '=') {
			snprintf(err, errlen, "expected '=' after label name");
			return NULL;
		}
		*ke = '\0';
		p = blanks(p + 1);
		if (*p != '"') {
			snprintf(err, errlen, "expected '\"' to open label %s",
			    k);
			return NULL;
		}
		w = ++p;
		out->labels[out->nlabels].v = w;
		for (;;) {
			if (*p == '\0') {
				snprintf(err, errlen, "unterminated value of "
				    "label %s", k);
				return NULL;
			}
			if (*p == '"')
				break;
			if (*p == '\\') {
				if (p[1] == '\\' || p[1] == '"')
					*w++ = p[1];
				else if (p[1] == 'n')
					*w++ = '\n';
				else {
					snprintf(err, errlen, "invalid escape "
					    "in label %s", k);
					return NULL;
				}
				p += 2;
			} else
				*w++ = *p++;
		}
		*w = '\0';
		p++;
		if ((size_t)(w - out->labels[out->nlabels].v) >
		    BODY_MAX_LABELVAL) {
			snprintf(err, errlen, "value of label %s too long", k);
			return NULL;
		}
		for (i = 0; i < out->nlabels; i++)
			if (strcmp(out->labels[i].k, k) == 0) {
				snprintf(err, errlen, "duplicate label %s", k);
				return NULL;
			}
		out->labels[out->nlabels++].k = k;
		p = blanks(p);
		if (*p == ',')
			p++;
		else if (*p != '}') {
			snprintf(err, errlen, "expected ',' or '}' after "
			    "label %s", k);
			return NULL;
		}
	}
}

int
prom_parse_line(char *line, struct prom_sample *out, char *err,
    size_t errlen)
{
	char	*p, *ne, *v, *t;
	size_t	 n;

	/* A CR of CRLF output is not part of the value. */
	n = strlen(line);
	if (n > 0 && line[n - 1] == '\r')
		line[n - 1] = '\0';
	p = blanks(line);
	if (*p == '\0' || *p == '#')
		return 0;
	memset(out, 0, sizeof(*out));
	out->name = p;
	if ((ne = scan_name(p, 1)) == NULL)
		BAD("expected a metric name at \"%.20s\"", p);
	if ((size_t)(ne - p) > BODY_MAX_NAME)
		BAD("metric name too long");
	p = blanks(ne);
	if (*p == '{') {
		*ne = '\0';
		if ((p = parse_labels(p + 1, out, err, errlen)) == NULL)
			return -1;
		if (*blanks(p) == '\0')
			BAD("no value");
		if (!is_blank(*p))
			BAD("expected a blank before the value");
	} else if (*p == '\0')
		BAD("no value");
	else if (ne == p)
		BAD("expected a blank after the metric name");
	*ne = '\0';
	p = blanks(p);
	if (*p == '\0')
		BAD("no value");
	v = p;
	while (*p != '\0' && !is_blank(*p))
		p++;
	if (*p != '\0')
		*p++ = '\0';
	if (parse_value(v, &out->value) == -1)
		BAD("bad value \"%.32s\"", v);
	p = blanks(p);
	if (*p != '\0') {
		t = p;
		while (*p != '\0' && !is_blank(*p))
			p++;
		if (*p != '\0')
			*p++ = '\0';
		if (parse_ts(t, &out->ts_ms) == -1)
			BAD("bad timestamp \"%.32s\"", t);
		out->has_ts = 1;
		if (*blanks(p) != '\0')
			BAD("garbage after the timestamp");
	}
	return 1;
}

size_t
prom_parse(char *buf, size_t len, prom_sample_fn sample, prom_bad_fn bad,
    void *arg, size_t *nbad)
{
	struct prom_sample s;
	char		 err[128], *line = buf, *nl;
	size_t		 lineno = 0, n = 0, b = 0;
	int		 rc;

	buf[len] = '\0';
	while (line < buf + len) {
		lineno++;
		if ((nl = memchr(line, '\n', (size_t)(buf + len - line))) != NULL)
			*nl = '\0';
		else
			nl = buf + len;
		if (strlen(line) != (size_t)(nl - line)) {
			rc = -1;
			snprintf(err, sizeof(err), "NUL byte in line");
		} else
			rc = prom_parse_line(line, &s, err, sizeof(err));
		if (rc == 1) {
			n++;
			sample(arg, &s);
		} else if (rc == -1) {
			b++;
			if (bad != NULL)
				bad(arg, lineno, err);
		}
		line = nl + 1;
	}
	if (nbad != NULL)
		*nbad = b;
	return n;
}
