/*
 * conf.c -- see conf.h.
 *
 * Every key is one row of a table: conf_keys[] for the file's sections,
 * source_keys[] for the entries of sampler.metrics.  A row names the key,
 * its type, its default, its range and the field it fills, and both
 * conf_defaults and the loader walk the same rows, so a key's default is
 * written once and a key cannot be loadable without a default (or the other
 * way round).  Adding a key is adding a row, a field in conf.h and its
 * documentation in conf/tern.conf.
 *
 * The loader walks the libconfig tree rather than looking keys up, because
 * only a walk sees the settings nobody asked for: a misspelt key is
 * rejected with its line instead of being silently ignored while its
 * default applies.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "conf.h"
#include "frame.h"
#include "log.h"

enum conf_type {
	CT_STR,		/* char array; .min is the shortest length accepted */
	CT_PATH,	/* char array naming a file; never empty */
	CT_DUP,		/* char *, allocated; NULL until set */
	CT_INT,		/* integer; the range says whether it may be negative */
	CT_BOOL,	/* int, 0 or 1 */
	CT_DURATION,	/* int64_t milliseconds */
	CT_BYTES,	/* uint64_t */
	CT_ENUM,	/* int, chosen by name */
	CT_SOURCES,	/* struct conf_sampler's list of struct conf_source */
	CT_TIERS,	/* struct conf_writer's list of struct conf_tier */
};

struct conf_key {
	const char	*path;		/* "writer.flush_ms" */
	const char	*alias;		/* a seed's name for the same key */
	enum conf_type	 type;
	int64_t		 def, min, max;	/* numbers: value; CT_STR: length */
	/*
	 * What a bare number means for a duration, in milliseconds.  A key
	 * whose name ends in _ms takes milliseconds, every other duration
	 * seconds: "flush_ms = 500" meaning 500 seconds would be a trap that
	 * a range check does not always catch.
	 */
	int64_t		 unit;
	const char	*sdef;		/* CT_STR, CT_PATH, CT_ENUM default */
	void		(*dyndef)(char *, size_t);	/* computed default */
	int		(*by_name)(const char *);	/* CT_ENUM; -1: no */
	const char	*names;		/* CT_ENUM: the accepted names */
	size_t		 off, size;	/* the field */
};

#define FIELD(st, m)	.off = offsetof(st, m), .size = sizeof(((st *)0)->m)
#define C(m)		FIELD(struct conf, m)
#define S(m)		FIELD(struct conf_source, m)
#define T(m)		FIELD(struct conf_tier, m)

#define SECONDS(n)	((int64_t)(n) * 1000)
#define MINUTES(n)	(SECONDS(n) * 60)
#define HOURS(n)	(MINUTES(n) * 60)
#define DAYS(n)		(HOURS(n) * 24)
#define KIB(n)		((int64_t)(n) << 10)
#define MIB(n)		((int64_t)(n) << 20)
#define GIB(n)		((int64_t)(n) << 30)

/*
 * The longest key path built while walking, "sampler.metrics[N].key"
 * included.  Longer names cannot be keys; they are reported (cut) as
 * unknown.
 */
#define KEY_PATH_MAX	128

static void	default_device(char *, size_t);
static void	default_socket(char *, size_t);
static void	default_database(char *, size_t);
static int	sync_by_name(const char *);
static int	format_by_name(const char *);

