/*
 * src_disk.c -- space and inodes of every real filesystem.
 *
 * Filesystems come from <root>/proc/self/mounts; each is measured with
 * statvfs(<root><mount point>), which is also right when the sampler runs
 * in a container with the host's / mounted at root.
 *
 * Skipped, and why:
 *  - pseudo and memory filesystems (proc, sysfs, devtmpfs, tmpfs, cgroup,
 *    ...): no disk behind them; tmpfs is RAM and shows in mem.*;
 *  - squashfs and iso9660: read-only images, always 100 % full;
 *  - network filesystems (nfs, cifs, sshfs, ...): statvfs on a dead server
 *    blocks for minutes, and the sampler must not;
 *  - a block device mounted a second time (bind mounts, btrfs
 *    subvolumes): the first mount point listed names it; the others would
 *    only repeat its numbers.
 * overlay is kept: in a container or on an overlayroot board (Armbian) it
 * is what "/" is, and statvfs reports its upper layer.
 *
 * free_bytes is what an unprivileged user can still write (f_bavail, as
 * df shows); free_pct = f_bavail / (used + f_bavail) like df's "Use%", so
 * the root-reserved blocks count as neither.  inodes_free_pct is left out
 * for filesystems without inode counts (btrfs, vfat report 0).
 *
 * The mount table is read again only when it changed.  Listing it is most
 * of what this source costs the kernel (every mount's options are printed
 * anew), and it changes a few times a day.  An open /proc/self/mounts
 * reports a change to poll() as POLLPRI, which is what findmnt --poll and
 * systemd watch; the descriptor stays open for that, and a zero-timeout
 * poll each round replaces the open, the reads and the close.  A mounts
 * file that is not procfs (a fixture tree) is read every round.
 *
 * Fixture trees: statvfs cannot be faked by files, so when the file
 * <root>/statvfs.txt exists it is used instead of the system call, one
 * line per mount point: "mount frsize blocks bfree bavail files ffree"
 * (mount escaped as in /proc/mounts).  A mount point missing from it
 * fails like a statvfs error.  Real roots never have that file.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "procfs.h"
#include "source.h"

/* Mount points measured per round; a host with more is a container farm
 * and wants a dedicated exporter. */
#define DISK_MAX_MOUNTS	256

static const char *const disk_skip_fs[] = {
	"proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "ramfs", "cgroup",
	"cgroup2", "pstore", "securityfs", "debugfs", "tracefs", "configfs",
	"fusectl", "mqueue", "hugetlbfs", "bpf", "autofs", "binfmt_misc",
	"efivarfs", "rpc_pipefs", "nsfs", "selinuxfs", "squashfs", "iso9660",
	"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "glusterfs",
	"afs", "lustre", NULL,
};

struct disk_statvfs {
	uint64_t	frsize, blocks, bfree, bavail, files, ffree;
};

/* A device name as /proc/mounts lists it ("/dev/mmcblk0p2"). */
typedef char disk_dev[256];

/*
 * The devices seen this round grow from DISK_SEEN_MIN entries (room for a
 * board's SD card and a USB disk or two) up to DISK_MAX_MOUNTS, rather
 * than holding 64 kB for the largest host from the start.
 */
#define DISK_SEEN_MIN	8

struct disk_state {
	struct procfs_buf buf;
	struct procfs_buf fix;		/* statvfs.txt in a fixture tree */
	int		 fixture;
	int		 watch;		/* procfs mounts, polled; or -1 */
	int		 stale;		/* buf failed to load last round */
	disk_dev	*seen;		/* devices this round */
	size_t		 seencap;
};

static int
disk_skip(const char *fs)
{
	size_t	i;

	/* FUSE filesystems are user space and often remote (sshfs), except
	 * fuseblk: ntfs-3g and exfat on a local disk. */
	if (strncmp(fs, "fuse.", 5) == 0)
		return 1;
	for (i = 0; disk_skip_fs[i] != NULL; i++)
		if (strcmp(fs, disk_skip_fs[i]) == 0)
			return 1;
	return 0;
}

