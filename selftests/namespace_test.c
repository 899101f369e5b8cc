// SPDX-License-Identifier: GPL-2.0
/*
 * Namespace operations through a writable union, in each whiteout format
 * and option syntax: create, mkdir, mknod, symlink and link make the
 * object in the upper layer (copying a lower parent up first), owned by
 * the caller; unlink and rmdir leave a whiteout (char device 0/0 or
 * .wh.NAME) only where a lower layer has the name; a name made over a
 * whiteout replaces it, a directory made over one is opaque; rmdir needs
 * the union's view of the directory empty; .wh. names cannot be made.
 */
#include <dirent.h>
#include <grp.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

#define OPAQUE_MARKER	".wh..wh..opq"
#define USER_ID		1000
#define NEW_TEXT	"new\n"
#define LINK_TARGET	"some/target"

/* Does PATH hold exactly the text WANT? */
static bool has_text(const char *path, const char *want)
{
	char buf[256];
	size_t len = strlen(want), done = 0;
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	while (done < sizeof(buf) && (n = read(fd, buf + done, sizeof(buf) - done)) > 0)
		done += n;
	close(fd);
	return n >= 0 && done == len && !memcmp(buf, want, len);
}

enum wh_format {
	WH_CHAR,	/* overlayfs: a char device 0/0 named NAME */
	WH_FILE,	/* aufs: an empty regular file .wh.NAME */
};

enum syntax { SYNTAX_LOWERDIR, SYNTAX_DIRS, SYNTAX_BR };

/* A whiteout for NAME in directory DIR, in FORMAT. */
static int make_whiteout(const char *dir, const char *name, enum wh_format format)
{
	char path[PATH_MAX], wh[NAME_MAX + 1];

	if (format == WH_CHAR)
		return mknod(join(path, dir, name), S_IFCHR | 0644, makedev(0, 0));
	snprintf(wh, sizeof(wh), ".wh.%s", name);
	return write_file(join(path, dir, wh), "");
}

/* DIR has a whiteout for NAME in FORMAT, and nothing else by that name. */
static void check_whiteout(struct __test_metadata *_metadata, const char *dir,
			   const char *name, enum wh_format format)
{
	char path[PATH_MAX], wh[NAME_MAX + 1];
	struct stat st;

	snprintf(wh, sizeof(wh), ".wh.%s", name);
	if (format == WH_CHAR) {
		ASSERT_EQ(0, lstat(join(path, dir, name), &st))
			TH_LOG("no whiteout %s: %s", path, strerror(errno));
		ASSERT_TRUE(S_ISCHR(st.st_mode)) TH_LOG("%s: mode 0%o", path, st.st_mode);
		ASSERT_EQ(makedev(0, 0), st.st_rdev);
		ASSERT_EQ(ENOENT, lstat_errno(join(path, dir, wh)));
	} else {
		ASSERT_EQ(0, lstat(join(path, dir, wh), &st))
			TH_LOG("no whiteout %s: %s", path, strerror(errno));
		ASSERT_EQ(S_IFREG | 0644, st.st_mode);
		ASSERT_EQ(0, st.st_size);
		ASSERT_EQ(ENOENT, lstat_errno(join(path, dir, name)));
	}
}

/* DIR has neither NAME nor .wh.NAME. */
static void check_nothing(struct __test_metadata *_metadata, const char *dir,
			  const char *name)
{
	char path[PATH_MAX], wh[NAME_MAX + 1];

	snprintf(wh, sizeof(wh), ".wh.%s", name);
	ASSERT_EQ(ENOENT, lstat_errno(join(path, dir, name)));
	ASSERT_EQ(ENOENT, lstat_errno(join(path, dir, wh)));
}

static void check_names(struct __test_metadata *_metadata, const char *dir,
			const char *rel, const char *want)
{
	char path[PATH_MAX], names[512];

	ASSERT_EQ(0, names_of(join(path, dir, rel), names, sizeof(names)))
		TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_STREQ(want, names) TH_LOG("in %s", path);
}

/*
 * lower/  lfile, both, hfile, xfile, ldir/ (0750, 1234:5678) with inner,
 *         lempty/, mdir/ with lo, edir/ with gone, hdir/ with old,
 *         xdir/ with old, pub/ (0777)
 * upper/  ufile, both, udir/ with uinner, uempty/, mdir/ with up,
 *         edir/ with a whiteout for gone; whiteouts for hfile and hdir in
 *         the union's format, for xfile and xdir in the other one.
 */
FIXTURE(ns) {
	char dir[64];
	char lower[128];
	char upper[128];
	char work[128];		/* where copy-up temporaries are made */
	char mnt[128];
};

FIXTURE_VARIANT(ns) {
	enum syntax syntax;
	const char *extra;	/* more options */
	enum wh_format wh;	/* the format the union writes */
};

FIXTURE_VARIANT_ADD(ns, lowerdir) {
	.syntax = SYNTAX_LOWERDIR, .extra = "", .wh = WH_CHAR,
};

FIXTURE_VARIANT_ADD(ns, dirs) {
	.syntax = SYNTAX_DIRS, .extra = "", .wh = WH_FILE,
};

