/*
 * dbfix.h -- helpers for the tests that look into a store's SQLite file.
 */
#ifndef TERN_DBFIX_H
#define TERN_DBFIX_H

#include <sqlite3.h>
#include <stdint.h>

#include "store.h"

/* The first column of the first row of sql, as an integer; -1 on error. */
static inline int64_t
count_of(struct store *s, const char *sql)
{
	sqlite3_stmt	*st;
	int64_t		 n = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

#endif
