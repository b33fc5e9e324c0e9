/*
 * src_net.c -- per-interface traffic from /proc/net/dev.
 *
 * After two header lines, one line per interface: "  eth0: rx_bytes
 * rx_packets rx_errs rx_drop rx_fifo rx_frame rx_compressed rx_multicast
 * tx_bytes tx_packets tx_errs tx_drop tx_fifo tx_colls tx_carrier
 * tx_compressed".  Old kernels glue the first number to the colon
 * ("eth0:123"), so the name ends at the colon, not at a blank.
 *
 * Every interface is kept, lo included: on a streaming box srtla and the
 * SRT relay talk over loopback, and its rate is the stream's bitrate.
 * Interfaces that vanish (a modem unplugged, a container's veth) are
 * forgotten by rate_sweep; one that comes back starts from zero, which
 * the rate rule treats as a reset (no sample for that interval).
 *
 * The counters are "unsigned long" (32 bits on a 32-bit ARM kernel):
 * RATE_WAUTO, see rate.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "rate.h"
#include "source.h"

struct net_state {
	struct procfs_buf buf;
	struct rate_tab	*rates;
};

/* Field index in the line -> metric. */
static const struct {
	int		 field;
	const char	*metric;
} net_fields[] = {
	{ 0, "net.rx_bytes_per_s" },
	{ 1, "net.rx_packets_per_s" },
	{ 2, "net.rx_errors_per_s" },
	{ 3, "net.rx_drops_per_s" },
	{ 8, "net.tx_bytes_per_s" },
	{ 9, "net.tx_packets_per_s" },
	{ 10, "net.tx_errors_per_s" },
	{ 11, "net.tx_drops_per_s" },
};
#define NET_NFIELDS	(sizeof(net_fields) / sizeof(net_fields[0]))

static int
net_init(struct source *src, char *err, size_t errlen)
{
	struct net_state *st;

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->rates = rate_new()) == NULL) {
		free(st);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (procfs_load(&st->buf, src->root, "proc/net/dev") == -1) {
		snprintf(err, errlen, "%s/proc/net/dev: %s", src->root,
		    strerror(errno));
		procfs_buf_free(&st->buf);
		rate_free(st->rates);
		free(st);
		return -1;
	}
	src->priv = st;
	return 0;
}

static void
net_fini(struct source *src)
{
	struct net_state *st = src->priv;

	procfs_buf_free(&st->buf);
	rate_free(st->rates);
	free(st);
}

static int
net_read(struct source *src, struct batch *b, int64_t now, char *err,
    size_t errlen)
{
	struct net_state *st = src->priv;
	struct label_kv	 l;
	const char	*p, *q;
	char		 ifname[32], key[64];
	uint64_t	 f[16];
	size_t		 i;
	double		 r;

	if (procfs_load(&st->buf, src->root, "proc/net/dev") == -1) {
		snprintf(err, errlen, "%s/proc/net/dev: %s", src->root,
		    strerror(errno));
		return -1;
	}
	for (p = st->buf.p; p != NULL; p = procfs_next_line(p)) {
		if ((q = procfs_word(p, ":|", ifname, sizeof(ifname))) == NULL ||
		    *q != ':')
			continue;	/* the headers have '|' */
		q++;
		for (i = 0; i < 16; i++)
			if ((q = procfs_u64(q, &f[i])) == NULL)
				break;
		if (i < 16)
			continue;
		l.k = "iface";
		l.v = ifname;
		for (i = 0; i < NET_NFIELDS; i++) {
			snprintf(key, sizeof(key), "%s/%d", ifname,
			    net_fields[i].field);
			if (rate_update(st->rates, key,
			    f[net_fields[i].field], now, RATE_WAUTO, 0, &r,
			    NULL) == 1)
				batch_add(b, net_fields[i].metric, &l, 1, now, r);
		}
	}
	rate_sweep(st->rates);
	return 0;
}

const struct source_ops src_net_ops = {
	.name = "net",
	.init = net_init,
	.read = net_read,
	.fini = net_fini,
};
