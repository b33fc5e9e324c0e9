/*
 * rate.h -- monotonic counters turned into per-second rates.
 *
 * A rate table remembers, per key (a source-chosen string such as
 * "eth0/rx_bytes"), the last value and when it was read.  rate_update
 * gives the rate since then, or nothing when there is no honest rate:
 *
 *  - the first reading of a key (nothing to compare with);
 *  - time did not advance (clock stepped back, or two reads in one ms);
 *  - the counter went backwards and it was not a wrap: a reset.  The
 *    interface was re-created, the disk re-attached, the SRT connection
 *    restarted.  The new value becomes the base and the next interval has
 *    a rate again.  A reset never produces a negative or huge rate.
 *
 * Wrap-around.  /proc/net/dev and /proc/diskstats print "unsigned long",
 * which is 32 bits on a 32-bit ARM kernel and 64 bits elsewhere, and a
 * sampler does not know which kernel printed the number.  The rule:
 *
 *  - RATE_W64: a decrease is always a reset.  A 64-bit byte counter at
 *    100 Gbit/s wraps after 46 years; a decrease means a reset.
 *  - RATE_W32 and RATE_WAUTO: a decrease is a wrap of a 32-bit counter
 *    when both readings fit in 32 bits and the counter fell by more than
 *    2^31 (prev - cur > 2^31).  Then delta = 2^32 - prev + cur, which is
 *    below 2^31: the counter advanced less than half its range, which is
 *    the only kind of wrap one can tell from a reset.  A smaller fall is
 *    a reset.  (A 32-bit byte counter at 1 Gbit/s wraps every 34 s, so
 *    at a 10 s interval it advances 1.25e9 < 2^31 and the rule holds.)
 *    RATE_WAUTO and RATE_W32 differ only in that RATE_W32 also treats a
 *    reading above 2^32 as a reset (the counter cannot hold it).
 *  - A caller that knows a plausible maximum rate passes max_rate; a
 *    computed rate above it (a reset that looked like a wrap, a counter
 *    that jumped) yields no sample.  0 means no limit.
 *
 * A reboot never reaches the table: the sampler restarts with it and
 * starts with empty tables, so the first interval after a boot has no
 * rate.
 *
 * Keys not updated in a round are forgotten by rate_sweep, so a table does
 * not grow with every veth interface a container host ever had.
 */
#ifndef TERN_RATE_H
#define TERN_RATE_H

#include <stddef.h>
#include <stdint.h>

/* Keys per table: a source with more counters than this is broken. */
#define RATE_MAX_KEYS	16384

enum rate_width {
	RATE_WAUTO = 0,
	RATE_W32,
	RATE_W64,
};

struct rate_tab;

/* Returns an empty table or NULL.  rate_free accepts NULL. */
struct rate_tab	*rate_new(void);
void		 rate_free(struct rate_tab *);

/*
 * Records counter key = v read at ts_ms.  Returns 1 and sets *rate (units
 * per second) when there is a rate, 0 when there is none (see above), -1
 * when the table is full or out of memory (the key is not recorded).
 * *delta, if not NULL, receives the counter's advance on a return of 1.
 */
int	rate_update(struct rate_tab *, const char *key, uint64_t v,
	    int64_t ts_ms, enum rate_width w, double max_rate, double *rate,
	    uint64_t *delta);

/*
 * The counter arithmetic alone, for callers that keep their own previous
 * values (cpu ticks, SRT packets): returns 1 and sets *delta when cur
 * follows prev by the rule above, 0 for a reset.
 */
int	rate_delta(uint64_t prev, uint64_t cur, enum rate_width w,
	    uint64_t *delta);

/* Forgets keys not updated since the previous rate_sweep.  Call once per
 * round, after the round's updates. */
void	rate_sweep(struct rate_tab *);

/* Keys held. */
size_t	rate_count(const struct rate_tab *);

#endif
