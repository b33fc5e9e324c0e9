/*
 * peer.c -- see peer.h.
 *
 * Lifetime.  A peer is freed only when no callback of ours is running for
 * it: peer_kill marks it dead, tells the program (dispatch with NULL) and
 * frees it at once if it is not inside a callback, otherwise when the
 * outermost callback unwinds (in_cb).  That lets dispatch call peer_drop on
 * its own peer, and lets a read callback that processes many frames stop
 * cleanly in the middle.
 */
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "peer.h"

/*
 * A connection must say HELLO within this time.  It bounds what a client
 * that connects and says nothing can hold, and is generous for a loaded
 * board whose client is swapping.
 */
#define PEER_HELLO_TIMEOUT_MS	5000

/* Output still queued that a dropped peer is sent before its ERROR. */
#define PEER_ERROR_FLUSH_MAX	(1u << 20)

/* Pending connections the kernel queues while we are busy committing. */
#define PEER_LISTEN_BACKLOG	64

struct peer {
	TAILQ_ENTRY(peer)	 entry;
	struct bufferevent	*bev;
	struct peer_listener	*listener;	/* accepted by, or NULL */
	struct peer_client	*client;	/* connected by, or NULL */
	const struct peer_self	*self;
	struct body_dec		*dec;		/* owner's, for HELLO/ERROR */
	struct peer_info	 info;
	size_t			 out_limit;
	int			 hello_ok;
	int			 paused;
	int			 closing;
	int			 dead;
	int			 in_cb;
	peer_dispatch_cb	 dispatch;
	void			*dispatch_arg;
	peer_drained_cb		 drained;
	void			*data;
	struct event		*close_timer;
};

TAILQ_HEAD(peer_list, peer);

struct peer_listener {
	struct event_base	*base;
	struct evconnlistener	*lev;
	char			 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const struct peer_self	*self;
	size_t			 out_limit;
	peer_accept_cb		 accept;
	void			*arg;
	struct peer_list	 peers;
	size_t			 npeers;
	struct body_dec		*dec;
};

struct peer_client {
	struct event_base	*base;
	char			 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const struct peer_self	*self;
	size_t			 out_limit;
	peer_up_cb		 up;
	peer_dispatch_cb	 dispatch;
	void			*arg;
	struct peer		*peer;		/* connecting or up */
	struct event		*timer;
	unsigned		 attempt;
	int			 stopped;
	struct log_once		 connfail;
	struct body_dec		*dec;
};

static void	peer_readcb(struct bufferevent *, void *);
static void	peer_writecb(struct bufferevent *, void *);
static void	peer_eventcb(struct bufferevent *, short, void *);
static void	peer_kill(struct peer *);
static void	client_schedule(struct peer_client *);

uint64_t
peer_random64(void)
{
	uint64_t	v = 0;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^
		    (uint64_t)time(NULL);
	return v;
}

int64_t
peer_backoff_ms(unsigned n, double r)
{
	int64_t	cap = PEER_BACKOFF_MIN_MS;

	while (n-- > 0 && cap < PEER_BACKOFF_MAX_MS)
		cap *= 2;
	if (cap > PEER_BACKOFF_MAX_MS)
		cap = PEER_BACKOFF_MAX_MS;
	return cap / 2 + (int64_t)(r * (double)(cap / 2));
}

static void
peer_free(struct peer *p)
{
	if (p->close_timer != NULL)
		event_free(p->close_timer);
	if (p->bev != NULL)
		bufferevent_free(p->bev);
	free(p);
}

static struct peer *
peer_new(struct bufferevent *bev, const struct peer_self *self,
    size_t out_limit, struct body_dec *dec)
{
	struct peer	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->bev = bev;
	p->self = self;
	p->out_limit = out_limit;
	p->dec = dec;
	snprintf(p->info.label, sizeof(p->info.label), "(before HELLO)");
	bufferevent_setcb(bev, peer_readcb, peer_writecb, peer_eventcb, p);
	/* The write callback fires when output falls to half the limit. */
	bufferevent_setwatermark(bev, EV_WRITE, out_limit / 2, 0);
	return p;
}

