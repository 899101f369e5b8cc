// SPDX-License-Identifier: GPL-2.0
/*
 * The work directory after a crash: temporaries a copy-up left behind
 * (".wh..wh.rsunion.*") are removed when the union is mounted again;
 * nothing else there is touched.
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

FIXTURE(workdir) {
	char dir[64];
	char path[512];
};

static const char *at(FIXTURE_DATA(workdir) *self, const char *rel)
{
	snprintf(self->path, sizeof(self->path), "%s/%s", self->dir, rel);
	return self->path;
}

FIXTURE_SETUP(workdir)
{
	ASSERT_EQ(0, rsunion_ensure_loaded());
	ASSERT_EQ(0, scratch_get(self->dir));
	ASSERT_EQ(0, mkdirs(at(self, "l")));
	ASSERT_EQ(0, write_file(at(self, "l/f"), "lower\n"));
	ASSERT_EQ(0, mkdirs(at(self, "u")));
	ASSERT_EQ(0, mkdirs(at(self, "w")));
	ASSERT_EQ(0, mkdirs(at(self, "mnt")));
}

FIXTURE_TEARDOWN(workdir)
{
	umount2(at(self, "mnt"), MNT_DETACH);
	scratch_put(self->dir);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

TEST_F(workdir, overlay_syntax_mount_removes_leftover_temps)
{
	char opts[512];

	ASSERT_EQ(0, write_file(at(self, "w/.wh..wh.rsunion.5"), "half a copy"));
	ASSERT_EQ(0, mkdir(at(self, "w/.wh..wh.rsunion.6"), 0700));
	ASSERT_EQ(0, write_file(at(self, "w/keep"), "not ours"));
	snprintf(opts, sizeof(opts), "lowerdir=%s/l,upperdir=%s/u,workdir=%s/w",
		 self->dir, self->dir, self->dir);
	ASSERT_EQ(0, mount("none", at(self, "mnt"), "rsunion", 0, opts));
	ASSERT_FALSE(exists(at(self, "w/.wh..wh.rsunion.5")));
	ASSERT_FALSE(exists(at(self, "w/.wh..wh.rsunion.6")));
	ASSERT_TRUE(exists(at(self, "w/keep")));
}

TEST_F(workdir, aufs_syntax_mount_removes_leftover_temps_in_branch_root)
{
	char opts[512];

	ASSERT_EQ(0, write_file(at(self, "u/.wh..wh.rsunion.7"), "half a copy"));
	ASSERT_EQ(0, write_file(at(self, "u/kept"), "content"));
	snprintf(opts, sizeof(opts), "br=%s/u=rw:%s/l=ro", self->dir, self->dir);
	ASSERT_EQ(0, mount("none", at(self, "mnt"), "rsunion", 0, opts));
	ASSERT_FALSE(exists(at(self, "u/.wh..wh.rsunion.7")));
	ASSERT_TRUE(exists(at(self, "u/kept")));
	ASSERT_TRUE(exists(at(self, "mnt/kept")));
}

TEST_HARNESS_MAIN
