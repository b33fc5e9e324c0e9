/*
 * daemon.c -- see daemon.h.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>

#include "daemon.h"
#include "log.h"

/*
 * systemd's notification protocol, spoken directly: one datagram of
 * "KEY=VALUE" lines to the Unix socket named by $NOTIFY_SOCKET (a leading
 * '@' means the abstract namespace).  libsystemd would do the same, and
 * cost every tern process about a megabyte of resident memory for it.
 * Without $NOTIFY_SOCKET (not under systemd) this does nothing.
 */
static void
notify(const char *msg)
{
	const char		*path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un	 sun;
	socklen_t		 len;
	size_t			 n;
	int			 fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (n = strlen(path)) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sun,
	    len) == -1)
		log_debug("sd_notify via %s: %s", path, strerror(errno));
	close(fd);
}

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
	char	msg[256];

	if (status != NULL) {
		snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
		notify(msg);
	} else
		notify("READY=1");
}

void
daemon_stopping(void)
{
	notify("STOPPING=1");
}

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	notify("WATCHDOG=1");
}

struct event *
daemon_watchdog(struct event_base *base)
{
	const char	*us = getenv("WATCHDOG_USEC");
	const char	*pid = getenv("WATCHDOG_PID");
	uint64_t	 usec;
	struct event	*ev;
	struct timeval	 tv;

	/* The watchdog is ours only if systemd set it for this pid. */
	if (us == NULL || (pid != NULL && strtol(pid, NULL, 10) != getpid()))
		return NULL;
	if ((usec = strtoull(us, NULL, 10)) == 0)
		return NULL;
	if ((ev = event_new(base, -1, EV_PERSIST, watchdog_cb, NULL)) == NULL)
		return NULL;
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	event_add(ev, &tv);
	return ev;
}