size_t
peer_outq(const struct peer *p)
{
	if (p->bev == NULL)
		return 0;
	return evbuffer_get_length(bufferevent_get_output(p->bev));
}

size_t
peer_outlimit(const struct peer *p)
{
	return p->out_limit;
}

void
peer_set_outlimit(struct peer *p, size_t limit)
{
	p->out_limit = limit;
	bufferevent_setwatermark(p->bev, EV_WRITE, limit / 2, 0);
}

const struct peer_info *
peer_info(const struct peer *p)
{
	return &p->info;
}

const char *
peer_label(const struct peer *p)
{
	return p->info.label;
}

void *
peer_data(const struct peer *p)
{
	return p->data;
}

void
peer_set_data(struct peer *p, void *data)
{
	p->data = data;
}

void
peer_set_drained(struct peer *p, peer_drained_cb cb)
{
	p->drained = cb;
}

void
peer_set_dispatch(struct peer *p, peer_dispatch_cb cb, void *arg)
{
	p->dispatch = cb;
	p->dispatch_arg = arg;
}

/* Queues a frame without the limit check (HELLO, ERROR). */
static int
peer_queue(struct peer *p, unsigned type, unsigned flags, uint64_t seq,
    const void *body, size_t len)
{
	struct frame_header	 h;
	uint8_t			 hb[FRAME_HDR_LEN];
	struct evbuffer		*out;

	if (p->dead || p->bev == NULL) {
		errno = EPIPE;
		return -1;
	}
	if (len > FRAME_MAX_BODY) {
		errno = EMSGSIZE;
		return -1;
	}
	h.length = (uint32_t)len;
	h.type = (uint16_t)type;
	h.version = PROTO_VERSION;
	h.flags = (uint8_t)flags;
	h.seq = seq;
	frame_header_encode(&h, hb);
	out = bufferevent_get_output(p->bev);
	if (evbuffer_add(out, hb, sizeof(hb)) == -1 ||
	    (len > 0 && evbuffer_add(out, body, len) == -1)) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int
peer_send(struct peer *p, unsigned type, uint64_t seq, const void *body,
    size_t len)
{
	return peer_send_flags(p, type, 0, seq, body, len);
}

int
peer_send_flags(struct peer *p, unsigned type, unsigned flags, uint64_t seq,
    const void *body, size_t len)
{
	if (p->dead || p->closing) {
		errno = EPIPE;
		return -1;
	}
	if (peer_outq(p) + FRAME_HDR_LEN + len > p->out_limit) {
		errno = ENOBUFS;
		return -1;
	}
	return peer_queue(p, type, flags, seq, body, len);
}

int
peer_send_unsent(struct peer *p, struct sendq *q, unsigned flags,
    uint64_t *last_sent)
{
	struct sendq_frame	*f;

	while ((f = sendq_next_unsent(q)) != NULL) {
		if (peer_send_flags(p, FRAME_SAMPLES, flags, f->seq, f->body,
		    f->len) == -1)
			return -1;
		sendq_mark_sent(q, f);
		if (last_sent != NULL)
			*last_sent = f->seq;
	}
	return 0;
}

int
peer_send_sb(struct peer *p, unsigned type, uint64_t seq,
    const msgpack_sbuffer *sb)
{
	return peer_send(p, type, seq, sb->data, sb->size);
}

void
peer_pause(struct peer *p)
{
	if (p->dead || p->paused)
		return;
	p->paused = 1;
	bufferevent_disable(p->bev, EV_READ);
}

void
peer_resume(struct peer *p)
{
	if (p->dead || !p->paused)
		return;
	p->paused = 0;
	bufferevent_enable(p->bev, EV_READ);
	/* Frames already buffered would otherwise wait for the next byte. */
	bufferevent_trigger(p->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS |
	    BEV_TRIG_DEFER_CALLBACKS);
}

/*
 * Sends ERROR {reason} to a peer about to be dropped, straight to the
 * socket.  The bufferevent cannot do it: its output buffer is frozen at the
 * front while libevent owns it, and freeing the bufferevent right after
 * would discard the frame.  Whatever was queued before goes first, so the
 * peer sees whole frames; a peer whose socket is full gets nothing, which
 * is fine for one being dropped.
 */
static void
peer_send_error(struct peer *p, const char *reason)
{
	struct frame_header	 h;
	struct evbuffer		*out = bufferevent_get_output(p->bev);
	msgpack_sbuffer		 sb;
	uint8_t			*buf;
	size_t			 queued = evbuffer_get_length(out), len;

	/* A peer that left a megabyte unread is not reading anything. */
	if (queued > PEER_ERROR_FLUSH_MAX)
		return;
	msgpack_sbuffer_init(&sb);
	if (body_encode_error(&sb, reason) == -1 ||
	    (buf = malloc(queued + FRAME_HDR_LEN + sb.size)) == NULL) {
		msgpack_sbuffer_destroy(&sb);
		return;
	}
	evbuffer_copyout(out, buf, queued);
	memset(&h, 0, sizeof(h));
	h.length = (uint32_t)sb.size;
	h.type = FRAME_ERROR;
	h.version = PROTO_VERSION;
	frame_header_encode(&h, buf + queued);
	memcpy(buf + queued + FRAME_HDR_LEN, sb.data, sb.size);
	len = queued + FRAME_HDR_LEN + sb.size;
	(void)send(bufferevent_getfd(p->bev), buf, len,
	    MSG_DONTWAIT | MSG_NOSIGNAL);
	evbuffer_drain(out, queued);
	free(buf);
	msgpack_sbuffer_destroy(&sb);
}

void
peer_drop(struct peer *p, const char *reason)
{
	if (p->dead)
		return;
	log_warnx("peer %s: dropped: %s", p->info.label, reason);
	if (reason != NULL && p->bev != NULL)
		peer_send_error(p, reason);
	peer_kill(p);
}

static void
peer_close_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct peer	*p = arg;

	log_warnx("peer %s: output not drained at close, discarding %zu bytes",
	    p->info.label, peer_outq(p));
	peer_kill(p);
}

