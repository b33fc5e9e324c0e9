/*
 * sched.c -- when each source runs: aligned instants, back-off on
 * failure, and the round the main loop calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "source.h"

/* The system sources a sampler section without a sources list gets.  Read
 * only: sources borrow their conf for life. */
static const struct conf_source sched_defaults[] = {
	{ .name = "cpu", .enabled = 1 },
	{ .name = "load", .enabled = 1 },
	{ .name = "memory", .enabled = 1 },
	{ .name = "disk", .enabled = 1 },
	{ .name = "diskio", .enabled = 1 },
	{ .name = "net", .enabled = 1 },
	{ .name = "thermal", .enabled = 1 },
};

int64_t
sched_next_due(int64_t interval_ms, int64_t now_ms)
{
	int64_t	r = now_ms % interval_ms;

	/* C's % truncates toward zero; keep the floor for times before 1970
	 * (a board with no RTC before NTP has set the clock). */
	if (r < 0)
		r += interval_ms;
	return now_ms - r + interval_ms;
}

struct sources *
sources_new(const struct conf_sampler *c, int64_t now_ms)
{
	const struct conf_source *cs = c->sources;
	struct sources	*ss;
	size_t		 i, n = c->nsources;
	char		 err[256];

	if (n == 0) {
		cs = sched_defaults;
		n = sizeof(sched_defaults) / sizeof(sched_defaults[0]);
	}
	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		return NULL;
	if ((ss->v = calloc(n, sizeof(*ss->v))) == NULL) {
		free(ss);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		struct source *src = &ss->v[ss->n];

		if (!cs[i].enabled)
			continue;
		ss->n++;
		err[0] = '\0';
		if (source_init(src, &cs[i], c->root, c->interval_ms, err,
		    sizeof(err)) == -1) {
			if (src->ops == NULL)
				log_warnx("source %s: %s", src->id, err);
			else
				log_info("source %s: disabled: %s", src->id,
				    err);
			continue;
		}
		src->next_due = sched_next_due(src->cur_ms, now_ms);
		log_debug("source %s: every %lld ms", src->id,
		    (long long)src->interval_ms);
	}
	return ss;
}

void
sources_free(struct sources *ss)
{
	size_t	i;

	if (ss == NULL)
		return;
	for (i = 0; i < ss->n; i++)
		source_fini(&ss->v[i]);
	free(ss->v);
	free(ss);
	procfs_round_free();
}

int
sched_run(struct source *src, int64_t now_ms, struct batch *b)
{
	char	err[512];
	int	rc;
	int64_t	cap;

	err[0] = '\0';
	src->reads++;
	rc = src->ops->read(src, b, now_ms, err, sizeof(err));
	if (rc == -1) {
		src->failures++;
		cap = src->interval_ms * SCHED_MAX_BACKOFF_FACTOR;
		if (cap > SCHED_MAX_BACKOFF_MS)
			cap = SCHED_MAX_BACKOFF_MS;
		if (cap < src->interval_ms)
			cap = src->interval_ms;
		src->cur_ms = src->cur_ms * 2 > cap ? cap : src->cur_ms * 2;
		log_once_fail(&src->fail, LOG_WARNING,
		    "source %s: %s (retrying at a doubling interval)", src->id,
		    err[0] ? err : "read failed");
	} else {
		if (src->fail.failures > 0) {
			char what[128];

			snprintf(what, sizeof(what), "source %s", src->id);
			log_once_ok(&src->fail, what);
		}
		src->cur_ms = src->interval_ms;
	}
	src->next_due = sched_next_due(src->cur_ms, now_ms);
	return rc;
}

int64_t
sources_run_due(struct sources *ss, int64_t now_ms, struct batch *b)
{
	int64_t	next = -1, d;
	size_t	i;

	for (i = 0; i < ss->n; i++) {
		struct source *src = &ss->v[i];

		if (!src->enabled)
			continue;
		if (src->next_due <= now_ms) {
			int64_t	stamp = src->next_due;

			if (batch_room(b) < SCHED_MIN_ROOM)
				return 0;
			/*
			 * The round is stamped with the aligned instant it was
			 * due, not the few milliseconds later the loop got to
			 * it, so that every device's samples line up exactly.
			 * A round overdue by a whole interval (the machine was
			 * suspended) takes the latest aligned instant instead.
			 */
			if (now_ms - stamp >= src->cur_ms)
				stamp = now_ms - now_ms % src->cur_ms;
			(void)sched_run(src, stamp, b);
		}
		d = src->next_due - now_ms;
		if (next == -1 || d < next)
			next = d;
	}
	return next;
}
