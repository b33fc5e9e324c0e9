/*
 * fetch.c -- see fetch.h.
 *
 * libcurl is loaded with dlopen the first time a URL is fetched, not
 * linked.  Linking it maps OpenSSL, nghttp2, libssh2, LDAP and the rest
 * into every sampler and costs some 6.5 MB of resident memory on Debian
 * 12, three times the sampler's whole budget (issue 3: RSS <= 2048 kB),
 * while most devices configure no HTTP source at all.  The headers are
 * still curl's, so the types and options are checked at compile time.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "fetch.h"

/* The libcurl entry points used, resolved by fetch_curl_load. */
struct fetch_curl {
	void		*dl;
	CURL		*(*easy_init)(void);
	CURLcode	 (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	 (*easy_perform)(CURL *);
	CURLcode	 (*easy_getinfo)(CURL *, CURLINFO, ...);
	void		 (*easy_cleanup)(CURL *);
	const char	*(*easy_strerror)(CURLcode);
};

struct fetch {
	struct fetch_curl c;
	CURL	*curl;
	char	*buf;
	size_t	 len, cap;
	int	 toobig;
};

struct fetch *
fetch_new(void)
{
	return calloc(1, sizeof(struct fetch));
}

void
fetch_free(struct fetch *f)
{
	if (f == NULL)
		return;
	if (f->curl != NULL)
		f->c.easy_cleanup(f->curl);
	/* The library stays loaded: unloading libcurl and OpenSSL is not
	 * safe while others may hold their state, and it costs nothing. */
	free(f->buf);
	free(f);
}

/* Makes room for n more bytes plus a NUL. */
static int
fetch_room(struct fetch *f, size_t n)
{
	size_t	 c;
	char	*nb;

	if (f->len + n + 1 > FETCH_MAX_BODY + 1) {
		f->toobig = 1;
		return -1;
	}
	if (f->len + n + 1 <= f->cap)
		return 0;
	c = f->cap ? f->cap : 4096;
	while (c < f->len + n + 1)
		c *= 2;
	if ((nb = realloc(f->buf, c)) == NULL)
		return -1;
	f->buf = nb;
	f->cap = c;
	return 0;
}

static size_t
fetch_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct fetch	*f = arg;
	size_t		 n = size * nmemb;

	if (fetch_room(f, n) == -1)
		return 0;	/* makes curl fail the transfer */
	memcpy(f->buf + f->len, p, n);
	f->len += n;
	return n;
}

static int
fetch_curl_load(struct fetch_curl *c, char *err, size_t errlen)
{
	static const char *const names[] = { "libcurl.so.4", "libcurl.so",
	    "libcurl-gnutls.so.4" };
	size_t	i;

	if (c->dl != NULL)
		return 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && c->dl == NULL; i++)
		c->dl = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (c->dl == NULL) {
		snprintf(err, errlen, "cannot load libcurl: %s", dlerror());
		return -1;
	}
	/* POSIX dlsym returns object pointers; converting them to function
	 * pointers through memcpy keeps -Wpedantic quiet and is what POSIX
	 * requires to work. */
#define SYM(field, name) do {						\
	void *_p = dlsym(c->dl, name);					\
	if (_p == NULL) {						\
		snprintf(err, errlen, "libcurl lacks %s", name);	\
		dlclose(c->dl);						\
		c->dl = NULL;						\
		return -1;						\
	}								\
	memcpy(&c->field, &_p, sizeof(_p));				\
} while (0)
	SYM(easy_init, "curl_easy_init");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_strerror, "curl_easy_strerror");
#undef SYM
	return 0;
}

int
fetch_url(struct fetch *f, const char *url, int64_t timeout_ms, char **body,
    size_t *len, char *err, size_t errlen)
{
	char		 cerr[CURL_ERROR_SIZE];
	CURLcode	 rc;
	long		 status = 0;

	if (fetch_curl_load(&f->c, err, errlen) == -1)
		return -1;
	if (f->curl == NULL && (f->curl = f->c.easy_init()) == NULL) {
		snprintf(err, errlen, "curl_easy_init failed");
		return -1;
	}
	f->len = 0;
	f->toobig = 0;
	cerr[0] = '\0';
	f->c.easy_setopt(f->curl, CURLOPT_URL, url);
	f->c.easy_setopt(f->curl, CURLOPT_WRITEFUNCTION, fetch_write);
	f->c.easy_setopt(f->curl, CURLOPT_WRITEDATA, f);
	f->c.easy_setopt(f->curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	f->c.easy_setopt(f->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	f->c.easy_setopt(f->curl, CURLOPT_ERRORBUFFER, cerr);
	/* No signals: the sampler's own handlers stay in charge, and curl
	 * uses its threaded resolver for timeouts instead. */
	f->c.easy_setopt(f->curl, CURLOPT_NOSIGNAL, 1L);
	f->c.easy_setopt(f->curl, CURLOPT_FOLLOWLOCATION, 1L);
	f->c.easy_setopt(f->curl, CURLOPT_MAXREDIRS, 3L);
	f->c.easy_setopt(f->curl, CURLOPT_ACCEPT_ENCODING, "");
	f->c.easy_setopt(f->curl, CURLOPT_USERAGENT, "tern-sampler");
	f->c.easy_setopt(f->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = f->c.easy_perform(f->curl);
	/* The error buffer must not outlive this frame. */
	f->c.easy_setopt(f->curl, CURLOPT_ERRORBUFFER, NULL);
	if (rc != CURLE_OK) {
		if (f->toobig)
			snprintf(err, errlen, "%s: body over %u bytes", url,
			    FETCH_MAX_BODY);
		else
			snprintf(err, errlen, "%s: %s", url,
			    cerr[0] ? cerr : f->c.easy_strerror(rc));
		return -1;
	}
	f->c.easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		snprintf(err, errlen, "%s: HTTP status %ld", url, status);
		return -1;
	}
	if (fetch_room(f, 0) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	f->buf[f->len] = '\0';
	*body = f->buf;
	*len = f->len;
	return 0;
}

int
fetch_file(struct fetch *f, const char *path, char **body, size_t *len,
    char *err, size_t errlen)
{
	ssize_t	r;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	f->len = 0;
	f->toobig = 0;
	for (;;) {
		if (fetch_room(f, 4096) == -1) {
			snprintf(err, errlen, "%s: %s", path, f->toobig ?
			    "file too big" : "out of memory");
			close(fd);
			return -1;
		}
		r = read(fd, f->buf + f->len, f->cap - f->len - 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		f->len += (size_t)r;
	}
	close(fd);
	f->buf[f->len] = '\0';
	*body = f->buf;
	*len = f->len;
	return 0;
}
