/*
 * procfs.h -- reading /proc and /sys files under the sampler's root, and
 * the small number scanners the sources parse them with.
 *
 * Cost matters here: the sampler runs every second on boards where
 * collectd's own CPU use shows.  A file is read with open and read()s into
 * a buffer the caller reuses (no stdio, no allocation), and parsed in
 * place.  Files are reopened on every read rather than kept open: a kept
 * descriptor saves one open per file and second, but /proc files of
 * devices that come and go (hwmon on USB, network namespaces) would go
 * stale, and a reopen costs microseconds.  The one descriptor kept is
 * the disk source's on /proc/self/mounts, which reports changes to poll()
 * (src_disk.c).
 */
#ifndef TERN_PROCFS_H
#define TERN_PROCFS_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* Big enough for /proc/stat of a 256-core machine (its "intr" line is the
 * bulk) and for /proc/self/mounts of a container host. */
#define PROCFS_BUF	(128 * 1024)

/*
 * Room for root + "/" + rel, NUL included: root is at most CONF_PATH_MAX - 1
 * bytes (the loader refuses longer), and rel is a /proc or /sys path, or
 * a mount point from /proc/mounts (src_disk.c keeps those under 1024).
 * Not PATH_MAX: these buffers are on the stack of every round, and the
 * deepest of them decides how much of the sampler's stack is resident.
 */
#define PROCFS_PATH_MAX	(CONF_PATH_MAX + 1024)

/*
 * Writes root + "/" + rel into out.  rel has no leading slash
 * ("proc/stat").  Returns 0, or -1 with errno ENAMETOOLONG.
 */
int	procfs_path(const char *root, const char *rel, char *out, size_t size);

/*
 * Reads all of root/rel into buf (size bytes, NUL-terminated, so at most
 * size-1 bytes of content) and sets *len.  Returns 0, or -1 with errno set:
 * ENOENT and friends from open, EFBIG when the file does not fit (a cut
 * file would be misparsed, so it is an error).
 */
int	procfs_read(const char *root, const char *rel, char *buf, size_t size,
	    size_t *len);

/* The same for an absolute path. */
int	procfs_read_path(const char *path, char *buf, size_t size, size_t *len);

/*
 * A read buffer a source keeps between rounds.  It starts small and
 * doubles, up to PROCFS_BUF, when a file does not fit, so a board's
 * sampler stays small while a big server's /proc/stat still fits.
 * Zero-initialise; procfs_buf_free releases it.
 */
struct procfs_buf {
	char	*p;
	size_t	 size, len;
};
/* Reads root/rel into b->p (NUL-terminated, length b->len): 0 or -1 with
 * errno. */
int	procfs_load(struct procfs_buf *b, const char *root, const char *rel);
int	procfs_load_path(struct procfs_buf *b, const char *path);
void	procfs_buf_free(struct procfs_buf *b);

/*
 * The same file read once for every source that reads it at one round's
 * stamp: /proc/stat feeds both cpu and load, and it is the costliest file
 * of a round for the kernel to print (it sums every interrupt line).
 * Returns a buffer shared by all callers, valid until the next call, or
 * NULL with errno.  A stamp of INT64_MIN always reads.
 */
const struct procfs_buf *procfs_load_round(const char *root, const char *rel,
	    int64_t stamp);
/* Releases the shared buffer (at exit). */
void	procfs_round_free(void);

/* 1 when root/rel exists, 0 otherwise. */
int	procfs_exists(const char *root, const char *rel);

/*
 * Scanners.  Each skips blanks (spaces and tabs, not newlines), parses one
 * token and returns the position after it, or NULL when the token is not
 * what was asked for.
 */
const char *procfs_u64(const char *p, uint64_t *v);
const char *procfs_i64(const char *p, int64_t *v);
/* A decimal like "0.15" or "12"; no exponent (the kernel prints none). */
const char *procfs_dec(const char *p, double *v);
/* Skips one blank-separated token. */
const char *procfs_skip(const char *p);
/* The start of the next line, or NULL at the end of the buffer. */
const char *procfs_next_line(const char *p);
/* Copies one token (stopping at a blank, newline or any of stop) into out,
 * cut at size-1; returns the position after it or NULL for an empty one. */
const char *procfs_word(const char *p, const char *stop, char *out,
	    size_t size);

#endif
