/*
 * post.h -- HTTP POSTs with libcurl's multi interface on the process's
 * libevent base, as curl's hiperfifo.c does: curl tells us which sockets
 * to watch (CURLMOPT_SOCKETFUNCTION) and when to wake it
 * (CURLMOPT_TIMERFUNCTION); libevent calls curl_multi_socket_action.  The
 * event loop never blocks on the network.
 *
 * A struct post_req is one easy handle, created once and reused for every
 * request of its lane, so its options are set once; connections live in
 * the multi handle's cache, so consecutive requests reuse one keep-alive
 * connection (and its TLS session).
 */
#ifndef TERN_POST_H
#define TERN_POST_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "conf.h"

/*
 * Bytes of a response body kept: enough for a receiver's structured error
 * ({"error": ..., "field": ..., "index": ...}); the rest is read and
 * discarded so the connection stays reusable.
 */
#define POST_RESP_KEEP		1024

/* The longest token accepted from the token file. */
#define POST_TOKEN_MAX		1024

struct post;
struct post_req;

/* What a finished request produced.  Borrowed for the callback only. */
struct post_result {
	CURLcode	 code;		/* CURLE_OK if a response arrived */
	long		 status;	/* HTTP status, 0 without a response */
	const char	*error;		/* curl's message when code != OK */
	const char	*body;		/* first POST_RESP_KEEP bytes */
	size_t		 body_len;
	const char	*retry_after;	/* the header's value, or NULL */
	int64_t		 elapsed_ms;
};

/*
 * Called once per request, after the easy handle has left the multi
 * handle: the callback may start the next request on the same req.
 */
typedef void	(*post_done_cb)(struct post_req *, const struct post_result *,
		    void *arg);

/*
 * Creates the multi handle on base, with the transport settings of c
 * (timeouts, TLS, CA file) applied to every request made through it.
 * c is borrowed and must outlive the struct post.  Returns NULL on
 * failure.  curl_global_init is the caller's (main's) business.
 */
struct post	*post_new(struct event_base *base,
		    const struct conf_uploader *c);
/* Cancels what is in flight (no callbacks) and frees.  Accepts NULL. */
void		 post_free(struct post *);
/* Requests in flight. */
unsigned	 post_active(const struct post *);

/* A reusable request slot.  NULL on failure. */
struct post_req	*post_req_new(struct post *, post_done_cb, void *arg);
/* Cancels its request if one is in flight.  Accepts NULL. */
void		 post_req_free(struct post_req *);

/*
 * Starts POSTing body[0..len) to the configured URL.  The body is
 * borrowed and must stay unchanged until the callback.  token may be
 * NULL or "" (no Authorization header).  Returns 0, or -1 with a reason
 * (already busy, out of memory); the callback is not called then.
 */
int		 post_start(struct post_req *, const void *body, size_t len,
		    const char *content_type, int gzip, const char *token,
		    char *err, size_t errlen);
int		 post_busy(const struct post_req *);
/* Abandons the request in flight without calling back. */
void		 post_cancel(struct post_req *);

/*
 * Reads the bearer token from path: the first line, surrounding blanks
 * removed.  A token must be 1..POST_TOKEN_MAX-1 visible ASCII characters
 * (it goes into a header: no CR, LF or controls).  Returns 0, or -1 with a
 * reason that never contains the token.
 */
int		 post_read_token(const char *path, char *out, size_t outlen,
		    char *err, size_t errlen);

#endif
