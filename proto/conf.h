/*
 * conf.h -- tern's configuration: one libconfig file, one section per
 * program, defaults that work with no file at all.
 *
 * conf/tern.conf documents every key.  The loader is table-driven: each key
 * has a type, a default, a range and the offset of its field below, so the
 * table is the one place a key is defined.  Unknown keys and out-of-range
 * values are rejected with "file:line: key: reason".
 *
 * Durations are written as integers or strings with a unit: "250ms",
 * "10s", "5m", "2h", "7d".  A bare integer is in the unit the key's name
 * says: milliseconds for the keys ending in _ms (writer.flush_ms = 1000),
 * seconds for the others (sampler.interval = 10).  Byte sizes as integers
 * or "64k", "16M", "1G" (powers of 1024).
 */
#ifndef TERN_CONF_H
#define TERN_CONF_H

#include <stddef.h>
#include <stdint.h>

/*
 * Room for a file name in the configuration, NUL included.  Linux's
 * PATH_MAX (4096) for each of the seven path fields made struct conf
 * 30 kB, which every program keeps for its whole life; 1024 is BSD's
 * PATH_MAX and far beyond any real database, socket directory or token
 * file.  A longer value is refused by the loader with "longer than 1023
 * bytes".
 */
#define CONF_PATH_MAX	1024

/* Where the file is looked for when -f is not given. */
#define CONF_DEFAULT_PATH	"/etc/tern/tern.conf"

/* PRAGMA synchronous settings the writer accepts. */
enum conf_sync {
	CONF_SYNC_OFF = 0,
	CONF_SYNC_NORMAL = 1,
	CONF_SYNC_FULL = 2,
};

/* Rollup tiers: at most this many, finest first. */
#define CONF_MAX_TIERS	8

/* One rollup tier: buckets of bucket_ms, kept for retention_ms. */
struct conf_tier {
	char		name[32];
	int64_t		bucket_ms;
	int64_t		retention_ms;
};

struct conf_writer {
	char		socket[108];		/* sun_path limit */
	char		database[CONF_PATH_MAX];
	int		synchronous;		/* enum conf_sync */
	uint32_t	flush_samples;		/* commit when this many held */
	int64_t		flush_ms;		/* ... or the oldest is this old */
	uint32_t	max_peers;		/* connections accepted at once */
	uint64_t	peer_out_bytes;		/* per-peer output buffer bound */
	uint64_t	tap_out_bytes;		/* per-tap output bound (drop beyond) */
	uint32_t	compact_samples;	/* compact when head holds this many
						   samples per series on average */
	int64_t		compact_ms;		/* ... or its oldest row is this old */
	int64_t		checkpoint_ms;		/* run a WAL checkpoint this often */
	uint64_t	journal_size_limit;	/* bytes the WAL is truncated to */
	int64_t		raw_retention_ms;	/* raw samples kept this long */
	uint64_t	raw_unuploaded_bytes;	/* ... or, not yet uploaded,
						   up to this many bytes */
	int64_t		rollup_ms;		/* rollup runs this often */
	int64_t		retention_ms;		/* pruning runs this often */
	uint32_t	ntiers;
	struct conf_tier tiers[CONF_MAX_TIERS];
	/* seed 001's retention block: 0 = take the tier list's value. */
	int64_t		seed_retention_minute_ms;
	int64_t		seed_retention_hourly_ms;
	int64_t		seed_retention_daily_ms;
};

/* One configured source of the sampler. */
struct conf_source {
	char		 name[32];	/* "cpu", "exec", ... (the source type) */
	char		 instance[64];	/* distinguishes two exec sources; may
					   be empty; becomes label instance= */
	int		 enabled;
	int64_t		 interval_ms;	/* 0: the sampler's default interval */
	int64_t		 timeout_ms;	/* exec, prometheus, srt */
	char		*command;	/* exec: run with /bin/sh -c */
	char		*url;		/* prometheus, srt: http(s) URL */
	char		*file;		/* prometheus textfile, srt stats file */
	char		*stream;	/* srt: SLS stream id or publisher name */
};

