/*
 * http.c -- the evhttp server and its limits.
 *
 * evhttp sets the body and header size limits itself (413 for a
 * Content-Length over max_body_bytes before a byte of the body is read,
 * and for a chunked body as soon as it passes the limit).  What it lacks
 * in libevent 2.1 is a connection cap and deadlines a slow client cannot
 * extend: its timeout is an idle timeout, reset by every byte, so a
 * client trickling one byte a second holds a connection for ever.
 *
 * So every connection gets a struct hconn, made when evhttp asks us for
 * the connection's bufferevent (evhttp_set_bevcb), with one timer:
 *   - header phase: the request line and headers must be complete within
 *     header_timeout of the connection's accept (or of the previous
 *     answer, on a kept-alive connection);
 *   - body phase: from the end of the headers, the body must be complete
 *     within body_timeout;
 *   - handling: the request is ours (waiting for the writer); no deadline
 *     here, forward.c has its own.
 * The end of the headers is seen by watching the bytes that arrive in the
 * connection's input buffer (an evbuffer callback runs as the bytes are
 * added, before evhttp parses them) for the blank line.  When a deadline
 * passes the connection is freed, whatever evhttp was doing with it.
 *
 * libevent 2.1 creates the evhttp_connection only after the bufferevent
 * callback returns, so the hconn learns its connection (and installs the
 * close callback that counts it out) from a zero-delay timer that runs in
 * the same loop iteration, before any byte can be read.  There it also
 * refuses a connection over max_connections with a 503.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "log.h"
#include "receiver.h"

enum phase {
	PH_SETUP,	/* the evhttp_connection is not known yet */
	PH_HEADER,
	PH_BODY,
	PH_HANDLING,
};

struct hconn {
	TAILQ_ENTRY(hconn)		 entry;
	struct recv			*r;
	struct bufferevent		*bev;
	struct evhttp_connection	*evcon;
	struct event			*timer;
	enum phase			 phase;
	int				 scan;	/* blank-line scanner state */
	char				 peer[64];
};

static void
arm(struct hconn *c, int64_t ms)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	evtimer_add(c->timer, &tv);
}

static struct hconn *
find(struct recv *r, struct evhttp_connection *evcon)
{
	struct hconn	*c;

	if (evcon == NULL)
		return NULL;
	TAILQ_FOREACH(c, &r->conns, entry)
		if (c->evcon == evcon)
			return c;
	return NULL;
}

/*
 * Feeds bytes to the scanner; returns 1 at the blank line that ends the
 * headers.  States: 0 in a line, 1 after "\n", 2 after "\n\r".
 */
static int
scan_bytes(struct hconn *c, const uint8_t *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (c->scan >= 1)
				return 1;
			c->scan = 1;
		} else if (p[i] == '\r' && c->scan == 1)
			c->scan = 2;
		else
			c->scan = 0;
	}
	return 0;
}

/* Scans buf from byte off on; moves to the body phase at the end. */
static void
scan_buffer(struct hconn *c, struct evbuffer *buf, size_t off)
{
	struct evbuffer_iovec	 v[16];
	struct evbuffer_ptr	 ptr;
	int			 i, nv;
	size_t			 len = evbuffer_get_length(buf);

	if (off >= len || evbuffer_ptr_set(buf, &ptr, off, EVBUFFER_PTR_SET)
	    == -1)
		return;
	while (c->phase == PH_HEADER) {
		nv = evbuffer_peek(buf, (ev_ssize_t)(len - off), &ptr, v, 16);
		if (nv <= 0)
			return;
		for (i = 0; i < nv && i < 16; i++) {
			if (scan_bytes(c, v[i].iov_base, v[i].iov_len)) {
				c->phase = PH_BODY;
				arm(c, c->r->conf.receiver.body_timeout_ms);
				return;
			}
			off += v[i].iov_len;
		}
		if (nv <= 16 || off >= len ||
		    evbuffer_ptr_set(buf, &ptr, off, EVBUFFER_PTR_SET) == -1)
			return;
	}
}

