/*
 * test_conf.c -- the configuration loader: defaults, the shipped file,
 * every kind of error with its file and line, the unit parsers, aliases
 * and the $TERN_RUNDIR defaults.
 *
 * Each configuration is written to its own mkstemp file under /tmp and
 * removed once loaded, so the expected messages can name the real file.
 * The tests run from the top of the tree (test/run.sh does that), where
 * conf/tern.conf is.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "unit.h"

#define SHIPPED_CONF	"conf/tern.conf"

/*
 * unit.h's CHECK_STR and CHECK_HAS print whole strings, which gcc's
 * -Wformat-truncation rejects for the 4 KiB path fields and the error
 * buffer; these print at most 200 bytes of each side.
 */
#define CHECK_S(a, b) do {						\
	const char *_a = (a), *_b = (b);				\
	if (strcmp(_a, _b) != 0)					\
		UNIT_FAIL("%s == \"%.200s\", expected \"%.200s\"", #a,	\
		    _a, _b);						\
} while (0)
#define CHECK_IN(a, b) do {						\
	const char *_a = (a), *_b = (b);				\
	if (strstr(_a, _b) == NULL)					\
		UNIT_FAIL("%s == \"%.200s\", expected to contain "	\
		    "\"%.200s\"", #a, _a, _b);				\
} while (0)

/*
 * Writes text to a new file under /tmp and loads it into c.  The file is
 * removed before returning; its name stays in path for the messages.
 */
static int
load_text(const char *text, struct conf *c, char *err, size_t errlen,
    char *path, size_t pathlen)
{
	int	fd, rc;
	size_t	len = strlen(text);

	snprintf(path, pathlen, "/tmp/test_conf.XXXXXX");
	if ((fd = mkstemp(path)) == -1) {
		UNIT_FAIL("mkstemp: %s", strerror(errno));
		conf_defaults(c);
		return -2;
	}
	if (write(fd, text, len) != (ssize_t)len) {
		UNIT_FAIL("write %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		conf_defaults(c);
		return -2;
	}
	close(fd);
	rc = conf_load(c, path, err, errlen);
	unlink(path);
	return rc;
}

/*
 * Compares two configurations field by field and fails naming the first
 * field that differs; returns whether they are the same.
 */
static int
conf_same(const struct conf *a, const struct conf *b)
{
	uint32_t	i;

#define SAME_STR(f) do {						\
	if (strcmp(a->f, b->f) != 0) {					\
		UNIT_FAIL("%s: \"%.200s\" != \"%.200s\"", #f, a->f,	\
		    b->f);						\
		return 0;						\
	}								\
} while (0)
#define SAME_INT(f) do {						\
	if ((long long)a->f != (long long)b->f) {			\
		UNIT_FAIL("%s: %lld != %lld", #f, (long long)a->f,	\
		    (long long)b->f);					\
		return 0;						\
	}								\
} while (0)
#define SAME_PTR_STR(f) do {						\
	if ((a->f == NULL) != (b->f == NULL) ||				\
	    (a->f != NULL && strcmp(a->f, b->f) != 0)) {		\
		UNIT_FAIL("%s differs", #f);				\
		return 0;						\
	}								\
} while (0)

	SAME_STR(device);
	SAME_INT(log_level);
	SAME_STR(writer.socket);
	SAME_STR(writer.database);
	SAME_INT(writer.synchronous);
	SAME_INT(writer.flush_samples);
	SAME_INT(writer.flush_ms);
	SAME_INT(writer.max_peers);
	SAME_INT(writer.peer_out_bytes);
	SAME_INT(writer.tap_out_bytes);
	SAME_INT(writer.compact_samples);
	SAME_INT(writer.compact_ms);
	SAME_INT(writer.checkpoint_ms);
	SAME_INT(writer.journal_size_limit);
	SAME_INT(sampler.interval_ms);
	SAME_STR(sampler.root);
	SAME_INT(sampler.queue_bytes);
	SAME_INT(sampler.nsources);
	for (i = 0; i < a->sampler.nsources; i++) {
		SAME_STR(sampler.sources[i].name);
		SAME_STR(sampler.sources[i].instance);
		SAME_INT(sampler.sources[i].enabled);
		SAME_INT(sampler.sources[i].interval_ms);
		SAME_INT(sampler.sources[i].timeout_ms);
		SAME_PTR_STR(sampler.sources[i].command);
		SAME_PTR_STR(sampler.sources[i].url);
		SAME_PTR_STR(sampler.sources[i].file);
		SAME_PTR_STR(sampler.sources[i].stream);
	}
	return 1;
