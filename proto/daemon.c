/*
 * daemon.c -- see daemon.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "log.h"

void
daemon_getopt(int argc, char **argv, struct daemon_opts *o, const char *extra,
    int (*opt)(int, const char *, void *), void *ctx, const char *usage)
{
	char	optstr[64];
	int	ch;

	memset(o, 0, sizeof(*o));
	snprintf(optstr, sizeof(optstr), "+f:ndvh%s", extra ? extra : "");
	while ((ch = getopt(argc, argv, optstr)) != -1) {
		switch (ch) {
		case 'f':
			o->conf_path = optarg;
			break;
		case 'n':
			o->check_only = 1;
			break;
		case 'd':
			o->debug = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			fprintf(stdout, "usage: %s\n", usage);
			exit(0);
		default:
			if (ch != '?' && opt != NULL && opt(ch, optarg, ctx) == 0)
				break;
			fprintf(stderr, "usage: %s\n", usage);
			exit(EXIT_USAGE);
		}
	}
}

void
daemon_start(const char *prog, const struct daemon_opts *o, struct conf *c)
{
	char	err[1024];
	int	level;

	log_init(prog, o->debug ? LOG_DEBUG : LOG_INFO, o->debug);
	if (conf_load(c, o->conf_path, err, sizeof(err)) == -1) {
		log_error("%s", err);
		if (o->check_only)
			fprintf(stderr, "%s\n", err);
		exit(EXIT_CONFIG);
	}
	if (o->check_only) {
		printf("%s: configuration OK\n",
		    c->path[0] ? c->path : "(built-in defaults)");
		exit(0);
	}
	level = c->log_level;
	if (o->debug || o->verbose > 0)
		level = LOG_DEBUG;
	log_setlevel(level);
}

void
daemon_ready(const char *status)
{
	if (status != NULL)
		sd_notifyf(0, "READY=1\nSTATUS=%s", status);
	else
		sd_notify(0, "READY=1");
}

void
daemon_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	sd_notify(0, "WATCHDOG=1");
}

struct event *
daemon_watchdog(struct event_base *base)
{
	uint64_t	 usec = 0;
	struct event	*ev;
	struct timeval	 tv;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return NULL;
	if ((ev = event_new(base, -1, EV_PERSIST, watchdog_cb, NULL)) == NULL)
		return NULL;
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	event_add(ev, &tv);
	return ev;
}
