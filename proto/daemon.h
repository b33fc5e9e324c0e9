/*
 * daemon.h -- what every tern program does the same way: the command line
 * (-f FILE, -n, -d, -v), configuration loading, readiness and the systemd
 * watchdog.
 *
 * Programs do not fork themselves (s6's rule): systemd, a test or a
 * terminal starts them in the foreground.  Readiness is signalled with
 * sd_notify(READY=1) once the program can serve, and the watchdog is fed
 * from the event loop, so a wedged loop is restarted by systemd.
 *
 * Exit codes, for every program:
 *   0  stopped on request (SIGTERM, SIGINT) after flushing what it held,
 *      or -n found the configuration valid
 *   1  could not start: bad configuration, database, socket
 *   2  bad command line
 */
#ifndef TERN_DAEMON_H
#define TERN_DAEMON_H

#include <event2/event.h>

#include "conf.h"

#define EXIT_CONFIG	1
#define EXIT_USAGE	2

struct daemon_opts {
	const char	*conf_path;	/* -f, NULL: the default path */
	int		 check_only;	/* -n */
	int		 debug;		/* -d */
	int		 verbose;	/* -v, repeatable */
};

/*
 * Parses the common options, leaving optind at the first operand.  extra
 * is a getopt string of the program's own options, handled by the
 * callback, which returns 0 or -1 (usage).  Exits with EXIT_USAGE and the
 * usage line on a bad option.
 */
void	daemon_getopt(int argc, char **argv, struct daemon_opts *o,
	    const char *extra, int (*opt)(int ch, const char *arg, void *ctx),
	    void *ctx, const char *usage);

/*
 * Sets up logging, loads the configuration (exiting with EXIT_CONFIG and
 * the file:line reason on error) and applies -d and -v.  With -n, prints
 * "PATH: configuration OK" and exits 0.
 */
void	daemon_start(const char *prog, const struct daemon_opts *o,
	    struct conf *c);

/* READY=1, STOPPING=1 and STATUS=... to systemd; no-ops without it. */
void	daemon_ready(const char *status);
void	daemon_stopping(void);

/*
 * Feeds the systemd watchdog from the event loop at half its interval, if
 * the unit has WatchdogSec.  Returns the timer event (free it at exit) or
 * NULL if there is no watchdog.
 */
struct event *daemon_watchdog(struct event_base *);

#endif