FIXTURE_VARIANT_ADD(ns, lowerdir_whiteout_aufs) {
	.syntax = SYNTAX_LOWERDIR, .extra = ",whiteout=aufs", .wh = WH_FILE,
};

FIXTURE_VARIANT_ADD(ns, br_whiteout_overlay) {
	.syntax = SYNTAX_BR, .extra = ",whiteout=overlay", .wh = WH_CHAR,
};

static int mkfile_in(const char *dir, const char *rel, const char *content)
{
	char path[PATH_MAX];

	return write_file(join(path, dir, rel), content);
}

static int mkdir_in(const char *dir, const char *rel, mode_t mode)
{
	char path[PATH_MAX];

	if (mkdir(join(path, dir, rel), mode))
		return -1;
	return chmod(path, mode);
}

FIXTURE_SETUP(ns)
{
	enum wh_format other = variant->wh == WH_CHAR ? WH_FILE : WH_CHAR;
	char path[PATH_MAX], opts[512];
	const char *l = self->lower, *u = self->upper;

	ASSERT_EQ(0, rsunion_ensure_loaded()) TH_LOG("load: %s", strerror(errno));
	umask(022);
	ASSERT_EQ(0, scratch_get(self->dir));
	join(self->lower, self->dir, "lower");
	join(self->upper, self->dir, "upper");
	join(self->mnt, self->dir, "mnt");
	join(self->work, self->dir, variant->syntax == SYNTAX_LOWERDIR ? "work" : "upper");
	ASSERT_EQ(0, mkdir(l, 0755));
	ASSERT_EQ(0, mkdir(u, 0755));
	ASSERT_EQ(0, mkdir(self->mnt, 0755));
	if (variant->syntax == SYNTAX_LOWERDIR)
		ASSERT_EQ(0, mkdir(self->work, 0755));

	ASSERT_EQ(0, mkfile_in(l, "lfile", "lfile in lower\n"));
	ASSERT_EQ(0, mkfile_in(l, "both", "both in lower\n"));
	ASSERT_EQ(0, mkfile_in(l, "hfile", "hfile in lower\n"));
	ASSERT_EQ(0, mkfile_in(l, "xfile", "xfile in lower\n"));
	ASSERT_EQ(0, mkdir_in(l, "ldir", 0755));
	ASSERT_EQ(0, mkfile_in(l, "ldir/inner", "inner\n"));
	ASSERT_EQ(0, chmod(join(path, l, "ldir"), 0750));
	ASSERT_EQ(0, chown(path, 1234, 5678));
	ASSERT_EQ(0, mkdir_in(l, "lempty", 0755));
	ASSERT_EQ(0, mkdir_in(l, "mdir", 0755));
	ASSERT_EQ(0, mkfile_in(l, "mdir/lo", "lo\n"));
	ASSERT_EQ(0, mkdir_in(l, "edir", 0755));
	ASSERT_EQ(0, mkfile_in(l, "edir/gone", "gone\n"));
	ASSERT_EQ(0, mkdir_in(l, "hdir", 0755));
	ASSERT_EQ(0, mkfile_in(l, "hdir/old", "old\n"));
	ASSERT_EQ(0, mkdir_in(l, "xdir", 0755));
	ASSERT_EQ(0, mkfile_in(l, "xdir/old", "old\n"));
	ASSERT_EQ(0, mkdir_in(l, "pub", 0777));

	ASSERT_EQ(0, mkfile_in(u, "ufile", "ufile in upper\n"));
	ASSERT_EQ(0, mkfile_in(u, "both", "both in upper\n"));
	ASSERT_EQ(0, mkdir_in(u, "udir", 0755));
	ASSERT_EQ(0, mkfile_in(u, "udir/uinner", "uinner\n"));
	ASSERT_EQ(0, mkdir_in(u, "uempty", 0755));
	ASSERT_EQ(0, mkdir_in(u, "mdir", 0755));
	ASSERT_EQ(0, mkfile_in(u, "mdir/up", "up\n"));
	ASSERT_EQ(0, mkdir_in(u, "edir", 0755));
	ASSERT_EQ(0, make_whiteout(join(path, u, "edir"), "gone", variant->wh));
	ASSERT_EQ(0, make_whiteout(u, "hfile", variant->wh));
	ASSERT_EQ(0, make_whiteout(u, "hdir", variant->wh));
	ASSERT_EQ(0, make_whiteout(u, "xfile", other));
	ASSERT_EQ(0, make_whiteout(u, "xdir", other));

	switch (variant->syntax) {
	case SYNTAX_LOWERDIR:
		snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s%s",
			 l, u, self->work, variant->extra);
		break;
	case SYNTAX_DIRS:
		snprintf(opts, sizeof(opts), "dirs=%s:%s%s", u, l, variant->extra);
		break;
	case SYNTAX_BR:
		snprintf(opts, sizeof(opts), "br=%s=rw:%s=ro%s", u, l, variant->extra);
		break;
	}
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, opts))
		TH_LOG("mount %s: %s", opts, strerror(errno));
}

FIXTURE_TEARDOWN(ns)
{
	umount2(self->mnt, MNT_DETACH);
	scratch_put(self->dir);
}

