/*
 * manta genkey, pubkey and addresses: key tools that need no daemon. They
 * behave like `wg genkey` and `wg pubkey` (a key is one line of base64), but
 * a manta private key is an ed25519 seed and its public key the X25519 key
 * derived from it (mesh/identity.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "mesh/address.h"
#include "mesh/identity.h"

/* Longest stdin accepted: a key, its newline and some stray white space. */
#define KEY_INPUT_MAX 256

/* All of stdin, trailing white space removed; false if it is too long, holds
 * a NUL byte or cannot be read. */
static bool read_stdin_key(char buf[KEY_INPUT_MAX + 1])
{
	size_t len = fread(buf, 1, KEY_INPUT_MAX + 1, stdin);

	if (ferror(stdin) || len > KEY_INPUT_MAX) {
		buf[0] = '\0';
		return false;
	}
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		len--;
	buf[len] = '\0';
	return strlen(buf) == len;
}

static int print_line(const struct cli *cli, const char *cmd, const char *s)
{
	if (printf("%s\n", s) < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "%s %s: cannot write the output\n", cli->prog, cmd);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

int cmd_genkey(struct cli *cli, int argc, char **argv)
{
	uint8_t seed[KEY_LEN];
	char b64[KEY_B64_LEN];
	struct stat st;
	int ret;

	if (argc != 1)
		return cli_usage(cli, argv[0]);
	/* As wg genkey: the key is only printed, so warn if it lands in a file
	 * others can read (`manta genkey > node.key` under umask 022). */
	if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & (S_IRWXG | S_IRWXO)))
		fprintf(stderr,
			"%s %s: warning: writing a private key to a file group or others can "
			"read; consider `umask 077' and trying again\n",
			cli->prog, argv[0]);
	identity_generate_seed(seed);
	key_to_base64(seed, b64);
	ret = print_line(cli, argv[0], b64);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(b64, sizeof(b64));
	return ret;
}

int cmd_pubkey(struct cli *cli, int argc, char **argv)
{
	char in[KEY_INPUT_MAX + 1], b64[KEY_B64_LEN];
	uint8_t seed[KEY_LEN], pk[KEY_LEN];
	int ret = CLI_EXIT_FAIL;

	if (argc != 1)
		return cli_usage(cli, argv[0]);
	if (!read_stdin_key(in) || !key_from_base64(in, seed)) {
		fprintf(stderr, "%s %s: key is not the correct length or format\n", cli->prog,
			argv[0]);
		goto out;
	}
	if (identity_public_from_seed(seed, pk) < 0) {
		fprintf(stderr, "%s %s: cannot derive a public key from this key\n", cli->prog,
			argv[0]);
		goto out;
	}
	key_to_base64(pk, b64);
	ret = print_line(cli, argv[0], b64);
out:
	sodium_memzero(in, sizeof(in));
	sodium_memzero(seed, sizeof(seed));
	return ret;
}

static int print_addresses(const struct cli *cli, const char *cmd, const uint8_t pk[KEY_LEN])
{
	char b64[KEY_B64_LEN], v6s[INET6_ADDRSTRLEN], v4s[INET_ADDRSTRLEN];
	uint8_t v6[16], v4[4];
	json_t *obj;
	char *text;
	int ret;

	address_v6_from_key(pk, v6);
	if (address_v6_reserved(v6)) {
		fprintf(stderr, "%s %s: this key derives the reserved address 200::53\n", cli->prog,
			cmd);
		return CLI_EXIT_FAIL;
	}
	address_v4_from_key_index(pk, address_v4_next_index(pk, 0), v4);
	inet_ntop(AF_INET6, v6, v6s, sizeof(v6s));
	inet_ntop(AF_INET, v4, v4s, sizeof(v4s));
	if (!cli->json) {
		printf("%s\n", v6s);
		return print_line(cli, cmd, v4s);
	}
	key_to_base64(pk, b64);
	obj = json_pack("{s:s, s:s, s:s}", "public_key", b64, "ipv6", v6s, "ipv4", v4s);
	text = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(obj);
	if (!text) {
		fprintf(stderr, "%s %s: out of memory\n", cli->prog, cmd);
		return CLI_EXIT_FAIL;
	}
	ret = print_line(cli, cmd, text);
	free(text);
	return ret;
}

int cmd_addresses(struct cli *cli, int argc, char **argv)
{
	char in[KEY_INPUT_MAX + 1];
	const char *src = in;
	uint8_t pk[KEY_LEN];

	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return cli_usage(cli, argv[0]);
	if (argc == 2)
		src = argv[1];
	else if (!read_stdin_key(in))
		in[0] = '\0';
	if (!key_from_base64(src, pk)) {
		fprintf(stderr, "%s %s: public key is not the correct length or format: `%s'\n",
			cli->prog, argv[0], src);
		return CLI_EXIT_FAIL;
	}
	return print_addresses(cli, argv[0], pk);
}