struct conf_sampler {
	int64_t			 interval_ms;	/* default source interval */
	char			 root[CONF_PATH_MAX];	/* "/" or a fixture tree */
	uint64_t		 queue_bytes;	/* unacked frames kept */
	uint32_t		 nsources;
	struct conf_source	*sources;	/* nsources entries, owned */
};

/* Body formats the uploader can speak. */
enum conf_format {
	CONF_FORMAT_MSGPACK = 0,	/* tern's own: POST /api/v1/ingest */
	CONF_FORMAT_JSON = 1,		/* seed 003's: POST /api/metrics */
};

struct conf_uploader {
	int		enabled;
	char		url[1024];		/* http(s)://host:port/path */
	int		format;			/* enum conf_format */
	char		token_file[CONF_PATH_MAX];	/* "" = no token */
	char		ca_file[CONF_PATH_MAX];		/* "" = system CAs */
	int		tls_verify;
	int		gzip;
	int64_t		connect_timeout_ms;
	int64_t		timeout_ms;		/* whole request */
	uint32_t	low_speed_limit;	/* bytes/s ... */
	int64_t		low_speed_time_ms;	/* ... for this long: abort */
	uint32_t	batch_samples;		/* samples per POST */
	uint32_t	backlog_rate;		/* backlog samples/s after outage */
	int64_t		retry_min_ms, retry_max_ms;
};

struct conf_receiver {
	char		listen[256];		/* address to bind */
	uint32_t	port;
	char		tokens_file[CONF_PATH_MAX];	/* device sha256 lines */
	int		allow_unauthenticated;	/* trusted LAN only */
	uint64_t	max_body_bytes;
	uint64_t	max_header_bytes;
	uint32_t	max_connections;
	int64_t		header_timeout_ms;	/* whole header, from accept */
	int64_t		body_timeout_ms;	/* whole body, from headers */
	uint32_t	rate_limit;		/* samples/s per device; 0 none */
	uint32_t	rate_burst;		/* samples */
	char		database[CONF_PATH_MAX];	/* "" = writer.database */
};

struct conf {
	char			path[CONF_PATH_MAX];	/* "" when defaults */
	char			device[64];	/* device.id */
	int			log_level;	/* syslog priority */
	struct conf_writer	writer;
	struct conf_sampler	sampler;
	struct conf_uploader	uploader;
	struct conf_receiver	receiver;
};

/*
 * Fills c with the built-in defaults.  The default device id is the host
 * name.  The default socket and database live under $TERN_RUNDIR when that
 * is set (make run, tests), else /run/tern and /var/lib/tern; a path
 * under $TERN_RUNDIR too long for its field is left empty, and conf_load
 * reports it unless the file sets the key.  Allocates the default source
 * list (conf_free releases it); c's previous contents are not freed.
 */
void	conf_defaults(struct conf *c);

/*
 * Loads path over the defaults.  path NULL means CONF_DEFAULT_PATH if it
 * exists, else defaults only.  Returns 0, or -1 with "file:line: reason" in
 * err (c is then left with defaults and must still be conf_free'd).
 * c need not be initialised, and what it held is not freed: to reload,
 * load into a second struct conf and conf_free the first.
 */
int	conf_load(struct conf *c, const char *path, char *err, size_t errlen);

/*
 * Frees what conf_defaults or conf_load allocated and empties the source
 * list; c itself is the caller's.  Accepts NULL.
 */
void	conf_free(struct conf *c);

/*
 * Parsers shared with the command line ("10s", "64k"): 0, or -1 for
 * anything but digits and one known unit (overflow included), leaving the
 * output untouched.  A number without a unit is seconds for a duration and
 * bytes for a size.
 */
int	conf_parse_duration_ms(const char *s, int64_t *ms);
int	conf_parse_bytes(const char *s, uint64_t *bytes);

#endif
