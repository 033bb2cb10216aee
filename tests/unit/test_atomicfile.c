/* atomic_write_file: contents, mode, overwrite, and no temporary file left
 * behind whether it succeeds or fails. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomicfile.h"

struct tmpdir {
	char path[64];
	char file[128];
};

static int setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	strcpy(t->path, "/tmp/manta-test-atomicfile.XXXXXX");
	if (!mkdtemp(t->path)) {
		free(t);
		return -1;
	}
	snprintf(t->file, sizeof(t->file), "%s/data", t->path);
	*state = t;
	return 0;
}

/* Removes the directory and everything in it (one level). */
static int teardown(void **state)
{
	struct tmpdir *t = *state;
	DIR *d = opendir(t->path);
	struct dirent *e;
	char p[512];

	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", t->path, e->d_name);
		if (unlink(p) < 0)
			rmdir(p);
	}
	if (d)
		closedir(d);
	rmdir(t->path);
	free(t);
	return 0;
}

/* Number of directory entries other than . and .., and whether any of them
 * looks like one of our temporary files. */
static int count_entries(const char *dir, bool *temp_seen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	*temp_seen = false;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n++;
		if (e->d_name[0] == '.')
			*temp_seen = true;
	}
	closedir(d);
	return n;
}

static void assert_contents(const char *path, const char *want)
{
	char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void test_write(void **state)
{
	struct tmpdir *t = *state;
	struct stat st;
	bool temp;

	assert_int_equal(atomic_write_file(t->file, "hello\n", 6, 0600), 0);
	assert_contents(t->file, "hello\n");
	assert_int_equal(stat(t->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_entries(t->path, &temp), 1);
	assert_false(temp);
}

static void test_overwrite(void **state)
{
	struct tmpdir *t = *state;
	struct stat st;
	bool temp;

	assert_int_equal(atomic_write_file(t->file, "a longer first version\n", 23, 0600), 0);
	assert_int_equal(atomic_write_file(t->file, "second\n", 7, 0644), 0);
	assert_contents(t->file, "second\n");
	assert_int_equal(stat(t->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(count_entries(t->path, &temp), 1);
	assert_false(temp);
}

/* The mode is exactly the one asked for, whatever the umask. */
static void test_mode_ignores_umask(void **state)
{
	struct tmpdir *t = *state;
	mode_t old = umask(0077);
	struct stat st;

	assert_int_equal(atomic_write_file(t->file, "x", 1, 0640), 0);
	umask(old);
	assert_int_equal(stat(t->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
}

static void test_empty(void **state)
{
	struct tmpdir *t = *state;
	struct stat st;

	assert_int_equal(atomic_write_file(t->file, "", 0, 0600), 0);
	assert_int_equal(stat(t->file, &st), 0);
	assert_int_equal(st.st_size, 0);
}

static void test_missing_directory(void **state)
{
	struct tmpdir *t = *state;
	char path[256];
	bool temp;

	snprintf(path, sizeof(path), "%s/no/such/dir/file", t->path);
	assert_int_equal(atomic_write_file(path, "x", 1, 0600), -ENOENT);
	assert_int_equal(count_entries(t->path, &temp), 0);
}

/* The rename fails (the target is a non-empty directory): the temporary
 * file must be gone and the directory untouched. */
static void test_rename_fails(void **state)
{
	struct tmpdir *t = *state;
	char inner[256];
	bool temp;
	int r;

	assert_int_equal(mkdir(t->file, 0700), 0);
	snprintf(inner, sizeof(inner), "%s/keep", t->file);
	assert_int_equal(atomic_write_file(inner, "k", 1, 0600), 0);
	r = atomic_write_file(t->file, "x", 1, 0600);
	assert_true(r < 0);
	assert_true(r == -EISDIR || r == -ENOTEMPTY || r == -EEXIST);
	assert_int_equal(count_entries(t->path, &temp), 1);
	assert_false(temp);
	assert_contents(inner, "k");
	assert_int_equal(unlink(inner), 0);
}

static void test_bad_path(void **state)
{
	assert_int_equal(atomic_write_file("", "x", 1, 0600), -EINVAL);
	assert_int_equal(atomic_write_file("/tmp/", "x", 1, 0600), -EINVAL);
}

/* A name without a directory part goes to the current directory. */
static void test_relative(void **state)
{
	struct tmpdir *t = *state;
	char *cwd = getcwd(NULL, 0);
	bool temp;

	assert_non_null(cwd);
	assert_int_equal(chdir(t->path), 0);
	assert_int_equal(atomic_write_file("data", "rel", 3, 0600), 0);
	assert_int_equal(chdir(cwd), 0);
	free(cwd);
	assert_contents(t->file, "rel");
	assert_int_equal(count_entries(t->path, &temp), 1);
	assert_false(temp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overwrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_ignores_umask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_fails, setup, teardown),
		cmocka_unit_test(test_bad_path),
		cmocka_unit_test_setup_teardown(test_relative, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
