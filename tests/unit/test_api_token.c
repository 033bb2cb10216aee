/* The REST API's token file: created once (64 hex digits, 0600, the same
 * on every later start), a user's own token, a file readable by others
 * made private, and each file refused with its reason. (The server itself
 * runs in tests/e2e/t_api.sh.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/api_token.h"

static char dir[64], path[128];

static int make_dir(void **state)
{
	strcpy(dir, "/tmp/manta-test-api-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/" API_TOKEN_FILE, dir);
	return 0;
}

static int remove_dir(void **state)
{
	unlink(path);
	rmdir(dir);
	return 0;
}

static void write_token(const char *text, mode_t mode)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void test_create_then_read(void **state)
{
	char token[API_TOKEN_MAX + 1], again[API_TOKEN_MAX + 1], err[256], text[80] = "";
	struct stat st;
	FILE *f;

	assert_int_equal(api_token_load(dir, token, err, sizeof(err)), 0);
	assert_int_equal(strlen(token), 64);
	assert_int_equal(strspn(token, "0123456789abcdef"), 64);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	assert_int_equal(strlen(text), 65);
	assert_int_equal(text[64], '\n');
	assert_int_equal(api_token_load(dir, again, err, sizeof(err)), 0);
	assert_string_equal(again, token);
	/* Two nodes never share a token. */
	unlink(path);
	assert_int_equal(api_token_load(dir, again, err, sizeof(err)), 0);
	assert_string_not_equal(again, token);
}

static void test_own_token(void **state)
{
	char token[API_TOKEN_MAX + 1], err[256];
	struct stat st;

	write_token("my-token-of-16ch\r\n", 0644);
	assert_int_equal(api_token_load(dir, token, err, sizeof(err)), 0);
	assert_string_equal(token, "my-token-of-16ch");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600); /* made private */
}

static void test_refused(void **state)
{
	static const char *const bad[] = { "",
					   "\n",
					   "short-token-15c",
					   "with a space in it!",
					   "tab\tinside-the-token",
					   "utf8-\xc3\xa9-token-xxxx" };
	char token[API_TOKEN_MAX + 1], err[256], want[256], big[API_TOKEN_MAX + 3];

	snprintf(want, sizeof(want),
		 "%s: the API token must be 16 to 256 printable characters without spaces", path);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_token(bad[i], 0600);
		assert_int_equal(api_token_load(dir, token, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, want);
	}
	memset(big, 'x', API_TOKEN_MAX + 1);
	big[API_TOKEN_MAX + 1] = '\0';
	write_token(big, 0600);
	assert_int_equal(api_token_load(dir, token, err, sizeof(err)), -EINVAL);
	big[API_TOKEN_MAX] = '\0'; /* exactly the longest */
	write_token(big, 0600);
	assert_int_equal(api_token_load(dir, token, err, sizeof(err)), 0);
	assert_int_equal(strlen(token), API_TOKEN_MAX);
	/* A symbolic link or a directory is not the token file. */
	unlink(path);
	assert_int_equal(symlink("/etc/hostname", path), 0);
	assert_true(api_token_load(dir, token, err, sizeof(err)) < 0);
	unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_true(api_token_load(dir, token, err, sizeof(err)) < 0);
	rmdir(path);
	/* A state directory that is not there. */
	assert_true(api_token_load("/nonexistent/manta", token, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "cannot create the API token"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_then_read),
		cmocka_unit_test(test_own_token),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
