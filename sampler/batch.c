/*
 * batch.c -- see batch.h.
 *
 * Strings live in one growing arena and are referred to by offset, so
 * growing the arena never invalidates a series; batch_view turns offsets
 * into pointers at the end.  Series are found by an open-addressing index
 * of FNV-1a hashes over the canonical (sorted) form, which makes the
 * per-point cost a hash and usually one comparison: sources add the same
 * few hundred series every round.
 */
#include <stdlib.h>
#include <string.h>

#include "batch.h"

/*
 * Index slots: a power of two kept at least twice the series held, so
 * linear probing stays short.  It starts at BATCH_INDEX_MIN, room for the
 * series of a small device's round (a Raspberry Pi's system sources add
 * about 80), and doubles as series are added, up to twice
 * BATCH_MAX_SERIES: a full-size index is 64 kB that a sampler of a few
 * dozen series would keep resident for nothing.
 */
#define BATCH_INDEX_MIN		256
#define BATCH_INDEX_MAX		(2 * BATCH_MAX_SERIES)

struct bstr {
	uint32_t	off, len;
};

struct bser {
	struct bstr	name;
	uint32_t	lab;		/* first entry in labs[] */
	uint32_t	nlab;
	uint32_t	hash;
	uint32_t	slot;		/* in index[], for batch_reset */
};

struct batch {
	char		*str;
	size_t		 strlen, strcap;
	struct bser	*ser;
	size_t		 nser, sercap;
	struct bstr	*labs;		/* k, v, k, v ... */
	size_t		 nlabs, labcap;
	struct point	*pts;
	size_t		 npts, ptcap;
	uint32_t	*index;		/* series idx + 1; 0 = empty */
	size_t		 nslots;	/* a power of two */
	uint64_t	 dropped;
	/* batch_view's arrays */
	struct series_ref *vser;
	size_t		 vsercap;
	struct label	*vlab;
	size_t		 vlabcap;
};

struct batch *
batch_new(void)
{
	struct batch	*b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	if ((b->index = calloc(BATCH_INDEX_MIN, sizeof(*b->index))) == NULL) {
		free(b);
		return NULL;
	}
	b->nslots = BATCH_INDEX_MIN;
	return b;
}

void
batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	free(b->str);
	free(b->ser);
	free(b->labs);
	free(b->pts);
	free(b->index);
	free(b->vser);
	free(b->vlab);
	free(b);
}

void
batch_reset(struct batch *b)
{
	size_t	i;

	/* Clearing only the used slots keeps a reset proportional to the
	 * batch, not to the index, which keeps its size for the next round. */
	for (i = 0; i < b->nser; i++)
		b->index[b->ser[i].slot] = 0;
	b->strlen = b->nser = b->nlabs = b->npts = 0;
}

size_t
batch_npoints(const struct batch *b)
{
	return b->npts;
}

size_t
batch_nseries(const struct batch *b)
{
	return b->nser;
}

size_t
batch_room(const struct batch *b)
{
	return BATCH_MAX_POINTS - b->npts;
}

uint64_t
batch_dropped(const struct batch *b)
{
	return b->dropped;
}

/* Grows *p (of *cap elements of size sz) to hold need, at most max. */
static int
grow(void *pp, size_t *cap, size_t need, size_t sz, size_t max)
{
	void	**p = pp;
	size_t	  n;
	void	 *np;

	if (need <= *cap)
		return 0;
	if (need > max)
		return -1;
	n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	if (n > max)
		n = max;
	if ((np = realloc(*p, n * sz)) == NULL)
		return -1;
	*p = np;
	*cap = n;
	return 0;
}

static uint32_t
fnv(uint32_t h, const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	/* A separator that cannot occur in a string. */
	h ^= 0xff;
	h *= 16777619u;
	return h;
}

static int
bstr_eq(const struct batch *b, struct bstr s, const char *p, size_t n)
{
	return s.len == n && memcmp(b->str + s.off, p, n) == 0;
}

