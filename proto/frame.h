/*
 * frame.h -- the tern wire: the single source of truth.
 *
 * Every frame on every tern socket is a fixed 16-byte header followed by a
 * msgpack body.  The header is encoded field by field in network byte order
 * (never by copying a struct, whose padding and byte order are the
 * compiler's business):
 *
 *   offset size field
 *        0    4 length    body length in bytes, not counting the header
 *        4    2 type      enum frame_type
 *        6    1 version   PROTO_VERSION of the sender
 *        7    1 flags     FRAME_F_* bits; unknown bits are an error
 *        8    8 seq       sender's sequence number (SAMPLES, ACK) or 0
 *
 * The length is checked against FRAME_MAX_BODY before anything is
 * allocated, so a lying length costs the reader 16 bytes, not memory.
 *
 * Types are grouped in ranges by conversation, as tmux does, so that a
 * dispatcher can tell "unknown type in a known conversation" from "garbage".
 * PROTO_VERSION is bumped whenever a type is added or a body changes shape.
 * proto/FRAMES.md documents the same table for people; keep them in step.
 */
#ifndef TERN_FRAME_H
#define TERN_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION	1

#define FRAME_HDR_LEN	16

/*
 * The largest body a peer may send.  A SAMPLES frame of 10,000 points with
 * its series table is about 300 KiB, and an uploader BATCH of 20,000
 * samples fits.  The limit is also what a hostile peer can make a reader
 * spend: msgpack-c keeps a 24-byte object per element, so a 1 MiB body of
 * one-byte integers costs about 24 MiB while it is decoded.  4 MiB would
 * make that 100 MiB, too much for a 512 MiB board.
 */
#define FRAME_MAX_BODY	(1u * 1024 * 1024)

enum frame_type {
	/* control: 1..15, any role */
	FRAME_HELLO = 1,	/* first frame of every connection */
	FRAME_ERROR = 2,	/* the sender is about to close */
	FRAME_PING = 3,
	FRAME_PONG = 4,
	FRAME_STATS = 5,	/* empty request; reply carries counters */
	FRAME_LOGLEVEL = 6,	/* ctl -> writer: change the log level */

	/* ingest: 16..31 */
	FRAME_SAMPLES = 16,	/* producer -> writer */
	FRAME_ACK = 17,		/* writer -> producer, after COMMIT */

	/* upload: 32..47 */
	FRAME_FETCH = 32,	/* uploader -> writer */
	FRAME_BATCH = 33,	/* writer -> uploader */
	FRAME_DONE = 34,	/* uploader -> writer, after a 2xx */

	/* tap: 48..63 */
	FRAME_TAP = 48,		/* writer -> tap: a copy of a handled frame */

	FRAME_TYPE_MAX = 63
};

/*
 * Header flags; a bit not in FRAME_F_MASK is a protocol error.
 * FRAME_F_COMMIT on SAMPLES: the sender waits for this frame's ACK (the
 * receiver answering an HTTP request), so the writer commits at its next
 * turn -- together with whatever else arrived meanwhile -- instead of
 * waiting for flush_samples or flush_ms.
 */
#define FRAME_F_COMMIT	0x01u
#define FRAME_F_MASK	0x01u

/*
 * Roles.  A peer declares its role in HELLO; the role decides which frame
 * types it may send (frame_allowed).  The writer is the only listener.
 */
enum role {
	ROLE_NONE = 0,		/* before HELLO */
	ROLE_WRITER = 1,
	ROLE_PRODUCER = 2,	/* sampler, receiver, ternctl load */
	ROLE_UPLOADER = 3,
	ROLE_TAP = 4,		/* ternctl tap */
	ROLE_CTL = 5,		/* ternctl status, backup, ... */
	ROLE_MAX = 5
};

#define ROLE_BIT(r)	(1u << (r))

struct frame_info {
	const char	*name;		/* "SAMPLES" */
	unsigned	 senders;	/* ROLE_BIT mask of who may send it */
};

/*
 * Which role may send which type.  Indexed by enum frame_type; a type whose
 * entry has a NULL name does not exist.
 */
extern const struct frame_info frame_table[FRAME_TYPE_MAX + 1];

struct frame_header {
	uint32_t	length;
	uint16_t	type;
	uint8_t		version;
	uint8_t		flags;
	uint64_t	seq;
};

/* One parsed frame.  body points into the caller's buffer (borrowed). */
struct frame {
	struct frame_header	 hdr;
	const uint8_t		*body;
};

/* Writes h into p[0..FRAME_HDR_LEN). */
void		 frame_header_encode(const struct frame_header *h, uint8_t *p);

/*
 * Decodes and checks a header from p[0..FRAME_HDR_LEN): known type, our
 * version, no unknown flags, length <= max_body.  Returns 0, or -1 with the
 * reason in err.
 */
int		 frame_header_decode(const uint8_t *p, struct frame_header *h,
		    uint32_t max_body, char *err, size_t errlen);

/*
 * The reader: looks for one complete frame at the start of buf[0..len).
 * Returns 1 and fills *f and *consumed when a frame is complete (f->body
 * borrows from buf), 0 when more bytes are needed (*consumed is 0), -1 with
 * a reason in err when the bytes cannot be a valid frame.  No I/O, no
 * allocation: feed it bytes, take out frames.
 */
int		 frame_parse(const uint8_t *buf, size_t len, uint32_t max_body,
		    struct frame *f, size_t *consumed, char *err, size_t errlen);

/* The type's name ("SAMPLES"), or "?" for a type that does not exist. */
const char	*frame_type_name(unsigned type);

/* The type for a name, case-insensitive, or 0 if there is none. */
unsigned	 frame_type_by_name(const char *name);

/* Role names as HELLO spells them ("producer"), and back (ROLE_NONE). */
const char	*role_name(enum role r);
enum role	 role_by_name(const char *name, size_t len);

/* 1 if role r may send type, else 0. */
int		 frame_allowed(enum role r, unsigned type);

#endif