/* Undoes /proc/mounts' octal escapes (\040 space, \011, \012, \134). */
static void
disk_unescape(char *s)
{
	char	*o = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
			    (s[3] - '0'));
			s += 4;
		} else
			*o++ = *s++;
	}
	*o = '\0';
}

/*
 * A descriptor that reports changes of the mount table, or -1 when the
 * table must be read every round (not procfs, or no descriptor to spare).
 */
static int
disk_watch_open(const char *root)
{
	struct statfs	 sf;
	char		 path[PROCFS_PATH_MAX];
	int		 fd;

	if (procfs_path(root, "proc/self/mounts", path, sizeof(path)) == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstatfs(fd, &sf) == -1 || sf.f_type != PROC_SUPER_MAGIC) {
		close(fd);
		return -1;
	}
	return fd;
}

/* 1 when the mount table may have changed since it was last read. */
static int
disk_mounts_changed(const struct disk_state *st)
{
	struct pollfd	pfd = { .fd = st->watch, .events = POLLPRI };

	if (st->watch == -1)
		return 1;
	if (poll(&pfd, 1, 0) == -1)
		return 1;
	return (pfd.revents & (POLLPRI | POLLERR | POLLNVAL)) != 0;
}

static int
disk_init(struct source *src, char *err, size_t errlen)
{
	struct disk_state *st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* The watch first: a change after it and before the read below is
	 * then reported at the first round, not lost. */
	st->watch = disk_watch_open(src->root);
	if (procfs_load(&st->buf, src->root, "proc/self/mounts") == -1) {
		snprintf(err, errlen, "%s/proc/self/mounts: %s", src->root,
		    strerror(errno));
		if (st->watch != -1)
			close(st->watch);
		procfs_buf_free(&st->buf);
		free(st);
		return -1;
	}
	st->fixture = procfs_exists(src->root, "statvfs.txt");
	src->priv = st;
	return 0;
}

static void
disk_fini(struct source *src)
{
	struct disk_state *st = src->priv;

	if (st->watch != -1)
		close(st->watch);
	procfs_buf_free(&st->buf);
	procfs_buf_free(&st->fix);
	free(st->seen);
	free(st);
}

/*
 * Remembers dev as seen this round, nseen devices being there already.
 * Returns 1 when it was there, else 0 (also when out of room: a device
 * not remembered is measured again, which only repeats a series).
 */
static int
disk_seen(struct disk_state *st, size_t *nseen, const char *dev)
{
	disk_dev	*n;
	size_t		 i, cap;

	for (i = 0; i < *nseen; i++)
		if (strcmp(st->seen[i], dev) == 0)
			return 1;
	if (*nseen == st->seencap) {
		cap = st->seencap ? st->seencap * 2 : DISK_SEEN_MIN;
		if (cap > DISK_MAX_MOUNTS || (n = reallocarray(st->seen, cap,
		    sizeof(*n))) == NULL)
			return 0;
		st->seen = n;
		st->seencap = cap;
	}
	snprintf(st->seen[(*nseen)++], sizeof(st->seen[0]), "%s", dev);
	return 0;
}

/* mount is the escaped form, as in mounts and statvfs.txt. */
static int
disk_fixture(struct disk_state *st, const char *mount, struct disk_statvfs *v)
{
	const char	*p, *q;
	size_t		 n = strlen(mount);

	for (p = st->fix.p; p != NULL; p = procfs_next_line(p)) {
		if (strncmp(p, mount, n) != 0 || p[n] != ' ')
			continue;
		q = p + n;
		if ((q = procfs_u64(q, &v->frsize)) == NULL ||
		    (q = procfs_u64(q, &v->blocks)) == NULL ||
		    (q = procfs_u64(q, &v->bfree)) == NULL ||
		    (q = procfs_u64(q, &v->bavail)) == NULL ||
		    (q = procfs_u64(q, &v->files)) == NULL ||
		    (q = procfs_u64(q, &v->ffree)) == NULL)
			break;
		return 0;
	}
	errno = ENOENT;
	return -1;
}

