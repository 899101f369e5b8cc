// SPDX-License-Identifier: GPL-2.0
/*
 * Inode flags attributes (lsattr, chattr: FS_IOC_GETFLAGS/SETFLAGS) through
 * a union, run on rsunion and, as the reference, on overlayfs: reads show
 * the topmost object's flags; a change copies the object up; immutable and
 * append-only go to the upper object's trusted.overlay.protattr xattr, not
 * to the object, and the union enforces them from there, also after a
 * remount and when overlayfs wrote the xattr; a copy-up keeps a lower
 * object's flags; only CAP_LINUX_IMMUTABLE sets the protection flags.
 */
#include <linux/fs.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

#define PROTATTR "trusted.overlay.protattr"

/*
 * lower/f      "lower\n"
 * lower/h      "lower\n", FS_NOATIME_FL
 * lower/idir/  FS_IMMUTABLE_FL, holding c "c\n"
 * lower/ifile  "lower\n", FS_IMMUTABLE_FL
 * lower/mine   "lower\n", owned by 65534
 * lower/h1, h2 one file, "linked\n"
 * upper/prot   "upper\n", protattr "a", as overlayfs leaves an
 *              append-only file
 */
FIXTURE(fileattr) {
	char dir[64];
	char lower[128];
	char upper[128];
	char work[128];
	char mnt[128];
	char opts[512];
};

FIXTURE_VARIANT(fileattr) {
	const char *fs;
};

FIXTURE_VARIANT_ADD(fileattr, rsunion) {
	.fs = "rsunion",
};

FIXTURE_VARIANT_ADD(fileattr, overlay) {
	.fs = "overlay",
};

static int get_flags(const char *path, int *flags)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = ioctl(fd, FS_IOC_GETFLAGS, flags);
	close(fd);
	return ret;
}

/* Sets (SET) or clears FLAG on PATH, keeping its other flags. */
static int change_flag(const char *path, int flag, bool set)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int flags, ret;

	if (fd < 0)
		return -1;
	ret = ioctl(fd, FS_IOC_GETFLAGS, &flags);
	if (!ret) {
		flags = set ? flags | flag : flags & ~flag;
		ret = ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
	return ret;
}

/*
 * PATH's protattr value, NUL-terminated in BUF; "-" when PATH has none,
 * "?" when PATH cannot be read.
 */
static const char *protattr(const char *path, char *buf, size_t size)
{
	ssize_t n = getxattr(path, PROTATTR, buf, size - 1);

	if (n < 0)
		return strcpy(buf, errno == ENODATA ? "-" : "?");
	buf[n] = '\0';
	return buf;
}

static int do_mount(FIXTURE_DATA(fileattr) *self, const char *fs)
{
	return mount("none", self->mnt, fs, 0, self->opts);
}

FIXTURE_SETUP(fileattr)
{
	int flags;

	ASSERT_EQ(0, rsunion_ensure_loaded());
	ASSERT_EQ(0, scratch_layers(self->dir, self->lower, self->upper, self->work, self->mnt));
	ASSERT_EQ(0, mkfile(in_dir(self->lower, "f"), "lower\n"));
	ASSERT_EQ(0, mkfile(in_dir(self->lower, "h"), "lower\n"));
	ASSERT_EQ(0, mkfile(in_dir(self->lower, "mine"), "lower\n"));
	ASSERT_EQ(0, mkfile(in_dir(self->lower, "ifile"), "lower\n"));
	ASSERT_EQ(0, mkfile(in_dir(self->lower, "h1"), "linked\n"));
	ASSERT_EQ(0, link(in_dir(self->lower, "h1"), in_dir(self->lower, "h2")));
	ASSERT_EQ(0, chown(in_dir(self->lower, "mine"), 65534, 65534));
	ASSERT_EQ(0, mkfile(in_dir(self->lower, "idir/c"), "c\n"));
	ASSERT_EQ(0, mkfile(in_dir(self->upper, "prot"), "upper\n"));
	ASSERT_EQ(0, setxattr(in_dir(self->upper, "prot"), PROTATTR, "a", 1, 0));
	if (change_flag(in_dir(self->lower, "h"), FS_NOATIME_FL, true) ||
	    change_flag(in_dir(self->lower, "idir"), FS_IMMUTABLE_FL, true) ||
	    change_flag(in_dir(self->lower, "ifile"), FS_IMMUTABLE_FL, true))
		SKIP(return, "tmpfs without inode flags: %s", strerror(errno));
	ASSERT_EQ(0, get_flags(in_dir(self->lower, "idir"), &flags));
	ASSERT_TRUE(flags & FS_IMMUTABLE_FL);
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 self->lower, self->upper, self->work);
	ASSERT_EQ(0, do_mount(self, variant->fs)) TH_LOG("mount: %s", strerror(errno));
}

FIXTURE_TEARDOWN(fileattr)
{
	umount2(self->mnt, MNT_DETACH);
	/* Immutable objects would keep their scratch tmpfs busy. */
	change_flag(in_dir(self->lower, "idir"), FS_IMMUTABLE_FL, false);
	change_flag(in_dir(self->lower, "ifile"), FS_IMMUTABLE_FL, false);
	scratch_put(self->dir);
}

