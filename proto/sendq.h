/*
 * sendq.h -- a producer's queue of SAMPLES frames awaiting ACK.
 *
 * A producer (sampler, receiver, ternctl load) keeps every frame it sent
 * until the writer acknowledges it, because the ACK is the only proof that
 * the samples are on disk.  After a reconnect, everything still queued is
 * sent again; the writer's (series, ts) key makes a resend harmless.
 *
 * The queue is bounded in bytes.  When it is full, the policy decides:
 * SENDQ_DROP_OLDEST (the sampler: it must never block on the writer) drops
 * the oldest frames, counts them, and remembers the dropped time range as a
 * gap for the next frame to carry; SENDQ_REFUSE (ternctl load) refuses the
 * push and the producer waits.
 */
#ifndef TERN_SENDQ_H
#define TERN_SENDQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "body.h"

enum sendq_policy {
	SENDQ_DROP_OLDEST,
	SENDQ_REFUSE,
};

struct sendq_frame {
	TAILQ_ENTRY(sendq_frame) entry;
	uint64_t	seq;
	uint32_t	npoints;
	int64_t		from_ts, to_ts;	/* time range of its samples */
	size_t		len;
	uint8_t		body[];		/* msgpack SAMPLES body */
};

struct sendq {
	TAILQ_HEAD(, sendq_frame) frames;
	enum sendq_policy	policy;
	size_t			bytes, limit;
	size_t			nframes;
	struct sendq_frame	*cursor;	/* oldest not yet sent */
	uint64_t		last_seq;	/* seq of the newest push */
	uint64_t		acked_seq;	/* highest ACK seen */
	uint64_t		acked_samples;
	uint64_t		dropped_frames, dropped_samples;
	/* What was dropped since the last sendq_take_gap. */
	struct gap		pending_gap;
};

void	sendq_init(struct sendq *, size_t limit, enum sendq_policy);
/* Frees every queued frame. */
void	sendq_clear(struct sendq *);

/*
 * Copies body[0..len) into the queue as the next seq and returns it, or
 * returns 0 (nothing queued) when the policy is SENDQ_REFUSE and the frame
 * does not fit, or a frame larger than the whole limit is pushed, or memory
 * runs out.  Under SENDQ_DROP_OLDEST the oldest frames make room.
 */
uint64_t sendq_push(struct sendq *, const void *body, size_t len,
	    uint32_t npoints, int64_t from_ts, int64_t to_ts);

/* Removes every frame with seq <= seq; returns the samples it released. */
uint64_t sendq_ack(struct sendq *, uint64_t seq);

/* After a reconnect: every queued frame is to be sent again. */
void	sendq_rewind(struct sendq *);

/* The oldest frame not yet sent on this connection, or NULL. */
struct sendq_frame *sendq_next_unsent(struct sendq *);
/* f (the one sendq_next_unsent returned) is now on the connection. */
void	sendq_mark_sent(struct sendq *, struct sendq_frame *f);

/*
 * If frames were dropped since the last call, fills *g with their time
 * range and sample count, resets it, and returns 1; else returns 0.
 */
int	sendq_take_gap(struct sendq *, struct gap *g);

/* 1 if a push of len bytes would fit without dropping. */
int	sendq_fits(const struct sendq *, size_t len);

#endif
