/*
 * sendq.c -- see sendq.h.
 */
#include <stdlib.h>
#include <string.h>

#include "sendq.h"

void
sendq_init(struct sendq *q, size_t limit, enum sendq_policy policy)
{
	memset(q, 0, sizeof(*q));
	TAILQ_INIT(&q->frames);
	q->limit = limit;
	q->policy = policy;
}

static void
sendq_remove(struct sendq *q, struct sendq_frame *f)
{
	if (q->cursor == f)
		q->cursor = TAILQ_NEXT(f, entry);
	TAILQ_REMOVE(&q->frames, f, entry);
	q->bytes -= f->len;
	q->nframes--;
	free(f);
}

void
sendq_clear(struct sendq *q)
{
	struct sendq_frame	*f;

	while ((f = TAILQ_FIRST(&q->frames)) != NULL)
		sendq_remove(q, f);
}

int
sendq_fits(const struct sendq *q, size_t len)
{
	return q->bytes + len <= q->limit;
}

/* Drops the oldest frame, folding it into the pending gap. */
static void
sendq_drop_oldest(struct sendq *q)
{
	struct sendq_frame	*f = TAILQ_FIRST(&q->frames);
	struct gap		*g = &q->pending_gap;

	if (g->count == 0 || f->from_ts < g->from_ts)
		g->from_ts = f->from_ts;
	if (g->count == 0 || f->to_ts > g->to_ts)
		g->to_ts = f->to_ts;
	g->count += f->npoints;
	q->dropped_frames++;
	q->dropped_samples += f->npoints;
	sendq_remove(q, f);
}

uint64_t
sendq_push(struct sendq *q, const void *body, size_t len, uint32_t npoints,
    int64_t from_ts, int64_t to_ts)
{
	struct sendq_frame	*f;

	if (len > q->limit)
		return 0;
	if (!sendq_fits(q, len)) {
		if (q->policy == SENDQ_REFUSE)
			return 0;
		while (!sendq_fits(q, len))
			sendq_drop_oldest(q);
	}
	if ((f = malloc(sizeof(*f) + len)) == NULL)
		return 0;
	memcpy(f->body, body, len);
	f->len = len;
	f->npoints = npoints;
	f->from_ts = from_ts;
	f->to_ts = to_ts;
	f->seq = ++q->last_seq;
	TAILQ_INSERT_TAIL(&q->frames, f, entry);
	if (q->cursor == NULL)
		q->cursor = f;
	q->bytes += len;
	q->nframes++;
	return f->seq;
}

uint64_t
sendq_ack(struct sendq *q, uint64_t seq)
{
	struct sendq_frame	*f;
	uint64_t		 n = 0;

	while ((f = TAILQ_FIRST(&q->frames)) != NULL && f->seq <= seq) {
		n += f->npoints;
		sendq_remove(q, f);
	}
	if (seq > q->acked_seq)
		q->acked_seq = seq;
	q->acked_samples += n;
	return n;
}

void
sendq_rewind(struct sendq *q)
{
	q->cursor = TAILQ_FIRST(&q->frames);
}

struct sendq_frame *
sendq_next_unsent(struct sendq *q)
{
	return q->cursor;
}

void
sendq_mark_sent(struct sendq *q, struct sendq_frame *f)
{
	/* Frames are sent in order, so the sent ones form a prefix. */
	q->cursor = TAILQ_NEXT(f, entry);
}

int
sendq_take_gap(struct sendq *q, struct gap *g)
{
	if (q->pending_gap.count == 0)
		return 0;
	*g = q->pending_gap;
	memset(&q->pending_gap, 0, sizeof(q->pending_gap));
	return 1;
}
