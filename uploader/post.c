/*
 * post.c -- see post.h.  The socket and timer glue follows curl's
 * docs/examples/hiperfifo.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "post.h"

/*
 * Connections kept in the multi handle's cache.  The uploader talks to one
 * receiver with at most two requests at once (live and backlog), so two
 * is all it ever reuses; more would only hold sockets open.
 */
#define POST_MAX_CONNECTS	2

struct post {
	struct event_base		*base;
	const struct conf_uploader	*c;
	CURLM				*multi;
	struct event			*timer;
	unsigned			 active;
};

struct post_req {
	struct post		*pp;
	CURL			*easy;
	post_done_cb		 cb;
	void			*arg;
	struct curl_slist	*hdrs;
	int			 busy;
	int64_t			 started;
	char			 errbuf[CURL_ERROR_SIZE];
	char			 resp[POST_RESP_KEEP];
	size_t			 resp_len;
	char			 retry_after[128];
};

/* What curl_multi_assign keeps per socket. */
struct post_sock {
	struct event	*ev;
};


/* Hands every finished transfer to its owner. */
static void
check_done(struct post *pp)
{
	struct post_result	 r;
	struct post_req		*req;
	struct curl_header	*h;
	CURLMsg			*msg;
	CURL			*easy;
	int			 left;
	long			 status;

	while ((msg = curl_multi_info_read(pp->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg dies with curl_multi_remove_handle: copy it first. */
		easy = msg->easy_handle;
		memset(&r, 0, sizeof(r));
		r.code = msg->data.result;
		req = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&req);
		status = 0;
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		r.status = r.code == CURLE_OK ? status : 0;
		req->retry_after[0] = '\0';
		if (r.code == CURLE_OK && curl_easy_header(easy, "Retry-After",
		    0, CURLH_HEADER, -1, &h) == CURLHE_OK && h->value != NULL)
			snprintf(req->retry_after, sizeof(req->retry_after),
			    "%s", h->value);
		curl_multi_remove_handle(pp->multi, easy);
		req->busy = 0;
		pp->active--;
		r.error = req->errbuf[0] ? req->errbuf :
		    curl_easy_strerror(r.code);
		r.body = req->resp;
		r.body_len = req->resp_len;
		r.retry_after = req->retry_after[0] ? req->retry_after : NULL;
		r.elapsed_ms = (int64_t)clock_mono_ms() - req->started;
		req->cb(req, &r, req->arg);
	}
}

/* libevent says a socket is ready: tell curl. */
static void
sock_event(evutil_socket_t fd, short kind, void *arg)
{
	struct post	*pp = arg;
	int		 action, running = 0;

	action = ((kind & EV_READ) ? CURL_CSELECT_IN : 0) |
	    ((kind & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	curl_multi_socket_action(pp->multi, fd, action, &running);
	/*
	 * hiperfifo deletes the timer here when nothing is running; we must
	 * not: check_done's callbacks start the next request, whose timer
	 * curl has just armed.  curl disarms it itself (timeout -1).
	 */
	check_done(pp);
}

/* curl's timeout expired. */
static void
timer_event(evutil_socket_t fd, short kind, void *arg)
{
	struct post	*pp = arg;
	int		 running = 0;

	curl_multi_socket_action(pp->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(pp);
}

/* CURLMOPT_SOCKETFUNCTION: which events to watch on socket s. */
static int
sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct post		*pp = userp;
	struct post_sock	*ps = sockp;
	short			 kind;

	if (what == CURL_POLL_REMOVE) {
		if (ps != NULL) {
			event_free(ps->ev);
			free(ps);
		}
		return 0;
	}
	kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
	if (ps == NULL) {
		if ((ps = calloc(1, sizeof(*ps))) == NULL)
			return -1;
		curl_multi_assign(pp->multi, s, ps);
	} else
		event_free(ps->ev);
	if ((ps->ev = event_new(pp->base, s, kind, sock_event, pp)) == NULL ||
	    event_add(ps->ev, NULL) == -1)
		return -1;
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: wake curl after timeout_ms (-1: never). */
static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct post	*pp = userp;
	struct timeval	 tv;

	if (timeout_ms < 0) {
		evtimer_del(pp->timer);
		return 0;
	}
	/* 0 means "now": a zero timeout runs on the next loop turn, never
	 * from inside this callback, where curl must not be re-entered. */
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(pp->timer, &tv);
	return 0;
}

struct post *
post_new(struct event_base *base, const struct conf_uploader *c)
{
	struct post	*pp;

	if ((pp = calloc(1, sizeof(*pp))) == NULL)
		return NULL;
	pp->base = base;
	pp->c = c;
	if ((pp->multi = curl_multi_init()) == NULL ||
	    (pp->timer = evtimer_new(base, timer_event, pp)) == NULL) {
		post_free(pp);
		return NULL;
	}
	curl_multi_setopt(pp->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(pp->multi, CURLMOPT_SOCKETDATA, pp);
	curl_multi_setopt(pp->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(pp->multi, CURLMOPT_TIMERDATA, pp);
	curl_multi_setopt(pp->multi, CURLMOPT_MAXCONNECTS,
	    (long)POST_MAX_CONNECTS);
	return pp;
}

void
post_free(struct post *pp)
{
	if (pp == NULL)
		return;
	/* Requests must be freed first (post_req_free); then the cache. */
	if (pp->multi != NULL)
		curl_multi_cleanup(pp->multi);
	if (pp->timer != NULL)
		event_free(pp->timer);
	free(pp);
}

unsigned
post_active(const struct post *pp)
{
	return pp->active;
}

/* CURLOPT_WRITEFUNCTION: keep the start of the response, drop the rest. */
static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct post_req	*req = arg;
	size_t		 len = size * n, room;

	room = sizeof(req->resp) - req->resp_len;
	if (room > 0) {
		if (room > len)
			room = len;
		memcpy(req->resp + req->resp_len, p, room);
		req->resp_len += room;
	}
	return len;
}

struct post_req *
post_req_new(struct post *pp, post_done_cb cb, void *arg)
{
	const struct conf_uploader	*c = pp->c;
	struct post_req			*req;
	CURL				*e;

	if ((req = calloc(1, sizeof(*req))) == NULL)
		return NULL;
	req->pp = pp;
	req->cb = cb;
	req->arg = arg;
	if ((e = req->easy = curl_easy_init()) == NULL) {
		free(req);
		return NULL;
	}
	curl_easy_setopt(e, CURLOPT_URL, c->url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_PRIVATE, req);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "tern-uploader");
	/* Only the web: no file://, no redirect to somewhere else. */
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)c->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	if (c->low_speed_limit > 0) {
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT,
		    (long)c->low_speed_limit);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
		    (long)((c->low_speed_time_ms + 999) / 1000));
	}
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
	if (c->ca_file[0] != '\0')
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	return req;
}

