/*
 * retry.c -- see retry.h.
 */
#include <ctype.h>
#include <string.h>

#include "retry.h"

enum retry_class
retry_classify(CURLcode code, long status)
{
	if (code != CURLE_OK)
		return RETRY_AGAIN;
	if (status >= 200 && status <= 299)
		return RETRY_OK;
	if (status == 401 || status == 403)
		return RETRY_AUTH;
	/* 408: the server timed the request out; 429: too many requests. */
	if (status == 408 || status == 429)
		return RETRY_AGAIN;
	if (status >= 400 && status <= 499)
		return RETRY_SET_ASIDE;
	return RETRY_AGAIN;
}

const char *
retry_class_name(enum retry_class c)
{
	switch (c) {
	case RETRY_OK:
		return "ok";
	case RETRY_AGAIN:
		return "retry";
	case RETRY_SET_ASIDE:
		return "set aside";
	case RETRY_AUTH:
		return "auth";
	}
	return "?";
}

int64_t
retry_backoff_ms(unsigned attempt, int64_t min_ms, int64_t max_ms, double r)
{
	int64_t	cap = min_ms > 0 ? min_ms : 1;

	if (max_ms < cap)
		max_ms = cap;
	/* Doubling stops at the cap, so it cannot overflow. */
	while (attempt-- > 0 && cap < max_ms)
		cap *= 2;
	if (cap > max_ms)
		cap = max_ms;
	if (!(r >= 0.0))
		r = 0.0;
	if (r >= 1.0)
		r = 0.999999999;
	/* floor(r * (cap + 1)) is uniform over the integers 0..cap. */
	return (int64_t)(r * (double)(cap + 1));
}

int
retry_after_parse(const char *value, time_t now, int64_t *ms)
{
	char		 buf[128];
	const char	*s = value;
	size_t		 n;
	int64_t		 secs = 0;
	time_t		 t;

	if (s == NULL)
		return -1;
	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';

	if (isdigit((unsigned char)buf[0])) {
		size_t	i;

		for (i = 0; i < n; i++) {
			if (!isdigit((unsigned char)buf[i]))
				return -1;
			/* Clamp while reading: no overflow, no "too big". */
			if (secs <= RETRY_AFTER_MAX_MS / 1000)
				secs = secs * 10 + (buf[i] - '0');
		}
		*ms = secs * 1000;
		if (*ms > RETRY_AFTER_MAX_MS)
			*ms = RETRY_AFTER_MAX_MS;
		return 0;
	}
	/*
	 * An HTTP-date starts with a day name.  curl_getdate parses the three
	 * forms RFC 9110 allows (and more); it does no I/O.
	 */
	if (!isalpha((unsigned char)buf[0]))
		return -1;
	if ((t = curl_getdate(buf, NULL)) == -1)
		return -1;
	if (t <= now)
		*ms = 0;
	else if ((int64_t)(t - now) > RETRY_AFTER_MAX_MS / 1000)
		*ms = RETRY_AFTER_MAX_MS;
	else
		*ms = (int64_t)(t - now) * 1000;
	return 0;
}
