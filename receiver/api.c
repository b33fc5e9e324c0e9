/*
 * api.c -- the receiver's endpoints (receiver/API.md documents them).
 *
 * An ingest request goes through, in order: method and media type,
 * authentication (before the body is looked at), decompression with a
 * cap, parsing and validation of the whole body, the device check, the
 * rate limit, and only then the writer.  Every refusal before the writer
 * stores nothing.  The answer is sent from forward.c's callback, after the
 * writer's ACK.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "clock.h"
#include "gunzip.h"
#include "log.h"
#include "receiver.h"

#define JSON_TYPE	"application/json"

static const int status_codes[RECV_NSTATUS] = {
	200, 400, 401, 403, 404, 405, 413, 415, 429, 500, 503, 0, 0
};
static const char *const ep_names[EP_MAX] = {
	"/api/v1/ingest", "/api/metrics", "/api/v1/metrics", "/health",
	"/healthz", "/readyz", "/metrics", "other",
};
static const char *const rej_names[REJ_MAX] = {
	"unauthorized", "wrong_device", "invalid_body", "too_large",
	"bad_encoding", "unsupported_media_type", "rate_limited",
	"queue_full", "writer_timeout",
};

/* One request on its way to the writer. */
struct pending {
	struct recv		*r;
	struct evhttp_request	*req;
	enum recv_ep		 ep;
	char			 device[TOKENS_DEVICE_MAX + 1];
};



static void
count(struct recv *r, enum recv_ep ep, int code)
{
	int	i;

	for (i = 0; i < RECV_NSTATUS - 1; i++)
		if (status_codes[i] == code)
			break;
	r->st.req[ep][i]++;
}

/* Appends s as a JSON string (quotes included). */
static void
json_string(struct evbuffer *b, const char *s)
{
	evbuffer_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			evbuffer_add_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			evbuffer_add_printf(b, "\\u%04x", c);
		else
			evbuffer_add(b, s, 1);
	}
	evbuffer_add(b, "\"", 1);
}

/* Sends an evbuffer's contents as the answer. */
static void
send_buf(struct recv *r, struct evhttp_request *req, enum recv_ep ep,
    int code, const char *type, struct evbuffer *b, uint32_t retry_s)
{
	size_t	len = evbuffer_get_length(b);
	char	*p = (char *)evbuffer_pullup(b, -1);

	count(r, ep, code);
	http_reply(r, req, code, type, p ? p : "", p ? len : 0, retry_s);
}

/* {"error": ..., "field": ..., "index": ...} */
static void
send_error(struct recv *r, struct evhttp_request *req, enum recv_ep ep,
    int code, enum recv_reject why, const char *error, const char *field,
    long index, uint32_t retry_s)
{
	struct evbuffer	*b = evbuffer_new();

	if ((int)why >= 0 && why < REJ_MAX)
		r->st.rejected[why]++;
	if (b == NULL) {
		http_reply(r, req, code, JSON_TYPE, "{}", 2, retry_s);
		return;
	}
	evbuffer_add_printf(b, "{\"error\":");
	json_string(b, error);
	evbuffer_add_printf(b, ",\"field\":");
	if (field != NULL && *field != '\0')
		json_string(b, field);
	else
		evbuffer_add_printf(b, "null");
	if (index >= 0)
		evbuffer_add_printf(b, ",\"index\":%ld}", index);
	else
		evbuffer_add_printf(b, ",\"index\":null}");
	log_debug("%s: %d %s", ep_names[ep], code, error);
	send_buf(r, req, ep, code, JSON_TYPE, b, retry_s);
	evbuffer_free(b);
}

static void
send_text(struct recv *r, struct evhttp_request *req, enum recv_ep ep,
    int code, const char *type, const char *body)
{
	count(r, ep, code);
	http_reply(r, req, code, type, body, strlen(body), 0);
}

/* --- ingest --- */

