/*
 * test_runtime.c -- the pieces of the process runtime that need no socket:
 * reconnect backoff bounds and jitter, the producer send queue (ack,
 * rewind, refuse, drop-oldest with its gap), and series interning with
 * canonical labels.
 */
#include <stdlib.h>

#include "peer.h"
#include "sendq.h"
#include "series.h"
#include "unit.h"

TEST(backoff_bounds_and_jitter)
{
	unsigned	n;
	int64_t		lo, hi, cap;

	for (n = 0; n < 20; n++) {
		lo = peer_backoff_ms(n, 0.0);
		hi = peer_backoff_ms(n, 0.999999);
		cap = (int64_t)PEER_BACKOFF_MIN_MS << (n < 10 ? n : 10);
		if (cap > PEER_BACKOFF_MAX_MS)
			cap = PEER_BACKOFF_MAX_MS;
		/* Each wait is drawn from the upper half of its cap. */
		CHECK_INT(lo, cap / 2);
		CHECK(hi <= cap && hi >= cap - 1);
	}
	CHECK_INT(peer_backoff_ms(0, 0.0), PEER_BACKOFF_MIN_MS / 2);
	CHECK(peer_backoff_ms(100, 0.5) <= PEER_BACKOFF_MAX_MS);
}

TEST(backoff_jitter_is_spread)
{
	int	buckets[10] = { 0 };
	int	i, b;
	int64_t	ms;

	/* r uniform in [0,1) gives waits uniform over [cap/2, cap). */
	for (i = 0; i < 10000; i++) {
		ms = peer_backoff_ms(30, (double)i / 10000.0);
		b = (int)((ms - PEER_BACKOFF_MAX_MS / 2) * 10 /
		    (PEER_BACKOFF_MAX_MS / 2));
		if (b >= 0 && b < 10)
			buckets[b]++;
	}
	for (i = 0; i < 10; i++)
		CHECK(buckets[i] >= 900 && buckets[i] <= 1100);
}

TEST(sendq_ack_and_rewind)
{
	struct sendq		 q;
	struct sendq_frame	*f;
	char			 body[100] = { 0 };

	sendq_init(&q, 1000, SENDQ_REFUSE);
	CHECK_INT(sendq_push(&q, body, 100, 10, 1, 2), 1);
	CHECK_INT(sendq_push(&q, body, 100, 10, 3, 4), 2);
	CHECK_INT(sendq_push(&q, body, 100, 10, 5, 6), 3);
	f = sendq_next_unsent(&q);
	CHECK(f != NULL && f->seq == 1);
	sendq_mark_sent(&q, f);
	f = sendq_next_unsent(&q);
	CHECK(f != NULL && f->seq == 2);
	sendq_mark_sent(&q, f);
	CHECK_INT(sendq_ack(&q, 1), 10);
	CHECK_INT(q.nframes, 2);
	/* Reconnect: everything unacked goes again, oldest first. */
	sendq_rewind(&q);
	f = sendq_next_unsent(&q);
	CHECK(f != NULL && f->seq == 2);
	/* A cumulative ACK past the cursor moves it. */
	CHECK_INT(sendq_ack(&q, 2), 10);
	f = sendq_next_unsent(&q);
	CHECK(f != NULL && f->seq == 3);
	CHECK_INT(sendq_ack(&q, 3), 10);
	CHECK(sendq_next_unsent(&q) == NULL);
	CHECK_INT(q.bytes, 0);
	CHECK_INT(q.acked_samples, 30);
	sendq_clear(&q);
}

TEST(sendq_refuse_when_full)
{
	struct sendq	q;
	char		body[400] = { 0 };

	sendq_init(&q, 1000, SENDQ_REFUSE);
	CHECK(sendq_push(&q, body, 400, 1, 0, 0) != 0);
	CHECK(sendq_push(&q, body, 400, 1, 0, 0) != 0);
	CHECK_INT(sendq_push(&q, body, 400, 1, 0, 0), 0);
	CHECK_INT(q.nframes, 2);
	CHECK_INT(q.dropped_frames, 0);
	sendq_clear(&q);
}