#undef SAME_STR
#undef SAME_INT
#undef SAME_PTR_STR
}

/*
 * Sets TERN_RUNDIR to value (NULL: unset) and, with rundir_restore, puts
 * back what the environment held, so that one test's setting cannot leak
 * into the next.
 */
struct env_saved {
	char	value[4096];
	int	was_set;
};

static void
rundir_set(struct env_saved *saved, const char *value)
{
	const char	*old = getenv("TERN_RUNDIR");

	saved->was_set = old != NULL;
	snprintf(saved->value, sizeof(saved->value), "%s", old ? old : "");
	if (value != NULL)
		setenv("TERN_RUNDIR", value, 1);
	else
		unsetenv("TERN_RUNDIR");
}

static void
rundir_restore(const struct env_saved *saved)
{
	if (saved->was_set)
		setenv("TERN_RUNDIR", saved->value, 1);
	else
		unsetenv("TERN_RUNDIR");
}

TEST(defaults_without_file)
{
	static const char *const names[] = {
		"cpu", "load", "memory", "disk", "diskio", "net", "thermal",
	};
	struct env_saved	 env;
	struct conf		 c, d;
	char			 host[256], err[512];
	uint32_t		 i;

	rundir_set(&env, NULL);
	conf_defaults(&c);
	CHECK_S(c.path, "");
	if (gethostname(host, sizeof(host)) == 0 && host[0] != '\0') {
		host[sizeof(c.device) - 1] = '\0';
		CHECK_S(c.device, host);
	}
	CHECK_INT(c.log_level, LOG_INFO);
	CHECK_S(c.writer.socket, "/run/tern/writer.sock");
	CHECK_S(c.writer.database, "/var/lib/tern/tern.db");
	CHECK_INT(c.writer.synchronous, CONF_SYNC_FULL);
	CHECK_INT(c.writer.flush_samples, 20000);
	CHECK_INT(c.writer.flush_ms, 1000);
	CHECK_INT(c.writer.max_peers, 64);
	CHECK_INT(c.writer.peer_out_bytes, 8 << 20);
	CHECK_INT(c.writer.tap_out_bytes, 4 << 20);
	CHECK_INT(c.writer.compact_samples, 256);
	CHECK_INT(c.writer.compact_ms, 10 * 60 * 1000);
	CHECK_INT(c.writer.checkpoint_ms, 30 * 1000);
	CHECK_INT(c.writer.journal_size_limit, 16 << 20);
	CHECK_INT(c.sampler.interval_ms, 10 * 1000);
	CHECK_S(c.sampler.root, "/");
	CHECK_INT(c.sampler.queue_bytes, 4 << 20);
	CHECK_INT(c.sampler.nsources, sizeof(names) / sizeof(names[0]));
	for (i = 0; i < c.sampler.nsources &&
	    i < sizeof(names) / sizeof(names[0]); i++) {
		const struct conf_source *s = &c.sampler.sources[i];

		CHECK_S(s->name, names[i]);
		CHECK_S(s->instance, "");
		CHECK_INT(s->enabled, 1);
		CHECK_INT(s->interval_ms, 0);
		CHECK_INT(s->timeout_ms, 5000);
		CHECK(s->command == NULL && s->url == NULL &&
		    s->file == NULL && s->stream == NULL);
	}

	/* With no file where one is looked for, loading gives the same. */
	if (access(CONF_DEFAULT_PATH, F_OK) == -1) {
		CHECK_INT(conf_load(&d, NULL, err, sizeof(err)), 0);
		CHECK_S(err, "");
		CHECK_S(d.path, "");
		conf_same(&c, &d);
		conf_free(&d);
	}
	conf_free(&c);
	CHECK(c.sampler.sources == NULL && c.sampler.nsources == 0);
	conf_free(&c);		/* twice is harmless */
	conf_free(NULL);
	rundir_restore(&env);
}