TEST_F(fileattr, reads_show_the_lower_flags)
{
	int flags = 0;

	ASSERT_EQ(0, get_flags(in_dir(self->mnt, "h"), &flags)) TH_LOG("%s", strerror(errno));
	EXPECT_TRUE(flags & FS_NOATIME_FL);
	ASSERT_EQ(0, get_flags(in_dir(self->mnt, "idir"), &flags));
	EXPECT_TRUE(flags & FS_IMMUTABLE_FL);
	/* Reading copies nothing up. */
	EXPECT_EQ(ENOENT, stat_errno(in_dir(self->upper, "h")));
}

TEST_F(fileattr, immutable_goes_to_protattr_and_holds)
{
	char buf[64];
	int flags = 0;

	ASSERT_EQ(0, change_flag(in_dir(self->mnt, "f"), FS_IMMUTABLE_FL, true))
		TH_LOG("chattr +i: %s", strerror(errno));
	EXPECT_STREQ("i", protattr(in_dir(self->upper, "f"), buf, sizeof(buf)));
	/* The upper object itself stays changeable by the union. */
	ASSERT_EQ(0, get_flags(in_dir(self->upper, "f"), &flags));
	EXPECT_FALSE(flags & FS_IMMUTABLE_FL);
	ASSERT_EQ(0, get_flags(in_dir(self->mnt, "f"), &flags));
	EXPECT_TRUE(flags & FS_IMMUTABLE_FL);
	EXPECT_EQ(EPERM, open_errno(in_dir(self->mnt, "f"), O_WRONLY | O_APPEND));
	EXPECT_EQ(-1, unlink(in_dir(self->mnt, "f")));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, chmod(in_dir(self->mnt, "f"), 0600));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, setxattr(in_dir(self->mnt, "f"), "user.x", "1", 1, 0));
	EXPECT_EQ(EPERM, errno);

	/* A new union inode takes it from the xattr. */
	ASSERT_EQ(0, umount(self->mnt));
	ASSERT_EQ(0, do_mount(self, variant->fs));
	ASSERT_EQ(0, get_flags(in_dir(self->mnt, "f"), &flags));
	EXPECT_TRUE(flags & FS_IMMUTABLE_FL);
	EXPECT_EQ(EPERM, open_errno(in_dir(self->mnt, "f"), O_WRONLY | O_APPEND));

	/* Clearing it removes the xattr. */
	ASSERT_EQ(0, change_flag(in_dir(self->mnt, "f"), FS_IMMUTABLE_FL, false));
	EXPECT_STREQ("-", protattr(in_dir(self->upper, "f"), buf, sizeof(buf)));
	EXPECT_EQ(0, open_errno(in_dir(self->mnt, "f"), O_WRONLY | O_APPEND));
	EXPECT_EQ(0, unlink(in_dir(self->mnt, "f")));
}

TEST_F(fileattr, a_lower_immutable_file_holds_until_cleared)
{
	char buf[64];

	EXPECT_EQ(EPERM, open_errno(in_dir(self->mnt, "ifile"), O_WRONLY | O_APPEND));
	EXPECT_EQ(-1, unlink(in_dir(self->mnt, "ifile")));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(ENOENT, stat_errno(in_dir(self->upper, "ifile")));
	/* Clearing copies it up first: the copy is changeable, unmarked. */
	ASSERT_EQ(0, change_flag(in_dir(self->mnt, "ifile"), FS_IMMUTABLE_FL, false))
		TH_LOG("chattr -i: %s", strerror(errno));
	EXPECT_STREQ("-", protattr(in_dir(self->upper, "ifile"), buf, sizeof(buf)));
	EXPECT_EQ(0, open_errno(in_dir(self->mnt, "ifile"), O_WRONLY | O_APPEND));
	EXPECT_EQ(0, unlink(in_dir(self->mnt, "ifile")));
}

/*
 * A lower hard link's names get a union inode each; copying one up makes
 * it the copy's, which a link made through the union then shares: the
 * protection set through one name holds through the other at once.
 */
TEST_F(fileattr, protection_holds_through_a_link_to_a_copied_up_name)
{
	struct stat a, c;

	ASSERT_EQ(0, chmod(in_dir(self->mnt, "h1"), 0600)); /* copies h1 up */
	ASSERT_EQ(0, link(in_dir(self->mnt, "h1"), in_dir(self->mnt, "c")));
	ASSERT_EQ(0, change_flag(in_dir(self->mnt, "h1"), FS_IMMUTABLE_FL, true));
	EXPECT_EQ(EPERM, open_errno(in_dir(self->mnt, "c"), O_WRONLY | O_APPEND));
	EXPECT_EQ(EPERM, open_errno(in_dir(self->mnt, "c"), O_WRONLY | O_TRUNC));
	ASSERT_EQ(0, stat(in_dir(self->mnt, "h1"), &a));
	ASSERT_EQ(0, stat(in_dir(self->mnt, "c"), &c));
	EXPECT_EQ(a.st_ino, c.st_ino);
	EXPECT_EQ(2, c.st_nlink);
	ASSERT_EQ(0, change_flag(in_dir(self->mnt, "c"), FS_IMMUTABLE_FL, false));
	EXPECT_EQ(0, open_errno(in_dir(self->mnt, "h1"), O_WRONLY | O_APPEND));
}