/* No copy-up temporary is left; a separate work dir is empty. */
static void check_no_temps(struct __test_metadata *_metadata, FIXTURE_DATA(ns) *self)
{
	ASSERT_EQ(0, count_temps(self->work));
	if (strcmp(self->work, self->upper))
		check_names(_metadata, self->work, ".", "");
}

/* ---- creating objects in upper-only, lower-only and merged dirs ---- */

enum op { OP_CREATE, OP_MKDIR, OP_FIFO, OP_SYMLINK, OP_LINK };

/* Makes PATH by OP (a link links SRC); 0 or an errno value. */
static int do_op(enum op op, const char *path, const char *src)
{
	int fd, ret = 0;

	switch (op) {
	case OP_CREATE:
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
		if (fd < 0)
			return errno;
		if (write(fd, NEW_TEXT, strlen(NEW_TEXT)) != (ssize_t)strlen(NEW_TEXT))
			ret = EIO;
		close(fd);
		return ret;
	case OP_MKDIR:
		return mkdir(path, 0750) ? errno : 0;
	case OP_FIFO:
		return mknod(path, S_IFIFO | 0640, 0) ? errno : 0;
	case OP_SYMLINK:
		return symlink(LINK_TARGET, path) ? errno : 0;
	case OP_LINK:
		return link(src, path) ? errno : 0;
	}
	return EINVAL;
}

/*
 * OP makes PARENT/new through the union: the object is in the upper
 * layer, root's, with the mode asked for; both views list what they must.
 */
static void new_in(struct __test_metadata *_metadata, FIXTURE_DATA(ns) *self,
		   enum op op, const char *parent)
{
	char rel[64], path[PATH_MAX], src[PATH_MAX], buf[64];
	const char *union_names, *upper_names, *lower_names = NULL;
	struct stat ust, st, sst;
	ssize_t n;

	if (!strcmp(parent, "udir")) {
		union_names = upper_names = "new uinner";
	} else if (!strcmp(parent, "ldir")) {
		union_names = "inner new";
		upper_names = "new";
		lower_names = "inner";
	} else {
		union_names = "lo new up";
		upper_names = "new up";
		lower_names = "lo";
	}
	snprintf(rel, sizeof(rel), "%s/new", parent);
	ASSERT_EQ(0, do_op(op, join(path, self->mnt, rel), join(src, self->mnt, "ufile")));

	ASSERT_EQ(0, lstat(join(path, self->upper, rel), &ust))
		TH_LOG("not in the upper layer: %s", strerror(errno));
	ASSERT_EQ(0, lstat(join(path, self->mnt, rel), &st));
	ASSERT_EQ(ust.st_mode, st.st_mode);
	switch (op) {
	case OP_CREATE:
		ASSERT_EQ(S_IFREG | 0640, ust.st_mode);
		ASSERT_TRUE(has_text(join(path, self->upper, rel), NEW_TEXT));
		ASSERT_TRUE(has_text(join(path, self->mnt, rel), NEW_TEXT));
		break;
	case OP_MKDIR:
		ASSERT_EQ(S_IFDIR | 0750, ust.st_mode);
		check_names(_metadata, self->upper, rel, "");
		check_names(_metadata, self->mnt, rel, "");
		ASSERT_EQ(-1, getxattr(join(path, self->upper, rel), "trusted.overlay.opaque",
				       buf, sizeof(buf)));
		ASSERT_EQ(ENODATA, errno);
		break;
	case OP_FIFO:
		ASSERT_EQ(S_IFIFO | 0640, ust.st_mode);
		break;
	case OP_SYMLINK:
		ASSERT_TRUE(S_ISLNK(ust.st_mode));
		n = readlink(join(path, self->upper, rel), buf, sizeof(buf));
		ASSERT_EQ(strlen(LINK_TARGET), n);
		ASSERT_EQ(0, memcmp(buf, LINK_TARGET, n));
		n = readlink(join(path, self->mnt, rel), buf, sizeof(buf));
		ASSERT_EQ(strlen(LINK_TARGET), n);
		ASSERT_EQ(0, memcmp(buf, LINK_TARGET, n));
		break;
	case OP_LINK:
		ASSERT_EQ(0, lstat(join(path, self->upper, "ufile"), &sst));
		ASSERT_EQ(sst.st_ino, ust.st_ino);
		ASSERT_EQ(2, ust.st_nlink);
		ASSERT_EQ(2, st.st_nlink);
		ASSERT_EQ(0, lstat(join(path, self->mnt, "ufile"), &sst));
		ASSERT_EQ(ust.st_ino, sst.st_ino);
		ASSERT_TRUE(has_text(join(path, self->mnt, rel), "ufile in upper\n"));
		break;
	}
	if (op != OP_LINK) {
		ASSERT_EQ(0, ust.st_uid);
		ASSERT_EQ(0, ust.st_gid);
	}
	if (op != OP_MKDIR) {
		/* A new object: its upper number, with the union's st_dev. */
		ASSERT_EQ(ust.st_ino, st.st_ino);
		ASSERT_EQ(dev_of(self->mnt), st.st_dev);
	}
	check_names(_metadata, self->mnt, parent, union_names);
	check_names(_metadata, self->upper, parent, upper_names);
	if (lower_names)
		check_names(_metadata, self->lower, parent, lower_names);
	if (!strcmp(parent, "ldir")) {
		/* The parent was copied up as it is in the lower layer. */
		ASSERT_EQ(0, lstat(join(path, self->upper, "ldir"), &ust));
		ASSERT_EQ(S_IFDIR | 0750, ust.st_mode);
		ASSERT_EQ(1234, ust.st_uid);
		ASSERT_EQ(5678, ust.st_gid);
	}
	check_no_temps(_metadata, self);
}