static void
done(void *arg, int status, uint64_t npoints, uint64_t new_samples)
{
	struct pending	*pd = arg;
	struct recv	*r = pd->r;
	struct evbuffer	*b;

	if (status != 200) {
		send_error(r, pd->req, pd->ep, 503, REJ_WRITER, "the writer did "
		    "not acknowledge in time; retry", NULL, -1, 1);
		free(pd);
		return;
	}
	if (new_samples > npoints)
		new_samples = npoints;
	r->st.samples_accepted += npoints;
	r->st.samples_new += new_samples;
	r->st.samples_dup += npoints - new_samples;
	log_debug("%s: device %s: %" PRIu64 " samples committed, %" PRIu64
	    " new", ep_names[pd->ep], pd->device, npoints, new_samples);
	if (r->drop_after_commit > 0) {
		r->drop_after_commit--;
		r->st.test_drops++;
		log_warnx("test switch %s: closing the connection of a "
		    "committed request without answering", RECV_TEST_DROP_ENV);
		count(r, pd->ep, 0);
		http_drop(r, pd->req);
		free(pd);
		return;
	}
	if ((b = evbuffer_new()) == NULL) {
		send_text(r, pd->req, pd->ep, 200, JSON_TYPE, "{}");
		free(pd);
		return;
	}
	if (pd->ep == EP_INGEST)
		evbuffer_add_printf(b, "{\"success\":true,\"received\":%" PRIu64
		    ",\"new\":%" PRIu64 ",\"duplicates\":%" PRIu64 "}", npoints,
		    new_samples, npoints - new_samples);
	else
		evbuffer_add_printf(b, "{\"success\":true,\"received\":%" PRIu64
		    ",\"new\":%" PRIu64 "}", npoints, new_samples);
	send_buf(r, pd->req, pd->ep, 200, JSON_TYPE, b, 0);
	evbuffer_free(b);
	free(pd);
}

/* The device the token names; NULL after answering 401. */
static const char *
authenticate(struct recv *r, struct evhttp_request *req, enum recv_ep ep,
    int *anonymous)
{
	const char	*h = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Authorization");
	const char	*dev;

	*anonymous = 0;
	if (h == NULL) {
		if (r->conf.receiver.allow_unauthenticated) {
			*anonymous = 1;
			return "";
		}
		send_error(r, req, ep, 401, REJ_AUTH, "missing bearer token",
		    "Authorization", -1, 0);
		return NULL;
	}
	if (strncasecmp(h, "Bearer ", 7) != 0) {
		send_error(r, req, ep, 401, REJ_AUTH, "the Authorization header "
		    "must be \"Bearer TOKEN\"", "Authorization", -1, 0);
		return NULL;
	}
	for (h += 7; *h == ' '; h++)
		;
	if ((dev = tokens_lookup(&r->tokens, h, strlen(h))) == NULL) {
		log_info("%s: refused a request with an unknown token",
		    ep_names[ep]);
		send_error(r, req, ep, 401, REJ_AUTH, "unknown token",
		    "Authorization", -1, 0);
		return NULL;
	}
	return dev;
}

/* Media type without parameters, lowercased, into out. */
static void
media_type(const char *h, char *out, size_t size)
{
	size_t	i;

	out[0] = '\0';
	if (h == NULL)
		return;
	while (*h == ' ')
		h++;
	for (i = 0; i + 1 < size && h[i] != '\0' && h[i] != ';' &&
	    h[i] != ' '; i++)
		out[i] = (char)tolower((unsigned char)h[i]);
	out[i] = '\0';
}