void
peer_close_flush(struct peer *p, int timeout_ms)
{
	struct timeval	tv;

	if (p->dead || p->closing)
		return;
	p->closing = 1;
	bufferevent_disable(p->bev, EV_READ);
	if (peer_outq(p) == 0) {
		peer_kill(p);
		return;
	}
	/* peer_writecb finishes the close once the buffer is empty. */
	bufferevent_setwatermark(p->bev, EV_WRITE, 0, 0);
	p->close_timer = evtimer_new(bufferevent_get_base(p->bev),
	    peer_close_timeout, p);
	if (p->close_timer != NULL) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
		evtimer_add(p->close_timer, &tv);
	}
}

/*
 * Marks p dead, detaches it from its owner, tells the program, and frees it
 * unless a callback for it is still running.
 */
static void
peer_kill(struct peer *p)
{
	struct peer_listener	*l = p->listener;
	struct peer_client	*c = p->client;
	char			 err[16];

	if (p->dead)
		return;
	p->dead = 1;
	if (p->bev != NULL)
		bufferevent_disable(p->bev, EV_READ | EV_WRITE);
	if (l != NULL) {
		TAILQ_REMOVE(&l->peers, p, entry);
		l->npeers--;
	}
	if (c != NULL && c->peer == p)
		c->peer = NULL;
	/* Only a peer the program was told about hears that it is gone. */
	if (p->hello_ok && p->dispatch != NULL) {
		p->in_cb++;
		(void)p->dispatch(p, NULL, p->dispatch_arg, err, sizeof(err));
		p->in_cb--;
	}
	if (c != NULL)
		client_schedule(c);
	if (p->in_cb == 0)
		peer_free(p);
}

