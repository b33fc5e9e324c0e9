/*
 * frame.c -- the frame header codec, the frame reader and the role table.
 * See frame.h for the layout and FRAMES.md for the conversations.
 *
 * Nothing here does I/O or allocates: the reader is handed bytes and hands
 * back frames that borrow from them, so it can be driven byte by byte from a
 * unit test or a fuzzer exactly as from a socket.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "frame.h"

/* Every role that exists once HELLO has been received. */
#define ROLE_ANY	(ROLE_BIT(ROLE_WRITER) | ROLE_BIT(ROLE_PRODUCER) | \
			 ROLE_BIT(ROLE_UPLOADER) | ROLE_BIT(ROLE_TAP) | \
			 ROLE_BIT(ROLE_CTL))

/*
 * A peer has no role until its HELLO arrives, and HELLO is the only thing it
 * may say then -- except ERROR, which is how a writer that cannot speak a
 * client's version answers before it has said HELLO itself.  Giving
 * ROLE_NONE those two bits lets a dispatcher call frame_allowed the same way
 * before and after HELLO.
 */
const struct frame_info frame_table[FRAME_TYPE_MAX + 1] = {
	[FRAME_HELLO] =		{ "HELLO", ROLE_ANY | ROLE_BIT(ROLE_NONE) },
	[FRAME_ERROR] =		{ "ERROR", ROLE_ANY | ROLE_BIT(ROLE_NONE) },
	[FRAME_PING] =		{ "PING", ROLE_ANY },
	[FRAME_PONG] =		{ "PONG", ROLE_ANY },
	/* Clients send the empty request, the writer the reply. */
	[FRAME_STATS] =		{ "STATS", ROLE_ANY },
	[FRAME_LOGLEVEL] =	{ "LOGLEVEL", ROLE_BIT(ROLE_CTL) },

	[FRAME_SAMPLES] =	{ "SAMPLES", ROLE_BIT(ROLE_PRODUCER) },
	[FRAME_ACK] =		{ "ACK", ROLE_BIT(ROLE_WRITER) },

	[FRAME_FETCH] =		{ "FETCH", ROLE_BIT(ROLE_UPLOADER) },
	[FRAME_BATCH] =		{ "BATCH", ROLE_BIT(ROLE_WRITER) },
	[FRAME_DONE] =		{ "DONE", ROLE_BIT(ROLE_UPLOADER) },

	[FRAME_TAP] =		{ "TAP", ROLE_BIT(ROLE_WRITER) },
};

/* Indexed by enum role; the names are what HELLO's "role" carries. */
static const char *const role_names[ROLE_MAX + 1] = {
	[ROLE_NONE] = "none",
	[ROLE_WRITER] = "writer",
	[ROLE_PRODUCER] = "producer",
	[ROLE_UPLOADER] = "uploader",
	[ROLE_TAP] = "tap",
	[ROLE_CTL] = "ctl",
};

static int	frame_fail(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Formats a reason into the caller's buffer and returns -1. */
static int
frame_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
frame_type_exists(unsigned type)
{
	return type <= FRAME_TYPE_MAX && frame_table[type].name != NULL;
}

void
frame_header_encode(const struct frame_header *h, uint8_t *p)
{
	p[0] = (uint8_t)(h->length >> 24);
	p[1] = (uint8_t)(h->length >> 16);
	p[2] = (uint8_t)(h->length >> 8);
	p[3] = (uint8_t)h->length;
	p[4] = (uint8_t)(h->type >> 8);
	p[5] = (uint8_t)h->type;
	p[6] = h->version;
	p[7] = h->flags;
	p[8] = (uint8_t)(h->seq >> 56);
	p[9] = (uint8_t)(h->seq >> 48);
	p[10] = (uint8_t)(h->seq >> 40);
	p[11] = (uint8_t)(h->seq >> 32);
	p[12] = (uint8_t)(h->seq >> 24);
	p[13] = (uint8_t)(h->seq >> 16);
	p[14] = (uint8_t)(h->seq >> 8);
	p[15] = (uint8_t)h->seq;
}

/*
 * *h is filled before anything is checked, so that a caller dropping the
 * peer can still name the type and length in its log line.  The version is
 * checked first: under another version the other fields may mean something
 * else, and "version 2, expected 1" is the reason an operator needs.
 */
int
frame_header_decode(const uint8_t *p, struct frame_header *h,
    uint32_t max_body, char *err, size_t errlen)
{
	h->length = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	h->type = (uint16_t)(p[4] << 8 | p[5]);
	h->version = p[6];
	h->flags = p[7];
	h->seq = (uint64_t)p[8] << 56 | (uint64_t)p[9] << 48 |
	    (uint64_t)p[10] << 40 | (uint64_t)p[11] << 32 |
	    (uint64_t)p[12] << 24 | (uint64_t)p[13] << 16 |
	    (uint64_t)p[14] << 8 | p[15];

	if (h->version != PROTO_VERSION)
		return frame_fail(err, errlen,
		    "protocol version %u, expected %u", h->version,
		    PROTO_VERSION);
	if (!frame_type_exists(h->type))
		return frame_fail(err, errlen, "unknown frame type %u",
		    h->type);
	if ((h->flags & ~FRAME_F_MASK) != 0)
		return frame_fail(err, errlen,
		    "unknown flags 0x%02x in %s frame",
		    h->flags & ~FRAME_F_MASK, frame_table[h->type].name);
	if (h->length > max_body)
		return frame_fail(err, errlen,
		    "frame length %u exceeds limit %u", h->length, max_body);
	return 0;
}

/*
 * The header is judged as soon as its 16 bytes are in, before the body has
 * arrived: an oversized or foreign frame is refused without the caller ever
 * buffering its body.
 */
int
frame_parse(const uint8_t *buf, size_t len, uint32_t max_body,
    struct frame *f, size_t *consumed, char *err, size_t errlen)
{
	*consumed = 0;
	if (len < FRAME_HDR_LEN)
		return 0;
	if (frame_header_decode(buf, &f->hdr, max_body, err, errlen) == -1)
		return -1;
	if (len - FRAME_HDR_LEN < f->hdr.length)
		return 0;
	f->body = buf + FRAME_HDR_LEN;
	*consumed = FRAME_HDR_LEN + (size_t)f->hdr.length;
	return 1;
}

const char *
frame_type_name(unsigned type)
{
	return frame_type_exists(type) ? frame_table[type].name : "?";
}

unsigned
frame_type_by_name(const char *name)
{
	unsigned	type;

	for (type = 0; type <= FRAME_TYPE_MAX; type++)
		if (frame_table[type].name != NULL &&
		    strcasecmp(frame_table[type].name, name) == 0)
			return type;
	return 0;
}

const char *
role_name(enum role r)
{
	if ((unsigned)r > ROLE_MAX)
		return "?";
	return role_names[r];
}

/*
 * Exact and case-sensitive, because the name comes from a peer's HELLO and
 * one spelling per role keeps logs and tests unambiguous.  "none" is not a
 * role a peer can claim; it maps to ROLE_NONE like any unknown name.
 */
enum role
role_by_name(const char *name, size_t len)
{
	unsigned	r;

	for (r = ROLE_NONE + 1; r <= ROLE_MAX; r++)
		if (strlen(role_names[r]) == len &&
		    memcmp(role_names[r], name, len) == 0)
			return (enum role)r;
	return ROLE_NONE;
}

int
frame_allowed(enum role r, unsigned type)
{
	if ((unsigned)r > ROLE_MAX || !frame_type_exists(type))
		return 0;
	return (frame_table[type].senders & ROLE_BIT(r)) != 0;
}
