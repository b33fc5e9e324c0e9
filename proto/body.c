/*
 * body.c -- msgpack bodies: the allocation-free check, the typed decoders,
 * the encoders and the JSON renderer.  See body.h for the contracts and
 * FRAMES.md for the layouts.
 *
 * A body is read in two passes.  body_check walks the raw bytes with
 * mp_next, a tokenizer that never allocates and never trusts a length it has
 * not compared with the bytes that remain.  Only a body that passes reaches
 * msgpack-c, whose unpacker allocates an array as soon as it reads the
 * array's header; after the check every such header is known to be honest.
 * The typed decoders then copy fields out of msgpack-c's object tree into
 * scratch arrays owned by struct body_dec, so a steady stream of frames of
 * similar size is decoded without calling malloc at all.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <msgpack.h>

#include "body.h"

/*
 * The zone's first chunk survives msgpack_zone_clear, so it is sized for the
 * frames the writer sees all day: a SAMPLES frame of a few hundred points
 * with a hundred-entry series table unpacks into about 40 KiB of objects.
 * Bigger frames make msgpack-c add chunks, which the next clear frees.
 */
#define BODY_ZONE_CHUNK		(64 * 1024)

/*
 * Scratch arrays keep their capacity between decodes, which is what makes
 * the common case allocation-free.  One outlier (a 1 MiB body of points can
 * need 8 MiB of struct point) should not pin that much memory on a small
 * board for the life of the process, so above this many bytes the scratch
 * is released at the start of the next decode.
 */
#define BODY_SCRATCH_KEEP	(1024 * 1024)

struct body_dec {
	msgpack_zone		 zone;

	struct series_ref	*series;
	size_t			 series_cap;
	struct label		*labels;
	size_t			 labels_cap;
	struct point		*points;
	size_t			 points_cap;
	struct gap		*gaps;
	size_t			 gaps_cap;
	struct stat_kv		*kv;
	size_t			 kv_cap;
};