TEST_F(ns, create_in_upper_dir) { new_in(_metadata, self, OP_CREATE, "udir"); }
TEST_F(ns, create_in_lower_dir) { new_in(_metadata, self, OP_CREATE, "ldir"); }
TEST_F(ns, create_in_merged_dir) { new_in(_metadata, self, OP_CREATE, "mdir"); }
TEST_F(ns, mkdir_in_upper_dir) { new_in(_metadata, self, OP_MKDIR, "udir"); }
TEST_F(ns, mkdir_in_lower_dir) { new_in(_metadata, self, OP_MKDIR, "ldir"); }
TEST_F(ns, mkdir_in_merged_dir) { new_in(_metadata, self, OP_MKDIR, "mdir"); }
TEST_F(ns, mknod_fifo_in_upper_dir) { new_in(_metadata, self, OP_FIFO, "udir"); }
TEST_F(ns, mknod_fifo_in_lower_dir) { new_in(_metadata, self, OP_FIFO, "ldir"); }
TEST_F(ns, mknod_fifo_in_merged_dir) { new_in(_metadata, self, OP_FIFO, "mdir"); }
TEST_F(ns, symlink_in_upper_dir) { new_in(_metadata, self, OP_SYMLINK, "udir"); }
TEST_F(ns, symlink_in_lower_dir) { new_in(_metadata, self, OP_SYMLINK, "ldir"); }
TEST_F(ns, symlink_in_merged_dir) { new_in(_metadata, self, OP_SYMLINK, "mdir"); }
TEST_F(ns, link_in_upper_dir) { new_in(_metadata, self, OP_LINK, "udir"); }
TEST_F(ns, link_in_lower_dir) { new_in(_metadata, self, OP_LINK, "ldir"); }
TEST_F(ns, link_in_merged_dir) { new_in(_metadata, self, OP_LINK, "mdir"); }

/* Linking a lower-only file copies it up, then links the copy. */
TEST_F(ns, link_of_lower_file_links_its_upper_copy)
{
	char path[PATH_MAX], other[PATH_MAX];
	struct stat st, st2;

	ASSERT_EQ(0, link(join(path, self->mnt, "lfile"), join(other, self->mnt, "udir/lnk")))
		TH_LOG("link: %s", strerror(errno));
	ASSERT_EQ(0, lstat(join(path, self->upper, "lfile"), &st));
	ASSERT_EQ(0, lstat(join(path, self->upper, "udir/lnk"), &st2));
	ASSERT_EQ(st.st_ino, st2.st_ino);
	ASSERT_EQ(2, st.st_nlink);
	ASSERT_TRUE(has_text(path, "lfile in lower\n"));
	/* Both union names are the copy, which keeps the lower number. */
	ASSERT_EQ(0, lstat(join(path, self->lower, "lfile"), &st));
	ASSERT_EQ(1, st.st_nlink);
	ASSERT_EQ(0, stat(join(path, self->mnt, "lfile"), &st2));
	ASSERT_EQ(st.st_ino, st2.st_ino);
	ASSERT_EQ(2, st2.st_nlink);
	ASSERT_EQ(0, stat(join(path, self->mnt, "udir/lnk"), &st2));
	ASSERT_EQ(st.st_ino, st2.st_ino);
	ASSERT_TRUE(has_text(path, "lfile in lower\n"));
	check_no_temps(_metadata, self);
}

/* The VFS sees the name: nothing reaches the upper layer. */
TEST_F(ns, create_over_existing_name_eexist)
{
	char path[PATH_MAX];

	ASSERT_EQ(EEXIST, do_op(OP_MKDIR, join(path, self->mnt, "lfile"), NULL));
	ASSERT_EQ(EEXIST, do_op(OP_CREATE, join(path, self->mnt, "ldir/inner"), NULL));
	ASSERT_EQ(EEXIST, do_op(OP_FIFO, join(path, self->mnt, "mdir/lo"), NULL));
	ASSERT_EQ(ENOENT, lstat_errno(join(path, self->upper, "lfile")));
	ASSERT_EQ(ENOENT, lstat_errno(join(path, self->upper, "ldir")));
	check_names(_metadata, self->upper, "mdir", "up");
}

/* ---- unlink and rmdir ---- */

TEST_F(ns, unlink_lower_only_leaves_whiteout)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, unlink(join(path, self->mnt, "lfile"))) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(ENOENT, lstat_errno(path));
	check_whiteout(_metadata, self->upper, "lfile", variant->wh);
	ASSERT_TRUE(has_text(join(path, self->lower, "lfile"), "lfile in lower\n"));
	check_names(_metadata, self->mnt, ".",
		    "both edir ldir lempty mdir pub udir uempty ufile");
	check_no_temps(_metadata, self);
}

