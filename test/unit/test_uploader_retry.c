/*
 * test_uploader_retry.c -- what the uploader does after a request:
 * classification per HTTP status and curl code, backoff bounds and the
 * full-jitter distribution, Retry-After parsing.
 */
#include <stdlib.h>

#include "retry.h"
#include "unit.h"

TEST(classify_table)
{
	static const struct {
		CURLcode		code;
		long			status;
		enum retry_class	want;
	} t[] = {
		{ CURLE_OK, 200, RETRY_OK },
		{ CURLE_OK, 201, RETRY_OK },
		{ CURLE_OK, 202, RETRY_OK },
		{ CURLE_OK, 204, RETRY_OK },
		{ CURLE_OK, 408, RETRY_AGAIN },
		{ CURLE_OK, 429, RETRY_AGAIN },
		{ CURLE_OK, 500, RETRY_AGAIN },
		{ CURLE_OK, 502, RETRY_AGAIN },
		{ CURLE_OK, 503, RETRY_AGAIN },
		{ CURLE_OK, 504, RETRY_AGAIN },
		{ CURLE_OK, 400, RETRY_SET_ASIDE },
		{ CURLE_OK, 404, RETRY_SET_ASIDE },
		{ CURLE_OK, 413, RETRY_SET_ASIDE },
		{ CURLE_OK, 422, RETRY_SET_ASIDE },
		{ CURLE_OK, 401, RETRY_AUTH },
		{ CURLE_OK, 403, RETRY_AUTH },
		/* A redirect or an informational status keeps the batch. */
		{ CURLE_OK, 301, RETRY_AGAIN },
		{ CURLE_OK, 100, RETRY_AGAIN },
		{ CURLE_OK, 0, RETRY_AGAIN },
		{ CURLE_COULDNT_CONNECT, 0, RETRY_AGAIN },
		{ CURLE_OPERATION_TIMEDOUT, 0, RETRY_AGAIN },
		{ CURLE_COULDNT_RESOLVE_HOST, 0, RETRY_AGAIN },
		{ CURLE_RECV_ERROR, 0, RETRY_AGAIN },
		{ CURLE_SEND_ERROR, 0, RETRY_AGAIN },
		{ CURLE_GOT_NOTHING, 0, RETRY_AGAIN },
		{ CURLE_PEER_FAILED_VERIFICATION, 0, RETRY_AGAIN },
		/* A transport error wins over whatever status was seen. */
		{ CURLE_PARTIAL_FILE, 200, RETRY_AGAIN },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum retry_class got = retry_classify(t[i].code, t[i].status);

		if (got != t[i].want)
			UNIT_FAIL("curl %d status %ld: %s, expected %s",
			    (int)t[i].code, t[i].status,
			    retry_class_name(got), retry_class_name(t[i].want));
	}
}

TEST(backoff_bounds)
{
	const double	rs[] = { 0.0, 0.25, 0.5, 0.999999 };
	unsigned	a;
	size_t		i;
	int64_t		cap = 1000, w;

	for (a = 0; a < 40; a++) {
		for (i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
			w = retry_backoff_ms(a, 1000, 300000, rs[i]);
			if (w < 0 || w > cap)
				UNIT_FAIL("attempt %u r %g: %lld outside "
				    "[0, %lld]", a, rs[i], (long long)w,
				    (long long)cap);
		}
		/* The top of the window is reached, nothing beyond. */
		w = retry_backoff_ms(a, 1000, 300000, 0.99999999);
		if (w != cap)
			UNIT_FAIL("attempt %u: max %lld, expected cap %lld", a,
			    (long long)w, (long long)cap);
		if (cap < 300000)
			cap = cap * 2 > 300000 ? 300000 : cap * 2;
	}
	CHECK_INT(retry_backoff_ms(0, 1000, 300000, 0.0), 0);
	CHECK_INT(retry_backoff_ms(3, 1000, 300000, 0.99999999), 8000);
	/* Huge attempt counts stay at the cap, no overflow. */
	CHECK_INT(retry_backoff_ms(4000000000u, 1000, 300000, 0.99999999),
	    300000);
	/* Out-of-range r is clamped into the window. */
	CHECK(retry_backoff_ms(2, 100, 1000, 7.0) <= 400);
	CHECK_INT(retry_backoff_ms(2, 100, 1000, -1.0), 0);
	/* max below min: the window is min. */
	CHECK(retry_backoff_ms(5, 500, 100, 0.99999999) == 500);
}