/* The documented file sets every key to its default. */
TEST(shipped_file_equals_defaults)
{
	static const char *const rundirs[] = { NULL, "/tmp/tern-test-run" };
	struct env_saved	 env;
	struct conf		 c, d;
	char			 err[512];
	size_t			 i;

	for (i = 0; i < sizeof(rundirs) / sizeof(rundirs[0]); i++) {
		rundir_set(&env, rundirs[i]);
		conf_defaults(&d);
		if (conf_load(&c, SHIPPED_CONF, err, sizeof(err)) != 0)
			UNIT_FAIL("%.400s", err);
		CHECK_S(c.path, SHIPPED_CONF);
		conf_same(&c, &d);
		conf_free(&c);
		conf_free(&d);
		rundir_restore(&env);
	}
}

TEST(explicit_missing_file_is_an_error)
{
	struct conf	c, d;
	char		err[512];

	CHECK_INT(conf_load(&c, "/nonexistent/tern.conf", err, sizeof(err)),
	    -1);
	CHECK_S(err, "/nonexistent/tern.conf: No such file or directory");
	conf_defaults(&d);
	conf_same(&c, &d);
	conf_free(&c);
	conf_free(&d);
}

/*
 * Every rejected configuration: the line the message must name and what
 * it must say.  Several cases set values (and allocate strings) before
 * the error, to show that a failed load frees them and leaves defaults.
 */
