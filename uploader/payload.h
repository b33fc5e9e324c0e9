/*
 * payload.h -- the bytes the uploader POSTs: seed 003's JSON rendering of
 * a BATCH, gzip, and RFC 3339 timestamps.  No I/O: batches in, bytes out,
 * so the tests compare strings.
 *
 * Output goes into a msgpack_sbuffer, which is simply the growable byte
 * buffer the project already uses everywhere (it holds no msgpack here).
 */
#ifndef TERN_PAYLOAD_H
#define TERN_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "body.h"

/* "2025-10-11T14:30:00.123Z" and its NUL. */
#define PAYLOAD_TS_LEN	25

/*
 * Writes ms (since the epoch, UTC) as RFC 3339 with milliseconds and "Z"
 * into out[PAYLOAD_TS_LEN].  Times before 1970 work too.  Returns out.
 */
char	*payload_rfc3339(int64_t ms, char *out);

/*
 * Appends m as seed 003's JSON to out:
 *
 *   {"device_id":"belabox-001","timestamp":"...","metrics":[
 *     {"name":"cpu.temperature","value":52.3,"timestamp":"...",
 *      "labels":{"zone":"0"}}, ...]}
 *
 * device_id is m->device, or device when the batch carries none; the top
 * "timestamp" is now_ms, the time of the upload.  "labels" is written
 * only for a series that has some, so a label-less batch is exactly the
 * seed's payload.  Values are written in the shortest form that reads back
 * as the same double.  JSON has no NaN or infinity: such points are left
 * out and counted in *skipped (may be NULL).  Strings are escaped, and
 * bytes that are not UTF-8 become U+FFFD, so the output is always valid
 * JSON.  Gaps and the agent are not part of the format and are not
 * written.  Returns 0, or -1 if memory ran out (out then holds a partial
 * document and should be cleared).
 */
int	payload_json(const struct samples_msg *m, const char *device,
	    int64_t now_ms, msgpack_sbuffer *out, uint32_t *skipped);

/*
 * Appends in[0..n) compressed as one gzip member (RFC 1952, what
 * Content-Encoding: gzip means) to out.  Returns 0, or -1 (zlib or memory
 * failure).
 */
int	payload_gzip(const void *in, size_t n, msgpack_sbuffer *out);

/*
 * The inverse, for tests and for reading gzip bodies: appends the
 * decompressed in[0..n) to out, refusing to produce more than max bytes.
 * Returns 0, or -1 (corrupt, truncated, or too large).
 */
int	payload_gunzip(const void *in, size_t n, size_t max,
	    msgpack_sbuffer *out);

#endif