static const struct conf_key conf_keys[] = {
	{ .path = "device.id", .type = CT_STR, .min = 1,
	  .dyndef = default_device, C(device) },
	{ .path = "log_level", .type = CT_ENUM, .sdef = "info",
	  .by_name = log_level_by_name,
	  .names = "err, warning, notice, info or debug", C(log_level) },

	{ .path = "writer.socket", .type = CT_PATH,
	  .dyndef = default_socket, C(writer.socket) },
	{ .path = "writer.database", .alias = "writer.database_path",
	  .type = CT_PATH, .dyndef = default_database, C(writer.database) },
	{ .path = "writer.synchronous", .type = CT_ENUM, .sdef = "full",
	  .by_name = sync_by_name, .names = "off, normal or full",
	  C(writer.synchronous) },
	/* A million rows in one transaction already holds ACKs for seconds. */
	{ .path = "writer.flush_samples", .alias = "writer.write_buffer",
	  .type = CT_INT, .def = 20000, .min = 1, .max = 1000000,
	  C(writer.flush_samples) },
	/* Producers hold unacknowledged frames for up to this long. */
	{ .path = "writer.flush_ms", .type = CT_DURATION, .unit = 1,
	  .def = SECONDS(1), .min = 1, .max = MINUTES(10),
	  C(writer.flush_ms) },
	/* The usual soft RLIMIT_NOFILE is 1024, and each peer is a socket. */
	{ .path = "writer.max_peers", .type = CT_INT,
	  .def = 64, .min = 1, .max = 1000, C(writer.max_peers) },
	/* The largest frame a peer is sent must fit, or it is dropped. */
	{ .path = "writer.peer_out_bytes", .type = CT_BYTES,
	  .def = MIB(8), .min = FRAME_MAX_BODY + MIB(1), .max = GIB(1),
	  C(writer.peer_out_bytes) },
	/* A tap drops what does not fit, so it may be smaller than a frame. */
	{ .path = "writer.tap_out_bytes", .type = CT_BYTES,
	  .def = MIB(4), .min = KIB(64), .max = GIB(1),
	  C(writer.tap_out_bytes) },
	{ .path = "writer.compact_samples", .type = CT_INT,
	  .def = 256, .min = 1, .max = 65536, C(writer.compact_samples) },
	{ .path = "writer.compact_ms", .type = CT_DURATION, .unit = 1,
	  .def = MINUTES(10), .min = SECONDS(1), .max = DAYS(1),
	  C(writer.compact_ms) },
	{ .path = "writer.checkpoint_ms", .type = CT_DURATION, .unit = 1,
	  .def = SECONDS(30), .min = SECONDS(1), .max = HOURS(1),
	  C(writer.checkpoint_ms) },
	{ .path = "writer.journal_size_limit", .type = CT_BYTES,
	  .def = MIB(16), .min = 0, .max = GIB(1),
	  C(writer.journal_size_limit) },
	/* seed 001: raw 2h, rollup every 5m. */
	{ .path = "writer.raw_retention", .alias = "retention.raw",
	  .type = CT_DURATION, .unit = 1000, .def = HOURS(2),
	  .min = MINUTES(1), .max = DAYS(3650), C(writer.raw_retention_ms) },
	{ .path = "writer.raw_unuploaded_bytes", .type = CT_BYTES,
	  .def = MIB(256), .min = MIB(1), .max = GIB(1024),
	  C(writer.raw_unuploaded_bytes) },
	{ .path = "writer.rollup_interval", .alias = "rollup_interval",
	  .type = CT_DURATION, .unit = 1000, .def = MINUTES(5),
	  .min = SECONDS(1), .max = HOURS(24), C(writer.rollup_ms) },
	{ .path = "writer.retention_interval", .type = CT_DURATION,
	  .unit = 1000, .def = MINUTES(10), .min = SECONDS(1),
	  .max = HOURS(24), C(writer.retention_ms) },
	{ .path = "writer.tiers", .type = CT_TIERS, C(writer) },
	{ .path = "retention.minute", .type = CT_DURATION, .unit = 1000,
	  .def = 0, .min = 0, .max = DAYS(3650),
	  C(writer.seed_retention_minute_ms) },
	{ .path = "retention.hourly", .type = CT_DURATION, .unit = 1000,
	  .def = 0, .min = 0, .max = DAYS(3650),
	  C(writer.seed_retention_hourly_ms) },
	{ .path = "retention.daily", .type = CT_DURATION, .unit = 1000,
	  .def = 0, .min = 0, .max = DAYS(3650),
	  C(writer.seed_retention_daily_ms) },

	/* Below 100ms reading /proc costs more than the samples are worth. */
	{ .path = "sampler.interval", .type = CT_DURATION, .unit = 1000,
	  .def = SECONDS(10), .min = 100, .max = DAYS(1),
	  C(sampler.interval_ms) },
	{ .path = "sampler.root", .type = CT_PATH, .sdef = "/",
	  C(sampler.root) },
	{ .path = "sampler.queue_bytes", .type = CT_BYTES,
	  .def = MIB(4), .min = KIB(64), .max = GIB(1),
	  C(sampler.queue_bytes) },
	{ .path = "sampler.metrics", .type = CT_SOURCES, C(sampler) },

	{ .path = "uploader.enabled", .type = CT_BOOL, .def = 0,
	  C(uploader.enabled) },
	{ .path = "uploader.url", .type = CT_STR, .sdef = "",
	  C(uploader.url) },
	{ .path = "uploader.format", .type = CT_ENUM, .sdef = "msgpack",
	  .by_name = format_by_name, .names = "msgpack or json",
	  C(uploader.format) },
	{ .path = "uploader.token_file", .type = CT_PATH, .sdef = "",
	  C(uploader.token_file) },
	{ .path = "uploader.ca_file", .type = CT_PATH, .sdef = "",
	  C(uploader.ca_file) },
	{ .path = "uploader.tls_verify", .type = CT_BOOL, .def = 1,
	  C(uploader.tls_verify) },
	{ .path = "uploader.gzip", .type = CT_BOOL, .def = 1,
	  C(uploader.gzip) },
	{ .path = "uploader.connect_timeout", .type = CT_DURATION, .unit = 1000,
	  .def = SECONDS(10), .min = 100, .max = MINUTES(5),
	  C(uploader.connect_timeout_ms) },
	{ .path = "uploader.timeout", .type = CT_DURATION, .unit = 1000,
	  .def = SECONDS(60), .min = SECONDS(1), .max = HOURS(1),
	  C(uploader.timeout_ms) },
	/* A mobile uplink that moves less than 100 B/s for 30 s is dead. */
	{ .path = "uploader.low_speed_limit", .type = CT_INT,
	  .def = 100, .min = 0, .max = 1000000000, C(uploader.low_speed_limit) },
	{ .path = "uploader.low_speed_time", .type = CT_DURATION, .unit = 1000,
	  .def = SECONDS(30), .min = SECONDS(1), .max = HOURS(1),
	  C(uploader.low_speed_time_ms) },
	/* 5000 samples gzip to a few tens of KiB: one round trip each. */
	{ .path = "uploader.batch_samples", .type = CT_INT,
	  .def = 5000, .min = 1, .max = 20000, C(uploader.batch_samples) },
	{ .path = "uploader.backlog_rate", .type = CT_INT,
	  .def = 20000, .min = 1, .max = 10000000, C(uploader.backlog_rate) },
	{ .path = "uploader.retry_min", .type = CT_DURATION, .unit = 1000,
	  .def = SECONDS(1), .min = 10, .max = HOURS(1),
	  C(uploader.retry_min_ms) },
	{ .path = "uploader.retry_max", .type = CT_DURATION, .unit = 1000,
	  .def = MINUTES(5), .min = 100, .max = DAYS(1),
	  C(uploader.retry_max_ms) },

	{ .path = "receiver.listen", .type = CT_STR, .sdef = "127.0.0.1",
	  C(receiver.listen) },
	/* seed 002's PORT default */
	{ .path = "receiver.port", .type = CT_INT, .def = 8080, .min = 1,
	  .max = 65535, C(receiver.port) },
	{ .path = "receiver.tokens_file", .type = CT_PATH, .sdef = "",
	  C(receiver.tokens_file) },
	{ .path = "receiver.allow_unauthenticated", .type = CT_BOOL, .def = 0,
	  C(receiver.allow_unauthenticated) },
	/* 20,000 samples of JSON are about 2 MiB; gzip makes it far less. */
	{ .path = "receiver.max_body_bytes", .type = CT_BYTES,
	  .def = MIB(8), .min = KIB(1), .max = GIB(1),
	  C(receiver.max_body_bytes) },
	{ .path = "receiver.max_header_bytes", .type = CT_BYTES,
	  .def = KIB(16), .min = KIB(1), .max = MIB(1),
	  C(receiver.max_header_bytes) },
	{ .path = "receiver.max_connections", .type = CT_INT,
	  .def = 256, .min = 1, .max = 100000, C(receiver.max_connections) },
	{ .path = "receiver.header_timeout", .type = CT_DURATION, .unit = 1000,
	  .def = SECONDS(10), .min = 100, .max = MINUTES(10),
	  C(receiver.header_timeout_ms) },
	{ .path = "receiver.body_timeout", .type = CT_DURATION, .unit = 1000,
	  .def = SECONDS(60), .min = 100, .max = HOURS(1),
	  C(receiver.body_timeout_ms) },
	{ .path = "receiver.rate_limit", .type = CT_INT,
	  .def = 200000, .min = 0, .max = 100000000, C(receiver.rate_limit) },
	{ .path = "receiver.rate_burst", .type = CT_INT,
	  .def = 400000, .min = 1, .max = 1000000000, C(receiver.rate_burst) },
	{ .path = "receiver.database", .type = CT_PATH, .sdef = "",
	  C(receiver.database) },
};