static int
bstr_put(struct batch *b, const char *p, size_t n, struct bstr *out)
{
	if (grow(&b->str, &b->strcap, b->strlen + n + 1, 1,
	    BATCH_MAX_STRBYTES) == -1)
		return -1;
	memcpy(b->str + b->strlen, p, n);
	b->str[b->strlen + n] = '\0';
	out->off = (uint32_t)b->strlen;
	out->len = (uint32_t)n;
	b->strlen += n + 1;
	return 0;
}

/* A label with its lengths measured once. */
struct klv {
	const char	*k, *v;
	size_t		 kn, vn;
};

static int
series_eq(const struct batch *b, const struct bser *s, const char *name,
    size_t namelen, const struct klv *l, size_t n)
{
	size_t	i;

	if (s->nlab != n || !bstr_eq(b, s->name, name, namelen))
		return 0;
	for (i = 0; i < n; i++)
		if (!bstr_eq(b, b->labs[s->lab + 2 * i], l[i].k, l[i].kn) ||
		    !bstr_eq(b, b->labs[s->lab + 2 * i + 1], l[i].v, l[i].vn))
			return 0;
	return 1;
}

/* The slot of hash h's series in b's index, or of the empty slot where it
 * goes. */
static uint32_t
index_probe(const uint32_t *index, size_t nslots, uint32_t h)
{
	uint32_t	slot, mask = (uint32_t)nslots - 1;

	for (slot = h & mask; index[slot] != 0; slot = (slot + 1) & mask)
		;
	return slot;
}

/*
 * Doubles the index and places every series again.  Returns 0, or -1 out
 * of memory (the index is then unchanged) or when the index is at its
 * largest.
 */
static int
index_grow(struct batch *b)
{
	uint32_t	*n;
	size_t		 ns = b->nslots * 2, i;

	if (ns > BATCH_INDEX_MAX)
		return -1;
	if ((n = calloc(ns, sizeof(*n))) == NULL)
		return -1;
	for (i = 0; i < b->nser; i++) {
		b->ser[i].slot = index_probe(n, ns, b->ser[i].hash);
		n[b->ser[i].slot] = (uint32_t)i + 1;
	}
	free(b->index);
	b->index = n;
	b->nslots = ns;
	return 0;
}

/* Finds or adds the series; returns its index or -1. */
static int64_t
series_get(struct batch *b, const char *name, size_t namelen,
    const struct klv *l, size_t n)
{
	uint32_t	 h = 2166136261u, slot, mask = (uint32_t)b->nslots - 1;
	size_t		 i, strmark = b->strlen, labmark = b->nlabs;
	struct bser	*s;

	h = fnv(h, name, namelen);
	for (i = 0; i < n; i++) {
		h = fnv(h, l[i].k, l[i].kn);
		h = fnv(h, l[i].v, l[i].vn);
	}
	for (slot = h & mask; b->index[slot] != 0; slot = (slot + 1) & mask) {
		s = &b->ser[b->index[slot] - 1];
		if (s->hash == h && series_eq(b, s, name, namelen, l, n))
			return b->index[slot] - 1;
	}
	/* A new series.  Growing the index moves every series, this one's
	 * empty slot included. */
	if (2 * (b->nser + 1) > b->nslots) {
		if (index_grow(b) == -1)
			return -1;
		slot = index_probe(b->index, b->nslots, h);
	}
	if (grow(&b->ser, &b->sercap, b->nser + 1, sizeof(*b->ser),
	    BATCH_MAX_SERIES) == -1 ||
	    grow(&b->labs, &b->labcap, b->nlabs + 2 * n, sizeof(*b->labs),
	    (size_t)BATCH_MAX_SERIES * 2 * BODY_MAX_LABELS) == -1)
		return -1;
	s = &b->ser[b->nser];
	s->hash = h;
	s->lab = (uint32_t)b->nlabs;
	s->nlab = (uint32_t)n;
	if (bstr_put(b, name, namelen, &s->name) == -1)
		goto fail;
	for (i = 0; i < n; i++) {
		if (bstr_put(b, l[i].k, l[i].kn, &b->labs[b->nlabs]) == -1 ||
		    bstr_put(b, l[i].v, l[i].vn, &b->labs[b->nlabs + 1]) == -1)
			goto fail;
		b->nlabs += 2;
	}
	s->slot = slot;
	b->index[slot] = (uint32_t)++b->nser;
	return (int64_t)b->nser - 1;
fail:
	/* Leave no half-added series behind. */
	b->strlen = strmark;
	b->nlabs = labmark;
	return -1;
}

