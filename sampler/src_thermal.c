/*
 * src_thermal.c -- temperatures from /sys/class/thermal and hwmon.
 *
 * Thermal zones: thermal_zone<N>/temp in millidegrees Celsius, labelled
 * zone=<contents of thermal_zone<N>/type> ("cpu-thermal", "x86_pkg_temp").
 * hwmon: hwmon<N>/temp<M>_input, labelled chip=<hwmon<N>/name> and
 * sensor=<temp<M>_label> (or "temp<M>" when there is no label).  Where two
 * zones or chips share a name, the later ones get "_<N>" appended so that
 * every series stays distinct.
 *
 * A hwmon chip whose name is a thermal zone's type with '-' read as '_'
 * is the same sensor exported twice (thermal_hwmon does that on most ARM
 * boards: zone "cpu-thermal", hwmon "cpu_thermal") and is skipped.
 *
 * cpu.temperature, the name seed 003's users query, is one of these
 * sensors: the lowest-numbered zone whose type mentions cpu, soc or
 * x86_pkg; else the first input of a coretemp, k10temp or zenpower chip;
 * else thermal_zone0 (what the seed's own collector read).
 *
 * Sensors are listed once at init: they belong to the hardware.  A
 * sensor whose read fails (some return EAGAIN or ENODATA while their
 * device sleeps) or whose value is outside THERMAL_MIN..THERMAL_MAX (a
 * driver's "no reading" sentinel) is skipped for the round; the source
 * fails only when no sensor could be read.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "procfs.h"
#include "source.h"

#define THERMAL_MAX_SENSORS	128
/* The sensor table grows from this many (a board has one to four) up to
 * THERMAL_MAX_SENSORS, rather than holding 80 kB from the start. */
#define THERMAL_MIN_SENSORS	4
#define THERMAL_MIN		-100.0	/* °C; colder is a sentinel */
#define THERMAL_MAX		250.0	/* °C; hotter is a sentinel */

struct tsensor {
	char	path[512];
	char	a[64];		/* zone type or chip name */
	char	s[64];		/* hwmon sensor label; "" for a zone */
	int	zone;		/* 1: thermal zone, 0: hwmon */
};

struct thermal_state {
	struct tsensor	*v;
	size_t		 n, cap;
	int		 cpu;	/* index of cpu.temperature's sensor or -1 */
};

static int
cmp_int(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The numbers N of the entries "<prefix>N" of dir, sorted; at most max. */
static size_t
thermal_list(const char *dir, const char *prefix, int *out, size_t max)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 n = 0, pl = strlen(prefix);
	char		*end;
	long		 v;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		if (strncmp(de->d_name, prefix, pl) != 0)
			continue;
		v = strtol(de->d_name + pl, &end, 10);
		if (end == de->d_name + pl || *end != '\0' || v < 0 ||
		    v > 1000000)
			continue;
		out[n++] = (int)v;
	}
	closedir(d);
	qsort(out, n, sizeof(*out), cmp_int);
	return n;
}

/* Reads a one-line sysfs file into out without the newline. */
static int
thermal_line(const char *path, char *out, size_t size)
{
	size_t	len;

	if (procfs_read_path(path, out, size, &len) == -1)
		return -1;
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' '))
		out[--len] = '\0';
	return len > 0 ? 0 : -1;
}

static int
thermal_read_c(const char *path, double *c)
{
	char	buf[64];
	size_t	len;
	int64_t	v;

	if (procfs_read_path(path, buf, sizeof(buf), &len) == -1)
		return -1;
	if (procfs_i64(buf, &v) == NULL) {
		errno = EINVAL;
		return -1;
	}
	*c = (double)v / 1000.0;
	if (*c < THERMAL_MIN || *c > THERMAL_MAX) {
		errno = ERANGE;
		return -1;
	}
	return 0;
}

static int
thermal_taken(const struct thermal_state *st, int zone, const char *a)
{
	size_t	i;

	for (i = 0; i < st->n; i++)
		if (st->v[i].zone == zone && strcmp(st->v[i].a, a) == 0)
			return 1;
	return 0;
}

