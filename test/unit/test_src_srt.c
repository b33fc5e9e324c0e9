/*
 * test_src_srt.c -- the srt source: SLS legacy stats over HTTP and from
 * files, a sender's per-link stats file, resets, and the loss arithmetic.
 */
#include "unit.h"
#include "srcfix.h"
#include "httpfix.h"
#include "srt.h"

TEST(srt_loss_arithmetic)
{
	double	pct = -1;

	/* Receiver: lost / (received + lost). */
	CHECK_INT(srt_loss_pct(50, 5000, 0, &pct), 1);
	CHECK_NEAR(pct, 100.0 * 50 / 5050, 1e-12);
	/* Sender: lost / sent. */
	CHECK_INT(srt_loss_pct(40, 4000, 1, &pct), 1);
	CHECK_NEAR(pct, 1.0, 1e-12);
	/* No packets moved: no loss rate. */
	CHECK_INT(srt_loss_pct(0, 0, 0, &pct), 0);
	CHECK_INT(srt_loss_pct(0, 0, 1, &pct), 0);
	/* Never above 100. */
	CHECK_INT(srt_loss_pct(10, 5, 1, &pct), 1);
	CHECK_NEAR(pct, 100, 0);
	/* 5.264 Mbit/s for 10 s in 1316-byte packets. */
	CHECK_NEAR(srt_packets_est(5.264, 10000), 5000, 1e-9);
}

/* An srt source on file or url: 0, or -1 (see f->err). */
static int
srt_start(struct fix *f, const char *file, const char *url,
    const char *stream)
{
	fix_init(f, "srt");
	f->c.file = (char *)(uintptr_t)file;
	f->c.url = (char *)(uintptr_t)url;
	f->c.stream = (char *)(uintptr_t)stream;
	f->c.timeout_ms = 2000;
	return fix_open(f, "/");
}

/* Copies a fixture over the stats file, as the writer of it would. */
static void
put(const char *path, const char *fixture)
{
	char	buf[8192];
	size_t	n;
	FILE	*in = fopen(fixture, "r"), *out = fopen(path, "w");

	if (in == NULL || out == NULL) {
		UNIT_FAIL("cannot copy %s to %s", fixture, path);
	} else {
		n = fread(buf, 1, sizeof(buf), in);
		fwrite(buf, 1, n, out);
	}
	if (in)
		fclose(in);
	if (out)
		fclose(out);
}

/* SLS answers 10 s apart in a file: loss from counter deltas. */
TEST(srt_sls_file)
{
	struct fix	f;
	char		path[64];

	snprintf(path, sizeof(path), "/tmp/tern-srt-%d.json", (int)getpid());
	put(path, FIX "srt/sls-1.json");
	CHECK_INT(srt_start(&f, path, NULL, ""), 0);
	CHECK_INT(fix_round(&f, 1000000), 0);
	/* Instant values at once; loss needs a second reading. */
	CHECK_SAMPLE(f.b, "srt.rtt_ms", "stream=live", 48.213, 1e-12);
	CHECK_SAMPLE(f.b, "srt.bitrate_mbps", "stream=live", 5.264, 1e-12);
	CHECK_SAMPLE(f.b, "srt.buffer_ms", "stream=live", 1994, 0);
	CHECK_SAMPLE(f.b, "srt.uptime_s", "stream=live", 600, 0);
	CHECK_SAMPLE(f.b, "srt.up", "stream=srt", 1, 0);
	CHECK_INT(fix_count(f.b, "srt.loss_pct"), 0);
	batch_reset(f.b);

	put(path, FIX "srt/sls-2.json");
	CHECK_INT(fix_round(&f, 1010000), 0);
	/* +50 lost; no packet counter in SLS: 5.264 Mbit/s for 10 s is
	 * 5000 packets of 1316 bytes. */
	CHECK_SAMPLE(f.b, "srt.loss_pct", "stream=live", 100.0 * 50 / 5050,
	    1e-9);
	CHECK_SAMPLE(f.b, "srt.packet_loss", "stream=live", 100.0 * 50 / 5050,
	    1e-9);
	CHECK_SAMPLE(f.b, "srt.lost_per_s", "stream=live", 5, 1e-12);
	CHECK_SAMPLE(f.b, "srt.dropped_per_s", "stream=live", 0.2, 1e-12);
	CHECK_SAMPLE(f.b, "srt.rtt_ms", "stream=live", 51.5, 1e-12);
	batch_reset(f.b);

	/* The publisher reconnected: counters restarted.  No loss sample,
	 * certainly not a negative one; instant values still come. */
	put(path, FIX "srt/sls-reset.json");
	CHECK_INT(fix_round(&f, 1020000), 0);
	CHECK_INT(fix_count(f.b, "srt.loss_pct"), 0);
	CHECK_INT(fix_count(f.b, "srt.lost_per_s"), 0);
	CHECK_SAMPLE(f.b, "srt.rtt_ms", "stream=live", 45, 0);
	batch_reset(f.b);

	/* Nobody publishing. */
	put(path, FIX "srt/sls-idle.json");
	CHECK_INT(fix_round(&f, 1030000), 0);
	CHECK_SAMPLE(f.b, "srt.up", "stream=srt", 0, 0);
	CHECK_INT(fix_count(f.b, "srt.rtt_ms"), 0);
	batch_reset(f.b);

	/* A broken document fails the round. */
	put(path, FIX "srt/bad.json");
	CHECK_INT(fix_round(&f, 1040000), -1);
	CHECK_HAS(f.err, "bad JSON");
	fix_stop(&f);
	unlink(path);
}

