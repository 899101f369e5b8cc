// SPDX-License-Identifier: GPL-2.0
/*
 * What dpkg, rm -rf, find, tar and cp -a rely on: hard links made through
 * the union can be renamed, exchanged and removed; lower hard links break
 * on copy-up as overlayfs breaks them; inode numbers stay the same across
 * copy-up and remount and never repeat between union directories; a file
 * opened before a copy-up sees the copy; names near NAME_MAX work in
 * merged directories; a failed step leaves the union as it was.
 * Each test runs with both whiteout formats.
 */
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

FIXTURE(links) {
	char dir[64];
	char lower[128];
	char lower2[128];
	char upper[128];
	char work[128];
	char mnt[128];
	char opts[1024];
};

FIXTURE_VARIANT(links) {
	const char *whiteout;
};

FIXTURE_VARIANT_ADD(links, overlay_whiteouts) {
	.whiteout = "",
};

FIXTURE_VARIANT_ADD(links, aufs_whiteouts) {
	.whiteout = ",whiteout=aufs",
};

/* DIR/d/NAME: a name in the merged directory d. */
static const char *in_d(const char *dir, const char *name)
{
	static char bufs[4][2 * PATH_MAX];
	static int next;
	char *buf = bufs[next++ % 4];

	snprintf(buf, 2 * PATH_MAX, "%s/d/%s", dir, name);
	return buf;
}

static int do_mount(FIXTURE_DATA(links) *self)
{
	return mount("none", self->mnt, "rsunion", 0, self->opts);
}

static int remount(FIXTURE_DATA(links) *self)
{
	if (umount(self->mnt))
		return -1;
	return do_mount(self);
}

FIXTURE_SETUP(links)
{
	ASSERT_EQ(0, rsunion_ensure_loaded());
	ASSERT_EQ(0, scratch_get(self->dir));
	snprintf(self->lower, sizeof(self->lower), "%s/l", self->dir);
	snprintf(self->lower2, sizeof(self->lower2), "%s/l2", self->dir);
	snprintf(self->upper, sizeof(self->upper), "%s/u", self->dir);
	snprintf(self->work, sizeof(self->work), "%s/w", self->dir);
	snprintf(self->mnt, sizeof(self->mnt), "%s/m", self->dir);
	ASSERT_EQ(0, mkdirs(self->lower2));
	ASSERT_EQ(0, mkdirs(self->upper));
	ASSERT_EQ(0, mkdirs(self->work));
	ASSERT_EQ(0, mkdirs(self->mnt));
	ASSERT_EQ(0, mkfile(in_dir(self->lower, "a"), "old a\n"));
	ASSERT_EQ(0, mkfile(in_dir(self->lower, "x"), "old x\n"));
	ASSERT_EQ(0, mkfile(in_dir(self->lower, "d/f"), "deep\n"));
	ASSERT_EQ(0, mkfile(in_dir(self->lower2, "d/g"), "merged\n"));
	/* Two lower names of one inode. */
	ASSERT_EQ(0, mkfile(in_dir(self->lower, "h1"), "linked\n"));
	ASSERT_EQ(0, link(in_dir(self->lower, "h1"), in_dir(self->lower, "h2")));
	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir=%s:%s,upperdir=%s,workdir=%s%s", self->lower,
		 self->lower2, self->upper, self->work, variant->whiteout);
	ASSERT_EQ(0, do_mount(self)) TH_LOG("mount: %s", strerror(errno));
}

FIXTURE_TEARDOWN(links)
{
	umount2(self->mnt, MNT_DETACH);
	scratch_put(self->dir);
}

