/*
 * forward.h -- the receiver's producer side: accepted requests go to the
 * local tern-writer as SAMPLES frames, and each request is answered only
 * after the writer's ACK covers its last frame.
 *
 * Exact "new" counts.  The writer's ACK is cumulative per connection, and
 * its `new` counts the new samples of every frame that ACK covers.  If two
 * requests' frames shared a connection, one ACK could cover both and its
 * `new` could not be split between them.  So the receiver keeps
 * FWD_LINKS connections ("links") to its writer and binds each request to
 * one idle link until the ACK covering its last frame: on a link there is
 * only ever one request's frames, and the sum of the ACKs' `new` for them
 * is exactly that request's new samples.  Concurrency comes from the
 * number of links: the writer commits every link's frames in one
 * transaction, so FWD_LINKS requests share each commit.
 *
 * One caveat, written down because it is inherent: if a link drops after
 * the writer committed a frame but before its ACK arrived, the frame is
 * resent on reconnect and its samples are then duplicates; that request's
 * `new` undercounts them.  Storage is still exactly once.
 *
 * Bounds: the frames of admitted requests (waiting and in flight) are
 * held up to queue_bytes; a request that would pass it is refused (the
 * caller answers 503, nothing stored).  A request waits at most
 * FWD_WAIT_MS for its ACK (the writer down or stuck); then it is answered
 * 503.  A request that never reached a link is then dropped, so nothing
 * of it is stored; one whose frames were on the wire may still be stored,
 * which is why 503 means "retry": a resend is harmless.
 */
#ifndef TERN_FORWARD_H
#define TERN_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "body.h"

/*
 * Links to the writer.  Eight lets eight requests share each commit; the
 * writer's max_peers (64 by default) leaves room for everyone else.
 */
#define FWD_LINKS		8

/*
 * How long a request waits for the writer's ACK.  Longer than a writer
 * restart (a second or two) plus a flush (flush_ms, 1 s by default), and
 * shorter than an uploader's request timeout, so the client sees our 503
 * rather than its own timeout.
 */
#define FWD_WAIT_MS		15000

/* Output buffered per link: four largest frames. */
#define FWD_LINK_OUT		(4u * 1024 * 1024)

/* How often link 0 asks the writer for its counters (readiness). */
#define FWD_STATS_MS		2000

struct fwd;
struct fwd_req;

/*
 * The outcome of a request: status 200 (committed; new_samples of its
 * npoints were new) or 503 (timed out or shutting down).  Called exactly
 * once per accepted request, from the event loop.
 */
typedef void	(*fwd_done_cb)(void *arg, int status, uint64_t npoints,
		    uint64_t new_samples);

/*
 * Connects FWD_LINKS producers named "tern-receiver" to the writer at
 * socket.  device goes into HELLO.  Returns NULL on allocation failure.
 */
struct fwd	*fwd_new(struct event_base *, const char *socket,
		    const char *device, size_t queue_bytes);
/* Completes every pending request with 503 and closes the links. */
void		 fwd_free(struct fwd *);

/*
 * Encodes m into frames and queues them.  m is only read during the call.
 * Returns 0 (cb will be called), or -1 with *status 503 (queue full) or
 * 500 (m cannot be encoded) and a reason in err; nothing is queued then.
 */
int		 fwd_submit(struct fwd *, const struct samples_msg *m,
		    fwd_done_cb cb, void *arg, int *status, char *err,
		    size_t errlen);

/* Links whose handshake is done. */
int		 fwd_links_up(const struct fwd *);
/* 1 if the writer last reported failing commits (a full disk). */
int		 fwd_writer_failing(const struct fwd *);
/* Requests admitted and not yet answered; bytes they hold. */
size_t		 fwd_pending(const struct fwd *);
size_t		 fwd_bytes(const struct fwd *);

#endif