/*
 * An aufs layer may hold an object beside its own .wh. entry (the object
 * wins in its layer, as aufs reads it). Removing that name through the
 * union leaves the whiteout there. Before: unlink answered EEXIST,
 * making a .wh. file that already existed.
 */
TEST_F(ns, unlink_beside_its_own_aufs_whiteout)
{
	char path[PATH_MAX], opts[512];

	ASSERT_EQ(0, umount(self->mnt));
	ASSERT_EQ(0, make_whiteout(self->upper, "both", WH_FILE));
	snprintf(opts, sizeof(opts), "br=%s=rw:%s=ro", self->upper, self->lower);
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, opts)) TH_LOG("%s", strerror(errno));
	ASSERT_TRUE(has_text(join(path, self->mnt, "both"), "both in upper\n"));
	ASSERT_EQ(0, unlink(path)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(ENOENT, lstat_errno(path));
	check_whiteout(_metadata, self->upper, "both", WH_FILE);
	ASSERT_TRUE(has_text(join(path, self->lower, "both"), "both in lower\n"));
}

TEST_F(ns, unlink_upper_only_leaves_no_whiteout)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, unlink(join(path, self->mnt, "ufile"))) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(ENOENT, lstat_errno(path));
	check_nothing(_metadata, self->upper, "ufile");
	check_names(_metadata, self->mnt, ".",
		    "both edir ldir lempty lfile mdir pub udir uempty");
}

TEST_F(ns, unlink_merged_leaves_whiteout)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, unlink(join(path, self->mnt, "both"))) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(ENOENT, lstat_errno(path));
	check_whiteout(_metadata, self->upper, "both", variant->wh);
	ASSERT_TRUE(has_text(join(path, self->lower, "both"), "both in lower\n"));
}

/* The parent is copied up to hold the whiteout. */
TEST_F(ns, unlink_in_lower_dir_whites_out_in_copied_parent)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, unlink(join(path, self->mnt, "ldir/inner"))) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(ENOENT, lstat_errno(path));
	check_names(_metadata, self->mnt, "ldir", "");
	check_whiteout(_metadata, join(path, self->upper, "ldir"), "inner", variant->wh);
	check_names(_metadata, self->upper, "ldir", variant->wh == WH_CHAR ? "inner" : ".wh.inner");
	check_names(_metadata, self->lower, "ldir", "inner");
	check_no_temps(_metadata, self);
}

TEST_F(ns, rmdir_lower_only_leaves_whiteout)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, rmdir(join(path, self->mnt, "lempty"))) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(ENOENT, lstat_errno(path));
	check_whiteout(_metadata, self->upper, "lempty", variant->wh);
	ASSERT_EQ(0, lstat_errno(join(path, self->lower, "lempty")));
}

TEST_F(ns, rmdir_upper_only_leaves_no_whiteout)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, rmdir(join(path, self->mnt, "uempty"))) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(ENOENT, lstat_errno(path));
	check_nothing(_metadata, self->upper, "uempty");
}

TEST_F(ns, rmdir_merged_dir_with_content_enotempty)
{
	char path[PATH_MAX];

	ASSERT_EQ(-1, rmdir(join(path, self->mnt, "mdir")));
	ASSERT_EQ(ENOTEMPTY, errno);
	check_names(_metadata, self->mnt, "mdir", "lo up");
	check_names(_metadata, self->upper, "mdir", "up");
}

/* Only the lower layer's entry is left, but the union still shows it. */
TEST_F(ns, rmdir_merged_dir_with_lower_content_enotempty)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, unlink(join(path, self->mnt, "mdir/up")));
	ASSERT_EQ(-1, rmdir(join(path, self->mnt, "mdir")));
	ASSERT_EQ(ENOTEMPTY, errno);
	check_names(_metadata, self->mnt, "mdir", "lo");
	ASSERT_EQ(0, lstat_errno(join(path, self->mnt, "mdir/lo")));
}

TEST_F(ns, rmdir_lower_dir_with_content_enotempty)
{
	char path[PATH_MAX];

	ASSERT_EQ(-1, rmdir(join(path, self->mnt, "ldir")));
	ASSERT_EQ(ENOTEMPTY, errno);
	check_nothing(_metadata, self->upper, "ldir");
	check_names(_metadata, self->mnt, "ldir", "inner");
}

TEST_F(ns, rmdir_upper_dir_with_content_enotempty)
{
	char path[PATH_MAX];

	ASSERT_EQ(-1, rmdir(join(path, self->mnt, "udir")));
	ASSERT_EQ(ENOTEMPTY, errno);
	check_names(_metadata, self->upper, "udir", "uinner");
}

/*
 * edir shows nothing (its only lower entry is whited out in the upper
 * dir): rmdir removes the upper dir with its whiteout, and whites the name
 * out. Nothing of the old upper dir stays.
 */
TEST_F(ns, rmdir_empty_looking_merged_dir_succeeds)
{
	char path[PATH_MAX];
	struct stat st;

	check_names(_metadata, self->mnt, "edir", "");
	ASSERT_EQ(0, rmdir(join(path, self->mnt, "edir"))) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(ENOENT, lstat_errno(path));
	check_whiteout(_metadata, self->upper, "edir", variant->wh);
	if (variant->wh == WH_CHAR) {
		ASSERT_EQ(0, lstat(join(path, self->upper, "edir"), &st));
		ASSERT_FALSE(S_ISDIR(st.st_mode));
	}
	check_names(_metadata, self->lower, "edir", "gone");
	check_no_temps(_metadata, self);
}

