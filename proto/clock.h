/*
 * clock.h -- the two clocks every tern process reads, and arming a libevent
 * timer in milliseconds.
 *
 * Wall time (CLOCK_REALTIME) stamps samples and decides which buckets are
 * complete; monotonic time (CLOCK_MONOTONIC) measures durations and is
 * never moved by NTP or an operator setting the date.
 */
#ifndef TERN_CLOCK_H
#define TERN_CLOCK_H

#include <stdint.h>

#include <event2/event.h>

/* Milliseconds since the epoch. */
int64_t	clock_wall_ms(void);
/* Milliseconds on the monotonic clock, with sub-millisecond fraction. */
double	clock_mono_ms(void);
/* Adds ev as a timer firing in ms milliseconds (0: on the next loop). */
void	clock_arm(struct event *ev, int64_t ms);

#endif
