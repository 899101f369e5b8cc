// SPDX-License-Identifier: GPL-2.0
/*
 * Extended attributes through a union, in both option syntaxes: get and
 * list read the topmost real object; set and remove copy a lower object up
 * and change only the upper copy; the union's own trusted.overlay.* names
 * never show, and trusted.overlay.NAME set through the union is stored as
 * trusted.overlay.overlay.NAME, as overlayfs escapes it; XATTR_CREATE and
 * XATTR_REPLACE, a too-small list buffer; EROFS on a read-only union.
 */
#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

/*
 * lower/f     "lower f", user.a=1 user.b=two trusted.keep=k
 *             trusted.overlay.foo=bar
 * lower/ld/   user.d=lowerdir
 * lower/ld/in "in"
 * lower/od/   lchild, user.lo=lower
 * upper/od/   uchild, user.o=dir trusted.overlay.opaque=y: opaque
 * upper/uf    "upper uf", user.u=up
 */
#define LOWER_F_NAMES	"trusted.keep trusted.overlay.foo user.a user.b"
#define UNION_F_NAMES	"trusted.keep user.a user.b"

FIXTURE(xattr) {
	char dir[64];		/* scratch tmpfs */
	char mnt[128];		/* the union */
	char ro[128];		/* a read-only union of the same layers */
	char opts[512];
};

FIXTURE_VARIANT(xattr) {
	bool aufs;
};

FIXTURE_VARIANT_ADD(xattr, lowerdir) {
	.aufs = false,
};

FIXTURE_VARIANT_ADD(xattr, dirs) {
	.aufs = true,
};

typedef FIXTURE_DATA(xattr) xattr_t;

/* LAYER's ("lower", "upper") or the union's ("mnt", "ro") path of NAME. */
static char *path_of(char *buf, const xattr_t *self, const char *layer, const char *name)
{
	if (!strcmp(layer, "mnt"))
		snprintf(buf, PATH_MAX, "%s/%s", self->mnt, name);
	else if (!strcmp(layer, "ro"))
		snprintf(buf, PATH_MAX, "%s/%s", self->ro, name);
	else
		snprintf(buf, PATH_MAX, "%s/%s/%s", self->dir, layer, name);
	return buf;
}

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

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The N bytes of a listxattr answer in LIST as sorted names joined by
 * spaces, into BUF.
 */
static void join_list(const char *list, ssize_t n, char *buf, size_t size)
{
	const char *names[64];
	int count = 0, i;
	ssize_t off;

	for (off = 0; off < n && count < 64; off += strlen(list + off) + 1)
		if (strcmp(list + off, ORIGIN_INO_XATTR))
			names[count++] = list + off;
	qsort(names, count, sizeof(names[0]), cmp_names);
	buf[0] = '\0';
	for (i = 0; i < count; i++) {
		if (i)
			strncat(buf, " ", size - strlen(buf) - 1);
		strncat(buf, names[i], size - strlen(buf) - 1);
	}
}

/* llistxattr of PATH, sorted and joined into BUF; -1 on error. */
static int xattr_names_of(const char *path, char *buf, size_t size)
{
	char list[4096];
	ssize_t n = llistxattr(path, list, sizeof(list));

	if (n < 0)
		return -1;
	join_list(list, n, buf, size);
	return 0;
}

/* PATH's xattr NAME is exactly VALUE. */
static void check_value(struct __test_metadata *_metadata, const char *path,
			const char *name, const char *value)
{
	char buf[256];
	ssize_t n = lgetxattr(path, name, buf, sizeof(buf) - 1);

	ASSERT_EQ((ssize_t)strlen(value), n)
		TH_LOG("%s %s: %s", path, name, n < 0 ? strerror(errno) : "wrong size");
	buf[n] = '\0';
	ASSERT_STREQ(value, buf) TH_LOG("%s %s", path, name);
}

/* PATH has no xattr NAME. */
static void check_none(struct __test_metadata *_metadata, const char *path, const char *name)
{
	char buf[256];

	ASSERT_EQ(-1, lgetxattr(path, name, buf, sizeof(buf))) TH_LOG("%s has %s", path, name);
	ASSERT_EQ(ENODATA, errno) TH_LOG("%s %s: %s", path, name, strerror(errno));
}

