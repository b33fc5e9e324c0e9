/*
 * body.h -- msgpack bodies of tern frames: encoders and guarded decoders.
 *
 * Every body is a msgpack map with short string keys (see FRAMES.md).
 * Unknown keys are skipped so that a newer peer's additions do not break an
 * older one; a known key with the wrong type is an error.
 *
 * Decoding is done in two passes.  First a walker checks the raw bytes
 * without allocating anything: every length fits in the bytes that remain,
 * nesting is at most BODY_MAX_DEPTH, the body is exactly one object with no
 * trailing bytes.  Because each msgpack object occupies at least one byte,
 * a body that passes cannot make msgpack-c allocate more than a small
 * multiple of its own size (msgpack-c alone trusts a header that claims
 * 2^32 array elements).  Then msgpack-c unpacks it and the typed decoder
 * below copies the fields out.
 *
 * Strings in decoded messages are borrowed (struct pstr): they point into
 * the frame body or into the decoder's zone, are not NUL-terminated, and are
 * valid until the next decode on the same struct body_dec or until the body
 * buffer is released, whichever is first.
 */
#ifndef TERN_BODY_H
#define TERN_BODY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>		/* strlen, for PSTR */

#include <msgpack.h>

/* Containers nest at most this deep.  SAMPLES needs 4 (map, series list,
 * series, labels); 8 leaves room and stops stack-eating input. */
#define BODY_MAX_DEPTH		8

/* Limits a decoder enforces beyond the frame size. */
#define BODY_MAX_NAME		255	/* metric name, label key, device */
#define BODY_MAX_LABELVAL	1024	/* label value */
#define BODY_MAX_LABELS		32	/* labels per series */

struct pstr {
	const char	*p;
	uint32_t	 n;
};

struct label {
	struct pstr	k, v;
};

struct series_ref {
	struct pstr	 name;
	uint32_t	 nlabels;
	struct label	*labels;	/* as sent; the writer sorts */
};

struct point {
	uint32_t	idx;		/* into the message's series table */
	int64_t		ts;		/* ms since the epoch */
	double		value;
};

/* A range of samples a producer dropped (full queue) or a writer pruned. */
struct gap {
	int64_t		from_ts, to_ts;
	uint64_t	count;
};

/*
 * SAMPLES and BATCH share this shape; BATCH adds id (FRAME seq is unused).
 *   { "device": str, "series": [[name, [k, v, k, v, ...]], ...],
 *     "points": [idx, ts, value, idx, ts, value, ...],
 *     "gaps": [[from_ts, to_ts, count], ...]  (optional),
 *     "agent": { "hostname": str, "address": str, "os": str }  (optional),
 *     "id": uint  (BATCH only) }
 */
/* Who a device says it is (seed 000's agent payload): kept in the
 * writer's device registry.  All empty when absent. */
struct agent_info {
	struct pstr	hostname;
	struct pstr	address;
	struct pstr	os;
};

struct samples_msg {
	uint64_t		 id;
	struct pstr		 device;
	uint32_t		 nseries;
	struct series_ref	*series;
	uint32_t		 npoints;
	struct point		*points;
	uint32_t		 ngaps;
	struct gap		*gaps;
	int			 has_agent;
	struct agent_info	 agent;
};

/* HELLO { role, name, pid, version, device, epoch } */
struct hello_msg {
	struct pstr	role;
	struct pstr	name;		/* "tern-sampler", "ternctl" */
	int64_t		pid;
	uint32_t	version;	/* PROTO_VERSION */
	struct pstr	device;		/* may be empty */
	uint64_t	epoch;		/* random per producer run: scopes seq */
};

/* ACK { seq, new }: every SAMPLES frame with seq <= seq is committed; new
 * counts the samples among them that were not already stored. */
struct ack_msg {
	uint64_t	seq;
	uint64_t	new_samples;
};

/* ERROR { reason } */
struct error_msg {
	struct pstr	reason;
};

/* PING/PONG { t } -- t is echoed */
struct ping_msg {
	int64_t		t;
};

/*
 * FETCH { max, backlog }: ask for a BATCH of at most max samples; backlog
 * true asks for the oldest pending samples, false (default) for the newest
 * (live first).  The writer answers when it has something to send.
 */
struct fetch_msg {
	uint32_t	max;
	int		backlog;
};
/*
 * DONE { id, set_aside, reason }: the receiver accepted BATCH id (2xx), or,
 * with set_aside true, rejected it for good (a 4xx other than 408/429):
 * the writer keeps those samples aside, counted, and moves on.
 */
struct done_msg {
	uint64_t	id;
	int		set_aside;
	struct pstr	reason;
};

/* LOGLEVEL { level }: syslog priority LOG_ERR..LOG_DEBUG */
struct loglevel_msg {
	int		level;
};

