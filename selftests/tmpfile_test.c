// SPDX-License-Identifier: GPL-2.0
/*
 * O_TMPFILE in a union directory, run on rsunion and, as the reference,
 * on overlayfs: the unnamed file is made in the directory's upper copy
 * (copied up first), owned by the caller; linked in through /proc, it
 * shows its data at the new name, also over a whiteout; closed unlinked,
 * it leaves nothing behind; O_EXCL keeps it from ever being linked.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

#define DATA	"made unnamed\n"
/* A user that may write in lower/pub, mode 1777. */
#define USER_ID	1000

/*
 * lower/d/x    "lower\n"
 * lower/pub/   mode 1777
 * lower/gone   "lower\n", whited out through the union in the tests
 */
FIXTURE(tmpfile) {
	char dir[64];
	char lower[128];
	char upper[128];
	char work[128];
	char mnt[128];
};

FIXTURE_VARIANT(tmpfile) {
	const char *fs;
};

FIXTURE_VARIANT_ADD(tmpfile, rsunion) {
	.fs = "rsunion",
};

FIXTURE_VARIANT_ADD(tmpfile, overlay) {
	.fs = "overlay",
};

FIXTURE_SETUP(tmpfile)
{
	char opts[512];

	ASSERT_EQ(0, rsunion_ensure_loaded());
	ASSERT_EQ(0, scratch_layers(self->dir, self->lower, self->upper, self->work, self->mnt));
	ASSERT_EQ(0, mkfile(in_dir(self->lower, "d/x"), "lower\n"));
	ASSERT_EQ(0, mkfile(in_dir(self->lower, "gone"), "lower\n"));
	ASSERT_EQ(0, mkdirs(in_dir(self->lower, "pub")));
	ASSERT_EQ(0, chmod(in_dir(self->lower, "pub"), 01777));
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", self->lower,
		 self->upper, self->work);
	ASSERT_EQ(0, mount("none", self->mnt, variant->fs, 0, opts))
		TH_LOG("mount %s: %s", opts, strerror(errno));
}

FIXTURE_TEARDOWN(tmpfile)
{
	umount2(self->mnt, MNT_DETACH);
	scratch_put(self->dir);
}

/* An unnamed file in DIR holding DATA: its descriptor, or -1. */
static int make_unnamed(const char *dir, int flags)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC | flags, 0666);

	if (fd < 0)
		return -1;
	if (write(fd, DATA, strlen(DATA)) != (ssize_t)strlen(DATA)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Links the unnamed file open as FD in at PATH, as an unprivileged user can. */
static int link_in(int fd, const char *path)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) ? errno : 0;
}

/* Does FD hold exactly DATA? */
static bool holds_data(int fd)
{
	char buf[64] = "";

	return pread(fd, buf, sizeof(buf) - 1, 0) == (ssize_t)strlen(DATA) && !strcmp(buf, DATA);
}

/* Does PATH hold exactly WANT? */
static bool holds(const char *path, const char *want)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t len;

	if (fd < 0)
		return false;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return len == (ssize_t)strlen(want) && !memcmp(buf, want, len);
}

TEST_F(tmpfile, linked_in_shows_its_data)
{
	char path[PATH_MAX], names[256];
	struct stat unnamed, named;
	int fd;

	umask(022);
	fd = make_unnamed(in_dir(self->mnt, "d"), 0);
	ASSERT_GE(fd, 0) TH_LOG("O_TMPFILE: %s", strerror(errno));
	ASSERT_TRUE(holds_data(fd));
	ASSERT_EQ(0, fstat(fd, &unnamed));
	ASSERT_EQ(0, unnamed.st_nlink);
	ASSERT_EQ(S_IFREG | 0644, unnamed.st_mode);
	/* The directory was copied up to hold it, with nothing named in it. */
	ASSERT_EQ(0, names_of(in_dir(self->upper, "d"), names, sizeof(names)));
	ASSERT_STREQ("", names);
	snprintf(path, sizeof(path), "%s/d/named", self->mnt);
	ASSERT_EQ(0, link_in(fd, path));
	ASSERT_EQ(0, fstat(fd, &unnamed));
	ASSERT_EQ(1, unnamed.st_nlink);
	ASSERT_EQ(0, stat(path, &named));
	ASSERT_EQ(unnamed.st_ino, named.st_ino);
	ASSERT_TRUE(holds(path, DATA));
	ASSERT_TRUE(holds(in_dir(self->upper, "d/named"), DATA));
	ASSERT_EQ(0, stat(in_dir(self->upper, "d/named"), &named));
	ASSERT_EQ(S_IFREG | 0644, named.st_mode);
	ASSERT_EQ(0, names_of(in_dir(self->mnt, "d"), names, sizeof(names)));
	ASSERT_STREQ("named x", names);
	ASSERT_EQ(0, close(fd));
}

