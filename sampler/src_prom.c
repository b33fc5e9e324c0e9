/*
 * src_prom.c -- the "prometheus" source: scrape a Prometheus text
 * endpoint over HTTP, or read a node_exporter-style textfile.
 *
 * url set: GET it with the source's timeout (fetch.h).  file set: read
 * it (an absolute path is taken under root, as /proc is, so that a fixture
 * tree or a container's view of the host works; a relative one is
 * relative to the working directory).  Both set is a configuration error;
 * neither disables the source.  Metric names are kept as the exporter
 * wrote them (srtla_send's per-link RTT, NAK and bitrate series arrive as
 * they are); label instance=<instance> is added when the source has an
 * instance and the line has none.  The exporter's timestamps are kept.
 *
 * A failed fetch makes the round fail (back-off).  Bad lines are skipped,
 * counted in tern.prom.bad_lines{source} and logged once per run of
 * rounds that have them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "procfs.h"
#include "prom.h"
#include "source.h"

struct prom_state {
	struct fetch	*f;
	char		 path[4096];	/* file, under root */
	uint64_t	 bad_total;
	struct log_once	 badlog;
	/* for the callbacks */
	struct source	*src;
	struct batch	*b;
	int64_t		 now;
	size_t		 nbad;
	char		 firstbad[256];
};

static int
promsrc_init(struct source *src, char *err, size_t errlen)
{
	const struct conf_source *c = src->conf;
	struct prom_state *st;
	int		 url = c->url && c->url[0], file = c->file && c->file[0];

	if (url == file) {
		snprintf(err, errlen, url ? "both url and file configured" :
		    "neither url nor file configured");
		return -1;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->f = fetch_new()) == NULL) {
		free(st);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (file && procfs_path(c->file[0] == '/' ? src->root : ".",
	    c->file, st->path, sizeof(st->path)) == -1) {
		snprintf(err, errlen, "file name too long");
		fetch_free(st->f);
		free(st);
		return -1;
	}
	src->priv = st;
	return 0;
}

static void
promsrc_fini(struct source *src)
{
	struct prom_state *st = src->priv;

	fetch_free(st->f);
	free(st);
}

static void
promsrc_sample(void *arg, const struct prom_sample *s)
{
	struct prom_state *st = arg;
	struct label_kv	 l[BODY_MAX_LABELS + 1];
	size_t		 i, n = s->nlabels;
	int		 has = 0;

	memcpy(l, s->labels, n * sizeof(l[0]));
	for (i = 0; i < n; i++)
		has |= strcmp(l[i].k, "instance") == 0;
	if (!has && st->src->conf->instance[0]) {
		l[n].k = "instance";
		l[n].v = st->src->conf->instance;
		n++;
	}
	batch_add(st->b, s->name, l, n, s->has_ts ? s->ts_ms : st->now,
	    s->value);
}

static void
promsrc_bad(void *arg, size_t lineno, const char *reason)
{
	struct prom_state *st = arg;
	char		 esc[200];

	if (st->nbad++ == 0) {
		log_escape(reason, strlen(reason), esc, sizeof(esc));
		snprintf(st->firstbad, sizeof(st->firstbad), "line %zu: %s",
		    lineno, esc);
	}
}

static int
promsrc_read(struct source *src, struct batch *b, int64_t now, char *err,
    size_t errlen)
{
	struct prom_state *st = src->priv;
	struct label_kv	 l = { "source", src->id };
	char		*body;
	size_t		 len;
	int		 rc;

	if (st->path[0])
		rc = fetch_file(st->f, st->path, &body, &len, err, errlen);
	else
		rc = fetch_url(st->f, src->conf->url, source_timeout_ms(src),
		    &body, &len, err, errlen);
	if (rc == -1)
		return -1;
	st->src = src;
	st->b = b;
	st->now = now;
	st->nbad = 0;
	/* fetch leaves a NUL after the body: room for prom_parse's. */
	prom_parse(body, len, promsrc_sample, promsrc_bad, st, NULL);
	st->bad_total += st->nbad;
	if (st->nbad > 0)
		log_once_fail(&st->badlog, LOG_WARNING, "source %s: %zu bad "
		    "line%s, first %s", src->id, st->nbad,
		    st->nbad == 1 ? "" : "s", st->firstbad);
	else {
		char what[128];

		snprintf(what, sizeof(what), "source %s: output", src->id);
		log_once_ok(&st->badlog, what);
	}
	batch_add(b, "tern.prom.bad_lines", &l, 1, now,
	    (double)st->bad_total);
	return 0;
}

const struct source_ops src_prometheus_ops = {
	.name = "prometheus",
	.init = promsrc_init,
	.read = promsrc_read,
	.fini = promsrc_fini,
};