static bool reads(const char *path, const char *want)
{
	char buf[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return !strcmp(buf, want);
}

/* `ln a b; rm b`, `mv b c`, then rm of the first name: ESTALE before. */
TEST_F(links, union_link_then_remove_each_name)
{
	ASSERT_EQ(0, link(in_dir(self->mnt, "a"), in_dir(self->mnt, "b")));
	ASSERT_EQ(0, unlink(in_dir(self->mnt, "b"))) TH_LOG("unlink: %s", strerror(errno));
	ASSERT_EQ(ENOENT, lstat_errno(in_dir(self->mnt, "b")));
	ASSERT_EQ(0, link(in_dir(self->mnt, "a"), in_dir(self->mnt, "b")));
	ASSERT_EQ(0, rename(in_dir(self->mnt, "b"), in_dir(self->mnt, "c")))
		TH_LOG("rename: %s", strerror(errno));
	ASSERT_TRUE(reads(in_dir(self->mnt, "c"), "old a\n"));
	ASSERT_EQ(0, unlink(in_dir(self->mnt, "a"))) TH_LOG("unlink a: %s", strerror(errno));
	ASSERT_EQ(ENOENT, lstat_errno(in_dir(self->mnt, "a")));
	ASSERT_TRUE(reads(in_dir(self->mnt, "c"), "old a\n"));
	ASSERT_EQ(0, unlink(in_dir(self->mnt, "c")));
	ASSERT_EQ(0, remount(self));
	ASSERT_EQ(ENOENT, lstat_errno(in_dir(self->mnt, "a")));
	ASSERT_EQ(ENOENT, lstat_errno(in_dir(self->mnt, "c")));
}

TEST_F(links, exchange_of_a_linked_name)
{
	ASSERT_EQ(0, link(in_dir(self->mnt, "a"), in_dir(self->mnt, "b")));
	ASSERT_EQ(0, renameat2(AT_FDCWD, in_dir(self->mnt, "b"), AT_FDCWD,
			       in_dir(self->mnt, "x"), RENAME_EXCHANGE))
		TH_LOG("exchange: %s", strerror(errno));
	ASSERT_TRUE(reads(in_dir(self->mnt, "x"), "old a\n"));
	ASSERT_TRUE(reads(in_dir(self->mnt, "b"), "old x\n"));
	ASSERT_EQ(0, unlink(in_dir(self->mnt, "x")));
	ASSERT_TRUE(reads(in_dir(self->mnt, "a"), "old a\n"));
}

/*
 * dpkg's upgrade of a file in a lower layer: link the old file to a
 * backup name, rename the new file over it, remove the backup.
 */
TEST_F(links, dpkg_backup_sequence)
{
	ASSERT_EQ(0, link(in_dir(self->mnt, "d/f"), in_dir(self->mnt, "d/f.dpkg-tmp")));
	ASSERT_EQ(0, write_file(in_dir(self->mnt, "d/f.dpkg-new"), "new\n"));
	ASSERT_EQ(0, rename(in_dir(self->mnt, "d/f.dpkg-new"), in_dir(self->mnt, "d/f")))
		TH_LOG("rename: %s", strerror(errno));
	ASSERT_EQ(0, unlink(in_dir(self->mnt, "d/f.dpkg-tmp")))
		TH_LOG("unlink: %s", strerror(errno));
	ASSERT_TRUE(reads(in_dir(self->mnt, "d/f"), "new\n"));
	ASSERT_EQ(ENOENT, lstat_errno(in_dir(self->mnt, "d/f.dpkg-tmp")));
	ASSERT_EQ(ENOENT, lstat_errno(in_dir(self->upper, "d/.wh.f.dpkg-tmp")));
	ASSERT_EQ(0, remount(self));
	ASSERT_TRUE(reads(in_dir(self->mnt, "d/f"), "new\n"));
}

/* overlayfs without index breaks a lower hard link on copy-up. */
TEST_F(links, lower_hard_link_breaks_on_copy_up)
{
	struct stat s1, s2;

	ASSERT_EQ(0, stat(in_dir(self->mnt, "h1"), &s1));
	ASSERT_EQ(0, stat(in_dir(self->mnt, "h2"), &s2));
	ASSERT_EQ(s1.st_ino, s2.st_ino);
	ASSERT_EQ(2, s1.st_nlink);
	ASSERT_EQ(0, write_file(in_dir(self->mnt, "h1"), "new\n"));
	ASSERT_TRUE(reads(in_dir(self->mnt, "h1"), "new\n"));
	ASSERT_TRUE(reads(in_dir(self->mnt, "h2"), "linked\n"));
	ASSERT_EQ(0, stat(in_dir(self->mnt, "h1"), &s1));
	ASSERT_EQ(0, stat(in_dir(self->mnt, "h2"), &s2));
	ASSERT_NE(s1.st_ino, s2.st_ino);
	ASSERT_EQ(0, remount(self));
	ASSERT_TRUE(reads(in_dir(self->mnt, "h1"), "new\n"));
	ASSERT_TRUE(reads(in_dir(self->mnt, "h2"), "linked\n"));
}

/* All layers on one filesystem: numbers survive copy-up and remount. */
TEST_F(links, inode_numbers_stable_across_copy_up_and_remount)
{
	struct stat f0, d0, f, d;

	ASSERT_EQ(0, stat(in_dir(self->mnt, "d/f"), &f0));
	ASSERT_EQ(0, stat(in_dir(self->mnt, "d"), &d0));
	ASSERT_EQ(0, write_file(in_dir(self->mnt, "d/f"), "changed\n"));
	ASSERT_EQ(0, lstat_errno(in_dir(self->upper, "d/f")));
	ASSERT_EQ(0, stat(in_dir(self->mnt, "d/f"), &f));
	ASSERT_EQ(0, stat(in_dir(self->mnt, "d"), &d));
	ASSERT_EQ(f0.st_ino, f.st_ino);
	ASSERT_EQ(f0.st_dev, f.st_dev);
	ASSERT_EQ(d0.st_ino, d.st_ino);
	ASSERT_EQ(d0.st_dev, d.st_dev);
	ASSERT_EQ(0, remount(self));
	ASSERT_EQ(0, stat(in_dir(self->mnt, "d/f"), &f));
	ASSERT_EQ(0, stat(in_dir(self->mnt, "d"), &d));
	ASSERT_EQ(f0.st_ino, f.st_ino);
	ASSERT_EQ(d0.st_ino, d.st_ino);
}

#define DEPTH 24

/*
 * fts (rm -rf, find, du) and tar climb back with ".." and check each
 * parent's numbers: a deep lower tree must survive them through the union.
 */
TEST_F_TIMEOUT(links, real_tools_on_a_deep_lower_tree, 600)
{
	char path[PATH_MAX], cmd[4 * PATH_MAX];
	int i;

	ASSERT_EQ(0, umount(self->mnt));
	snprintf(path, sizeof(path), "%s/t", self->lower);
	for (i = 0; i < DEPTH; i++) {
		ASSERT_EQ(0, mkdirs(path));
		ASSERT_EQ(0, write_file(in_dir(path, "file"), "leaf\n"));
		strcat(path, "/sub");
	}
	ASSERT_EQ(0, do_mount(self));
	snprintf(cmd, sizeof(cmd), "test $(find %s/t -name file | wc -l) -eq %d", self->mnt, DEPTH);
	ASSERT_EQ(0, sh(cmd));
	snprintf(cmd, sizeof(cmd), "du -s %s/t >/dev/null", self->mnt);
	ASSERT_EQ(0, sh(cmd));
	snprintf(cmd, sizeof(cmd), "tar -cf %s/t.tar -C %s t", self->dir, self->mnt);
	ASSERT_EQ(0, sh(cmd));
	snprintf(cmd, sizeof(cmd), "test $(tar -tf %s/t.tar | grep -c 'file$') -eq %d",
		 self->dir, DEPTH);
	ASSERT_EQ(0, sh(cmd));
	snprintf(cmd, sizeof(cmd), "cp -a %s/t %s/t2", self->mnt, self->mnt);
	ASSERT_EQ(0, sh(cmd));
	/* Copy-up of every directory on the way down, then the removal. */
	snprintf(cmd, sizeof(cmd), "chmod -R u+w %s/t", self->mnt);
	ASSERT_EQ(0, sh(cmd));
	snprintf(cmd, sizeof(cmd), "rm -rf %s/t %s/t2", self->mnt, self->mnt);
	ASSERT_EQ(0, sh(cmd));
	ASSERT_EQ(ENOENT, lstat_errno(in_dir(self->mnt, "t")));
	ASSERT_EQ(ENOENT, lstat_errno(in_dir(self->mnt, "t2")));
}

/* Directories from different filesystems never report one (dev, ino). */
TEST_F(links, directory_numbers_unique_across_filesystems)
{
	char l1[PATH_MAX], l2[PATH_MAX], opts[3 * PATH_MAX];
	struct stat a, b, root;

	ASSERT_EQ(0, umount(self->mnt));
	/* Two fresh tmpfs: their first directories get the same inode number. */
	snprintf(l1, sizeof(l1), "%s/fs1", self->dir);
	snprintf(l2, sizeof(l2), "%s/fs2", self->dir);
	ASSERT_EQ(0, mkdirs(l1));
	ASSERT_EQ(0, mkdirs(l2));
	ASSERT_EQ(0, mount("fs1", l1, "tmpfs", 0, NULL));
	ASSERT_EQ(0, mount("fs2", l2, "tmpfs", 0, NULL));
	ASSERT_EQ(0, mkdir(in_dir(l1, "one"), 0755));
	ASSERT_EQ(0, mkdir(in_dir(l2, "two"), 0755));
	ASSERT_EQ(0, stat(in_dir(l1, "one"), &a));
	ASSERT_EQ(0, stat(in_dir(l2, "two"), &b));
	ASSERT_EQ(a.st_ino, b.st_ino); /* the premise */
	snprintf(opts, sizeof(opts), "lowerdir=%s:%s", l1, l2);
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, opts));
	ASSERT_EQ(0, stat(in_dir(self->mnt, "one"), &a));
	ASSERT_EQ(0, stat(in_dir(self->mnt, "two"), &b));
	ASSERT_EQ(0, stat(self->mnt, &root));
	ASSERT_FALSE(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
	ASSERT_FALSE(a.st_dev == root.st_dev && a.st_ino == root.st_ino);
	ASSERT_FALSE(b.st_dev == root.st_dev && b.st_ino == root.st_ino);
	umount(self->mnt);
	umount(l1);
	umount(l2);
	ASSERT_EQ(0, do_mount(self));
}