/* PATH's xattr names are exactly WANT (sorted, joined by spaces). */
static void check_names(struct __test_metadata *_metadata, const char *path, const char *want)
{
	char got[1024];

	ASSERT_EQ(0, xattr_names_of(path, got, sizeof(got)))
		TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_STREQ(want, got) TH_LOG("%s", path);
}

/* The lower layer's f and ld as the fixture made them. */
static void check_lower_unchanged(struct __test_metadata *_metadata, const xattr_t *self)
{
	char path[PATH_MAX], buf[64];

	path_of(path, self, "lower", "f");
	check_names(_metadata, path, LOWER_F_NAMES);
	check_value(_metadata, path, "user.a", "1");
	check_value(_metadata, path, "user.b", "two");
	check_value(_metadata, path, "trusted.keep", "k");
	check_value(_metadata, path, "trusted.overlay.foo", "bar");
	ASSERT_EQ(7, read_text(path, buf, sizeof(buf)));
	ASSERT_STREQ("lower f", buf);
	path_of(path, self, "lower", "ld");
	check_names(_metadata, path, "user.d");
	check_value(_metadata, path, "user.d", "lowerdir");
}

/*
 * The union's NAME has an upper copy now, and still the inode number of
 * the lower object it was copied from (all layers share one filesystem).
 */
static void check_is_upper(struct __test_metadata *_metadata, const xattr_t *self,
			   const char *name)
{
	char path[PATH_MAX];
	struct stat st, ust, lst;

	ASSERT_EQ(0, lstat(path_of(path, self, "upper", name), &ust))
		TH_LOG("no upper %s: %s", name, strerror(errno));
	ASSERT_EQ(0, lstat(path_of(path, self, "lower", name), &lst));
	ASSERT_EQ(0, lstat(path_of(path, self, "mnt", name), &st));
	ASSERT_EQ(lst.st_ino, st.st_ino);
	ASSERT_NE(ust.st_ino, st.st_ino);
}

static int set(const char *path, const char *name, const char *value, int flags)
{
	return lsetxattr(path, name, value, strlen(value), flags);
}

FIXTURE_SETUP(xattr)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, rsunion_ensure_loaded()) TH_LOG("load: %s", strerror(errno));
	ASSERT_EQ(0, scratch_get(self->dir));
	snprintf(self->mnt, sizeof(self->mnt), "%s/mnt", self->dir);
	snprintf(self->ro, sizeof(self->ro), "%s/ro", self->dir);
	ASSERT_EQ(0, mkdirs(path_of(path, self, "lower", "ld")));
	ASSERT_EQ(0, mkdirs(path_of(path, self, "lower", "od")));
	ASSERT_EQ(0, mkdirs(path_of(path, self, "upper", "od")));
	ASSERT_EQ(0, mkdir(path_of(path, self, "work", ""), 0755));
	ASSERT_EQ(0, mkdir(self->mnt, 0755));
	ASSERT_EQ(0, mkdir(self->ro, 0755));

	ASSERT_EQ(0, write_file(path_of(path, self, "lower", "f"), "lower f"));
	ASSERT_EQ(0, set(path, "user.a", "1", 0)) TH_LOG("user xattr: %s", strerror(errno));
	ASSERT_EQ(0, set(path, "user.b", "two", 0));
	ASSERT_EQ(0, set(path, "trusted.keep", "k", 0));
	ASSERT_EQ(0, set(path, "trusted.overlay.foo", "bar", 0));
	ASSERT_EQ(0, set(path_of(path, self, "lower", "ld"), "user.d", "lowerdir", 0));
	ASSERT_EQ(0, write_file(path_of(path, self, "lower", "od/lchild"), "lchild"));
	ASSERT_EQ(0, set(path_of(path, self, "lower", "od"), "user.lo", "lower", 0));
	ASSERT_EQ(0, write_file(path_of(path, self, "lower", "ld/in"), "in"));
	ASSERT_EQ(0, write_file(path_of(path, self, "upper", "od/uchild"), "uchild"));
	path_of(path, self, "upper", "od");
	ASSERT_EQ(0, set(path, "user.o", "dir", 0));
	ASSERT_EQ(0, set(path, "trusted.overlay.opaque", "y", 0));
	ASSERT_EQ(0, write_file(path_of(path, self, "upper", "uf"), "upper uf"));
	ASSERT_EQ(0, set(path, "user.u", "up", 0));

	if (variant->aufs)
		snprintf(self->opts, sizeof(self->opts), "dirs=%s/upper=rw:%s/lower=ro",
			 self->dir, self->dir);
	else
		snprintf(self->opts, sizeof(self->opts),
			 "lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work",
			 self->dir, self->dir, self->dir);
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, self->opts))
		TH_LOG("mount %s: %s", self->opts, strerror(errno));
}