/* rm -r through the union: the whiteouts rmdir finds are its own. */
TEST_F(ns, rmdir_after_unlinking_every_entry)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, unlink(join(path, self->mnt, "mdir/up")));
	ASSERT_EQ(0, unlink(join(path, self->mnt, "mdir/lo")));
	check_names(_metadata, self->mnt, "mdir", "");
	ASSERT_EQ(0, rmdir(join(path, self->mnt, "mdir"))) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(ENOENT, lstat_errno(path));
	check_whiteout(_metadata, self->upper, "mdir", variant->wh);
	check_names(_metadata, self->lower, "mdir", "lo");
}

/* An opaque dir (made over a whiteout) goes with its marker. */
TEST_F(ns, rmdir_opaque_dir_succeeds)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, mkdir(join(path, self->mnt, "hdir"), 0755)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, rmdir(path)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(ENOENT, lstat_errno(path));
	check_whiteout(_metadata, self->upper, "hdir", variant->wh);
	check_no_temps(_metadata, self);
}

/* ---- over whiteouts ---- */

static void check_new_file(struct __test_metadata *_metadata, FIXTURE_DATA(ns) *self,
			   const char *name)
{
	char path[PATH_MAX], wh[NAME_MAX + 1];
	struct stat st;

	snprintf(wh, sizeof(wh), ".wh.%s", name);
	ASSERT_EQ(0, lstat(join(path, self->upper, name), &st));
	ASSERT_EQ(S_IFREG | 0640, st.st_mode);
	ASSERT_TRUE(has_text(path, NEW_TEXT));
	ASSERT_TRUE(has_text(join(path, self->mnt, name), NEW_TEXT));
	ASSERT_EQ(ENOENT, lstat_errno(join(path, self->upper, wh)));
}

/*
 * The name made over a whiteout has no lower object behind it in the
 * union, but the lower layer still has one: removing it whites it out
 * again.
 */
TEST_F(ns, unlink_of_file_made_over_whiteout_leaves_whiteout)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, do_op(OP_CREATE, join(path, self->mnt, "hfile"), NULL));
	ASSERT_EQ(0, unlink(path)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(ENOENT, lstat_errno(path));
	check_whiteout(_metadata, self->upper, "hfile", variant->wh);
	check_names(_metadata, self->mnt, ".",
		    "both edir ldir lempty lfile mdir pub udir uempty ufile");
}

TEST_F(ns, create_over_whiteout_removes_it)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, do_op(OP_CREATE, join(path, self->mnt, "hfile"), NULL));
	check_new_file(_metadata, self, "hfile");
	ASSERT_TRUE(has_text(join(path, self->lower, "hfile"), "hfile in lower\n"));
}

TEST_F(ns, create_over_own_whiteout_removes_it)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, unlink(join(path, self->mnt, "lfile")));
	ASSERT_EQ(0, do_op(OP_CREATE, path, NULL));
	check_new_file(_metadata, self, "lfile");
	ASSERT_TRUE(has_text(join(path, self->lower, "lfile"), "lfile in lower\n"));
}

/* Both formats are read, so both are replaced. */
TEST_F(ns, create_over_other_format_whiteout_removes_it)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, do_op(OP_CREATE, join(path, self->mnt, "xfile"), NULL));
	check_new_file(_metadata, self, "xfile");
}

TEST_F(ns, symlink_over_whiteout_removes_it)
{
	char path[PATH_MAX], buf[64];
	struct stat st;

	ASSERT_EQ(0, do_op(OP_SYMLINK, join(path, self->mnt, "hfile"), NULL));
	ASSERT_EQ(strlen(LINK_TARGET), readlink(path, buf, sizeof(buf)));
	ASSERT_EQ(0, lstat(join(path, self->upper, "hfile"), &st));
	ASSERT_TRUE(S_ISLNK(st.st_mode));
	ASSERT_EQ(ENOENT, lstat_errno(join(path, self->upper, ".wh.hfile")));
}

/*
 * NAME in the union is a new directory over a whiteout: opaque in the
 * union's format, empty though the lower NAME has OLD, and no whiteout
 * for NAME left beside it.
 */
