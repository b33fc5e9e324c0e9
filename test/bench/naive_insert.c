/*
 * naive_insert.c -- the reference the ingest benchmark is measured against:
 * the same synthetic samples the load generator produces, inserted one row
 * per sample into a plain SQLite table, the way a first version of tern
 * would store them.
 *
 *	naive_insert DBFILE [NSERIES [NSAMPLES]]
 *
 * DBFILE must not exist or be empty (mktemp's file is fine): a table that
 * already holds rows would measure something else.  It should be on a real
 * disk, since /proc/self/io counts no write bytes for tmpfs.  Prints on
 * stdout, and nothing else there:
 *
 *	BENCH ingest.naive_samples_per_s <value> samples/s
 *	BENCH ingest.naive_write_bytes_per_sample <value> bytes
 *	BENCH storage.naive_bytes_per_sample <value> bytes
 *
 * Exit status 0, or 1 with a message on stderr.
 *
 * The connection is set up as the writer sets up its own (WAL, synchronous
 * FULL as the writer's default -- or the SYNC argument, to match a writer
 * configured otherwise -- no mmap, a 16 MiB journal size limit, the default autocheckpoint
 * of 1000 pages and page size of 4096, a 5 s busy timeout), and rows are
 * committed in batches of 1000 through one prepared statement, so the
 * difference the benchmark shows is the storage layout, not the care taken
 * with SQLite.
 *
 * The rate covers the inserts and their commits, including the automatic
 * checkpoints that happen along the way, but not the final checkpoint:
 * that keeps the reference's figure as good as it honestly can be.  The
 * write bytes do include the final PRAGMA wal_checkpoint(TRUNCATE), because
 * every page must reach the database file eventually.
 *
 * This file uses only libc, libm and SQLite, so it builds alone and also
 * when the Makefile links it against the project's libraries.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#define DEFAULT_SERIES	1020
#define DEFAULT_SAMPLES	2000000

/* The load generator's epoch (ms) and interval between rounds (ms). */
#define T0_MS		1700000000000LL
#define INTERVAL_MS	1000

/* Rows per transaction, as the writer batches them. */
#define BATCH		1000

static const char *const setup_sql =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA mmap_size=0;"
    "PRAGMA journal_size_limit=16777216;"
    "CREATE TABLE samples(series INTEGER, ts INTEGER, value REAL,"
    " PRIMARY KEY(series, ts)) WITHOUT ROWID;";

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/*
 * A field of /proc/self/io, or -1 where the kernel does not provide it.
 * write_bytes counts the bytes this process caused to be sent to the block
 * layer (a page is counted when it becomes dirty, so rewriting a page that
 * is still dirty is free); cancelled_write_bytes counts those dropped again
 * because their file was truncated before writeback.
 */
static long long
proc_io(const char *field)
{
	FILE		*f;
	char		 line[128];
	size_t		 len = strlen(field);
	long long	 v = -1;

	if ((f = fopen("/proc/self/io", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			if (sscanf(line + len + 1, "%lld", &v) != 1)
				v = -1;
			break;
		}
	fclose(f);
	return v;
}

/* The size of path in bytes, 0 if it does not exist, -1 on error. */
static long long
file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	return (long long)st.st_size;
}

static int
parse_count(const char *s, long long *out)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0)
		return -1;
	*out = v;
	return 0;
}

/* The sample the load generator produces for series s in round k. */
static double
sample_value(long long k, long long s)
{
	return round((50.0 + 20.0 * sin((double)(k + s) / 30.0)) * 100.0) /
	    100.0;
}

