/*
 * read_raw.c -- the read-latency probe for `make bench`.
 *
 *   read_raw DB SERIES_ID MAX STOPFILE
 *
 * Reads the newest MAX samples of one series through the raw read module
 * (writer/read.h) on a read-only connection, over and over, until STOPFILE
 * exists, pausing a millisecond between reads so that the probe measures
 * latency without eating a core the ingest needs.  Prints
 *   BENCH read.raw_<MAX>_p99_ms <value> ms
 *   BENCH read.raw_<MAX>_p50_ms <value> ms
 * and on stderr how many reads were made and how many samples each got.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "read.h"

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

int
main(int argc, char **argv)
{
	struct raw_reader	*r = NULL;
	struct raw_result	 res = { 0 };
	double			*lat = NULL, t0;
	size_t			 n = 0, cap = 0, max;
	long			 got = 0, short_reads = 0;
	int64_t			 id;
	char			 err[512];

	if (argc != 5) {
		fprintf(stderr, "usage: read_raw DB SERIES_ID MAX STOPFILE\n");
		return 2;
	}
	id = strtoll(argv[2], NULL, 10);
	max = strtoul(argv[3], NULL, 10);
	while (access(argv[4], F_OK) != 0) {
		if (r == NULL && (r = raw_open(argv[1], err, sizeof(err))) == NULL) {
			usleep(10000);
			continue;
		}
		t0 = mono_ms();
		got = raw_read(r, id, INT64_MIN, INT64_MAX, max, &res, err,
		    sizeof(err));
		if (got < 0) {
			/* The series may not exist yet at the very start. */
			usleep(10000);
			continue;
		}
		if ((size_t)got < max) {
			short_reads++;
			usleep(1000);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((lat = realloc(lat, cap * sizeof(*lat))) == NULL)
				return 1;
		}
		lat[n++] = mono_ms() - t0;
		usleep(1000);
	}
	if (n == 0) {
		fprintf(stderr, "read_raw: no full reads of %zu samples\n", max);
		printf("BENCH read.raw_%zu_p99_ms -1 ms\n", max);
		return 1;
	}
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("BENCH read.raw_%zu_p99_ms %.3f ms\n", max,
	    lat[(size_t)((double)(n - 1) * 0.99)]);
	printf("BENCH read.raw_%zu_p50_ms %.3f ms\n", max, lat[(n - 1) / 2]);
	fprintf(stderr, "read_raw: %zu full reads, %ld short, last got %ld\n",
	    n, short_reads, got);
	raw_result_free(&res);
	raw_close(r);
	free(lat);
	return 0;
}
