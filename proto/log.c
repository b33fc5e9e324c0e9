/*
 * log.c -- see log.h.
 *
 * The only state is the program name, the level and the debug switch, set
 * once by log_init in main; they are process-wide by nature (every module
 * logs), which is why they are the one exception to "no mutable globals".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char	*log_prog = "tern";
static int		 log_level = LOG_INFO;
static int		 log_debugfmt;

static const struct {
	const char	*name;
	int		 level;
} log_levels[] = {
	{ "emerg", LOG_EMERG }, { "alert", LOG_ALERT }, { "crit", LOG_CRIT },
	{ "err", LOG_ERR }, { "error", LOG_ERR }, { "warning", LOG_WARNING },
	{ "warn", LOG_WARNING }, { "notice", LOG_NOTICE }, { "info", LOG_INFO },
	{ "debug", LOG_DEBUG },
};

void
log_init(const char *progname, int level, int debug)
{
	log_prog = progname;
	log_level = level;
	log_debugfmt = debug;
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

int
log_level_by_name(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (strcasecmp(name, log_levels[i].name) == 0)
			return log_levels[i].level;
	return -1;
}

const char *
log_level_name(int level)
{
	size_t	i;

	for (i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (log_levels[i].level == level)
			return log_levels[i].name;
	return "?";
}

void
log_vmsg(int pri, const char *fmt, va_list ap)
{
	char		 line[2048];
	struct timespec	 ts;
	struct tm	 tm;
	int		 saved = errno;

	if (pri > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	/*
	 * One fprintf per line: stderr is unbuffered, and a single write keeps
	 * lines from two processes sharing a journal stream from interleaving.
	 */
	if (log_debugfmt) {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s[%d] %s: %s\n",
		    tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		    log_prog, (int)getpid(), log_level_name(pri), line);
	} else
		fprintf(stderr, "<%d>%s: %s\n", pri, log_prog, line);
	errno = saved;
}

void
log_msg(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(pri, fmt, ap);
	va_end(ap);
}

/* Formats fmt and appends ": strerror(errno)". */
static void log_vmsg_errno(int, const char *, va_list) LOG_ATTR(2, 0);

static void
log_vmsg_errno(int pri, const char *fmt, va_list ap)
{
	char	buf[1536];
	int	saved = errno;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	log_msg(pri, "%s: %s", buf, strerror(saved));
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg_errno(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_DEBUG)
		return;
	va_start(ap, fmt);
	log_vmsg(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg_errno(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_once_fail(struct log_once *lo, int pri, const char *fmt, ...)
{
	va_list	ap;

	if (lo->failures++ > 0)
		return;
	va_start(ap, fmt);
	log_vmsg(pri, fmt, ap);
	va_end(ap);
}

void
log_once_ok(struct log_once *lo, const char *what)
{
	if (lo->failures == 0)
		return;
	log_info("%s: recovered after %llu failure%s", what,
	    (unsigned long long)lo->failures, lo->failures == 1 ? "" : "s");
	lo->failures = 0;
}

char *
log_escape(const char *s, size_t n, char *out, size_t outlen)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i, o = 0;
	unsigned char		 c;

	if (outlen == 0)
		return out;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		/* Leave room for the escape, "..." and the NUL. */
		if (o + 4 + 4 > outlen) {
			if (outlen >= 4) {
				o = o + 4 <= outlen ? o : outlen - 4;
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}