static int	body_fail(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Formats a reason into the caller's buffer and returns -1. */
static int
body_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * The msgpack tokenizer.
 */

enum mp_kind {
	MP_NIL, MP_BOOL, MP_UINT, MP_INT, MP_F32, MP_F64,
	MP_STR, MP_BIN, MP_EXT, MP_ARRAY, MP_MAP
};

struct mp_tok {
	enum mp_kind	 kind;
	uint32_t	 len;	/* str/bin/ext payload bytes; array/map count */
	int8_t		 ext;	/* ext type */
	const uint8_t	*data;	/* str/bin/ext payload */
	uint64_t	 u;	/* bool, uint, int, float bits */
};

static uint64_t
mp_be(const uint8_t *p, size_t n)
{
	uint64_t	v = 0;

	while (n-- > 0)
		v = v << 8 | *p++;
	return v;
}

/*
 * Reads the object header at p[*i..n) into *t and advances *i past the
 * header and any str/bin/ext payload (a container's elements follow it).
 * Every length is compared with the bytes that remain before it is used;
 * an array of c elements needs at least c bytes and a map of c pairs 2c,
 * because the smallest msgpack object is one byte.  Returns 0, or -1 with
 * a reason.
 */
static int
mp_next(const uint8_t *p, size_t n, size_t *i, struct mp_tok *t,
    char *err, size_t errlen)
{
	const char	*what = NULL;
	size_t		 at = *i, o, w = 0, need;
	uint8_t		 c;

	if (at >= n)
		return body_fail(err, errlen, "truncated at offset %zu", at);
	c = p[at];
	o = at + 1;
	memset(t, 0, sizeof(*t));

	if (c <= 0x7f) {
		t->kind = MP_UINT;
		t->u = c;
	} else if (c >= 0xe0) {
		t->kind = MP_INT;
		t->u = (uint64_t)(int64_t)(int8_t)c;
	} else if (c <= 0x8f) {
		t->kind = MP_MAP;
		t->len = c & 0x0f;
	} else if (c <= 0x9f) {
		t->kind = MP_ARRAY;
		t->len = c & 0x0f;
	} else if (c <= 0xbf) {
		t->kind = MP_STR;
		t->len = c & 0x1f;
	} else {
		switch (c) {
		case 0xc0:
			t->kind = MP_NIL;
			break;
		case 0xc1:
			return body_fail(err, errlen,
			    "reserved type byte 0xc1 at offset %zu", at);
		case 0xc2:
		case 0xc3:
			t->kind = MP_BOOL;
			t->u = c & 1;
			break;
		case 0xc4:
		case 0xc5:
		case 0xc6:
			t->kind = MP_BIN;
			w = (size_t)1 << (c - 0xc4);
			break;
		case 0xc7:
		case 0xc8:
		case 0xc9:
			t->kind = MP_EXT;
			w = (size_t)1 << (c - 0xc7);
			break;
		case 0xca:
			t->kind = MP_F32;
			w = 4;
			break;
		case 0xcb:
			t->kind = MP_F64;
			w = 8;
			break;
		case 0xcc:
		case 0xcd:
		case 0xce:
		case 0xcf:
			t->kind = MP_UINT;
			w = (size_t)1 << (c - 0xcc);
			break;
		case 0xd0:
		case 0xd1:
		case 0xd2:
		case 0xd3:
			t->kind = MP_INT;
			w = (size_t)1 << (c - 0xd0);
			break;
		case 0xd4:
		case 0xd5:
		case 0xd6:
		case 0xd7:
		case 0xd8:
			t->kind = MP_EXT;
			t->len = 1u << (c - 0xd4);
			break;
		case 0xd9:
		case 0xda:
		case 0xdb:
			t->kind = MP_STR;
			w = (size_t)1 << (c - 0xd9);
			break;
		case 0xdc:
		case 0xdd:
			t->kind = MP_ARRAY;
			w = c == 0xdc ? 2 : 4;
			break;
		default:	/* 0xde, 0xdf */
			t->kind = MP_MAP;
			w = c == 0xde ? 2 : 4;
			break;
		}
		/* Fixed-size extra header: the value, or the length. */
		need = w + (t->kind == MP_EXT);
		if (n - o < need)
			return body_fail(err, errlen,
			    "truncated at offset %zu: type 0x%02x needs %zu "
			    "more bytes, %zu remain", at, c, need, n - o);
		switch (t->kind) {
		case MP_UINT:
		case MP_F32:
		case MP_F64:
			t->u = mp_be(p + o, w);
			break;
		case MP_INT:
			t->u = mp_be(p + o, w);
			/* Sign-extend the narrower encodings. */
			if (w < 8 && (t->u >> (8 * w - 1)) != 0)
				t->u |= ~(uint64_t)0 << (8 * w);
			break;
		case MP_EXT:
			if (w > 0)
				t->len = (uint32_t)mp_be(p + o, w);
			t->ext = (int8_t)p[o + w];
			break;
		case MP_STR:
		case MP_BIN:
		case MP_ARRAY:
		case MP_MAP:
			t->len = (uint32_t)mp_be(p + o, w);
			break;
		default:
			break;
		}
		o += need;
	}

	switch (t->kind) {
	case MP_STR:
		what = "str";
		break;
	case MP_BIN:
		what = "bin";
		break;
	case MP_EXT:
		what = "ext";
		break;
	case MP_ARRAY:
		if (t->len > n - o)
			return body_fail(err, errlen, "array count %" PRIu32
			    " at offset %zu exceeds the %zu remaining bytes",
			    t->len, at, n - o);
		break;
	case MP_MAP:
		if ((uint64_t)t->len * 2 > n - o)
			return body_fail(err, errlen, "map count %" PRIu32
			    " at offset %zu needs %" PRIu64
			    " bytes, %zu remain", t->len, at,
			    (uint64_t)t->len * 2, n - o);
		break;
	default:
		break;
	}
	if (what != NULL) {
		if (t->len > n - o)
			return body_fail(err, errlen, "%s length %" PRIu32
			    " at offset %zu exceeds the %zu remaining bytes",
			    what, t->len, at, n - o);
		t->data = p + o;
		o += t->len;
	}
	*i = o;
	return 0;
}

/*
 * Iterative, with one counter of outstanding elements per open container,
 * so that the depth limit bounds the walker's own stack as well.
 */
int
body_check(const uint8_t *p, size_t n, char *err, size_t errlen)
{
	uint64_t	left[BODY_MAX_DEPTH + 1];
	struct mp_tok	t;
	size_t		i = 0, at;
	int		depth = 0;

	if (n == 0)
		return body_fail(err, errlen, "body is empty");
	left[0] = 1;		/* exactly one top-level object */
	for (;;) {
		while (depth >= 0 && left[depth] == 0)
			depth--;
		if (depth < 0)
			break;
		left[depth]--;
		at = i;
		if (mp_next(p, n, &i, &t, err, errlen) == -1)
			return -1;
		if (t.kind != MP_ARRAY && t.kind != MP_MAP)
			continue;
		if (depth == BODY_MAX_DEPTH)
			return body_fail(err, errlen,
			    "nesting deeper than %d at offset %zu",
			    BODY_MAX_DEPTH, at);
		left[++depth] = t.kind == MP_MAP ?
		    (uint64_t)t.len * 2 : t.len;
	}
	if (i != n)
		return body_fail(err, errlen,
		    "%zu trailing bytes after the body at offset %zu",
		    n - i, i);
	return 0;
}

/*
 * Decoder state.
 */

struct body_dec *
body_dec_new(void)
{
	struct body_dec	*d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if (!msgpack_zone_init(&d->zone, BODY_ZONE_CHUNK)) {
		free(d);
		return NULL;
	}
	return d;
}

static void
dec_scratch_free(struct body_dec *d)
{
	free(d->series);
	free(d->labels);
	free(d->points);
	free(d->gaps);
	free(d->kv);
	d->series = NULL;
	d->labels = NULL;
	d->points = NULL;
	d->gaps = NULL;
	d->kv = NULL;
	d->series_cap = d->labels_cap = d->points_cap = d->gaps_cap =
	    d->kv_cap = 0;
}

void
body_dec_free(struct body_dec *d)
{
	if (d == NULL)
		return;
	dec_scratch_free(d);
	msgpack_zone_destroy(&d->zone);
	free(d);
}

/*
 * Makes *arr hold at least need elements of size bytes, doubling so that a
 * run of growing frames costs a logarithmic number of reallocs.  need is
 * bounded by the body size, so the multiplication cannot overflow on a
 * body that passed body_check; it is checked anyway.
 */
static int
dec_reserve(void *arrp, size_t *cap, size_t need, size_t size)
{
	void	*arr, *np;
	size_t	 ncap;

	if (need <= *cap)
		return 0;
	ncap = *cap * 2 > need ? *cap * 2 : need;
	if (ncap < 16)
		ncap = 16;
	if (ncap > SIZE_MAX / size)
		return -1;
	/* arrp points at a typed pointer: copy it rather than pun it. */
	memcpy(&arr, arrp, sizeof(arr));
	if ((np = realloc(arr, ncap * size)) == NULL)
		return -1;
	memcpy(arrp, &np, sizeof(np));
	*cap = ncap;
	return 0;
}

/*
 * Checks the body, then unpacks it into the decoder's zone.  The previous
 * decode's borrowed results die here, which is what body.h promises.
 */
static int
dec_begin(struct body_dec *d, const uint8_t *p, size_t n,
    msgpack_object *root, char *err, size_t errlen)
{
	size_t	off = 0, held;

	held = d->series_cap * sizeof(*d->series) +
	    d->labels_cap * sizeof(*d->labels) +
	    d->points_cap * sizeof(*d->points) +
	    d->gaps_cap * sizeof(*d->gaps) + d->kv_cap * sizeof(*d->kv);
	if (held > BODY_SCRATCH_KEEP)
		dec_scratch_free(d);
	msgpack_zone_clear(&d->zone);

	if (body_check(p, n, err, errlen) == -1)
		return -1;
	switch (msgpack_unpack((const char *)p, n, &off, &d->zone, root)) {
	case MSGPACK_UNPACK_SUCCESS:
		break;
	case MSGPACK_UNPACK_NOMEM_ERROR:
		return body_fail(err, errlen, "out of memory unpacking body");
	default:
		/* body_check accepts exactly what msgpack-c parses. */
		return body_fail(err, errlen, "msgpack-c cannot unpack body");
	}
	if (root->type != MSGPACK_OBJECT_MAP)
		return body_fail(err, errlen, "body is not a map");
	return 0;
}

/* For reasons: what a field turned out to be instead. */
static const char *
obj_kind(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return "nil";
	case MSGPACK_OBJECT_BOOLEAN:
		return "bool";
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return "integer";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return "float";
	case MSGPACK_OBJECT_STR:
		return "str";
	case MSGPACK_OBJECT_ARRAY:
		return "array";
	case MSGPACK_OBJECT_MAP:
		return "map";
	case MSGPACK_OBJECT_BIN:
		return "bin";
	case MSGPACK_OBJECT_EXT:
		return "ext";
	}
	return "?";
}

/* Results of the scalar readers below. */
#define OBJ_OK		0
#define OBJ_TYPE	-1	/* not that kind of value */
#define OBJ_RANGE	-2	/* the right kind, but it does not fit */

static int
obj_i64(const msgpack_object *o, int64_t *v)
{
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*v = o->via.i64;
		return OBJ_OK;
	}
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return OBJ_TYPE;
	if (o->via.u64 > INT64_MAX)
		return OBJ_RANGE;
	*v = (int64_t)o->via.u64;
	return OBJ_OK;
}

static int
obj_u64(const msgpack_object *o, uint64_t max, uint64_t *v)
{
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return OBJ_RANGE;
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return OBJ_TYPE;
	if (o->via.u64 > max)
		return OBJ_RANGE;
	*v = o->via.u64;
	return OBJ_OK;
}

/* Values may be sent as integers; a counter is often one. */
static int
obj_num(const msgpack_object *o, double *v)
{
	switch (o->type) {
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*v = o->via.f64;
		return OBJ_OK;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*v = (double)o->via.u64;
		return OBJ_OK;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*v = (double)o->via.i64;
		return OBJ_OK;
	default:
		return OBJ_TYPE;
	}
}

static struct pstr
obj_pstr(const msgpack_object *o)
{
	struct pstr	s;

	s.p = o->via.str.size > 0 ? o->via.str.ptr : "";
	s.n = o->via.str.size;
	return s;
}

