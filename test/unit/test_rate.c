/*
 * test_rate.c -- counters to rates: wrap, reset, time, sweeping.
 */
#include "unit.h"
#include "rate.h"

TEST(rate_basic)
{
	struct rate_tab	*t = rate_new();
	double		 r = -1;
	uint64_t	 d = 0;

	CHECK_INT(rate_update(t, "a", 1000, 10000, RATE_W64, 0, &r, &d), 0);
	CHECK_INT(rate_update(t, "a", 3000, 20000, RATE_W64, 0, &r, &d), 1);
	CHECK_NEAR(r, 200, 0);
	CHECK_INT(d, 2000);
	/* Sub-second intervals. */
	CHECK_INT(rate_update(t, "a", 3050, 20250, RATE_W64, 0, &r, &d), 1);
	CHECK_NEAR(r, 200, 1e-9);
	rate_free(t);
}

TEST(rate_time_must_advance)
{
	struct rate_tab	*t = rate_new();
	double		 r;

	rate_update(t, "a", 1, 1000, RATE_W64, 0, &r, NULL);
	CHECK_INT(rate_update(t, "a", 5, 1000, RATE_W64, 0, &r, NULL), 0);
	/* The clock stepped back. */
	CHECK_INT(rate_update(t, "a", 9, 500, RATE_W64, 0, &r, NULL), 0);
	CHECK_INT(rate_update(t, "a", 19, 1500, RATE_W64, 0, &r, NULL), 1);
	CHECK_NEAR(r, 10, 1e-12);
	rate_free(t);
}

TEST(rate_wrap32)
{
	uint64_t	d = 0;

	/* Fell by more than 2^31 from a 32-bit value: a wrap. */
	CHECK_INT(rate_delta(4294000000u, 1500000, RATE_WAUTO, &d), 1);
	CHECK_INT(d, 2467296);
	CHECK_INT(rate_delta(4294967295u, 0, RATE_W32, &d), 1);
	CHECK_INT(d, 1);
	/* Fell by less than 2^31: a reset, however the counter is read. */
	CHECK_INT(rate_delta(1234567890, 123456, RATE_WAUTO, &d), 0);
	CHECK_INT(rate_delta(1234567890, 123456, RATE_W32, &d), 0);
	/* Exactly 2^31 is not "more than". */
	CHECK_INT(rate_delta(UINT64_C(1) << 31, 0, RATE_WAUTO, &d), 0);
	/* A 64-bit counter never wraps in practice: a reset. */
	CHECK_INT(rate_delta(4294000000u, 1500000, RATE_W64, &d), 0);
	/* A 64-bit value above 2^32 that falls: a reset. */
	CHECK_INT(rate_delta(UINT64_C(98765432100), 5, RATE_WAUTO, &d), 0);
	/* A "32-bit" counter above 2^32 is not one. */
	CHECK_INT(rate_delta(UINT64_C(5000000000), UINT64_C(5000000001),
	    RATE_W32, &d), 0);
	CHECK_INT(rate_delta(7, 7, RATE_W64, &d), 1);
	CHECK_INT(d, 0);
}

TEST(rate_reset_then_resume)
{
	struct rate_tab	*t = rate_new();
	double		 r = -1;

	rate_update(t, "eth0", 1000000, 0, RATE_WAUTO, 0, &r, NULL);
	/* Interface re-created: no sample, never negative. */
	CHECK_INT(rate_update(t, "eth0", 500, 10000, RATE_WAUTO, 0, &r, NULL),
	    0);
	CHECK_INT(rate_update(t, "eth0", 10500, 20000, RATE_WAUTO, 0, &r,
	    NULL), 1);
	CHECK_NEAR(r, 1000, 1e-12);
	rate_free(t);
}

TEST(rate_max_rate)
{
	struct rate_tab	*t = rate_new();
	double		 r = -1;

	rate_update(t, "x", 4294967000u, 0, RATE_WAUTO, 1e6, &r, NULL);
	/* A reset that looks like a wrap but gives an absurd rate. */
	CHECK_INT(rate_update(t, "x", 2000000000u, 1000, RATE_WAUTO, 1e6, &r,
	    NULL), 0);
	CHECK_INT(rate_update(t, "x", 2000000500u, 2000, RATE_WAUTO, 1e6, &r,
	    NULL), 1);
	CHECK_NEAR(r, 500, 1e-12);
	rate_free(t);
}

TEST(rate_sweep_forgets)
{
	struct rate_tab	*t = rate_new();
	double		 r;
	char		 k[32];
	int		 i;

	for (i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "veth%d", i);
		rate_update(t, k, 1, 0, RATE_W64, 0, &r, NULL);
	}
	rate_sweep(t);
	CHECK_INT(rate_count(t), 1000);
	/* Only veth7 is seen in the next round. */
	CHECK_INT(rate_update(t, "veth7", 11, 1000, RATE_W64, 0, &r, NULL), 1);
	CHECK_NEAR(r, 10, 1e-12);
	rate_sweep(t);
	CHECK_INT(rate_count(t), 1);
	/* veth8 comes back: a first reading again. */
	CHECK_INT(rate_update(t, "veth8", 50, 2000, RATE_W64, 0, &r, NULL), 0);
	CHECK_INT(rate_update(t, "veth7", 21, 2000, RATE_W64, 0, &r, NULL), 1);
	rate_free(t);
}

TEST(rate_bounded)
{
	struct rate_tab	*t = rate_new();
	double		 r;
	char		 k[32];
	int		 i, refused = 0;

	for (i = 0; i < RATE_MAX_KEYS + 10; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		if (rate_update(t, k, 1, 0, RATE_W64, 0, &r, NULL) == -1)
			refused++;
	}
	CHECK(refused >= 10);
	CHECK(rate_count(t) <= RATE_MAX_KEYS);
	/* Known keys still work. */
	CHECK_INT(rate_update(t, "k1", 2, 1000, RATE_W64, 0, &r, NULL), 1);
	rate_free(t);
}

int
main(void)
{
	RUN(rate_basic);
	RUN(rate_time_must_advance);
	RUN(rate_wrap32);
	RUN(rate_reset_then_resume);
	RUN(rate_max_rate);
	RUN(rate_sweep_forgets);
	RUN(rate_bounded);
	return UNIT_DONE();
}
