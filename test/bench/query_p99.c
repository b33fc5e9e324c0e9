/*
 * query_p99.c -- the history query probe for `make bench` (issue 4).
 *
 *   query_p99 DB NOW_MS QUERIES POINTS
 *
 * Opens DB read-only through the query module (writer/query.h) with the
 * default tiers, and for each range of 1 h, 24 h, 7 d, 30 d and 90 d ending
 * at NOW_MS runs QUERIES range queries of POINTS points, each on a series
 * picked at random among all of them.  Prints per range
 *   BENCH query.p99_ms.<range> <value> ms
 * and on stderr the p50, the tier used and the mean points with data, so
 * that a fast answer from an empty tier cannot pass unnoticed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "query.h"

#define MAX_SERIES	100000

struct ids {
	int64_t	*v;
	size_t	 n;
};

static double
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
add_id(const struct query_series *s, void *arg)
{
	struct ids	*ids = arg;

	if (ids->n < MAX_SERIES)
		ids->v[ids->n++] = s->id;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char	*name;
		int64_t		 ms;
	} ranges[] = {
		{ "1h", 3600000LL }, { "24h", 86400000LL },
		{ "7d", 7 * 86400000LL }, { "30d", 30 * 86400000LL },
		{ "90d", 90 * 86400000LL },
	};
	struct conf		 c;
	struct query		*q;
	struct query_result	 r;
	struct ids		 ids;
	char			 err[512];
	double			*lat, t0, present;
	int64_t			 now;
	size_t			 nq, points, i, k;
	uint64_t		 rng = 0x2545F4914F6CDD1DULL;

	if (argc != 5) {
		fprintf(stderr, "usage: query_p99 DB NOW_MS QUERIES POINTS\n");
		return 2;
	}
	now = strtoll(argv[2], NULL, 10);
	nq = strtoul(argv[3], NULL, 10);
	points = strtoul(argv[4], NULL, 10);
	conf_defaults(&c);
	if ((q = query_open(argv[1], &c.writer, err, sizeof(err))) == NULL) {
		fprintf(stderr, "query_p99: %s\n", err);
		return 1;
	}
	ids.v = malloc(MAX_SERIES * sizeof(*ids.v));
	ids.n = 0;
	lat = malloc(nq * sizeof(*lat));
	if (ids.v == NULL || lat == NULL || nq == 0 ||
	    query_list(q, NULL, NULL, NULL, add_id, &ids, err,
	    sizeof(err)) <= 0) {
		fprintf(stderr, "query_p99: no series (%s)\n", err);
		return 1;
	}
	memset(&r, 0, sizeof(r));
	for (k = 0; k < sizeof(ranges) / sizeof(ranges[0]); k++) {
		present = 0;
		for (i = 0; i < nq; i++) {
			rng ^= rng >> 12;
			rng ^= rng << 25;
			rng ^= rng >> 27;
			t0 = mono_ms();
			if (query_range(q, ids.v[(rng * 2685821657736338717ULL)
			    % ids.n], now - ranges[k].ms, now, points, &r, err,
			    sizeof(err)) < 0) {
				fprintf(stderr, "query_p99: %s\n", err);
				return 1;
			}
			lat[i] = mono_ms() - t0;
			present += (double)r.present;
		}
		qsort(lat, nq, sizeof(*lat), cmp_double);
		printf("BENCH query.p99_ms.%s %.3f ms\n", ranges[k].name,
		    lat[(size_t)((double)(nq - 1) * 0.99)]);
		fprintf(stderr, "query_p99: %s: %zu queries on %zu series, p50 "
		    "%.3f ms, tier %s, %.1f of %zu points with data\n",
		    ranges[k].name, nq, ids.n, lat[(nq - 1) / 2], r.tier,
		    present / (double)nq, r.n);
	}
	query_result_free(&r);
	query_close(q);
	conf_free(&c);
	free(ids.v);
	free(lat);
	return 0;
}
