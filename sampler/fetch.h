/*
 * fetch.h -- getting a document for the prometheus and srt sources: an
 * HTTP GET with libcurl's easy interface, or a whole file.
 *
 * The GET blocks for at most the timeout given (connect included), which
 * the caller keeps short (source.h explains why that is acceptable).  The
 * handle is kept between rounds so that keep-alive connections and DNS
 * results are reused.  libcurl is dlopen'ed on first use, so main need
 * not (and, to keep it unlinked, should not) call curl_global_init;
 * curl_easy_init does it.
 */
#ifndef TERN_FETCH_H
#define TERN_FETCH_H

#include <stddef.h>
#include <stdint.h>

/* A larger document is refused: node_exporter's is ~150 kB, an SLS stats
 * answer under 1 kB. */
#define FETCH_MAX_BODY	(4u << 20)

struct fetch;

/* NULL when out of memory.  fetch_free accepts NULL. */
struct fetch	*fetch_new(void);
void		 fetch_free(struct fetch *);

/*
 * GETs url.  On 0, *body (NUL-terminated, owned by f, valid until the
 * next call on f) and *len hold the response body of a 2xx answer.
 * libcurl is loaded on the first call (see fetch.c); a machine without
 * it gets -1 "cannot load libcurl".
 * Returns -1 with a reason for a transfer error, a timeout, a status that
 * is not 2xx, or a body over FETCH_MAX_BODY.
 */
int	fetch_url(struct fetch *f, const char *url, int64_t timeout_ms,
	    char **body, size_t *len, char *err, size_t errlen);

/* Reads the file at path the same way (FETCH_MAX_BODY applies). */
int	fetch_file(struct fetch *f, const char *path, char **body,
	    size_t *len, char *err, size_t errlen);

#endif