static int
exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "naive_insert: %s: %s\n", sql,
		    msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char	*path;
	sqlite3		*db = NULL;
	sqlite3_stmt	*ins = NULL;
	long long	 nseries = DEFAULT_SERIES, nsamples = DEFAULT_SAMPLES;
	long long	 done = 0, wb0, wb1, cb0, cb1, size, wal;
	char		 walpath[4096];
	double		 t0, elapsed;
	int		 rc = 1;

	const char	*sync = "FULL";
	char		 syncsql[64];

	if (argc == 5)
		sync = argv[4];
	if (strcasecmp(sync, "off") != 0 && strcasecmp(sync, "normal") != 0 &&
	    strcasecmp(sync, "full") != 0) {
		fprintf(stderr, "naive_insert: SYNC is off, normal or full\n");
		return 1;
	}
	if (argc < 2 || argc > 5 ||
	    (argc > 2 && parse_count(argv[2], &nseries) == -1) ||
	    (argc > 3 && parse_count(argv[3], &nsamples) == -1)) {
		fprintf(stderr, "usage: naive_insert DBFILE [NSERIES "
		    "[NSAMPLES [SYNC]]]\n");
		return 1;
	}
	path = argv[1];
	if (file_size(path) != 0) {
		fprintf(stderr, "naive_insert: %s exists and is not empty; "
		    "the benchmark needs a fresh database\n", path);
		return 1;
	}
	if ((size_t)snprintf(walpath, sizeof(walpath), "%s-wal", path) >=
	    sizeof(walpath)) {
		fprintf(stderr, "naive_insert: %s: path too long\n", path);
		return 1;
	}

	wb0 = proc_io("write_bytes");
	cb0 = proc_io("cancelled_write_bytes");
	if (sqlite3_open(path, &db) != SQLITE_OK) {
		fprintf(stderr, "naive_insert: %s: %s\n", path,
		    db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, 5000);
	snprintf(syncsql, sizeof(syncsql), "PRAGMA synchronous=%s;", sync);
	if (exec(db, syncsql) == -1 || exec(db, setup_sql) == -1)
		goto out;
	if (sqlite3_prepare_v2(db, "INSERT INTO samples(series, ts, value) "
	    "VALUES (?, ?, ?)", -1, &ins, NULL) != SQLITE_OK) {
		fprintf(stderr, "naive_insert: prepare: %s\n",
		    sqlite3_errmsg(db));
		goto out;
	}

	/*
	 * Round k brings one sample from every series, in series order: the
	 * order in which a fleet's devices report, so consecutive rows land
	 * in different parts of the (series, ts) B-tree.  Series s is stored
	 * under id s + 1, as the writer's series ids are rowids from 1.
	 */
	t0 = now();
	for (long long k = 0; done < nsamples; k++) {
		for (long long s = 0; s < nseries && done < nsamples; s++) {
			if (done % BATCH == 0 && exec(db, "BEGIN") == -1)
				goto out;
			sqlite3_bind_int64(ins, 1, s + 1);
			sqlite3_bind_int64(ins, 2, T0_MS + k * INTERVAL_MS);
			sqlite3_bind_double(ins, 3, sample_value(k, s));
			if (sqlite3_step(ins) != SQLITE_DONE) {
				fprintf(stderr, "naive_insert: insert: %s\n",
				    sqlite3_errmsg(db));
				goto out;
			}
			sqlite3_reset(ins);
			done++;
			if ((done % BATCH == 0 || done == nsamples) &&
			    exec(db, "COMMIT") == -1)
				goto out;
		}
	}
	elapsed = now() - t0;

	if (exec(db, "PRAGMA wal_checkpoint(TRUNCATE)") == -1)
		goto out;
	sqlite3_finalize(ins);
	ins = NULL;
	if (sqlite3_close(db) != SQLITE_OK) {
		fprintf(stderr, "naive_insert: close: %s\n",
		    sqlite3_errmsg(db));
		goto out;
	}
	db = NULL;
	wb1 = proc_io("write_bytes");
	cb1 = proc_io("cancelled_write_bytes");
	size = file_size(path);
	wal = file_size(walpath);
	if (size == -1 || wal == -1) {
		fprintf(stderr, "naive_insert: %s: %s\n", path,
		    strerror(errno));
		goto out;
	}

	/* For the person reading the log; stdout carries only BENCH lines. */
	if (wb0 != -1 && wb1 == wb0)
		fprintf(stderr, "naive_insert: write_bytes did not move; is %s "
		    "on tmpfs?\n", path);
	fprintf(stderr, "naive_insert: %lld samples of %lld series in %.2f s; "
	    "write_bytes %lld, cancelled_write_bytes %lld, file %lld bytes\n",
	    done, nseries, elapsed, wb0 == -1 || wb1 == -1 ? -1 : wb1 - wb0,
	    cb0 == -1 || cb1 == -1 ? -1 : cb1 - cb0, size + wal);
	printf("BENCH ingest.naive_samples_per_s %.0f samples/s\n",
	    (double)done / elapsed);
	if (wb0 == -1 || wb1 == -1)
		printf("BENCH ingest.naive_write_bytes_per_sample -1 bytes\n");
	else
		printf("BENCH ingest.naive_write_bytes_per_sample %.1f bytes\n",
		    (double)(wb1 - wb0) / (double)done);
	printf("BENCH storage.naive_bytes_per_sample %.1f bytes\n",
	    (double)(size + wal) / (double)done);
	rc = 0;
out:
	sqlite3_finalize(ins);
	sqlite3_close(db);
	return rc;
}
