/*
 * source.h -- the sampler's sources and the scheduler that runs them.
 *
 * A source is an entry in source_table: { name, init, read, fini }.  It
 * reads /proc, /sys (under the configured root), a command's output, a
 * file or an HTTP endpoint, and only ever fills a batch.  It never talks
 * to the writer and never sleeps.
 *
 * Contract of the callbacks:
 *  - init prepares src->priv.  It returns 0, or -1 with a reason in err
 *    when the source cannot work on this machine (its files or sensors do
 *    not exist, its configuration lacks a command): the scheduler then
 *    disables it with one log line naming the reason.  init must not add
 *    samples.
 *  - read adds this round's samples with timestamp now_ms (or the
 *    timestamps the data carries) and returns 0, or -1 with a reason in
 *    err.  A failing read keeps whatever it added (exec: the good lines of
 *    a script that then exited 1).  The scheduler backs off a failing
 *    source, doubling its interval up to SCHED_MAX_BACKOFF, logs the first
 *    failure once and the recovery with the count (struct log_once).
 *  - fini frees src->priv; it is called only after a successful init.
 *
 * Blocking: /proc and /sys reads are immediate.  exec, prometheus (HTTP)
 * and srt (HTTP) wait for their peer at most the source's timeout_ms
 * (default SOURCE_DEFAULT_TIMEOUT_MS) inside read, during which the
 * sampler's event loop waits too.  The sampler never blocks on the writer
 * (unacknowledged frames queue up), so a slow script delays samples, never
 * loses them; keep timeouts well under the interval.
 */
#ifndef TERN_SOURCE_H
#define TERN_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "conf.h"
#include "log.h"

/* Used when neither the source nor the sampler section sets an interval. */
#define SOURCE_DEFAULT_INTERVAL_MS	10000
/* Shortest interval accepted: below 100 ms /proc deltas are mostly
 * rounding (USER_HZ is 100) and the sampler's own cost stops being small. */
#define SOURCE_MIN_INTERVAL_MS		100
/* For exec, prometheus and srt when timeout_ms is 0. */
#define SOURCE_DEFAULT_TIMEOUT_MS	5000
/*
 * A failing source is retried at its interval doubled per failure, up to
 * 32 times its interval and at most 5 minutes, but never less often than
 * its own interval (an hourly source stays hourly).  5 minutes bounds how
 * long a recovered sensor goes unnoticed.
 */
#define SCHED_MAX_BACKOFF_FACTOR	32
#define SCHED_MAX_BACKOFF_MS		(5 * 60 * 1000)
/*
 * sources_run_due starts a source only while the batch has at least this
 * much room, and otherwise returns 0 so that the caller sends the batch
 * and calls again: no round of a source is cut in half by a full batch.
 */
#define SCHED_MIN_ROOM			1024

struct source;

struct source_ops {
	const char	*name;
	int		(*init)(struct source *, char *err, size_t errlen);
	int		(*read)(struct source *, struct batch *, int64_t now_ms,
			    char *err, size_t errlen);
	void		(*fini)(struct source *);
};

struct source {
	const struct source_ops	*ops;
	const struct conf_source *conf;	/* borrowed; outlives the source */
	const char		*root;	/* borrowed: a fixture tree, or ""
					   for the real "/" */
	char			 id[100]; /* "cpu", "exec/backup": for logs */
	void			*priv;	/* the source's own state */
	int			 enabled;
	int64_t			 interval_ms;	/* configured */
	int64_t			 cur_ms;	/* current, doubled on failure */
	int64_t			 next_due;	/* ms since the epoch */
	struct log_once		 fail;
	uint64_t		 reads, failures;
};

/* Every source type, NULL-terminated. */
extern const struct source_ops *const source_table[];
/* The entry named name, or NULL. */
const struct source_ops *source_find(const char *name);

/* Each source file's table entry. */
extern const struct source_ops src_cpu_ops, src_load_ops, src_memory_ops,
	src_disk_ops, src_diskio_ops, src_net_ops, src_thermal_ops,
	src_exec_ops, src_prometheus_ops, src_srt_ops;

/*
 * Prepares one source of type conf->name and runs its init.  conf and
 * root are borrowed and must outlive the source.  default_interval_ms is
 * the sampler section's interval (0: SOURCE_DEFAULT_INTERVAL_MS).
 * Returns 0 with src->enabled set, or -1 with the reason in err and
 * src->enabled clear (unknown type, or init failed: not on this machine).
 * source_fini undoes a successful source_init and accepts a disabled one.
 */
int	source_init(struct source *src, const struct conf_source *conf,
	    const char *root, int64_t default_interval_ms, char *err,
	    size_t errlen);
void	source_fini(struct source *src);

/* The source's timeout: conf timeout_ms or SOURCE_DEFAULT_TIMEOUT_MS. */
int64_t	source_timeout_ms(const struct source *src);

/*
 * The first multiple of interval_ms since the epoch that is later than
 * now_ms.  Every device with the same interval samples at the same
 * instants, which lines series up across a fleet; sub-second intervals
 * work the same way.  interval_ms must be > 0.
 */
int64_t	sched_next_due(int64_t interval_ms, int64_t now_ms);

/* All configured sources. */
struct sources {
	struct source	*v;
	size_t		 n;
};

/*
 * Builds and initialises the sources of c.  c (and its sources array)
 * is borrowed and must outlive the result.  A sampler section with no
 * sources gets the system sources (cpu, load, memory, disk, diskio, net,
 * thermal) on the default interval.  Disabled entries are skipped; a
 * source whose init fails is logged once at LOG_INFO and left disabled;
 * an unknown type is logged at LOG_WARNING and left disabled.  Each
 * source's first run is its first aligned instant after now_ms.
 * Returns NULL only when out of memory.  sources_free accepts NULL.
 */
struct sources	*sources_new(const struct conf_sampler *c, int64_t now_ms);
void		 sources_free(struct sources *);

/*
 * Runs every enabled source whose time has come (next_due <= now_ms),
 * adding its samples to b with timestamp now_ms, and schedules each one's
 * next run.  Returns the milliseconds until the earliest next run (0 when
 * it stopped early because b has less than SCHED_MIN_ROOM room left: send
 * b and call again), or -1 when no source is enabled.
 */
int64_t	sources_run_due(struct sources *, int64_t now_ms, struct batch *b);

/* Runs one source now and reschedules it; returns read's result.  The
 * scheduler's unit of work, exported for tests. */
int	sched_run(struct source *src, int64_t now_ms, struct batch *b);

#endif
