/*
 * peer.h -- framed connections on libevent: the runtime every tern process
 * shares.
 *
 * The writer listens (peer_listen); everyone else connects as a client
 * (peer_client_new) and reconnects with capped, jittered backoff, so any
 * process can restart alone.  Both sides exchange HELLO first; a version
 * mismatch is answered with ERROR and a close.  After HELLO, every frame
 * is checked against the role table in frame.h before the program sees it.
 *
 * A program handles frames in one dispatch function per peer, as tmux and
 * OpenBSD's daemons do: one switch, one case per type.  When the peer goes
 * away -- closed, dropped for a violation, or the process is stopping --
 * the same function is called once with f == NULL, so cleanup is written
 * once.  A dispatch function returns 0, or -1 after writing a reason into
 * err: the peer is then dropped with a log line naming peer, type, reason.
 *
 * Output is bounded per peer (out_limit bytes buffered).  peer_send refuses
 * a frame that would exceed it, and the caller decides: a producer waits for
 * the "drained" callback, a tap drops and counts.
 */
#ifndef TERN_PEER_H
#define TERN_PEER_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <msgpack.h>

#include "body.h"
#include "frame.h"
#include "log.h"
#include "sendq.h"

struct peer;

/*
 * f is borrowed for the duration of the call; f == NULL means the peer is
 * gone (called exactly once, after which the peer must not be used).
 */
typedef int	(*peer_dispatch_cb)(struct peer *, const struct frame *f,
		    void *arg, char *err, size_t errlen);
/* The peer's output buffer has drained below half its limit. */
typedef void	(*peer_drained_cb)(struct peer *, void *arg);

/* Who we are, sent in our HELLO. */
struct peer_self {
	enum role	 role;
	const char	*name;		/* "tern-writer" */
	const char	*device;	/* may be "" */
	uint64_t	 epoch;		/* random per run */
};

/* What the other side said in its HELLO; copied, NUL-terminated. */
struct peer_info {
	enum role	role;
	char		name[64];	/* escaped for logs */
	char		device[128];	/* escaped */
	int64_t		pid;
	uint64_t	epoch;
	char		label[96];	/* "tern-sampler[1234]" for log lines */
};

/* --- both sides --- */

/*
 * Queues one frame: header (type, seq) then body[0..len).  Returns 0, or -1
 * when the frame would push the output buffer past the peer's limit (errno
 * ENOBUFS; nothing queued) or the peer is closing (errno EPIPE).
 */
int			 peer_send(struct peer *, unsigned type, uint64_t seq,
			    const void *body, size_t len);
/* Same, with header flags (FRAME_F_*). */
int			 peer_send_flags(struct peer *, unsigned type,
			    unsigned flags, uint64_t seq, const void *body,
			    size_t len);
/* Same as peer_send, the body from sb (msgpack_sbuffer). */
int			 peer_send_sb(struct peer *, unsigned type,
			    uint64_t seq, const msgpack_sbuffer *sb);
/*
 * Sends q's frames not yet sent on this connection as SAMPLES with the
 * given header flags, oldest first, marking each sent, until the queue is
 * through (returns 0) or the output buffer is full (returns -1: the
 * drained callback is the moment to call again).  *last_sent, if given,
 * gets the seq of the newest frame sent.
 */
int			 peer_send_unsent(struct peer *, struct sendq *q,
			    unsigned flags, uint64_t *last_sent);
/* Bytes waiting in the peer's output buffer. */
size_t			 peer_outq(const struct peer *);
size_t			 peer_outlimit(const struct peer *);

const struct peer_info	*peer_info(const struct peer *);
const char		*peer_label(const struct peer *);
void			*peer_data(const struct peer *);
void			 peer_set_data(struct peer *, void *);
void			 peer_set_drained(struct peer *, peer_drained_cb);

/* Stops reading from / resumes reading from the peer (back-pressure). */
void			 peer_pause(struct peer *);
void			 peer_resume(struct peer *);

/*
 * Drops the peer now with a log line "peer LABEL: dropped: REASON" at
 * LOG_WARNING; if reason is given, an ERROR frame carrying it is sent first
 * (best effort).  Dispatch sees f == NULL.  Safe inside dispatch.
 */
void			 peer_drop(struct peer *, const char *reason);

/*
 * Closes the peer after its output buffer has been written (or after
 * timeout_ms), without logging a drop.  Dispatch sees f == NULL.
 */
void			 peer_close_flush(struct peer *, int timeout_ms);

/* --- the listening side (the writer) --- */

struct peer_listener;

/*
 * Called for each peer once its HELLO has been accepted; returning -1
 * refuses it (too many peers) with the reason in err.  The callback sets the
 * dispatch function and data with peer_set_dispatch / peer_set_data.
 */
typedef int	(*peer_accept_cb)(struct peer *, void *arg, char *err,
		    size_t errlen);

/*
 * Listens on the Unix socket at path with mode 0660.  If another live
 * process answers on path, fails with errno EADDRINUSE (a second writer on
 * the same socket would split the producers between two databases); a stale
 * socket file left by a crash is removed.  Returns NULL with errno set.
 * The listener owns the peers it accepts; peer_listener_free drops them
 * all (dispatch sees NULL) and removes the socket file.
 */
struct peer_listener	*peer_listen(struct event_base *, const char *path,
			    const struct peer_self *self, size_t out_limit,
			    peer_accept_cb accept, void *arg);
void			 peer_listener_free(struct peer_listener *);
/* Stops accepting new connections; existing peers stay. */
void			 peer_listener_stop(struct peer_listener *);
/* Calls fn for every established peer (safe if fn drops the peer). */
void			 peer_listener_foreach(struct peer_listener *,
			    void (*fn)(struct peer *, void *), void *arg);
size_t			 peer_listener_count(const struct peer_listener *);

void			 peer_set_dispatch(struct peer *, peer_dispatch_cb,
			    void *arg);
void			 peer_set_outlimit(struct peer *, size_t);

/* --- the connecting side --- */

struct peer_client;

/* The connection is up and HELLO was answered: resend what is pending. */
typedef void	(*peer_up_cb)(struct peer_client *, struct peer *, void *arg);

/*
 * Backoff between connection attempts: starts at PEER_BACKOFF_MIN_MS and
 * doubles to PEER_BACKOFF_MAX_MS, each wait drawn uniformly from its upper
 * half so that a fleet of clients restarted together does not reconnect in
 * lockstep.  The cap is short because the writer is local: a restart takes
 * a second or two and producers should be back right after.
 */
#define PEER_BACKOFF_MIN_MS	100
#define PEER_BACKOFF_MAX_MS	5000

/*
 * Creates a client that connects to path and keeps reconnecting until
 * freed.  up is called on every successful handshake; dispatch receives the
 * writer's frames and NULL on each disconnection.  Returns NULL on
 * allocation failure.
 */
struct peer_client	*peer_client_new(struct event_base *, const char *path,
			    const struct peer_self *self, size_t out_limit,
			    peer_up_cb up, peer_dispatch_cb dispatch,
			    void *arg);
void			 peer_client_free(struct peer_client *);
/* The current connection after HELLO, or NULL. */
struct peer		*peer_client_peer(const struct peer_client *);
/* Stops reconnecting (shutdown); the current connection stays. */
void			 peer_client_stop(struct peer_client *);

/*
 * The wait before reconnect attempt n (0-based): pure function of n and a
 * uniform random r in [0, 1), exposed for the unit tests.
 */
int64_t			 peer_backoff_ms(unsigned n, double r);

/* A random 64-bit value from getrandom(2), for epochs and jitter seeds. */
uint64_t		 peer_random64(void);

#endif