/* The keys of one sampler.metrics entry, relative to the entry. */
static const struct conf_key source_keys[] = {
	{ .path = "name", .type = CT_STR, S(name) },
	{ .path = "instance", .type = CT_STR, S(instance) },
	{ .path = "enabled", .type = CT_BOOL, .def = 1, S(enabled) },
	/* 0, the default, means the sampler's interval. */
	{ .path = "interval", .type = CT_DURATION, .unit = 1000,
	  .def = 0, .min = 100, .max = DAYS(1), S(interval_ms) },
	/* A source that blocks for longer than 10 minutes is broken. */
	{ .path = "timeout", .type = CT_DURATION, .unit = 1000,
	  .def = SECONDS(5), .min = 100, .max = MINUTES(10), S(timeout_ms) },
	{ .path = "command", .type = CT_DUP, S(command) },
	{ .path = "url", .type = CT_DUP, S(url) },
	{ .path = "file", .type = CT_DUP, S(file) },
	{ .path = "stream", .type = CT_DUP, S(stream) },
};

/* The keys of one writer.tiers entry. */
static const struct conf_key tier_keys[] = {
	{ .path = "name", .type = CT_STR, .min = 1, T(name) },
	{ .path = "bucket", .type = CT_DURATION, .unit = 1000, .def = 0,
	  .min = SECONDS(1), .max = DAYS(366), T(bucket_ms) },
	{ .path = "retention", .type = CT_DURATION, .unit = 1000, .def = 0,
	  .min = MINUTES(1), .max = DAYS(36500), T(retention_ms) },
};

/* seed 001's tiers: minute/24h, hour/7d, day/90d. */
static const struct conf_tier default_tiers[] = {
	{ "minute", MINUTES(1), HOURS(24) },
	{ "hour", HOURS(1), DAYS(7) },
	{ "day", DAYS(1), DAYS(90) },
};

#define NKEYS(t)	(sizeof(t) / sizeof((t)[0]))

/* The optional keys of a source entry that only some sources take. */
enum {
	OPT_COMMAND = 1 << 0,
	OPT_URL = 1 << 1,
	OPT_FILE = 1 << 2,
	OPT_STREAM = 1 << 3,
	OPT_TIMEOUT = 1 << 4,
};

static const struct {
	unsigned	 bit;
	const char	*key;
} source_opts[] = {
	{ OPT_COMMAND, "command" }, { OPT_URL, "url" }, { OPT_FILE, "file" },
	{ OPT_STREAM, "stream" }, { OPT_TIMEOUT, "timeout" },
};

/*
 * The source types the sampler knows.  A source needs exactly one of the
 * keys in .needs; the ones that need nothing are the default list, so that
 * a machine without a file samples everything that needs no set-up.
 */
static const struct source_kind {
	const char	*name;
	unsigned	 takes;		/* optional keys it accepts */
	unsigned	 needs;		/* exactly one of these is required */
} source_kinds[] = {
	{ "cpu", 0, 0 },
	{ "load", 0, 0 },
	{ "memory", 0, 0 },
	{ "disk", 0, 0 },
	{ "diskio", 0, 0 },
	{ "net", 0, 0 },
	{ "thermal", 0, 0 },
	{ "exec", OPT_COMMAND | OPT_TIMEOUT, OPT_COMMAND },
	{ "prometheus", OPT_URL | OPT_FILE | OPT_TIMEOUT, OPT_URL | OPT_FILE },
	{ "srt", OPT_URL | OPT_FILE | OPT_STREAM | OPT_TIMEOUT,
	  OPT_URL | OPT_FILE },
};

struct unit {
	const char	*suffix;
	int64_t		 mult;
};

static const struct unit duration_units[] = {
	{ "ms", 1 }, { "s", SECONDS(1) }, { "m", MINUTES(1) },
	{ "h", HOURS(1) }, { "d", DAYS(1) }, { NULL, 0 },
};

/*
 * Upper case is the canonical spelling (what messages print) except for
 * "k"; "16m" means 16 MiB because nobody configures millibytes.
 */