/*
 * Top-level fields: a table of the keys a message knows, filled by one pass
 * over the map.  Keys that are not in the table, or are not strings, belong
 * to a newer peer and are skipped; a known key given twice is an error,
 * since which one wins would otherwise be an accident of this code.
 */
struct field {
	const char		*key;
	const msgpack_object	*val;
};

static int
dec_fields(const msgpack_object *root, struct field *fs, size_t nfs,
    char *err, size_t errlen)
{
	const msgpack_object_kv	*kv;
	uint32_t		 i;
	size_t			 f;

	for (i = 0; i < root->via.map.size; i++) {
		kv = &root->via.map.ptr[i];
		if (kv->key.type != MSGPACK_OBJECT_STR)
			continue;
		for (f = 0; f < nfs; f++) {
			if (!pstr_eq(obj_pstr(&kv->key), fs[f].key))
				continue;
			if (fs[f].val != NULL)
				return body_fail(err, errlen,
				    "duplicate key \"%s\"", fs[f].key);
			fs[f].val = &kv->val;
			break;
		}
	}
	return 0;
}

static int
field_missing(const struct field *f, char *err, size_t errlen)
{
	return body_fail(err, errlen, "missing required key \"%s\"", f->key);
}

/* A string field of at most max bytes; an absent optional one is "". */
static int
field_str(const struct field *f, int required, uint32_t max,
    struct pstr *out, char *err, size_t errlen)
{
	*out = (struct pstr){ "", 0 };
	if (f->val == NULL)
		return required ? field_missing(f, err, errlen) : 0;
	if (f->val->type != MSGPACK_OBJECT_STR)
		return body_fail(err, errlen, "%s is not a string (%s)",
		    f->key, obj_kind(f->val));
	if (f->val->via.str.size > max)
		return body_fail(err, errlen, "%s longer than %" PRIu32
		    " bytes", f->key, max);
	*out = obj_pstr(f->val);
	return 0;
}

/* An unsigned field of at most max; an absent optional one is 0. */
static int
field_u64(const struct field *f, int required, uint64_t max, uint64_t *out,
    char *err, size_t errlen)
{
	*out = 0;
	if (f->val == NULL)
		return required ? field_missing(f, err, errlen) : 0;
	switch (obj_u64(f->val, max, out)) {
	case OBJ_TYPE:
		return body_fail(err, errlen,
		    "%s is not an unsigned integer (%s)", f->key,
		    obj_kind(f->val));
	case OBJ_RANGE:
		return body_fail(err, errlen, "%s out of range 0..%" PRIu64,
		    f->key, max);
	}
	return 0;
}

static int
field_i64(const struct field *f, int required, int64_t *out,
    char *err, size_t errlen)
{
	*out = 0;
	if (f->val == NULL)
		return required ? field_missing(f, err, errlen) : 0;
	switch (obj_i64(f->val, out)) {
	case OBJ_TYPE:
		return body_fail(err, errlen, "%s is not an integer (%s)",
		    f->key, obj_kind(f->val));
	case OBJ_RANGE:
		return body_fail(err, errlen, "%s out of range for int64",
		    f->key);
	}
	return 0;
}

/* A boolean field; an absent optional one is 0. */
static int
field_bool(const struct field *f, int *out, char *err, size_t errlen)
{
	*out = 0;
	if (f->val == NULL)
		return 0;
	if (f->val->type != MSGPACK_OBJECT_BOOLEAN)
		return body_fail(err, errlen, "%s is not a boolean (%s)",
		    f->key, obj_kind(f->val));
	*out = f->val->via.boolean ? 1 : 0;
	return 0;
}

/*
 * SAMPLES and BATCH.
 */

/* agent: { hostname, address, os }, all optional strings. */
static int
dec_agent(const struct field *f, struct samples_msg *m, char *err,
    size_t errlen)
{
	struct field	fs[] = { { "hostname", NULL }, { "address", NULL },
			    { "os", NULL } };

	if (f->val == NULL)
		return 0;
	if (f->val->type != MSGPACK_OBJECT_MAP)
		return body_fail(err, errlen, "agent is not a map (%s)",
		    obj_kind(f->val));
	if (dec_fields(f->val, fs, 3, err, errlen) == -1 ||
	    field_str(&fs[0], 0, BODY_MAX_NAME, &m->agent.hostname, err,
	    errlen) == -1 ||
	    field_str(&fs[1], 0, BODY_MAX_NAME, &m->agent.address, err,
	    errlen) == -1 ||
	    field_str(&fs[2], 0, BODY_MAX_NAME, &m->agent.os, err,
	    errlen) == -1)
		return -1;
	m->has_agent = 1;
	return 0;
}

/*
 * series: [[name, [k, v, k, v, ...]], ...].  All labels of the message go
 * into one scratch array; the per-series pointers into it are set at the
 * end because the array may move while it grows.
 */
static int
dec_series(struct body_dec *d, const struct field *f, struct samples_msg *m,
    char *err, size_t errlen)
{
	const msgpack_object	*o = f->val, *s, *name, *labs, *k, *v;
	struct series_ref	*sr;
	struct label		*l;
	uint32_t		 i, j, nl;
	size_t			 used = 0;

	if (o == NULL)
		return field_missing(f, err, errlen);
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return body_fail(err, errlen, "series is not an array (%s)",
		    obj_kind(o));
	if (dec_reserve(&d->series, &d->series_cap, o->via.array.size,
	    sizeof(*d->series)) == -1)
		return body_fail(err, errlen, "out of memory for %" PRIu32
		    " series", o->via.array.size);

	for (i = 0; i < o->via.array.size; i++) {
		s = &o->via.array.ptr[i];
		if (s->type != MSGPACK_OBJECT_ARRAY || s->via.array.size != 2)
			return body_fail(err, errlen,
			    "series[%" PRIu32 "] is not a [name, labels] pair",
			    i);
		name = &s->via.array.ptr[0];
		labs = &s->via.array.ptr[1];
		if (name->type != MSGPACK_OBJECT_STR)
			return body_fail(err, errlen, "series[%" PRIu32
			    "]: name is not a string (%s)", i, obj_kind(name));
		if (name->via.str.size == 0)
			return body_fail(err, errlen,
			    "series[%" PRIu32 "]: name is empty", i);
		if (name->via.str.size > BODY_MAX_NAME)
			return body_fail(err, errlen, "series[%" PRIu32
			    "]: name longer than %d bytes", i, BODY_MAX_NAME);
		if (labs->type != MSGPACK_OBJECT_ARRAY)
			return body_fail(err, errlen, "series[%" PRIu32
			    "]: labels is not an array (%s)", i,
			    obj_kind(labs));
		if (labs->via.array.size % 2 != 0)
			return body_fail(err, errlen, "series[%" PRIu32
			    "]: labels has an odd number of elements", i);
		nl = labs->via.array.size / 2;
		if (nl > BODY_MAX_LABELS)
			return body_fail(err, errlen, "series[%" PRIu32
			    "]: too many labels (%" PRIu32 ", limit %d)", i,
			    nl, BODY_MAX_LABELS);
		if (dec_reserve(&d->labels, &d->labels_cap, used + nl,
		    sizeof(*d->labels)) == -1)
			return body_fail(err, errlen,
			    "out of memory for labels");

		for (j = 0; j < nl; j++) {
			k = &labs->via.array.ptr[2 * j];
			v = &labs->via.array.ptr[2 * j + 1];
			if (k->type != MSGPACK_OBJECT_STR)
				return body_fail(err, errlen, "series[%" PRIu32
				    "]: label key is not a string (%s)", i,
				    obj_kind(k));
			if (k->via.str.size == 0)
				return body_fail(err, errlen, "series[%" PRIu32
				    "]: label key is empty", i);
			if (k->via.str.size > BODY_MAX_NAME)
				return body_fail(err, errlen, "series[%" PRIu32
				    "]: label key longer than %d bytes", i,
				    BODY_MAX_NAME);
			if (v->type != MSGPACK_OBJECT_STR)
				return body_fail(err, errlen, "series[%" PRIu32
				    "]: label value is not a string (%s)", i,
				    obj_kind(v));
			if (v->via.str.size > BODY_MAX_LABELVAL)
				return body_fail(err, errlen, "series[%" PRIu32
				    "]: label value longer than %d bytes", i,
				    BODY_MAX_LABELVAL);
			l = &d->labels[used + j];
			l->k = obj_pstr(k);
			l->v = obj_pstr(v);
		}
		sr = &d->series[i];
		sr->name = obj_pstr(name);
		sr->nlabels = nl;
		used += nl;
	}

	used = 0;
	for (i = 0; i < o->via.array.size; i++) {
		sr = &d->series[i];
		sr->labels = sr->nlabels > 0 ? d->labels + used : NULL;
		used += sr->nlabels;
	}
	m->nseries = o->via.array.size;
	m->series = d->series;
	return 0;
}

