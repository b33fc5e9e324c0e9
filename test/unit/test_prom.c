/*
 * test_prom.c -- the Prometheus text parser, on strings.
 */
#include "unit.h"
#include "prom.h"

static int
parse(const char *text, struct prom_sample *s, char *line, size_t size,
    char *err)
{
	snprintf(line, size, "%s", text);
	return prom_parse_line(line, s, err, 128);
}

TEST(prom_plain)
{
	struct prom_sample s;
	char	line[256], err[128];

	CHECK_INT(parse("up 1", &s, line, sizeof(line), err), 1);
	CHECK_STR(s.name, "up");
	CHECK_INT(s.nlabels, 0);
	CHECK_NEAR(s.value, 1, 0);
	CHECK_INT(s.has_ts, 0);
	CHECK_INT(parse("  node_load1\t0.25  ", &s, line, sizeof(line), err),
	    1);
	CHECK_STR(s.name, "node_load1");
	CHECK_NEAR(s.value, 0.25, 0);
	CHECK_INT(parse("a:b_c 1e3 1760170000123", &s, line, sizeof(line),
	    err), 1);
	CHECK_NEAR(s.value, 1000, 0);
	CHECK_INT(s.has_ts, 1);
	CHECK_INT(s.ts_ms, 1760170000123LL);
	CHECK_INT(parse("x -2.5e-3", &s, line, sizeof(line), err), 1);
	CHECK_NEAR(s.value, -0.0025, 1e-18);
	CHECK_INT(parse("x 1\r", &s, line, sizeof(line), err), 1);
}

TEST(prom_labels_and_escapes)
{
	struct prom_sample s;
	char	line[256], err[128];

	CHECK_INT(parse("m{a=\"x\",b=\"q \\\"y\\\" \\\\ \\n end\",} 3",
	    &s, line, sizeof(line), err), 1);
	CHECK_STR(s.name, "m");
	CHECK_INT(s.nlabels, 2);
	CHECK_STR(s.labels[0].k, "a");
	CHECK_STR(s.labels[0].v, "x");
	CHECK_STR(s.labels[1].k, "b");
	CHECK_STR(s.labels[1].v, "q \"y\" \\ \n end");
	CHECK_NEAR(s.value, 3, 0);
	CHECK_INT(parse("m { a = \"1\" } 4 5", &s, line, sizeof(line), err),
	    1);
	CHECK_STR(s.labels[0].v, "1");
	CHECK_INT(s.ts_ms, 5);
	CHECK_INT(parse("m{} 4", &s, line, sizeof(line), err), 1);
	CHECK_INT(s.nlabels, 0);
	/* A '}' or ',' inside a quoted value is data. */
	CHECK_INT(parse("m{a=\"}, {\"} 1", &s, line, sizeof(line), err), 1);
	CHECK_STR(s.labels[0].v, "}, {");
}

TEST(prom_special_values)
{
	struct prom_sample s;
	char	line[256], err[128];

	CHECK_INT(parse("a +Inf", &s, line, sizeof(line), err), 1);
	CHECK(isinf(s.value) && s.value > 0);
	CHECK_INT(parse("a -Inf", &s, line, sizeof(line), err), 1);
	CHECK(isinf(s.value) && s.value < 0);
	CHECK_INT(parse("a NaN", &s, line, sizeof(line), err), 1);
	CHECK(isnan(s.value));
	CHECK_INT(parse("a nan", &s, line, sizeof(line), err), 1);
	CHECK(isnan(s.value));
}

TEST(prom_nothing)
{
	struct prom_sample s;
	char	line[256], err[128];

	CHECK_INT(parse("", &s, line, sizeof(line), err), 0);
	CHECK_INT(parse("   ", &s, line, sizeof(line), err), 0);
	CHECK_INT(parse("# HELP up Whether it is up.", &s, line, sizeof(line),
	    err), 0);
	CHECK_INT(parse("# TYPE up gauge", &s, line, sizeof(line), err), 0);
	CHECK_INT(parse("  # EOF", &s, line, sizeof(line), err), 0);
}