static void
input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct hconn	*c = arg;
	size_t		 len = evbuffer_get_length(buf);

	if (info->n_added == 0 || c->phase != PH_HEADER)
		return;
	scan_buffer(c, buf, len >= info->n_added ? len - info->n_added : 0);
}

static void
conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct hconn	*c = arg;
	struct recv	*r = c->r;

	TAILQ_REMOVE(&r->conns, c, entry);
	r->nconns--;
	event_free(c->timer);
	log_debug("connection from %s: closed (%zu open)", c->peer,
	    r->nconns);
	free(c);
}

/* Best effort, before closing a refused connection. */
static void
refuse(struct hconn *c)
{
	static const char	resp[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Retry-After: 1\r\nContent-Type: application/json\r\n"
	    "Connection: close\r\nContent-Length: 44\r\n\r\n"
	    "{\"error\":\"too many connections\",\"field\":null}";
	evutil_socket_t		fd = bufferevent_getfd(c->bev);

	if (fd >= 0)
		(void)!send(fd, resp, sizeof(resp) - 1, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hconn		*c = arg;
	struct recv		*r = c->r;
	bufferevent_data_cb	 rd, wr;
	bufferevent_event_cb	 ev;
	void			*cbarg = NULL;
	char			*addr = NULL;
	uint16_t		 port = 0;

	if (c->phase == PH_SETUP) {
		bufferevent_getcb(c->bev, &rd, &wr, &ev, &cbarg);
		if (cbarg == NULL) {
			/* evhttp could not make a connection of it. */
			TAILQ_REMOVE(&r->conns, c, entry);
			r->nconns--;
			bufferevent_free(c->bev);
			event_free(c->timer);
			free(c);
			return;
		}
		c->evcon = cbarg;
		evhttp_connection_set_closecb(c->evcon, conn_closed, c);
		evhttp_connection_get_peer(c->evcon, &addr, &port);
		snprintf(c->peer, sizeof(c->peer), "%s:%u", addr ? addr : "?",
		    (unsigned)port);
		if (r->nconns > r->conf.receiver.max_connections ||
		    r->stopping) {
			r->st.conns_refused++;
			log_warnx("connection from %s: refused, %zu open "
			    "(max_connections %u)", c->peer, r->nconns - 1,
			    r->conf.receiver.max_connections);
			refuse(c);
			evhttp_connection_free(c->evcon);	/* frees c */
			return;
		}
		c->phase = PH_HEADER;
		c->scan = 0;
		arm(c, r->conf.receiver.header_timeout_ms);
		/* Bytes that arrived with the connection. */
		scan_buffer(c, bufferevent_get_input(c->bev), 0);
		return;
	}
	if (c->phase == PH_HANDLING)
		return;
	if (c->phase == PH_HEADER)
		r->st.deadline_header++;
	else
		r->st.deadline_body++;
	log_warnx("connection from %s: %s not complete within %lld ms; "
	    "closed", c->peer, c->phase == PH_HEADER ? "request headers" :
	    "request body", (long long)(c->phase == PH_HEADER ?
	    r->conf.receiver.header_timeout_ms :
	    r->conf.receiver.body_timeout_ms));
	evhttp_connection_free(c->evcon);	/* frees c */
}

static struct bufferevent *
make_bev(struct event_base *base, void *arg)
{
	struct recv		*r = arg;
	struct hconn		*c;
	struct bufferevent	*bev;

	if ((bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE))
	    == NULL)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->timer = evtimer_new(base, timer_cb, c)) == NULL) {
		/* Untracked, but evhttp still serves it. */
		free(c);
		return bev;
	}
	c->r = r;
	c->bev = bev;
	c->phase = PH_SETUP;
	snprintf(c->peer, sizeof(c->peer), "?");
	evbuffer_add_cb(bufferevent_get_input(bev), input_cb, c);
	TAILQ_INSERT_TAIL(&r->conns, c, entry);
	r->nconns++;
	r->st.conns_total++;
	event_active(c->timer, EV_TIMEOUT, 1);
	return bev;
}