FIXTURE_TEARDOWN(xattr)
{
	umount2(self->ro, MNT_DETACH);
	umount2(self->mnt, MNT_DETACH);
	scratch_put(self->dir);
}

TEST_F(xattr, getxattr_reads_lower_user_xattrs)
{
	char path[PATH_MAX];

	path_of(path, self, "mnt", "f");
	check_value(_metadata, path, "user.a", "1");
	check_value(_metadata, path, "user.b", "two");
	check_value(_metadata, path, "trusted.keep", "k");
}

TEST_F(xattr, getxattr_size_query)
{
	char path[PATH_MAX];

	ASSERT_EQ(3, lgetxattr(path_of(path, self, "mnt", "f"), "user.b", NULL, 0))
		TH_LOG("%s", strerror(errno));
}

TEST_F(xattr, getxattr_small_buffer_erange)
{
	char path[PATH_MAX], buf[2];

	ASSERT_EQ(-1, lgetxattr(path_of(path, self, "mnt", "f"), "user.b", buf, sizeof(buf)));
	ASSERT_EQ(ERANGE, errno);
}

TEST_F(xattr, getxattr_missing_enodata)
{
	char path[PATH_MAX];

	check_none(_metadata, path_of(path, self, "mnt", "f"), "user.nope");
}

TEST_F(xattr, getxattr_reads_upper_of_merged_dir)
{
	char path[PATH_MAX];

	check_value(_metadata, path_of(path, self, "mnt", "od"), "user.o", "dir");
}

/* The merged directory od: its upper's names, not its lower's. */
TEST_F(xattr, listxattr_reads_topmost_of_merged_dir)
{
	char path[PATH_MAX];

	check_names(_metadata, path_of(path, self, "mnt", "od"), "user.o");
	check_none(_metadata, path, "user.lo");
}

TEST_F(xattr, listxattr_lists_lower_names)
{
	char path[PATH_MAX];

	check_names(_metadata, path_of(path, self, "mnt", "f"), UNION_F_NAMES);
}

/* The size query may over-estimate; a buffer of that size gets the list. */
TEST_F(xattr, listxattr_size_query_fits)
{
	char path[PATH_MAX], list[4096], got[1024];
	ssize_t size, n;

	path_of(path, self, "mnt", "f");
	size = llistxattr(path, NULL, 0);
	ASSERT_GE(size, (ssize_t)sizeof(UNION_F_NAMES)) TH_LOG("%s", strerror(errno));
	ASSERT_LE(size, (ssize_t)sizeof(list));
	n = llistxattr(path, list, size);
	ASSERT_EQ((ssize_t)sizeof(UNION_F_NAMES), n) TH_LOG("%s", strerror(errno));
	join_list(list, n, got, sizeof(got));
	ASSERT_STREQ(UNION_F_NAMES, got);
}

TEST_F(xattr, listxattr_one_byte_buffer_erange)
{
	char path[PATH_MAX], list[1];

	ASSERT_EQ(-1, llistxattr(path_of(path, self, "mnt", "f"), list, sizeof(list)));
	ASSERT_EQ(ERANGE, errno);
}

/* One byte short of the union's list (which has no private names). */
TEST_F(xattr, listxattr_buffer_one_short_erange)
{
	char path[PATH_MAX], list[sizeof(UNION_F_NAMES) - 1];

	ASSERT_EQ(-1, llistxattr(path_of(path, self, "mnt", "f"), list, sizeof(list)));
	ASSERT_EQ(ERANGE, errno);
}

