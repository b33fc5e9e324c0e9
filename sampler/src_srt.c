/*
 * src_srt.c -- packet loss, RTT and bitrate of SRT streams.
 *
 * Input is a JSON document from url (an SRT Live Server stats endpoint)
 * or file (a stats file a sender writes); "{stream}" in url is replaced
 * by the source's stream.  Recognised shapes:
 *
 *  - SLS (OpenIRL/BELABOX srt-live-server) GET /stats/<player id>
 *    ?legacy=1:
 *      {"publishers": {"live": {"pktRcvLoss": 12, "pktRcvDrop": 0,
 *        "bytesRcvLoss": ..., "mbpsRecvRate": 5.2, "rtt": 21.7,
 *        "msRcvBuf": 1990, "mbpsBandwidth": ..., "bitrate": 5120,
 *        "uptime": 620, "latency": 2000}}, "status": "ok"}
 *    and {"publishers": {}, "status": "ok", "message": "Publisher is
 *    currently not streaming"} when nobody publishes.  SLS fills these
 *    from srt_bstats(clear=reset): without "&reset" in the URL the
 *    counters grow for the life of the publisher's connection, and that
 *    is how this source wants them (it computes its own deltas, so it
 *    never clears counters other readers may rely on).
 *  - A stats file from a sender (srtla/belacoder builds that dump
 *    libsrt's SRT_TRACEBSTATS): one flat object of libsrt field names,
 *    or {"links": [{"name": "usb0", ...fields...}, ...]} with one object
 *    per bonded link.  This shape is our assumption of what such files
 *    hold (there is no standard); any object with libsrt field names is
 *    taken as a stats record wherever it sits.
 *
 * A stats record is an object with at least one of the fields below.
 * Its labels: stream = the configured stream, else the record's key under
 * "publishers", else the instance, else "srt"; link = the record's name
 * for records that are not SLS publishers (its "name", "id", "link" or
 * "addr" field in an array, else its key).
 *
 * Loss % per interval comes from counter deltas, see srt.h: receiver
 * side pktRcvLoss(Total) against pktRecv(Total); sender side
 * pktSndLoss(Total) against pktSent(Total).  When there is no packet
 * counter (SLS), the packets of the interval are estimated from the
 * receive rate and SRT_LIVE_PAYLOAD.  A counter that went down (new
 * connection, someone reset the stats) yields no loss sample for that
 * interval; see rate.h.
 *
 * Emitted per record: srt.loss_pct and its seed-003 twin srt.packet_loss,
 * srt.lost_per_s, srt.dropped_per_s, srt.rtt_ms, srt.bitrate_mbps,
 * srt.buffer_ms, srt.uptime_s (each where the data has it); per round
 * srt.up{stream} = 1 when at least one record was found, else 0.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "json.h"
#include "procfs.h"
#include "rate.h"
#include "source.h"
#include "srt.h"

/* A stats document with more tokens is not one. */
#define SRT_MAX_TOKENS	8192

struct srt_state {
	struct fetch	*f;
	struct rate_tab	*rates;
	struct json_tok	*tok;
	char		 path[4096];
	char		 url[2048];
	int64_t		 last_now;
	/* the round being read */
	struct batch	*b;
	const char	*doc;
	int64_t		 now;
	size_t		 nrec;
};

/* Field names, first found wins. */
static const char *const f_rlost[] = { "pktRcvLossTotal", "pktRcvLoss", 0 };
static const char *const f_slost[] = { "pktSndLossTotal", "pktSndLoss", 0 };
static const char *const f_rpkts[] = { "pktRecvTotal", "pktRecv", 0 };
static const char *const f_spkts[] = { "pktSentTotal", "pktSent", 0 };
static const char *const f_drop[] = { "pktRcvDropTotal", "pktRcvDrop",
	"pktSndDropTotal", "pktSndDrop", 0 };
static const char *const f_rtt[] = { "msRTT", "rtt", 0 };
static const char *const f_mbps[] = { "mbpsRecvRate", "mbpsSendRate", 0 };
static const char *const f_buf[] = { "msRcvBuf", "msSndBuf", 0 };

int
srt_loss_pct(double lost, double pkts, int sender, double *pct)
{
	double	denom = sender ? pkts : pkts + lost;

	if (!(denom > 0) || lost < 0)
		return 0;
	*pct = 100.0 * lost / denom;
	if (*pct > 100)
		*pct = 100;
	return 1;
}

double
srt_packets_est(double mbps, double dt_ms)
{
	return mbps * 1e6 / 8.0 * (dt_ms / 1000.0) / SRT_LIVE_PAYLOAD;
}