static const struct unit byte_units[] = {
	{ "k", KIB(1) }, { "M", MIB(1) }, { "G", GIB(1) }, { "T", GIB(1024) },
	{ "K", KIB(1) }, { "m", MIB(1) }, { "g", GIB(1) }, { "t", GIB(1024) },
	{ NULL, 0 },
};

/* One load: where messages go and which file they name. */
struct load {
	const char	*file;	/* for settings libconfig gives no file */
	char		*err;
	size_t		 errlen;
};

/*
 * Writes "file:line: message" into the caller's buffer and returns -1, so
 * that every failure is one "return load_err(...)".  s NULL leaves the
 * line out.
 */
static int __attribute__((format(printf, 3, 4)))
load_err(const struct load *L, const config_setting_t *s, const char *fmt,
    ...)
{
	va_list		 ap;
	const char	*file = L->file;
	int		 n;

	if (L->err == NULL || L->errlen == 0)
		return -1;
	if (s != NULL && config_setting_source_file(s) != NULL)
		file = config_setting_source_file(s);
	if (s != NULL)
		n = snprintf(L->err, L->errlen, "%s:%u: ", file,
		    (unsigned)config_setting_source_line(s));
	else
		n = snprintf(L->err, L->errlen, "%s: ", file);
	if (n < 0 || (size_t)n >= L->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(L->err + n, L->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static void
default_device(char *buf, size_t len)
{
	char	host[256];

	/*
	 * A host name longer than the field is cut rather than refused: the
	 * process must start with no file at all, and device.id is there for
	 * the rare box whose cut name would collide.
	 */
	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(buf, len, "%s", host);
}

/*
 * name under $TERN_RUNDIR when that is set, else under dir.  A result that
 * does not fit is left empty, and conf_load reports it: conf_defaults has
 * no way to fail, and a cut socket path would be a different socket.
 */
static void
rundir_path(char *buf, size_t len, const char *dir, const char *name)
{
	const char	*rundir = getenv("TERN_RUNDIR");
	int		 n;

	if (rundir != NULL && rundir[0] != '\0')
		dir = rundir;
	n = snprintf(buf, len, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= len)
		buf[0] = '\0';
}

static void
default_socket(char *buf, size_t len)
{
	rundir_path(buf, len, "/run/tern", "writer.sock");
}

static void
default_database(char *buf, size_t len)
{
	rundir_path(buf, len, "/var/lib/tern", "tern.db");
}

static int
sync_by_name(const char *name)
{
	static const char *const names[] = {
		[CONF_SYNC_OFF] = "off",
		[CONF_SYNC_NORMAL] = "normal",
		[CONF_SYNC_FULL] = "full",
	};
	size_t	i;

	for (i = 0; i < NKEYS(names); i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

static int
format_by_name(const char *name)
{
	if (strcmp(name, "msgpack") == 0)
		return CONF_FORMAT_MSGPACK;
	if (strcmp(name, "json") == 0)
		return CONF_FORMAT_JSON;
	return -1;
}

/*
 * Stores v into a 4- or 8-byte integer field.  Going through the unsigned
 * type keeps the conversion defined for every field; the ranges in the
 * tables keep every value representable in its field.
 */
static void
put_int(void *field, size_t size, int64_t v)
{
	uint32_t	v32 = (uint32_t)v;
	uint64_t	v64 = (uint64_t)v;

	if (size == sizeof(v32))
		memcpy(field, &v32, sizeof(v32));
	else if (size == sizeof(v64))
		memcpy(field, &v64, sizeof(v64));
	else
		fatalx("conf: integer field of %zu bytes", size);
}

/*
 * Parses digits followed by one of units' suffixes, or by nothing, which
 * means bare (0: a suffix is required).  No sign, no spaces, no fraction:
 * what the file says is what is meant.  Returns 0, or -1 for anything else,
 * overflow included.
 */
static int
parse_scaled(const char *s, const struct unit *units, int64_t bare,
    int64_t *out)
{
	const struct unit	*u;
	int64_t			 n = 0, mult = bare;
	const char		*p;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	for (p = s; isdigit((unsigned char)*p); p++) {
		if (n > (INT64_MAX - (*p - '0')) / 10)
			return -1;
		n = n * 10 + (*p - '0');
	}
	if (*p != '\0') {
		for (u = units; u->suffix != NULL; u++)
			if (strcmp(p, u->suffix) == 0)
				break;
		if (u->suffix == NULL)
			return -1;
		mult = u->mult;
	}
	if (mult <= 0 || n > INT64_MAX / mult)
		return -1;
	*out = n * mult;
	return 0;
}

/* v with the largest unit that divides it: 600000 ms is "10m". */
static const char *
fmt_scaled(int64_t v, const struct unit *units, char *buf, size_t len)
{
	const struct unit	*u, *best = NULL;

	for (u = units; u->suffix != NULL && v != 0; u++)
		if (v % u->mult == 0 && (best == NULL || u->mult > best->mult))
			best = u;
	if (best == NULL)
		snprintf(buf, len, "%lld", (long long)v);
	else
		snprintf(buf, len, "%lld%s", (long long)(v / best->mult),
		    best->suffix);
	return buf;
}

static const char *
fmt_value(const struct conf_key *k, int64_t v, char *buf, size_t len)
{
	if (k->type == CT_DURATION)
		return fmt_scaled(v, duration_units, buf, len);
	if (k->type == CT_BYTES)
		return fmt_scaled(v, byte_units, buf, len);
	snprintf(buf, len, "%lld", (long long)v);
	return buf;
}

static const char *
type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	}
	return "nothing";
}

static int
is_int(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64;
}

static int
wrong_type(struct load *L, const config_setting_t *s, const char *path,
    const char *expected)
{
	return load_err(L, s, "%s: expected %s, not %s", path, expected,
	    type_name(s));
}

/* Range-checks v, quoting the value as the file wrote it. */
static int
check_range(struct load *L, const struct conf_key *k,
    const config_setting_t *s, const char *path, int64_t v)
{
	char	shown[64], bound[32];

	if (v >= k->min && v <= k->max)
		return 0;
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		snprintf(shown, sizeof(shown), "%s",
		    config_setting_get_string(s));
	else
		snprintf(shown, sizeof(shown), "%lld",
		    config_setting_get_int64(s));
	if (v < k->min)
		return load_err(L, s, "%s: %s is below the minimum %s", path,
		    shown, fmt_value(k, k->min, bound, sizeof(bound)));
	return load_err(L, s, "%s: %s is above the maximum %s", path, shown,
	    fmt_value(k, k->max, bound, sizeof(bound)));
}

/*
 * A number for a duration or byte key: an integer in the key's unit, or a
 * string with a unit.  Overflow is "above the maximum".
 */
static int
get_scaled(struct load *L, const struct conf_key *k,
    const config_setting_t *s, const char *path, int64_t *v)
{
	const struct unit	*units;
	long long		 n;
	const char		*what, *use;
	int64_t			 unit;

	if (k->type == CT_DURATION) {
		units = duration_units;
		unit = k->unit;
		what = unit == 1 ? "a duration (an integer of milliseconds or "
		    "a string like \"10s\")" : "a duration (an integer of "
		    "seconds or a string like \"10s\")";
		use = "\"250ms\", \"10s\", \"5m\", \"2h\" or \"7d\"";
	} else {
		units = byte_units;
		unit = 1;
		what = "a size (an integer of bytes or a string like \"16M\")";
		use = "\"64k\", \"16M\" or \"1G\"";
	}
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char	*str = config_setting_get_string(s);

		if (parse_scaled(str, units, unit, v) == -1)
			return load_err(L, s, "%s: bad %s \"%s\" (use %s)",
			    path, k->type == CT_DURATION ? "duration" : "size",
			    str, use);
		return check_range(L, k, s, path, *v);
	}
	if (!is_int(s))
		return wrong_type(L, s, path, what);
	/*
	 * Clamping keeps the multiplication defined; the message quotes the
	 * file's own number, so a clamped one still reads right.
	 */
	n = config_setting_get_int64(s);
	if (n < 0)
		n = -1;
	else if (n > INT64_MAX / unit)
		n = INT64_MAX / unit;
	*v = (int64_t)n * unit;
	return check_range(L, k, s, path, *v);
}

static int	load_tiers(struct load *, config_setting_t *, const char *,
		    struct conf_writer *);
static int	load_sources(struct load *, config_setting_t *, const char *,
		    struct conf_sampler *);

/* Sets k's field in base from s. */
static int
key_set(struct load *L, const struct conf_key *k, void *base,
    config_setting_t *s, const char *path)
{
	char		*field = (char *)base + k->off;
	const char	*str;
	int64_t		 v;
	size_t		 len;
	int		 e;

	switch (k->type) {
	case CT_STR:
	case CT_PATH:
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			return wrong_type(L, s, path, "a string");
		str = config_setting_get_string(s);
		len = strlen(str);
		if (len >= k->size)
			return load_err(L, s, "%s: longer than %zu bytes",
			    path, k->size - 1);
		if (len == 0 && ((k->type == CT_PATH && k->dyndef != NULL) ||
		    k->min > 0))
			return load_err(L, s, "%s: must not be empty", path);
		memcpy(field, str, len + 1);
		return 0;
	case CT_DUP:
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			return wrong_type(L, s, path, "a string");
		str = config_setting_get_string(s);
		if (str[0] == '\0')
			return load_err(L, s, "%s: must not be empty", path);
		free(*(char **)(void *)field);
		if ((*(char **)(void *)field = strdup(str)) == NULL)
			return load_err(L, s, "%s: %s", path, strerror(errno));
		return 0;
	case CT_INT:
		if (!is_int(s))
			return wrong_type(L, s, path, "an integer");
		v = config_setting_get_int64(s);
		if (check_range(L, k, s, path, v) == -1)
			return -1;
		put_int(field, k->size, v);
		return 0;
	case CT_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			return wrong_type(L, s, path, "true or false");
		put_int(field, k->size, config_setting_get_bool(s) ? 1 : 0);
		return 0;
	case CT_DURATION:
	case CT_BYTES:
		if (get_scaled(L, k, s, path, &v) == -1)
			return -1;
		put_int(field, k->size, v);
		return 0;
	case CT_ENUM:
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			return wrong_type(L, s, path, "a string");
		str = config_setting_get_string(s);
		if ((e = k->by_name(str)) == -1)
			return load_err(L, s, "%s: unknown value \"%s\" "
			    "(expected %s)", path, str, k->names);
		put_int(field, k->size, e);
		return 0;
	case CT_SOURCES:
		return load_sources(L, s, path, (struct conf_sampler *)
		    (void *)field);
	case CT_TIERS:
		return load_tiers(L, s, path, (struct conf_writer *)
		    (void *)field);
	}
	fatalx("conf: %s: key of unknown type %d", k->path, (int)k->type);
}

static void	default_sources(struct conf_sampler *);

/* Sets every field of tab in base to its default. */
static void
apply_defaults(const struct conf_key *tab, size_t n, void *base)
{
	const struct conf_key	*k;
	char			*field;
	int			 e;

	for (k = tab; k < tab + n; k++) {
		field = (char *)base + k->off;
		switch (k->type) {
		case CT_STR:
		case CT_PATH:
			if (k->dyndef != NULL)
				k->dyndef(field, k->size);
			else
				snprintf(field, k->size, "%s",
				    k->sdef != NULL ? k->sdef : "");
			break;
		case CT_DUP:
			*(char **)(void *)field = NULL;
			break;
		case CT_INT:
		case CT_BOOL:
		case CT_DURATION:
		case CT_BYTES:
			put_int(field, k->size, k->def);
			break;
		case CT_ENUM:
			if ((e = k->by_name(k->sdef)) == -1)
				fatalx("conf: %s: bad default \"%s\"",
				    k->path, k->sdef);
			put_int(field, k->size, e);
			break;
		case CT_SOURCES:
			default_sources((struct conf_sampler *)(void *)field);
			break;
		case CT_TIERS:
			memcpy(((struct conf_writer *)(void *)field)->tiers,
			    default_tiers, sizeof(default_tiers));
			((struct conf_writer *)(void *)field)->ntiers =
			    NKEYS(default_tiers);
			break;
		}
	}
}

static void
default_sources(struct conf_sampler *sp)
{
	size_t	i, n = 0;

	for (i = 0; i < NKEYS(source_kinds); i++)
		if (source_kinds[i].needs == 0)
			n++;
	/* At start-up, before anything runs: nothing to do but stop. */
	if ((sp->sources = calloc(n, sizeof(*sp->sources))) == NULL)
		fatal("conf: default sources");
	sp->nsources = 0;
	for (i = 0; i < NKEYS(source_kinds); i++) {
		struct conf_source	*src;

		if (source_kinds[i].needs != 0)
			continue;
		src = &sp->sources[sp->nsources++];
		apply_defaults(source_keys, NKEYS(source_keys), src);
		snprintf(src->name, sizeof(src->name), "%s",
		    source_kinds[i].name);
	}
}

static void
sources_free(struct conf_source *srcs, size_t n)
{
	const struct conf_key	*k;
	size_t			 i;

	if (srcs == NULL)
		return;
	for (i = 0; i < n; i++)
		for (k = source_keys; k < source_keys + NKEYS(source_keys);
		    k++)
			if (k->type == CT_DUP)
				free(*(char **)(void *)((char *)&srcs[i] +
				    k->off));
	free(srcs);
}

/* The row for rel, by name or alias; *alias says which matched. */
static const struct conf_key *
key_find(const struct conf_key *tab, size_t n, const char *rel, int *alias)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		*alias = tab[i].alias != NULL && strcmp(tab[i].alias, rel) == 0;
		if (*alias || strcmp(tab[i].path, rel) == 0)
			return &tab[i];
	}
	return NULL;
}

