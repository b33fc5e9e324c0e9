/*
 * upload.h -- the writer's side of the upload conversation.
 *
 *   uploader: FETCH {max, backlog}  ->  writer: BATCH {id, device, ...}
 *   uploader: DONE {id [, set_aside, reason]}
 *
 * The cursor is the `up` column of the head rows (store.c): a BATCH is a
 * set of pending head rows, and DONE marks exactly those rows uploaded (or
 * set aside) in one transaction.  A BATCH that is never DONE -- the
 * uploader restarted, the writer restarted, the link died mid-request --
 * leaves its rows pending, and they go again in a later BATCH; the
 * receiver's writer stores a sample once, so a repeat is harmless.
 *
 * Live first: FETCH {backlog: false} is answered with the newest pending
 * rows, FETCH {backlog: true} with the oldest.  The uploader paces the
 * backlog; the writer only keeps the two apart.  A FETCH with nothing to
 * send waits until a commit brings something.
 */
#ifndef TERN_UPLOAD_H
#define TERN_UPLOAD_H

#include <stdint.h>

#include <msgpack.h>

#include "body.h"
#include "peer.h"
#include "series.h"
#include "store.h"

struct upload;

/* Sends a BATCH body to p (the writer's send path, which also taps). */
typedef int	(*upload_send_cb)(struct peer *p, uint64_t seq,
		    const msgpack_sbuffer *sb, void *arg);

struct upload_stats {
	uint64_t	batches, samples;	/* sent */
	uint64_t	done_batches, done_samples;
	uint64_t	setaside_batches, setaside_samples;
	uint64_t	inflight;
	int64_t		last_done_ms;
};

/* Returns NULL on allocation failure; upload_free accepts NULL. */
struct upload	*upload_new(struct store *, struct series_table *,
		    upload_send_cb, void *arg);
void		 upload_free(struct upload *);

/*
 * Records p's FETCH (replacing an earlier one of the same kind) and
 * serves it if there is something pending.  The BATCH that answers it
 * carries the FETCH's header seq, so an uploader with a live and a
 * backlog FETCH open knows which one it answers.  Returns 0, or -1.
 */
int		 upload_fetch(struct upload *, struct peer *p, uint64_t seq,
		    const struct fetch_msg *, char *err, size_t errlen);

/*
 * Marks BATCH d->id uploaded (or set aside) and serves waiting FETCHes.
 * An id this writer does not know (sent before a restart) is ignored: its
 * rows are still pending and will be sent again.  Returns 0, or -1 with
 * err when the DONE does not belong to p.  A failed commit is logged and
 * the batch's rows simply stay pending.
 */
int		 upload_done(struct upload *, struct peer *p,
		    const struct done_msg *d, char *err, size_t errlen);

/* Answers waiting FETCHes if there are pending rows (after a commit). */
void		 upload_serve(struct upload *);

/* p is gone: forget its FETCHes; its batches' rows become pending again. */
void		 upload_peer_gone(struct upload *, struct peer *p);

void		 upload_stats(const struct upload *, struct upload_stats *);

#endif