TEST(prom_bad_lines)
{
	static const struct {
		const char *line, *why;
	} bad[] = {
		{ "this is not a metric", "bad value" },
		{ "{a=\"x\"} 3", "metric name" },
		{ "1abc 3", "metric name" },
		{ "m", "no value" },
		{ "m{a=\"x\"}", "no value" },
		{ "m twelve", "bad value" },
		{ "m 0x10", "bad value" },
		{ "m 1 2 3", "garbage" },
		{ "m 1 12.5", "bad timestamp" },
		{ "m{a=\"x\" 5", "expected ','" },
		{ "m{a=\"x", "unterminated" },
		{ "m{a=x} 1", "expected '\"'" },
		{ "m{a} 1", "expected '='" },
		{ "m{1a=\"x\"} 1", "bad label name" },
		{ "m{a=\"\\q\"} 1", "invalid escape" },
		{ "m{a=\"1\",a=\"2\"} 1", "duplicate label" },
		{ "m{a=\"1\"}1", "blank" },
	};
	struct prom_sample s;
	char	line[256], err[128];
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (parse(bad[i].line, &s, line, sizeof(line), err) != -1) {
			UNIT_FAIL("accepted \"%s\"", bad[i].line);
			continue;
		}
		if (strstr(err, bad[i].why) == NULL)
			UNIT_FAIL("\"%s\": reason \"%s\", expected \"%s\"",
			    bad[i].line, err, bad[i].why);
	}
}

TEST(prom_limits)
{
	struct prom_sample s;
	char	line[4096], err[128], *p;
	int	i;

	/* 33 labels */
	p = line + sprintf(line, "m{");
	for (i = 0; i < BODY_MAX_LABELS + 1; i++)
		p += sprintf(p, "l%d=\"v\",", i);
	sprintf(p, "} 1");
	CHECK_INT(prom_parse_line(line, &s, err, sizeof(err)), -1);
	CHECK_HAS(err, "more than");
	memset(line, 'n', 300);
	strcpy(line + 300, " 1");
	CHECK_INT(prom_parse_line(line, &s, err, sizeof(err)), -1);
	CHECK_HAS(err, "too long");
}

struct collect {
	int	n;
	double	sum;
	size_t	badline[8];
	int	nbad;
};

static void
on_sample(void *arg, const struct prom_sample *s)
{
	struct collect *c = arg;

	c->n++;
	c->sum += s->value;
}

static void
on_bad(void *arg, size_t lineno, const char *reason)
{
	struct collect *c = arg;

	if (c->nbad < 8)
		c->badline[c->nbad++] = lineno;
}

TEST(prom_document)
{
	char	doc[] = "# HELP a x\n# TYPE a gauge\na 1\n\ngarbage here\n"
	    "b{x=\"y\"} 2 1000\r\nc 3";		/* no final newline */
	struct collect c = { 0 };
	size_t	nbad = 99;

	CHECK_INT(prom_parse(doc, sizeof(doc) - 1, on_sample, on_bad, &c,
	    &nbad), 3);
	CHECK_INT(c.n, 3);
	CHECK_NEAR(c.sum, 6, 0);
	CHECK_INT(nbad, 1);
	CHECK_INT(c.badline[0], 5);
}

TEST(prom_document_nul)
{
	char	doc[] = "a 1\nb\0 2\nc 3\n";
	struct collect c = { 0 };
	size_t	nbad = 0;

	CHECK_INT(prom_parse(doc, sizeof(doc) - 1, on_sample, on_bad, &c,
	    &nbad), 2);
	CHECK_INT(nbad, 1);
	CHECK_INT(c.badline[0], 2);
}

int
main(void)
{
	RUN(prom_plain);
	RUN(prom_labels_and_escapes);
	RUN(prom_special_values);
	RUN(prom_nothing);
	RUN(prom_bad_lines);
	RUN(prom_limits);
	RUN(prom_document);
	RUN(prom_document_nul);
	return UNIT_DONE();
}
