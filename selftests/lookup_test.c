// SPDX-License-Identifier: GPL-2.0
/*
 * Lookup across layers: names from every layer, the topmost object wins,
 * the first non-directory hides everything below it, directories merge
 * until a whiteout (char device 0/0 or .wh.NAME) or an opaque directory
 * (xattr, .wh..wh..opq, or .wh.NAME beside NAME) stops them; .wh. names
 * are never reachable; special files keep their type; what stat and
 * statfs report.
 */
#include <dirent.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

#define RSUNION_MAGIC 0x72737531

/* PATH's whole content into BUF (NUL-terminated); its length or -1. */
static ssize_t read_text(const char *path, char *buf, size_t size)
{
	ssize_t n, len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	if (n < 0)
		return -1;
	buf[len] = '\0';
	return len;
}

/*
 * The seed's layout: a (a.log, x.log) over b (b.log, x.log), mounted with
 * relative layer paths in both option syntaxes.
 */
FIXTURE(seed) {
	char dir[PATH_MAX];
};

FIXTURE_VARIANT(seed) {
	const char *opts;
};

FIXTURE_VARIANT_ADD(seed, dirs) {
	.opts = "dirs=./a:./b",
};

FIXTURE_VARIANT_ADD(seed, lowerdir) {
	.opts = "lowerdir=a:b",
};

FIXTURE_SETUP(seed)
{
	ASSERT_EQ(0, rsunion_ensure_loaded()) TH_LOG("load: %s", strerror(errno));
	ASSERT_EQ(0, scratch_get(self->dir));
	ASSERT_EQ(0, chdir(self->dir));
	ASSERT_EQ(0, mkdir("mnt", 0755));
	ASSERT_EQ(0, mkfile("a/a.log", "a.log in a\n"));
	ASSERT_EQ(0, mkfile("a/x.log", "x.log in a\n"));
	ASSERT_EQ(0, mkfile("b/b.log", "b.log in b\n"));
	ASSERT_EQ(0, mkfile("b/x.log", "x.log in b, longer than a's\n"));
	ASSERT_EQ(0, mount("none", "mnt", "rsunion", 0, variant->opts))
		TH_LOG("mount %s: %s", variant->opts, strerror(errno));
}

FIXTURE_TEARDOWN(seed)
{
	char mnt[PATH_MAX + 8];

	snprintf(mnt, sizeof(mnt), "%s/mnt", self->dir);
	chdir("/");
	umount2(mnt, MNT_DETACH);
	scratch_put(self->dir);
}

TEST_F(seed, names_of_both_layers)
{
	char names[256];

	ASSERT_EQ(0, names_of("mnt", names, sizeof(names)));
	ASSERT_STREQ("a.log b.log x.log", names);
	ASSERT_EQ(0, stat_errno("mnt/a.log"));
	ASSERT_EQ(0, stat_errno("mnt/b.log"));
	ASSERT_EQ(0, stat_errno("mnt/x.log"));
}

TEST_F(seed, missing_name_is_enoent)
{
	ASSERT_EQ(ENOENT, stat_errno("mnt/c.log"));
}

TEST_F(seed, each_layer_content)
{
	char buf[128];

	ASSERT_EQ(11, read_text("mnt/a.log", buf, sizeof(buf)));
	ASSERT_STREQ("a.log in a\n", buf);
	ASSERT_EQ(11, read_text("mnt/b.log", buf, sizeof(buf)));
	ASSERT_STREQ("b.log in b\n", buf);
}

TEST_F(seed, top_layer_content_wins)
{
	struct stat st;
	char buf[128];

	ASSERT_EQ(11, read_text("mnt/x.log", buf, sizeof(buf)));
	ASSERT_STREQ("x.log in a\n", buf);
	ASSERT_EQ(0, stat("mnt/x.log", &st));
	ASSERT_EQ(11, st.st_size);
}

/*
 * Three empty layers l1 (top), l2, l3 (bottom) on a scratch tmpfs; the
 * cwd is the scratch directory, so paths below are relative to it. Each
 * test fills the layers, then mounts them on mnt.
 */
FIXTURE(lookup) {
	char dir[PATH_MAX];
};

FIXTURE_SETUP(lookup)
{
	ASSERT_EQ(0, rsunion_ensure_loaded()) TH_LOG("load: %s", strerror(errno));
	ASSERT_EQ(0, scratch_get(self->dir));
	ASSERT_EQ(0, chdir(self->dir));
	ASSERT_EQ(0, mkdir("mnt", 0755));
	ASSERT_EQ(0, mkdir("l1", 0755));
	ASSERT_EQ(0, mkdir("l2", 0755));
	ASSERT_EQ(0, mkdir("l3", 0755));
}

FIXTURE_TEARDOWN(lookup)
{
	char mnt[PATH_MAX + 8];

	snprintf(mnt, sizeof(mnt), "%s/mnt", self->dir);
	chdir("/");
	umount2(mnt, MNT_DETACH);
	scratch_put(self->dir);
}