/*
 * points: [idx, ts, value, ...], flat so that a point costs three small
 * objects and no array header.  This is the writer's hot loop: one pass, no
 * allocation beyond the reserve, reasons formatted only on failure.
 */
static int
dec_points(struct body_dec *d, const struct field *f, struct samples_msg *m,
    char *err, size_t errlen)
{
	const msgpack_object	*o = f->val, *e;
	struct point		*pt;
	uint64_t		 idx;
	uint32_t		 i, np;

	if (o == NULL)
		return field_missing(f, err, errlen);
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return body_fail(err, errlen, "points is not an array (%s)",
		    obj_kind(o));
	if (o->via.array.size % 3 != 0)
		return body_fail(err, errlen, "points has %" PRIu32
		    " elements, not a multiple of 3", o->via.array.size);
	np = o->via.array.size / 3;
	if (dec_reserve(&d->points, &d->points_cap, np,
	    sizeof(*d->points)) == -1)
		return body_fail(err, errlen, "out of memory for %" PRIu32
		    " points", np);

	for (i = 0; i < np; i++) {
		e = &o->via.array.ptr[3 * i];
		pt = &d->points[i];
		switch (obj_u64(&e[0], UINT32_MAX, &idx)) {
		case OBJ_TYPE:
			return body_fail(err, errlen, "points[%" PRIu32
			    "]: idx is not an unsigned integer (%s)", i,
			    obj_kind(&e[0]));
		case OBJ_RANGE:
			idx = UINT64_MAX;
			break;
		}
		if (idx >= m->nseries)
			return body_fail(err, errlen, "points[%" PRIu32
			    "]: idx out of range (%" PRIu32 " series)", i,
			    m->nseries);
		pt->idx = (uint32_t)idx;
		switch (obj_i64(&e[1], &pt->ts)) {
		case OBJ_TYPE:
			return body_fail(err, errlen, "points[%" PRIu32
			    "]: ts is not an integer (%s)", i,
			    obj_kind(&e[1]));
		case OBJ_RANGE:
			return body_fail(err, errlen, "points[%" PRIu32
			    "]: ts out of range for int64", i);
		}
		if (obj_num(&e[2], &pt->value) != OBJ_OK)
			return body_fail(err, errlen, "points[%" PRIu32
			    "]: value is not a number (%s)", i,
			    obj_kind(&e[2]));
	}
	m->npoints = np;
	m->points = d->points;
	return 0;
}

/* gaps: [[from_ts, to_ts, count], ...], optional. */
static int
dec_gaps(struct body_dec *d, const struct field *f, struct samples_msg *m,
    char *err, size_t errlen)
{
	const msgpack_object	*o = f->val, *g;
	struct gap		*gp;
	uint32_t		 i;

	if (o == NULL)
		return 0;
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return body_fail(err, errlen, "gaps is not an array (%s)",
		    obj_kind(o));
	if (dec_reserve(&d->gaps, &d->gaps_cap, o->via.array.size,
	    sizeof(*d->gaps)) == -1)
		return body_fail(err, errlen, "out of memory for gaps");

	for (i = 0; i < o->via.array.size; i++) {
		g = &o->via.array.ptr[i];
		gp = &d->gaps[i];
		if (g->type != MSGPACK_OBJECT_ARRAY || g->via.array.size != 3)
			return body_fail(err, errlen, "gaps[%" PRIu32
			    "] is not a [from_ts, to_ts, count] triple", i);
		g = g->via.array.ptr;
		if (obj_i64(&g[0], &gp->from_ts) != OBJ_OK)
			return body_fail(err, errlen, "gaps[%" PRIu32
			    "]: from_ts is not an int64 (%s)", i,
			    obj_kind(&g[0]));
		if (obj_i64(&g[1], &gp->to_ts) != OBJ_OK)
			return body_fail(err, errlen, "gaps[%" PRIu32
			    "]: to_ts is not an int64 (%s)", i,
			    obj_kind(&g[1]));
		if (obj_u64(&g[2], UINT64_MAX, &gp->count) != OBJ_OK)
			return body_fail(err, errlen, "gaps[%" PRIu32
			    "]: count is not an unsigned integer (%s)", i,
			    obj_kind(&g[2]));
		if (gp->from_ts > gp->to_ts)
			return body_fail(err, errlen, "gaps[%" PRIu32
			    "]: from_ts after to_ts", i);
	}
	m->ngaps = o->via.array.size;
	m->gaps = d->gaps;
	return 0;
}

int
body_decode_samples(struct body_dec *d, const uint8_t *p, size_t n,
    struct samples_msg *out, char *err, size_t errlen)
{
	struct field	fs[] = { { "device", NULL }, { "series", NULL },
			    { "points", NULL }, { "gaps", NULL },
			    { "id", NULL }, { "agent", NULL } };
	msgpack_object	root;

	memset(out, 0, sizeof(*out));
	out->device = (struct pstr){ "", 0 };
	if (dec_begin(d, p, n, &root, err, errlen) == -1 ||
	    dec_fields(&root, fs, 6, err, errlen) == -1 ||
	    dec_agent(&fs[5], out, err, errlen) == -1 ||
	    field_str(&fs[0], 0, BODY_MAX_NAME, &out->device, err,
	    errlen) == -1 ||
	    field_u64(&fs[4], 0, UINT64_MAX, &out->id, err, errlen) == -1)
		return -1;
	/* The series table first: points refer to it by index. */
	if (dec_series(d, &fs[1], out, err, errlen) == -1 ||
	    dec_points(d, &fs[2], out, err, errlen) == -1 ||
	    dec_gaps(d, &fs[3], out, err, errlen) == -1)
		return -1;
	return 0;
}