static int
disk_stat(struct source *src, const char *mount_esc, const char *mount,
    struct disk_statvfs *v)
{
	struct disk_state *st = src->priv;
	struct statvfs	 sv;
	char		 path[PROCFS_PATH_MAX];

	if (st->fixture)
		return disk_fixture(st, mount_esc, v);
	if (procfs_path(src->root, mount, path, sizeof(path)) == -1 ||
	    statvfs(path, &sv) == -1)
		return -1;
	v->frsize = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
	v->blocks = sv.f_blocks;
	v->bfree = sv.f_bfree;
	v->bavail = sv.f_bavail;
	v->files = sv.f_files;
	v->ffree = sv.f_ffree;
	return 0;
}

static int
disk_read(struct source *src, struct batch *b, int64_t now, char *err,
    size_t errlen)
{
	struct disk_state *st = src->priv;
	struct disk_statvfs v;
	struct label_kv	 l;
	const char	*p, *q;
	char		 dev[256], mnt_esc[1024], mnt[1024], fs[64];
	size_t		 nseen = 0, nmounts = 0, nok = 0;
	uint64_t	 used;

	/* After a failed read the table is read again whatever poll says:
	 * the change it reported has been consumed. */
	if ((st->stale || disk_mounts_changed(st)) &&
	    procfs_load(&st->buf, src->root, "proc/self/mounts") == -1) {
		st->stale = 1;
		snprintf(err, errlen, "%s/proc/self/mounts: %s", src->root,
		    strerror(errno));
		return -1;
	}
	st->stale = 0;
	if (st->fixture && procfs_load(&st->fix, src->root,
	    "statvfs.txt") == -1) {
		snprintf(err, errlen, "%s/statvfs.txt: %s", src->root,
		    strerror(errno));
		return -1;
	}
	for (p = st->buf.p; p != NULL && nmounts < DISK_MAX_MOUNTS;
	    p = procfs_next_line(p)) {
		if ((q = procfs_word(p, "", dev, sizeof(dev))) == NULL ||
		    (q = procfs_word(q, "", mnt_esc, sizeof(mnt_esc))) == NULL ||
		    procfs_word(q, "", fs, sizeof(fs)) == NULL ||
		    disk_skip(fs))
			continue;
		if (strncmp(dev, "/dev/", 5) == 0 &&
		    disk_seen(st, &nseen, dev))
			continue;
		nmounts++;
		snprintf(mnt, sizeof(mnt), "%s", mnt_esc);
		disk_unescape(mnt);
		if (disk_stat(src, mnt_esc, mnt, &v) == -1 || v.blocks == 0)
			continue;	/* vanished since listed, or empty */
		nok++;
		l.k = "mount";
		l.v = mnt;
		used = v.blocks > v.bfree ? v.blocks - v.bfree : 0;
		batch_add(b, "disk.total_bytes", &l, 1, now,
		    (double)v.blocks * (double)v.frsize);
		batch_add(b, "disk.free_bytes", &l, 1, now,
		    (double)v.bavail * (double)v.frsize);
		batch_add(b, "disk.used_bytes", &l, 1, now,
		    (double)used * (double)v.frsize);
		if (used + v.bavail > 0)
			batch_add(b, "disk.free_pct", &l, 1, now, 100.0 *
			    (double)v.bavail / (double)(used + v.bavail));
		if (v.files > 0)
			batch_add(b, "disk.inodes_free_pct", &l, 1, now,
			    100.0 * (double)v.ffree / (double)v.files);
	}
	if (nmounts > 0 && nok == 0) {
		snprintf(err, errlen, "statvfs failed on all %zu filesystems",
		    nmounts);
		return -1;
	}
	return 0;
}

const struct source_ops src_disk_ops = {
	.name = "disk",
	.init = disk_init,
	.read = disk_read,
	.fini = disk_fini,
};
