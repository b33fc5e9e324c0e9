/*
 * test_src_prom.c -- the prometheus source: a textfile and a scrape.
 */
#include "unit.h"
#include "srcfix.h"
#include "httpfix.h"

TEST(promsrc_textfile)
{
	struct conf_source c = fix_conf("prometheus");
	struct source	 src;
	struct batch	*b = batch_new();
	char		 err[256];
	double		 v = 0;

	c.file = (char *)(uintptr_t)FIX "prom/textfile.prom";
	snprintf(c.instance, sizeof(c.instance), "srtla");
	CHECK_INT(source_init(&src, &c, "/", 0, err, sizeof(err)), 0);
	CHECK_INT(src.ops->read(&src, b, 1000, err, sizeof(err)), 0);
	CHECK_SAMPLE(b, "srtla_link_rtt_ms",
	    "carrier=Telekom \"LTE\",instance=srtla,link=usb0", 62.5, 0);
	CHECK_SAMPLE(b, "srtla_link_rtt_ms",
	    "carrier=Vodafone\\5G,instance=srtla,link=usb1", 71, 0);
	CHECK_SAMPLE(b, "srtla_link_naks_total", "instance=srtla,link=usb0",
	    1234, 0);
	CHECK_INT(fix_get(b, "srtla_link_bitrate_kbps",
	    "instance=srtla,link=usb0", &v), 1);
	CHECK(isinf(v));
	CHECK_SAMPLE(b, "srtla_up", "instance=srtla", 1, 0);
	CHECK_SAMPLE(b, "tern.prom.bad_lines", "source=prometheus/srtla", 1,
	    0);
	CHECK_INT(fix_count(b, "broken_line"), 0);
	{
		/* The exporter's timestamp is kept. */
		struct samples_msg m;
		uint32_t i;

		batch_view(b, &m);
		for (i = 0; i < m.npoints; i++)
			if (m.series[m.points[i].idx].name.n == 8 &&
			    memcmp(m.series[m.points[i].idx].name.p,
			    "srtla_up", 8) == 0)
				CHECK_INT(m.points[i].ts, 1760170000000LL);
	}
	source_fini(&src);
	batch_free(b);
}

TEST(promsrc_scrape)
{
	struct conf_source c = fix_conf("prometheus");
	struct source	 src;
	struct httpfix	 h;
	struct batch	*b = batch_new();
	char		 err[256], url[96];

	if (httpfix_start(&h, 1, 200, "# TYPE x gauge\nx{a=\"1\"} 42\n") ==
	    -1) {
		UNIT_FAIL("cannot start the HTTP fixture");
		return;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", h.port);
	c.url = url;
	CHECK_INT(source_init(&src, &c, "/", 0, err, sizeof(err)), 0);
	CHECK_INT(src.ops->read(&src, b, 1000, err, sizeof(err)), 0);
	CHECK_SAMPLE(b, "x", "a=1", 42, 0);
	httpfix_stop(&h);
	unlink(h.reqfile);
	source_fini(&src);
	batch_free(b);
}

TEST(promsrc_failures)
{
	struct conf_source c = fix_conf("prometheus");
	struct source	 src;
	struct batch	*b = batch_new();
	char		 err[256] = "";

	CHECK_INT(source_init(&src, &c, "/", 0, err, sizeof(err)), -1);
	CHECK_HAS(err, "neither url nor file");
	c.file = (char *)(uintptr_t)FIX "prom/missing.prom";
	CHECK_INT(source_init(&src, &c, "/", 0, err, sizeof(err)), 0);
	CHECK_INT(src.ops->read(&src, b, 1000, err, sizeof(err)), -1);
	CHECK_HAS(err, "missing.prom");
	source_fini(&src);
	c.file = NULL;
	c.url = (char *)(uintptr_t)"http://127.0.0.1:1/metrics";
	c.timeout_ms = 500;
	CHECK_INT(source_init(&src, &c, "/", 0, err, sizeof(err)), 0);
	CHECK_INT(src.ops->read(&src, b, 1000, err, sizeof(err)), -1);
	CHECK_HAS(err, "127.0.0.1:1");
	source_fini(&src);
	batch_free(b);
}

int
main(void)
{
	RUN(promsrc_textfile);
	RUN(promsrc_scrape);
	RUN(promsrc_failures);
	return UNIT_DONE();
}
