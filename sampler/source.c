/*
 * source.c -- the table of source types and one source's life cycle.
 * Scheduling is in sched.c.
 */
#include <stdio.h>
#include <string.h>

#include "source.h"

const struct source_ops *const source_table[] = {
	&src_cpu_ops,
	&src_load_ops,
	&src_memory_ops,
	&src_disk_ops,
	&src_diskio_ops,
	&src_net_ops,
	&src_thermal_ops,
	&src_exec_ops,
	&src_prometheus_ops,
	&src_srt_ops,
	NULL,
};

const struct source_ops *
source_find(const char *name)
{
	size_t	i;

	for (i = 0; source_table[i] != NULL; i++)
		if (strcmp(source_table[i]->name, name) == 0)
			return source_table[i];
	return NULL;
}

int
source_init(struct source *src, const struct conf_source *conf,
    const char *root, int64_t default_interval_ms, char *err, size_t errlen)
{
	memset(src, 0, sizeof(*src));
	src->conf = conf;
	/* "/" becomes "": paths are built as root + "/proc/stat", and log
	 * lines then read "/proc/stat", not "//proc/stat". */
	src->root = root == NULL || strspn(root, "/") == strlen(root) ? "" :
	    root;
	if (conf->instance[0])
		snprintf(src->id, sizeof(src->id), "%s/%s", conf->name,
		    conf->instance);
	else
		snprintf(src->id, sizeof(src->id), "%s", conf->name);
	src->interval_ms = conf->interval_ms > 0 ? conf->interval_ms :
	    default_interval_ms > 0 ? default_interval_ms :
	    SOURCE_DEFAULT_INTERVAL_MS;
	if (src->interval_ms < SOURCE_MIN_INTERVAL_MS)
		src->interval_ms = SOURCE_MIN_INTERVAL_MS;
	src->cur_ms = src->interval_ms;
	if ((src->ops = source_find(conf->name)) == NULL) {
		snprintf(err, errlen, "unknown source type");
		return -1;
	}
	if (src->ops->init(src, err, errlen) == -1)
		return -1;
	src->enabled = 1;
	return 0;
}

void
source_fini(struct source *src)
{
	if (src->enabled && src->ops->fini != NULL)
		src->ops->fini(src);
	src->enabled = 0;
	src->priv = NULL;
}

int64_t
source_timeout_ms(const struct source *src)
{
	return src->conf->timeout_ms > 0 ? src->conf->timeout_ms :
	    SOURCE_DEFAULT_TIMEOUT_MS;
}
