/*
 * tokens.c -- see tokens.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "tokens.h"

/* The tokens file is small: a line per device.  Bigger is a mistake. */
#define TOKENS_FILE_MAX	(16u << 20)


static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int
tokens_parse(struct tokens *t, const char *name, const char *text, size_t n,
    char *err, size_t errlen)
{
	const char	*p = text, *end = text + n, *eol, *f[3];
	size_t		 fl[3], cap = 0, i;
	unsigned	 line = 0;
	int		 nf;

	memset(t, 0, sizeof(*t));
	while (p < end) {
		line++;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		nf = 0;
		while (p < eol) {
			while (p < eol && is_blank(*p))
				p++;
			if (p == eol || (nf == 0 && *p == '#'))
				break;
			if (nf == 3)
				break;
			f[nf] = p;
			while (p < eol && !is_blank(*p))
				p++;
			fl[nf] = (size_t)(p - f[nf]);
			nf++;
		}
		p = eol + 1;
		if (nf == 0)
			continue;
		if (nf != 2) {
			snprintf(err, errlen, "%s:%u: expected \"DEVICE_ID "
			    "SHA256HEX\"", name, line);
			goto fail;
		}
		if (!body_valid_name(f[0], fl[0], TOKENS_DEVICE_MAX)) {
			snprintf(err, errlen, "%s:%u: device id must be 1 to %d "
			    "bytes of [A-Za-z0-9_.:-]", name, line,
			    TOKENS_DEVICE_MAX);
			goto fail;
		}
		if (t->n == TOKENS_MAX) {
			snprintf(err, errlen, "%s:%u: more than %d devices", name,
			    line, TOKENS_MAX);
			goto fail;
		}
		if (t->n == cap) {
			struct token_ent *nv;

			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(t->v, cap * sizeof(*nv))) == NULL) {
				snprintf(err, errlen, "%s: out of memory", name);
				goto fail;
			}
			t->v = nv;
		}
		if (sha256_from_hex(f[1], fl[1], t->v[t->n].hash) == -1) {
			snprintf(err, errlen, "%s:%u: the hash must be 64 hex "
			    "digits (the SHA-256 of the token)", name, line);
			goto fail;
		}
		memcpy(t->v[t->n].device, f[0], fl[0]);
		t->v[t->n].device[fl[0]] = '\0';
		for (i = 0; i < t->n; i++)
			if (strcmp(t->v[i].device, t->v[t->n].device) == 0) {
				snprintf(err, errlen, "%s:%u: device '%s' given "
				    "twice", name, line, t->v[i].device);
				goto fail;
			}
		t->n++;
	}
	return 0;
fail:
	tokens_free(t);
	return -1;
}

int
tokens_load(struct tokens *t, const char *path, char *err, size_t errlen)
{
	FILE	*fp;
	char	*buf = NULL;
	size_t	 n = 0;
	int	 rc = -1;

	memset(t, 0, sizeof(*t));
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((buf = malloc(TOKENS_FILE_MAX + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	n = fread(buf, 1, TOKENS_FILE_MAX + 1, fp);
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (n > TOKENS_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %u bytes", path,
		    TOKENS_FILE_MAX);
		goto out;
	}
	rc = tokens_parse(t, path, buf, n, err, errlen);
out:
	free(buf);
	fclose(fp);
	return rc;
}

void
tokens_free(struct tokens *t)
{
	if (t == NULL)
		return;
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

const char *
tokens_lookup(const struct tokens *t, const char *token, size_t n)
{
	uint8_t		 h[SHA256_LEN];
	const char	*found = NULL;
	size_t		 i;

	if (n == 0)
		return NULL;
	sha256(token, n, h);
	/* Every entry is compared: no early exit on a match. */
	for (i = 0; i < t->n; i++)
		if (sha256_ct_compare(h, t->v[i].hash, SHA256_LEN) == 0)
			found = t->v[i].device;
	return found;
}