/* Full jitter: uniform over [0, cap].  Ten buckets of 100,000 draws each
 * hold about 10% with a standard deviation under 0.1%. */
TEST(backoff_full_jitter_histogram)
{
	enum { N = 100000, B = 10 };
	unsigned	hist[B] = { 0 };
	int64_t		cap = 64000, w, lo = cap, hi = 0;
	double		sum = 0;
	int		i;

	srand48(12345);
	for (i = 0; i < N; i++) {
		w = retry_backoff_ms(6, 1000, 300000, drand48());
		if (w < lo)
			lo = w;
		if (w > hi)
			hi = w;
		sum += (double)w;
		hist[w * B / (cap + 1)]++;
	}
	CHECK(lo >= 0);
	CHECK(hi <= cap);
	/* The extremes are reached: a window, not a point. */
	CHECK(lo < cap / 100);
	CHECK(hi > cap - cap / 100);
	CHECK_NEAR(sum / N, cap / 2.0, cap * 0.01);
	for (i = 0; i < B; i++)
		if (hist[i] < N / B * 95 / 100 || hist[i] > N / B * 105 / 100)
			UNIT_FAIL("bucket %d holds %u of %d", i, hist[i], N);
}

TEST(retry_after_delta_seconds)
{
	int64_t	ms = -1;

	CHECK_INT(retry_after_parse("120", 1000, &ms), 0);
	CHECK_INT(ms, 120000);
	CHECK_INT(retry_after_parse("  7\r\n", 1000, &ms), 0);
	CHECK_INT(ms, 7000);
	CHECK_INT(retry_after_parse("0", 1000, &ms), 0);
	CHECK_INT(ms, 0);
	/* Beyond the clamp, and beyond any integer type. */
	CHECK_INT(retry_after_parse("86400", 1000, &ms), 0);
	CHECK_INT(ms, RETRY_AFTER_MAX_MS);
	CHECK_INT(retry_after_parse("99999999999999999999999999", 1000, &ms),
	    0);
	CHECK_INT(ms, RETRY_AFTER_MAX_MS);
}

TEST(retry_after_http_date)
{
	/* Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example */
	const time_t	t = 784111777;
	int64_t		ms = -1;

	CHECK_INT(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", t - 30,
	    &ms), 0);
	CHECK_INT(ms, 30000);
	/* The obsolete RFC 850 and asctime forms. */
	CHECK_INT(retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", t - 5,
	    &ms), 0);
	CHECK_INT(ms, 5000);
	CHECK_INT(retry_after_parse("Sun Nov  6 08:49:37 1994", t - 1, &ms),
	    0);
	CHECK_INT(ms, 1000);
	/* In the past: go now. */
	ms = -1;
	CHECK_INT(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", t + 3600,
	    &ms), 0);
	CHECK_INT(ms, 0);
	/* Far in the future: clamped. */
	CHECK_INT(retry_after_parse("Fri, 31 Dec 2060 23:59:59 GMT", t, &ms),
	    0);
	CHECK_INT(ms, RETRY_AFTER_MAX_MS);
}

TEST(retry_after_garbage)
{
	const char	*bad[] = { "", "   ", "-5", "+5", "5s", "1.5", "soon",
	    "12 34", "0x10", "Sun, 99 Foo 1994 99:99:99 GMT", "\x01\x02",
	};
	size_t		 i;
	int64_t		 ms;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 4242;
		if (retry_after_parse(bad[i], 1000, &ms) != -1 || ms != 4242)
			UNIT_FAIL("\"%s\" accepted as %lld ms", bad[i],
			    (long long)ms);
	}
	CHECK_INT(retry_after_parse(NULL, 1000, &ms), -1);
}

int
main(void)
{
	RUN(classify_table);
	RUN(backoff_bounds);
	RUN(backoff_full_jitter_histogram);
	RUN(retry_after_delta_seconds);
	RUN(retry_after_http_date);
	RUN(retry_after_garbage);
	return UNIT_DONE();
}