/* A trusted.overlay.* name set on the lower file itself: not listed. */
TEST_F(xattr, listxattr_hides_trusted_overlay_of_lower_file)
{
	char path[PATH_MAX], got[1024];

	check_value(_metadata, path_of(path, self, "lower", "f"), "trusted.overlay.foo", "bar");
	ASSERT_EQ(0, xattr_names_of(path_of(path, self, "mnt", "f"), got, sizeof(got)));
	ASSERT_EQ(NULL, strstr(got, "trusted.overlay")) TH_LOG("listed: %s", got);
	ASSERT_STREQ(UNION_F_NAMES, got);
}

/* od is opaque by its xattr: lower content hidden, the xattr unlisted. */
TEST_F(xattr, listxattr_hides_opaque_xattr_of_dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *d;

	check_value(_metadata, path_of(path, self, "upper", "od"), "trusted.overlay.opaque", "y");
	d = opendir(path_of(path, self, "mnt", "od"));
	ASSERT_NE(NULL, d);
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			EXPECT_STREQ("uchild", de->d_name);
			n++;
		}
	}
	closedir(d);
	ASSERT_EQ(1, n);
	check_names(_metadata, path, "user.o");
}

/*
 * trusted.overlay.NAME through the union is trusted.overlay.overlay.NAME
 * on the real object, as overlayfs 6.7+ escapes it: an overlay stacked on
 * the union keeps its own xattrs, and the union's stay out of reach.
 */
TEST_F(xattr, getxattr_trusted_overlay_reads_the_escaped_name)
{
	char path[PATH_MAX], buf[64];
	static const char *const cases[][2] = {
		{ "f", "trusted.overlay.foo" },		/* the lower file has it */
		{ "f", "trusted.overlay.nothere" },
		{ "od", "trusted.overlay.opaque" },	/* the upper dir has it */
		{ "uf", "trusted.overlay.opaque" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		path_of(path, self, "mnt", cases[i][0]);
		ASSERT_EQ(-1, lgetxattr(path, cases[i][1], buf, sizeof(buf)))
			TH_LOG("%s %s readable", cases[i][0], cases[i][1]);
		ASSERT_EQ(ENODATA, errno)
			TH_LOG("%s %s: %s", cases[i][0], cases[i][1], strerror(errno));
	}
}

TEST_F(xattr, setxattr_trusted_overlay_is_escaped)
{
	char path[PATH_MAX], names[1024];

	ASSERT_EQ(0, set(path_of(path, self, "mnt", "f"), "trusted.overlay.opaque", "y", 0))
		TH_LOG("%s", strerror(errno));
	check_value(_metadata, path, "trusted.overlay.opaque", "y");
	ASSERT_EQ(0, xattr_names_of(path, names, sizeof(names)));
	ASSERT_NE(NULL, strstr(names, "trusted.overlay.opaque"));
	check_value(_metadata, path_of(path, self, "upper", "f"),
		    "trusted.overlay.overlay.opaque", "y");
	check_none(_metadata, path, "trusted.overlay.opaque");
	/* The upper directory's own marker is not the one set through it. */
	ASSERT_EQ(0, set(path_of(path, self, "mnt", "od"), "trusted.overlay.opaque", "n", 0));
	check_value(_metadata, path_of(path, self, "upper", "od"), "trusted.overlay.opaque", "y");
	check_value(_metadata, path, "trusted.overlay.overlay.opaque", "n");
	check_lower_unchanged(_metadata, self);
}

/* Removing a name the lower file lacks fails and copies nothing up. */
TEST_F(xattr, removexattr_of_absent_name_copies_nothing)
{
	char path[PATH_MAX];

	ASSERT_EQ(-1, lremovexattr(path_of(path, self, "mnt", "f"), "user.absent"));
	ASSERT_EQ(ENODATA, errno) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(ENOENT, lstat_errno(path_of(path, self, "upper", "f")));
}

TEST_F(xattr, removexattr_trusted_overlay_leaves_private_names)
{
	char path[PATH_MAX];

	ASSERT_EQ(-1, lremovexattr(path_of(path, self, "mnt", "od"), "trusted.overlay.opaque"));
	ASSERT_EQ(ENODATA, errno) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(-1, lremovexattr(path_of(path, self, "mnt", "f"), "trusted.overlay.foo"));
	ASSERT_EQ(ENODATA, errno) TH_LOG("%s", strerror(errno));
	check_value(_metadata, path_of(path, self, "upper", "od"), "trusted.overlay.opaque", "y");
	check_lower_unchanged(_metadata, self);
}

/* The upper copy: the content, the old xattrs and the new one. */
TEST_F(xattr, setxattr_copies_lower_file_up)
{
	char path[PATH_MAX], buf[64];

	ASSERT_EQ(0, set(path_of(path, self, "mnt", "f"), "user.c", "new", 0))
		TH_LOG("%s", strerror(errno));
	path_of(path, self, "upper", "f");
	ASSERT_EQ(7, read_text(path, buf, sizeof(buf))) TH_LOG("upper f: %s", strerror(errno));
	ASSERT_STREQ("lower f", buf);
	check_names(_metadata, path, "trusted.keep user.a user.b user.c");
	check_value(_metadata, path, "user.a", "1");
	check_value(_metadata, path, "user.b", "two");
	check_value(_metadata, path, "user.c", "new");
	check_value(_metadata, path, "trusted.keep", "k");
	check_is_upper(_metadata, self, "f");
}

TEST_F(xattr, setxattr_leaves_lower_unchanged)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, set(path_of(path, self, "mnt", "f"), "user.c", "new", 0))
		TH_LOG("%s", strerror(errno));
	check_lower_unchanged(_metadata, self);
}