/* A read-only fd from before a copy-up reads the copy, as overlayfs. */
TEST_F(links, read_only_fd_from_before_copy_up_reads_the_copy)
{
	char buf[64];
	int ro = open(in_dir(self->mnt, "a"), O_RDONLY | O_CLOEXEC);
	ssize_t n;

	ASSERT_GE(ro, 0);
	ASSERT_EQ(0, write_file(in_dir(self->mnt, "a"), "the copy\n"));
	n = pread(ro, buf, sizeof(buf) - 1, 0);
	ASSERT_EQ(9, n);
	buf[n] = '\0';
	ASSERT_STREQ("the copy\n", buf);
	ASSERT_EQ(0, fsync(ro));
	ASSERT_EQ(0, close(ro));
}

/* A name of LEN bytes made of C. */
static const char *long_name(char *buf, int len, char c)
{
	memset(buf, c, len);
	buf[len] = '\0';
	return buf;
}

/* No room for ".wh." before them: no such whiteout, not an error. */
TEST_F(links, names_near_name_max_in_a_merged_directory)
{
	char name[NAME_MAX + 1], other[NAME_MAX + 1];
	int len;

	for (len = 251; len <= NAME_MAX; len++) {
		long_name(name, len, 'n');
		long_name(other, len, 'o');
		ASSERT_EQ(0, write_file(in_d(self->mnt, name), "long\n"))
			TH_LOG("create %d: %s", len, strerror(errno));
		ASSERT_EQ(0, lstat_errno(in_d(self->mnt, name)));
		ASSERT_EQ(0, rename(in_d(self->mnt, name), in_d(self->mnt, other)))
			TH_LOG("rename %d: %s", len, strerror(errno));
		ASSERT_EQ(0, unlink(in_d(self->mnt, other)))
			TH_LOG("unlink %d: %s", len, strerror(errno));
		ASSERT_EQ(ENOENT, lstat_errno(in_d(self->mnt, other)));
	}
	/* A lower file of such a name can be removed too (whited out). */
	ASSERT_EQ(0, umount(self->mnt));
	long_name(name, NAME_MAX, 'L');
	ASSERT_EQ(0, write_file(in_d(self->lower, name), "lower\n"));
	ASSERT_EQ(0, do_mount(self));
	ASSERT_EQ(0, unlink(in_d(self->mnt, name)))
		TH_LOG("unlink lower: %s", strerror(errno));
	ASSERT_EQ(ENOENT, lstat_errno(in_d(self->mnt, name)));
	ASSERT_EQ(0, remount(self));
	ASSERT_EQ(ENOENT, lstat_errno(in_d(self->mnt, name)));
}