/* HELLO from the other side: check it, record who it is, answer. */
static int
peer_hello(struct peer *p, const struct frame *f, char *err, size_t errlen)
{
	struct hello_msg	 m;
	msgpack_sbuffer		 sb;
	struct hello_msg	 mine;
	enum role		 role;
	int			 rc;

	if (f->hdr.type != FRAME_HELLO) {
		snprintf(err, errlen, "expected HELLO first, got %s",
		    frame_type_name(f->hdr.type));
		return -1;
	}
	if (body_decode_hello(p->dec, f->body, f->hdr.length, &m, err,
	    errlen) == -1)
		return -1;
	if (m.version != PROTO_VERSION) {
		snprintf(err, errlen, "protocol version %u, this side speaks %u",
		    m.version, PROTO_VERSION);
		return -1;
	}
	role = role_by_name(m.role.p, m.role.n);
	if (role == ROLE_NONE ||
	    (p->listener != NULL && role == ROLE_WRITER) ||
	    (p->client != NULL && role != ROLE_WRITER)) {
		char	esc[64];

		snprintf(err, errlen, "role '%s' not accepted here",
		    log_escape(m.role.p, m.role.n, esc, sizeof(esc)));
		return -1;
	}
	p->info.role = role;
	p->info.pid = m.pid;
	p->info.epoch = m.epoch;
	log_escape(m.name.p, m.name.n, p->info.name, sizeof(p->info.name));
	log_escape(m.device.p, m.device.n, p->info.device,
	    sizeof(p->info.device));
	snprintf(p->info.label, sizeof(p->info.label), "%s[%lld]",
	    p->info.name, (long long)m.pid);

	if (p->listener != NULL) {
		struct peer_listener	*l = p->listener;

		if (l->accept(p, l->arg, err, errlen) == -1)
			return -1;
		memset(&mine, 0, sizeof(mine));
		mine.role = PSTR(role_name(p->self->role));
		mine.name = PSTR(p->self->name);
		mine.device = PSTR(p->self->device);
		mine.pid = getpid();
		mine.version = PROTO_VERSION;
		mine.epoch = p->self->epoch;
		msgpack_sbuffer_init(&sb);
		rc = body_encode_hello(&sb, &mine);
		if (rc == 0)
			rc = peer_queue(p, FRAME_HELLO, 0, 0, sb.data, sb.size);
		msgpack_sbuffer_destroy(&sb);
		if (rc == -1) {
			snprintf(err, errlen, "cannot answer HELLO");
			return -1;
		}
		log_info("peer %s: connected as %s, device '%s'",
		    p->info.label, role_name(role), p->info.device);
	}
	/* HELLO answered: no more handshake deadline. */
	bufferevent_set_timeouts(p->bev, NULL, NULL);
	p->hello_ok = 1;
	if (p->client != NULL) {
		struct peer_client	*c = p->client;

		c->attempt = 0;
		log_once_ok(&c->connfail, c->path);
		log_debug("connected to %s at %s", p->info.label, c->path);
		c->up(c, p, c->arg);
	}
	return 0;
}