/* Linked by its descriptor (AT_EMPTY_PATH), where a lower name was removed. */
TEST_F(tmpfile, linked_over_a_whiteout)
{
	int fd;

	ASSERT_EQ(0, unlink(in_dir(self->mnt, "gone")));
	fd = make_unnamed(self->mnt, 0);
	ASSERT_GE(fd, 0) TH_LOG("O_TMPFILE: %s", strerror(errno));
	ASSERT_EQ(0, linkat(fd, "", AT_FDCWD, in_dir(self->mnt, "gone"), AT_EMPTY_PATH))
		TH_LOG("linkat: %s", strerror(errno));
	ASSERT_EQ(0, close(fd));
	ASSERT_TRUE(holds(in_dir(self->mnt, "gone"), DATA));
	ASSERT_TRUE(holds(in_dir(self->upper, "gone"), DATA));
	ASSERT_TRUE(holds(in_dir(self->lower, "gone"), "lower\n"));
}

/*
 * Nothing named, and no inode left on the scratch tmpfs that holds the
 * layers: an unnamed file kept alive by a leaked reference has no name.
 */
TEST_F(tmpfile, closed_unlinked_leaves_nothing)
{
	struct statvfs before, after;
	char names[256];
	int fd;

	ASSERT_EQ(0, statvfs(self->dir, &before));
	fd = make_unnamed(self->mnt, 0);
	ASSERT_GE(fd, 0) TH_LOG("O_TMPFILE: %s", strerror(errno));
	ASSERT_EQ(0, statvfs(self->dir, &after));
	ASSERT_EQ(before.f_ffree - 1, after.f_ffree);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, umount2(self->mnt, 0));
	ASSERT_EQ(0, statvfs(self->dir, &after));
	ASSERT_EQ(before.f_ffree, after.f_ffree);
	ASSERT_EQ(0, names_of(self->upper, names, sizeof(names)));
	ASSERT_STREQ("", names);
}

TEST_F(tmpfile, o_excl_is_never_linked)
{
	int fd = make_unnamed(self->mnt, O_EXCL);

	ASSERT_GE(fd, 0) TH_LOG("O_TMPFILE: %s", strerror(errno));
	ASSERT_EQ(ENOENT, link_in(fd, in_dir(self->mnt, "named")));
	ASSERT_EQ(ENOENT, stat_errno(in_dir(self->mnt, "named")));
	ASSERT_EQ(0, close(fd));
}

/* As USER_ID: an unnamed file in DIR linked in at NAME, owned by the user. */
static int make_and_link_as_user(const char *dir, const char *name)
{
	struct stat st;
	int fd = make_unnamed(dir, 0), err;

	if (fd < 0)
		return errno;
	if (fstat(fd, &st) || st.st_uid != USER_ID || st.st_gid != USER_ID)
		return 100;
	err = link_in(fd, name);
	close(fd);
	return err;
}

TEST_F(tmpfile, made_for_the_caller)
{
	char name[PATH_MAX];
	struct stat st;

	snprintf(name, sizeof(name), "%s/pub/mine", self->mnt);
	ASSERT_EQ(0, run_as(USER_ID, make_and_link_as_user, in_dir(self->mnt, "pub"), name));
	ASSERT_EQ(0, stat(in_dir(self->upper, "pub/mine"), &st));
	ASSERT_EQ(USER_ID, st.st_uid);
	ASSERT_EQ(USER_ID, st.st_gid);
	ASSERT_TRUE(holds(name, DATA));
	/* Where the user may not write, the unnamed file is refused too. */
	ASSERT_EQ(EACCES, run_as(USER_ID, make_and_link_as_user, in_dir(self->mnt, "d"), name));
}

TEST_HARNESS_MAIN
