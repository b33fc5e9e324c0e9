/*
 * ingest.h -- the receiver's body parsers: HTTP request bodies in, a
 * validated SAMPLES message out.  No I/O (STYLE.md rule 4): they take
 * bytes and return a struct or a structured error, so the unit tests feed
 * them strings.
 *
 * Formats (receiver/API.md documents them for people):
 *   ingest_parse_msgpack  POST /api/v1/ingest, application/msgpack: the
 *                         SAMPLES body of proto/FRAMES.md.
 *   ingest_parse_json     POST /api/v1/ingest, application/json:
 *                         {"device", "series":[{"name","labels":{}}],
 *                          "points":[[idx, ts, value], ...], "agent":{}}
 *   ingest_parse_seed003  POST /api/metrics (seed 003):
 *                         {"device_id", "timestamp",
 *                          "metrics":[{"name","value","timestamp","labels"}]}
 *   ingest_parse_agent    POST /api/v1/metrics (seed 000's agent):
 *                         {"agent_id","hostname","ip","os","timestamp",
 *                          "cpu_usage","memory_used","memory_total",
 *                          "disk_free_percent"}
 * Timestamps are RFC 3339 strings ("2025-10-11T14:30:00.123Z") or numbers
 * of milliseconds since the epoch.
 *
 * Every parser validates the whole body before it returns success: the
 * same checks the writer applies (names, labels, timestamps), so that a
 * body the receiver accepts is never refused by its writer, and a body it
 * refuses stores nothing.
 */
#ifndef TERN_INGEST_H
#define TERN_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "body.h"

/* Timestamps outside [0, 2100-01-01) are refused, as the writer does. */
#define INGEST_TS_MAX_MS	4102444800000LL

/*
 * The JSON tokenizer needs a token array; a body may use at most this
 * many tokens (16 bytes each: 8 MiB).  A JSON point [i, ts, v] is 4
 * tokens, so that is two million points -- more than max_body_bytes
 * allows at its default.
 */
#define INGEST_JSON_MAX_TOKENS	(512u * 1024)

/* What a 400 says: {"error": error, "field": field, "index": index}. */
struct ingest_err {
	char	error[256];
	char	field[64];
	long	index;		/* -1: none */
	int	status;		/* 400, or 413 for "too big to parse" */
};

/*
 * A parsed body.  m's strings point into the request body (msgpack) or
 * into arena (JSON, unescaped), so the batch is valid while the body is.
 * m.device is what the body says (may be empty): the caller decides the
 * device, from the token.
 */
struct ingest_batch {
	struct samples_msg	 m;
	struct series_ref	*series;
	struct label		*labels;
	struct point		*points;
	struct json_tok		*tok;
	char			*arena;
	size_t			 arena_len, arena_cap;
	struct body_dec		*dec;
};

void	ingest_batch_init(struct ingest_batch *);
/* Frees what the batch owns; the batch may be parsed into again. */
void	ingest_batch_free(struct ingest_batch *);

/*
 * Each returns 0 with b->m filled, or -1 with e filled.  now_ms is the
 * receiver's clock, used where a format lets timestamps be omitted.
 */
int	ingest_parse_msgpack(struct ingest_batch *b, const uint8_t *p,
	    size_t n, struct ingest_err *e);
int	ingest_parse_json(struct ingest_batch *b, const char *s, size_t n,
	    struct ingest_err *e);
int	ingest_parse_seed003(struct ingest_batch *b, const char *s, size_t n,
	    int64_t now_ms, struct ingest_err *e);
int	ingest_parse_agent(struct ingest_batch *b, const char *s, size_t n,
	    int64_t now_ms, struct ingest_err *e);

/*
 * Checks m as the writer would: device (if set), names, labels, indexes,
 * timestamps, finite values.  Returns 0 or -1 with e filled.
 */
int	ingest_validate(const struct samples_msg *m, struct ingest_err *e);

/*
 * RFC 3339 date-time ("2025-10-11T14:30:00.123Z", "...+02:00"; 't', 'T'
 * or ' ' between date and time; fractions to nanoseconds, cut to ms) into
 * ms since the epoch.  Returns 0, or -1 when s[0..n) is not one.
 */
int	ingest_rfc3339(const char *s, size_t n, int64_t *ms);

/*
 * Encodes m as SAMPLES bodies of at most max_body bytes each, in point
 * order, each with the series table its points need (indexes remapped).
 * emit is called once per body with the body, its length, its point count
 * and time range; the body is only valid during the call.  A message with
 * no points gives one body (it may carry the agent).  Returns the number
 * of bodies, or -1 with a reason (emit failed, a single point does not
 * fit, no memory).
 */
typedef int	(*ingest_emit_cb)(void *arg, const uint8_t *body, size_t len,
		    uint32_t npoints, int64_t from_ts, int64_t to_ts);
long	ingest_encode(const struct samples_msg *m, size_t max_body,
	    ingest_emit_cb emit, void *arg, char *err, size_t errlen);

#endif
