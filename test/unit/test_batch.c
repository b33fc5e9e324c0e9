/*
 * test_batch.c -- the batch: series dedup, label order, limits, view.
 */
#include "unit.h"
#include "srcfix.h"

TEST(batch_dedup_and_sort)
{
	struct batch	*b = batch_new();
	struct label_kv	 l1[] = { { "z", "1" }, { "a", "2" } };
	struct label_kv	 l2[] = { { "a", "2" }, { "z", "1" } };
	struct label_kv	 l3[] = { { "a", "2" }, { "z", "1" }, { "e", "" } };
	struct samples_msg m;

	CHECK_INT(batch_add(b, "m", l1, 2, 1, 1.0), 0);
	CHECK_INT(batch_add(b, "m", l2, 2, 2, 2.0), 0);
	/* An empty label value is no label. */
	CHECK_INT(batch_add(b, "m", l3, 3, 3, 3.0), 0);
	CHECK_INT(batch_add(b, "m", NULL, 0, 4, 4.0), 0);
	CHECK_INT(batch_add(b, "n", l1, 2, 5, 5.0), 0);
	CHECK_INT(batch_npoints(b), 5);
	CHECK_INT(batch_nseries(b), 3);
	CHECK_INT(batch_view(b, &m), 0);
	CHECK_INT(m.nseries, 3);
	CHECK_INT(m.npoints, 5);
	CHECK_INT(m.points[1].idx, m.points[0].idx);
	CHECK_INT(m.points[2].idx, m.points[0].idx);
	CHECK_INT(m.points[1].ts, 2);
	CHECK_INT(m.series[0].nlabels, 2);
	CHECK(m.series[0].labels[0].k.n == 1 &&
	    m.series[0].labels[0].k.p[0] == 'a');
	CHECK(m.series[0].labels[1].v.n == 1 &&
	    m.series[0].labels[1].v.p[0] == '1');
	batch_reset(b);
	CHECK_INT(batch_npoints(b), 0);
	CHECK_INT(batch_nseries(b), 0);
	CHECK_INT(batch_add(b, "m", l1, 2, 1, 1.0), 0);
	CHECK_INT(batch_nseries(b), 1);
	batch_free(b);
}

TEST(batch_strings_are_copied)
{
	struct batch	*b = batch_new();
	char		 name[8] = "abc", v[8] = "x";
	struct label_kv	 l = { "k", v };
	double		 got = 0;

	batch_add(b, name, &l, 1, 1, 7);
	strcpy(name, "zzz");
	strcpy(v, "y");
	CHECK_INT(fix_get(b, "abc", "k=x", &got), 1);
	CHECK_NEAR(got, 7, 0);
	batch_free(b);
}

TEST(batch_limits)
{
	struct batch	*b = batch_new();
	struct label_kv	 dup[] = { { "a", "1" }, { "a", "2" } };
	struct label_kv	 many[BODY_MAX_LABELS + 1];
	char		 keys[BODY_MAX_LABELS + 1][16], longname[300];
	int		 i, refused = 0;

	CHECK_INT(batch_add(b, "", NULL, 0, 1, 1), -1);
	CHECK_INT(batch_add(b, "m", dup, 2, 1, 1), -1);
	for (i = 0; i <= BODY_MAX_LABELS; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		many[i].k = keys[i];
		many[i].v = "v";
	}
	CHECK_INT(batch_add(b, "m", many, BODY_MAX_LABELS + 1, 1, 1), -1);
	CHECK_INT(batch_add(b, "m", many, BODY_MAX_LABELS, 1, 1), 0);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_INT(batch_add(b, longname, NULL, 0, 1, 1), -1);
	CHECK_INT(batch_dropped(b), 4);
	batch_reset(b);
	for (i = 0; i < BATCH_MAX_POINTS + 5; i++)
		if (batch_add(b, "p", NULL, 0, i, i) == -1)
			refused++;
	CHECK_INT(refused, 5);
	CHECK_INT(batch_room(b), 0);
	CHECK_INT(batch_dropped(b), 9);
	batch_free(b);
}