static void
ingest(struct recv *r, struct evhttp_request *req, enum recv_ep ep)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct evbuffer		*body = evhttp_request_get_input_buffer(req);
	struct ingest_batch	*b = &r->batch;
	struct ingest_err	 e;
	struct pending		*pd;
	const char		*dev, *enc, *dfield;
	char			 type[64], err[256], esc[80];
	uint8_t			*raw, *plain = NULL;
	size_t			 n, plen;
	int			 anonymous, msgpack = 0, rc, status;
	uint32_t		 retry;

	memset(&e, 0, sizeof(e));
	if ((dev = authenticate(r, req, ep, &anonymous)) == NULL)
		return;
	media_type(evhttp_find_header(in, "Content-Type"), type, sizeof(type));
	if (ep == EP_INGEST) {
		if (strcmp(type, "application/msgpack") == 0 ||
		    strcmp(type, "application/x-msgpack") == 0 ||
		    strcmp(type, "application/vnd.msgpack") == 0)
			msgpack = 1;
		else if (strcmp(type, "application/json") != 0) {
			send_error(r, req, ep, 415, REJ_MEDIA, "Content-Type "
			    "must be application/msgpack or application/json",
			    "Content-Type", -1, 0);
			return;
		}
	}
	n = evbuffer_get_length(body);
	if ((raw = evbuffer_pullup(body, -1)) == NULL && n > 0) {
		send_error(r, req, ep, 503, REJ_QUEUE, "out of memory", NULL,
		    -1, 1);
		return;
	}
	enc = evhttp_find_header(in, "Content-Encoding");
	if (enc != NULL && strcasecmp(enc, "identity") != 0) {
		int gz = strcasecmp(enc, "gzip") == 0 ||
		    strcasecmp(enc, "x-gzip") == 0;

		if (!gz && strcasecmp(enc, "deflate") != 0) {
			send_error(r, req, ep, 415, REJ_MEDIA, "Content-Encoding "
			    "must be gzip, deflate or identity",
			    "Content-Encoding", -1, 0);
			return;
		}
		rc = gunzip(raw, n, gz, r->conf.receiver.max_body_bytes *
		    GUNZIP_FACTOR, &plain, &plen, err, sizeof(err));
		if (rc == -2) {
			send_error(r, req, ep, 413, REJ_TOO_LARGE, err,
			    "Content-Encoding", -1, 0);
			return;
		}
		if (rc == -1) {
			send_error(r, req, ep, 400, REJ_ENCODING, err,
			    "Content-Encoding", -1, 0);
			return;
		}
		raw = plain;
		n = plen;
	}
	if (ep == EP_SEED003)
		rc = ingest_parse_seed003(b, (const char *)raw, n, clock_wall_ms(), &e);
	else if (ep == EP_AGENT)
		rc = ingest_parse_agent(b, (const char *)raw, n, clock_wall_ms(), &e);
	else if (msgpack)
		rc = ingest_parse_msgpack(b, raw, n, &e);
	else
		rc = ingest_parse_json(b, (const char *)raw, n, &e);
	if (rc == -1) {
		send_error(r, req, ep, e.status ? e.status : 400,
		    e.status == 413 ? REJ_TOO_LARGE : REJ_INVALID, e.error,
		    e.field, e.index, e.status == 503 ? 1 : 0);
		goto out;
	}
	/* Identity comes from the token; a body that names a device must
	 * name the same one. */
	dfield = ep == EP_SEED003 ? "device_id" : ep == EP_AGENT ? "agent_id" :
	    "device";
	if (anonymous) {
		if (!body_valid_name(b->m.device.p, b->m.device.n, TOKENS_DEVICE_MAX)) {
			send_error(r, req, ep, 400, REJ_INVALID, "without a token "
			    "the body must name the device: 1 to 63 bytes of "
			    "[A-Za-z0-9_.:-]", dfield, -1, 0);
			goto out;
		}
	} else if (b->m.device.n > 0 && (b->m.device.n != strlen(dev) ||
	    memcmp(b->m.device.p, dev, b->m.device.n) != 0)) {
		log_warnx("%s: token of device %s used for device '%s'; "
		    "refused", ep_names[ep], dev, log_escape(b->m.device.p,
		    b->m.device.n, esc, sizeof(esc)));
		send_error(r, req, ep, 403, REJ_DEVICE, "the body names another "
		    "device than the token", dfield, -1, 0);
		goto out;
	}
	if ((pd = calloc(1, sizeof(*pd))) == NULL) {
		send_error(r, req, ep, 503, REJ_QUEUE, "out of memory", NULL, -1,
		    1);
		goto out;
	}
	if (anonymous)
		snprintf(pd->device, sizeof(pd->device), "%.*s",
		    (int)b->m.device.n, b->m.device.p);
	else
		snprintf(pd->device, sizeof(pd->device), "%s", dev);
	b->m.device = PSTR(pd->device);
	if (ratelimit_take(&r->rl, pd->device, clock_mono_ms(), b->m.npoints,
	    &retry) == -1) {
		free(pd);
		send_error(r, req, ep, 429, REJ_RATE, "rate limit: too many "
		    "samples from this device", NULL, -1, retry);
		goto out;
	}
	pd->r = r;
	pd->req = req;
	pd->ep = ep;
	if (b->m.npoints == 0 && !b->m.has_agent) {
		done(pd, 200, 0, 0);
		goto out;
	}
	if (fwd_submit(r->fwd, &b->m, done, pd, &status, err,
	    sizeof(err)) == -1) {
		free(pd);
		send_error(r, req, ep, status, status == 503 ? REJ_QUEUE :
		    REJ_INVALID, err, NULL, -1, status == 503 ? 1 : 0);
		goto out;
	}