/* A directory made over a deleted lower one moves without the lower's. */
TEST_F(links, rename_of_directory_made_over_whiteout)
{
	char names[256];

	ASSERT_EQ(0, unlink(in_dir(self->mnt, "d/f")));
	ASSERT_EQ(0, unlink(in_dir(self->mnt, "d/g")));
	ASSERT_EQ(0, rmdir(in_dir(self->mnt, "d")));
	ASSERT_EQ(0, mkdir(in_dir(self->mnt, "d"), 0755));
	ASSERT_EQ(0, rename(in_dir(self->mnt, "d"), in_dir(self->mnt, "e")))
		TH_LOG("rename: %s", strerror(errno));
	ASSERT_EQ(ENOENT, lstat_errno(in_dir(self->mnt, "d")));
	ASSERT_EQ(0, names_of(in_dir(self->mnt, "e"), names, sizeof(names)));
	ASSERT_STREQ("", names);
	ASSERT_EQ(0, remount(self));
	ASSERT_EQ(ENOENT, lstat_errno(in_dir(self->mnt, "d")));
	ASSERT_EQ(0, names_of(in_dir(self->mnt, "e"), names, sizeof(names)));
	ASSERT_STREQ("", names);
}

/*
 * A directory made over a removed lower name is opaque; moved onto
 * another removed lower name it must be made opaque there again, which
 * it already is: the rename succeeds, and both lower names stay gone.
 */
