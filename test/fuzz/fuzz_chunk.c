/*
 * fuzz_chunk.c -- libFuzzer target for the chunk decoder.
 *
 * Arbitrary bytes go to chunk_decode.  Whatever it accepts must be in the
 * one canonical form, so encoding the decoded samples again must give back
 * the input byte for byte, and chunk_count must agree with the decode.
 * Whatever it rejects must come with a reason.  Input is copied to an
 * exact-size heap block so that AddressSanitizer sees any over-read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int64_t	ts[CHUNK_MAX_SAMPLES];
	static double	v[CHUNK_MAX_SAMPLES];
	static uint8_t	out[CHUNK_MAX_BYTES(CHUNK_MAX_SAMPLES)];
	uint8_t		*in;
	char		 err[128];
	long		 n;
	size_t		 len;

	/* A valid chunk is at most CHUNK_MAX_BYTES(CHUNK_MAX_SAMPLES). */
	if (size > CHUNK_MAX_BYTES(CHUNK_MAX_SAMPLES) + 16)
		return -1;
	in = malloc(size ? size : 1);
	if (in == NULL)
		return 0;
	memcpy(in, data, size);

	err[0] = '\0';
	n = chunk_decode(in, size, ts, v, CHUNK_MAX_SAMPLES, err, sizeof(err));
	if (chunk_count(in, size) != n)
		abort();
	if (n == -1) {
		if (err[0] == '\0')
			abort();
		free(in);
		return 0;
	}
	if (n < 1 || n > CHUNK_MAX_SAMPLES)
		abort();

	/* The encoder may write scratch bytes up to the bound; out holds it. */
	len = chunk_encode(ts, v, (size_t)n, out);
	if (len != size || memcmp(out, in, size) != 0)
		abort();

	/* A smaller max rejects the same chunk with a reason. */
	if (n > 1) {
		err[0] = '\0';
		if (chunk_decode(in, size, ts, v, (size_t)n - 1, err,
		    sizeof(err)) != -1 || err[0] == '\0')
			abort();
	}
	free(in);
	return 0;
}
