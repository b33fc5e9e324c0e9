/*
 * test_src_net.c -- the net source: rates, a 32-bit wrap, a reset and an
 * interface that goes away.
 */
#include "unit.h"
#include "srcfix.h"

TEST(net_arm_board)
{
	struct fix	f;

	CHECK_INT(fix_start(&f, "net", FIX "arm-board"), 0);
	CHECK_INT(fix_round(&f, 1000000), 0);
	CHECK_INT(batch_npoints(f.b), 0);
	f.src.root = FIX "arm-board/next";
	CHECK_INT(fix_round(&f, 1010000), 0);
	CHECK_SAMPLE(f.b, "net.rx_bytes_per_s", "iface=eth0", 1250000, 1e-6);
	CHECK_SAMPLE(f.b, "net.rx_packets_per_s", "iface=eth0", 900, 1e-9);
	CHECK_SAMPLE(f.b, "net.rx_errors_per_s", "iface=eth0", 0.3, 1e-9);
	CHECK_SAMPLE(f.b, "net.rx_drops_per_s", "iface=eth0", 1.0, 1e-9);
	CHECK_SAMPLE(f.b, "net.tx_bytes_per_s", "iface=eth0", 750000, 1e-6);
	CHECK_SAMPLE(f.b, "net.tx_packets_per_s", "iface=eth0", 570, 1e-9);
	CHECK_SAMPLE(f.b, "net.tx_errors_per_s", "iface=eth0", 0, 0);
	CHECK_SAMPLE(f.b, "net.tx_drops_per_s", "iface=eth0", 0, 0);
	/* Loopback is kept: srtla talks to the relay over it. */
	CHECK_SAMPLE(f.b, "net.tx_bytes_per_s", "iface=lo", 6580000, 1e-6);
	/* usb0 was re-created (the modem re-enumerated): counters restarted
	 * low.  No sample this interval, certainly not a negative one. */
	CHECK_INT(fix_get(f.b, "net.rx_bytes_per_s", "iface=usb0", NULL), 0);
	CHECK_INT(fix_get(f.b, "net.tx_bytes_per_s", "iface=usb0", NULL), 0);
	/* wlan0 went away. */
	CHECK_INT(fix_get(f.b, "net.rx_bytes_per_s", "iface=wlan0", NULL), 0);
	/* The next interval has usb0 again (same file: rate 0). */
	batch_reset(f.b);
	CHECK_INT(fix_round(&f, 1020000), 0);
	CHECK_SAMPLE(f.b, "net.rx_bytes_per_s", "iface=usb0", 0, 0);
	CHECK_INT(fix_count(f.b, "net.rx_bytes_per_s"), 3);
	fix_stop(&f);
}

/* A 32-bit kernel: eth0's rx_bytes wraps past 2^32. */
TEST(net_wrap_32bit)
{
	struct fix	f;

	CHECK_INT(fix_start(&f, "net", FIX "arm32-board"), 0);
	CHECK_INT(fix_round(&f, 5000), 0);
	f.src.root = FIX "arm32-board/next";
	CHECK_INT(fix_round(&f, 15000), 0);
	/* 4294000000 -> 1500000: 2^32 - 4294000000 + 1500000 bytes */
	CHECK_SAMPLE(f.b, "net.rx_bytes_per_s", "iface=eth0", 246729.6, 1e-6);
	CHECK_SAMPLE(f.b, "net.rx_packets_per_s", "iface=eth0", 200, 1e-9);
	CHECK_SAMPLE(f.b, "net.tx_bytes_per_s", "iface=eth0", 10000, 1e-9);
	fix_stop(&f);
}

/* Real /proc/net/dev of an x86 VM, 3 s apart. */
TEST(net_x86_server)
{
	struct fix	f;

	CHECK_INT(fix_start(&f, "net", FIX "x86-server"), 0);
	CHECK_INT(fix_round(&f, 1000), 0);
	f.src.root = FIX "x86-server/next";
	CHECK_INT(fix_round(&f, 4000), 0);
	CHECK_SAMPLE(f.b, "net.rx_bytes_per_s", "iface=eth0", 595.0 / 3, 1e-9);
	CHECK_SAMPLE(f.b, "net.tx_packets_per_s", "iface=eth0", 3, 1e-9);
	CHECK_SAMPLE(f.b, "net.rx_bytes_per_s", "iface=ifb0", 0, 0);
	CHECK_INT(fix_count(f.b, "net.rx_bytes_per_s"), 4);
	fix_stop(&f);
}

TEST(net_missing)
{
	struct fix	f;

	CHECK_INT(fix_start(&f, "net", FIX "srt"), -1);
	CHECK_HAS(f.err, "proc/net/dev");
	fix_stop(&f);
}

int
main(void)
{
	RUN(net_arm_board);
	RUN(net_wrap_32bit);
	RUN(net_x86_server);
	RUN(net_missing);
	return UNIT_DONE();
}
