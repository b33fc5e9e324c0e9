/*
 * ratelimit.c -- see ratelimit.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

int
bucket_take(struct bucket *b, double rate, double burst, double now_ms,
    uint64_t n, uint32_t *retry_s)
{
	double	need = (double)n < burst ? (double)n : burst;
	double	wait;

	if (rate <= 0)
		return 0;
	if (now_ms > b->last_ms) {
		b->tokens += (now_ms - b->last_ms) / 1000.0 * rate;
		if (b->tokens > burst)
			b->tokens = burst;
		b->last_ms = now_ms;
	}
	if (b->tokens >= need) {
		b->tokens -= (double)n;
		return 0;
	}
	wait = ceil((need - b->tokens) / rate);
	*retry_s = wait < 1 ? 1 : (wait > 86400 ? 86400 : (uint32_t)wait);
	return -1;
}

void
ratelimit_init(struct ratelimit *r, uint32_t rate, uint32_t burst)
{
	memset(r, 0, sizeof(*r));
	r->rate = rate;
	r->burst = burst;
}

void
ratelimit_free(struct ratelimit *r)
{
	free(r->v);
	r->v = NULL;
	r->n = r->cap = 0;
}

int
ratelimit_take(struct ratelimit *r, const char *device, double now_ms,
    uint64_t n, uint32_t *retry_s)
{
	struct ratelimit_ent	*e = NULL;
	size_t			 i, oldest = 0;

	if (r->rate <= 0)
		return 0;
	for (i = 0; i < r->n; i++)
		if (strcmp(r->v[i].device, device) == 0) {
			e = &r->v[i];
			break;
		}
	if (e == NULL) {
		if (r->n == r->cap && r->cap < RATELIMIT_MAX_DEVICES) {
			size_t			 nc = r->cap ? r->cap * 2 : 16;
			struct ratelimit_ent	*nv = realloc(r->v,
			    nc * sizeof(*nv));

			if (nv != NULL) {
				r->v = nv;
				r->cap = nc;
			}
		}
		if (r->n < r->cap)
			e = &r->v[r->n++];
		else {
			if (r->n == 0)
				return 0;	/* no memory: do not limit */
			for (i = 1; i < r->n; i++)
				if (r->v[i].b.last_ms < r->v[oldest].b.last_ms)
					oldest = i;
			e = &r->v[oldest];
		}
		memset(e, 0, sizeof(*e));
		strncpy(e->device, device, sizeof(e->device) - 1);
		e->b.tokens = r->burst;
		e->b.last_ms = now_ms;
	}
	return bucket_take(&e->b, r->rate, r->burst, now_ms, n, retry_s);
}
