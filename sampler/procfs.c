/*
 * procfs.c -- see procfs.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

int
procfs_path(const char *root, const char *rel, char *out, size_t size)
{
	size_t	rn = strlen(root), ln;

	/* "/" + "proc/stat" must not become "//proc/stat" (harmless) nor
	 * "root" + "proc" become "rootproc" (wrong).  memcpy, not snprintf:
	 * this runs for every file of every round. */
	while (rn > 0 && root[rn - 1] == '/')
		rn--;
	while (*rel == '/')
		rel++;
	ln = strlen(rel);
	if (rn + 1 + ln >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(out, root, rn);
	out[rn] = '/';
	memcpy(out + rn + 1, rel, ln + 1);
	return 0;
}

int
procfs_read_path(const char *path, char *buf, size_t size, size_t *len)
{
	size_t	off = 0;
	ssize_t	r;
	int	fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	/* /proc files come in page-sized pieces: read until EOF. */
	for (;;) {
		if (off + 1 >= size) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
		r = read(fd, buf + off, size - 1 - off);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		if (r == 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	buf[off] = '\0';
	*len = off;
	return 0;
}

int
procfs_read(const char *root, const char *rel, char *buf, size_t size,
    size_t *len)
{
	char	path[PROCFS_PATH_MAX];

	if (procfs_path(root, rel, path, sizeof(path)) == -1)
		return -1;
	return procfs_read_path(path, buf, size, len);
}

int
procfs_load_path(struct procfs_buf *b, const char *path)
{
	char	*np;
	size_t	 n;

	for (;;) {
		if (b->size == 0) {
			if ((b->p = malloc(4096)) == NULL)
				return -1;
			b->size = 4096;
		}
		if (procfs_read_path(path, b->p, b->size, &b->len) == 0)
			return 0;
		if (errno != EFBIG || b->size >= PROCFS_BUF)
			return -1;
		n = b->size * 2;
		if ((np = realloc(b->p, n)) == NULL)
			return -1;
		b->p = np;
		b->size = n;
	}
}

int
procfs_load(struct procfs_buf *b, const char *root, const char *rel)
{
	char	path[PROCFS_PATH_MAX];

	if (procfs_path(root, rel, path, sizeof(path)) == -1)
		return -1;
	return procfs_load_path(b, path);
}

/* procfs_load_round's one entry: which file it holds and for which round
 * (INT64_MIN: none, the last read failed). */
static struct {
	struct procfs_buf buf;
	char		*path;
	int64_t		 stamp;
} shared;

const struct procfs_buf *
procfs_load_round(const char *root, const char *rel, int64_t stamp)
{
	char	path[PROCFS_PATH_MAX];

	if (procfs_path(root, rel, path, sizeof(path)) == -1)
		return NULL;
	if (shared.path == NULL || strcmp(shared.path, path) != 0) {
		free(shared.path);
		shared.stamp = INT64_MIN;
		if ((shared.path = strdup(path)) == NULL)
			return NULL;
	} else if (stamp != INT64_MIN && shared.stamp == stamp)
		return &shared.buf;
	shared.stamp = INT64_MIN;
	if (procfs_load_path(&shared.buf, path) == -1)
		return NULL;
	shared.stamp = stamp;
	return &shared.buf;
}

void
procfs_round_free(void)
{
	free(shared.path);
	shared.path = NULL;
	procfs_buf_free(&shared.buf);
}

void
procfs_buf_free(struct procfs_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->size = b->len = 0;
}

int
procfs_exists(const char *root, const char *rel)
{
	char	path[PROCFS_PATH_MAX];

	if (procfs_path(root, rel, path, sizeof(path)) == -1)
		return 0;
	return access(path, F_OK) == 0;
}

static const char *
blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

const char *
procfs_u64(const char *p, uint64_t *v)
{
	uint64_t	n = 0;

	p = blanks(p);
	if (*p < '0' || *p > '9')
		return NULL;
	while (*p >= '0' && *p <= '9')
		n = n * 10 + (uint64_t)(*p++ - '0');	/* wraps like the kernel's */
	*v = n;
	return p;
}

const char *
procfs_i64(const char *p, int64_t *v)
{
	uint64_t	u;
	int		neg = 0;

	p = blanks(p);
	if (*p == '-') {
		neg = 1;
		p++;
	}
	if ((p = procfs_u64(p, &u)) == NULL || u > INT64_MAX)
		return NULL;
	*v = neg ? -(int64_t)u : (int64_t)u;
	return p;
}

const char *
procfs_dec(const char *p, double *v)
{
	uint64_t	ip;
	double		f = 0, scale = 1;
	int		neg = 0;

	p = blanks(p);
	if (*p == '-') {
		neg = 1;
		p++;
	}
	if ((p = procfs_u64(p, &ip)) == NULL)
		return NULL;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			f = f * 10 + (*p++ - '0');
			scale *= 10;
		}
	}
	*v = ((double)ip + f / scale) * (neg ? -1 : 1);
	return p;
}

const char *
procfs_skip(const char *p)
{
	p = blanks(p);
	if (*p == '\0' || *p == '\n')
		return NULL;
	while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n')
		p++;
	return p;
}

const char *
procfs_next_line(const char *p)
{
	if ((p = strchr(p, '\n')) == NULL || p[1] == '\0')
		return NULL;
	return p + 1;
}

const char *
procfs_word(const char *p, const char *stop, char *out, size_t size)
{
	size_t	n = 0;

	p = blanks(p);
	while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' &&
	    strchr(stop, *p) == NULL) {
		if (n + 1 < size)
			out[n++] = *p;
		p++;
	}
	if (size)
		out[n] = '\0';
	return n ? p : NULL;
}
