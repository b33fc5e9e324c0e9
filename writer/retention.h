/*
 * retention.h -- pruning raw samples and tier rows past their retention,
 * in small transactions, and handing the space back to the file system.
 *
 * Nothing is pruned that a pending rollup still needs: raw samples stay
 * until the finest tier's dirty buckets over them are recomputed, and a
 * tier's rows stay until the parent tier's dirty buckets over them are.
 * While an uploader is configured, raw samples not yet uploaded are kept
 * past their retention, up to writer.raw_unuploaded_bytes; past that the
 * oldest go, and a gap row records what was lost.
 */
#ifndef TERN_RETENTION_H
#define TERN_RETENTION_H

#include <stdint.h>

#include "conf.h"
#include "series.h"
#include "rollup.h"
#include "store.h"

struct retention;

struct retention_stats {
	uint64_t	raw_rows, tier_rows;	/* deleted */
	uint64_t	capped_samples;		/* unuploaded, dropped */
	uint64_t	vacuumed_pages;
};

struct retention *retention_new(struct store *, struct series_table *,
		    const struct rollup *,
		    char *err, size_t errlen);
void		 retention_free(struct retention *);

/*
 * One bounded step of a pass over every series (cursor starts at 0).
 * Returns 1 while the pass goes on, 0 when it is complete (then the cap
 * and the vacuum have run too), -1 on error (store->err).
 */
int		 retention_step(struct retention *, const struct conf_writer *,
		    int64_t now_ms, int64_t *cursor);

void		 retention_stats(const struct retention *,
		    struct retention_stats *);

#endif
