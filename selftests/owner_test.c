// SPDX-License-Identifier: GPL-2.0
/*
 * Who owns what the union creates: the caller (its fsuid and fsgid), with
 * the upper filesystem's own rules applied as for the caller, such as a
 * setgid directory handing its group down.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

FIXTURE(owner) {
	char dir[64];
	char path[512];
};

static const char *at(FIXTURE_DATA(owner) *self, const char *rel)
{
	snprintf(self->path, sizeof(self->path), "%s/%s", self->dir, rel);
	return self->path;
}

FIXTURE_SETUP(owner)
{
	char opts[512];

	ASSERT_EQ(0, rsunion_ensure_loaded());
	ASSERT_EQ(0, scratch_get(self->dir));
	ASSERT_EQ(0, mkdirs(at(self, "l/sg")));
	ASSERT_EQ(0, chown(at(self, "l/sg"), 0, 1234));
	ASSERT_EQ(0, chmod(at(self, "l/sg"), 02777));
	ASSERT_EQ(0, mkdirs(at(self, "l/open")));
	ASSERT_EQ(0, chmod(at(self, "l/open"), 0777));
	ASSERT_EQ(0, mkdirs(at(self, "u")));
	ASSERT_EQ(0, mkdirs(at(self, "w")));
	ASSERT_EQ(0, mkdirs(at(self, "mnt")));
	snprintf(opts, sizeof(opts), "lowerdir=%s/l,upperdir=%s/u,workdir=%s/w",
		 self->dir, self->dir, self->dir);
	ASSERT_EQ(0, mount("none", at(self, "mnt"), "rsunion", 0, opts));
}

FIXTURE_TEARDOWN(owner)
{
	umount2(at(self, "mnt"), MNT_DETACH);
	scratch_put(self->dir);
}

TEST_F(owner, file_in_setgid_dir_takes_its_group)
{
	struct stat st;

	ASSERT_EQ(0, write_file(at(self, "mnt/sg/f"), "x"));
	ASSERT_EQ(0, stat(at(self, "mnt/sg/f"), &st));
	ASSERT_EQ(1234, st.st_gid);
	ASSERT_EQ(0, stat(at(self, "u/sg/f"), &st));
	ASSERT_EQ(1234, st.st_gid);
}

TEST_F(owner, dir_in_setgid_dir_takes_its_group_and_bit)
{
	struct stat st;

	ASSERT_EQ(0, mkdir(at(self, "mnt/sg/d"), 0755));
	ASSERT_EQ(0, stat(at(self, "u/sg/d"), &st));
	ASSERT_EQ(1234, st.st_gid);
	ASSERT_TRUE(st.st_mode & S_ISGID);
}

TEST_F(owner, file_made_by_user_belongs_to_user)
{
	struct stat st;
	pid_t pid = fork();
	int status;

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		if (setresgid(2000, 2000, 2000) || setresuid(1000, 1000, 1000))
			_exit(2);
		_exit(write_file(at(self, "mnt/open/f"), "x") ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, stat(at(self, "u/open/f"), &st));
	ASSERT_EQ(1000, st.st_uid);
	ASSERT_EQ(2000, st.st_gid);
}

TEST_HARNESS_MAIN