void
post_cancel(struct post_req *req)
{
	if (req == NULL || !req->busy)
		return;
	curl_multi_remove_handle(req->pp->multi, req->easy);
	req->busy = 0;
	req->pp->active--;
}

void
post_req_free(struct post_req *req)
{
	if (req == NULL)
		return;
	post_cancel(req);
	curl_easy_cleanup(req->easy);
	curl_slist_free_all(req->hdrs);
	free(req);
}

int
post_busy(const struct post_req *req)
{
	return req->busy;
}

/* Appends one header line; -1 on allocation failure. */
static int
add_header(struct curl_slist **l, const char *line)
{
	struct curl_slist	*n;

	if ((n = curl_slist_append(*l, line)) == NULL)
		return -1;
	*l = n;
	return 0;
}

int
post_start(struct post_req *req, const void *body, size_t len,
    const char *content_type, int gzip, const char *token, char *err,
    size_t errlen)
{
	struct curl_slist	*h = NULL;
	char			 line[POST_TOKEN_MAX + 64];
	CURLMcode		 mc;

	if (req->busy) {
		snprintf(err, errlen, "a request is already in flight");
		return -1;
	}
	snprintf(line, sizeof(line), "Content-Type: %s", content_type);
	if (add_header(&h, line) == -1 ||
	    (gzip && add_header(&h, "Content-Encoding: gzip") == -1) ||
	    /* No 100-continue round trip: the receiver limits bodies itself. */
	    add_header(&h, "Expect:") == -1)
		goto nomem;
	if (token != NULL && token[0] != '\0') {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
		if (add_header(&h, line) == -1)
			goto nomem;
	}
	/* The token stays out of the stack once it is in the list. */
	explicit_bzero(line, sizeof(line));
	curl_slist_free_all(req->hdrs);
	req->hdrs = h;
	curl_easy_setopt(req->easy, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(req->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(req->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)len);
	req->resp_len = 0;
	req->errbuf[0] = '\0';
	req->started = (int64_t)clock_mono_ms();
	if ((mc = curl_multi_add_handle(req->pp->multi, req->easy)) !=
	    CURLM_OK) {
		snprintf(err, errlen, "%s", curl_multi_strerror(mc));
		return -1;
	}
	req->busy = 1;
	req->pp->active++;
	return 0;
nomem:
	explicit_bzero(line, sizeof(line));
	curl_slist_free_all(h);
	snprintf(err, errlen, "out of memory");
	return -1;
}

int
post_read_token(const char *path, char *out, size_t outlen, char *err,
    size_t errlen)
{
	char	buf[POST_TOKEN_MAX + 2];
	ssize_t	n;
	size_t	i, a, b;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	b = strcspn(buf, "\r\n");
	for (a = 0; a < b && (buf[a] == ' ' || buf[a] == '\t'); a++)
		;
	while (b > a && (buf[b - 1] == ' ' || buf[b - 1] == '\t'))
		b--;
	if (b == a) {
		snprintf(err, errlen, "%s: no token on the first line", path);
		goto fail;
	}
	if (b - a >= POST_TOKEN_MAX || b - a >= outlen) {
		snprintf(err, errlen, "%s: token longer than %d bytes", path,
		    POST_TOKEN_MAX - 1);
		goto fail;
	}
	for (i = a; i < b; i++)
		if (buf[i] < 0x21 || buf[i] > 0x7e) {
			snprintf(err, errlen, "%s: the token has a byte that "
			    "cannot go into a header (offset %zu)", path,
			    i - a);
			goto fail;
		}
	memcpy(out, buf + a, b - a);
	out[b - a] = '\0';
	explicit_bzero(buf, sizeof(buf));
	return 0;
fail:
	explicit_bzero(buf, sizeof(buf));
	return -1;
}