TEST(sendq_drop_oldest_records_gap)
{
	struct sendq	q;
	struct gap	g;
	char		body[400] = { 0 };

	sendq_init(&q, 1000, SENDQ_DROP_OLDEST);
	CHECK_INT(sendq_push(&q, body, 400, 5, 100, 199), 1);
	CHECK_INT(sendq_push(&q, body, 400, 7, 200, 299), 2);
	CHECK_INT(sendq_push(&q, body, 400, 9, 300, 399), 3);	/* drops 1 */
	CHECK_INT(sendq_push(&q, body, 400, 9, 400, 499), 4);	/* drops 2 */
	CHECK_INT(q.nframes, 2);
	CHECK_INT(q.dropped_frames, 2);
	CHECK_INT(q.dropped_samples, 12);
	CHECK_INT(sendq_take_gap(&q, &g), 1);
	CHECK_INT(g.from_ts, 100);
	CHECK_INT(g.to_ts, 299);
	CHECK_INT(g.count, 12);
	CHECK_INT(sendq_take_gap(&q, &g), 0);
	/* A frame bigger than the whole queue is refused, not looped on. */
	CHECK_INT(sendq_push(&q, body, 2000, 1, 0, 0), 0);
	sendq_clear(&q);
}

TEST(series_canonical_labels)
{
	struct series_table	 t;
	struct label		 l1[] = { { PSTR("zone"), PSTR("cpu") },
				    { PSTR("chip"), PSTR("a\"b\\c\nd") } };
	struct label		 l2[] = { { PSTR("chip"), PSTR("a\"b\\c\nd") },
				    { PSTR("zone"), PSTR("cpu") } };
	struct label		 dup[] = { { PSTR("k"), PSTR("1") },
				    { PSTR("k"), PSTR("2") } };
	struct label		 badk[] = { { PSTR("9k"), PSTR("1") } };
	struct series_ref	 r1 = { PSTR("thermal.temp_c"), 2, l1 };
	struct series_ref	 r2 = { PSTR("thermal.temp_c"), 2, l2 };
	struct series_ref	 rd = { PSTR("x"), 2, dup };
	struct series_ref	 rk = { PSTR("x"), 1, badk };
	struct series_ref	 rn = { PSTR("bad name"), 0, NULL };
	struct series		*a, *b;
	char			 err[256];

	series_table_init(&t);
	a = series_intern(&t, PSTR("dev"), &r1, err, sizeof(err));
	b = series_intern(&t, PSTR("dev"), &r2, err, sizeof(err));
	CHECK(a != NULL && a == b);
	if (a != NULL) {
		CHECK_STR(a->labels, "chip=\"a\\\"b\\\\c\\nd\",zone=\"cpu\"");
		CHECK_STR(a->name, "thermal.temp_c");
		CHECK_STR(a->device, "dev");
		CHECK_INT(a->id, 1);
		CHECK(a->persisted == 0);
	}
	b = series_intern(&t, PSTR("dev2"), &r1, err, sizeof(err));
	CHECK(b != NULL && b != a && b->id == 2);
	CHECK(series_intern(&t, PSTR("dev"), &rd, err, sizeof(err)) == NULL);
	CHECK_HAS(err, "given twice");
	CHECK(series_intern(&t, PSTR("dev"), &rk, err, sizeof(err)) == NULL);
	CHECK_HAS(err, "not a valid name");
	CHECK(series_intern(&t, PSTR("dev"), &rn, err, sizeof(err)) == NULL);
	CHECK_HAS(err, "metric name");
	CHECK(series_intern(&t, PSTR(""), &r1, err, sizeof(err)) == NULL);
	CHECK_HAS(err, "device");
	CHECK(series_by_id(&t, 2) == b);
	CHECK(series_by_id(&t, 3) == NULL);
	series_table_free(&t);
}

TEST(series_table_grows)
{
	struct series_table	 t;
	struct label		 l = { PSTR("i"), { NULL, 0 } };
	struct series_ref	 r = { PSTR("m"), 1, &l };
	char			 v[16], err[128];
	int			 i, ok = 1;

	series_table_init(&t);
	for (i = 0; i < 5000; i++) {
		snprintf(v, sizeof(v), "%d", i);
		l.v = PSTR(v);
		if (series_intern(&t, PSTR("d"), &r, err, sizeof(err)) == NULL)
			ok = 0;
	}
	for (i = 0; i < 5000; i++) {
		struct series *s;

		snprintf(v, sizeof(v), "%d", i);
		l.v = PSTR(v);
		s = series_intern(&t, PSTR("d"), &r, err, sizeof(err));
		if (s == NULL || s->id != i + 1)
			ok = 0;
	}
	CHECK(ok);
	CHECK_INT(t.n, 5000);
	series_table_free(&t);
}

int
main(void)
{
	RUN(backoff_bounds_and_jitter);
	RUN(backoff_jitter_is_spread);
	RUN(sendq_ack_and_rewind);
	RUN(sendq_refuse_when_full);
	RUN(sendq_drop_oldest_records_gap);
	RUN(series_canonical_labels);
	RUN(series_table_grows);
	return UNIT_DONE();
}
