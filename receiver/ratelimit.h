/*
 * ratelimit.h -- a token bucket per device, on samples per second.
 *
 * Each device may send rate samples a second on average and bursts of up
 * to burst samples.  A request larger than the burst is let through when
 * the bucket is full and leaves it in debt, so a big backfill is slowed,
 * never refused for ever.  No I/O: time is passed in.
 */
#ifndef TERN_RATELIMIT_H
#define TERN_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "tokens.h"

/*
 * Devices tracked at once.  A fleet larger than this still works: the
 * bucket idle longest (the fullest one) is forgotten, which only forgives
 * a little debt.
 */
#define RATELIMIT_MAX_DEVICES	4096

struct bucket {
	double	tokens;		/* samples allowed now; negative: debt */
	double	last_ms;	/* when tokens was computed */
};

/*
 * Takes n samples from b at time now_ms (monotonic).  Returns 0, or -1
 * with *retry_s set to the whole seconds after which the same request
 * would pass.  rate 0 means no limit.
 */
int	bucket_take(struct bucket *b, double rate, double burst, double now_ms,
	    uint64_t n, uint32_t *retry_s);

struct ratelimit_ent {
	char		device[TOKENS_DEVICE_MAX + 1];
	struct bucket	b;
};

struct ratelimit {
	struct ratelimit_ent	*v;
	size_t			 n, cap;
	double			 rate, burst;
};

void	ratelimit_init(struct ratelimit *, uint32_t rate, uint32_t burst);
void	ratelimit_free(struct ratelimit *);
/* bucket_take on device's bucket (a new device starts full). */
int	ratelimit_take(struct ratelimit *, const char *device, double now_ms,
	    uint64_t n, uint32_t *retry_s);

#endif