/* Whether rel names a section: some key's path starts with "rel.". */
static int
is_section(const struct conf_key *tab, size_t n, const char *rel)
{
	size_t	i, len = strlen(rel);

	for (i = 0; i < n; i++)
		if (strncmp(tab[i].path, rel, len) == 0 &&
		    tab[i].path[len] == '.')
			return 1;
	return 0;
}

/*
 * Formats a key path for lookup and messages.  A path too long to be a key
 * is cut, not refused: it then matches no key and is reported as unknown,
 * with its line, which is all the reader needs.
 */
static void __attribute__((format(printf, 3, 4)))
pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static const char *
leaf(const char *path)
{
	const char	*dot = strrchr(path, '.');

	return dot != NULL ? dot + 1 : path;
}

/*
 * Reports an unknown key, naming the key of the same name in another
 * section if there is one: seed 003 has its metrics list at the top of its
 * file, tern has it in the sampler section.
 */
static int
unknown_key(struct load *L, const config_setting_t *s,
    const struct conf_key *tab, size_t ntab, const char *path,
    const char *rel)
{
	size_t	i;

	for (i = 0; i < ntab; i++)
		if (strcmp(leaf(tab[i].path), leaf(rel)) == 0)
			return load_err(L, s, "unknown key '%s' (%s?)", path,
			    tab[i].path);
	return load_err(L, s, "unknown key '%s'", path);
}

