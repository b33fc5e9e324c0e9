/*
 * ingest.c -- see ingest.h.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "json.h"
#include "series.h"

/*
 * Points per SAMPLES frame before the size check: about 21 bytes each,
 * so 16384 points are some 350 KiB and a frame is rarely re-split.  The
 * encoder halves the count when a frame with long label sets would pass
 * FRAME_MAX_BODY anyway.
 */
#define INGEST_FRAME_POINTS	16384

static int
fail(struct ingest_err *e, const char *field, long index, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static int
fail(struct ingest_err *e, const char *field, long index, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(e->error, sizeof(e->error), fmt, ap);
	va_end(ap);
	snprintf(e->field, sizeof(e->field), "%s", field);
	e->index = index;
	e->status = 400;
	return -1;
}

void
ingest_batch_init(struct ingest_batch *b)
{
	memset(b, 0, sizeof(*b));
}

void
ingest_batch_free(struct ingest_batch *b)
{
	free(b->series);
	free(b->labels);
	free(b->points);
	free(b->tok);
	free(b->arena);
	body_dec_free(b->dec);
	memset(b, 0, sizeof(*b));
}

/* --- validation --- */


/*
 * The checks, with field names for the format at hand: sfield names the
 * series list ("series" or "metrics"), pfield the points ("points" or
 * "metrics"), and pmap, if set, maps a point index to the body's index.
 */
static int
validate(const struct samples_msg *m, const char *sfield, const char *pfield,
    struct ingest_err *e)
{
	char		 f[64], why[256];
	char		 text[SERIES_KEY_MAX];
	uint32_t	 i;

	if (m->device.n > BODY_MAX_NAME || (m->device.n > 0 &&
	    memchr(m->device.p, '\0', m->device.n) != NULL))
		return fail(e, "device", -1, "device id longer than %d bytes "
		    "or with a NUL byte", BODY_MAX_NAME);
	for (i = 0; i < m->nseries; i++) {
		const struct series_ref *s = &m->series[i];

		if (!body_valid_name(s->name.p, s->name.n, BODY_MAX_NAME)) {
			snprintf(f, sizeof(f), "%s.name", sfield);
			return fail(e, f, i, "metric name must be 1 to %d bytes "
			    "of [A-Za-z0-9_.:-]", BODY_MAX_NAME);
		}
		if (series_labels_text(s, text, sizeof(text), why,
		    sizeof(why)) == -1) {
			snprintf(f, sizeof(f), "%s.labels", sfield);
			return fail(e, f, i, "%s", why);
		}
		for (uint32_t j = 0; j < s->nlabels; j++)
			if (s->labels[j].v.n > BODY_MAX_LABELVAL) {
				snprintf(f, sizeof(f), "%s.labels", sfield);
				return fail(e, f, i, "label value longer than "
				    "%d bytes", BODY_MAX_LABELVAL);
			}
	}
	for (i = 0; i < m->npoints; i++) {
		const struct point *p = &m->points[i];

		if (p->idx >= m->nseries) {
			snprintf(f, sizeof(f), "%s", pfield);
			return fail(e, f, i, "series index %u out of range "
			    "(%u series)", p->idx, m->nseries);
		}
		if (p->ts < 0 || p->ts >= INGEST_TS_MAX_MS) {
			snprintf(f, sizeof(f), "%s.timestamp", pfield);
			return fail(e, f, i, "timestamp %lld ms is outside "
			    "1970..2100", (long long)p->ts);
		}
		if (!isfinite(p->value)) {
			snprintf(f, sizeof(f), "%s.value", pfield);
			return fail(e, f, i, "value is not a finite number");
		}
	}
	return 0;
}

int
ingest_validate(const struct samples_msg *m, struct ingest_err *e)
{
	return validate(m, "series", "points", e);
}

/* --- time --- */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Hinnant's). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t		era;
	unsigned	yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
digits(const char *s, size_t n, size_t at, size_t k, int *v)
{
	size_t	i;

	if (at + k > n)
		return -1;
	*v = 0;
	for (i = 0; i < k; i++) {
		if (s[at + i] < '0' || s[at + i] > '9')
			return -1;
		*v = *v * 10 + (s[at + i] - '0');
	}
	return 0;
}

int
ingest_rfc3339(const char *s, size_t n, int64_t *ms)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int		 y, mo, d, h, mi, sec, oh = 0, om = 0, frac = 0, fd = 0;
	size_t		 i = 19;
	int64_t		 t;

	if (digits(s, n, 0, 4, &y) || n < 20 || s[4] != '-' ||
	    digits(s, n, 5, 2, &mo) || s[7] != '-' || digits(s, n, 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s, n, 11, 2, &h) || s[13] != ':' ||
	    digits(s, n, 14, 2, &mi) || s[16] != ':' ||
	    digits(s, n, 17, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 ||
	    y % 400 == 0)))
		return -1;
	if (s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, fd++)
			if (fd < 3)
				frac = frac * 10 + (s[i] - '0');
		if (fd == 0 || fd > 9)
			return -1;
		for (; fd < 3; fd++)
			frac *= 10;
	}
	if (i >= n)
		return -1;
	if (s[i] == 'Z' || s[i] == 'z')
		i++;
	else if (s[i] == '+' || s[i] == '-') {
		if (digits(s, n, i + 1, 2, &oh) || i + 3 >= n ||
		    s[i + 3] != ':' || digits(s, n, i + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return -1;
		if (s[i] == '-') {
			oh = -oh;
			om = -om;
		}
		i += 6;
	} else
		return -1;
	if (i != n)
		return -1;
	if (sec == 60)		/* a leap second: the next second's start */
		sec = 59, frac = 999;
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + sec - (oh * 3600 + om * 60);
	*ms = t * 1000 + frac;
	return 0;
}

/* --- JSON helpers --- */

/* Tokenizes s into b->tok; 0 or -1 with e filled. */
static long
tokenize(struct ingest_batch *b, const char *s, size_t n, struct ingest_err *e)
{
	size_t	max = n / 2 + 2;
	char	why[128];
	long	nt;

	if (max > INGEST_JSON_MAX_TOKENS)
		max = INGEST_JSON_MAX_TOKENS;
	free(b->tok);
	if ((b->tok = malloc(max * sizeof(*b->tok))) == NULL) {
		fail(e, "", -1, "out of memory");
		e->status = 503;
		return -1;
	}
	free(b->arena);
	b->arena_len = 0;
	b->arena_cap = n + 64;
	if ((b->arena = malloc(b->arena_cap)) == NULL) {
		fail(e, "", -1, "out of memory");
		e->status = 503;
		return -1;
	}
	if ((nt = json_parse(s, n, b->tok, max, why, sizeof(why))) == -1) {
		fail(e, "", -1, "invalid JSON: %s", why);
		if (max == INGEST_JSON_MAX_TOKENS && strstr(why, "too many"))
			e->status = 413;
		return -1;
	}
	if (b->tok[0].type != JSON_OBJECT) {
		fail(e, "", -1, "the body must be a JSON object");
		return -1;
	}
	return nt;
}

/* Children of container i. */
static uint32_t
nchildren(const struct json_tok *t, long i)
{
	uint32_t	n = 0;
	long		j;

	for (j = i + 1; j < (long)t[i].next; j = (long)t[j].next)
		n++;
	return n;
}

/* Unescapes string token i into the arena. */
static int
str_at(struct ingest_batch *b, const char *s, long i, struct pstr *out)
{
	const struct json_tok	*t = &b->tok[i];
	char			*o = b->arena + b->arena_len;
	size_t			 room = b->arena_cap - b->arena_len;

	if (t->type != JSON_STRING || room < (size_t)(t->end - t->start) + 1)
		return -1;
	if (json_str(s, b->tok, i, o, room) == -1)
		return -1;
	out->p = o;
	out->n = (uint32_t)strlen(o);
	b->arena_len += out->n + 1;
	return 0;
}

/* A number token as a double (strings are not numbers here). */
static int
num_at(const struct ingest_batch *b, const char *s, long i, double *v)
{
	if (i < 0 || b->tok[i].type != JSON_NUMBER)
		return -1;
	return json_num(s, b->tok, i, v) == 0 && isfinite(*v) ? 0 : -1;
}

/* A timestamp: RFC 3339 string or number of ms. */
static int
ts_at(const struct ingest_batch *b, const char *s, long i, int64_t *ts)
{
	double	v;

	if (b->tok[i].type == JSON_STRING)
		return ingest_rfc3339(s + b->tok[i].start,
		    b->tok[i].end - b->tok[i].start, ts);
	if (num_at(b, s, i, &v) == -1 || v < 0 || v >= INGEST_TS_MAX_MS)
		return -1;
	*ts = (int64_t)floor(v);
	return 0;
}

/* Optional string member key of object obj into out (empty if absent). */
static int
opt_str(struct ingest_batch *b, const char *s, long obj, const char *key,
    struct pstr *out, size_t max, struct ingest_err *e, const char *field,
    long index)
{
	long	i = json_get(s, b->tok, obj, key);

	if (i < 0 || b->tok[i].type == JSON_NULL)
		return 0;
	if (str_at(b, s, i, out) == -1)
		return fail(e, field, index, "%s is not a string", key);
	if (out->n > max)
		return fail(e, field, index, "%s longer than %zu bytes", key,
		    max);
	return 0;
}

/* The labels object at token i into b->labels from *nl on. */
static int
labels_at(struct ingest_batch *b, const char *s, long i,
    struct series_ref *ref, uint32_t *nl, const char *field, long index,
    struct ingest_err *e)
{
	long	j;

	ref->labels = b->labels + *nl;
	ref->nlabels = 0;
	if (i < 0 || b->tok[i].type == JSON_NULL)
		return 0;
	if (b->tok[i].type != JSON_OBJECT)
		return fail(e, field, index, "labels must be an object of "
		    "strings");
	for (j = i + 1; j < (long)b->tok[i].next; j = (long)b->tok[j + 1].next) {
		struct label	*l = &b->labels[*nl];

		if (ref->nlabels == BODY_MAX_LABELS)
			return fail(e, field, index, "more than %d labels",
			    BODY_MAX_LABELS);
		if (str_at(b, s, j, &l->k) == -1 ||
		    str_at(b, s, j + 1, &l->v) == -1)
			return fail(e, field, index, "label values must be "
			    "strings");
		ref->nlabels++;
		(*nl)++;
	}
	return 0;
}

static int
alloc_arrays(struct ingest_batch *b, uint32_t nseries, uint32_t npoints,
    size_t nlabels, struct ingest_err *e)
{
	free(b->series);
	free(b->points);
	free(b->labels);
	b->series = calloc(nseries + 1, sizeof(*b->series));
	b->points = calloc(npoints + 1, sizeof(*b->points));
	b->labels = calloc(nlabels + 1, sizeof(*b->labels));
	if (b->series == NULL || b->points == NULL || b->labels == NULL) {
		fail(e, "", -1, "out of memory");
		e->status = 503;
		return -1;
	}
	memset(&b->m, 0, sizeof(b->m));
	b->m.series = b->series;
	b->m.points = b->points;
	return 0;
}

static int
agent_at(struct ingest_batch *b, const char *s, long i, struct ingest_err *e)
{
	if (i < 0 || b->tok[i].type == JSON_NULL)
		return 0;
	if (b->tok[i].type != JSON_OBJECT)
		return fail(e, "agent", -1, "agent must be an object");
	if (opt_str(b, s, i, "hostname", &b->m.agent.hostname, BODY_MAX_NAME,
	    e, "agent.hostname", -1) == -1 ||
	    opt_str(b, s, i, "address", &b->m.agent.address, BODY_MAX_NAME,
	    e, "agent.address", -1) == -1 ||
	    opt_str(b, s, i, "os", &b->m.agent.os, BODY_MAX_NAME, e,
	    "agent.os", -1) == -1)
		return -1;
	b->m.has_agent = 1;
	return 0;
}

/* --- the formats --- */

int
ingest_parse_msgpack(struct ingest_batch *b, const uint8_t *p, size_t n,
    struct ingest_err *e)
{
	char	why[256];

	if (b->dec == NULL && (b->dec = body_dec_new()) == NULL) {
		fail(e, "", -1, "out of memory");
		e->status = 503;
		return -1;
	}
	if (body_decode_samples(b->dec, p, n, &b->m, why, sizeof(why)) == -1) {
		/* The decoder names the field: "points[7]: ts is not ...". */
		char	 field[64] = "";
		long	 index = -1;
		size_t	 k = strcspn(why, "[:");

		if (k < sizeof(field) && why[k] != '\0' && k > 0 &&
		    strchr(why, ' ') > why + k) {
			memcpy(field, why, k);
			field[k] = '\0';
			if (why[k] == '[')
				index = strtol(why + k + 1, NULL, 10);
		}
		return fail(e, field, index, "%s", why);
	}
	return ingest_validate(&b->m, e);
}

int
ingest_parse_json(struct ingest_batch *b, const char *s, size_t n,
    struct ingest_err *e)
{
	long		 nt, ser, pts, i, j, k;
	uint32_t	 ns, np, nl = 0, x = 0;
	double		 v;

	if ((nt = tokenize(b, s, n, e)) == -1)
		return -1;
	ser = json_get(s, b->tok, 0, "series");
	pts = json_get(s, b->tok, 0, "points");
	if (ser < 0 || b->tok[ser].type != JSON_ARRAY)
		return fail(e, "series", -1, "series must be an array");
	if (pts < 0 || b->tok[pts].type != JSON_ARRAY)
		return fail(e, "points", -1, "points must be an array");
	ns = nchildren(b->tok, ser);
	np = nchildren(b->tok, pts);
	if (alloc_arrays(b, ns, np, (size_t)nt / 2, e) == -1)
		return -1;
	if (opt_str(b, s, 0, "device", &b->m.device, BODY_MAX_NAME, e,
	    "device", -1) == -1 ||
	    agent_at(b, s, json_get(s, b->tok, 0, "agent"), e) == -1)
		return -1;
	for (i = ser + 1; i < (long)b->tok[ser].next; i = (long)b->tok[i].next,
	    x++) {
		struct series_ref	*r = &b->series[x];
		long			 nm;

		if (b->tok[i].type != JSON_OBJECT)
			return fail(e, "series", x, "a series must be an object "
			    "{\"name\", \"labels\"}");
		nm = json_get(s, b->tok, i, "name");
		if (nm < 0 || str_at(b, s, nm, &r->name) == -1)
			return fail(e, "series.name", x, "name must be a string");
		if (labels_at(b, s, json_get(s, b->tok, i, "labels"), r, &nl,
		    "series.labels", x, e) == -1)
			return -1;
	}
	b->m.nseries = ns;
	for (i = pts + 1, x = 0; i < (long)b->tok[pts].next;
	    i = (long)b->tok[i].next, x++) {
		struct point	*p = &b->points[x];

		if (b->tok[i].type != JSON_ARRAY || nchildren(b->tok, i) != 3)
			return fail(e, "points", x, "a point must be [series "
			    "index, timestamp, value]");
		j = i + 1;
		if (num_at(b, s, j, &v) == -1 || v < 0 || v != floor(v) ||
		    v >= ns)
			return fail(e, "points.index", x, "series index must be "
			    "an integer below %u", ns);
		p->idx = (uint32_t)v;
		k = (long)b->tok[j].next;
		if (ts_at(b, s, k, &p->ts) == -1)
			return fail(e, "points.timestamp", x, "timestamp must be "
			    "RFC 3339 or ms since the epoch, 1970..2100");
		k = (long)b->tok[k].next;
		if (num_at(b, s, k, &p->value) == -1)
			return fail(e, "points.value", x, "value must be a "
			    "finite number");
	}
	b->m.npoints = np;
	return validate(&b->m, "series", "points", e);
}

int
ingest_parse_seed003(struct ingest_batch *b, const char *s, size_t n,
    int64_t now_ms, struct ingest_err *e)
{
	long		 nt, ms, i, k;
	uint32_t	 nm, nl = 0, x = 0;
	int64_t		 ts0 = now_ms;

	if ((nt = tokenize(b, s, n, e)) == -1)
		return -1;
	ms = json_get(s, b->tok, 0, "metrics");
	if (ms < 0 || b->tok[ms].type != JSON_ARRAY)
		return fail(e, "metrics", -1, "metrics must be an array");
	nm = nchildren(b->tok, ms);
	if (alloc_arrays(b, nm, nm, (size_t)nt / 2, e) == -1)
		return -1;
	if (opt_str(b, s, 0, "device_id", &b->m.device, BODY_MAX_NAME, e,
	    "device_id", -1) == -1)
		return -1;
	if ((k = json_get(s, b->tok, 0, "timestamp")) >= 0 &&
	    ts_at(b, s, k, &ts0) == -1)
		return fail(e, "timestamp", -1, "timestamp must be RFC 3339 "
		    "(\"2025-10-11T14:30:00.123Z\") or ms since the epoch, "
		    "1970..2100");
	for (i = ms + 1; i < (long)b->tok[ms].next; i = (long)b->tok[i].next,
	    x++) {
		struct series_ref	*r = &b->series[x];
		struct point		*p = &b->points[x];

		if (b->tok[i].type != JSON_OBJECT)
			return fail(e, "metrics", x, "a metric must be an object "
			    "{\"name\", \"value\", \"timestamp\"}");
		k = json_get(s, b->tok, i, "name");
		if (k < 0 || str_at(b, s, k, &r->name) == -1)
			return fail(e, "metrics.name", x, "name must be a string");
		k = json_get(s, b->tok, i, "value");
		if (k < 0 || num_at(b, s, k, &p->value) == -1)
			return fail(e, "metrics.value", x, "value must be a "
			    "finite number");
		p->ts = ts0;
		k = json_get(s, b->tok, i, "timestamp");
		if (k >= 0 && ts_at(b, s, k, &p->ts) == -1)
			return fail(e, "metrics.timestamp", x, "timestamp must "
			    "be RFC 3339 (\"2025-10-11T14:30:00.123Z\") or ms "
			    "since the epoch, 1970..2100");
		if (labels_at(b, s, json_get(s, b->tok, i, "labels"), r, &nl,
		    "metrics.labels", x, e) == -1)
			return -1;
		p->idx = x;
	}
	b->m.nseries = nm;
	b->m.npoints = nm;
	return validate(&b->m, "metrics", "metrics", e);
}

/* Seed 000's figures, and the series names they are stored under. */
static const char *const agent_metrics[] = {
	"cpu_usage", "memory_used", "memory_total", "disk_free_percent",
};
#define NAGENT_METRICS	(sizeof(agent_metrics) / sizeof(agent_metrics[0]))

/* The first of the keys present in object obj, or -1. */
static long
get_any(const struct ingest_batch *b, const char *s, long obj,
    const char *const *keys)
{
	long	i;

	for (; *keys != NULL; keys++)
		if ((i = json_get(s, b->tok, obj, *keys)) >= 0 &&
		    b->tok[i].type != JSON_NULL)
			return i;
	return -1;
}

int
ingest_parse_agent(struct ingest_batch *b, const char *s, size_t n,
    int64_t now_ms, struct ingest_err *e)
{
	static const char *const idk[] = { "agent_id", "id", NULL };
	static const char *const hostk[] = { "hostname", NULL };
	static const char *const ipk[] = { "ip", "ip_address", "address",
	    NULL };
	static const char *const osk[] = { "os", NULL };
	static const char *const tsk[] = { "timestamp", "time", NULL };
	long		 k, src, mobj;
	int64_t		 ts = now_ms;
	size_t		 i;
	uint32_t	 np = 0;

	if (tokenize(b, s, n, e) == -1)
		return -1;
	if (alloc_arrays(b, NAGENT_METRICS, NAGENT_METRICS, 0, e) == -1)
		return -1;
	/* The agent may be nested ({"agent": {...}}) or flat. */
	src = json_get(s, b->tok, 0, "agent");
	if (src < 0 || b->tok[src].type != JSON_OBJECT)
		src = 0;
	if ((k = get_any(b, s, src, idk)) >= 0 &&
	    str_at(b, s, k, &b->m.device) == -1)
		return fail(e, "agent_id", -1, "agent_id must be a string");
	if ((k = get_any(b, s, src, hostk)) < 0 ||
	    str_at(b, s, k, &b->m.agent.hostname) == -1 ||
	    b->m.agent.hostname.n == 0)
		return fail(e, "hostname", -1, "hostname must be a non-empty "
		    "string");
	if ((k = get_any(b, s, src, ipk)) >= 0 &&
	    str_at(b, s, k, &b->m.agent.address) == -1)
		return fail(e, "ip", -1, "ip must be a string");
	if ((k = get_any(b, s, src, osk)) >= 0 &&
	    str_at(b, s, k, &b->m.agent.os) == -1)
		return fail(e, "os", -1, "os must be a string");
	if (b->m.agent.hostname.n > BODY_MAX_NAME ||
	    b->m.agent.address.n > BODY_MAX_NAME ||
	    b->m.agent.os.n > BODY_MAX_NAME)
		return fail(e, b->m.agent.hostname.n > BODY_MAX_NAME ?
		    "hostname" : b->m.agent.address.n > BODY_MAX_NAME ? "ip" :
		    "os", -1, "longer than %d bytes", BODY_MAX_NAME);
	b->m.has_agent = 1;
	if ((k = get_any(b, s, 0, tsk)) >= 0 && ts_at(b, s, k, &ts) == -1)
		return fail(e, "timestamp", -1, "timestamp must be RFC 3339 or "
		    "ms since the epoch, 1970..2100");
	/* The figures may sit beside the agent or in "metrics": {...}. */
	mobj = json_get(s, b->tok, 0, "metrics");
	if (mobj < 0 || b->tok[mobj].type != JSON_OBJECT)
		mobj = 0;
	for (i = 0; i < NAGENT_METRICS; i++) {
		if ((k = json_get(s, b->tok, mobj, agent_metrics[i])) < 0 ||
		    b->tok[k].type == JSON_NULL)
			continue;
		if (num_at(b, s, k, &b->points[np].value) == -1)
			return fail(e, agent_metrics[i], -1, "%s must be a finite "
			    "number", agent_metrics[i]);
		b->series[np].name = PSTR(agent_metrics[i]);
		b->points[np].idx = np;
		b->points[np].ts = ts;
		np++;
	}
	b->m.nseries = np;
	b->m.npoints = np;
	return validate(&b->m, "metrics", "metrics", e);
}

/* --- frames --- */

long
ingest_encode(const struct samples_msg *m, size_t max_body,
    ingest_emit_cb emit, void *arg, char *err, size_t errlen)
{
	msgpack_sbuffer		 sb;
	struct samples_msg	 sm;
	int32_t			*remap = NULL;
	uint32_t		*orig = NULL;
	struct series_ref	*sub = NULL;
	struct point		*pts = NULL;
	uint32_t		 start = 0, want, cnt, ns, j, cap;
	int64_t			 from, to;
	long			 nbodies = 0, rc = -1;

	msgpack_sbuffer_init(&sb);
	cap = m->npoints < INGEST_FRAME_POINTS ? m->npoints :
	    INGEST_FRAME_POINTS;
	remap = malloc((m->nseries + 1) * sizeof(*remap));
	orig = malloc((cap + 1) * sizeof(*orig));
	sub = malloc((cap + 1) * sizeof(*sub));
	pts = malloc((cap + 1) * sizeof(*pts));
	if (remap == NULL || orig == NULL || sub == NULL || pts == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (j = 0; j < m->nseries; j++)
		remap[j] = -1;
	want = cap;
	do {
		cnt = m->npoints - start < want ? m->npoints - start : want;
		ns = 0;
		from = INT64_MAX;
		to = INT64_MIN;
		for (j = 0; j < cnt; j++) {
			struct point	p = m->points[start + j];

			if (remap[p.idx] < 0) {
				remap[p.idx] = (int32_t)ns;
				orig[ns] = p.idx;
				sub[ns++] = m->series[p.idx];
			}
			p.idx = (uint32_t)remap[p.idx];
			pts[j] = p;
			if (p.ts < from)
				from = p.ts;
			if (p.ts > to)
				to = p.ts;
		}
		for (j = 0; j < ns; j++)
			remap[orig[j]] = -1;
		memset(&sm, 0, sizeof(sm));
		sm.device = m->device;
		sm.nseries = ns;
		sm.series = sub;
		sm.npoints = cnt;
		sm.points = pts;
		if (start == 0) {
			sm.ngaps = m->ngaps;
			sm.gaps = m->gaps;
		}
		sm.has_agent = m->has_agent;
		sm.agent = m->agent;
		msgpack_sbuffer_clear(&sb);
		if (body_encode_samples(&sb, &sm) == -1) {
			snprintf(err, errlen, "a series breaks a frame limit");
			goto out;
		}
		if (sb.size > max_body) {
			if (cnt <= 1) {
				snprintf(err, errlen, "one point does not fit in "
				    "a frame");
				goto out;
			}
			want = cnt / 2;
			continue;
		}
		if (cnt == 0)
			from = to = 0;
		if (emit(arg, (const uint8_t *)sb.data, sb.size, cnt, from,
		    to) == -1) {
			snprintf(err, errlen, "cannot queue a frame");
			goto out;
		}
		nbodies++;
		start += cnt;
	} while (start < m->npoints);
	rc = nbodies;
out:
	msgpack_sbuffer_destroy(&sb);
	free(remap);
	free(orig);
	free(sub);
	free(pts);
	return rc;
}
