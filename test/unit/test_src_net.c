/*
 * test_src_net.c -- the net source: rates, a 32-bit wrap, a reset and an
 * interface that goes away.
 */
#include "unit.h"
#include "srcfix.h"

TEST(net_arm_board)
{
	struct conf_source c = fix_conf("net");
	struct source	 src;
	struct batch	*b = batch_new();
	char		 err[256];

	CHECK_INT(source_init(&src, &c, FIX "arm-board", 0, err,
	    sizeof(err)), 0);
	CHECK_INT(src.ops->read(&src, b, 1000000, err, sizeof(err)), 0);
	CHECK_INT(batch_npoints(b), 0);
	src.root = FIX "arm-board/next";
	CHECK_INT(src.ops->read(&src, b, 1010000, err, sizeof(err)), 0);
	CHECK_SAMPLE(b, "net.rx_bytes_per_s", "iface=eth0", 1250000, 1e-6);
	CHECK_SAMPLE(b, "net.rx_packets_per_s", "iface=eth0", 900, 1e-9);
	CHECK_SAMPLE(b, "net.rx_errors_per_s", "iface=eth0", 0.3, 1e-9);
	CHECK_SAMPLE(b, "net.rx_drops_per_s", "iface=eth0", 1.0, 1e-9);
	CHECK_SAMPLE(b, "net.tx_bytes_per_s", "iface=eth0", 750000, 1e-6);
	CHECK_SAMPLE(b, "net.tx_packets_per_s", "iface=eth0", 570, 1e-9);
	CHECK_SAMPLE(b, "net.tx_errors_per_s", "iface=eth0", 0, 0);
	CHECK_SAMPLE(b, "net.tx_drops_per_s", "iface=eth0", 0, 0);
	/* Loopback is kept: srtla talks to the relay over it. */
	CHECK_SAMPLE(b, "net.tx_bytes_per_s", "iface=lo", 6580000, 1e-6);
	/* usb0 was re-created (the modem re-enumerated): counters restarted
	 * low.  No sample this interval, certainly not a negative one. */
	CHECK_INT(fix_get(b, "net.rx_bytes_per_s", "iface=usb0", NULL), 0);
	CHECK_INT(fix_get(b, "net.tx_bytes_per_s", "iface=usb0", NULL), 0);
	/* wlan0 went away. */
	CHECK_INT(fix_get(b, "net.rx_bytes_per_s", "iface=wlan0", NULL), 0);
	/* The next interval has usb0 again (same file: rate 0). */
	batch_reset(b);
	CHECK_INT(src.ops->read(&src, b, 1020000, err, sizeof(err)), 0);
	CHECK_SAMPLE(b, "net.rx_bytes_per_s", "iface=usb0", 0, 0);
	CHECK_INT(fix_count(b, "net.rx_bytes_per_s"), 3);
	source_fini(&src);
	batch_free(b);
}

/* A 32-bit kernel: eth0's rx_bytes wraps past 2^32. */
TEST(net_wrap_32bit)
{
	struct conf_source c = fix_conf("net");
	struct source	 src;
	struct batch	*b = batch_new();
	char		 err[256];

	CHECK_INT(source_init(&src, &c, FIX "arm32-board", 0, err,
	    sizeof(err)), 0);
	CHECK_INT(src.ops->read(&src, b, 5000, err, sizeof(err)), 0);
	src.root = FIX "arm32-board/next";
	CHECK_INT(src.ops->read(&src, b, 15000, err, sizeof(err)), 0);
	/* 4294000000 -> 1500000: 2^32 - 4294000000 + 1500000 bytes */
	CHECK_SAMPLE(b, "net.rx_bytes_per_s", "iface=eth0", 246729.6, 1e-6);
	CHECK_SAMPLE(b, "net.rx_packets_per_s", "iface=eth0", 200, 1e-9);
	CHECK_SAMPLE(b, "net.tx_bytes_per_s", "iface=eth0", 10000, 1e-9);
	source_fini(&src);
	batch_free(b);
}

/* Real /proc/net/dev of an x86 VM, 3 s apart. */
TEST(net_x86_server)
{
	struct conf_source c = fix_conf("net");
	struct source	 src;
	struct batch	*b = batch_new();
	char		 err[256];

	CHECK_INT(source_init(&src, &c, FIX "x86-server", 0, err,
	    sizeof(err)), 0);
	CHECK_INT(src.ops->read(&src, b, 1000, err, sizeof(err)), 0);
	src.root = FIX "x86-server/next";
	CHECK_INT(src.ops->read(&src, b, 4000, err, sizeof(err)), 0);
	CHECK_SAMPLE(b, "net.rx_bytes_per_s", "iface=eth0", 595.0 / 3, 1e-9);
	CHECK_SAMPLE(b, "net.tx_packets_per_s", "iface=eth0", 3, 1e-9);
	CHECK_SAMPLE(b, "net.rx_bytes_per_s", "iface=ifb0", 0, 0);
	CHECK_INT(fix_count(b, "net.rx_bytes_per_s"), 4);
	source_fini(&src);
	batch_free(b);
}

TEST(net_missing)
{
	struct conf_source c = fix_conf("net");
	struct source	 src;
	char		 err[256] = "";

	CHECK_INT(source_init(&src, &c, FIX "srt", 0, err, sizeof(err)), -1);
	CHECK_HAS(err, "proc/net/dev");
	source_fini(&src);
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