/*
 * The small messages.
 */

int
body_decode_hello(struct body_dec *d, const uint8_t *p, size_t n,
    struct hello_msg *out, char *err, size_t errlen)
{
	struct field	fs[] = { { "role", NULL }, { "name", NULL },
			    { "pid", NULL }, { "version", NULL },
			    { "device", NULL }, { "epoch", NULL } };
	msgpack_object	root;
	uint64_t	version;

	memset(out, 0, sizeof(*out));
	/*
	 * The version is range-checked only: a peer of another version must
	 * get as far as the caller, which answers it with ERROR.
	 */
	if (dec_begin(d, p, n, &root, err, errlen) == -1 ||
	    dec_fields(&root, fs, 6, err, errlen) == -1 ||
	    field_str(&fs[0], 1, BODY_MAX_NAME, &out->role, err,
	    errlen) == -1 ||
	    field_str(&fs[1], 1, BODY_MAX_NAME, &out->name, err,
	    errlen) == -1 ||
	    field_i64(&fs[2], 0, &out->pid, err, errlen) == -1 ||
	    field_u64(&fs[3], 1, UINT32_MAX, &version, err, errlen) == -1 ||
	    field_str(&fs[4], 0, BODY_MAX_NAME, &out->device, err,
	    errlen) == -1 ||
	    field_u64(&fs[5], 0, UINT64_MAX, &out->epoch, err, errlen) == -1)
		return -1;
	out->version = (uint32_t)version;
	return 0;
}

int
body_decode_ack(struct body_dec *d, const uint8_t *p, size_t n,
    struct ack_msg *out, char *err, size_t errlen)
{
	struct field	fs[] = { { "seq", NULL }, { "new", NULL } };
	msgpack_object	root;

	memset(out, 0, sizeof(*out));
	if (dec_begin(d, p, n, &root, err, errlen) == -1 ||
	    dec_fields(&root, fs, 2, err, errlen) == -1 ||
	    field_u64(&fs[0], 1, UINT64_MAX, &out->seq, err, errlen) == -1 ||
	    field_u64(&fs[1], 0, UINT64_MAX, &out->new_samples, err,
	    errlen) == -1)
		return -1;
	return 0;
}

int
body_decode_error(struct body_dec *d, const uint8_t *p, size_t n,
    struct error_msg *out, char *err, size_t errlen)
{
	struct field	fs[] = { { "reason", NULL } };
	msgpack_object	root;

	memset(out, 0, sizeof(*out));
	/* A reason is free text, bounded only by the frame. */
	if (dec_begin(d, p, n, &root, err, errlen) == -1 ||
	    dec_fields(&root, fs, 1, err, errlen) == -1 ||
	    field_str(&fs[0], 1, UINT32_MAX, &out->reason, err, errlen) == -1)
		return -1;
	return 0;
}

int
body_decode_ping(struct body_dec *d, const uint8_t *p, size_t n,
    struct ping_msg *out, char *err, size_t errlen)
{
	struct field	fs[] = { { "t", NULL } };
	msgpack_object	root;

	memset(out, 0, sizeof(*out));
	if (dec_begin(d, p, n, &root, err, errlen) == -1 ||
	    dec_fields(&root, fs, 1, err, errlen) == -1 ||
	    field_i64(&fs[0], 1, &out->t, err, errlen) == -1)
		return -1;
	return 0;
}

int
body_decode_fetch(struct body_dec *d, const uint8_t *p, size_t n,
    struct fetch_msg *out, char *err, size_t errlen)
{
	struct field	fs[] = { { "max", NULL }, { "backlog", NULL } };
	msgpack_object	root;
	uint64_t	max;

	memset(out, 0, sizeof(*out));
	if (dec_begin(d, p, n, &root, err, errlen) == -1 ||
	    dec_fields(&root, fs, 2, err, errlen) == -1 ||
	    field_u64(&fs[0], 1, UINT32_MAX, &max, err, errlen) == -1 ||
	    field_bool(&fs[1], &out->backlog, err, errlen) == -1)
		return -1;
	out->max = (uint32_t)max;
	return 0;
}

int
body_decode_done(struct body_dec *d, const uint8_t *p, size_t n,
    struct done_msg *out, char *err, size_t errlen)
{
	struct field	fs[] = { { "id", NULL }, { "set_aside", NULL },
			    { "reason", NULL } };
	msgpack_object	root;

	memset(out, 0, sizeof(*out));
	if (dec_begin(d, p, n, &root, err, errlen) == -1 ||
	    dec_fields(&root, fs, 3, err, errlen) == -1 ||
	    field_u64(&fs[0], 1, UINT64_MAX, &out->id, err, errlen) == -1 ||
	    field_bool(&fs[1], &out->set_aside, err, errlen) == -1 ||
	    field_str(&fs[2], 0, BODY_MAX_LABELVAL, &out->reason, err,
	    errlen) == -1)
		return -1;
	return 0;
}

int
body_decode_loglevel(struct body_dec *d, const uint8_t *p, size_t n,
    struct loglevel_msg *out, char *err, size_t errlen)
{
	struct field	fs[] = { { "level", NULL } };
	msgpack_object	root;
	int64_t		level;

	memset(out, 0, sizeof(*out));
	if (dec_begin(d, p, n, &root, err, errlen) == -1 ||
	    dec_fields(&root, fs, 1, err, errlen) == -1 ||
	    field_i64(&fs[0], 1, &level, err, errlen) == -1)
		return -1;
	/* Below LOG_ERR a daemon would hide its own failures. */
	if (level < LOG_ERR || level > LOG_DEBUG)
		return body_fail(err, errlen, "level %" PRId64 " is not a "
		    "syslog priority from %d (err) to %d (debug)", level,
		    LOG_ERR, LOG_DEBUG);
	out->level = (int)level;
	return 0;
}

/* The reply is a flat map of counters; the request is the empty map. */
int
body_decode_stats(struct body_dec *d, const uint8_t *p, size_t n,
    struct stats_msg *out, char *err, size_t errlen)
{
	const msgpack_object_kv	*kv;
	msgpack_object		 root;
	uint32_t		 i;

	memset(out, 0, sizeof(*out));
	if (dec_begin(d, p, n, &root, err, errlen) == -1)
		return -1;
	if (dec_reserve(&d->kv, &d->kv_cap, root.via.map.size,
	    sizeof(*d->kv)) == -1)
		return body_fail(err, errlen, "out of memory for stats");
	for (i = 0; i < root.via.map.size; i++) {
		kv = &root.via.map.ptr[i];
		if (kv->key.type != MSGPACK_OBJECT_STR)
			return body_fail(err, errlen, "stats[%" PRIu32
			    "]: name is not a string (%s)", i,
			    obj_kind(&kv->key));
		if (kv->key.via.str.size == 0)
			return body_fail(err, errlen,
			    "stats[%" PRIu32 "]: name is empty", i);
		if (kv->key.via.str.size > BODY_MAX_NAME)
			return body_fail(err, errlen, "stats[%" PRIu32
			    "]: name longer than %d bytes", i, BODY_MAX_NAME);
		if (obj_num(&kv->val, &d->kv[i].value) != OBJ_OK)
			return body_fail(err, errlen, "stats[%" PRIu32
			    "]: value is not a number (%s)", i,
			    obj_kind(&kv->val));
		d->kv[i].name = obj_pstr(&kv->key);
	}
	out->n = root.via.map.size;
	out->kv = d->kv;
	return 0;
}