static const struct {
	const char	*text;
	int		 line;
	const char	*says;
} bad_confs[] = {
	/* unknown keys: in a section, at the top, in a source entry */
	{ "writer = {\n  flush_samples = 10;\n  flsh_ms = 5;\n};\n", 3,
	  "unknown key 'writer.flsh_ms'" },
	{ "log_level = \"info\";\nloglevel = \"debug\";\n", 2,
	  "unknown key 'loglevel'" },
	{ "\nuploader = {\n  urll = \"http://x/\";\n};\n", 3,
	  "unknown key 'uploader.urll'" },
	{ "receiver = { port = 0; };\n", 1,
	  "receiver.port" },
	{ "uploader = { format = \"xml\"; };\n", 1,
	  "msgpack or json" },
	{ "device = { id = \"a\"; name = \"b\"; };\n", 1,
	  "unknown key 'device.name'" },
	{ "sampler = {\n  metrics = (\n    { name = \"cpu\"; },\n"
	  "    { name = \"exec\";\n      cmd = \"date +%s\"; }\n  );\n};\n", 5,
	  "unknown key 'sampler.metrics[1].cmd'" },
	{ "writer = { flush = { ms = 5; }; };\n", 1,
	  "unknown key 'writer.flush'" },
	{ "metrics = (\n  { name = \"cpu\"; interval = \"30s\"; }\n);\n", 1,
	  "unknown key 'metrics' (sampler.metrics?)" },
	/* ranges */
	{ "writer = {\n  flush_ms = 0;\n};\n", 2,
	  "writer.flush_ms: 0 is below the minimum 1ms" },
	{ "writer = { max_peers = 100000; };\n", 1,
	  "writer.max_peers: 100000 is above the maximum 1000" },
	{ "writer = { flush_samples = -1; };\n", 1,
	  "writer.flush_samples: -1 is below the minimum 1" },
	{ "sampler = { interval = \"50ms\"; };\n", 1,
	  "sampler.interval: 50ms is below the minimum 100ms" },
	{ "sampler = { interval = 0; };\n", 1,
	  "sampler.interval: 0 is below the minimum 100ms" },
	{ "writer = { checkpoint_ms = \"2h\"; };\n", 1,
	  "writer.checkpoint_ms: 2h is above the maximum 1h" },
	{ "writer = { peer_out_bytes = \"1M\"; };\n", 1,
	  "writer.peer_out_bytes: 1M is below the minimum 2M" },
	{ "writer = { journal_size_limit = \"2G\"; };\n", 1,
	  "writer.journal_size_limit: 2G is above the maximum 1G" },
	{ "writer = { flush_ms = 9223372036854775807L; };\n", 1,
	  "writer.flush_ms: 9223372036854775807 is above the maximum 10m" },
	{ "sampler = { interval = \"999999999999999999d\"; };\n", 1,
	  "sampler.interval: bad duration \"999999999999999999d\"" },
	{ "device = { id = \"\"; };\n", 1, "device.id: must not be empty" },
	{ "device = { id = \"0123456789012345678901234567890123456789"
	  "012345678901234567890123456789\"; };\n", 1,
	  "device.id: longer than 63 bytes" },
	{ "writer = { socket = \"\"; };\n", 1,
	  "writer.socket: must not be empty" },
	/* types */
	{ "writer = {\n  flush_samples = \"many\";\n};\n", 2,
	  "writer.flush_samples: expected an integer, not a string" },
	{ "writer = { flush_samples = 1.5; };\n", 1,
	  "writer.flush_samples: expected an integer, not a float" },
	{ "writer = { database = 5; };\n", 1,
	  "writer.database: expected a string, not an integer" },
	{ "writer = 5;\n", 1, "writer: expected a group { ... }" },
	{ "writer = { flush_ms = true; };\n", 1,
	  "writer.flush_ms: expected a duration" },
	{ "writer = { tap_out_bytes = [1, 2]; };\n", 1,
	  "writer.tap_out_bytes: expected a size" },
	{ "sampler = { metrics = ( { name = \"cpu\"; enabled = \"yes\"; } ); "
	  "};\n", 1,
	  "sampler.metrics[0].enabled: expected true or false, not a string" },
	{ "sampler = { metrics = { name = \"cpu\"; }; };\n", 1,
	  "sampler.metrics: expected a list" },
	{ "sampler = {\n  metrics = ( \"cpu\" );\n};\n", 2,
	  "sampler.metrics[0]: expected a group" },
	/* units */
	{ "sampler = {\n  interval = \"10x\";\n};\n", 2,
	  "sampler.interval: bad duration \"10x\"" },
	{ "sampler = { interval = \"1.5s\"; };\n", 1,
	  "sampler.interval: bad duration \"1.5s\"" },
	{ "writer = { peer_out_bytes = \"8MB\"; };\n", 1,
	  "writer.peer_out_bytes: bad size \"8MB\"" },
	/* names */
	{ "writer = { synchronous = \"fast\"; };\n", 1,
	  "writer.synchronous: unknown value \"fast\" "
	  "(expected off, normal or full)" },
	{ "log_level = \"loud\";\n", 1, "log_level: unknown value \"loud\"" },
	/* libconfig's own errors */
	{ "writer = {\n  flush_ms = ;\n};\n", 2, "syntax error" },
	{ "writer = {\n  max_peers = 3;\n  flush_ms = [1, \"a\"];\n};\n", 3,
	  "mismatched element type in array" },
	{ "log_level = \"info\";\nlog_level = \"debug\";\n", 2,
	  "duplicate setting name" },
	/* an alias and its key together */
	{ "writer = {\n  flush_samples = 10;\n  write_buffer = 20;\n};\n", 3,
	  "writer.write_buffer: same key as writer.flush_samples on line 2" },
	{ "writer = {\n  database_path = \"/a\";\n  database = \"/b\";\n};\n",
	  2, "writer.database_path: same key as writer.database on line 3" },
	/* sources */
	{ "sampler = {\n  metrics = (\n    { name = \"exec\";\n"
	  "      interval = \"1m\"; }\n  );\n};\n", 3,
	  "sampler.metrics[0]: exec needs command" },
	{ "sampler = { metrics = ( { name = \"prometheus\"; } ); };\n", 1,
	  "sampler.metrics[0]: prometheus needs url or file" },
	{ "sampler = { metrics = ( { name = \"srt\"; stream = \"x\"; } ); };\n",
	  1, "sampler.metrics[0]: srt needs url or file" },
	{ "sampler = { metrics = ( { name = \"prometheus\";\n"
	  "  url = \"http://h/metrics\"; file = \"/x.prom\"; } ); };\n", 1,
	  "sampler.metrics[0]: prometheus takes one of url or file, not both" },
	{ "sampler = {\n  metrics = (\n"
	  "    { name = \"exec\"; command = \"a\"; },\n"
	  "    { name = \"gpu\"; }\n  );\n};\n", 4,
	  "sampler.metrics[1].name: unknown source \"gpu\" (one of cpu, load, "
	  "memory, disk, diskio, net, thermal, exec, prometheus, srt)" },
	{ "sampler = { metrics = (\n  { enabled = false; }\n); };\n", 2,
	  "sampler.metrics[0]: name is required" },
	{ "sampler = { metrics = (\n  { name = \"cpu\";\n"
	  "    command = \"x\"; }\n); };\n", 3,
	  "sampler.metrics[0].command: cpu takes no command" },
	{ "sampler = { metrics = ( { name = \"load\"; timeout = 3; } ); };\n",
	  1, "sampler.metrics[0].timeout: load takes no timeout" },
	{ "sampler = { metrics = ( { name = \"exec\"; command = \"a\";\n"
	  "  stream = \"s\"; } ); };\n", 2,
	  "sampler.metrics[0].stream: exec takes no stream" },
	{ "sampler = { metrics = ( { name = \"prometheus\";\n"
	  "  url = \"ftp://h/m\"; } ); };\n", 2,
	  "sampler.metrics[0].url: \"ftp://h/m\" is not an http:// or https:// "
	  "URL" },
	{ "sampler = { metrics = (\n"
	  "  { name = \"exec\"; command = \"\"; } ); };\n", 2,
	  "sampler.metrics[0].command: must not be empty" },
	{ "sampler = { metrics = (\n  { name = \"cpu\"; },\n"
	  "  { name = \"exec\"; command = \"a\"; instance = \"m\"; },\n"
	  "  { name = \"exec\"; command = \"b\"; instance = \"m\"; }\n); };\n",
	  4, "sampler.metrics[2]: same source and instance as the entry on "
	  "line 3" },
	{ "sampler = { metrics = ( { name = \"cpu\"; interval = 0; } ); };\n",
	  1, "sampler.metrics[0].interval: 0 is below the minimum 100ms" },
};