TEST_F(links, rename_of_opaque_directory_onto_removed_lower_name)
{
	char names[256];

	ASSERT_EQ(0, unlink(in_dir(self->mnt, "a")));
	ASSERT_EQ(0, unlink(in_dir(self->mnt, "x")));
	ASSERT_EQ(0, mkdir(in_dir(self->mnt, "a"), 0755));
	ASSERT_EQ(0, rename(in_dir(self->mnt, "a"), in_dir(self->mnt, "x")))
		TH_LOG("rename: %s", strerror(errno));
	ASSERT_EQ(ENOENT, lstat_errno(in_dir(self->mnt, "a")));
	ASSERT_EQ(0, names_of(in_dir(self->mnt, "x"), names, sizeof(names)));
	ASSERT_STREQ("", names);
	ASSERT_EQ(0, rmdir(in_dir(self->mnt, "x")));
	ASSERT_EQ(0, remount(self));
	ASSERT_EQ(ENOENT, lstat_errno(in_dir(self->mnt, "a")));
	ASSERT_EQ(ENOENT, lstat_errno(in_dir(self->mnt, "x")));
}

/*
 * An open with O_TRUNC that fails after the copy-up it needs (here an
 * upper filesystem without O_DIRECT) leaves the lower file showing.
 */
TEST_F(links, failed_trunc_open_changes_nothing)
{
	char opts[4 * PATH_MAX], up[PATH_MAX];
	int fd;

	ASSERT_EQ(0, umount(self->mnt));
	snprintf(up, sizeof(up), "%s/ram", self->dir);
	ASSERT_EQ(0, mkdirs(up));
	ASSERT_EQ(0, mount("ram", up, "ramfs", 0, NULL));
	ASSERT_EQ(0, mkdirs(in_dir(up, "u")));
	ASSERT_EQ(0, mkdirs(in_dir(up, "w")));
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s/u,workdir=%s/w",
		 self->lower, up, up);
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, opts));
	fd = open(in_dir(self->mnt, "a"), O_WRONLY | O_TRUNC | O_DIRECT | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		SKIP(return, "this ramfs takes O_DIRECT");
	}
	ASSERT_EQ(EINVAL, errno);
	ASSERT_TRUE(reads(in_dir(self->mnt, "a"), "old a\n"));
	ASSERT_EQ(ENOENT, lstat_errno(in_dir(up, "u/a")));
	ASSERT_EQ(0, umount(self->mnt));
	ASSERT_EQ(0, umount(up));
	ASSERT_EQ(0, do_mount(self));
}