static int
srt_init(struct source *src, char *err, size_t errlen)
{
	const struct conf_source *c = src->conf;
	struct srt_state *st;
	int		 url = c->url && c->url[0], file = c->file && c->file[0];
	const char	*p, *stream = c->stream ? c->stream : "";
	size_t		 o = 0, sl = strlen(stream);

	if (url == file) {
		snprintf(err, errlen, url ? "both url and file configured" :
		    "neither url nor file configured");
		return -1;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->f = fetch_new()) == NULL ||
	    (st->rates = rate_new()) == NULL ||
	    (st->tok = calloc(SRT_MAX_TOKENS, sizeof(*st->tok))) == NULL)
		goto nomem;
	if (file && procfs_path(c->file[0] == '/' ? src->root : ".", c->file,
	    st->path, sizeof(st->path)) == -1) {
		snprintf(err, errlen, "file name too long");
		goto fail;
	}
	if (url) {
		/* Stream ids go into a path unescaped: allow only what needs
		 * no escaping. */
		if (strspn(stream, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
		    "OPQRSTUVWXYZ0123456789._~-") != sl) {
			snprintf(err, errlen, "stream has characters a URL "
			    "path cannot hold");
			goto fail;
		}
		for (p = c->url; *p && o + 1 < sizeof(st->url); ) {
			if (strncmp(p, "{stream}", 8) == 0 &&
			    o + sl + 1 < sizeof(st->url)) {
				memcpy(st->url + o, stream, sl);
				o += sl;
				p += 8;
			} else
				st->url[o++] = *p++;
		}
		if (*p) {
			snprintf(err, errlen, "url too long");
			goto fail;
		}
		st->url[o] = '\0';
	}
	src->priv = st;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	if (st) {
		fetch_free(st->f);
		rate_free(st->rates);
		free(st->tok);
		free(st);
	}
	return -1;
}

static void
srt_fini(struct source *src)
{
	struct srt_state *st = src->priv;

	fetch_free(st->f);
	rate_free(st->rates);
	free(st->tok);
	free(st);
}

/* The first of names present in object obj as a number. */
static int
srt_field(struct srt_state *st, long obj, const char *const *names,
    double *v)
{
	long	i;

	for (; *names; names++)
		if ((i = json_get(st->doc, st->tok, obj, *names)) != -1 &&
		    json_num(st->doc, st->tok, i, v) == 0 && isfinite(*v))
			return 1;
	return 0;
}

static int
srt_is_record(struct srt_state *st, long obj)
{
	static const char *const *const all[] = { f_rlost, f_slost, f_rpkts,
	    f_spkts, f_rtt, f_mbps };
	double	v;
	size_t	i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (srt_field(st, obj, all[i], &v))
			return 1;
	return 0;
}

/* Counter to rate-table delta; 1 when there is one. */
static int
srt_counter(struct srt_state *st, const char *key, const char *what,
    double v, double *rate, double *delta)
{
	char		k[600];
	uint64_t	d;

	if (v < 0 || v > 9e18)
		return 0;
	snprintf(k, sizeof(k), "%s\x1f%s", key, what);
	if (rate_update(st->rates, k, (uint64_t)v, st->now, RATE_W64, 0, rate,
	    &d) != 1)
		return 0;
	*delta = (double)d;
	return 1;
}

static void
srt_record(struct source *src, struct srt_state *st, long obj,
    const char *name, int publisher)
{
	const struct conf_source *c = src->conf;
	struct label_kv	 l[2];
	const char	*stream;
	char		 key[300];
	double		 lost, pkts, v, r, dl, dp, pct, mbps = -1;
	int		 sender = 0, have_lost, have_pkts, have_dl = 0, have_dp = 0;
	size_t		 n = 1;

	if (c->stream && c->stream[0])
		stream = c->stream;
	else if (publisher && name[0])
		stream = name;
	else if (c->instance[0])
		stream = c->instance;
	else
		stream = "srt";
	l[0].k = "stream";
	l[0].v = stream;
	if (!publisher && name[0]) {
		l[1].k = "link";
		l[1].v = name;
		n = 2;
	}
	snprintf(key, sizeof(key), "%s\x1f%s", stream, n == 2 ? name : "");
	st->nrec++;

	if (!(have_lost = srt_field(st, obj, f_rlost, &lost)) &&
	    (have_lost = srt_field(st, obj, f_slost, &lost)))
		sender = 1;
	have_pkts = srt_field(st, obj, sender ? f_spkts : f_rpkts, &pkts);
	if (!have_pkts && !have_lost &&
	    (have_pkts = srt_field(st, obj, f_spkts, &pkts)))
		sender = 1;
	if (srt_field(st, obj, f_mbps, &v))
		mbps = v;
	else if (srt_field(st, obj, (const char *const[]){ "bitrate", 0 }, &v))
		mbps = v / 1000.0;	/* SLS: kbit/s */

	if (have_lost && (have_dl = srt_counter(st, key, "lost", lost, &r,
	    &dl)))
		batch_add(st->b, "srt.lost_per_s", l, n, st->now, r);
	if (have_pkts)
		have_dp = srt_counter(st, key, "pkts", pkts, &r, &dp);
	if (have_dl && !have_pkts && mbps >= 0 && st->last_now > 0 &&
	    st->now > st->last_now) {
		dp = srt_packets_est(mbps, (double)(st->now - st->last_now));
		have_dp = 1;
	}
	if (have_dl && have_dp && srt_loss_pct(dl, dp, sender, &pct)) {
		batch_add(st->b, "srt.loss_pct", l, n, st->now, pct);
		batch_add(st->b, "srt.packet_loss", l, n, st->now, pct);
	}
	if (srt_field(st, obj, f_drop, &v) &&
	    srt_counter(st, key, "drop", v, &r, &dl))
		batch_add(st->b, "srt.dropped_per_s", l, n, st->now, r);
	if (srt_field(st, obj, f_rtt, &v))
		batch_add(st->b, "srt.rtt_ms", l, n, st->now, v);
	if (mbps >= 0)
		batch_add(st->b, "srt.bitrate_mbps", l, n, st->now, mbps);
	if (srt_field(st, obj, f_buf, &v))
		batch_add(st->b, "srt.buffer_ms", l, n, st->now, v);
	if (srt_field(st, obj, (const char *const[]){ "uptime", 0 }, &v))
		batch_add(st->b, "srt.uptime_s", l, n, st->now, v);
}