TEST(errors_name_file_and_line)
{
	struct conf	c, d;
	char		err[512], path[64], want[128];
	size_t		i;
	int		rc;

	conf_defaults(&d);
	for (i = 0; i < sizeof(bad_confs) / sizeof(bad_confs[0]); i++) {
		err[0] = '\0';
		rc = load_text(bad_confs[i].text, &c, err, sizeof(err), path,
		    sizeof(path));
		if (rc != -1)
			UNIT_FAIL("case %zu (%s) loaded", i, bad_confs[i].says);
		snprintf(want, sizeof(want), "%s:%d: ", path,
		    bad_confs[i].line);
		if (strncmp(err, want, strlen(want)) != 0)
			UNIT_FAIL("case %zu: \"%.200s\" does not start with "
			    "\"%.100s\"", i, err, want);
		if (strstr(err, bad_confs[i].says) == NULL)
			UNIT_FAIL("case %zu: \"%.200s\" does not say "
			    "\"%.200s\"", i, err, bad_confs[i].says);
		/* A failed load leaves exactly the defaults. */
		conf_same(&c, &d);
		conf_free(&c);
	}
	conf_free(&d);
}

/* Every value away from its default, so that no key is silently lost. */
TEST(every_key_loads)
{
	static const char text[] =
	    "device = { id = \"belabox-001\"; };\n"
	    "log_level = \"debug\";\n"
	    "writer = {\n"
	    "  socket = \"/tmp/w.sock\";\n"
	    "  database = \"/tmp/t.db\";\n"
	    "  synchronous = \"full\";\n"
	    "  flush_samples = 50;\n"
	    "  flush_ms = 250;\n"
	    "  max_peers = 8;\n"
	    "  peer_out_bytes = \"16M\";\n"
	    "  tap_out_bytes = 65536;\n"
	    "  compact_samples = 32;\n"
	    "  compact_ms = \"1h\";\n"
	    "  checkpoint_ms = 5000;\n"
	    "  journal_size_limit = 0;\n"
	    "};\n"
	    "sampler = {\n"
	    "  interval = \"500ms\";\n"
	    "  root = \"test/fixtures/rpi\";\n"
	    "  queue_bytes = \"64k\";\n"
	    "  metrics = (\n"
	    "    { name = \"cpu\"; enabled = false; interval = 2; },\n"
	    "    { name = \"exec\"; instance = \"modem\";\n"
	    "      command = \"echo x 1\"; timeout = \"250ms\"; },\n"
	    "    { name = \"prometheus\"; file = \"/var/lib/prom/a.prom\"; },\n"
	    "    { name = \"srt\"; url = \"https://sls:8181/stats\";\n"
	    "      stream = \"live/belabox\"; interval = \"5s\"; }\n"
	    "  );\n"
	    "};\n";
	struct conf			 c;
	const struct conf_source	*s;
	char				 err[512], path[64];

	if (load_text(text, &c, err, sizeof(err), path, sizeof(path)) != 0)
		UNIT_FAIL("%.400s", err);
	CHECK_S(c.path, path);
	CHECK_S(c.device, "belabox-001");
	CHECK_INT(c.log_level, LOG_DEBUG);
	CHECK_S(c.writer.socket, "/tmp/w.sock");
	CHECK_S(c.writer.database, "/tmp/t.db");
	CHECK_INT(c.writer.synchronous, CONF_SYNC_FULL);
	CHECK_INT(c.writer.flush_samples, 50);
	CHECK_INT(c.writer.flush_ms, 250);
	CHECK_INT(c.writer.max_peers, 8);
	CHECK_INT(c.writer.peer_out_bytes, 16 << 20);
	CHECK_INT(c.writer.tap_out_bytes, 65536);
	CHECK_INT(c.writer.compact_samples, 32);
	CHECK_INT(c.writer.compact_ms, 3600 * 1000);
	CHECK_INT(c.writer.checkpoint_ms, 5000);
	CHECK_INT(c.writer.journal_size_limit, 0);
	CHECK_INT(c.sampler.interval_ms, 500);
	CHECK_S(c.sampler.root, "test/fixtures/rpi");
	CHECK_INT(c.sampler.queue_bytes, 65536);
	CHECK_INT(c.sampler.nsources, 4);
	if (c.sampler.nsources == 4) {
		s = &c.sampler.sources[0];
		CHECK_S(s->name, "cpu");
		CHECK_INT(s->enabled, 0);
		CHECK_INT(s->interval_ms, 2000);
		s = &c.sampler.sources[1];
		CHECK_S(s->name, "exec");
		CHECK_S(s->instance, "modem");
		CHECK_INT(s->enabled, 1);
		CHECK_INT(s->interval_ms, 0);
		CHECK_INT(s->timeout_ms, 250);
		CHECK_S(s->command, "echo x 1");
		s = &c.sampler.sources[2];
		CHECK_S(s->name, "prometheus");
		CHECK_S(s->file, "/var/lib/prom/a.prom");
		CHECK(s->url == NULL);
		CHECK_INT(s->timeout_ms, 5000);
		s = &c.sampler.sources[3];
		CHECK_S(s->name, "srt");
		CHECK_S(s->url, "https://sls:8181/stats");
		CHECK_S(s->stream, "live/belabox");
		CHECK_INT(s->interval_ms, 5000);
	}
	conf_free(&c);
}