out:
	free(plain);
	/* Between requests the receiver holds no parse buffers. */
	ingest_batch_free(b);
}

/* --- health, readiness, self-metrics --- */

static const char *
db_check(struct recv *r)
{
	const char	*path = r->conf.receiver.database[0] ?
	    r->conf.receiver.database : r->conf.writer.database;
	sqlite3_stmt	*st = NULL;
	int		 rc;

	if (r->db == NULL && sqlite3_open_v2(path, &r->db,
	    SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(r->db);
		r->db = NULL;
		return "database cannot be opened";
	}
	sqlite3_busy_timeout(r->db, 200);
	if (sqlite3_prepare_v2(r->db, "SELECT id FROM series LIMIT 1", -1, &st,
	    NULL) != SQLITE_OK) {
		sqlite3_close(r->db);
		r->db = NULL;
		return "database is not a tern database";
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return "database cannot be read";
	return NULL;
}

static void
readyz(struct recv *r, struct evhttp_request *req)
{
	const char	*why = NULL;
	char		 body[256];

	if (r->stopping)
		why = "stopping";
	else if (fwd_links_up(r->fwd) == 0)
		why = "not connected to the writer";
	else if (fwd_writer_failing(r->fwd))
		why = "the writer's commits are failing (disk full?)";
	else
		why = db_check(r);
	if (why == NULL) {
		snprintf(body, sizeof(body), "{\"status\":\"ready\",\"writer\":"
		    "\"connected\",\"links\":%d,\"database\":\"ok\"}",
		    fwd_links_up(r->fwd));
		send_text(r, req, EP_READYZ, 200, JSON_TYPE, body);
	} else {
		snprintf(body, sizeof(body), "{\"status\":\"not ready\","
		    "\"reason\":\"%s\"}", why);
		count(r, EP_READYZ, 503);
		http_reply(r, req, 503, JSON_TYPE, body, strlen(body), 1);
	}
}

static void
prometheus(struct recv *r, struct evhttp_request *req)
{
	struct evbuffer	*b = evbuffer_new();
	int		 i, j;

	if (b == NULL) {
		send_text(r, req, EP_PROM, 503, "text/plain", "out of memory\n");
		return;
	}
	/* Counted before rendering, so this request is in its own answer. */
	count(r, EP_PROM, 200);
	evbuffer_add_printf(b, "# HELP tern_receiver_requests_total HTTP "
	    "requests answered, by endpoint and status.\n"
	    "# TYPE tern_receiver_requests_total counter\n");
	for (i = 0; i < EP_MAX; i++)
		for (j = 0; j < RECV_NSTATUS; j++) {
			if (r->st.req[i][j] == 0)
				continue;
			if (status_codes[j] != 0)
				evbuffer_add_printf(b, "tern_receiver_requests_"
				    "total{endpoint=\"%s\",code=\"%d\"} %" PRIu64
				    "\n", ep_names[i], status_codes[j],
				    r->st.req[i][j]);
			else
				evbuffer_add_printf(b, "tern_receiver_requests_"
				    "total{endpoint=\"%s\",code=\"none\"} %"
				    PRIu64 "\n", ep_names[i], r->st.req[i][j]);
		}
	evbuffer_add_printf(b, "# HELP tern_receiver_samples_total Samples "
	    "committed by the writer: accepted, of which new and duplicate.\n"
	    "# TYPE tern_receiver_samples_total counter\n"
	    "tern_receiver_samples_total{result=\"accepted\"} %" PRIu64 "\n"
	    "tern_receiver_samples_total{result=\"new\"} %" PRIu64 "\n"
	    "tern_receiver_samples_total{result=\"duplicate\"} %" PRIu64 "\n",
	    r->st.samples_accepted, r->st.samples_new, r->st.samples_dup);
	evbuffer_add_printf(b, "# HELP tern_receiver_rejected_total Requests "
	    "refused before anything was stored, by reason.\n"
	    "# TYPE tern_receiver_rejected_total counter\n");
	for (i = 0; i < REJ_MAX; i++)
		evbuffer_add_printf(b, "tern_receiver_rejected_total{reason="
		    "\"%s\"} %" PRIu64 "\n", rej_names[i], r->st.rejected[i]);
	evbuffer_add_printf(b,
	    "# HELP tern_receiver_connections Open HTTP connections.\n"
	    "# TYPE tern_receiver_connections gauge\n"
	    "tern_receiver_connections %zu\n"
	    "# TYPE tern_receiver_connections_total counter\n"
	    "tern_receiver_connections_total %" PRIu64 "\n"
	    "# TYPE tern_receiver_connections_refused_total counter\n"
	    "tern_receiver_connections_refused_total %" PRIu64 "\n"
	    "# HELP tern_receiver_deadline_closes_total Connections closed "
	    "because headers or body were not complete in time.\n"
	    "# TYPE tern_receiver_deadline_closes_total counter\n"
	    "tern_receiver_deadline_closes_total{phase=\"header\"} %" PRIu64 "\n"
	    "tern_receiver_deadline_closes_total{phase=\"body\"} %" PRIu64 "\n"
	    "# HELP tern_receiver_writer_connected 1 while a link to the "
	    "writer is up.\n"
	    "# TYPE tern_receiver_writer_connected gauge\n"
	    "tern_receiver_writer_connected %d\n"
	    "# TYPE tern_receiver_writer_links_up gauge\n"
	    "tern_receiver_writer_links_up %d\n"
	    "# TYPE tern_receiver_pending_requests gauge\n"
	    "tern_receiver_pending_requests %zu\n"
	    "# TYPE tern_receiver_pending_bytes gauge\n"
	    "tern_receiver_pending_bytes %zu\n",
	    r->nconns, r->st.conns_total, r->st.conns_refused,
	    r->st.deadline_header, r->st.deadline_body,
	    fwd_links_up(r->fwd) > 0, fwd_links_up(r->fwd),
	    fwd_pending(r->fwd), fwd_bytes(r->fwd));
	http_reply(r, req, 200, "text/plain; version=0.0.4",
	    (const char *)evbuffer_pullup(b, -1), evbuffer_get_length(b), 0);
	evbuffer_free(b);
}

void
api_handle(struct evhttp_request *req, void *arg)
{
	struct recv			*r = arg;
	const struct evhttp_uri		*u = evhttp_request_get_evhttp_uri(req);
	const char			*path = u ? evhttp_uri_get_path(u) : NULL;
	enum evhttp_cmd_type		 m = evhttp_request_get_command(req);
	enum recv_ep			 ep;
	int				 post;

	http_request_begin(r, req);
	if (path == NULL)
		path = "";
	if (strcmp(path, "/api/v1/ingest") == 0)
		ep = EP_INGEST;
	else if (strcmp(path, "/api/metrics") == 0)
		ep = EP_SEED003;
	else if (strcmp(path, "/api/v1/metrics") == 0)
		ep = EP_AGENT;
	else if (strcmp(path, "/health") == 0)
		ep = EP_HEALTH;
	else if (strcmp(path, "/healthz") == 0)
		ep = EP_HEALTHZ;
	else if (strcmp(path, "/readyz") == 0)
		ep = EP_READYZ;
	else if (strcmp(path, "/metrics") == 0)
		ep = EP_PROM;
	else {
		send_error(r, req, EP_OTHER, 404, REJ_MAX, "no such endpoint",
		    NULL, -1, 0);
		return;
	}
	post = ep == EP_INGEST || ep == EP_SEED003 || ep == EP_AGENT;
	if ((post && m != EVHTTP_REQ_POST) ||
	    (!post && m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
		    post ? "POST" : "GET, HEAD");
		send_error(r, req, ep, 405, REJ_MAX, "method not allowed", NULL,
		    -1, 0);
		return;
	}
	switch (ep) {
	case EP_HEALTH:
		send_text(r, req, ep, 200, JSON_TYPE, "{\"status\":\"ok\"}");
		break;
	case EP_HEALTHZ:
		send_text(r, req, ep, 200, JSON_TYPE, "{\"status\":\"alive\"}");
		break;
	case EP_READYZ:
		readyz(r, req);
		break;
	case EP_PROM:
		prometheus(r, req);
		break;
	default:
		ingest(r, req, ep);
		break;
	}
}
