/*
 * test_receiver_auth.c -- SHA-256 against the FIPS 180-2 / NIST vectors,
 * the constant-time compare, and the tokens file parser.
 */
#include "unit.h"
#include "sha256.h"
#include "tokens.h"

static const char *
hex(const void *p, size_t n)
{
	static char	out[65];
	uint8_t		d[SHA256_LEN];

	sha256(p, n, d);
	sha256_to_hex(d, out);
	return out;
}

TEST(sha256_fips_vectors)
{
	CHECK_STR(hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK_STR(hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK_STR(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56),
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	CHECK_STR(hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 112),
	    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(sha256_million_a_streamed)
{
	struct sha256	c;
	uint8_t		d[SHA256_LEN], chunk[1000];
	char		out[65];
	int		i;

	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&c);
	/* Odd pieces exercise the partial-block path. */
	for (i = 0; i < 1000; i++) {
		sha256_update(&c, chunk, 7);
		sha256_update(&c, chunk, 993);
	}
	sha256_final(&c, d);
	sha256_to_hex(d, out);
	CHECK_STR(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(sha256_block_boundaries)
{
	/* 55, 56 and 64 bytes: the padding edge cases (NIST CAVS). */
	char	a[64];

	memset(a, 'a', sizeof(a));
	CHECK_STR(hex(a, 55), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
	CHECK_STR(hex(a, 56), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
	CHECK_STR(hex(a, 64), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(ct_compare)
{
	uint8_t	a[32], b[32];

	memset(a, 7, sizeof(a));
	memcpy(b, a, sizeof(b));
	CHECK_INT(sha256_ct_compare(a, b, 32), 0);
	b[0] ^= 1;
	CHECK(sha256_ct_compare(a, b, 32) != 0);
	b[0] ^= 1;
	b[31] ^= 0x80;
	CHECK(sha256_ct_compare(a, b, 32) != 0);
	CHECK_INT(sha256_ct_compare(a, b, 0), 0);
}

TEST(hex_parse)
{
	uint8_t	d[SHA256_LEN];
	char	out[65];

	CHECK_INT(sha256_from_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", 64, d), 0);
	sha256_to_hex(d, out);
	CHECK_STR(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK_INT(sha256_from_hex("ba78", 4, d), -1);
	CHECK_INT(sha256_from_hex("zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 64, d), -1);
}

#define H_ABC	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

TEST(tokens_good)
{
	const char	*txt = "# devices\n\nbelabox-001 " H_ABC "\n"
	    "  pi.lab:2\t" "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" "  \r\n";
	struct tokens	 t;
	char		 err[256];

	CHECK_INT(tokens_parse(&t, "tok", txt, strlen(txt), err, sizeof(err)), 0);
	CHECK_INT(t.n, 2);
	CHECK_STR(tokens_lookup(&t, "abc", 3), "belabox-001");
	CHECK(tokens_lookup(&t, "abd", 3) == NULL);
	/* The empty token never matches, even against the hash of "". */
	CHECK(tokens_lookup(&t, "", 0) == NULL);
	CHECK(tokens_lookup(&t, "ab", 2) == NULL);
	tokens_free(&t);
}

static void
bad(const char *txt, const char *want)
{
	struct tokens	t;
	char		err[256] = "";

	if (tokens_parse(&t, "tok", txt, strlen(txt), err, sizeof(err)) != -1)
		UNIT_FAIL("accepted: %s", txt);
	else if (strstr(err, want) == NULL)
		UNIT_FAIL("error \"%s\", expected \"%s\"", err, want);
	CHECK(t.n == 0 && t.v == NULL);
}

TEST(tokens_bad_lines)
{
	bad("dev\n", "tok:1: expected");
	bad("a " H_ABC "\nb " H_ABC " extra\n", "tok:2: expected");
	bad("\n\nbad/dev " H_ABC "\n", "tok:3: device id");
	bad("dev 1234\n", "tok:1: the hash must be 64 hex");
	bad("a " H_ABC "\na " H_ABC "\n", "tok:2: device 'a' given twice");
	bad("0123456789012345678901234567890123456789012345678901234567890123 "
	    H_ABC "\n", "tok:1: device id");
}

TEST(tokens_missing_file)
{
	struct tokens	t;
	char		err[256];

	CHECK_INT(tokens_load(&t, "/nonexistent/tokens", err, sizeof(err)), -1);
	CHECK_HAS(err, "/nonexistent/tokens");
}

int
main(void)
{
	RUN(sha256_fips_vectors);
	RUN(sha256_million_a_streamed);
	RUN(sha256_block_boundaries);
	RUN(ct_compare);
	RUN(hex_parse);
	RUN(tokens_good);
	RUN(tokens_bad_lines);
	RUN(tokens_missing_file);
	return UNIT_DONE();
}
