/*
 * log.h -- logging for every tern process, after OpenBSD's log.c.
 *
 * Lines go to stderr prefixed with the syslog priority ("<3>"), which
 * journald turns into the record's priority, so a unit needs no syslog
 * socket.  With -d (log_init(..., 1)) the prefix is a readable level and a
 * timestamp instead, for a person at a terminal.
 *
 * log_warn* append strerror(errno); the *x variants do not.  fatal and
 * fatalx log at LOG_CRIT and exit(1): for start-up and broken invariants
 * only, never for a peer's bad input.
 *
 * Repeating failures (a full disk, a missing sensor, a refused connection)
 * go through struct log_once: the first failure is logged, the repeats are
 * counted silently, and the recovery is logged with the count, as collectd
 * does.
 */
#ifndef TERN_LOG_H
#define TERN_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#define LOG_ATTR(f, a)	__attribute__((format(printf, f, a)))

void	log_init(const char *progname, int level, int debug);
void	log_setlevel(int level);
int	log_getlevel(void);
/* "err", "warning", "info", "debug" (and syslog's other names) -> level */
int	log_level_by_name(const char *name);
const char *log_level_name(int level);

void	log_warn(const char *fmt, ...) LOG_ATTR(1, 2);
void	log_warnx(const char *fmt, ...) LOG_ATTR(1, 2);
void	log_error(const char *fmt, ...) LOG_ATTR(1, 2);	/* LOG_ERR, no errno */
void	log_info(const char *fmt, ...) LOG_ATTR(1, 2);
void	log_debug(const char *fmt, ...) LOG_ATTR(1, 2);
void	log_msg(int pri, const char *fmt, ...) LOG_ATTR(2, 3);
void	log_vmsg(int pri, const char *fmt, va_list ap) LOG_ATTR(2, 0);
__attribute__((noreturn)) void fatal(const char *fmt, ...) LOG_ATTR(1, 2);
__attribute__((noreturn)) void fatalx(const char *fmt, ...) LOG_ATTR(1, 2);

/*
 * Complain once, report recovery.  Zero-initialise one per failure site.
 * log_once_fail logs at pri only on the first failure of a run of failures;
 * log_once_ok logs "what: recovered after N failures" at LOG_INFO if the
 * site had failed, and resets it.  Both return nothing and are cheap.
 */
struct log_once {
	uint64_t	failures;
};
void	log_once_fail(struct log_once *, int pri, const char *fmt, ...)
	    LOG_ATTR(3, 4);
void	log_once_ok(struct log_once *, const char *what);

/*
 * Escapes a peer-supplied string for a log line: printable ASCII is kept,
 * anything else becomes \xHH, and the result is cut at outlen-1 with "..."
 * marking the cut.  Returns out.
 */
char	*log_escape(const char *s, size_t n, char *out, size_t outlen);

#endif