/* A bonding sender's stats file: per-link, sender-side loss. */
TEST(srt_links_file)
{
	struct fix	f;
	char		path[64];

	snprintf(path, sizeof(path), "/tmp/tern-srtla-%d.json", (int)getpid());
	put(path, FIX "srt/srtla-1.json");
	CHECK_INT(srt_start(&f, path, NULL, "belabox"), 0);
	CHECK_INT(fix_round(&f, 5000), 0);
	CHECK_SAMPLE(f.b, "srt.rtt_ms", "link=usb0,stream=belabox", 62.5, 0);
	CHECK_SAMPLE(f.b, "srt.rtt_ms", "link=eth0,stream=belabox", 18.25, 0);
	batch_reset(f.b);
	put(path, FIX "srt/srtla-2.json");
	CHECK_INT(fix_round(&f, 15000), 0);
	/* usb0: 40 of 4000 sent were lost; eth0: none of 1000. */
	CHECK_SAMPLE(f.b, "srt.loss_pct", "link=usb0,stream=belabox", 1.0,
	    1e-12);
	CHECK_SAMPLE(f.b, "srt.loss_pct", "link=eth0,stream=belabox", 0.0, 0);
	CHECK_SAMPLE(f.b, "srt.bitrate_mbps", "link=eth0,stream=belabox", 2.1,
	    0);
	CHECK_SAMPLE(f.b, "srt.up", "stream=belabox", 1, 0);
	fix_stop(&f);
	unlink(path);
}

/* The SLS endpoint over HTTP, with {stream} in the URL. */
TEST(srt_sls_http)
{
	struct fix	 f;
	struct httpfix	 h;
	char		 url[128], req[256] = "";
	FILE		*rq;

	if (httpfix_start(&h, 1, 200, "{\"publishers\":{\"live\":{\"pktRcvLoss"
	    "\":7,\"mbpsRecvRate\":2.5,\"rtt\":12.5}},\"status\":\"ok\"}") == -1) {
		UNIT_FAIL("cannot start the HTTP fixture");
		return;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/stats/{stream}"
	    "?legacy=1", h.port);
	CHECK_INT(srt_start(&f, NULL, url, "play_cam1"), 0);
	CHECK_INT(fix_round(&f, 1000), 0);
	CHECK_SAMPLE(f.b, "srt.rtt_ms", "stream=play_cam1", 12.5, 0);
	CHECK_SAMPLE(f.b, "srt.bitrate_mbps", "stream=play_cam1", 2.5, 0);
	httpfix_stop(&h);
	if ((rq = fopen(h.reqfile, "r")) != NULL) {
		if (fgets(req, sizeof(req), rq) == NULL)
			req[0] = '\0';
		fclose(rq);
	}
	unlink(h.reqfile);
	CHECK_HAS(req, "GET /stats/play_cam1?legacy=1 HTTP/1.1");
	fix_stop(&f);
}

TEST(srt_http_errors)
{
	struct fix	 f;
	struct httpfix	 h;
	char		 url[128];

	/* SLS's own error answer. */
	if (httpfix_start(&h, 1, 200, "{\"message\":\"Invalid player key\","
	    "\"status\":\"error\"}") == -1)
		return;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/stats/x", h.port);
	CHECK_INT(srt_start(&f, NULL, url, ""), 0);
	CHECK_INT(fix_round(&f, 1000), -1);
	CHECK_HAS(f.err, "Invalid player key");
	httpfix_stop(&h);
	unlink(h.reqfile);
	fix_stop(&f);
	/* A 404. */
	if (httpfix_start(&h, 1, 404, "{}") == -1)
		return;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/stats/x", h.port);
	CHECK_INT(srt_start(&f, NULL, url, ""), 0);
	CHECK_INT(fix_round(&f, 1000), -1);
	CHECK_HAS(f.err, "HTTP status 404");
	httpfix_stop(&h);
	unlink(h.reqfile);
	fix_stop(&f);
	/* Nobody listening. */
	CHECK_INT(srt_start(&f, NULL, "http://127.0.0.1:1/stats/x", ""), 0);
	CHECK_INT(fix_round(&f, 1000), -1);
	fix_stop(&f);
}

TEST(srt_config_errors)
{
	struct fix	f;

	CHECK_INT(srt_start(&f, NULL, NULL, NULL), -1);
	CHECK_HAS(f.err, "neither url nor file");
	fix_stop(&f);
	CHECK_INT(srt_start(&f, NULL, "http://x/stats/{stream}", "a b"), -1);
	CHECK_HAS(f.err, "stream");
	fix_stop(&f);
}

int
main(void)
{
	RUN(srt_loss_arithmetic);
	RUN(srt_sls_file);
	RUN(srt_links_file);
	RUN(srt_sls_http);
	RUN(srt_http_errors);
	RUN(srt_config_errors);
	return UNIT_DONE();
}