TEST(batch_many_series)
{
	struct batch	*b = batch_new();
	struct label_kv	 l = { "i", NULL };
	char		 v[16];
	int		 i;
	double		 got = 0;

	for (i = 0; i < 3000; i++) {
		snprintf(v, sizeof(v), "%d", i);
		l.v = v;
		batch_add(b, "s", &l, 1, i, i);
	}
	CHECK_INT(batch_nseries(b), 3000);
	CHECK_INT(fix_get(b, "s", "i=2999", &got), 1);
	CHECK_NEAR(got, 2999, 0);
	batch_free(b);
}

/*
 * The series index starts small and doubles while series are added: every
 * series must still be found after each growth (a second point of it adds
 * no series), a reset must empty the grown index, and a batch of
 * BATCH_MAX_SERIES distinct series must fit.
 */
TEST(batch_index_grows)
{
	struct batch	*b = batch_new();
	struct label_kv	 l = { "i", NULL };
	struct samples_msg m;
	char		 v[16];
	int		 i, round, bad = 0;

	for (round = 0; round < 2; round++) {
		for (i = 0; i < BATCH_MAX_SERIES / 2; i++) {
			snprintf(v, sizeof(v), "%d", i);
			l.v = v;
			CHECK_INT(batch_add(b, "s", &l, 1, i, i), 0);
			/* The first series again, after each addition. */
			l.v = "0";
			CHECK_INT(batch_add(b, "s", &l, 1, i, -1), 0);
		}
		CHECK_INT(batch_nseries(b), BATCH_MAX_SERIES / 2);
		CHECK_INT(batch_npoints(b), BATCH_MAX_SERIES);
		CHECK_INT(batch_view(b, &m), 0);
		for (i = 0; i < BATCH_MAX_SERIES / 2; i++) {
			snprintf(v, sizeof(v), "%d", i);
			if (m.points[2 * i].idx != (uint32_t)i ||
			    m.points[2 * i + 1].idx != 0 ||
			    !pstr_eq(m.series[i].labels[0].v, v))
				bad++;
		}
		CHECK_INT(bad, 0);
		batch_reset(b);
		CHECK_INT(batch_nseries(b), 0);
	}
	/* As many distinct series as points. */
	for (i = 0; i < BATCH_MAX_SERIES; i++) {
		snprintf(v, sizeof(v), "%d", i);
		l.v = v;
		if (batch_add(b, "s", &l, 1, i, i) == -1)
			bad++;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(batch_nseries(b), BATCH_MAX_SERIES);
	CHECK_INT(batch_dropped(b), 0);
	batch_free(b);
}

/* What batch_view gives, the encoder takes and the decoder gives back. */
TEST(batch_encodes)
{
	struct batch	*b = batch_new();
	struct label_kv	 l[] = { { "mount", "/media/sd card" }, { "a", "1" } };
	struct samples_msg m, d;
	struct body_dec	*dec = body_dec_new();
	msgpack_sbuffer	 sb;
	char		 err[128];

	msgpack_sbuffer_init(&sb);
	batch_add(b, "disk.free_pct", l, 2, 1760170000000LL, 50.5);
	batch_add(b, "cpu.temperature", NULL, 0, 1760170000000LL, 52.692);
	CHECK_INT(batch_view(b, &m), 0);
	m.device = PSTR("box");
	CHECK_INT(body_encode_samples(&sb, &m), 0);
	CHECK_INT(body_decode_samples(dec, (const uint8_t *)sb.data, sb.size,
	    &d, err, sizeof(err)), 0);
	CHECK_INT(d.nseries, 2);
	CHECK_INT(d.npoints, 2);
	CHECK(pstr_eq(d.series[0].name, "disk.free_pct"));
	CHECK(pstr_eq(d.series[0].labels[1].v, "/media/sd card"));
	CHECK_NEAR(d.points[1].value, 52.692, 0);
	CHECK_INT(d.points[0].ts, 1760170000000LL);
	msgpack_sbuffer_destroy(&sb);
	body_dec_free(dec);
	batch_free(b);
}

int
main(void)
{
	RUN(batch_dedup_and_sort);
	RUN(batch_strings_are_copied);
	RUN(batch_limits);
	RUN(batch_many_series);
	RUN(batch_index_grows);
	RUN(batch_encodes);
	batch_free(NULL);
	return UNIT_DONE();
}