/*
 * Renaming a directory over a lower directory that shows entries answers
 * ENOTEMPTY, as overlayfs (and any filesystem) does; the differential
 * tester's seed 1196 found EXDEV.
 */
TEST_F(links, rename_over_a_non_empty_lower_directory)
{
	ASSERT_EQ(0, mkdir(in_dir(self->mnt, "newdir"), 0755));
	ASSERT_EQ(-1, rename(in_dir(self->mnt, "newdir"), in_dir(self->mnt, "d")));
	ASSERT_EQ(ENOTEMPTY, errno);
	ASSERT_EQ(0, stat_errno(in_dir(self->mnt, "newdir")));
	ASSERT_TRUE(reads(in_dir(self->mnt, "d/f"), "deep\n"));
	ASSERT_TRUE(reads(in_dir(self->mnt, "d/g"), "merged\n"));
}

/*
 * A copy-up into an append-only upper directory: the copy may be renamed
 * in, and putting the directory's times back is allowed too (only a
 * caller's explicit times, ATTR_TIMES_SET, are refused there). A failure
 * of that restore is treated as best effort in copy_up.rs; no filesystem
 * here makes it fail after the rename succeeded, so this test shows only
 * that the case works.
 */
TEST_F(links, copy_up_into_append_only_directory)
{
	int fd, flags = FS_APPEND_FL;

	ASSERT_EQ(0, chmod(in_dir(self->mnt, "d"), 0755)); /* copies d up */
	fd = open(in_dir(self->upper, "d"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	if (ioctl(fd, FS_IOC_SETFLAGS, &flags)) {
		close(fd);
		SKIP(return, "no append-only directories here: %s", strerror(errno));
	}
	fd = open(in_dir(self->mnt, "d/f"), O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(4, write(fd, "end\n", 4));
	ASSERT_EQ(0, close(fd));
	ASSERT_TRUE(reads(in_dir(self->mnt, "d/f"), "deep\nend\n"));
	ASSERT_TRUE(reads(in_dir(self->upper, "d/f"), "deep\nend\n"));
	flags = 0;
	fd = open(in_dir(self->upper, "d"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ioctl(fd, FS_IOC_SETFLAGS, &flags));
	close(fd);
}

TEST_HARNESS_MAIN