static void
srt_walk(struct source *src, struct srt_state *st, long i, const char *name,
    int publisher)
{
	static const char *const namekeys[] = { "name", "id", "link", "addr",
	    "address", NULL };
	const struct json_tok *t = st->tok;
	char		 key[128];
	long		 k, j;
	size_t		 idx, nk;

	if (t[i].type == JSON_OBJECT) {
		if (srt_is_record(st, i)) {
			srt_record(src, st, i, name, publisher);
			return;
		}
		for (k = i + 1; k < (long)t[i].next; k = (long)t[k + 1].next) {
			json_str(st->doc, t, k, key, sizeof(key));
			srt_walk(src, st, k + 1, key,
			    strcmp(name, "publishers") == 0);
		}
	} else if (t[i].type == JSON_ARRAY) {
		for (k = i + 1, idx = 0; k < (long)t[i].next;
		    k = (long)t[k].next, idx++) {
			snprintf(key, sizeof(key), "%zu", idx);
			for (nk = 0; namekeys[nk] != NULL; nk++)
				if ((j = json_get(st->doc, t, k,
				    namekeys[nk])) != -1 &&
				    json_str(st->doc, t, j, key,
				    sizeof(key)) == 0)
					break;
			srt_walk(src, st, k, key, 0);
		}
	}
}

static int
srt_read(struct source *src, struct batch *b, int64_t now, char *err,
    size_t errlen)
{
	struct srt_state *st = src->priv;
	struct label_kv	 l;
	char		*body, jerr[128], msg[128], esc[256];
	size_t		 len;
	long		 ntok, i;

	if ((st->path[0] ? fetch_file(st->f, st->path, &body, &len, err,
	    errlen) : fetch_url(st->f, st->url, source_timeout_ms(src), &body,
	    &len, err, errlen)) == -1)
		return -1;
	if ((ntok = json_parse(body, len, st->tok, SRT_MAX_TOKENS, jerr,
	    sizeof(jerr))) == -1) {
		snprintf(err, errlen, "%s: bad JSON: %s",
		    st->path[0] ? st->path : st->url, jerr);
		return -1;
	}
	if (st->tok[0].type != JSON_OBJECT) {
		snprintf(err, errlen, "%s: not a JSON object",
		    st->path[0] ? st->path : st->url);
		return -1;
	}
	if ((i = json_get(body, st->tok, 0, "status")) != -1 &&
	    json_eq(body, st->tok, i, "error")) {
		msg[0] = '\0';
		json_str(body, st->tok, json_get(body, st->tok, 0, "message"),
		    msg, sizeof(msg));
		log_escape(msg, strlen(msg), esc, sizeof(esc));
		snprintf(err, errlen, "%s: error: %s", st->url, esc);
		return -1;
	}
	st->b = b;
	st->doc = body;
	st->now = now;
	st->nrec = 0;
	srt_walk(src, st, 0, "", 0);
	l.k = "stream";
	l.v = src->conf->stream && src->conf->stream[0] ? src->conf->stream :
	    src->conf->instance[0] ? src->conf->instance : "srt";
	batch_add(b, "srt.up", &l, 1, now, st->nrec > 0);
	rate_sweep(st->rates);
	st->last_now = now;
	return 0;
}

const struct source_ops src_srt_ops = {
	.name = "srt",
	.init = srt_init,
	.read = srt_read,
	.fini = srt_fini,
};
