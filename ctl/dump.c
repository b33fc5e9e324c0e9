/*
 * dump.c -- ternctl dump and ternctl status.
 *
 * dump prints every raw sample of a database (or of one series) through
 * the read module, on a read-only connection, one per line:
 *   series_id <TAB> device <TAB> name <TAB> labels <TAB> ts_ms <TAB> value
 * Values are printed with %.17g so that they round-trip exactly.  It is
 * how a test or an operator checks values with no decoder of their own:
 * the sqlite3 CLI sees counts and spans, ternctl dump sees the samples.
 *
 * status asks a running writer for its counters (STATS) and prints them
 * as "name value" lines.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "ctl.h"
#include "peer.h"
#include "read.h"

int
ctl_dump(struct ctl *ctl, int argc, char **argv)
{
	struct raw_reader	*r;
	struct raw_result	 res;
	sqlite3			*db = NULL;
	sqlite3_stmt		*st = NULL;
	const char		*path = ctl->conf.writer.database;
	int64_t			 only = 0;
	char			 err[512];
	long			 n, i;
	int			 ch, rc = 1;

	while ((ch = getopt(argc, argv, "s:")) != -1) {
		switch (ch) {
		case 's':
			only = strtoll(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (optind < argc)
		path = argv[optind];
	memset(&res, 0, sizeof(res));
	if ((r = raw_open(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "ternctl dump: %s\n", err);
		return 1;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT id, device, name, labels FROM series "
	    "WHERE ?1 = 0 OR id = ?1 ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "ternctl dump: %s: %s\n", path,
		    db ? sqlite3_errmsg(db) : "cannot open");
		goto done;
	}
	sqlite3_bind_int64(st, 1, only);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t		 id = sqlite3_column_int64(st, 0);
		const char	*dev = (const char *)sqlite3_column_text(st, 1);
		const char	*name = (const char *)sqlite3_column_text(st, 2);
		const char	*lab = (const char *)sqlite3_column_text(st, 3);

		n = raw_read(r, id, INT64_MIN, INT64_MAX, 0, &res, err,
		    sizeof(err));
		if (n < 0) {
			fprintf(stderr, "ternctl dump: %s\n", err);
			goto done;
		}
		for (i = 0; i < n; i++)
			printf("%" PRId64 "\t%s\t%s\t%s\t%" PRId64 "\t%.17g\n",
			    id, dev, name, lab, res.ts[i], res.v[i]);
	}
	rc = 0;
done:
	sqlite3_finalize(st);
	sqlite3_close(db);
	raw_result_free(&res);
	raw_close(r);
	return rc;
}

struct status {
	struct event_base	*base;
	struct body_dec		*dec;
	int			 rc;
};

static int
status_dispatch(struct peer *p, const struct frame *f, void *arg, char *err,
    size_t errlen)
{
	struct status		*s = arg;
	struct stats_msg	 m;
	uint32_t		 i;

	if (f == NULL || f->hdr.type != FRAME_STATS)
		return 0;
	if (body_decode_stats(s->dec, f->body, f->hdr.length, &m, err, errlen)
	    == -1)
		return -1;
	for (i = 0; i < m.n; i++)
		printf("%.*s %.17g\n", (int)m.kv[i].name.n, m.kv[i].name.p,
		    m.kv[i].value);
	s->rc = 0;
	event_base_loopbreak(s->base);
	return 0;
}

static void
status_up(struct peer_client *c, struct peer *p, void *arg)
{
	msgpack_sbuffer	sb;

	msgpack_sbuffer_init(&sb);
	if (body_encode_empty(&sb) == 0)
		(void)peer_send_sb(p, FRAME_STATS, 1, &sb);
	msgpack_sbuffer_destroy(&sb);
}

static void
status_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct status	*s = arg;

	fprintf(stderr, "ternctl status: no answer from the writer\n");
	event_base_loopbreak(s->base);
}

int
ctl_status(struct ctl *ctl, int argc, char **argv)
{
	struct status		 s;
	struct peer_self	 self = { ROLE_CTL, "ternctl", "", 0 };
	struct peer_client	*c;
	struct event		*to;
	struct timeval		 tv = { 5, 0 };
	const char		*sock = ctl->conf.writer.socket;

	if (argc > 1)
		sock = argv[1];
	memset(&s, 0, sizeof(s));
	s.rc = 1;
	signal(SIGPIPE, SIG_IGN);
	s.base = event_base_new();
	s.dec = body_dec_new();
	if (s.base == NULL || s.dec == NULL)
		return 1;
	c = peer_client_new(s.base, sock, &self, 1 << 20, status_up,
	    status_dispatch, &s);
	to = evtimer_new(s.base, status_timeout, &s);
	if (c == NULL || to == NULL)
		return 1;
	evtimer_add(to, &tv);
	event_base_dispatch(s.base);
	peer_client_free(c);
	event_free(to);
	body_dec_free(s.dec);
	event_base_free(s.base);
	return s.rc;
}
