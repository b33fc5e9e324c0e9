/*
 * rate.c -- see rate.h.
 *
 * An open-addressing table of malloc'd keys.  Deleting from such a table
 * is awkward, so rate_sweep rebuilds it, and only in a round in which some
 * key was not seen: in the common round every key is updated and a sweep
 * costs one comparison.
 */
#include <stdlib.h>
#include <string.h>

#include "rate.h"

struct rent {
	char		*key;		/* NULL: empty slot */
	uint32_t	 hash;
	uint32_t	 gen;		/* round of the last update */
	uint64_t	 v;
	int64_t		 ts;
};

struct rate_tab {
	struct rent	*e;
	size_t		 cap;		/* power of two, or 0 */
	size_t		 n;
	size_t		 touched;	/* keys updated this round */
	uint32_t	 gen;
};

struct rate_tab *
rate_new(void)
{
	return calloc(1, sizeof(struct rate_tab));
}

void
rate_free(struct rate_tab *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->cap; i++)
		free(t->e[i].key);
	free(t->e);
	free(t);
}

size_t
rate_count(const struct rate_tab *t)
{
	return t->n;
}

static uint32_t
hash(const char *s)
{
	uint32_t	h = 2166136261u;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h;
}

/* Moves the entries that satisfy keep into a fresh table of cap slots. */
static int
rebuild(struct rate_tab *t, size_t cap, int sweep)
{
	struct rent	*ne;
	size_t		 i, j, n = 0;

	if ((ne = calloc(cap, sizeof(*ne))) == NULL)
		return -1;
	for (i = 0; i < t->cap; i++) {
		if (t->e[i].key == NULL)
			continue;
		if (sweep && t->e[i].gen != t->gen) {
			free(t->e[i].key);
			continue;
		}
		for (j = t->e[i].hash & (cap - 1); ne[j].key != NULL;
		    j = (j + 1) & (cap - 1))
			;
		ne[j] = t->e[i];
		n++;
	}
	free(t->e);
	t->e = ne;
	t->cap = cap;
	t->n = n;
	return 0;
}

void
rate_sweep(struct rate_tab *t)
{
	if (t->touched < t->n)
		(void)rebuild(t, t->cap, 1);	/* on ENOMEM keep them */
	t->gen++;
	t->touched = 0;
}

int
rate_delta(uint64_t prev, uint64_t cur, enum rate_width w, uint64_t *delta)
{
	const uint64_t	 two31 = UINT64_C(1) << 31, two32 = UINT64_C(1) << 32;

	if (w == RATE_W32 && (cur >= two32 || prev >= two32))
		return 0;
	if (cur >= prev) {
		*delta = cur - prev;
		return 1;
	}
	if (w != RATE_W64 && prev < two32 && prev - cur > two31) {
		*delta = two32 - prev + cur;
		return 1;
	}
	return 0;
}

int
rate_update(struct rate_tab *t, const char *key, uint64_t v, int64_t ts_ms,
    enum rate_width w, double max_rate, double *rate, uint64_t *delta)
{
	uint32_t	 h = hash(key);
	size_t		 i;
	struct rent	*e;
	uint64_t	 d;
	double		 r;
	int		 ret = 0;

	/* Keep the load factor at or below one half; if growing fails the
	 * existing keys still work and a new key is refused below. */
	if (2 * (t->n + 1) > t->cap && t->n < RATE_MAX_KEYS)
		(void)rebuild(t, t->cap ? t->cap * 2 : 64, 0);
	for (i = h & (t->cap - 1); t->cap && t->e[i].key != NULL;
	    i = (i + 1) & (t->cap - 1)) {
		e = &t->e[i];
		if (e->hash != h || strcmp(e->key, key) != 0)
			continue;
		if (ts_ms > e->ts && rate_delta(e->v, v, w, &d)) {
			r = (double)d * 1000.0 / (double)(ts_ms - e->ts);
			if (max_rate <= 0 || r <= max_rate) {
				*rate = r;
				if (delta)
					*delta = d;
				ret = 1;
			}
		}
		e->v = v;
		e->ts = ts_ms;
		if (e->gen != t->gen) {
			e->gen = t->gen;
			t->touched++;
		}
		return ret;
	}
	if (t->cap == 0 || 2 * (t->n + 1) > t->cap)
		return -1;
	e = &t->e[i];
	if ((e->key = strdup(key)) == NULL)
		return -1;
	e->hash = h;
	e->gen = t->gen;
	e->v = v;
	e->ts = ts_ms;
	t->n++;
	t->touched++;
	return 0;
}
