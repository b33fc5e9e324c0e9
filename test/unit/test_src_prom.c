/*
 * test_src_prom.c -- the prometheus source: a textfile and a scrape.
 */
#include "unit.h"
#include "srcfix.h"
#include "httpfix.h"

TEST(promsrc_textfile)
{
	struct fix	f;
	double		v = 0;

	fix_init(&f, "prometheus");
	f.c.file = (char *)(uintptr_t)FIX "prom/textfile.prom";
	snprintf(f.c.instance, sizeof(f.c.instance), "srtla");
	CHECK_INT(fix_open(&f, "/"), 0);
	CHECK_INT(fix_round(&f, 1000), 0);
	CHECK_SAMPLE(f.b, "srtla_link_rtt_ms",
	    "carrier=Telekom \"LTE\",instance=srtla,link=usb0", 62.5, 0);
	CHECK_SAMPLE(f.b, "srtla_link_rtt_ms",
	    "carrier=Vodafone\\5G,instance=srtla,link=usb1", 71, 0);
	CHECK_SAMPLE(f.b, "srtla_link_naks_total", "instance=srtla,link=usb0",
	    1234, 0);
	CHECK_INT(fix_get(f.b, "srtla_link_bitrate_kbps",
	    "instance=srtla,link=usb0", &v), 1);
	CHECK(isinf(v));
	CHECK_SAMPLE(f.b, "srtla_up", "instance=srtla", 1, 0);
	CHECK_SAMPLE(f.b, "tern.prom.bad_lines", "source=prometheus/srtla", 1,
	    0);
	CHECK_INT(fix_count(f.b, "broken_line"), 0);
	{
		/* The exporter's timestamp is kept. */
		struct samples_msg m;
		uint32_t i;

		batch_view(f.b, &m);
		for (i = 0; i < m.npoints; i++)
			if (m.series[m.points[i].idx].name.n == 8 &&
			    memcmp(m.series[m.points[i].idx].name.p,
			    "srtla_up", 8) == 0)
				CHECK_INT(m.points[i].ts, 1760170000000LL);
	}
	fix_stop(&f);
}

TEST(promsrc_scrape)
{
	struct fix	 f;
	struct httpfix	 h;
	char		 url[96];

	if (httpfix_start(&h, 1, 200, "# TYPE x gauge\nx{a=\"1\"} 42\n") ==
	    -1) {
		UNIT_FAIL("cannot start the HTTP fixture");
		return;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", h.port);
	fix_init(&f, "prometheus");
	f.c.url = url;
	CHECK_INT(fix_open(&f, "/"), 0);
	CHECK_INT(fix_round(&f, 1000), 0);
	CHECK_SAMPLE(f.b, "x", "a=1", 42, 0);
	httpfix_stop(&h);
	unlink(h.reqfile);
	fix_stop(&f);
}

TEST(promsrc_failures)
{
	struct fix	f;

	CHECK_INT(fix_start(&f, "prometheus", "/"), -1);
	CHECK_HAS(f.err, "neither url nor file");
	fix_stop(&f);

	fix_init(&f, "prometheus");
	f.c.file = (char *)(uintptr_t)FIX "prom/missing.prom";
	CHECK_INT(fix_open(&f, "/"), 0);
	CHECK_INT(fix_round(&f, 1000), -1);
	CHECK_HAS(f.err, "missing.prom");
	fix_stop(&f);

	fix_init(&f, "prometheus");
	f.c.url = (char *)(uintptr_t)"http://127.0.0.1:1/metrics";
	f.c.timeout_ms = 500;
	CHECK_INT(fix_open(&f, "/"), 0);
	CHECK_INT(fix_round(&f, 1000), -1);
	CHECK_HAS(f.err, "127.0.0.1:1");
	fix_stop(&f);
}

int
main(void)
{
	RUN(promsrc_textfile);
	RUN(promsrc_scrape);
	RUN(promsrc_failures);
	return UNIT_DONE();
}
