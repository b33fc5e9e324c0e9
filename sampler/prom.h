/*
 * prom.h -- a parser for the Prometheus text exposition format, as exec
 * scripts print it and exporters serve it.  It does no I/O: it takes a
 * buffer and gives samples, so the tests are strings.
 *
 *   # HELP name text            comments, HELP and TYPE: ignored
 *   name value
 *   name{k="v",k2="a \"q\" \\ \n"} value timestamp_ms
 *
 * Values are decimal or hexadecimal-free floats, "+Inf", "-Inf", "NaN"
 * (case-insensitive, as Go's ParseFloat takes them).  The timestamp is
 * optional, integer milliseconds since the epoch.  Label values may hold
 * the escapes \\, \" and \n; any other backslash is an error.  A trailing
 * comma in the label set is allowed, as in Prometheus.
 *
 * Limits are those of the wire (body.h): a name or label name longer than
 * BODY_MAX_NAME, a value longer than BODY_MAX_LABELVAL or more than
 * BODY_MAX_LABELS labels makes the line bad, because the writer would
 * refuse it anyway.
 */
#ifndef TERN_PROM_H
#define TERN_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"

struct prom_sample {
	const char	*name;
	struct label_kv	 labels[BODY_MAX_LABELS];
	size_t		 nlabels;
	double		 value;
	int		 has_ts;
	int64_t		 ts_ms;
};

/*
 * Parses one line (NUL-terminated, without its newline) in place: the
 * line is modified, and out's strings point into it.  Returns 1 for a
 * sample, 0 for a line without one (blank, comment, HELP, TYPE), -1 for a
 * bad line with the reason in err.
 */
int	prom_parse_line(char *line, struct prom_sample *out, char *err,
	    size_t errlen);

typedef void	(*prom_sample_fn)(void *arg, const struct prom_sample *);
typedef void	(*prom_bad_fn)(void *arg, size_t lineno, const char *reason);

/*
 * Parses every line of buf[0..len) in place; buf must have room for a
 * NUL at buf[len].  Calls sample for each sample and bad (if not NULL)
 * for each bad line with its 1-based number.  A NUL byte inside the text
 * ends the line it is on (the rest of that line is bad).  Returns the
 * number of samples; *nbad, if not NULL, receives the number of bad lines.
 */
size_t	prom_parse(char *buf, size_t len, prom_sample_fn sample,
	    prom_bad_fn bad, void *arg, size_t *nbad);

#endif