int
body_decode_tap(struct body_dec *d, const uint8_t *p, size_t n,
    struct tap_msg *out, char *err, size_t errlen)
{
	struct field	fs[] = { { "peer", NULL }, { "dir", NULL },
			    { "lost", NULL }, { "frame", NULL } };
	msgpack_object	root;
	const msgpack_object *fr;

	memset(out, 0, sizeof(*out));
	if (dec_begin(d, p, n, &root, err, errlen) == -1 ||
	    dec_fields(&root, fs, 4, err, errlen) == -1 ||
	    field_str(&fs[0], 1, BODY_MAX_NAME, &out->peer, err,
	    errlen) == -1 ||
	    field_str(&fs[1], 1, BODY_MAX_NAME, &out->dir, err, errlen) == -1 ||
	    field_u64(&fs[2], 0, UINT64_MAX, &out->lost, err, errlen) == -1)
		return -1;
	if (!pstr_eq(out->dir, "in") && !pstr_eq(out->dir, "out"))
		return body_fail(err, errlen, "dir is not \"in\" or \"out\"");
	if ((fr = fs[3].val) == NULL)
		return field_missing(&fs[3], err, errlen);
	if (fr->type != MSGPACK_OBJECT_BIN)
		return body_fail(err, errlen, "frame is not a bin (%s)",
		    obj_kind(fr));
	out->frame = fr->via.bin.size > 0 ?
	    (const uint8_t *)fr->via.bin.ptr : (const uint8_t *)"";
	out->frame_len = fr->via.bin.size;
	return 0;
}

/*
 * Encoders.  Each validates the whole message first with the decoder's
 * limits, then packs.  A failed write (out of memory) rolls sb back to
 * where it was, so a caller never sends half a body.
 */

static int
enc_str(msgpack_packer *pk, const char *s, size_t n)
{
	if (n > UINT32_MAX || msgpack_pack_str(pk, n) != 0)
		return -1;
	/* msgpack-c would memcpy from a possibly NULL pointer. */
	if (n > 0 && msgpack_pack_str_body(pk, s, n) != 0)
		return -1;
	return 0;
}

static int
enc_key(msgpack_packer *pk, const char *key)
{
	return enc_str(pk, key, strlen(key));
}

static int
enc_pstr(msgpack_packer *pk, struct pstr s)
{
	return enc_str(pk, s.p, s.n);
}

static int
enc_end(msgpack_sbuffer *sb, size_t start, int rc)
{
	if (rc != 0) {
		sb->size = start;
		return -1;
	}
	return 0;
}

static int
enc_samples_valid(const struct samples_msg *m)
{
	const struct series_ref	*s;
	uint32_t		 i, j;

	if (m->device.n > BODY_MAX_NAME)
		return -1;
	for (i = 0; i < m->nseries; i++) {
		s = &m->series[i];
		if (s->name.n == 0 || s->name.n > BODY_MAX_NAME ||
		    s->nlabels > BODY_MAX_LABELS)
			return -1;
		for (j = 0; j < s->nlabels; j++)
			if (s->labels[j].k.n == 0 ||
			    s->labels[j].k.n > BODY_MAX_NAME ||
			    s->labels[j].v.n > BODY_MAX_LABELVAL)
				return -1;
	}
	for (i = 0; i < m->npoints; i++)
		if (m->points[i].idx >= m->nseries)
			return -1;
	for (i = 0; i < m->ngaps; i++)
		if (m->gaps[i].from_ts > m->gaps[i].to_ts)
			return -1;
	/* The flat points array counts 3 objects per point. */
	if (m->npoints > UINT32_MAX / 3)
		return -1;
	return 0;
}

/*
 * "gaps" is written only when there are some, and "id" only when it is not
 * 0: BATCH ids start at 1, and SAMPLES has none.
 */
int
body_encode_samples(msgpack_sbuffer *sb, const struct samples_msg *m)
{
	msgpack_packer		 pk;
	const struct series_ref	*s;
	const struct point	*pt;
	const struct gap	*g;
	size_t			 start = sb->size;
	uint32_t		 i, j;
	int			 rc = 0;

	if (enc_samples_valid(m) == -1)
		return -1;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	rc |= msgpack_pack_map(&pk, 3 + (m->ngaps > 0) + (m->id != 0) +
	    (m->has_agent != 0));
	rc |= enc_key(&pk, "device");
	rc |= enc_pstr(&pk, m->device);

	rc |= enc_key(&pk, "series");
	rc |= msgpack_pack_array(&pk, m->nseries);
	for (i = 0; i < m->nseries && rc == 0; i++) {
		s = &m->series[i];
		rc |= msgpack_pack_array(&pk, 2);
		rc |= enc_pstr(&pk, s->name);
		rc |= msgpack_pack_array(&pk, s->nlabels * 2);
		for (j = 0; j < s->nlabels; j++) {
			rc |= enc_pstr(&pk, s->labels[j].k);
			rc |= enc_pstr(&pk, s->labels[j].v);
		}
	}

	rc |= enc_key(&pk, "points");
	rc |= msgpack_pack_array(&pk, m->npoints * 3);
	for (i = 0; i < m->npoints && rc == 0; i++) {
		pt = &m->points[i];
		rc |= msgpack_pack_uint32(&pk, pt->idx);
		rc |= msgpack_pack_int64(&pk, pt->ts);
		rc |= msgpack_pack_double(&pk, pt->value);
	}

	if (m->ngaps > 0) {
		rc |= enc_key(&pk, "gaps");
		rc |= msgpack_pack_array(&pk, m->ngaps);
		for (i = 0; i < m->ngaps && rc == 0; i++) {
			g = &m->gaps[i];
			rc |= msgpack_pack_array(&pk, 3);
			rc |= msgpack_pack_int64(&pk, g->from_ts);
			rc |= msgpack_pack_int64(&pk, g->to_ts);
			rc |= msgpack_pack_uint64(&pk, g->count);
		}
	}
	if (m->id != 0) {
		rc |= enc_key(&pk, "id");
		rc |= msgpack_pack_uint64(&pk, m->id);
	}
	if (m->has_agent) {
		rc |= enc_key(&pk, "agent");
		rc |= msgpack_pack_map(&pk, 3);
		rc |= enc_key(&pk, "hostname");
		rc |= enc_pstr(&pk, m->agent.hostname);
		rc |= enc_key(&pk, "address");
		rc |= enc_pstr(&pk, m->agent.address);
		rc |= enc_key(&pk, "os");
		rc |= enc_pstr(&pk, m->agent.os);
	}
	return enc_end(sb, start, rc);
}