static void check_opaque(struct __test_metadata *_metadata, FIXTURE_DATA(ns) *self,
			 const FIXTURE_VARIANT(ns) *variant, const char *name,
			 const char *old)
{
	char path[PATH_MAX], rel[64], wh[NAME_MAX + 1], buf[8];
	struct stat st;

	ASSERT_EQ(0, lstat(join(path, self->upper, name), &st));
	ASSERT_EQ(S_IFDIR | 0755, st.st_mode);
	if (variant->wh == WH_CHAR) {
		ASSERT_EQ(1, getxattr(path, "trusted.overlay.opaque", buf, sizeof(buf)))
			TH_LOG("opaque xattr: %s", strerror(errno));
		ASSERT_EQ('y', buf[0]);
		check_names(_metadata, self->upper, name, "");
	} else {
		check_names(_metadata, self->upper, name, OPAQUE_MARKER);
		snprintf(rel, sizeof(rel), "%s/" OPAQUE_MARKER, name);
		ASSERT_EQ(0, lstat(join(path, self->upper, rel), &st));
		ASSERT_TRUE(S_ISREG(st.st_mode));
		ASSERT_EQ(0, st.st_size);
	}
	snprintf(wh, sizeof(wh), ".wh.%s", name);
	ASSERT_EQ(ENOENT, lstat_errno(join(path, self->upper, wh)));
	check_names(_metadata, self->mnt, name, "");
	snprintf(rel, sizeof(rel), "%s/%s", name, old);
	ASSERT_EQ(ENOENT, lstat_errno(join(path, self->mnt, rel)));
	ASSERT_EQ(0, lstat_errno(join(path, self->lower, rel)));
	check_no_temps(_metadata, self);
}

TEST_F(ns, mkdir_over_whiteout_is_opaque)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, mkdir(join(path, self->mnt, "hdir"), 0755)) TH_LOG("%s", strerror(errno));
	check_opaque(_metadata, self, variant, "hdir", "old");
}

TEST_F(ns, mkdir_over_other_format_whiteout_is_opaque)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, mkdir(join(path, self->mnt, "xdir"), 0755)) TH_LOG("%s", strerror(errno));
	check_opaque(_metadata, self, variant, "xdir", "old");
}

/* The new dir holds nothing of the removed one: no stale whiteout. */
TEST_F(ns, mkdir_after_rmdir_is_opaque)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, rmdir(join(path, self->mnt, "edir"))) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, mkdir(path, 0755)) TH_LOG("%s", strerror(errno));
	check_opaque(_metadata, self, variant, "edir", "gone");
}

/*
 * An rmdir of edir that fails at its last step, the real rmdir or rename:
 * a tmpfs mounted on edir's upper copy, in this mount namespace (the
 * union reaches its layers through private mounts, which it does not
 * see), makes the real filesystem answer EBUSY there, after the copy was
 * emptied of the whiteout hiding "gone". edir still shows empty: the copy
 * was made opaque before it was emptied (overlayfs swaps in an empty
 * opaque copy), an aufs marker taken for the last step is back, an aufs
 * whiteout written for it is gone, and the union looks edir up anew.
 * Emptied as it was, edir would show "gone" again.
 */
TEST_F(ns, rmdir_failing_late_leaves_dir_empty)
{
	char path[PATH_MAX], upper_edir[PATH_MAX];
	int err;

	check_names(_metadata, self->mnt, "edir", "");
	ASSERT_EQ(0, mount("none", join(upper_edir, self->upper, "edir"), "tmpfs", 0, NULL));
	err = rmdir(join(path, self->mnt, "edir")) ? errno : 0;
	ASSERT_EQ(0, umount2(upper_edir, MNT_DETACH));
	ASSERT_EQ(EBUSY, err) TH_LOG("rmdir: %s", strerror(err));
	check_opaque(_metadata, self, variant, "edir", "gone");
	check_no_temps(_metadata, self);
}

/* So does a rename over edir: udir stays where it was. */
TEST_F(ns, rename_over_dir_failing_late_leaves_it_empty)
{
	char from[PATH_MAX], to[PATH_MAX], upper_edir[PATH_MAX];
	int err;

	check_names(_metadata, self->mnt, "edir", "");
	ASSERT_EQ(0, mount("none", join(upper_edir, self->upper, "edir"), "tmpfs", 0, NULL));
	err = rename(join(from, self->mnt, "udir"), join(to, self->mnt, "edir")) ? errno : 0;
	ASSERT_EQ(0, umount2(upper_edir, MNT_DETACH));
	ASSERT_EQ(EBUSY, err) TH_LOG("rename: %s", strerror(err));
	check_opaque(_metadata, self, variant, "edir", "gone");
	check_names(_metadata, self->mnt, "udir", "uinner");
}

/*
 * A directory made where one was removed is opaque and shows empty: a
 * rename may replace it. With aufs markers its upper copy holds one, which
 * the real rename would refuse (ENOTEMPTY) were it left there.
 */
TEST_F(ns, rename_over_dir_made_after_rmdir)
{
	char path[PATH_MAX], to[PATH_MAX];

	ASSERT_EQ(0, rmdir(join(path, self->mnt, "edir"))) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, mkdir(path, 0755)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, rename(join(path, self->mnt, "udir"), join(to, self->mnt, "edir")))
		TH_LOG("rename: %s", strerror(errno));
	ASSERT_EQ(ENOENT, lstat_errno(path));
	check_names(_metadata, self->mnt, "edir", "uinner");
	if (variant->wh == WH_CHAR)
		check_names(_metadata, self->upper, "edir", "uinner");
	else
		check_names(_metadata, self->upper, "edir", OPAQUE_MARKER " uinner");
	check_names(_metadata, self->lower, "edir", "gone");
}

/*
 * An aufs marker, left by an aufs-format mount of the same upper layer,
 * makes a directory opaque in either format: it goes with the directory,
 * as whiteouts do (an rmdir answered ENOTEMPTY where the union wrote
 * char-device whiteouts and so never took markers away).
 */
