/*
 * read.h -- reading raw samples back, on any connection.
 *
 * The module any tern process uses to read one series: the writer on its
 * own connection, ternctl and the receiver's queries on read-only ones
 * (WAL lets them read beside the writer without blocking it).  The queries
 * built by later issues (tiers, sparklines) start here.
 */
#ifndef TERN_READ_H
#define TERN_READ_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct raw_reader;

/* Samples in ascending ts order; arrays owned by the result. */
struct raw_result {
	int64_t	*ts;
	double	*v;
	size_t	 n, cap;
};

/*
 * Opens path read-only.  Returns NULL with a reason in err if the file
 * does not exist or is not a tern database.
 */
struct raw_reader	*raw_open(const char *path, char *err, size_t errlen);
/* Uses an existing connection, which stays the caller's. */
struct raw_reader	*raw_wrap(sqlite3 *db, char *err, size_t errlen);
/* Accepts NULL. */
void			 raw_close(struct raw_reader *);

/*
 * Reads the samples of series with from <= ts <= to into out (replacing
 * its contents).  If max > 0, only the newest max of them are returned,
 * and only as many chunks as that needs are decoded.  The read happens in
 * one transaction, so a compaction running beside it is invisible.
 * Returns the number of samples, or -1 with a reason in err.
 */
long	raw_read(struct raw_reader *, int64_t series, int64_t from,
	    int64_t to, size_t max, struct raw_result *out, char *err,
	    size_t errlen);

/*
 * The id of the series (device, name, labels in canonical text), 0 if it
 * does not exist, -1 on error.
 */
int64_t	raw_series_id(struct raw_reader *, const char *device,
	    const char *name, const char *labels, char *err, size_t errlen);

void	raw_result_free(struct raw_result *);

#endif