/* One complete frame: handshake, role check, then the program. */
static int
peer_frame(struct peer *p, const struct frame *f, char *err, size_t errlen)
{
	struct error_msg	em;
	char			esc[256];
	char			why[256];

	if (!p->hello_ok)
		return peer_hello(p, f, err, errlen);
	if (!frame_allowed(p->info.role, f->hdr.type)) {
		snprintf(err, errlen, "a %s may not send %s",
		    role_name(p->info.role), frame_type_name(f->hdr.type));
		return -1;
	}
	switch (f->hdr.type) {
	case FRAME_ERROR:
		if (body_decode_error(p->dec, f->body, f->hdr.length, &em, why,
		    sizeof(why)) == -1) {
			snprintf(err, errlen, "ERROR: %.200s", why);
			return -1;
		}
		log_warnx("peer %s: closing on its error: %s", p->info.label,
		    log_escape(em.reason.p, em.reason.n, esc, sizeof(esc)));
		peer_kill(p);
		return 0;
	case FRAME_PING:
		/* Echo the body: PING and PONG share their shape. */
		if (body_check(f->body, f->hdr.length, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "PING: %.200s", why);
			return -1;
		}
		(void)peer_send(p, FRAME_PONG, f->hdr.seq, f->body,
		    f->hdr.length);
		return 0;
	default:
		if (p->dispatch == NULL)
			return 0;
		return p->dispatch(p, f, p->dispatch_arg, err, errlen);
	}
}

static void
peer_readcb(struct bufferevent *bev, void *arg)
{
	struct peer		*p = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct frame_header	 h;
	struct frame		 f;
	const uint8_t		*buf;
	size_t			 len, used;
	char			 err[256], why[320];

	p->in_cb++;
	while (!p->dead && !p->closing && !p->paused) {
		len = evbuffer_get_length(in);
		if (len < FRAME_HDR_LEN)
			break;
		buf = evbuffer_pullup(in, FRAME_HDR_LEN);
		if (frame_header_decode(buf, &h, FRAME_MAX_BODY, err,
		    sizeof(err)) == -1) {
			peer_drop(p, err);
			break;
		}
		if (len < FRAME_HDR_LEN + (size_t)h.length)
			break;
		buf = evbuffer_pullup(in, FRAME_HDR_LEN + (ssize_t)h.length);
		if (buf == NULL) {
			peer_drop(p, "out of memory reading a frame");
			break;
		}
		if (frame_parse(buf, FRAME_HDR_LEN + (size_t)h.length,
		    FRAME_MAX_BODY, &f, &used, err, sizeof(err)) != 1) {
			peer_drop(p, err);
			break;
		}
		err[0] = '\0';
		if (peer_frame(p, &f, err, sizeof(err)) == -1) {
			snprintf(why, sizeof(why), "%s: %s",
			    frame_type_name(f.hdr.type), err);
			peer_drop(p, why);
			break;
		}
		if (!p->dead)
			evbuffer_drain(in, used);
	}
	p->in_cb--;
	if (p->dead && p->in_cb == 0)
		peer_free(p);
}

static void
peer_writecb(struct bufferevent *bev, void *arg)
{
	struct peer	*p = arg;

	if (p->dead)
		return;
	if (p->closing) {
		if (peer_outq(p) == 0)
			peer_kill(p);
		return;
	}
	if (p->drained != NULL && p->hello_ok) {
		p->in_cb++;
		p->drained(p, p->data);
		p->in_cb--;
		if (p->dead && p->in_cb == 0)
			peer_free(p);
	}
}

static void
peer_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct peer		*p = arg;
	struct peer_client	*c = p->client;
	struct evbuffer		*out;

	if (what & BEV_EVENT_CONNECTED) {
		struct hello_msg	mine;
		msgpack_sbuffer		sb;
		int			rc;

		memset(&mine, 0, sizeof(mine));
		mine.role = PSTR(role_name(p->self->role));
		mine.name = PSTR(p->self->name);
		mine.device = PSTR(p->self->device);
		mine.pid = getpid();
		mine.version = PROTO_VERSION;
		mine.epoch = p->self->epoch;
		msgpack_sbuffer_init(&sb);
		rc = body_encode_hello(&sb, &mine);
		if (rc == 0)
			rc = peer_queue(p, FRAME_HELLO, 0, 0, sb.data, sb.size);
		msgpack_sbuffer_destroy(&sb);
		if (rc == -1)
			peer_drop(p, "cannot send HELLO");
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		peer_drop(p, "no HELLO within the handshake deadline");
		return;
	}
	if (c != NULL && !p->hello_ok) {
		log_once_fail(&c->connfail, LOG_WARNING,
		    "cannot connect to %s: %s (retrying with backoff)", c->path,
		    (what & BEV_EVENT_ERROR) ?
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()) :
		    "closed during handshake");
		peer_kill(p);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		/* Frames that arrived with the EOF are still worth handling. */
		if (evbuffer_get_length(bufferevent_get_input(bev)) > 0 &&
		    !p->paused)
			peer_readcb(bev, p);
		if (p->dead)
			return;
		log_info("peer %s: disconnected", p->info.label);
	} else {
		out = bufferevent_get_output(bev);
		log_warnx("peer %s: connection error: %s (%zu bytes unsent)",
		    p->info.label,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()),
		    evbuffer_get_length(out));
	}
	peer_kill(p);
}