/* A hwmon chip that mirrors a thermal zone (cpu_thermal vs cpu-thermal). */
static int
thermal_mirror(const struct thermal_state *st, const char *chip)
{
	size_t	i, j;

	for (i = 0; i < st->n; i++) {
		if (!st->v[i].zone)
			continue;
		for (j = 0; chip[j] && st->v[i].a[j]; j++)
			if (chip[j] != st->v[i].a[j] &&
			    !(chip[j] == '_' && st->v[i].a[j] == '-'))
				break;
		if (chip[j] == '\0' && st->v[i].a[j] == '\0')
			return 1;
	}
	return 0;
}

/* The next free entry of st->v, or NULL when the table is full or out of
 * memory. */
static struct tsensor *
thermal_next(struct thermal_state *st)
{
	struct tsensor	*n;
	size_t		 cap;

	if (st->n == st->cap) {
		cap = st->cap ? st->cap * 2 : THERMAL_MIN_SENSORS;
		if (cap > THERMAL_MAX_SENSORS ||
		    (n = reallocarray(st->v, cap, sizeof(*n))) == NULL)
			return NULL;
		st->v = n;
		st->cap = cap;
	}
	return &st->v[st->n];
}

/*
 * dir is root + "/sys/class/thermal" or "/sys/class/hwmon"; path adds a
 * sensor's file name to it.
 */
static void
thermal_zones(struct source *src, struct thermal_state *st)
{
	char		 dir[CONF_PATH_MAX + 64], path[PROCFS_PATH_MAX], type[64];
	int		 ids[THERMAL_MAX_SENSORS];
	size_t		 n, i;
	struct tsensor	*t;

	if (procfs_path(src->root, "sys/class/thermal", dir, sizeof(dir)) == -1)
		return;
	n = thermal_list(dir, "thermal_zone", ids, THERMAL_MAX_SENSORS);
	for (i = 0; i < n && (t = thermal_next(st)) != NULL; i++) {
		snprintf(path, sizeof(path), "%s/thermal_zone%d/type", dir,
		    ids[i]);
		if (thermal_line(path, type, sizeof(type)) == -1)
			snprintf(type, sizeof(type), "thermal_zone%d", ids[i]);
		if (snprintf(t->path, sizeof(t->path), "%s/thermal_zone%d/temp",
		    dir, ids[i]) >= (int)sizeof(t->path) ||
		    access(t->path, R_OK) != 0)
			continue;
		if (thermal_taken(st, 1, type))
			snprintf(t->a, sizeof(t->a), "%.50s_%d", type, ids[i]);
		else
			snprintf(t->a, sizeof(t->a), "%s", type);
		t->s[0] = '\0';
		t->zone = 1;
		st->n++;
	}
}

static void
thermal_hwmon(struct source *src, struct thermal_state *st)
{
	char		 dir[CONF_PATH_MAX + 64], path[PROCFS_PATH_MAX];
	char		 name[64], label[64];
	int		 ids[THERMAL_MAX_SENSORS], tids[64];
	size_t		 n, i, nt, j;
	struct tsensor	*t;
	DIR		*d;
	struct dirent	*de;
	char		*end;
	long		 v;

	if (procfs_path(src->root, "sys/class/hwmon", dir, sizeof(dir)) == -1)
		return;
	n = thermal_list(dir, "hwmon", ids, THERMAL_MAX_SENSORS);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/hwmon%d/name", dir, ids[i]);
		if (thermal_line(path, name, sizeof(name)) == -1)
			snprintf(name, sizeof(name), "hwmon%d", ids[i]);
		if (thermal_mirror(st, name))
			continue;
		if (thermal_taken(st, 0, name)) {
			char tmp[64];

			snprintf(tmp, sizeof(tmp), "%.50s_%d", name, ids[i]);
			snprintf(name, sizeof(name), "%s", tmp);
		}
		/* temp<M>_input, sorted by M. */
		snprintf(path, sizeof(path), "%s/hwmon%d", dir, ids[i]);
		if ((d = opendir(path)) == NULL)
			continue;
		nt = 0;
		while ((de = readdir(d)) != NULL && nt < 64) {
			if (strncmp(de->d_name, "temp", 4) != 0)
				continue;
			v = strtol(de->d_name + 4, &end, 10);
			if (end != de->d_name + 4 && strcmp(end, "_input") == 0 &&
			    v >= 0 && v < 100000)
				tids[nt++] = (int)v;
		}
		closedir(d);
		qsort(tids, nt, sizeof(*tids), cmp_int);
		for (j = 0; j < nt && (t = thermal_next(st)) != NULL; j++) {
			snprintf(path, sizeof(path), "%s/hwmon%d/temp%d_label",
			    dir, ids[i], tids[j]);
			if (thermal_line(path, label, sizeof(label)) == -1)
				snprintf(label, sizeof(label), "temp%d",
				    tids[j]);
			if (snprintf(t->path, sizeof(t->path),
			    "%s/hwmon%d/temp%d_input", dir, ids[i], tids[j]) >=
			    (int)sizeof(t->path))
				continue;
			snprintf(t->a, sizeof(t->a), "%s", name);
			snprintf(t->s, sizeof(t->s), "%s", label);
			t->zone = 0;
			st->n++;
		}
	}
}

