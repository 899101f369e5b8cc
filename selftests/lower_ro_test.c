// SPDX-License-Identifier: GPL-2.0
/*
 * Lower layers on a read-only filesystem, as container images usually
 * are: writes through the union still work, going to the upper layer,
 * and the read-only lower is never asked for write access.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

FIXTURE(lower_ro) {
	char dir[64];
	char path[512];
};

static const char *at(FIXTURE_DATA(lower_ro) *self, const char *rel)
{
	snprintf(self->path, sizeof(self->path), "%s/%s", self->dir, rel);
	return self->path;
}

FIXTURE_SETUP(lower_ro)
{
	char opts[512];

	ASSERT_EQ(0, rsunion_ensure_loaded());
	ASSERT_EQ(0, scratch_get(self->dir));
	ASSERT_EQ(0, mkdirs(at(self, "l")));
	ASSERT_EQ(0, mount("lower", at(self, "l"), "tmpfs", 0, NULL));
	ASSERT_EQ(0, mkdirs(at(self, "l/sub")));
	ASSERT_EQ(0, write_file(at(self, "l/sub/f"), "lower f\n"));
	ASSERT_EQ(0, write_file(at(self, "l/g"), "lower g\n"));
	ASSERT_EQ(0, mount(NULL, at(self, "l"), NULL, MS_REMOUNT | MS_RDONLY, NULL));
	ASSERT_EQ(0, mkdirs(at(self, "u")));
	ASSERT_EQ(0, mkdirs(at(self, "w")));
	ASSERT_EQ(0, mkdirs(at(self, "mnt")));
	snprintf(opts, sizeof(opts), "lowerdir=%s/l,upperdir=%s/u,workdir=%s/w",
		 self->dir, self->dir, self->dir);
	ASSERT_EQ(0, mount("none", at(self, "mnt"), "rsunion", 0, opts));
}

FIXTURE_TEARDOWN(lower_ro)
{
	umount2(at(self, "mnt"), MNT_DETACH);
	umount2(at(self, "l"), MNT_DETACH);
	scratch_put(self->dir);
}

static void read_all(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	buf[n < 0 ? 0 : n] = '\0';
	if (fd >= 0)
		close(fd);
}

TEST_F(lower_ro, create_in_lower_only_dir)
{
	struct stat st;

	ASSERT_EQ(0, write_file(at(self, "mnt/sub/new"), "new\n"));
	ASSERT_EQ(0, stat(at(self, "u/sub/new"), &st));
	ASSERT_EQ(-1, stat(at(self, "l/sub/new"), &st));
	ASSERT_EQ(ENOENT, errno);
}

TEST_F(lower_ro, append_to_lower_file_copies_up)
{
	char buf[64];
	int fd = open(at(self, "mnt/g"), O_WRONLY | O_APPEND | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(5, write(fd, "more\n", 5));
	close(fd);
	read_all(at(self, "mnt/g"), buf, sizeof(buf));
	ASSERT_STREQ("lower g\nmore\n", buf);
	read_all(at(self, "u/g"), buf, sizeof(buf));
	ASSERT_STREQ("lower g\nmore\n", buf);
	read_all(at(self, "l/g"), buf, sizeof(buf));
	ASSERT_STREQ("lower g\n", buf);
}

TEST_F(lower_ro, unlink_lower_file_leaves_whiteout)
{
	struct stat st;

	ASSERT_EQ(0, unlink(at(self, "mnt/sub/f")));
	ASSERT_EQ(-1, stat(at(self, "mnt/sub/f"), &st));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(0, lstat(at(self, "u/sub/f"), &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(0, st.st_rdev);
	ASSERT_EQ(0, stat(at(self, "l/sub/f"), &st));
}

TEST_HARNESS_MAIN
