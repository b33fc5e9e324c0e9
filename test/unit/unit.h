/*
 * unit.h -- the smallest test harness that does the job.
 *
 * A test file defines functions with TEST(name) and lists them in main with
 * RUN(name).  Checks record the first failure of a test with file:line and
 * keep going to the end of the test.  Output is TAP ("ok N - name",
 * "not ok N - name # file:line: what"), which test/run.sh counts together
 * with the bats scenarios.  The exit status is the number of failed tests,
 * capped at 100.
 */
#ifndef TERN_UNIT_H
#define TERN_UNIT_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

struct unit_state {
	int	n, failed;
	int	cur_failed;
	char	why[512];
};
static struct unit_state unit;

#define TEST(name)	static void name(void)

#define RUN(name) do {							\
	unit.cur_failed = 0;						\
	unit.why[0] = '\0';						\
	name();								\
	unit.n++;							\
	if (unit.cur_failed) {						\
		unit.failed++;						\
		printf("not ok %d - %s # %s\n", unit.n, #name, unit.why); \
	} else								\
		printf("ok %d - %s\n", unit.n, #name);			\
	fflush(stdout);							\
} while (0)

#define UNIT_FAIL(...) do {						\
	if (!unit.cur_failed) {						\
		int _o = snprintf(unit.why, sizeof(unit.why), "%s:%d: ", \
		    __FILE__, __LINE__);				\
		snprintf(unit.why + _o, sizeof(unit.why) - (size_t)_o,	\
		    __VA_ARGS__);					\
	}								\
	unit.cur_failed = 1;						\
} while (0)

#define CHECK(c) do {							\
	if (!(c))							\
		UNIT_FAIL("%s", #c);					\
} while (0)

#define CHECK_INT(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b)							\
		UNIT_FAIL("%s == %lld, expected %lld", #a, _a, _b);	\
} while (0)

#define CHECK_STR(a, b) do {						\
	const char *_a = (a), *_b = (b);				\
	if (_a == NULL || strcmp(_a, _b) != 0)				\
		UNIT_FAIL("%s == \"%.200s\", expected \"%.200s\"", #a,		\
		    _a ? _a : "(null)", _b);				\
} while (0)

/* The string a contains b. */
#define CHECK_HAS(a, b) do {						\
	const char *_a = (a), *_b = (b);				\
	if (_a == NULL || strstr(_a, _b) == NULL)			\
		UNIT_FAIL("%s == \"%.200s\", expected to contain \"%.200s\"",	\
		    #a, _a ? _a : "(null)", _b);			\
} while (0)

#define CHECK_NEAR(a, b, eps) do {					\
	double _a = (a), _b = (b);					\
	if (!(fabs(_a - _b) <= (eps)))					\
		UNIT_FAIL("%s == %.17g, expected %.17g", #a, _a, _b);	\
} while (0)

#define UNIT_DONE() (printf("1..%d\n", unit.n),				\
	unit.failed > 100 ? 100 : unit.failed)

#endif