TEST_F(xattr, setxattr_visible_through_union)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, set(path_of(path, self, "mnt", "f"), "user.c", "new", 0))
		TH_LOG("%s", strerror(errno));
	check_value(_metadata, path, "user.c", "new");
	check_value(_metadata, path, "user.a", "1");
	check_names(_metadata, path, "trusted.keep user.a user.b user.c");
}

TEST_F(xattr, setxattr_replaces_lower_value_on_upper)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, set(path_of(path, self, "mnt", "f"), "user.a", "changed", 0))
		TH_LOG("%s", strerror(errno));
	check_value(_metadata, path, "user.a", "changed");
	check_value(_metadata, path_of(path, self, "upper", "f"), "user.a", "changed");
	check_lower_unchanged(_metadata, self);
}

TEST_F(xattr, setxattr_copies_lower_dir_up)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, set(path_of(path, self, "mnt", "ld"), "user.e", "x", 0))
		TH_LOG("%s", strerror(errno));
	check_names(_metadata, path, "user.d user.e");
	path_of(path, self, "upper", "ld");
	check_names(_metadata, path, "user.d user.e");
	check_value(_metadata, path, "user.d", "lowerdir");
	check_value(_metadata, path, "user.e", "x");
	check_lower_unchanged(_metadata, self);
}

/* ld/in: its parent ld is copied up first, with ld's xattrs. */
TEST_F(xattr, setxattr_copies_up_parents)
{
	char path[PATH_MAX], buf[16];

	ASSERT_EQ(0, set(path_of(path, self, "mnt", "ld/in"), "user.i", "i", 0))
		TH_LOG("%s", strerror(errno));
	check_value(_metadata, path, "user.i", "i");
	path_of(path, self, "upper", "ld/in");
	ASSERT_EQ(2, read_text(path, buf, sizeof(buf))) TH_LOG("upper ld/in: %s", strerror(errno));
	ASSERT_STREQ("in", buf);
	check_names(_metadata, path, "user.i");
	check_names(_metadata, path_of(path, self, "upper", "ld"), "user.d");
	check_none(_metadata, path_of(path, self, "lower", "ld/in"), "user.i");
	check_lower_unchanged(_metadata, self);
}

TEST_F(xattr, setxattr_on_upper_file)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, set(path_of(path, self, "mnt", "uf"), "user.v", "vee", 0))
		TH_LOG("%s", strerror(errno));
	check_names(_metadata, path, "user.u user.v");
	check_value(_metadata, path, "user.v", "vee");
	check_value(_metadata, path_of(path, self, "upper", "uf"), "user.v", "vee");
}