TEST_F(fileattr, protattr_left_by_overlayfs_holds)
{
	int flags = 0;

	ASSERT_EQ(0, get_flags(in_dir(self->mnt, "prot"), &flags));
	EXPECT_TRUE(flags & FS_APPEND_FL);
	EXPECT_EQ(EPERM, open_errno(in_dir(self->mnt, "prot"), O_WRONLY));
	EXPECT_EQ(EPERM, open_errno(in_dir(self->mnt, "prot"), O_WRONLY | O_TRUNC));
	EXPECT_EQ(0, open_errno(in_dir(self->mnt, "prot"), O_WRONLY | O_APPEND));
	EXPECT_EQ(-1, unlink(in_dir(self->mnt, "prot")));
	EXPECT_EQ(EPERM, errno);
}

TEST_F(fileattr, copy_up_keeps_the_lower_flags)
{
	char buf[64];
	int flags = 0;

	/* Copies idir up with c: idir stays immutable, in its xattr. */
	ASSERT_EQ(0, chmod(in_dir(self->mnt, "idir/c"), 0600));
	EXPECT_STREQ("i", protattr(in_dir(self->upper, "idir"), buf, sizeof(buf)));
	ASSERT_EQ(0, get_flags(in_dir(self->upper, "idir"), &flags));
	EXPECT_FALSE(flags & FS_IMMUTABLE_FL);
	ASSERT_EQ(0, umount(self->mnt));
	ASSERT_EQ(0, do_mount(self, variant->fs));
	EXPECT_EQ(EPERM, open_errno(in_dir(self->mnt, "idir/new"), O_WRONLY | O_CREAT));
	EXPECT_EQ(EPERM, mkdir(in_dir(self->mnt, "idir/sub"), 0755) ? errno : 0);

	/* The no-atime flag goes to the copy itself. */
	ASSERT_EQ(0, chmod(in_dir(self->mnt, "h"), 0600));
	ASSERT_EQ(0, get_flags(in_dir(self->upper, "h"), &flags));
	EXPECT_TRUE(flags & FS_NOATIME_FL);
}

/* As its owner, uid 65534, not CAP_LINUX_IMMUTABLE: its status, 0 or the failed step. */
static int owner_sets_flags(const char *mine, const char *other)
{
	/* The owner may set other flags: the change copies up. */
	if (change_flag(mine, FS_NOATIME_FL, true))
		return 11;
	if (!change_flag(mine, FS_IMMUTABLE_FL, true) || errno != EPERM)
		return 12;
	if (!change_flag(mine, FS_APPEND_FL, true) || errno != EPERM)
		return 13;
	/* Not the owner: no flags at all. */
	if (!change_flag(other, FS_NOATIME_FL, true) || errno != EPERM)
		return 14;
	return 0;
}

/* As above, on MINE made immutable by root. */
static int owner_keeps_protection(const char *mine, const char *other)
{
	(void)other;
	if (change_flag(mine, FS_NOATIME_FL, false))
		return 11;
	if (!change_flag(mine, FS_IMMUTABLE_FL, false) || errno != EPERM)
		return 12;
	if (open_errno(mine, O_WRONLY | O_APPEND) != EPERM)
		return 13;
	return 0;
}

TEST_F(fileattr, only_cap_linux_immutable_sets_protection)
{
	char mine[PATH_MAX], other[PATH_MAX], buf[64];
	int flags = 0;

	snprintf(mine, sizeof(mine), "%s/mine", self->mnt);
	snprintf(other, sizeof(other), "%s/f", self->mnt);
	EXPECT_EQ(0, run_as(65534, owner_sets_flags, mine, other));
	ASSERT_EQ(0, get_flags(in_dir(self->upper, "mine"), &flags));
	EXPECT_TRUE(flags & FS_NOATIME_FL);
	EXPECT_STREQ("-", protattr(in_dir(self->upper, "mine"), buf, sizeof(buf)));
	EXPECT_EQ(ENOENT, stat_errno(in_dir(self->upper, "f")));

	/*
	 * Made immutable by root, it stays so for its owner: a change of
	 * other flags, made from what lsattr shows, keeps the protection,
	 * and clearing it needs the capability.
	 */
	ASSERT_EQ(0, change_flag(mine, FS_IMMUTABLE_FL, true));
	EXPECT_EQ(0, run_as(65534, owner_keeps_protection, mine, other));
	EXPECT_STREQ("i", protattr(in_dir(self->upper, "mine"), buf, sizeof(buf)));
	ASSERT_EQ(0, get_flags(in_dir(self->upper, "mine"), &flags));
	EXPECT_FALSE(flags & FS_NOATIME_FL);
	ASSERT_EQ(0, change_flag(mine, FS_IMMUTABLE_FL, false));
}

TEST_HARNESS_MAIN
