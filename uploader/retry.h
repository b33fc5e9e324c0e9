/*
 * retry.h -- what the uploader does after a request: the classification of
 * an HTTP outcome, capped exponential backoff with full jitter, and
 * Retry-After.  Pure functions: no I/O, no clock reads, no randomness of
 * their own, so the tests drive them with tables.
 */
#ifndef TERN_RETRY_H
#define TERN_RETRY_H

#include <stdint.h>
#include <time.h>

#include <curl/curl.h>

enum retry_class {
	RETRY_OK = 0,		/* 2xx: DONE {id} */
	RETRY_AGAIN,		/* transport error, timeout, 5xx, 408, 429,
				   anything unexpected: keep it, try again */
	RETRY_SET_ASIDE,	/* any other 4xx: DONE {id, set_aside} */
	RETRY_AUTH,		/* 401, 403: stop sending, keep everything */
};

/*
 * Retry-After values beyond this are clamped: an hour is long enough for
 * any maintenance window a receiver announces, and a broken header must
 * not stall a device for days.
 */
#define RETRY_AFTER_MAX_MS	(3600LL * 1000)

/*
 * Classifies one finished request: code is libcurl's result, status the
 * HTTP status (0 when no response arrived).  A transport error is always
 * RETRY_AGAIN, whatever it is -- a bad certificate or an unresolvable
 * name is a configuration problem the operator fixes, and until then the
 * samples are kept.  So is a status that is neither 2xx nor 4xx (a
 * redirect means the URL is wrong; following it with a POST is not ours
 * to decide).  Only a 4xx other than 408/429 gives a batch up.
 */
enum retry_class retry_classify(CURLcode code, long status);

/* "ok", "retry", "set aside", "auth" */
const char	*retry_class_name(enum retry_class);

/*
 * The wait before retry number attempt (0-based) with full jitter: the
 * cap is min_ms doubled attempt times, at most max_ms, and the wait is
 * drawn uniformly from [0, cap] by r in [0, 1).  Full jitter spreads a
 * fleet whose receiver came back at one instant over the whole window,
 * which is what keeps the receiver from being knocked over again.
 */
int64_t		 retry_backoff_ms(unsigned attempt, int64_t min_ms,
		    int64_t max_ms, double r);

/*
 * Parses a Retry-After value: delta-seconds ("120") or an HTTP-date
 * ("Fri, 31 Dec 2027 23:59:59 GMT", and the two obsolete forms), relative
 * to now.  A date in the past means 0.  Returns 0 with *ms in
 * [0, RETRY_AFTER_MAX_MS], or -1 for anything else (empty, negative,
 * garbage), leaving *ms alone.
 */
int		 retry_after_parse(const char *value, time_t now, int64_t *ms);

#endif
