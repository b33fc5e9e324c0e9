/*
 * series.h -- interning (device, metric name, sorted labels) as integer ids.
 *
 * The writer keeps every series it knows in memory: a hash table from the
 * canonical key to a struct series, and an array by id.  A fleet's central
 * writer holds tens of thousands of series; each costs about 100 bytes plus
 * its key, so memory stays in the low megabytes.
 *
 * The canonical form of labels is k="v",k2="v2" with keys sorted and values
 * escaped as in Prometheus' text format (\\, \", \n).  It is what the series
 * table stores and what queries match, so two producers that send the same
 * labels in a different order share a series.
 */
#ifndef TERN_SERIES_H
#define TERN_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "body.h"

/* A series key (device, name, labels text) is at most this long. */
#define SERIES_KEY_MAX	8192
/* Rollup tiers a series keeps a watermark for (conf.h's CONF_MAX_TIERS). */
#define SERIES_MAX_TIERS	8

struct series {
	int64_t		 id;
	int64_t		 last_ts;	/* newest committed ts, INT64_MIN */
	int		 persisted;	/* its row is in the series table */
	uint64_t	 hash;
	const char	*device;	/* all three point into key */
	const char	*name;
	const char	*labels;
	/* Scratch for the writer's flush: samples of this series pending. */
	uint32_t	 npend, pend_off;
	/* Scratch for upload.c: index in the batch being built, valid when
	 * up_gen equals that batch's generation. */
	uint32_t	 up_gen, up_idx;
	/* rollup.c: the finest-tier bucket last marked dirty (INT64_MIN:
	 * none), so a flush marks each bucket once, not once per sample. */
	int64_t		 dirty_bucket;
	/* rollup.c: per tier, every sample before this is rolled up
	 * (INT64_MIN: the tier has not run for this series). */
	int64_t		 rolled[SERIES_MAX_TIERS];
	size_t		 keylen;
	char		 key[];		/* device\0name\0labels\0 */
};

struct series_table {
	struct series	**slots;	/* open addressing, power of two */
	size_t		  cap, n;
	struct series	**byid;		/* index = id; NULL for holes */
	size_t		  byid_cap;
	int64_t		  max_id;
};

void	series_table_init(struct series_table *);
/* Frees every series; the table can be reused after series_table_init. */
void	series_table_free(struct series_table *);

/*
 * Returns the series for (device, ref), creating it with the next id if it
 * is new (persisted 0: the caller stores its row).  Validates the name and
 * labels: returns NULL with a reason in err for an empty or badly formed
 * name, a bad label key, or a label key given twice.
 */
struct series	*series_intern(struct series_table *, struct pstr device,
		    const struct series_ref *ref, char *err, size_t errlen);

/*
 * Adds a series loaded from the database (persisted 1).  Returns it, or
 * NULL on allocation failure.
 */
struct series	*series_add_loaded(struct series_table *, int64_t id,
		    const char *device, const char *name, const char *labels);

/* The series with this id, or NULL. */
struct series	*series_by_id(const struct series_table *, int64_t id);

/*
 * Canonical labels text for ref into out (NUL-terminated).  Returns the
 * length, or -1 with a reason when a label is invalid or out is too small.
 * Exposed for queries that look a series up by labels.
 */
int		 series_labels_text(const struct series_ref *ref, char *out,
		    size_t outlen, char *err, size_t errlen);

/*
 * Splits canonical labels text back into pairs: keys and unescaped values
 * are copied NUL-terminated into buf, and out[i] points into it.  Returns
 * the number of labels, or -1 if text is malformed or does not fit.
 */
int		 series_labels_parse(const char *text, struct label *out,
		    size_t max, char *buf, size_t buflen);

#endif