TEST_F(xattr, removexattr_copies_up_and_removes_on_upper)
{
	char path[PATH_MAX], buf[64];

	ASSERT_EQ(0, lremovexattr(path_of(path, self, "mnt", "f"), "user.a"))
		TH_LOG("%s", strerror(errno));
	check_none(_metadata, path, "user.a");
	check_names(_metadata, path, "trusted.keep user.b");
	path_of(path, self, "upper", "f");
	ASSERT_EQ(7, read_text(path, buf, sizeof(buf))) TH_LOG("upper f: %s", strerror(errno));
	ASSERT_STREQ("lower f", buf);
	check_names(_metadata, path, "trusted.keep user.b");
	check_value(_metadata, path, "user.b", "two");
	check_is_upper(_metadata, self, "f");
	check_lower_unchanged(_metadata, self);
}

TEST_F(xattr, removexattr_missing_enodata)
{
	char path[PATH_MAX];

	ASSERT_EQ(-1, lremovexattr(path_of(path, self, "mnt", "f"), "user.nope"));
	ASSERT_EQ(ENODATA, errno) TH_LOG("%s", strerror(errno));
	check_names(_metadata, path, UNION_F_NAMES);
	check_lower_unchanged(_metadata, self);
}

/* user.a exists only on the lower file: still EEXIST. */
TEST_F(xattr, xattr_create_existing_eexist)
{
	char path[PATH_MAX];

	ASSERT_EQ(-1, set(path_of(path, self, "mnt", "f"), "user.a", "x", XATTR_CREATE));
	ASSERT_EQ(EEXIST, errno) TH_LOG("%s", strerror(errno));
	check_value(_metadata, path, "user.a", "1");
	check_lower_unchanged(_metadata, self);
}

TEST_F(xattr, xattr_replace_missing_enodata)
{
	char path[PATH_MAX];

	ASSERT_EQ(-1, set(path_of(path, self, "mnt", "f"), "user.zz", "x", XATTR_REPLACE));
	ASSERT_EQ(ENODATA, errno) TH_LOG("%s", strerror(errno));
	check_none(_metadata, path, "user.zz");
	check_names(_metadata, path, UNION_F_NAMES);
	check_lower_unchanged(_metadata, self);
}

TEST_F(xattr, xattr_create_new_name_works)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, set(path_of(path, self, "mnt", "f"), "user.n", "n", XATTR_CREATE))
		TH_LOG("%s", strerror(errno));
	check_value(_metadata, path, "user.n", "n");
	check_lower_unchanged(_metadata, self);
}

TEST_F(xattr, xattr_replace_lower_name_works)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, set(path_of(path, self, "mnt", "f"), "user.b", "three", XATTR_REPLACE))
		TH_LOG("%s", strerror(errno));
	check_value(_metadata, path, "user.b", "three");
	check_lower_unchanged(_metadata, self);
}

static void mount_ro(struct __test_metadata *_metadata, xattr_t *self)
{
	char opts[512];

	snprintf(opts, sizeof(opts), "lowerdir=%s/upper:%s/lower", self->dir, self->dir);
	ASSERT_EQ(0, mount("none", self->ro, "rsunion", 0, opts))
		TH_LOG("mount %s: %s", opts, strerror(errno));
}

TEST_F(xattr, read_only_union_getxattr_works)
{
	char path[PATH_MAX];

	mount_ro(_metadata, self);
	path_of(path, self, "ro", "f");
	check_value(_metadata, path, "user.b", "two");
	check_names(_metadata, path, UNION_F_NAMES);
}

TEST_F(xattr, read_only_union_setxattr_erofs)
{
	char path[PATH_MAX];

	mount_ro(_metadata, self);
	ASSERT_EQ(-1, set(path_of(path, self, "ro", "f"), "user.c", "new", 0));
	ASSERT_EQ(EROFS, errno) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(-1, set(path_of(path, self, "ro", "uf"), "user.u", "new", 0));
	ASSERT_EQ(EROFS, errno) TH_LOG("%s", strerror(errno));
	check_lower_unchanged(_metadata, self);
	check_names(_metadata, path_of(path, self, "upper", "uf"), "user.u");
}

TEST_F(xattr, read_only_union_removexattr_erofs)
{
	char path[PATH_MAX];

	mount_ro(_metadata, self);
	ASSERT_EQ(-1, lremovexattr(path_of(path, self, "ro", "f"), "user.a"));
	ASSERT_EQ(EROFS, errno) TH_LOG("%s", strerror(errno));
	check_lower_unchanged(_metadata, self);
}

TEST_HARNESS_MAIN
