/*
 * series.c -- see series.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "series.h"

#define SERIES_INIT_CAP	1024

void
series_table_init(struct series_table *t)
{
	memset(t, 0, sizeof(*t));
}

void
series_table_free(struct series_table *t)
{
	size_t	i;

	for (i = 0; i < t->cap; i++)
		free(t->slots[i]);
	free(t->slots);
	free(t->byid);
	memset(t, 0, sizeof(*t));
}

/* FNV-1a: short keys, no adversary that can choose collisions cheaply
 * beyond slowing its own device's ingest. */
static uint64_t
key_hash(const char *k, size_t n)
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	size_t		i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int
grow_slots(struct series_table *t)
{
	struct series	**ns;
	size_t		  ncap = t->cap ? t->cap * 2 : SERIES_INIT_CAP, i, j;

	if ((ns = calloc(ncap, sizeof(*ns))) == NULL)
		return -1;
	for (i = 0; i < t->cap; i++) {
		if (t->slots[i] == NULL)
			continue;
		j = t->slots[i]->hash & (ncap - 1);
		while (ns[j] != NULL)
			j = (j + 1) & (ncap - 1);
		ns[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = ns;
	t->cap = ncap;
	return 0;
}

static int
set_byid(struct series_table *t, struct series *s)
{
	struct series	**nb;
	size_t		  ncap;

	if ((size_t)s->id >= t->byid_cap) {
		ncap = t->byid_cap ? t->byid_cap : SERIES_INIT_CAP;
		while (ncap <= (size_t)s->id)
			ncap *= 2;
		if ((nb = realloc(t->byid, ncap * sizeof(*nb))) == NULL)
			return -1;
		memset(nb + t->byid_cap, 0, (ncap - t->byid_cap) * sizeof(*nb));
		t->byid = nb;
		t->byid_cap = ncap;
	}
	t->byid[s->id] = s;
	if (s->id > t->max_id)
		t->max_id = s->id;
	return 0;
}

/* Finds key in the table, or the empty slot where it would go. */
static struct series **
lookup(struct series_table *t, const char *key, size_t keylen, uint64_t h)
{
	size_t		 i = h & (t->cap - 1);
	struct series	*s;

	while ((s = t->slots[i]) != NULL) {
		if (s->hash == h && s->keylen == keylen &&
		    memcmp(s->key, key, keylen) == 0)
			return &t->slots[i];
		i = (i + 1) & (t->cap - 1);
	}
	return &t->slots[i];
}

static struct series *
insert(struct series_table *t, const char *key, size_t keylen, uint64_t h,
    int64_t id)
{
	struct series	**slot, *s;
	size_t		  dlen, nlen, i;

	/* Keep the load factor under 1/2 so probes stay short. */
	if ((t->n + 1) * 2 > t->cap && grow_slots(t) == -1)
		return NULL;
	slot = lookup(t, key, keylen, h);
	if (*slot != NULL)
		return *slot;
	if ((s = calloc(1, sizeof(*s) + keylen)) == NULL)
		return NULL;
	memcpy(s->key, key, keylen);
	s->keylen = keylen;
	s->hash = h;
	s->id = id;
	s->last_ts = INT64_MIN;
	s->dirty_bucket = INT64_MIN;
	for (i = 0; i < SERIES_MAX_TIERS; i++)
		s->rolled[i] = INT64_MIN;
	dlen = strlen(s->key);
	nlen = strlen(s->key + dlen + 1);
	s->device = s->key;
	s->name = s->key + dlen + 1;
	s->labels = s->key + dlen + 1 + nlen + 1;
	if (set_byid(t, s) == -1) {
		free(s);
		return NULL;
	}
	*slot = s;
	t->n++;
	return s;
}


static int
valid_label_key(const char *p, size_t n)
{
	size_t	i;

	if (n == 0 || n > BODY_MAX_NAME)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || (i > 0 && c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

static int
label_cmp(const struct label *a, const struct label *b)
{
	uint32_t	n = a->k.n < b->k.n ? a->k.n : b->k.n;
	int		c = memcmp(a->k.p, b->k.p, n);

	if (c != 0)
		return c;
	return (a->k.n > b->k.n) - (a->k.n < b->k.n);
}

int
series_labels_text(const struct series_ref *ref, char *out, size_t outlen,
    char *err, size_t errlen)
{
	const struct label	*sorted[BODY_MAX_LABELS];
	const struct label	*l;
	size_t			 o = 0, i, j;
	uint32_t		 n = ref->nlabels;

	if (n > BODY_MAX_LABELS) {
		snprintf(err, errlen, "%u labels, at most %d allowed", n,
		    BODY_MAX_LABELS);
		return -1;
	}
	/* Insertion sort: a series has a handful of labels. */
	for (i = 0; i < n; i++) {
		l = &ref->labels[i];
		if (!valid_label_key(l->k.p, l->k.n)) {
			snprintf(err, errlen, "label key %u is not a valid "
			    "name ([A-Za-z_][A-Za-z0-9_]*)", (unsigned)i);
			return -1;
		}
		for (j = i; j > 0 && label_cmp(sorted[j - 1], l) > 0; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = l;
	}
	for (i = 0; i < n; i++) {
		l = sorted[i];
		if (i > 0 && label_cmp(sorted[i - 1], l) == 0) {
			snprintf(err, errlen, "label '%.*s' given twice",
			    (int)l->k.n, l->k.p);
			return -1;
		}
		/* key="value", worst case every value byte escaped. */
		if (o + l->k.n + 2 * (size_t)l->v.n + 5 >= outlen) {
			snprintf(err, errlen, "labels too long");
			return -1;
		}
		if (i > 0)
			out[o++] = ',';
		memcpy(out + o, l->k.p, l->k.n);
		o += l->k.n;
		out[o++] = '=';
		out[o++] = '"';
		for (j = 0; j < l->v.n; j++) {
			char c = l->v.p[j];

			if (c == '\0') {
				snprintf(err, errlen, "label '%.*s': value "
				    "contains a NUL byte", (int)l->k.n, l->k.p);
				return -1;
			}
			if (c == '\\' || c == '"') {
				out[o++] = '\\';
				out[o++] = c;
			} else if (c == '\n') {
				out[o++] = '\\';
				out[o++] = 'n';
			} else
				out[o++] = c;
		}
		out[o++] = '"';
	}
	out[o] = '\0';
	return (int)o;
}

struct series *
series_intern(struct series_table *t, struct pstr device,
    const struct series_ref *ref, char *err, size_t errlen)
{
	char		 key[SERIES_KEY_MAX];
	size_t		 o, room;
	int		 ln;
	uint64_t	 h;
	struct series	**slot, *s;

	if (device.n == 0 || device.n > BODY_MAX_NAME ||
	    memchr(device.p, '\0', device.n) != NULL) {
		snprintf(err, errlen, "device id is empty, too long or has a "
		    "NUL byte");
		return NULL;
	}
	if (!body_valid_name(ref->name.p, ref->name.n, BODY_MAX_NAME)) {
		snprintf(err, errlen, "metric name is empty, longer than %d or "
		    "not [A-Za-z0-9_.:-]", BODY_MAX_NAME);
		return NULL;
	}
	memcpy(key, device.p, device.n);
	o = device.n;
	key[o++] = '\0';
	memcpy(key + o, ref->name.p, ref->name.n);
	o += ref->name.n;
	key[o++] = '\0';
	room = sizeof(key) - o;
	if ((ln = series_labels_text(ref, key + o, room, err, errlen)) == -1)
		return NULL;
	o += (size_t)ln + 1;
	h = key_hash(key, o);
	if (t->cap > 0) {
		slot = lookup(t, key, o, h);
		if (*slot != NULL)
			return *slot;
	}
	s = insert(t, key, o, h, t->max_id + 1);
	if (s == NULL)
		snprintf(err, errlen, "out of memory interning a series");
	return s;
}

struct series *
series_add_loaded(struct series_table *t, int64_t id, const char *device,
    const char *name, const char *labels)
{
	char		 key[SERIES_KEY_MAX];
	size_t		 dl = strlen(device), nl = strlen(name), ll = strlen(labels);
	struct series	*s;

	if (id <= 0 || dl + nl + ll + 3 > sizeof(key)) {
		errno = EINVAL;
		return NULL;
	}
	memcpy(key, device, dl + 1);
	memcpy(key + dl + 1, name, nl + 1);
	memcpy(key + dl + 1 + nl + 1, labels, ll + 1);
	s = insert(t, key, dl + nl + ll + 3, key_hash(key, dl + nl + ll + 3),
	    id);
	if (s != NULL)
		s->persisted = 1;
	return s;
}

struct series *
series_by_id(const struct series_table *t, int64_t id)
{
	if (id <= 0 || (size_t)id >= t->byid_cap)
		return NULL;
	return t->byid[id];
}

int
series_labels_parse(const char *text, struct label *out, size_t max,
    char *buf, size_t buflen)
{
	const char	*p = text;
	size_t		 n = 0, o = 0;
	char		*k, *v;

	while (*p != '\0') {
		if (n == max)
			return -1;
		k = buf + o;
		while (*p != '\0' && *p != '=') {
			if (o + 1 >= buflen)
				return -1;
			buf[o++] = *p++;
		}
		if (p[0] != '=' || p[1] != '"' || o + 1 >= buflen)
			return -1;
		buf[o++] = '\0';
		p += 2;
		v = buf + o;
		while (*p != '"') {
			if (*p == '\0' || o + 1 >= buflen)
				return -1;
			if (*p == '\\') {
				p++;
				if (*p == 'n')
					buf[o++] = '\n';
				else if (*p == '\\' || *p == '"')
					buf[o++] = *p;
				else
					return -1;
				p++;
			} else
				buf[o++] = *p++;
		}
		buf[o++] = '\0';
		p++;
		out[n].k = (struct pstr){ k, (uint32_t)strlen(k) };
		out[n].v = (struct pstr){ v, (uint32_t)(buf + o - 1 - v) };
		n++;
		if (*p == ',')
			p++;
		else if (*p != '\0')
			return -1;
	}
	return (int)n;
}
