/*
 * test_src_thermal.c -- thermal zones and hwmon sensors.
 */
#include "unit.h"
#include "srcfix.h"

/* RK3588: seven zones, their hwmon mirrors, an NVMe drive. */
TEST(thermal_arm_board)
{
	struct batch *b = fix_one_round("thermal", FIX "arm-board");

	CHECK_SAMPLE(b, "thermal.temp_c", "zone=soc-thermal", 52.692, 1e-9);
	CHECK_SAMPLE(b, "thermal.temp_c", "zone=bigcore0-thermal", 53.616,
	    1e-9);
	CHECK_SAMPLE(b, "thermal.temp_c", "zone=gpu-thermal", 51.769, 1e-9);
	CHECK_SAMPLE(b, "thermal.temp_c", "chip=nvme,sensor=Composite", 38.85,
	    1e-9);
	CHECK_SAMPLE(b, "thermal.temp_c", "chip=nvme,sensor=Sensor 1", 38.85,
	    1e-9);
	/* No temp3_label: the input's own name. */
	CHECK_SAMPLE(b, "thermal.temp_c", "chip=nvme,sensor=temp3", 45.85,
	    1e-9);
	/* hwmon0..6 mirror the zones (soc_thermal = soc-thermal). */
	CHECK_NONE(b, "thermal.temp_c", "chip=soc_thermal,sensor=temp1");
	CHECK_INT(fix_count(b, "thermal.temp_c"), 10);
	/* Seed 003's name: the soc zone, there being no "cpu" zone. */
	CHECK_SAMPLE(b, "cpu.temperature", "", 52.692, 1e-9);
	batch_free(b);
}

/* Allwinner H2+: cpu-thermal, and a gpu zone reading a sentinel. */
TEST(thermal_sentinel_skipped)
{
	struct batch *b = fix_one_round("thermal", FIX "arm32-board");

	CHECK_SAMPLE(b, "thermal.temp_c", "zone=cpu-thermal", 47.0, 0);
	CHECK_NONE(b, "thermal.temp_c", "zone=gpu-thermal");
	CHECK_SAMPLE(b, "cpu.temperature", "", 47.0, 0);
	batch_free(b);
}

/* The x86 VM has no sensors: disabled, naming what it looked for. */
TEST(thermal_missing)
{
	struct fix	f;

	CHECK_INT(fix_start(&f, "thermal", FIX "x86-server"), -1);
	CHECK_HAS(f.err, "x86-server/sys/class/thermal/thermal_zone*/temp");
	CHECK_HAS(f.err, "hwmon");
	fix_stop(&f);
}

int
main(void)
{
	RUN(thermal_arm_board);
	RUN(thermal_sentinel_skipped);
	RUN(thermal_missing);
	return UNIT_DONE();
}
