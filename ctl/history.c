/*
 * history.c -- ternctl's read side of the database: query, series, stats,
 * backup.  Everything here opens the database read-only; the writer keeps
 * running beside it.
 *
 *   ternctl query [-D DEVICE] [--range 24h] [--points N] [--db DB] SERIES
 *     SERIES is a series id, "name" or name{k="v",...}.  Prints one line
 *     per point (ts, avg, min, max, count; gaps as "-"), then a Unicode
 *     sparkline, then the tier, point count and oldest timestamp held.
 *   ternctl series [-D DEVICE] [-n NAME] [-l LABELS] [DB]
 *   ternctl stats [DB]
 *     rows and time span per tier and of raw samples, database and WAL
 *     size, and the writer's commit counters when it answers.
 *   ternctl backup [--db DB] FILE
 *     an online backup (SQLite's backup API) while the writer runs,
 *     checked with PRAGMA integrity_check before it is reported done.
 */
#include <sys/stat.h>

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clock.h"
#include "ctl.h"
#include "query.h"


static void
fmt_ts(int64_t ms, char *buf, size_t len)
{
	time_t		t = (time_t)(ms / 1000);
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Prints the points as a sparkline; gaps are spaces. */
static void
sparkline(const struct query_result *r)
{
	static const char *const bars[] = { "▁", "▂", "▃", "▄", "▅", "▆",
	    "▇", "█" };
	double	lo = INFINITY, hi = -INFINITY;
	size_t	i;
	int	k;

	for (i = 0; i < r->n; i++)
		if (r->pts[i].count > 0 && isfinite(r->pts[i].avg)) {
			if (r->pts[i].avg < lo)
				lo = r->pts[i].avg;
			if (r->pts[i].avg > hi)
				hi = r->pts[i].avg;
		}
	for (i = 0; i < r->n; i++) {
		if (r->pts[i].count == 0 || !isfinite(r->pts[i].avg)) {
			fputs(" ", stdout);
			continue;
		}
		k = hi > lo ? (int)((r->pts[i].avg - lo) / (hi - lo) * 7.0 +
		    0.5) : 3;
		fputs(bars[k < 0 ? 0 : k > 7 ? 7 : k], stdout);
	}
	putchar('\n');
}

int
ctl_query(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "range", required_argument, NULL, 'r' },
		{ "points", required_argument, NULL, 'p' },
		{ "db", required_argument, NULL, 'b' },
		{ "device", required_argument, NULL, 'D' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct query		*q;
	struct query_result	 r;
	const char		*db = ctl->conf.writer.database;
	const char		*device = ctl->conf.device;
	char			 err[512], t1[32], *end;
	int64_t			 range = 3600 * 1000, id, now;
	size_t			 points = 60, i;
	int			 ch, quiet = 0;

	while ((ch = getopt_long(argc, argv, "r:p:b:D:q", longopts, NULL))
	    != -1) {
		switch (ch) {
		case 'r':
			if (conf_parse_duration_ms(optarg, &range) == -1 ||
			    range <= 0) {
				fprintf(stderr, "ternctl query: bad range "
				    "'%s' (e.g. 1h, 24h, 7d)\n", optarg);
				return 2;
			}
			break;
		case 'p':
			points = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			db = optarg;
			break;
		case 'D':
			device = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: ternctl query [--range 24h] [--points N] "
		    "[--db DB] [-D DEVICE] SERIES\n");
		return 2;
	}
	if ((q = query_open(db, &ctl->conf.writer, err, sizeof(err))) == NULL) {
		fprintf(stderr, "ternctl query: %s\n", err);
		return 1;
	}
	id = strtoll(argv[optind], &end, 10);
	if (*end != '\0' || id <= 0)
		id = query_find(q, device, argv[optind], err, sizeof(err));
	if (id <= 0) {
		fprintf(stderr, "ternctl query: %s\n", id < 0 ? err :
		    "no such series on this device");
		query_close(q);
		return 1;
	}
	memset(&r, 0, sizeof(r));
	now = clock_wall_ms();
	if (query_range(q, id, now - range, now, points, &r, err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "ternctl query: %s\n", err);
		query_close(q);
		return 1;
	}
	for (i = 0; i < r.n && !quiet; i++) {
		fmt_ts(r.pts[i].ts, t1, sizeof(t1));
		if (r.pts[i].count == 0)
			printf("%s\t-\n", t1);
		else
			printf("%s\t%.6g\t%.6g\t%.6g\t%" PRId64 "\n", t1,
			    r.pts[i].avg, r.pts[i].min, r.pts[i].max,
			    r.pts[i].count);
	}
	sparkline(&r);
	fmt_ts(r.oldest_ts, t1, sizeof(t1));
	printf("tier %s, %zu points (%zu with data), step %" PRId64 " ms, "
	    "oldest held %s\n", r.tier, r.n, r.present, r.step_ms,
	    r.oldest_ts ? t1 : "-");
	query_result_free(&r);
	query_close(q);
	return 0;
}

static void
print_series(const struct query_series *s, void *arg)
{
	printf("%" PRId64 "\t%s\t%s%s%s%s\n", s->id, s->device, s->name,
	    s->labels[0] ? "{" : "", s->labels, s->labels[0] ? "}" : "");
}

int
ctl_series(struct ctl *ctl, int argc, char **argv)
{
	struct query	*q;
	const char	*db = ctl->conf.writer.database;
	const char	*device = NULL, *name = NULL, *labels = NULL;
	char		 err[512];
	int		 ch;
	long		 n;

	while ((ch = getopt(argc, argv, "D:n:l:")) != -1) {
		switch (ch) {
		case 'D':
			device = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'l':
			labels = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind < argc)
		db = argv[optind];
	if ((q = query_open(db, &ctl->conf.writer, err, sizeof(err))) == NULL) {
		fprintf(stderr, "ternctl series: %s\n", err);
		return 1;
	}
	n = query_list(q, device, name, labels, print_series, NULL, err,
	    sizeof(err));
	query_close(q);
	if (n < 0) {
		fprintf(stderr, "ternctl series: %s\n", err);
		return 1;
	}
	return 0;
}

static int64_t
file_size(const char *path)
{
	struct stat	st;

	return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* Prints one "what rows span" line from a (count, min, max) query. */
static void
stats_line(sqlite3 *db, const char *what, const char *sql, int64_t arg)
{
	sqlite3_stmt	*st;
	char		 a[32], b[32];

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, arg);
	if (sqlite3_step(st) == SQLITE_ROW) {
		int64_t	rows = sqlite3_column_int64(st, 0);
		int64_t	samples = sqlite3_column_int64(st, 1);

		if (rows > 0) {
			fmt_ts(sqlite3_column_int64(st, 2), a, sizeof(a));
			fmt_ts(sqlite3_column_int64(st, 3), b, sizeof(b));
		}
		printf("%-10s %10" PRId64 " rows %12" PRId64 " samples  %s .. "
		    "%s\n", what, rows, samples, rows ? a : "-", rows ? b : "-");
	}
	sqlite3_finalize(st);
}

int
ctl_stats(struct ctl *ctl, int argc, char **argv)
{
	sqlite3		*db = NULL;
	const char	*path = ctl->conf.writer.database;
	char		 wal[4200];
	uint32_t	 i;

	if (argc > 1)
		path = argv[1];
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "ternctl stats: %s: %s\n", path,
		    db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return 1;
	}
	stats_line(db, "raw", "SELECT count(*), coalesce(sum(n), 0), min(t0), "
	    "max(t1) FROM (SELECT n, t0, t1 FROM head UNION ALL SELECT n, t0, "
	    "t1 FROM chunk)", 0);
	for (i = 0; i < ctl->conf.writer.ntiers; i++)
		stats_line(db, ctl->conf.writer.tiers[i].name, "SELECT count(*), "
		    "coalesce(sum(count), 0), min(bucket), max(bucket) FROM tier "
		    "WHERE tier = ?1", ctl->conf.writer.tiers[i].bucket_ms);
	stats_line(db, "pending", "SELECT count(*), coalesce(sum(n), 0), "
	    "min(t0), max(t1) FROM head WHERE up = 0", 0);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	printf("database   %" PRId64 " bytes\nwal        %" PRId64 " bytes\n",
	    file_size(path), file_size(wal));
	sqlite3_close(db);
	/* The write rate comes from the writer itself, if it runs. */
	printf("writer:\n");
	fflush(stdout);
	{
		char	 name[] = "status";
		char	*sargv[] = { name, NULL };

		if (ctl_status(ctl, 1, sargv) != 0)
			printf("  (not answering)\n");
	}
	return 0;
}

int
ctl_backup(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	sqlite3		*src = NULL, *dst = NULL;
	sqlite3_backup	*bk;
	sqlite3_stmt	*st;
	const char	*path = ctl->conf.writer.database;
	int		 ch, rc = 1, step;

	while ((ch = getopt_long(argc, argv, "b:", longopts, NULL)) != -1) {
		if (ch != 'b')
			return 2;
		path = optarg;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: ternctl backup [--db DB] FILE\n");
		return 2;
	}
	if (access(argv[optind], F_OK) == 0) {
		fprintf(stderr, "ternctl backup: %s exists; not overwriting\n",
		    argv[optind]);
		return 1;
	}
	if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK ||
	    sqlite3_open(argv[optind], &dst) != SQLITE_OK) {
		fprintf(stderr, "ternctl backup: %s\n", src ?
		    sqlite3_errmsg(dst ? dst : src) : "cannot open");
		goto done;
	}
	sqlite3_busy_timeout(src, 5000);
	if ((bk = sqlite3_backup_init(dst, "main", src, "main")) == NULL) {
		fprintf(stderr, "ternctl backup: %s\n", sqlite3_errmsg(dst));
		goto done;
	}
	/*
	 * Copy in steps of 1024 pages.  In WAL mode the source's read
	 * transaction is a snapshot, so the writer goes on committing while
	 * we copy; a step that sees the database changed restarts, which is
	 * why the steps are small.
	 */
	while ((step = sqlite3_backup_step(bk, 1024)) == SQLITE_OK ||
	    step == SQLITE_BUSY || step == SQLITE_LOCKED)
		if (step != SQLITE_OK)
			usleep(10000);
	sqlite3_backup_finish(bk);
	if (step != SQLITE_DONE) {
		fprintf(stderr, "ternctl backup: %s\n", sqlite3_errstr(step));
		goto done;
	}
	if (sqlite3_prepare_v2(dst, "PRAGMA integrity_check", -1, &st, NULL)
	    == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0) {
		printf("%s: backup of %s, %" PRId64 " bytes, integrity ok\n",
		    argv[optind], path, file_size(argv[optind]));
		rc = 0;
	} else
		fprintf(stderr, "ternctl backup: %s failed integrity_check\n",
		    argv[optind]);
	sqlite3_finalize(st);
done:
	sqlite3_close(src);
	sqlite3_close(dst);
	return rc;
}