/*
 * Loads the members of group g into base according to tab.  relpre is g's
 * path relative to the table ("" or "writer"), msgpre what messages put
 * before it ("" or "sampler.metrics[2].").
 */
static int
walk(struct load *L, config_setting_t *g, const struct conf_key *tab,
    size_t ntab, void *base, const char *msgpre, const char *relpre)
{
	const struct conf_key	*k;
	config_setting_t	*s, *other;
	char			 rel[KEY_PATH_MAX], path[KEY_PATH_MAX];
	int			 i, n, alias;

	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned)i);
		pathf(rel, sizeof(rel), "%s%s%s", relpre,
		    relpre[0] != '\0' ? "." : "", config_setting_name(s));
		pathf(path, sizeof(path), "%s%s", msgpre, rel);
		if ((k = key_find(tab, ntab, rel, &alias)) != NULL) {
			/*
			 * libconfig refuses a name twice in a group, but not
			 * a key and its alias: which one would win is
			 * nothing a reader of the file could tell.
			 */
			if (alias &&
			    (other = config_setting_get_member(g,
			    leaf(k->path))) != NULL)
				return load_err(L, s, "%s: same key as "
				    "%s%s on line %u; set only one", path,
				    msgpre, k->path,
				    (unsigned)config_setting_source_line(
				    other));
			if (key_set(L, k, base, s, path) == -1)
				return -1;
			continue;
		}
		if (!is_section(tab, ntab, rel))
			return unknown_key(L, s, tab, ntab, path, rel);
		if (!config_setting_is_group(s))
			return wrong_type(L, s, path, "a group { ... }");
		if (walk(L, s, tab, ntab, base, msgpre, rel) == -1)
			return -1;
	}
	return 0;
}

static const struct source_kind *
kind_find(const char *name)
{
	size_t	i;

	for (i = 0; i < NKEYS(source_kinds); i++)
		if (strcmp(source_kinds[i].name, name) == 0)
			return &source_kinds[i];
	return NULL;
}

