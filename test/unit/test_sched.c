/*
 * test_sched.c -- aligned scheduling, the default sources, run_due.
 */
#include "unit.h"
#include "srcfix.h"

TEST(sched_alignment)
{
	CHECK_INT(sched_next_due(10000, 1760170003123LL), 1760170010000LL);
	/* On a boundary: the next one, not now again. */
	CHECK_INT(sched_next_due(10000, 1760170010000LL), 1760170020000LL);
	/* Sub-second. */
	CHECK_INT(sched_next_due(250, 1001), 1250);
	CHECK_INT(sched_next_due(1000, 0), 1000);
	/* Before the epoch (a board without an RTC before NTP). */
	CHECK_INT(sched_next_due(1000, -1500), -1000);
	/* Two devices with clocks 3 ms apart sample at the same instant. */
	CHECK_INT(sched_next_due(5000, 12001), sched_next_due(5000, 12004));
}

TEST(sched_defaults_on_fixture)
{
	struct conf_sampler cs;
	struct sources	*ss;
	struct batch	*b = batch_new();
	int64_t		 now = 1760170003000LL, wait;
	size_t		 i, enabled = 0;

	memset(&cs, 0, sizeof(cs));
	snprintf(cs.root, sizeof(cs.root), "%s", FIX "arm-board");
	cs.interval_ms = 1000;
	ss = sources_new(&cs, now);
	CHECK(ss != NULL);
	if (ss == NULL)
		return;
	CHECK_INT(ss->n, 7);
	for (i = 0; i < ss->n; i++) {
		enabled += ss->v[i].enabled;
		CHECK_INT(ss->v[i].next_due, 1760170004000LL);
	}
	CHECK_INT(enabled, 7);
	/* Nothing due yet. */
	CHECK_INT(sources_run_due(ss, now, b), 1000);
	CHECK_INT(batch_npoints(b), 0);
	wait = sources_run_due(ss, now + 1000, b);
	CHECK_INT(wait, 1000);
	CHECK_SAMPLE(b, "cpu.temperature", "", 52.692, 1e-9);
	CHECK_SAMPLE(b, "mem.used_pct", "", 100.0 * 3764834 / 16110512, 1e-9);
	CHECK_INT(fix_count(b, "disk.free_pct"), 3);
	sources_free(ss);
	batch_free(b);
}

/* On the x86 fixture the thermal source is disabled, the rest run. */
TEST(sched_missing_source_disabled)
{
	struct conf_sampler cs;
	struct sources	*ss;
	size_t		 i;

	memset(&cs, 0, sizeof(cs));
	snprintf(cs.root, sizeof(cs.root), "%s", FIX "x86-server");
	ss = sources_new(&cs, 0);
	if (ss == NULL)
		return;
	for (i = 0; i < ss->n; i++)
		CHECK_INT(ss->v[i].enabled,
		    strcmp(ss->v[i].conf->name, "thermal") != 0);
	CHECK_INT(ss->v[0].interval_ms, SOURCE_DEFAULT_INTERVAL_MS);
	sources_free(ss);
}

TEST(sched_configured_sources)
{
	struct conf_source src[4];
	struct conf_sampler cs;
	struct sources	*ss;
	struct batch	*b = batch_new();

	memset(&cs, 0, sizeof(cs));
	src[0] = fix_conf("load");
	src[0].interval_ms = 250;
	src[1] = fix_conf("nosuchsource");
	src[2] = fix_conf("cpu");
	src[2].enabled = 0;
	src[3] = fix_conf("exec");
	src[3].command = (char *)(uintptr_t)"echo x 1";
	src[3].interval_ms = 30;	/* raised to the minimum */
	snprintf(cs.root, sizeof(cs.root), "%s", FIX "arm-board");
	cs.sources = src;
	cs.nsources = 4;
	ss = sources_new(&cs, 1000);
	if (ss == NULL)
		return;
	CHECK_INT(ss->n, 3);
	CHECK_INT(ss->v[0].enabled, 1);
	CHECK_INT(ss->v[0].interval_ms, 250);
	CHECK_INT(ss->v[1].enabled, 0);
	CHECK_INT(ss->v[2].interval_ms, SOURCE_MIN_INTERVAL_MS);
	CHECK_INT(ss->v[2].next_due, 1100);
	CHECK_INT(sources_run_due(ss, 1100, b), 100);
	CHECK_INT(fix_count(b, "x"), 1);
	CHECK_INT(fix_count(b, "load.1m"), 0);
	CHECK_INT(sources_run_due(ss, 1250, b), 50);
	CHECK_INT(fix_count(b, "load.1m"), 1);
	sources_free(ss);
	batch_free(b);
}

/* A nearly full batch stops the round until the caller sends it. */
TEST(sched_full_batch)
{
	struct conf_source src = fix_conf("load");
	struct conf_sampler cs;
	struct sources	*ss;
	struct batch	*b = batch_new();
	int		 i;

	memset(&cs, 0, sizeof(cs));
	snprintf(cs.root, sizeof(cs.root), "%s", FIX "arm-board");
	cs.sources = &src;
	cs.nsources = 1;
	ss = sources_new(&cs, 0);
	if (ss == NULL)
		return;
	for (i = 0; i < BATCH_MAX_POINTS - SCHED_MIN_ROOM + 1; i++)
		batch_add(b, "filler", NULL, 0, i, i);
	CHECK_INT(sources_run_due(ss, 10000, b), 0);
	CHECK_INT(fix_count(b, "load.1m"), 0);
	batch_reset(b);
	CHECK_INT(sources_run_due(ss, 10000, b), 10000);
	CHECK_INT(fix_count(b, "load.1m"), 1);
	sources_free(ss);
	sources_free(NULL);
	batch_free(b);
}

int
main(void)
{
	RUN(sched_alignment);
	RUN(sched_defaults_on_fixture);
	RUN(sched_missing_source_disabled);
	RUN(sched_configured_sources);
	RUN(sched_full_batch);
	return UNIT_DONE();
}