int
batch_add(struct batch *b, const char *name, const struct label_kv *labels,
    size_t nlabels, int64_t ts_ms, double v)
{
	struct klv	 l[BODY_MAX_LABELS], t;
	size_t		 n = 0, i, j, namelen;
	int64_t		 idx;

	namelen = strlen(name);
	if (namelen == 0 || namelen > BODY_MAX_NAME)
		goto drop;
	for (i = 0; i < nlabels; i++) {
		if (labels[i].v == NULL || labels[i].v[0] == '\0')
			continue;
		if (n == BODY_MAX_LABELS)
			goto drop;
		t.k = labels[i].k;
		t.v = labels[i].v;
		t.kn = strlen(t.k);
		t.vn = strlen(t.v);
		if (t.kn == 0 || t.kn > BODY_MAX_NAME ||
		    t.vn > BODY_MAX_LABELVAL)
			goto drop;
		/* Insertion sort by key: label sets are small. */
		for (j = n; j > 0; j--) {
			int c = strcmp(l[j - 1].k, t.k);
			if (c == 0)
				goto drop;
			if (c < 0)
				break;
			l[j] = l[j - 1];
		}
		l[j] = t;
		n++;
	}
	if (b->npts == BATCH_MAX_POINTS ||
	    grow(&b->pts, &b->ptcap, b->npts + 1, sizeof(*b->pts),
	    BATCH_MAX_POINTS) == -1)
		goto drop;
	if ((idx = series_get(b, name, namelen, l, n)) == -1)
		goto drop;
	b->pts[b->npts].idx = (uint32_t)idx;
	b->pts[b->npts].ts = ts_ms;
	b->pts[b->npts].value = v;
	b->npts++;
	return 0;
drop:
	b->dropped++;
	return -1;
}

int
batch_view(struct batch *b, struct samples_msg *out)
{
	size_t	i, j;

	memset(out, 0, sizeof(*out));
	if (grow(&b->vser, &b->vsercap, b->nser, sizeof(*b->vser),
	    BATCH_MAX_SERIES) == -1 ||
	    grow(&b->vlab, &b->vlabcap, b->nlabs / 2, sizeof(*b->vlab),
	    (size_t)BATCH_MAX_SERIES * BODY_MAX_LABELS) == -1)
		return -1;
	for (i = 0; i < b->nser; i++) {
		const struct bser *s = &b->ser[i];

		b->vser[i].name.p = b->str + s->name.off;
		b->vser[i].name.n = s->name.len;
		b->vser[i].nlabels = s->nlab;
		b->vser[i].labels = s->nlab ? &b->vlab[s->lab / 2] : NULL;
		for (j = 0; j < s->nlab; j++) {
			struct bstr k = b->labs[s->lab + 2 * j];
			struct bstr v = b->labs[s->lab + 2 * j + 1];

			b->vlab[s->lab / 2 + j].k.p = b->str + k.off;
			b->vlab[s->lab / 2 + j].k.n = k.len;
			b->vlab[s->lab / 2 + j].v.p = b->str + v.off;
			b->vlab[s->lab / 2 + j].v.n = v.len;
		}
	}
	out->device.p = "";
	out->nseries = (uint32_t)b->nser;
	out->series = b->nser ? b->vser : NULL;
	out->npoints = (uint32_t)b->npts;
	out->points = b->npts ? b->pts : NULL;
	return 0;
}