static int
thermal_pick_cpu(const struct thermal_state *st)
{
	size_t	i;

	for (i = 0; i < st->n; i++)
		if (st->v[i].zone && (strcasestr(st->v[i].a, "cpu") ||
		    strcasestr(st->v[i].a, "soc") ||
		    strncmp(st->v[i].a, "x86_pkg", 7) == 0))
			return (int)i;
	for (i = 0; i < st->n; i++)
		if (!st->v[i].zone && (strncmp(st->v[i].a, "coretemp", 8) == 0 ||
		    strncmp(st->v[i].a, "k10temp", 7) == 0 ||
		    strncmp(st->v[i].a, "zenpower", 8) == 0))
			return (int)i;
	return st->n > 0 && st->v[0].zone ? 0 : -1;
}

static int
thermal_init(struct source *src, char *err, size_t errlen)
{
	struct thermal_state *st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	thermal_zones(src, st);
	thermal_hwmon(src, st);
	if (st->n == 0) {
		snprintf(err, errlen, "no %s/sys/class/thermal/thermal_zone*/temp"
		    " nor %s/sys/class/hwmon/hwmon*/temp*_input", src->root,
		    src->root);
		free(st->v);
		free(st);
		return -1;
	}
	st->cpu = thermal_pick_cpu(st);
	src->priv = st;
	return 0;
}

static void
thermal_fini(struct source *src)
{
	struct thermal_state *st = src->priv;

	free(st->v);
	free(st);
}

static int
thermal_read(struct source *src, struct batch *b, int64_t now, char *err,
    size_t errlen)
{
	struct thermal_state *st = src->priv;
	struct label_kv	 l[2];
	size_t		 i, ok = 0;
	double		 c;
	int		 lasterr = 0;

	for (i = 0; i < st->n; i++) {
		const struct tsensor *t = &st->v[i];

		if (thermal_read_c(t->path, &c) == -1) {
			lasterr = errno;
			continue;
		}
		ok++;
		if (t->zone) {
			l[0].k = "zone";
			l[0].v = t->a;
			batch_add(b, "thermal.temp_c", l, 1, now, c);
		} else {
			l[0].k = "chip";
			l[0].v = t->a;
			l[1].k = "sensor";
			l[1].v = t->s;
			batch_add(b, "thermal.temp_c", l, 2, now, c);
		}
		if ((int)i == st->cpu)
			batch_add(b, "cpu.temperature", NULL, 0, now, c);
	}
	if (ok == 0) {
		snprintf(err, errlen, "%s: %s", st->v[0].path,
		    strerror(lasterr));
		return -1;
	}
	return 0;
}

const struct source_ops src_thermal_ops = {
	.name = "thermal",
	.init = thermal_init,
	.read = thermal_read,
	.fini = thermal_fini,
};