/* "cpu, load, ..., srt": the source types, for messages. */
static const char *
kind_names(char *buf, size_t len)
{
	size_t	i;

	buf[0] = '\0';
	for (i = 0; i < NKEYS(source_kinds); i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
		    i == 0 ? "" : ", ", source_kinds[i].name);
	return buf;
}

/* "a, b or c": the keys of mask, for messages. */
static const char *
opt_names(unsigned mask, char *buf, size_t len)
{
	size_t	i, left = 0, done = 0;

	for (i = 0; i < NKEYS(source_opts); i++)
		if (mask & source_opts[i].bit)
			left++;
	buf[0] = '\0';
	for (i = 0; i < NKEYS(source_opts); i++) {
		if (!(mask & source_opts[i].bit))
			continue;
		done++;
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
		    done == 1 ? "" : done == left ? " or " : ", ",
		    source_opts[i].key);
	}
	return buf;
}

/*
 * Checks entry i of srcs (group e, loaded) against its source type and the
 * entries before it.
 */
static int
check_source(struct load *L, config_setting_t *list, unsigned i,
    const struct conf_source *srcs, const char *path)
{
	config_setting_t		*e = config_setting_get_elem(list, i);
	config_setting_t		*m;
	const struct conf_source	*src = &srcs[i];
	const struct source_kind	*kind;
	char				 names[256];
	unsigned			 has = 0, both, j;
	size_t				 o;

	if (src->name[0] == '\0')
		return load_err(L, e, "%s: name is required (one of %s)",
		    path, kind_names(names, sizeof(names)));
	if ((kind = kind_find(src->name)) == NULL)
		return load_err(L, config_setting_get_member(e, "name"),
		    "%s.name: unknown source \"%s\" (one of %s)", path,
		    src->name, kind_names(names, sizeof(names)));
	for (o = 0; o < NKEYS(source_opts); o++) {
		if ((m = config_setting_get_member(e, source_opts[o].key)) ==
		    NULL)
			continue;
		has |= source_opts[o].bit;
		if (!(kind->takes & source_opts[o].bit))
			return load_err(L, m, "%s.%s: %s takes no %s", path,
			    source_opts[o].key, kind->name,
			    source_opts[o].key);
	}
	both = has & kind->needs;
	if (kind->needs != 0 && both == 0)
		return load_err(L, e, "%s: %s needs %s", path, kind->name,
		    opt_names(kind->needs, names, sizeof(names)));
	if ((both & (both - 1)) != 0)
		return load_err(L, e, "%s: %s takes one of %s, not both", path,
		    kind->name, opt_names(kind->needs, names, sizeof(names)));
	if (src->url != NULL && strncmp(src->url, "http://", 7) != 0 &&
	    strncmp(src->url, "https://", 8) != 0)
		return load_err(L, config_setting_get_member(e, "url"),
		    "%s.url: \"%s\" is not an http:// or https:// URL", path,
		    src->url);
	/*
	 * Two entries of one source with one instance would produce the same
	 * series twice, each overwriting the other's samples.
	 */
	for (j = 0; j < i; j++)
		if (strcmp(srcs[j].name, src->name) == 0 &&
		    strcmp(srcs[j].instance, src->instance) == 0)
			return load_err(L, e, "%s: same source and instance "
			    "as the entry on line %u; give one an instance",
			    path, (unsigned)config_setting_source_line(
			    config_setting_get_elem(list, j)));
	return 0;
}

/*
 * seed 001's `retention = { raw; minute; hourly; daily; }` block: raw is an
 * alias of writer.raw_retention; the others set the retention of the tier
 * of that name (minute, hour, day), when there is one.
 */
static void
seed_retention(struct conf_writer *w)
{
	const struct {
		const char	*tier;
		int64_t		 ms;
	} m[] = {
		{ "minute", w->seed_retention_minute_ms },
		{ "hour", w->seed_retention_hourly_ms },
		{ "day", w->seed_retention_daily_ms },
	};
	size_t		i;
	uint32_t	j;

	for (i = 0; i < NKEYS(m); i++)
		for (j = 0; j < w->ntiers && m[i].ms > 0; j++)
			if (strcmp(w->tiers[j].name, m[i].tier) == 0)
				w->tiers[j].retention_ms = m[i].ms;
}

/*
 * Replaces the writer's tiers with the entries of list: finest first, each
 * bucket a whole multiple of the one before (hours are built from
 * minutes), names unique.
 */
static int
load_tiers(struct load *L, config_setting_t *list, const char *path,
    struct conf_writer *w)
{
	config_setting_t	*e;
	char			 epath[KEY_PATH_MAX], pre[KEY_PATH_MAX];
	struct conf_tier	*t, *prev;
	int			 n;
	unsigned		 i, j;

	n = config_setting_length(list);
	if (config_setting_type(list) != CONFIG_TYPE_LIST &&
	    !(config_setting_type(list) == CONFIG_TYPE_ARRAY && n == 0))
		return wrong_type(L, list, path, "a list ( { name = \"minute\"; "
		    "bucket = \"1m\"; retention = \"24h\"; }, ... )");
	if (n > CONF_MAX_TIERS)
		return load_err(L, list, "%s: %d tiers, at most %d", path, n,
		    CONF_MAX_TIERS);
	memset(w->tiers, 0, sizeof(w->tiers));
	w->ntiers = (uint32_t)n;
	for (i = 0; i < (unsigned)n; i++) {
		t = &w->tiers[i];
		e = config_setting_get_elem(list, i);
		pathf(epath, sizeof(epath), "%s[%u]", path, i);
		if (!config_setting_is_group(e))
			return wrong_type(L, e, epath, "a group { name = ...; }");
		pathf(pre, sizeof(pre), "%s.", epath);
		if (walk(L, e, tier_keys, NKEYS(tier_keys), t, pre, "") == -1)
			return -1;
		if (t->name[0] == '\0' || t->bucket_ms == 0 ||
		    t->retention_ms == 0)
			return load_err(L, e, "%s: needs name, bucket and "
			    "retention", epath);
		prev = i > 0 ? &w->tiers[i - 1] : NULL;
		if (prev != NULL && (t->bucket_ms <= prev->bucket_ms ||
		    t->bucket_ms % prev->bucket_ms != 0))
			return load_err(L, e, "%s: bucket must be a whole "
			    "multiple of %s's", epath, prev->name);
		if (t->retention_ms < t->bucket_ms)
			return load_err(L, e, "%s: retention shorter than one "
			    "bucket", epath);
		for (j = 0; j < i; j++)
			if (strcmp(w->tiers[j].name, t->name) == 0)
				return load_err(L, e, "%s: tier name \"%s\" "
				    "given twice", epath, t->name);
	}
	return 0;
}

