// SPDX-License-Identifier: GPL-2.0
/*
 * Whiteouts are swapped in and out atomically: while a name that a lower
 * layer has is deleted and created again through the union, the upper
 * layer always holds something at that name (the whiteout or the new
 * object), so a crash at any moment never shows the deleted lower file.
 * A watcher lstat()s the upper name the whole time and must never miss.
 */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

#define ROUNDS 400

FIXTURE(atomic) {
	char dir[64];
	char path[512];
};

static const char *at(FIXTURE_DATA(atomic) *self, const char *rel)
{
	snprintf(self->path, sizeof(self->path), "%s/%s", self->dir, rel);
	return self->path;
}

FIXTURE_SETUP(atomic)
{
	char opts[512];

	ASSERT_EQ(0, rsunion_ensure_loaded());
	ASSERT_EQ(0, scratch_get(self->dir));
	ASSERT_EQ(0, mkdirs(at(self, "l/d")));
	ASSERT_EQ(0, write_file(at(self, "l/f"), "lower\n"));
	ASSERT_EQ(0, write_file(at(self, "l/d/x"), "lower\n"));
	ASSERT_EQ(0, mkdirs(at(self, "u")));
	ASSERT_EQ(0, mkdirs(at(self, "w")));
	ASSERT_EQ(0, mkdirs(at(self, "mnt")));
	snprintf(opts, sizeof(opts), "lowerdir=%s/l,upperdir=%s/u,workdir=%s/w",
		 self->dir, self->dir, self->dir);
	ASSERT_EQ(0, mount("none", at(self, "mnt"), "rsunion", 0, opts));
}

FIXTURE_TEARDOWN(atomic)
{
	umount2(at(self, "mnt"), MNT_DETACH);
	scratch_put(self->dir);
}

/*
 * lstat()s PATH until killed, or until the test dies (its failed ASSERT
 * must not leave the watcher running); counts the misses in *MISSES.
 */
static pid_t watch(const char *path, volatile long *misses)
{
	struct stat st;
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			if (lstat(path, &st) && errno == ENOENT)
				(*misses)++;
	}
	return pid;
}

static long stop(pid_t pid, volatile long *misses)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return *misses;
}

TEST_F(atomic, file_name_never_uncovered)
{
	volatile long *misses = mmap(NULL, sizeof(long), PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char upper[512], name[512];
	pid_t pid;
	int i;

	ASSERT_NE(MAP_FAILED, misses);
	snprintf(name, sizeof(name), "%s", at(self, "mnt/f"));
	snprintf(upper, sizeof(upper), "%s", at(self, "u/f"));
	ASSERT_EQ(0, unlink(name));
	pid = watch(upper, misses);
	ASSERT_GT(pid, 0);
	for (i = 0; i < ROUNDS; i++) {
		ASSERT_EQ(0, write_file(name, "new\n"));
		ASSERT_EQ(0, unlink(name));
	}
	ASSERT_EQ(0, stop(pid, misses));
}

TEST_F(atomic, dir_name_never_uncovered)
{
	volatile long *misses = mmap(NULL, sizeof(long), PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char upper[512], name[512];
	struct stat st;
	pid_t pid;
	int i;

	ASSERT_NE(MAP_FAILED, misses);
	snprintf(name, sizeof(name), "%s", at(self, "mnt/d"));
	snprintf(upper, sizeof(upper), "%s", at(self, "u/d"));
	ASSERT_EQ(0, unlink(at(self, "mnt/d/x")));
	ASSERT_EQ(0, rmdir(name));
	pid = watch(upper, misses);
	ASSERT_GT(pid, 0);
	for (i = 0; i < ROUNDS; i++) {
		ASSERT_EQ(0, mkdir(name, 0755));
		ASSERT_EQ(0, rmdir(name));
	}
	ASSERT_EQ(0, stop(pid, misses));
	/* And the lower content never came back. */
	ASSERT_EQ(-1, stat(at(self, "mnt/d"), &st));
	ASSERT_EQ(ENOENT, errno);
}

TEST_HARNESS_MAIN
