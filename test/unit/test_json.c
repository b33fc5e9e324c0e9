/*
 * test_json.c -- the small JSON tokenizer.
 */
#include "unit.h"
#include "json.h"

static long
parse(const char *s, struct json_tok *t, size_t max, char *err)
{
	return json_parse(s, strlen(s), t, max, err, 128);
}

TEST(json_walk)
{
	const char	*s = " {\"a\": [1, 2.5e1, {\"x\": null}], \"b\\\"q\": "
	    "\"h\\u00e9\\n\\ud83d\\ude00\", \"c\": true, \"d\": -0.5} ";
	struct json_tok	 t[32];
	char		 err[128], str[32];
	long		 n, a, b;
	double		 v;

	n = parse(s, t, 32, err);
	CHECK_INT(n, 14);
	CHECK_INT(t[0].type, JSON_OBJECT);
	CHECK_INT(t[0].next, n);
	a = json_get(s, t, 0, "a");
	CHECK_INT(t[a].type, JSON_ARRAY);
	CHECK_INT(json_num(s, t, a + 2, &v), 0);
	CHECK_NEAR(v, 25, 0);
	b = json_get(s, t, 0, "b\"q");
	CHECK(b > 0);
	CHECK_INT(json_str(s, t, b, str, sizeof(str)), 0);
	CHECK_STR(str, "h\xc3\xa9\n\xf0\x9f\x98\x80");
	CHECK_INT(t[json_get(s, t, 0, "c")].type, JSON_TRUE);
	CHECK_INT(json_num(s, t, json_get(s, t, 0, "d"), &v), 0);
	CHECK_NEAR(v, -0.5, 0);
	CHECK_INT(json_get(s, t, 0, "x"), -1);	/* not at this level */
	CHECK_INT(json_get(s, t, 0, "zz"), -1);
	CHECK_INT(json_get(s, t, a, "a"), -1);	/* not an object */
}

TEST(json_errors)
{
	static const char *const bad[] = {
		"", "{", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "{a:1}", "01",
		"1.", "-", "tru", "\"abc", "\"\\x\"", "\"\\u12g4\"", "[1] 2",
		"{\"a\":\"\x01\"}", "nul",
	};
	struct json_tok	 t[16];
	char		 err[128];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], t, 16, err) != -1)
			UNIT_FAIL("accepted \"%s\"", bad[i]);
}

TEST(json_limits)
{
	char		 deep[100], err[128];
	struct json_tok	 t[200];
	int		 i;

	for (i = 0; i < 40; i++)
		deep[i] = '[';
	for (i = 0; i < 40; i++)
		deep[40 + i] = ']';
	deep[80] = '\0';
	CHECK_INT(parse(deep, t, 200, err), -1);
	CHECK_HAS(err, "deep");
	CHECK_INT(parse("[1,2,3,4,5]", t, 5, err), -1);
	CHECK_HAS(err, "too many");
	CHECK_INT(parse("[1,2,3,4,5]", t, 6, err), 6);
}

int
main(void)
{
	RUN(json_walk);
	RUN(json_errors);
	RUN(json_limits);
	return UNIT_DONE();
}
