/*
 * srt.h -- the arithmetic of the srt source (src_srt.c), apart so that
 * it is tested on numbers.
 */
#ifndef TERN_SRT_H
#define TERN_SRT_H

/*
 * SRT live mode carries 1316-byte payloads (seven 188-byte MPEG-TS
 * packets).  Used to estimate packets from a bitrate when a stats
 * document has no packet counter (SLS's legacy stats have none).
 */
#define SRT_LIVE_PAYLOAD	1316

/*
 * Loss in percent over one interval, from the advance of the loss counter
 * and of the packet counter in that interval.  A receiver counts packets
 * that arrived, so the packets that should have arrived are received +
 * lost: loss = lost / (received + lost).  A sender counts every packet it
 * sent, retransmissions included, and lost ones among them: loss = lost /
 * sent.  Returns 1 and sets *pct (0..100), or 0 when no packet moved
 * (there is no loss rate of nothing).
 */
int	srt_loss_pct(double lost, double pkts, int sender, double *pct);

/* Packets carried in dt_ms at mbps megabits per second. */
double	srt_packets_est(double mbps, double dt_ms);

#endif