/* --- listener --- */

static int
sun_fill(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun->sun_path, path);
	return 0;
}

/*
 * Binds path, first checking whether a live process already answers there.
 * connect() succeeding means a live listener: refuse.  ECONNREFUSED means a
 * socket file nobody listens on (a crash left it): remove it.
 */
static int
listen_unix(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, probe, saved;

	if (sun_fill(&sun, path) == -1)
		return -1;
	if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(probe);
		errno = EADDRINUSE;
		return -1;
	}
	saved = errno;
	close(probe);
	if (saved == ECONNREFUSED) {
		log_info("removing stale socket %s", path);
		if (unlink(path) == -1 && errno != ENOENT)
			return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0660) == -1 || listen(fd, PEER_LISTEN_BACKLOG) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static void
listener_acceptcb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct peer_listener	*l = arg;
	struct bufferevent	*bev;
	struct peer		*p;
	struct timeval		 tv;

	bev = bufferevent_socket_new(l->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		log_warnx("accept: cannot allocate a connection");
		close(fd);
		return;
	}
	if ((p = peer_new(bev, l->self, l->out_limit, l->dec)) == NULL) {
		log_warnx("accept: cannot allocate a peer");
		bufferevent_free(bev);
		return;
	}
	p->listener = l;
	TAILQ_INSERT_TAIL(&l->peers, p, entry);
	l->npeers++;
	tv.tv_sec = PEER_HELLO_TIMEOUT_MS / 1000;
	tv.tv_usec = (PEER_HELLO_TIMEOUT_MS % 1000) * 1000;
	bufferevent_set_timeouts(bev, &tv, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void
listener_errorcb(struct evconnlistener *lev, void *arg)
{
	struct peer_listener	*l = arg;

	/* EMFILE and friends: log and keep listening; libevent retries. */
	log_warn("accept on %s", l->path);
}

struct peer_listener *
peer_listen(struct event_base *base, const char *path,
    const struct peer_self *self, size_t out_limit, peer_accept_cb accept,
    void *arg)
{
	struct peer_listener	*l;
	int			 fd, saved;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	if (strlen(path) >= sizeof(l->path)) {
		free(l);
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(l->path, path);
	l->base = base;
	l->self = self;
	l->out_limit = out_limit;
	l->accept = accept;
	l->arg = arg;
	TAILQ_INIT(&l->peers);
	if ((l->dec = body_dec_new()) == NULL)
		goto fail;
	if ((fd = listen_unix(path)) == -1)
		goto fail;
	l->lev = evconnlistener_new(base, listener_acceptcb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (l->lev == NULL) {
		close(fd);
		unlink(path);
		goto fail;
	}
	evconnlistener_set_error_cb(l->lev, listener_errorcb);
	return l;
fail:
	saved = errno;
	body_dec_free(l->dec);
	free(l);
	errno = saved;
	return NULL;
}

void
peer_listener_stop(struct peer_listener *l)
{
	if (l->lev != NULL) {
		evconnlistener_free(l->lev);
		l->lev = NULL;
		unlink(l->path);
	}
}

void
peer_listener_foreach(struct peer_listener *l,
    void (*fn)(struct peer *, void *), void *arg)
{
	struct peer	*p, *next;

	for (p = TAILQ_FIRST(&l->peers); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (p->hello_ok && !p->dead)
			fn(p, arg);
	}
}

size_t
peer_listener_count(const struct peer_listener *l)
{
	return l->npeers;
}

void
peer_listener_free(struct peer_listener *l)
{
	struct peer	*p;

	if (l == NULL)
		return;
	peer_listener_stop(l);
	while ((p = TAILQ_FIRST(&l->peers)) != NULL)
		peer_kill(p);
	body_dec_free(l->dec);
	free(l);
}

/* --- client --- */

static void
client_connect(evutil_socket_t fd, short what, void *arg)
{
	struct peer_client	*c = arg;
	struct sockaddr_un	 sun;
	struct bufferevent	*bev;
	struct peer		*p;

	if (c->stopped || c->peer != NULL)
		return;
	if (sun_fill(&sun, c->path) == -1)
		fatalx("socket path too long: %s", c->path);
	bev = bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL || (p = peer_new(bev, c->self, c->out_limit,
	    c->dec)) == NULL) {
		if (bev != NULL)
			bufferevent_free(bev);
		log_once_fail(&c->connfail, LOG_WARNING,
		    "cannot allocate a connection to %s", c->path);
		c->attempt++;
		client_schedule(c);
		return;
	}
	p->client = c;
	p->dispatch = c->dispatch;
	p->dispatch_arg = c->arg;
	snprintf(p->info.label, sizeof(p->info.label), "writer at %.80s", c->path);
	c->peer = p;
	c->attempt++;
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&sun,
	    sizeof(sun)) == -1) {
		/* The error callback has not run; treat it here. */
		log_once_fail(&c->connfail, LOG_WARNING,
		    "cannot connect to %s: %s (retrying with backoff)", c->path,
		    strerror(errno));
		peer_kill(p);
	}
}