/* Seed 003's configuration, in tern's sections. */
TEST(seed_style_file_loads)
{
	static const char text[] =
	    "device:\n{\n  id = \"belabox-001\";\n};\n"
	    "sampler:\n{\n  metrics = (\n"
	    "    { name = \"thermal\"; interval = \"30s\"; enabled = true; },\n"
	    "    { name = \"srt\"; url = \"http://127.0.0.1:8181/stats\";\n"
	    "      interval = \"5s\"; enabled = true; }\n"
	    "  );\n};\n";
	struct conf	c;
	char		err[512], path[64];

	if (load_text(text, &c, err, sizeof(err), path, sizeof(path)) != 0)
		UNIT_FAIL("%.400s", err);
	CHECK_S(c.device, "belabox-001");
	CHECK_INT(c.sampler.nsources, 2);
	if (c.sampler.nsources == 2) {
		CHECK_INT(c.sampler.sources[0].interval_ms, 30000);
		CHECK_INT(c.sampler.sources[1].interval_ms, 5000);
	}
	conf_free(&c);
}

TEST(empty_metrics_list_reads_nothing)
{
	static const char *const texts[] = {
		"sampler = { metrics = (); };\n",
		"sampler = { metrics = []; };\n",
	};
	struct conf	c;
	char		err[512], path[64];
	size_t		i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (load_text(texts[i], &c, err, sizeof(err), path,
		    sizeof(path)) != 0)
			UNIT_FAIL("%.400s", err);
		CHECK_INT(c.sampler.nsources, 0);
		CHECK(c.sampler.sources == NULL);
		conf_free(&c);
	}
}

