/*
 * receiver.c -- tern-receiver: the central host's HTTP front door.
 *
 * Devices' uploaders (and the seeds' simpler clients) POST samples here;
 * the receiver authenticates them, validates whole bodies, forwards them
 * to its own tern-writer as SAMPLES frames and answers 2xx only after the
 * writer's ACK (forward.c).  It serves health, readiness and Prometheus
 * self-metrics too.  http.c sets its limits, api.c its endpoints.
 *
 * SIGTERM: stop accepting, let requests already admitted finish (bounded
 * by STOP_DRAIN_MS), answer the rest 503, exit 0.  SIGHUP re-reads the
 * tokens file and the log level.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/http.h>

#include "daemon.h"
#include "log.h"
#include "receiver.h"

#define USAGE	"tern-receiver [-dnv] [-f file]"

/* How long a stopping receiver waits for admitted requests' ACKs. */
#define STOP_DRAIN_MS	5000
#define STOP_POLL_MS	50

struct main_ctx {
	struct recv	*r;
	struct event	*stop_ev;
	int		 stop_waited_ms;
};

static int
load_tokens(struct recv *r, struct tokens *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	if (r->conf.receiver.tokens_file[0] == '\0')
		return 0;
	return tokens_load(t, r->conf.receiver.tokens_file, err, errlen);
}

static void
stop_poll(evutil_socket_t fd, short what, void *arg)
{
	struct main_ctx	*m = arg;
	struct timeval	 tv = { 0, STOP_POLL_MS * 1000 };

	if (fwd_pending(m->r->fwd) == 0 || m->stop_waited_ms >= STOP_DRAIN_MS) {
		event_base_loopexit(m->r->base, NULL);
		return;
	}
	m->stop_waited_ms += STOP_POLL_MS;
	evtimer_add(m->stop_ev, &tv);
}

static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	struct main_ctx	*m = arg;

	if (m->r->stopping)
		return;
	m->r->stopping = 1;
	daemon_stopping();
	log_info("signal %d: stopping; %zu requests waiting for the writer",
	    (int)sig, fwd_pending(m->r->fwd));
	http_stop_accepting(m->r);
	stop_poll(-1, 0, m);
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct recv	*r = arg;
	struct conf	 c;
	struct tokens	 t;
	char		 err[1024];

	if (conf_load(&c, r->conf.path[0] ? r->conf.path : NULL, err,
	    sizeof(err)) == -1) {
		log_error("SIGHUP: %s; keeping the running configuration", err);
		conf_free(&c);
		return;
	}
	log_setlevel(c.log_level);
	conf_free(&c);
	if (load_tokens(r, &t, err, sizeof(err)) == -1) {
		log_error("SIGHUP: %s; keeping the tokens loaded before", err);
		return;
	}
	tokens_free(&r->tokens);
	r->tokens = t;
	log_info("SIGHUP: %zu device tokens loaded", r->tokens.n);
}

int
main(int argc, char **argv)
{
	struct recv		 r;
	struct main_ctx		 m;
	struct daemon_opts	 o;
	struct event		*sig_term, *sig_int, *sig_hup, *watchdog;
	const char		*drop;
	char			 err[1024], status[300];

	memset(&r, 0, sizeof(r));
	memset(&m, 0, sizeof(m));
	daemon_getopt(argc, argv, &o, NULL, NULL, NULL, USAGE);
	if (optind != argc) {
		fprintf(stderr, "usage: %s\n", USAGE);
		return EXIT_USAGE;
	}
	daemon_start("tern-receiver", &o, &r.conf);
	signal(SIGPIPE, SIG_IGN);

	if (load_tokens(&r, &r.tokens, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (r.tokens.n == 0 && !r.conf.receiver.allow_unauthenticated)
		log_warnx("no device tokens (receiver.tokens_file) and "
		    "allow_unauthenticated is false: every ingest request "
		    "will be refused");
	if (r.conf.receiver.allow_unauthenticated)
		log_warnx("allow_unauthenticated is set: requests without a "
		    "token are accepted for the device their body names");
	ratelimit_init(&r.rl, r.conf.receiver.rate_limit,
	    r.conf.receiver.rate_burst);
	ingest_batch_init(&r.batch);
	if ((drop = getenv(RECV_TEST_DROP_ENV)) != NULL) {
		r.drop_after_commit = strtoull(drop, NULL, 10);
		log_warnx("%s=%llu: TEST ONLY: that many committed requests "
		    "will not be answered", RECV_TEST_DROP_ENV,
		    (unsigned long long)r.drop_after_commit);
	}

	if ((r.base = event_base_new()) == NULL)
		fatalx("cannot create the event base");
	if ((r.fwd = fwd_new(r.base, r.conf.writer.socket, r.conf.device,
	    RECV_QUEUE_BYTES)) == NULL)
		fatalx("cannot set up the writer links");
	if (http_start(&r) == -1)
		fatal("listen on %s port %u", r.conf.receiver.listen,
		    r.conf.receiver.port);
	m.r = &r;
	m.stop_ev = evtimer_new(r.base, stop_poll, &m);
	sig_term = evsignal_new(r.base, SIGTERM, on_term, &m);
	sig_int = evsignal_new(r.base, SIGINT, on_term, &m);
	sig_hup = evsignal_new(r.base, SIGHUP, on_hup, &r);
	if (m.stop_ev == NULL || sig_term == NULL || sig_int == NULL ||
	    sig_hup == NULL)
		fatalx("cannot create events");
	evsignal_add(sig_term, NULL);
	evsignal_add(sig_int, NULL);
	evsignal_add(sig_hup, NULL);
	watchdog = daemon_watchdog(r.base);

	log_info("listening on %s port %u, writer %s, %zu device tokens",
	    r.conf.receiver.listen, r.conf.receiver.port, r.conf.writer.socket,
	    r.tokens.n);
	snprintf(status, sizeof(status), "serving http://%s:%u",
	    r.conf.receiver.listen, r.conf.receiver.port);
	daemon_ready(status);

	event_base_dispatch(r.base);

	fwd_free(r.fwd);	/* answers what is left: 503 */
	http_free(&r);
	tokens_free(&r.tokens);
	ratelimit_free(&r.rl);
	ingest_batch_free(&r.batch);
	if (r.db != NULL)
		sqlite3_close(r.db);
	event_free(m.stop_ev);
	event_free(sig_term);
	event_free(sig_int);
	event_free(sig_hup);
	if (watchdog != NULL)
		event_free(watchdog);
	event_base_free(r.base);
	conf_free(&r.conf);
	log_info("stopped");
	return 0;
}