/*
 * Replaces sp's sources with the entries of list.  The new array belongs
 * to sp at once, so that a failure half-way leaves it to conf_free.
 */
static int
load_sources(struct load *L, config_setting_t *list, const char *path,
    struct conf_sampler *sp)
{
	config_setting_t	*e;
	char			 epath[KEY_PATH_MAX], pre[KEY_PATH_MAX];
	int			 n;
	unsigned		 i;

	n = config_setting_length(list);
	/* An empty "[]" is an array, not a list, and means the same. */
	if (config_setting_type(list) != CONFIG_TYPE_LIST &&
	    !(config_setting_type(list) == CONFIG_TYPE_ARRAY && n == 0))
		return wrong_type(L, list, path,
		    "a list ( { name = \"cpu\"; }, ... )");
	sources_free(sp->sources, sp->nsources);
	sp->sources = NULL;
	sp->nsources = 0;
	if (n == 0)
		return 0;
	if ((sp->sources = calloc((size_t)n, sizeof(*sp->sources))) == NULL)
		return load_err(L, list, "%s: %s", path, strerror(errno));
	sp->nsources = (uint32_t)n;
	for (i = 0; i < (unsigned)n; i++)
		apply_defaults(source_keys, NKEYS(source_keys),
		    &sp->sources[i]);
	for (i = 0; i < (unsigned)n; i++) {
		e = config_setting_get_elem(list, i);
		pathf(epath, sizeof(epath), "%s[%u]", path, i);
		if (!config_setting_is_group(e))
			return wrong_type(L, e, epath,
			    "a group { name = ...; }");
		/* Keys inside the entry are reported as "...[i].key". */
		pathf(pre, sizeof(pre), "%s.", epath);
		if (walk(L, e, source_keys, NKEYS(source_keys),
		    &sp->sources[i], pre, "") == -1)
			return -1;
		if (check_source(L, list, i, sp->sources, epath) == -1)
			return -1;
	}
	return 0;
}

/*
 * A computed default that did not fit (a long $TERN_RUNDIR) is left empty
 * by conf_defaults; unless the file set the key, that is an error here.
 */
static int
check_paths(struct load *L, const struct conf *c)
{
	const struct conf_key	*k;
	const char		*field;

	for (k = conf_keys; k < conf_keys + NKEYS(conf_keys); k++) {
		/* Only the paths with a computed default can come out empty
		 * by accident; an empty optional path means "none". */
		if (k->type != CT_PATH || k->dyndef == NULL)
			continue;
		field = (const char *)c + k->off;
		if (field[0] == '\0')
			return load_err(L, NULL, "%s: the default under "
			    "$TERN_RUNDIR is longer than %zu bytes; set %s",
			    k->path, k->size - 1, k->path);
	}
	return 0;
}

void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	apply_defaults(conf_keys, NKEYS(conf_keys), c);
}

int
conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	struct load	 L = { .file = path, .err = err, .errlen = errlen };
	config_t	 cf;
	int		 rc = -1, saved;

	/*
	 * The file is loaded straight over the defaults in c: a second
	 * struct conf to load into and copy would be one more copy on the
	 * stack of every program.  A failure puts the defaults back.
	 */
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	conf_defaults(c);
	config_init(&cf);
	if (path == NULL) {
		path = L.file = CONF_DEFAULT_PATH;
		if (access(path, F_OK) == -1 && errno == ENOENT) {
			L.file = "(defaults)";
			rc = check_paths(&L, c);
			goto out;
		}
	}
	if (strlen(path) >= sizeof(c->path)) {
		load_err(&L, NULL, "file name too long");
		goto out;
	}
	if (!config_read_file(&cf, path)) {
		saved = errno;
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
			load_err(&L, NULL, "%s", strerror(saved));
		else if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s:%d: %s",
			    config_error_file(&cf) != NULL ?
			    config_error_file(&cf) : path,
			    config_error_line(&cf), config_error_text(&cf));
		goto out;
	}
	if (walk(&L, config_root_setting(&cf), conf_keys, NKEYS(conf_keys),
	    c, "", "") == -1 || check_paths(&L, c) == -1) {
		conf_free(c);
		conf_defaults(c);
		goto out;
	}
	seed_retention(&c->writer);
	snprintf(c->path, sizeof(c->path), "%s", path);
	rc = 0;
out:
	config_destroy(&cf);
	return rc;
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	sources_free(c->sampler.sources, c->sampler.nsources);
	c->sampler.sources = NULL;
	c->sampler.nsources = 0;
}

int
conf_parse_duration_ms(const char *s, int64_t *ms)
{
	return parse_scaled(s, duration_units, SECONDS(1), ms);
}

int
conf_parse_bytes(const char *s, uint64_t *bytes)
{
	int64_t	v;

	if (parse_scaled(s, byte_units, 1, &v) == -1)
		return -1;
	*bytes = (uint64_t)v;
	return 0;
}