/* Seed 001's names for two writer keys. */
TEST(seed_aliases)
{
	struct conf	c;
	char		err[512], path[64];

	if (load_text("writer = { write_buffer = 100;\n"
	    "  database_path = \"/tmp/pulse.db\"; };\n", &c, err, sizeof(err),
	    path, sizeof(path)) != 0)
		UNIT_FAIL("%.400s", err);
	CHECK_INT(c.writer.flush_samples, 100);
	CHECK_S(c.writer.database, "/tmp/pulse.db");
	conf_free(&c);
}

/* Bare numbers take the unit of the key's name; strings carry their own. */
TEST(duration_keys_units)
{
	static const struct {
		const char	*text;
		int64_t		 flush_ms, interval_ms;
	} cases[] = {
		{ "writer = { flush_ms = 250; };", 250, 10000 },
		{ "writer = { flush_ms = \"250\"; };", 250, 10000 },
		{ "writer = { flush_ms = \"2s\"; };", 2000, 10000 },
		{ "sampler = { interval = 2; };", 1000, 2000 },
		{ "sampler = { interval = \"2\"; };", 1000, 2000 },
		{ "sampler = { interval = \"250ms\"; };", 1000, 250 },
		{ "sampler = { interval = 3L; };", 1000, 3000 },
	};
	struct conf	c;
	char		err[512], path[64];
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (load_text(cases[i].text, &c, err, sizeof(err), path,
		    sizeof(path)) != 0)
			UNIT_FAIL("case %zu: %.400s", i, err);
		CHECK_INT(c.writer.flush_ms, cases[i].flush_ms);
		CHECK_INT(c.sampler.interval_ms, cases[i].interval_ms);
		conf_free(&c);
	}
}

TEST(parse_duration)
{
	static const struct {
		const char	*s;
		int		 ok;
		int64_t		 ms;
	} cases[] = {
		{ "250ms", 1, 250 },
		{ "10s", 1, 10000 },
		{ "5m", 1, 300000 },
		{ "2h", 1, 7200000 },
		{ "7d", 1, 604800000 },
		{ "90d", 1, 7776000000LL },
		{ "10", 1, 10000 },	/* seconds, as on a command line */
		{ "0", 1, 0 },
		{ "0ms", 1, 0 },
		{ "007s", 1, 7000 },
		{ "9223372036854775807ms", 1, INT64_MAX },
		{ "9223372036854775s", 1, 9223372036854775000LL },
		{ "9223372036854776s", 0, 0 },	/* overflows in ms */
		{ "9223372036854775808ms", 0, 0 },
		{ "99999999999999999999", 0, 0 },
		{ "", 0, 0 },
		{ "s", 0, 0 },
		{ "10x", 0, 0 },
		{ "10S", 0, 0 },
		{ "10sec", 0, 0 },
		{ "10 s", 0, 0 },
		{ " 10s", 0, 0 },
		{ "10s ", 0, 0 },
		{ "-5s", 0, 0 },
		{ "+5s", 0, 0 },
		{ "1.5s", 0, 0 },
		{ "1h30m", 0, 0 },
		{ "0x10s", 0, 0 },
	};
	size_t	i;
	int64_t	ms;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ms = -42;
		if (conf_parse_duration_ms(cases[i].s, &ms) != (cases[i].ok ?
		    0 : -1))
			UNIT_FAIL("\"%s\": expected %s", cases[i].s,
			    cases[i].ok ? "success" : "failure");
		else if (ms != (cases[i].ok ? cases[i].ms : -42))
			UNIT_FAIL("\"%s\": %lld ms", cases[i].s, (long long)ms);
	}
}