int
body_encode_hello(msgpack_sbuffer *sb, const struct hello_msg *m)
{
	msgpack_packer	pk;
	size_t		start = sb->size;
	int		rc = 0;

	if (m->role.n > BODY_MAX_NAME || m->name.n > BODY_MAX_NAME ||
	    m->device.n > BODY_MAX_NAME)
		return -1;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	rc |= msgpack_pack_map(&pk, 6);
	rc |= enc_key(&pk, "role");
	rc |= enc_pstr(&pk, m->role);
	rc |= enc_key(&pk, "name");
	rc |= enc_pstr(&pk, m->name);
	rc |= enc_key(&pk, "pid");
	rc |= msgpack_pack_int64(&pk, m->pid);
	rc |= enc_key(&pk, "version");
	rc |= msgpack_pack_uint32(&pk, m->version);
	rc |= enc_key(&pk, "device");
	rc |= enc_pstr(&pk, m->device);
	rc |= enc_key(&pk, "epoch");
	rc |= msgpack_pack_uint64(&pk, m->epoch);
	return enc_end(sb, start, rc);
}

int
body_encode_ack(msgpack_sbuffer *sb, const struct ack_msg *m)
{
	msgpack_packer	pk;
	size_t		start = sb->size;
	int		rc = 0;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	rc |= msgpack_pack_map(&pk, 2);
	rc |= enc_key(&pk, "seq");
	rc |= msgpack_pack_uint64(&pk, m->seq);
	rc |= enc_key(&pk, "new");
	rc |= msgpack_pack_uint64(&pk, m->new_samples);
	return enc_end(sb, start, rc);
}

int
body_encode_error(msgpack_sbuffer *sb, const char *reason)
{
	msgpack_packer	pk;
	size_t		start = sb->size;
	int		rc = 0;

	if (reason == NULL)
		reason = "";
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	rc |= msgpack_pack_map(&pk, 1);
	rc |= enc_key(&pk, "reason");
	rc |= enc_str(&pk, reason, strlen(reason));
	return enc_end(sb, start, rc);
}

int
body_encode_ping(msgpack_sbuffer *sb, const struct ping_msg *m)
{
	msgpack_packer	pk;
	size_t		start = sb->size;
	int		rc = 0;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	rc |= msgpack_pack_map(&pk, 1);
	rc |= enc_key(&pk, "t");
	rc |= msgpack_pack_int64(&pk, m->t);
	return enc_end(sb, start, rc);
}

int
body_encode_fetch(msgpack_sbuffer *sb, const struct fetch_msg *m)
{
	msgpack_packer	pk;
	size_t		start = sb->size;
	int		rc = 0;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	rc |= msgpack_pack_map(&pk, 2);
	rc |= enc_key(&pk, "max");
	rc |= msgpack_pack_uint32(&pk, m->max);
	rc |= enc_key(&pk, "backlog");
	rc |= m->backlog ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
	return enc_end(sb, start, rc);
}

int
body_encode_done(msgpack_sbuffer *sb, const struct done_msg *m)
{
	msgpack_packer	pk;
	size_t		start = sb->size;
	int		rc = 0;

	if (m->reason.n > BODY_MAX_LABELVAL)
		return -1;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	rc |= msgpack_pack_map(&pk, m->set_aside ? 3 : 1);
	rc |= enc_key(&pk, "id");
	rc |= msgpack_pack_uint64(&pk, m->id);
	if (m->set_aside) {
		rc |= enc_key(&pk, "set_aside");
		rc |= msgpack_pack_true(&pk);
		rc |= enc_key(&pk, "reason");
		rc |= enc_pstr(&pk, m->reason);
	}
	return enc_end(sb, start, rc);
}

int
body_encode_loglevel(msgpack_sbuffer *sb, const struct loglevel_msg *m)
{
	msgpack_packer	pk;
	size_t		start = sb->size;
	int		rc = 0;

	if (m->level < LOG_ERR || m->level > LOG_DEBUG)
		return -1;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	rc |= msgpack_pack_map(&pk, 1);
	rc |= enc_key(&pk, "level");
	rc |= msgpack_pack_int(&pk, m->level);
	return enc_end(sb, start, rc);
}

int
body_encode_stats(msgpack_sbuffer *sb, const struct stats_msg *m)
{
	msgpack_packer	pk;
	size_t		start = sb->size;
	uint32_t	i;
	int		rc = 0;

	for (i = 0; i < m->n; i++)
		if (m->kv[i].name.n == 0 || m->kv[i].name.n > BODY_MAX_NAME)
			return -1;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	rc |= msgpack_pack_map(&pk, m->n);
	for (i = 0; i < m->n && rc == 0; i++) {
		rc |= enc_pstr(&pk, m->kv[i].name);
		rc |= msgpack_pack_double(&pk, m->kv[i].value);
	}
	return enc_end(sb, start, rc);
}

int
body_encode_tap(msgpack_sbuffer *sb, const struct tap_msg *m)
{
	msgpack_packer	pk;
	size_t		start = sb->size;
	int		rc = 0;

	if (m->peer.n > BODY_MAX_NAME ||
	    (!pstr_eq(m->dir, "in") && !pstr_eq(m->dir, "out")))
		return -1;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	rc |= msgpack_pack_map(&pk, 4);
	rc |= enc_key(&pk, "peer");
	rc |= enc_pstr(&pk, m->peer);
	rc |= enc_key(&pk, "dir");
	rc |= enc_pstr(&pk, m->dir);
	rc |= enc_key(&pk, "lost");
	rc |= msgpack_pack_uint64(&pk, m->lost);
	rc |= enc_key(&pk, "frame");
	rc |= msgpack_pack_bin(&pk, m->frame_len);
	if (m->frame_len > 0)
		rc |= msgpack_pack_bin_body(&pk, m->frame, m->frame_len);
	return enc_end(sb, start, rc);
}

int
body_encode_empty(msgpack_sbuffer *sb)
{
	msgpack_packer	pk;
	size_t		start = sb->size;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	return enc_end(sb, start, msgpack_pack_map(&pk, 0));
}

/*
 * JSON, for ternctl tap.  The renderer walks the raw bytes with mp_next
 * after body_check has passed them, so it needs no msgpack-c objects and
 * its recursion is bounded by BODY_MAX_DEPTH.
 */

struct jbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 nomem;		/* sticky: later appends do nothing */
};

/* Room for more bytes plus the NUL. */
static int
jb_reserve(struct jbuf *b, size_t more)
{
	size_t	 ncap;
	char	*np;

	if (b->nomem)
		return -1;
	if (b->len + more + 1 <= b->cap)
		return 0;
	ncap = b->cap * 2;
	if (ncap < b->len + more + 1)
		ncap = b->len + more + 1;
	if (ncap < 256)
		ncap = 256;
	if ((np = realloc(b->p, ncap)) == NULL) {
		b->nomem = 1;
		return -1;
	}
	b->p = np;
	b->cap = ncap;
	return 0;
}

