/*
 * rollup.h -- tiers of history: minute, hour and day buckets (configurable)
 * of count, sum, min, max and last per series.
 *
 * The rule that keeps every tier exact is that a bucket is only ever
 * recomputed from scratch, never patched: the finest tier from the raw
 * samples of its bucket, each coarser tier from the rows of the tier
 * below through sum and count (so averages are weighted and min/max are
 * the true extremes).  What needs recomputing is a queue of dirty
 * (tier, series, bucket) rows:
 *
 *   - a commit marks the finest-tier bucket of every new sample dirty, in
 *     the same transaction as the sample, so a crash cannot lose a mark;
 *   - a rollup step recomputes a series' dirty buckets that are complete
 *     (their end has passed), writes the rows, marks the parent buckets
 *     dirty and clears its own marks, again in one transaction.
 *
 * A late sample -- a device's backfill hours later -- is therefore just a
 * sample whose bucket is already complete: the next step recomputes it and
 * everything above it.  A kill -9 in the middle of a step rolls the step
 * back; its marks are still there and it is done again.
 */
#ifndef TERN_ROLLUP_H
#define TERN_ROLLUP_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "series.h"
#include "store.h"

struct rollup;

/* Returns NULL with a reason in err (statement preparation failed). */
struct rollup	*rollup_new(struct store *, struct series_table *,
		    const struct conf_writer *, char *err, size_t errlen);
void		 rollup_free(struct rollup *);

/* Takes a new tier list (SIGHUP). */
void		 rollup_set_tiers(struct rollup *, const struct conf_writer *);

/*
 * Marks the finest-tier buckets of s's new samples ts[0..n) (ascending)
 * dirty.  Inside the caller's transaction; 0 or -1 (store->err).  If that
 * transaction is rolled back, call rollup_forget(s).
 */
int		 rollup_mark(struct rollup *, struct series *s,
		    const int64_t *ts, size_t n);
void		 rollup_forget(struct series *s);

/*
 * One bounded step: recomputes up to max_buckets complete dirty buckets
 * of one series in one tier, in one transaction.  Returns the number of
 * buckets done (0: nothing due), or -1 (store->err).
 */
int		 rollup_step(struct rollup *, int64_t now_ms, int max_buckets);

/* Dirty buckets waiting, all tiers (for STATS). */
int64_t		 rollup_pending(struct rollup *);

#endif
