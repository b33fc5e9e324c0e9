/*
 * batch.h -- the samples of one SAMPLES frame while sources fill it.
 *
 * A batch holds a series table (metric name plus labels sorted by key,
 * each distinct series stored once) and a list of points that refer to it
 * by index.  Every string handed to batch_add is copied into memory the
 * batch owns, so a source may pass pointers into its read buffer.
 *
 * batch_view presents the batch as the struct samples_msg that
 * body_encode_samples (proto/body.h) takes, without copying points.
 *
 * Everything is bounded: a full batch refuses points and counts them, and
 * the scheduler stops calling sources when the room left is small so that
 * the main loop can send the batch and reset it.
 */
#ifndef TERN_BATCH_H
#define TERN_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "body.h"

/*
 * 8192 points is a 1 s round of every system source on a 64-core server
 * with 32 interfaces and 16 disks, with room to spare; encoded (about 12
 * bytes a point) it is under 100 kB, well within a frame.
 */
#define BATCH_MAX_POINTS	8192
/* At most one series per point. */
#define BATCH_MAX_SERIES	BATCH_MAX_POINTS
/*
 * Names and label strings of the series table.  A series costs some 60
 * bytes of strings on average; 1 MiB is four times what a full table
 * needs and stops a runaway exec script from eating memory.
 */
#define BATCH_MAX_STRBYTES	(1u << 20)

/* A label as a source passes it: two NUL-terminated strings. */
struct label_kv {
	const char	*k;
	const char	*v;
};

struct batch;

/* Returns an empty batch, or NULL when out of memory.  batch_free
 * accepts NULL. */
struct batch	*batch_new(void);
void		 batch_free(struct batch *);

/*
 * Adds one point of series name{labels} at ts_ms with value v.  The labels
 * need not be sorted; a label with an empty value is dropped (Prometheus
 * treats it as absent).  Strings are copied.
 *
 * Returns 0, or -1 when the point was refused: the batch is full, or the
 * series breaks a limit of body.h (name or label too long, more than
 * BODY_MAX_LABELS labels, duplicate label key, empty name).  Refused
 * points are counted in batch_dropped.
 */
int		 batch_add(struct batch *, const char *name,
		    const struct label_kv *labels, size_t nlabels,
		    int64_t ts_ms, double v);

/* Forgets all series and points; keeps the memory for the next round. */
void		 batch_reset(struct batch *);

size_t		 batch_npoints(const struct batch *);
size_t		 batch_nseries(const struct batch *);
/* Points that can still be added. */
size_t		 batch_room(const struct batch *);
/* Points refused since batch_new (batch_reset does not clear it). */
uint64_t	 batch_dropped(const struct batch *);

/*
 * Fills *out (device empty, no gaps, id 0) with the batch's series and
 * points.  The arrays it points to are owned by the batch and stay valid
 * until the next batch_add, batch_reset or batch_free.  Returns 0, or -1
 * when out of memory.
 */
int		 batch_view(struct batch *, struct samples_msg *out);

#endif