TEST(parse_bytes)
{
	static const struct {
		const char	*s;
		int		 ok;
		uint64_t	 bytes;
	} cases[] = {
		{ "64k", 1, 65536 },
		{ "64K", 1, 65536 },
		{ "16M", 1, 16777216 },
		{ "16m", 1, 16777216 },
		{ "1G", 1, 1073741824 },
		{ "1g", 1, 1073741824 },
		{ "2T", 1, 2199023255552ULL },
		{ "4096", 1, 4096 },
		{ "0", 1, 0 },
		{ "0k", 1, 0 },
		{ "9223372036854775807", 1, INT64_MAX },
		{ "8388607T", 1, 8388607ULL << 40 },
		{ "8388608T", 0, 0 },
		{ "18446744073709551615", 0, 0 },
		{ "", 0, 0 },
		{ "k", 0, 0 },
		{ "8MB", 0, 0 },
		{ "8MiB", 0, 0 },
		{ "8 M", 0, 0 },
		{ "-1", 0, 0 },
		{ "1.5G", 0, 0 },
		{ "1P", 0, 0 },
	};
	size_t		i;
	uint64_t	b;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = 42;
		if (conf_parse_bytes(cases[i].s, &b) != (cases[i].ok ? 0 : -1))
			UNIT_FAIL("\"%s\": expected %s", cases[i].s,
			    cases[i].ok ? "success" : "failure");
		else if (b != (cases[i].ok ? cases[i].bytes : 42))
			UNIT_FAIL("\"%s\": %llu bytes", cases[i].s,
			    (unsigned long long)b);
	}
}

TEST(rundir_default_paths)
{
	struct env_saved	 env;
	struct conf		 c;
	char			 err[512], path[64], longdir[200];

	rundir_set(&env, "/tmp/tern-test-run");
	conf_defaults(&c);
	CHECK_S(c.writer.socket, "/tmp/tern-test-run/writer.sock");
	CHECK_S(c.writer.database, "/tmp/tern-test-run/tern.db");
	conf_free(&c);
	rundir_restore(&env);

	/* Empty is the same as unset. */
	rundir_set(&env, "");
	conf_defaults(&c);
	CHECK_S(c.writer.socket, "/run/tern/writer.sock");
	CHECK_S(c.writer.database, "/var/lib/tern/tern.db");
	conf_free(&c);
	rundir_restore(&env);

	/*
	 * A directory too long for a socket name: the default is left empty
	 * rather than cut, and loading says so unless the file sets the key.
	 */
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	rundir_set(&env, longdir);
	conf_defaults(&c);
	CHECK_S(c.writer.socket, "");
	CHECK_INT(strlen(c.writer.database), strlen(longdir) + 8);
	conf_free(&c);
	CHECK_INT(load_text("log_level = \"info\";\n", &c, err, sizeof(err),
	    path, sizeof(path)), -1);
	CHECK_IN(err, "writer.socket: the default under $TERN_RUNDIR is "
	    "longer than 107 bytes; set writer.socket");
	conf_free(&c);
	if (load_text("writer = { socket = \"/tmp/s\"; };\n", &c, err,
	    sizeof(err), path, sizeof(path)) != 0)
		UNIT_FAIL("%.400s", err);
	CHECK_S(c.writer.socket, "/tmp/s");
	conf_free(&c);
	rundir_restore(&env);
}

int
main(void)
{
	RUN(defaults_without_file);
	RUN(shipped_file_equals_defaults);
	RUN(explicit_missing_file_is_an_error);
	RUN(errors_name_file_and_line);
	RUN(every_key_loads);
	RUN(seed_style_file_loads);
	RUN(empty_metrics_list_reads_nothing);
	RUN(seed_aliases);
	RUN(duration_keys_units);
	RUN(parse_duration);
	RUN(parse_bytes);
	RUN(rundir_default_paths);
	return UNIT_DONE();
}