/* lowerdir=l1:...:lLAYERS (absolute paths) on mnt. */
static int mount_layers(const char *dir, int layers)
{
	char opts[3 * PATH_MAX + 64];
	int i, len;

	len = snprintf(opts, sizeof(opts), "lowerdir=");
	for (i = 1; i <= layers; i++)
		len += snprintf(opts + len, sizeof(opts) - len, "%s%s/l%d",
				i > 1 ? ":" : "", dir, i);
	return mount("none", "mnt", "rsunion", 0, opts);
}

TEST_F(lookup, file_on_top_hides_dir_below)
{
	struct stat st;
	char buf[64];

	ASSERT_EQ(0, mkfile("l1/n", "file on top\n"));
	ASSERT_EQ(0, mkfile("l2/n/inner", "inside the dir below\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(0, lstat("mnt/n", &st));
	ASSERT_TRUE(S_ISREG(st.st_mode));
	ASSERT_EQ(12, read_text("mnt/n", buf, sizeof(buf)));
	ASSERT_STREQ("file on top\n", buf);
	ASSERT_EQ(ENOTDIR, stat_errno("mnt/n/inner"));
}

TEST_F(lookup, file_in_middle_hides_dir_at_bottom)
{
	struct stat st;

	ASSERT_EQ(0, mkfile("l2/n", "middle\n"));
	ASSERT_EQ(0, mkfile("l3/n/inner", "bottom\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 3));

	ASSERT_EQ(0, lstat("mnt/n", &st));
	ASSERT_TRUE(S_ISREG(st.st_mode));
	ASSERT_EQ(7, st.st_size);
	ASSERT_EQ(ENOTDIR, stat_errno("mnt/n/inner"));
}

/* d: a directory in l1, a file in l2, a directory in l3: no merge. */
TEST_F(lookup, file_below_dir_stops_merge)
{
	struct stat st;
	char buf[64];

	ASSERT_EQ(0, mkfile("l1/d/own", "own\n"));
	ASSERT_EQ(0, mkfile("l2/d", "a file\n"));
	ASSERT_EQ(0, mkfile("l3/d/below", "below the file\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 3));

	ASSERT_EQ(0, stat("mnt/d", &st));
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	ASSERT_EQ(4, read_text("mnt/d/own", buf, sizeof(buf)));
	ASSERT_EQ(ENOENT, stat_errno("mnt/d/below"));
	ASSERT_EQ(0, names_of("mnt/d", buf, sizeof(buf)));
	ASSERT_STREQ("own", buf);
}

/* d/e/f spread over three layers, each level merged. */
TEST_F(lookup, dirs_merge_across_three_layers)
{
	char buf[64];

	ASSERT_EQ(0, mkfile("l1/d/e/f/one", "1 from l1\n"));
	ASSERT_EQ(0, mkfile("l2/d/e/f/two", "2 from l2\n"));
	ASSERT_EQ(0, mkfile("l3/d/e/f/three", "3 from l3\n"));
	ASSERT_EQ(0, mkfile("l2/d/e/mid", "mid from l2\n"));
	ASSERT_EQ(0, mkfile("l3/d/low", "low from l3\n"));
	ASSERT_EQ(0, mkfile("l3/d/e/f/one", "1 from l3\n"));
	ASSERT_EQ(0, mkfile("l2/d/e/f/three", "3 from l2\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 3));

	ASSERT_EQ(10, read_text("mnt/d/e/f/one", buf, sizeof(buf)));
	ASSERT_STREQ("1 from l1\n", buf);
	ASSERT_EQ(10, read_text("mnt/d/e/f/two", buf, sizeof(buf)));
	ASSERT_STREQ("2 from l2\n", buf);
	ASSERT_EQ(10, read_text("mnt/d/e/f/three", buf, sizeof(buf)));
	ASSERT_STREQ("3 from l2\n", buf);
	ASSERT_EQ(12, read_text("mnt/d/e/mid", buf, sizeof(buf)));
	ASSERT_STREQ("mid from l2\n", buf);
	ASSERT_EQ(12, read_text("mnt/d/low", buf, sizeof(buf)));
	ASSERT_STREQ("low from l3\n", buf);
	ASSERT_EQ(0, names_of("mnt/d/e/f", buf, sizeof(buf)));
	ASSERT_STREQ("one three two", buf);
}

TEST_F(lookup, chardev_whiteout_hides_lower_name)
{
	ASSERT_EQ(0, mkwhiteout("l2/w"));
	ASSERT_EQ(0, mkfile("l3/w", "hidden\n"));
	ASSERT_EQ(0, mkwhiteout("l2/wd"));
	ASSERT_EQ(0, mkfile("l3/wd/inner", "hidden\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 3));

	ASSERT_EQ(ENOENT, stat_errno("mnt/w"));
	ASSERT_EQ(ENOENT, stat_errno("mnt/wd"));
	ASSERT_EQ(ENOENT, stat_errno("mnt/wd/inner"));
}

TEST_F(lookup, chardev_whiteout_keeps_name_above)
{
	struct stat st;
	char buf[64];

	ASSERT_EQ(0, mkfile("l1/w", "above the whiteout\n"));
	ASSERT_EQ(0, mkwhiteout("l2/w"));
	ASSERT_EQ(0, mkfile("l3/w", "below\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 3));

	ASSERT_EQ(0, lstat("mnt/w", &st));
	ASSERT_TRUE(S_ISREG(st.st_mode));
	ASSERT_EQ(19, read_text("mnt/w", buf, sizeof(buf)));
	ASSERT_STREQ("above the whiteout\n", buf);
}

/* A directory above a whiteout of a directory: only its own content. */
TEST_F(lookup, chardev_whiteout_stops_dir_merge)
{
	char buf[64];

	ASSERT_EQ(0, mkfile("l1/d/own", "own\n"));
	ASSERT_EQ(0, mkwhiteout("l2/d"));
	ASSERT_EQ(0, mkfile("l3/d/below", "below\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 3));

	ASSERT_EQ(0, stat_errno("mnt/d/own"));
	ASSERT_EQ(ENOENT, stat_errno("mnt/d/below"));
	ASSERT_EQ(0, names_of("mnt/d", buf, sizeof(buf)));
	ASSERT_STREQ("own", buf);
}

/* OCI image layer style: .wh.NAME in the layer above. */
TEST_F(lookup, wh_whiteout_hides_lower_name)
{
	ASSERT_EQ(0, mkfile("l2/.wh.w", ""));
	ASSERT_EQ(0, mkfile("l3/w", "hidden\n"));
	ASSERT_EQ(0, mkfile("l2/.wh.wd", ""));
	ASSERT_EQ(0, mkfile("l3/wd/inner", "hidden\n"));
	ASSERT_EQ(0, mkfile("l2/d/.wh.x", ""));
	ASSERT_EQ(0, mkfile("l2/d/kept", "kept\n"));
	ASSERT_EQ(0, mkfile("l3/d/x", "hidden\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 3));

	ASSERT_EQ(ENOENT, stat_errno("mnt/w"));
	ASSERT_EQ(ENOENT, stat_errno("mnt/wd"));
	ASSERT_EQ(ENOENT, stat_errno("mnt/wd/inner"));
	ASSERT_EQ(ENOENT, stat_errno("mnt/d/x"));
	ASSERT_EQ(0, stat_errno("mnt/d/kept"));
}

TEST_F(lookup, wh_whiteout_keeps_name_above)
{
	char buf[64];

	ASSERT_EQ(0, mkfile("l1/w", "above the whiteout\n"));
	ASSERT_EQ(0, mkfile("l2/.wh.w", ""));
	ASSERT_EQ(0, mkfile("l3/w", "below\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 3));

	ASSERT_EQ(19, read_text("mnt/w", buf, sizeof(buf)));
	ASSERT_STREQ("above the whiteout\n", buf);
}

/*
 * An object and a .wh. entry of its name in one layer: the object shows,
 * once, and hides the layers below; the .wh. entry read first (b) or
 * last (a). tmpfs lists in the order of creation.
 */
TEST_F(lookup, object_beside_its_wh_entry_shows)
{
	char buf[64];

	ASSERT_EQ(0, mkfile("l1/d/a", "a1\n"));
	ASSERT_EQ(0, mkfile("l1/d/.wh.a", ""));
	ASSERT_EQ(0, mkfile("l1/d/.wh.b", ""));
	ASSERT_EQ(0, mkfile("l1/d/b", "b1\n"));
	ASSERT_EQ(0, mkfile("l2/d/a", "a2\n"));
	ASSERT_EQ(0, mkfile("l2/d/b", "b2\n"));
	ASSERT_EQ(0, mkfile("l2/d/c", "c2\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(0, names_of("mnt/d", buf, sizeof(buf)));
	ASSERT_STREQ("a b c", buf);
	ASSERT_EQ(3, read_text("mnt/d/a", buf, sizeof(buf)));
	ASSERT_STREQ("a1\n", buf);
	ASSERT_EQ(3, read_text("mnt/d/b", buf, sizeof(buf)));
	ASSERT_STREQ("b1\n", buf);
}

/*
 * "costarring" and "liquid" have the same 32-bit FNV-1a hash, the one the
 * learned lists keep: a whiteout of one hides it alone, listed or looked
 * up.
 */
TEST_F(lookup, whiteout_hides_only_its_name_of_one_hash)
{
	char buf[64];

	ASSERT_EQ(0, mkfile("l1/d/.wh.costarring", ""));
	ASSERT_EQ(0, mkfile("l2/d/costarring", "hidden\n"));
	ASSERT_EQ(0, mkfile("l2/d/liquid", "shown\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(0, names_of("mnt/d", buf, sizeof(buf)));
	ASSERT_STREQ("liquid", buf);
	ASSERT_EQ(ENOENT, stat_errno("mnt/d/costarring"));
	ASSERT_EQ(6, read_text("mnt/d/liquid", buf, sizeof(buf)));
	ASSERT_STREQ("shown\n", buf);
}

TEST_F(lookup, wh_whiteout_stops_dir_merge)
{
	char buf[64];

	ASSERT_EQ(0, mkfile("l1/d/own", "own\n"));
	ASSERT_EQ(0, mkfile("l2/.wh.d", ""));
	ASSERT_EQ(0, mkfile("l3/d/below", "below\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 3));

	ASSERT_EQ(0, stat_errno("mnt/d/own"));
	ASSERT_EQ(ENOENT, stat_errno("mnt/d/below"));
	ASSERT_EQ(0, names_of("mnt/d", buf, sizeof(buf)));
	ASSERT_STREQ("own", buf);
}

TEST_F(lookup, opaque_xattr_hides_lower_content)
{
	char buf[64];

	ASSERT_EQ(0, mkfile("l1/d/own", "own\n"));
	ASSERT_EQ(0, mkfile("l1/d/both", "both from l1\n"));
	ASSERT_EQ(0, setxattr("l1/d", "trusted.overlay.opaque", "y", 1, 0));
	ASSERT_EQ(0, mkfile("l2/d/below", "below\n"));
	ASSERT_EQ(0, mkfile("l2/d/both", "both from l2\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(4, read_text("mnt/d/own", buf, sizeof(buf)));
	ASSERT_STREQ("own\n", buf);
	ASSERT_EQ(13, read_text("mnt/d/both", buf, sizeof(buf)));
	ASSERT_STREQ("both from l1\n", buf);
	ASSERT_EQ(ENOENT, stat_errno("mnt/d/below"));
	ASSERT_EQ(0, names_of("mnt/d", buf, sizeof(buf)));
	ASSERT_STREQ("both own", buf);
}

/* Opaque in the middle: merges with what is above, not below. */
TEST_F(lookup, opaque_xattr_in_middle_layer)
{
	char buf[64];

	ASSERT_EQ(0, mkfile("l1/d/top", "top\n"));
	ASSERT_EQ(0, mkfile("l2/d/mid", "mid\n"));
	ASSERT_EQ(0, setxattr("l2/d", "trusted.overlay.opaque", "y", 1, 0));
	ASSERT_EQ(0, mkfile("l3/d/low", "low\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 3));

	ASSERT_EQ(0, stat_errno("mnt/d/top"));
	ASSERT_EQ(0, stat_errno("mnt/d/mid"));
	ASSERT_EQ(ENOENT, stat_errno("mnt/d/low"));
	ASSERT_EQ(0, names_of("mnt/d", buf, sizeof(buf)));
	ASSERT_STREQ("mid top", buf);
}

/* Only "y" makes a directory opaque. */
TEST_F(lookup, opaque_xattr_other_value_merges)
{
	ASSERT_EQ(0, mkfile("l1/d/own", "own\n"));
	ASSERT_EQ(0, setxattr("l1/d", "trusted.overlay.opaque", "n", 1, 0));
	ASSERT_EQ(0, mkfile("l2/d/below", "below\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(0, stat_errno("mnt/d/own"));
	ASSERT_EQ(0, stat_errno("mnt/d/below"));
}

TEST_F(lookup, opaque_wh_marker_hides_lower_content)
{
	char buf[64];

	ASSERT_EQ(0, mkfile("l1/d/own", "own\n"));
	ASSERT_EQ(0, mkfile("l1/d/.wh..wh..opq", ""));
	ASSERT_EQ(0, mkfile("l2/d/below", "below\n"));
	ASSERT_EQ(0, mkfile("l2/d/own", "own from l2\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(4, read_text("mnt/d/own", buf, sizeof(buf)));
	ASSERT_STREQ("own\n", buf);
	ASSERT_EQ(ENOENT, stat_errno("mnt/d/below"));
	ASSERT_EQ(0, names_of("mnt/d", buf, sizeof(buf)));
	ASSERT_STREQ("own", buf);
}

/* .wh.d beside directory d in one layer: d shows only its own content. */
TEST_F(lookup, wh_beside_dir_makes_it_opaque)
{
	struct stat st;
	char buf[64];

	ASSERT_EQ(0, mkfile("l1/d/own", "own\n"));
	ASSERT_EQ(0, mkfile("l1/.wh.d", ""));
	ASSERT_EQ(0, mkfile("l2/d/below", "below\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(0, stat("mnt/d", &st));
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	ASSERT_EQ(0, stat_errno("mnt/d/own"));
	ASSERT_EQ(ENOENT, stat_errno("mnt/d/below"));
	ASSERT_EQ(0, names_of("mnt/d", buf, sizeof(buf)));
	ASSERT_STREQ("own", buf);
}

TEST_F(lookup, wh_names_unreachable)
{
	ASSERT_EQ(0, mkfile("l1/.wh.x", ""));
	ASSERT_EQ(0, mkfile("l1/.wh..wh..opq", ""));
	ASSERT_EQ(0, mkfile("l2/.wh.y", "a file named like a whiteout\n"));
	ASSERT_EQ(0, mkdir("l2/.wh.dir", 0755));
	ASSERT_EQ(0, mkfile("l2/d/.wh..wh..opq", ""));
	ASSERT_EQ(0, mkfile("l2/.wh.", "named just the prefix\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(ENOENT, stat_errno("mnt/.wh.x"));
	ASSERT_EQ(ENOENT, stat_errno("mnt/.wh..wh..opq"));
	ASSERT_EQ(ENOENT, stat_errno("mnt/.wh.y"));
	ASSERT_EQ(ENOENT, stat_errno("mnt/.wh.dir"));
	ASSERT_EQ(ENOENT, stat_errno("mnt/d/.wh..wh..opq"));
	ASSERT_EQ(ENOENT, stat_errno("mnt/.wh."));
}

/* Whiteouts in the bottom layer hide nothing and show nothing. */
TEST_F(lookup, bottom_whiteout_harmless)
{
	char buf[64];

	ASSERT_EQ(0, mkfile("l1/top", "top\n"));
	ASSERT_EQ(0, mkfile("l2/kept", "kept\n"));
	ASSERT_EQ(0, mkwhiteout("l2/gone"));
	ASSERT_EQ(0, mkfile("l2/.wh.gone2", ""));
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(5, read_text("mnt/kept", buf, sizeof(buf)));
	ASSERT_STREQ("kept\n", buf);
	ASSERT_EQ(0, stat_errno("mnt/top"));
	ASSERT_EQ(ENOENT, stat_errno("mnt/gone"));
	ASSERT_EQ(ENOENT, stat_errno("mnt/gone2"));
	ASSERT_EQ(0, names_of("mnt", buf, sizeof(buf)));
	ASSERT_STREQ("kept top", buf);
}

TEST_F(lookup, symlink_readlink)
{
	struct stat st;
	char buf[64];
	ssize_t n;

	ASSERT_EQ(0, symlink("no/such/target", "l2/link"));
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(0, lstat("mnt/link", &st));
	ASSERT_TRUE(S_ISLNK(st.st_mode));
	ASSERT_EQ(14, st.st_size);
	n = readlink("mnt/link", buf, sizeof(buf));
	ASSERT_EQ(14, n);
	buf[n] = '\0';
	ASSERT_STREQ("no/such/target", buf);
}

/* A relative symlink from one layer resolves in the union. */
TEST_F(lookup, symlink_resolves_in_union)
{
	char buf[64];

	ASSERT_EQ(0, symlink("d/target", "l2/link"));
	ASSERT_EQ(0, mkfile("l1/d/target", "target in l1\n"));
	ASSERT_EQ(0, mkdir("l2/d", 0755));
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(13, read_text("mnt/link", buf, sizeof(buf)));
	ASSERT_STREQ("target in l1\n", buf);
}

TEST_F(lookup, chardev_keeps_rdev)
{
	struct stat real, st;

	ASSERT_EQ(0, mknod("l2/null", S_IFCHR | 0640, makedev(1, 3)));
	ASSERT_EQ(0, lstat("l2/null", &real));
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(0, lstat("mnt/null", &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(makedev(1, 3), st.st_rdev);
	ASSERT_EQ(real.st_mode, st.st_mode);
}

TEST_F(lookup, blockdev_keeps_rdev)
{
	struct stat st;

	ASSERT_EQ(0, mknod("l2/loop", S_IFBLK | 0600, makedev(7, 5)));
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(0, lstat("mnt/loop", &st));
	ASSERT_TRUE(S_ISBLK(st.st_mode));
	ASSERT_EQ(makedev(7, 5), st.st_rdev);
}

TEST_F(lookup, fifo_keeps_type)
{
	struct stat st;

	ASSERT_EQ(0, mkfifo("l2/fifo", 0640));
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(0, lstat("mnt/fifo", &st));
	ASSERT_TRUE(S_ISFIFO(st.st_mode));
	ASSERT_EQ(0640, st.st_mode & 07777);
}

TEST_F(lookup, socket_keeps_type)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int sock;

	strcpy(addr.sun_path, "l2/sock");
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_GE(sock, 0);
	ASSERT_EQ(0, bind(sock, (struct sockaddr *)&addr, sizeof(addr)));
	close(sock);
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(0, lstat("mnt/sock", &st));
	ASSERT_TRUE(S_ISSOCK(st.st_mode));
}

TEST_F(lookup, hard_links_share_ino)
{
	struct stat a, b, other;

	ASSERT_EQ(0, mkfile("l2/h1", "linked\n"));
	ASSERT_EQ(0, link("l2/h1", "l2/h2"));
	ASSERT_EQ(0, mkfile("l2/other", "linked\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(0, stat("mnt/h1", &a));
	ASSERT_EQ(0, stat("mnt/h2", &b));
	ASSERT_EQ(0, stat("mnt/other", &other));
	ASSERT_EQ(a.st_dev, b.st_dev);
	ASSERT_EQ(a.st_ino, b.st_ino);
	ASSERT_NE(a.st_ino, other.st_ino);
	ASSERT_EQ(2, a.st_nlink);
	ASSERT_EQ(2, b.st_nlink);
}

/*
 * Each layer on its own tmpfs, so each file's st_dev tells its layer: the
 * union reports the real file's st_dev and st_ino.
 */
TEST_F(lookup, file_dev_ino_are_real)
{
	struct stat real1, real2, u1, u2;

	ASSERT_EQ(0, mount("l1", "l1", "tmpfs", 0, NULL));
	ASSERT_EQ(0, mount("l2", "l2", "tmpfs", 0, NULL));
	ASSERT_EQ(0, mkfile("l1/f", "in l1\n"));
	ASSERT_EQ(0, mkfile("l2/g", "in l2\n"));
	ASSERT_EQ(0, mkfile("l2/f", "in l2, hidden\n"));
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(0, stat("l1/f", &real1));
	ASSERT_EQ(0, stat("l2/g", &real2));
	ASSERT_NE(real1.st_dev, real2.st_dev);
	ASSERT_EQ(0, stat("mnt/f", &u1));
	ASSERT_EQ(0, stat("mnt/g", &u2));
	ASSERT_EQ(real1.st_dev, u1.st_dev);
	ASSERT_EQ(real1.st_ino, u1.st_ino);
	ASSERT_EQ(real2.st_dev, u2.st_dev);
	ASSERT_EQ(real2.st_ino, u2.st_ino);
}

TEST_F(lookup, dir_dev_is_union)
{
	struct stat root, layer, merged, single;

	ASSERT_EQ(0, mkdir("l1/d", 0755));
	ASSERT_EQ(0, mkdir("l2/d", 0755));
	ASSERT_EQ(0, mkdir("l2/only", 0755));
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(0, stat("l1/d", &layer));
	ASSERT_EQ(0, stat("mnt", &root));
	ASSERT_NE(layer.st_dev, root.st_dev);
	ASSERT_EQ(0, stat("mnt/d", &merged));
	ASSERT_EQ(0, stat("mnt/only", &single));
	ASSERT_EQ(root.st_dev, merged.st_dev);
	ASSERT_EQ(root.st_dev, single.st_dev);
}

TEST_F(lookup, merged_dir_nlink_one)
{
	struct stat layer, merged, root;

	ASSERT_EQ(0, mkdirs("l1/d/s1"));
	ASSERT_EQ(0, mkdirs("l1/d/s2"));
	ASSERT_EQ(0, mkdirs("l2/d/s3"));
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(0, stat("l1/d", &layer));
	ASSERT_EQ(4, layer.st_nlink);
	ASSERT_EQ(0, stat("mnt/d", &merged));
	ASSERT_TRUE(S_ISDIR(merged.st_mode));
	ASSERT_EQ(1, merged.st_nlink);
	ASSERT_EQ(0, stat("mnt", &root));
	ASSERT_EQ(1, root.st_nlink);
}

TEST_F(lookup, statfs_f_type)
{
	struct statfs sfs;

	ASSERT_EQ(0, mount_layers(self->dir, 2));
	ASSERT_EQ(0, statfs("mnt", &sfs));
	ASSERT_EQ(RSUNION_MAGIC, sfs.f_type);
}

/* The other statfs fields are the top layer's filesystem's. */
TEST_F(lookup, statfs_fields_of_top_layer)
{
	struct statfs top, other, sfs;

	ASSERT_EQ(0, mount("l1", "l1", "tmpfs", 0, "size=1m,nr_inodes=1234"));
	ASSERT_EQ(0, mount_layers(self->dir, 2));

	ASSERT_EQ(0, statfs("l1", &top));
	ASSERT_EQ(0, statfs("l2", &other));
	ASSERT_NE(top.f_blocks, other.f_blocks);
	ASSERT_EQ(0, statfs("mnt", &sfs));
	ASSERT_EQ(top.f_bsize, sfs.f_bsize);
	ASSERT_EQ(top.f_blocks, sfs.f_blocks);
	ASSERT_EQ(top.f_files, sfs.f_files);
	ASSERT_EQ(top.f_namelen, sfs.f_namelen);
}

/* ---- lookups in a directory whose lower directories are learned ---- */

/*
 * More lookups than the union makes in a directory before it lists the
 * lower directories (LEARN_AFTER in src/lower_names.rs is 8).
 */
#define LEARNING_LOOKUPS 16

/* Looks names no layer has up in DIR until the union has learned it. */
static int learn_dir(const char *dir)
{
	char path[PATH_MAX];
	int i;

	for (i = 0; i < LEARNING_LOOKUPS; i++) {
		snprintf(path, sizeof(path), "%s/learning%d", dir, i);
		if (lstat_errno(path) != ENOENT)
			return -1;
	}
	return 0;
}

/*
 * Four layers, l1 on top: d is in each, with one file of its own, and
 * whiteouts of both formats in the middle for names in the bottom one.
 */
static int make_four_layers(void)
{
	if (mkdir("l4", 0755) ||
	    mkfile("l1/d/top", "") || mkfile("l2/d/second", "") ||
	    mkfile("l3/d/third", "") || mkfile("l4/d/bottom", "") ||
	    mkfile("l4/d/bottom2", "") || mkfile("l4/d/wh_hidden", "") ||
	    mkfile("l2/d/.wh.wh_hidden", "") || mkfile("l4/d/chr_hidden", "") ||
	    mkwhiteout("l3/d/chr_hidden") || mkfile("l4/d/sub/in_bottom", "") ||
	    mkfile("l2/d/sub/in_second", ""))
		return -1;
	return 0;
}

/*
 * The union learns a merged directory's lower names after a few lookups
 * in it, or when it reads the directory (its merge lists each layer).
 */
static int list_dir(const char *dir)
{
	char names[4096];

	return names_of(dir, names, sizeof(names));
}

/* The four layers under an upper layer that has d too. */
static int mount_four_under_upper(const char *top)
{
	char opts[6 * PATH_MAX];

	if (mkfile("u/d/up", "") || mkdir("w", 0755))
		return -1;
	snprintf(opts, sizeof(opts),
		 "lowerdir=%s/l1:%s/l2:%s/l3:%s/l4,upperdir=%s/u,workdir=%s/w",
		 top, top, top, top, top, top);
	return mount("none", "mnt", "rsunion", 0, opts);
}

static void keeps_every_rule(struct __test_metadata *_metadata, const char *top,
			     int (*learn)(const char *), bool upper)
{
	char names[256];

	ASSERT_EQ(0, make_four_layers());
	ASSERT_EQ(0, upper ? mount_four_under_upper(top) : mount_layers(top, 4));
	ASSERT_EQ(0, learn("mnt/d"));

	ASSERT_EQ(0, upper ? lstat_errno("mnt/d/up") : 0);

	ASSERT_EQ(0, lstat_errno("mnt/d/top"));
	ASSERT_EQ(0, lstat_errno("mnt/d/second"));
	ASSERT_EQ(0, lstat_errno("mnt/d/third"));
	ASSERT_EQ(0, lstat_errno("mnt/d/bottom"));
	ASSERT_EQ(ENOENT, lstat_errno("mnt/d/wh_hidden"));
	ASSERT_EQ(ENOENT, lstat_errno("mnt/d/chr_hidden"));
	ASSERT_EQ(ENOENT, lstat_errno("mnt/d/.wh.wh_hidden"));
	ASSERT_EQ(ENOENT, lstat_errno("mnt/d/nothing"));
	ASSERT_EQ(0, names_of("mnt/d/sub", names, sizeof(names)));
	ASSERT_STREQ("in_bottom in_second", names);
}

TEST_F(lookup, learned_directory_keeps_every_rule)
{
	keeps_every_rule(_metadata, self->dir, learn_dir, false);
}

TEST_F(lookup, listed_directory_keeps_every_rule)
{
	keeps_every_rule(_metadata, self->dir, list_dir, false);
}

/* The upper directory, read in the same merge, is never learned. */
TEST_F(lookup, listed_directory_under_an_upper_keeps_every_rule)
{
	keeps_every_rule(_metadata, self->dir, list_dir, true);
}

/*
 * aufs shows a change made to a lower branch of a mounted union, and the
 * seed article relies on it: a learned list must not hide it.
 */
static void sees_lower_changes(struct __test_metadata *_metadata, const char *top,
			       int (*learn)(const char *))
{
	ASSERT_EQ(0, make_four_layers());
	ASSERT_EQ(0, mount_layers(top, 4));
	ASSERT_EQ(0, learn("mnt/d"));

	ASSERT_EQ(0, mkfile("l3/d/added_below", "new\n"));
	ASSERT_EQ(0, lstat_errno("mnt/d/added_below"));
	ASSERT_EQ(0, mkfile("l2/d/.wh.bottom2", ""));
	ASSERT_EQ(ENOENT, lstat_errno("mnt/d/bottom2"));
}

TEST_F(lookup, learned_directory_sees_lower_changes)
{
	sees_lower_changes(_metadata, self->dir, learn_dir);
}

TEST_F(lookup, listed_directory_sees_lower_changes)
{
	sees_lower_changes(_metadata, self->dir, list_dir);
}

/*
 * Once a directory is learned, a name no layer has costs no lookup in any
 * layer, and a name in the bottom layer one lookup, there; overlayfs makes
 * one in every layer, rsunion without learned names two (NAME, .wh.NAME).
 */
static void skips_layers_without_the_name(struct __test_metadata *_metadata,
					  const char *top, int (*learn)(const char *))
{
	const char *fn = "lookup_one_unlocked";
	char path[PATH_MAX];
	long long calls;
	int i;

	ASSERT_EQ(0, make_four_layers());
	for (i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "l4/d/many%d", i);
		ASSERT_EQ(0, mkfile(path, ""));
	}
	ASSERT_EQ(0, mount_layers(top, 4));
	ASSERT_EQ(0, learn("mnt/d"));

	ASSERT_EQ(0, calls_count_start(fn)) TH_LOG("counting %s: %s", fn, strerror(errno));
	for (i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "mnt/d/none%d", i);
		ASSERT_EQ(ENOENT, lstat_errno(path));
	}
	calls = calls_count_stop();
	ASSERT_EQ(0, calls) TH_LOG("20 missing names: %lld lookups in layers", calls);

	ASSERT_EQ(0, calls_count_start(fn)) TH_LOG("counting %s: %s", fn, strerror(errno));
	for (i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "mnt/d/many%d", i);
		ASSERT_EQ(0, lstat_errno(path));
	}
	calls = calls_count_stop();
	ASSERT_EQ(20, calls) TH_LOG("20 bottom names: %lld lookups in layers", calls);
}

TEST_F(lookup, learned_directory_skips_layers_without_the_name)
{
	skips_layers_without_the_name(_metadata, self->dir, learn_dir);
}

/* find, ls -R, du: each directory is read, then its names looked up. */
TEST_F(lookup, listed_directory_skips_layers_without_the_name)
{
	skips_layers_without_the_name(_metadata, self->dir, list_dir);
}

/*
 * An upper directory the union made (mkdir, or a directory's copy-up) in
 * a union that writes char-device whiteouts holds no .wh. entry: a name
 * it lacks costs one lookup there, not two (NAME, .wh.NAME).
 */
TEST_F(lookup, union_made_upper_directory_asks_no_wh_names)
{
	const char *fn = "lookup_one_unlocked";
	char opts[4 * PATH_MAX];
	char path[PATH_MAX];
	long long calls;
	int i;

	ASSERT_EQ(0, mkfile("l1/d/lower", ""));
	ASSERT_EQ(0, mkdir("u", 0755));
	ASSERT_EQ(0, mkdir("w", 0755));
	snprintf(opts, sizeof(opts), "lowerdir=%s/l1,upperdir=%s/u,workdir=%s/w",
		 self->dir, self->dir, self->dir);
	ASSERT_EQ(0, mount("none", "mnt", "rsunion", 0, opts));
	ASSERT_EQ(0, mkdir("mnt/made", 0755));
	ASSERT_EQ(0, mkfile("mnt/d/new", ""));	/* copies d up */
	ASSERT_EQ(0, learn_dir("mnt/d"));

	ASSERT_EQ(0, calls_count_start(fn)) TH_LOG("counting %s: %s", fn, strerror(errno));
	for (i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "mnt/made/none%d", i);
		ASSERT_EQ(ENOENT, lstat_errno(path));
		snprintf(path, sizeof(path), "mnt/d/none%d", i);
		ASSERT_EQ(ENOENT, lstat_errno(path));
	}
	calls = calls_count_stop();
	ASSERT_EQ(40, calls) TH_LOG("40 missing names: %lld lookups in layers", calls);

	/* A .wh. entry the union did not write is still honoured elsewhere. */
	ASSERT_EQ(0, mkfile("l1/e/hidden", ""));
	ASSERT_EQ(0, mkfile("u/e/.wh.hidden", ""));
	ASSERT_EQ(ENOENT, lstat_errno("mnt/e/hidden"));
}

/*
 * Nor does a create there: a new name costs the union one locked lookup
 * in the upper directory, of the name. Not one of .wh.NAME too, which
 * would leave a negative dentry per file, nor one of the object just made
 * (tmpfs hands it back hashed).
 */
TEST_F(lookup, create_in_union_made_upper_directory_asks_no_wh_name)
{
	const char *fn = "lookup_one";
	char opts[4 * PATH_MAX];
	char path[PATH_MAX];
	long long calls;
	int i;

	ASSERT_EQ(0, mkfile("l1/d/lower", ""));
	ASSERT_EQ(0, mkdir("u", 0755));
	ASSERT_EQ(0, mkdir("w", 0755));
	snprintf(opts, sizeof(opts), "lowerdir=%s/l1,upperdir=%s/u,workdir=%s/w",
		 self->dir, self->dir, self->dir);
	ASSERT_EQ(0, mount("none", "mnt", "rsunion", 0, opts));
	ASSERT_EQ(0, mkdir("mnt/made", 0755));
	ASSERT_EQ(0, mkfile("mnt/d/first", ""));	/* copies d up */

	ASSERT_EQ(0, calls_count_start(fn)) TH_LOG("counting %s: %s", fn, strerror(errno));
	for (i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "mnt/made/new%d", i);
		ASSERT_EQ(0, mkfile(path, ""));
		snprintf(path, sizeof(path), "mnt/d/new%d", i);
		ASSERT_EQ(0, mkfile(path, ""));
	}
	calls = calls_count_stop();
	ASSERT_LE(calls, 40) TH_LOG("40 creates: %lld lookups in the upper layer", calls);
	ASSERT_GE(calls, 40) TH_LOG("40 creates: %lld lookups: is the breakpoint counting?", calls);
	ASSERT_EQ(0, lstat_errno("u/made/new19"));
	ASSERT_EQ(0, lstat_errno("u/d/new19"));
}

TEST_HARNESS_MAIN
