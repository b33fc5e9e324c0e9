/*
 * rollup.h -- tiers of history: minute, hour and day buckets (configurable)
 * of count, sum, min, max and last per series.
 *
 * The rule that keeps every tier exact is that a bucket is only ever
 * recomputed from scratch, never patched: from the raw samples of its
 * bucket, or, for a coarser tier, from the rows of the tier below through
 * sum and count (so averages are weighted and min/max are the true
 * extremes).  What needs recomputing is known two ways:
 *
 *   - new samples: per series and tier, a watermark (table rolled, and
 *     struct series' rolled[]) before which everything is rolled up.  A
 *     step recomputes the complete buckets after it -- for the finest
 *     tier up to the series' newest sample, for a coarser one up to the
 *     tier below's watermark -- and moves it, in one transaction.  A
 *     commit of samples that arrive in order writes nothing for the
 *     rollup at all, which is what keeps ingest's writes per sample low.
 *
 *   - late samples, older than the finest tier's watermark (a device's
 *     backfill hours later): the commit marks their finest buckets dirty
 *     in a queue, in the same transaction as the samples; a step
 *     recomputes them, marks their parents dirty and clears its marks.
 *
 * A kill -9 in the middle of a step rolls the step back; the watermark
 * and marks are what they were, and the step is done again.
 *
 * Buckets older than their tier keeps are never written (retention would
 * only delete them), so a bucket of a coarser tier that the tier below no
 * longer holds is made from the raw samples instead.  Retention keeps the
 * raw samples that any tier still has to read (rollup_raw_keep).
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

/* Takes a new tier list (SIGHUP) and reloads the watermarks; 0 or -1
 * (store->err). */
int		 rollup_set_tiers(struct rollup *, const struct conf_writer *);

/*
 * Marks the finest-tier buckets of s's new samples ts[0..n) (ascending)
 * that are older than its watermark dirty.  Inside the caller's transaction; 0 or -1 (store->err).  If that
 * transaction is rolled back, call rollup_forget(s).
 */
int		 rollup_mark(struct rollup *, struct series *s,
		    const int64_t *ts, size_t n);
void		 rollup_forget(struct series *s);

/*
 * 1 if a late sample of s at ts (older than the raw retention) must be
 * refused: a bucket holding it exists that would be recomputed from raw
 * samples already pruned, and would shrink to the late sample.  0 if it
 * can be stored, -1 (store->err).
 */
int		 rollup_too_late(struct rollup *, struct series *s, int64_t ts,
		    int64_t now_ms);

/*
 * One bounded step: recomputes up to max_buckets complete buckets, of one
 * series or of several in turn, in one transaction.  Returns >0 if it did
 * something (call again), 0 when nothing is due, or -1 (store->err).
 */
int		 rollup_step(struct rollup *, int64_t now_ms, int max_buckets);

/* Complete buckets waiting, all tiers, roughly (for STATS). */
int64_t		 rollup_pending(struct rollup *, int64_t now_ms);

/* Lowers *from to the oldest raw sample of s that a tier still has to
 * read (retention prunes raw only before it). */
void		 rollup_raw_keep(const struct rollup *, const struct series *s,
		    int64_t now_ms, int64_t *from);

#endif