/* STATS reply { name: number, ... } -- flat; request is an empty map */
struct stat_kv {
	struct pstr	name;
	double		value;
};
struct stats_msg {
	uint32_t	 n;
	struct stat_kv	*kv;
};

/* TAP { peer, dir, lost, frame } -- frame is the whole original frame,
 * header included, as bin; lost counts frames this tap missed before it. */
struct tap_msg {
	struct pstr	 peer;
	struct pstr	 dir;		/* "in" or "out" */
	uint64_t	 lost;
	const uint8_t	*frame;
	uint32_t	 frame_len;
};

/*
 * A reusable decoder: owns the msgpack zone and the scratch arrays decoded
 * messages point into.  body_dec_new returns NULL on allocation failure;
 * body_dec_free accepts NULL.
 */
struct body_dec;
struct body_dec	*body_dec_new(void);
void		 body_dec_free(struct body_dec *);

/*
 * Checks that p[0..n) is exactly one well-formed msgpack object within the
 * limits above, without allocating.  Returns 0, or -1 with a reason.
 */
int	body_check(const uint8_t *p, size_t n, char *err, size_t errlen);

/*
 * Typed decoders.  Each runs body_check first, then decodes.  Return 0 and
 * fill *out (borrowing as described above), or -1 with a reason naming the
 * field ("points[7]: ts is not an integer").
 */
int	body_decode_samples(struct body_dec *, const uint8_t *p, size_t n,
	    struct samples_msg *out, char *err, size_t errlen);
int	body_decode_hello(struct body_dec *, const uint8_t *p, size_t n,
	    struct hello_msg *out, char *err, size_t errlen);
int	body_decode_ack(struct body_dec *, const uint8_t *p, size_t n,
	    struct ack_msg *out, char *err, size_t errlen);
int	body_decode_error(struct body_dec *, const uint8_t *p, size_t n,
	    struct error_msg *out, char *err, size_t errlen);
int	body_decode_ping(struct body_dec *, const uint8_t *p, size_t n,
	    struct ping_msg *out, char *err, size_t errlen);
int	body_decode_fetch(struct body_dec *, const uint8_t *p, size_t n,
	    struct fetch_msg *out, char *err, size_t errlen);
int	body_decode_done(struct body_dec *, const uint8_t *p, size_t n,
	    struct done_msg *out, char *err, size_t errlen);
int	body_decode_loglevel(struct body_dec *, const uint8_t *p, size_t n,
	    struct loglevel_msg *out, char *err, size_t errlen);
int	body_decode_stats(struct body_dec *, const uint8_t *p, size_t n,
	    struct stats_msg *out, char *err, size_t errlen);
int	body_decode_tap(struct body_dec *, const uint8_t *p, size_t n,
	    struct tap_msg *out, char *err, size_t errlen);

/*
 * Encoders append one body to sb (msgpack-c's growable buffer).  They
 * return 0, or -1 if the message breaks a limit (too many labels, a name
 * too long) -- the same limits the decoders enforce, so what we send we
 * also accept.
 */
int	body_encode_samples(msgpack_sbuffer *sb, const struct samples_msg *);
int	body_encode_hello(msgpack_sbuffer *sb, const struct hello_msg *);
int	body_encode_ack(msgpack_sbuffer *sb, const struct ack_msg *);
int	body_encode_error(msgpack_sbuffer *sb, const char *reason);
int	body_encode_ping(msgpack_sbuffer *sb, const struct ping_msg *);
int	body_encode_fetch(msgpack_sbuffer *sb, const struct fetch_msg *);
int	body_encode_done(msgpack_sbuffer *sb, const struct done_msg *);
int	body_encode_loglevel(msgpack_sbuffer *sb, const struct loglevel_msg *);
int	body_encode_stats(msgpack_sbuffer *sb, const struct stats_msg *);
int	body_encode_tap(msgpack_sbuffer *sb, const struct tap_msg *);
/* An empty map: the body of a STATS request. */
int	body_encode_empty(msgpack_sbuffer *sb);

/*
 * Renders any checked body as one line of JSON (no newline) into out, a
 * NUL-terminated buffer the function grows with realloc; *outlen is the
 * string length.  bin objects become base64 strings, non-finite doubles
 * become null, map keys that are not strings are rendered as strings.
 * Returns 0, or -1 with a reason.  Used by ternctl tap.  *out is NULL or a
 * buffer from an earlier call; the caller frees it, after an error too.
 */
int	body_to_json(const uint8_t *p, size_t n, char **out, size_t *outlen,
	    char *err, size_t errlen);

/*
 * 1 if p[0..n) is a valid name -- a metric name or a device id: 1 to max
 * bytes of [A-Za-z0-9_.:-] -- else 0.
 */
int	body_valid_name(const char *p, size_t n, size_t max);

/* pstr helpers */
#define PSTR(s)		((struct pstr){ (s), (uint32_t)strlen(s) })
int	pstr_eq(struct pstr a, const char *s);

#endif