static void
jb_put(struct jbuf *b, const void *s, size_t n)
{
	if (n == 0 || jb_reserve(b, n) == -1)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
jb_puts(struct jbuf *b, const char *s)
{
	jb_put(b, s, strlen(s));
}

static void
jb_putc(struct jbuf *b, char c)
{
	jb_put(b, &c, 1);
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if there is none. */
static size_t
utf8_seq(const uint8_t *s, size_t n)
{
	uint8_t	lo = 0x80, hi = 0xbf;
	size_t	len, k;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (k = 2; k < len; k++)
		if ((s[k] & 0xc0) != 0x80)
			return 0;
	return len;
}

/*
 * Peer strings are not trusted to be UTF-8; each byte that does not start a
 * valid sequence becomes U+FFFD, so the output is always valid JSON.
 */
static void
json_str(struct jbuf *b, const uint8_t *s, size_t n)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 esc[8];
	size_t			 i = 0, run, k;
	uint8_t			 c;

	jb_putc(b, '"');
	while (i < n) {
		for (run = i; run < n; run++) {
			c = s[run];
			if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80)
				break;
		}
		jb_put(b, s + i, run - i);
		if ((i = run) == n)
			break;
		c = s[i];
		if (c >= 0x80) {
			if ((k = utf8_seq(s + i, n - i)) == 0) {
				jb_puts(b, "\\ufffd");
				k = 1;
			} else
				jb_put(b, s + i, k);
			i += k;
			continue;
		}
		switch (c) {
		case '"':
			jb_puts(b, "\\\"");
			break;
		case '\\':
			jb_puts(b, "\\\\");
			break;
		case '\n':
			jb_puts(b, "\\n");
			break;
		case '\r':
			jb_puts(b, "\\r");
			break;
		case '\t':
			jb_puts(b, "\\t");
			break;
		case '\b':
			jb_puts(b, "\\b");
			break;
		case '\f':
			jb_puts(b, "\\f");
			break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			jb_put(b, esc, 6);
			break;
		}
		i++;
	}
	jb_putc(b, '"');
}

static void
json_base64(struct jbuf *b, const uint8_t *s, size_t n)
{
	static const char	 tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char			*o;
	uint32_t		 v;
	size_t			 i;

	if (jb_reserve(b, (n + 2) / 3 * 4 + 2) == -1)
		return;
	o = b->p + b->len;
	*o++ = '"';
	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)s[i] << 16;
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = '=';
		*o++ = '=';
	} else if (n - i == 2) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = '=';
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
}

/*
 * The shortest of %.15g..%.17g that reads back as the same double: 0.1
 * prints as 0.1, not 0.10000000000000001, and nothing is lost.
 */
static void
json_double(struct jbuf *b, double d)
{
	char	tmp[40];
	int	prec;

	if (!isfinite(d)) {
		jb_puts(b, "null");
		return;
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	jb_puts(b, tmp);
}

/* The same for a float32, which needs 6 to 9 digits. */
static void
json_float(struct jbuf *b, float f)
{
	char	tmp[40];
	int	prec;

	if (!isfinite(f)) {
		jb_puts(b, "null");
		return;
	}
	for (prec = 6; prec <= 9; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, (double)f);
		if (strtof(tmp, NULL) == f)
			break;
	}
	jb_puts(b, tmp);
}

static void	json_value(struct jbuf *, const uint8_t *, size_t, size_t *);

/*
 * JSON keys must be strings: a key that rendered as anything else (a number,
 * null, an array) is wrapped in quotes in place, escaping the quotes and
 * backslashes its rendering contains.
 */
static void
json_key(struct jbuf *b, const uint8_t *p, size_t n, size_t *i)
{
	size_t	start = b->len, len, extra = 0, k, o;
	char	c;

	json_value(b, p, n, i);
	if (b->nomem || b->p[start] == '"')
		return;
	len = b->len - start;
	for (k = start; k < b->len; k++)
		if (b->p[k] == '"' || b->p[k] == '\\')
			extra++;
	if (jb_reserve(b, extra + 2) == -1)
		return;
	o = start + len + extra + 2;
	b->p[--o] = '"';
	for (k = start + len; k > start; k--) {
		c = b->p[k - 1];
		b->p[--o] = c;
		if (c == '"' || c == '\\')
			b->p[--o] = '\\';
	}
	b->p[--o] = '"';
	b->len = start + len + extra + 2;
}

static void
json_value(struct jbuf *b, const uint8_t *p, size_t n, size_t *i)
{
	struct mp_tok	t;
	char		tmp[64];
	uint32_t	k;
	uint32_t	u32;
	float		f;
	double		d;

	/* mp_next cannot fail on a checked body; stop rather than loop. */
	if (b->nomem || mp_next(p, n, i, &t, NULL, 0) == -1) {
		b->nomem = 1;
		return;
	}
	switch (t.kind) {
	case MP_NIL:
		jb_puts(b, "null");
		break;
	case MP_BOOL:
		jb_puts(b, t.u ? "true" : "false");
		break;
	case MP_UINT:
		snprintf(tmp, sizeof(tmp), "%" PRIu64, t.u);
		jb_puts(b, tmp);
		break;
	case MP_INT:
		snprintf(tmp, sizeof(tmp), "%" PRId64, (int64_t)t.u);
		jb_puts(b, tmp);
		break;
	case MP_F32:
		u32 = (uint32_t)t.u;
		memcpy(&f, &u32, sizeof(f));
		json_float(b, f);
		break;
	case MP_F64:
		memcpy(&d, &t.u, sizeof(d));
		json_double(b, d);
		break;
	case MP_STR:
		json_str(b, t.data, t.len);
		break;
	case MP_BIN:
		json_base64(b, t.data, t.len);
		break;
	case MP_EXT:
		snprintf(tmp, sizeof(tmp), "{\"ext\":%d,\"data\":", t.ext);
		jb_puts(b, tmp);
		json_base64(b, t.data, t.len);
		jb_putc(b, '}');
		break;
	case MP_ARRAY:
		jb_putc(b, '[');
		for (k = 0; k < t.len; k++) {
			if (k > 0)
				jb_putc(b, ',');
			json_value(b, p, n, i);
		}
		jb_putc(b, ']');
		break;
	case MP_MAP:
		jb_putc(b, '{');
		for (k = 0; k < t.len; k++) {
			if (k > 0)
				jb_putc(b, ',');
			json_key(b, p, n, i);
			jb_putc(b, ':');
			json_value(b, p, n, i);
		}
		jb_putc(b, '}');
		break;
	}
}

/*
 * *out is NULL or a buffer from an earlier call, which is reused; its
 * capacity is not known here, so it is always realloc'ed once, to at least
 * 256 bytes.  The caller frees *out, after an error too.
 */
int
body_to_json(const uint8_t *p, size_t n, char **out, size_t *outlen,
    char *err, size_t errlen)
{
	struct jbuf	b = { *out, 0, 0, 0 };
	size_t		i = 0;
	int		rc = -1;

	*outlen = 0;
	if (body_check(p, n, err, errlen) == -1)
		goto done;
	if (jb_reserve(&b, n * 2) == 0)
		json_value(&b, p, n, &i);
	if (b.nomem) {
		body_fail(err, errlen, "out of memory rendering JSON");
		goto done;
	}
	b.p[b.len] = '\0';
	*outlen = b.len;
	rc = 0;
done:
	if (rc == -1 && b.cap > 0)
		b.p[0] = '\0';
	*out = b.p;
	return rc;
}

int
pstr_eq(struct pstr a, const char *s)
{
	size_t	n = strlen(s);

	return a.n == n && (n == 0 || memcmp(a.p, s, n) == 0);
}

int
body_valid_name(const char *p, size_t n, size_t max)
{
	size_t	i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == ':' || c == '-'))
			return 0;
	}
	return 1;
}