TEST_F(ns, rmdir_of_dir_an_aufs_mount_made_opaque)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, mkfile_in(self->upper, "uempty/" OPAQUE_MARKER, ""));
	check_names(_metadata, self->mnt, "uempty", "");
	ASSERT_EQ(0, rmdir(join(path, self->mnt, "uempty"))) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(ENOENT, lstat_errno(path));
	ASSERT_EQ(ENOENT, lstat_errno(join(path, self->upper, "uempty")));
}

/* ---- .wh. names ---- */

/* Each way of making NAME (a .wh. name) in the union gives EPERM. */
static void check_wh_name_refused(struct __test_metadata *_metadata,
				  FIXTURE_DATA(ns) *self, enum op op, const char *rel)
{
	char path[PATH_MAX], src[PATH_MAX];

	ASSERT_EQ(EPERM, do_op(op, join(path, self->mnt, rel), join(src, self->mnt, "ufile")));
	ASSERT_EQ(ENOENT, lstat_errno(join(path, self->upper, rel)));
	check_no_temps(_metadata, self);
}

TEST_F(ns, create_wh_name_eperm)
{
	check_wh_name_refused(_metadata, self, OP_CREATE, ".wh.new");
	check_wh_name_refused(_metadata, self, OP_CREATE, "udir/.wh.uinner");
	check_wh_name_refused(_metadata, self, OP_CREATE, OPAQUE_MARKER);
}

TEST_F(ns, mkdir_wh_name_eperm)
{
	check_wh_name_refused(_metadata, self, OP_MKDIR, ".wh.new");
	check_wh_name_refused(_metadata, self, OP_MKDIR, "mdir/.wh.lo");
}

TEST_F(ns, mknod_symlink_link_wh_name_eperm)
{
	check_wh_name_refused(_metadata, self, OP_FIFO, ".wh.new");
	check_wh_name_refused(_metadata, self, OP_SYMLINK, ".wh.new");
	check_wh_name_refused(_metadata, self, OP_LINK, ".wh.new");
}

/* ---- owner and mode of new objects ---- */

static int create_it(const char *path, const char *unused)
{
	return do_op(OP_CREATE, path, NULL);
}

static int mkdir_it(const char *path, const char *unused)
{
	return do_op(OP_MKDIR, path, NULL);
}

static void check_users(struct __test_metadata *_metadata, FIXTURE_DATA(ns) *self,
			const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	ASSERT_EQ(0, lstat(join(path, self->upper, rel), &st));
	ASSERT_EQ(USER_ID, st.st_uid);
	ASSERT_EQ(USER_ID, st.st_gid);
	ASSERT_EQ(0, lstat(join(path, self->mnt, rel), &st));
	ASSERT_EQ(USER_ID, st.st_uid);
	ASSERT_EQ(USER_ID, st.st_gid);
	/* pub itself was copied up as root's. */
	ASSERT_EQ(0, lstat(join(path, self->upper, "pub"), &st));
	ASSERT_EQ(S_IFDIR | 0777, st.st_mode);
	ASSERT_EQ(0, st.st_uid);
}

TEST_F(ns, new_file_owned_by_caller)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, run_as(USER_ID, create_it, join(path, self->mnt, "pub/mine"), NULL));
	check_users(_metadata, self, "pub/mine");
	ASSERT_TRUE(has_text(join(path, self->upper, "pub/mine"), NEW_TEXT));
}

TEST_F(ns, new_dir_owned_by_caller)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, run_as(USER_ID, mkdir_it, join(path, self->mnt, "pub/mine"), NULL));
	check_users(_metadata, self, "pub/mine");
}

/* Permission is checked on the union's directory: nothing is made. */
TEST_F(ns, create_in_root_owned_dir_eacces_for_user)
{
	char path[PATH_MAX];

	ASSERT_EQ(EACCES, run_as(USER_ID, create_it, join(path, self->mnt, "udir/mine"), NULL));
	ASSERT_EQ(EACCES, run_as(USER_ID, create_it, join(path, self->mnt, "mdir/mine"), NULL));
	check_names(_metadata, self->upper, "udir", "uinner");
	check_names(_metadata, self->upper, "mdir", "up");
}

TEST_F(ns, new_objects_mode_follows_umask)
{
	char path[PATH_MAX];
	struct stat st;

	umask(027);
	ASSERT_EQ(0, mknod(join(path, self->mnt, "fifo"), S_IFIFO | 0666, 0));
	ASSERT_EQ(0, lstat(join(path, self->upper, "fifo"), &st));
	ASSERT_EQ(S_IFIFO | 0640, st.st_mode);
	ASSERT_EQ(0, mkdir(join(path, self->mnt, "dir"), 0777));
	ASSERT_EQ(0, lstat(join(path, self->upper, "dir"), &st));
	ASSERT_EQ(S_IFDIR | 0750, st.st_mode);
	ASSERT_EQ(0, close(creat(join(path, self->mnt, "file"), 0666)));
	ASSERT_EQ(0, lstat(join(path, self->upper, "file"), &st));
	ASSERT_EQ(S_IFREG | 0640, st.st_mode);
}

TEST_HARNESS_MAIN
