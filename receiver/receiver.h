/*
 * receiver.h -- tern-receiver's one context struct, and what its files
 * export to each other.
 *
 *   receiver.c  main: options, configuration, event base, signals,
 *               readiness
 *   http.c      the evhttp server and its limits: connections counted and
 *               capped, absolute header and body deadlines per request
 *   api.c       the endpoints: auth, rate limit, parse, forward, answer;
 *               health, readiness, Prometheus self-metrics
 *   ingest.c    body parsers (no I/O)      forward.c  links to the writer
 *   tokens.c    device tokens              sha256.c   the hash
 *   ratelimit.c token buckets              gunzip.c   capped inflate
 */
#ifndef TERN_RECEIVER_H
#define TERN_RECEIVER_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>
#include <sqlite3.h>

#include "conf.h"
#include "forward.h"
#include "ingest.h"
#include "ratelimit.h"
#include "tokens.h"

/*
 * Frames of admitted requests held for the writer, in bytes.  A full
 * default body (8 MiB of JSON, some 400,000 samples) encodes to about
 * 9 MiB, so this admits a few such requests at once and many small ones;
 * beyond it requests get 503 and Retry-After.
 */
#define RECV_QUEUE_BYTES	(32u * 1024 * 1024)

/* Test-only: close the connection after commit, before answering. */
#define RECV_TEST_DROP_ENV	"TERN_RECEIVER_TEST_DROP_AFTER_COMMIT"

enum recv_ep {
	EP_INGEST,		/* POST /api/v1/ingest */
	EP_SEED003,		/* POST /api/metrics */
	EP_AGENT,		/* POST /api/v1/metrics */
	EP_HEALTH,		/* GET /health */
	EP_HEALTHZ,
	EP_READYZ,
	EP_PROM,		/* GET /metrics */
	EP_OTHER,
	EP_MAX
};

enum recv_reject {
	REJ_AUTH,		/* 401 */
	REJ_DEVICE,		/* 403: body names another device */
	REJ_INVALID,		/* 400 */
	REJ_TOO_LARGE,		/* 413 */
	REJ_ENCODING,		/* 400/415: bad gzip, unknown encoding */
	REJ_MEDIA,		/* 415 */
	REJ_RATE,		/* 429 */
	REJ_QUEUE,		/* 503: queue to the writer full */
	REJ_WRITER,		/* 503: no ACK in time */
	REJ_MAX
};

/* Statuses counted per endpoint; anything else counts as "other". */
#define RECV_NSTATUS	13

struct recv_stats {
	uint64_t	req[EP_MAX][RECV_NSTATUS];
	uint64_t	samples_accepted, samples_new, samples_dup;
	uint64_t	rejected[REJ_MAX];
	uint64_t	conns_total, conns_refused;
	uint64_t	deadline_header, deadline_body;
	uint64_t	test_drops;
};

struct hconn;

struct recv {
	struct event_base		*base;
	struct conf			 conf;
	struct evhttp			*http;
	struct evhttp_bound_socket	*bound;
	struct fwd			*fwd;
	struct tokens			 tokens;
	struct ratelimit		 rl;
	struct ingest_batch		 batch;	/* reused per request */
	TAILQ_HEAD(, hconn)		 conns;
	size_t				 nconns;
	sqlite3				*db;	/* read-only, for /readyz */
	uint64_t			 drop_after_commit;	/* test-only */
	int				 stopping;
	struct recv_stats		 st;
};

/* --- http.c --- */

/* Creates the server with every limit set and binds it.  0 or -1. */
int	http_start(struct recv *);
/* Stops accepting; open connections finish their requests. */
void	http_stop_accepting(struct recv *);
void	http_free(struct recv *);

/* The request reached its handler: its deadline no longer runs. */
void	http_request_begin(struct recv *, struct evhttp_request *);
/*
 * Answers req with code and a body of content_type, adding Retry-After
 * when retry_s > 0, and restarts the connection's header deadline for
 * the next request.  req is freed by evhttp afterwards.
 */
void	http_reply(struct recv *, struct evhttp_request *, int code,
	    const char *content_type, const char *body, size_t len,
	    uint32_t retry_s);
/* Closes req's connection without an answer (the test-only switch). */
void	http_drop(struct recv *, struct evhttp_request *);

/* --- api.c --- */

/* evhttp's generic callback: every request arrives here. */
void	api_handle(struct evhttp_request *, void *recv);

#endif