void
http_request_begin(struct recv *r, struct evhttp_request *req)
{
	struct hconn	*c = find(r, evhttp_request_get_connection(req));

	if (c == NULL)
		return;
	c->phase = PH_HANDLING;
	evtimer_del(c->timer);
}

/* After an answer: the next request on this connection has its own
 * header deadline, which doubles as the keep-alive idle limit. */
static void
next_request(struct hconn *c)
{
	c->phase = PH_HEADER;
	c->scan = 0;
	arm(c, c->r->conf.receiver.header_timeout_ms);
	scan_buffer(c, bufferevent_get_input(c->bev), 0);
}

void
http_reply(struct recv *r, struct evhttp_request *req, int code,
    const char *content_type, const char *body, size_t len, uint32_t retry_s)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
	struct evbuffer		*out = evbuffer_new();
	struct hconn		*c = find(r, evhttp_request_get_connection(req));
	char			 num[16];
	const char		*reason;

	switch (code) {
	case 200: reason = "OK"; break;
	case 400: reason = "Bad Request"; break;
	case 401: reason = "Unauthorized"; break;
	case 403: reason = "Forbidden"; break;
	case 404: reason = "Not Found"; break;
	case 405: reason = "Method Not Allowed"; break;
	case 413: reason = "Payload Too Large"; break;
	case 415: reason = "Unsupported Media Type"; break;
	case 429: reason = "Too Many Requests"; break;
	case 503: reason = "Service Unavailable"; break;
	default: reason = "Internal Server Error"; break;
	}
	evhttp_add_header(h, "Content-Type", content_type);
	if (retry_s > 0) {
		snprintf(num, sizeof(num), "%u", retry_s);
		evhttp_add_header(h, "Retry-After", num);
	}
	if (code == 401)
		evhttp_add_header(h, "WWW-Authenticate", "Bearer");
	if (r->stopping)
		evhttp_add_header(h, "Connection", "close");
	if (out != NULL)
		evbuffer_add(out, body, len);
	if (c != NULL)
		next_request(c);
	evhttp_send_reply(req, code, reason, out);
	if (out != NULL)
		evbuffer_free(out);
}

void
http_drop(struct recv *r, struct evhttp_request *req)
{
	struct evhttp_connection	*evcon = evhttp_request_get_connection(req);

	if (evcon == NULL) {
		/* Already gone: answering frees the request. */
		evhttp_send_reply(req, 500, "Dropped", NULL);
		return;
	}
	evhttp_connection_free(evcon);
}

int
http_start(struct recv *r)
{
	const struct conf_receiver	*rc = &r->conf.receiver;
	int64_t				 idle;

	TAILQ_INIT(&r->conns);
	if ((r->http = evhttp_new(r->base)) == NULL)
		return -1;
	evhttp_set_max_body_size(r->http, (ev_ssize_t)rc->max_body_bytes);
	evhttp_set_max_headers_size(r->http, (ev_ssize_t)rc->max_header_bytes);
	/* evhttp's own idle timeout, a backstop behind our deadlines. */
	idle = rc->header_timeout_ms > rc->body_timeout_ms ?
	    rc->header_timeout_ms : rc->body_timeout_ms;
	evhttp_set_timeout(r->http, (int)((idle + 999) / 1000));
	evhttp_set_allowed_methods(r->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_bevcb(r->http, make_bev, r);
	evhttp_set_gencb(r->http, api_handle, r);
	r->bound = evhttp_bind_socket_with_handle(r->http, rc->listen,
	    (uint16_t)rc->port);
	return r->bound == NULL ? -1 : 0;
}

void
http_stop_accepting(struct recv *r)
{
	if (r->bound != NULL) {
		evhttp_del_accept_socket(r->http, r->bound);
		r->bound = NULL;
	}
}

void
http_free(struct recv *r)
{
	if (r->http != NULL)
		evhttp_free(r->http);	/* closes connections: frees hconns */
	r->http = NULL;
}