/* Arms the reconnect timer with the next backoff. */
static void
client_schedule(struct peer_client *c)
{
	struct timeval	tv;
	int64_t		ms;
	double		r;

	if (c->stopped || c->timer == NULL)
		return;
	r = (double)(peer_random64() >> 11) / 9007199254740992.0;
	ms = c->attempt == 0 ? 0 : peer_backoff_ms(c->attempt - 1, r);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}

struct peer_client *
peer_client_new(struct event_base *base, const char *path,
    const struct peer_self *self, size_t out_limit, peer_up_cb up,
    peer_dispatch_cb dispatch, void *arg)
{
	struct peer_client	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (strlen(path) >= sizeof(c->path)) {
		free(c);
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(c->path, path);
	c->base = base;
	c->self = self;
	c->out_limit = out_limit;
	c->up = up;
	c->dispatch = dispatch;
	c->arg = arg;
	if ((c->dec = body_dec_new()) == NULL ||
	    (c->timer = evtimer_new(base, client_connect, c)) == NULL) {
		body_dec_free(c->dec);
		free(c);
		return NULL;
	}
	client_schedule(c);
	return c;
}

struct peer *
peer_client_peer(const struct peer_client *c)
{
	if (c->peer == NULL || !c->peer->hello_ok || c->peer->dead)
		return NULL;
	return c->peer;
}

void
peer_client_stop(struct peer_client *c)
{
	c->stopped = 1;
	if (c->timer != NULL)
		evtimer_del(c->timer);
}

void
peer_client_free(struct peer_client *c)
{
	if (c == NULL)
		return;
	c->stopped = 1;
	if (c->peer != NULL)
		peer_kill(c->peer);
	if (c->timer != NULL)
		event_free(c->timer);
	body_dec_free(c->dec);
	free(c);
}
