// SPDX-License-Identifier: GPL-2.0
/*
 * rename through a union with an upper layer, in both option syntaxes:
 * files and symlinks from the lower layer, the upper layer or both move to
 * a free name, over an upper-only, a lower-only or a whited-out name; the
 * old name gets a whiteout in the mount's format exactly when the lower
 * layer has it, and the lower layer never changes. Upper-only directories
 * move (opaque where a lower directory had the name), over a directory
 * with lower content too once it shows empty; directories with lower
 * content answer EXDEV and nothing changes. RENAME_NOREPLACE,
 * RENAME_EXCHANGE and RENAME_WHITEOUT; a .wh. new name is EPERM; EROFS
 * on a read-only union.
 *
 * Each test checks the exact state after the rename, then again after a
 * remount: the union's names, types, contents and inode numbers, the upper
 * layer's exact names (whiteouts, opaque markers), and the lower layer.
 */
#include <dirent.h>
#include <limits.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE	(1 << 0)
#define RENAME_EXCHANGE		(1 << 1)
#define RENAME_WHITEOUT		(1 << 2)
#endif

#define OPAQUE_XATTR	"trusted.overlay.opaque"
#define OPAQUE_MARKER	".wh..wh..opq"
/* A listed name with its type's suffix, and the NUL. */
#define NAMELEN		(NAME_MAX + 2)

/*
 * One name in directory d of the layers, as the test expects it: what each
 * layer holds there (0 nothing, 'f' file, 'l' symlink, 'd' directory,
 * 'w' whiteout in the upper) and its content: a file's bytes, a symlink's
 * target, or the one file a directory holds (whose content is its name).
 */
struct obj {
	char name[16];
	char lower, upper;
	char lc[32], uc[32];
	int opaque;	/* upper directory: 1 opaque, 0 not, -1 unspecified */
};

static const struct obj layout[] = {
	{ "lf",     'f', 0,   "lower lf", "" },
	{ "ls",     'l', 0,   "lower-ls-target", "" },
	{ "uf",     0,   'f', "", "upper uf" },
	{ "us",     0,   'l', "", "upper-us-target" },
	{ "mf",     'f', 'f', "lower mf", "upper mf" },
	{ "ms",     'l', 'l', "lower-ms-target", "upper-ms-target" },
	{ "lt",     'f', 0,   "lower lt", "" },
	{ "ut",     0,   'f', "", "upper ut" },
	{ "wt",     'f', 'w', "lower wt", "" },
	{ "ldir",   'd', 0,   "ldchild", "" },
	{ "udir",   0,   'd', "", "udchild" },
	{ "mdir",   'd', 'd', "mlchild", "muchild" },
	{ "hdir",   'd', 'w', "hdchild", "" },
	{ "fd",     'd', 'f', "fdchild", "upper fd" },
	{ "new",    0,   0,   "", "" },
	{ "newdir", 0,   0,   "", "" },
};

#define NOBJ (sizeof(layout) / sizeof(layout[0]))

FIXTURE(rename) {
	char dir[64];		/* scratch tmpfs */
	char mnt[128];		/* the union */
	char ro[128];		/* a read-only union of the same layers */
	char opts[512];
	struct obj objs[NOBJ];
	bool aufs;		/* whiteouts as .wh.NAME files */
};

FIXTURE_VARIANT(rename) {
	bool aufs;
};

FIXTURE_VARIANT_ADD(rename, lowerdir) {
	.aufs = false,
};

FIXTURE_VARIANT_ADD(rename, dirs) {
	.aufs = true,
};

typedef FIXTURE_DATA(rename) rename_t;

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
	return strcmp(a, b);
}

/* Sorts the NUL-padded names and joins them with spaces into BUF. */
static void join_names(char (*names)[NAMELEN], int n, char *buf, size_t size)
{
	int i;

	qsort(names, n, NAMELEN, cmp_names);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i)
			strncat(buf, " ", size - strlen(buf) - 1);
		strncat(buf, names[i], size - strlen(buf) - 1);
	}
}

/* What a listing appends to a name of this type: none for a file. */
static const char *type_suffix(char kind)
{
	switch (kind) {
	case 'd':
		return "/";
	case 'l':
		return "@";
	case 'c':
		return "%";
	case 'f':
		return "";
	}
	return "?";
}

static char dtype_kind(unsigned char d_type)
{
	switch (d_type) {
	case DT_DIR:
		return 'd';
	case DT_LNK:
		return 'l';
	case DT_CHR:
		return 'c';
	case DT_REG:
		return 'f';
	}
	return '?';
}

/* As typed_names_of, from an open directory stream, from where it is. */
static void typed_names_of_stream(DIR *d, char *buf, size_t size)
{
	static char names[64][NAMELEN];
	struct dirent *de;
	int n = 0;

	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == 64)
			break;
		snprintf(names[n++], NAMELEN, "%s%s", de->d_name,
			 type_suffix(dtype_kind(de->d_type)));
	}
	join_names(names, n, buf, size);
}

/*
 * The names in directory PATH, each with its d_type's suffix (type_suffix),
 * sorted and joined by spaces, "." and ".." left out, into BUF; -1 on
 * error.
 */
static int typed_names_of(const char *path, char *buf, size_t size)
{
	DIR *d = opendir(path);

	if (!d)
		return -1;
	typed_names_of_stream(d, buf, size);
	closedir(d);
	return 0;
}

/* LAYER's (or the union's, "mnt") path of NAME in directory d. */
static char *path_in(char *buf, const rename_t *self, const char *layer, const char *name)
{
	if (!strcmp(layer, "mnt"))
		snprintf(buf, PATH_MAX, "%s/d/%s", self->mnt, name);
	else
		snprintf(buf, PATH_MAX, "%s/%s/d/%s", self->dir, layer, name);
	return buf;
}

static int ren(const rename_t *self, const char *from, const char *to, unsigned int flags)
{
	char a[PATH_MAX], b[PATH_MAX];

	return syscall(SYS_renameat2, AT_FDCWD, path_in(a, self, "mnt", from),
		       AT_FDCWD, path_in(b, self, "mnt", to), flags);
}

/* What the union shows at O: its kind (0: nothing) and content. */
static char vis_kind(const struct obj *o)
{
	if (o->upper == 'w')
		return 0;
	return o->upper ? o->upper : o->lower;
}

static const char *vis_content(const struct obj *o)
{
	return o->upper && o->upper != 'w' ? o->uc : o->lc;
}

static struct obj *obj_of(rename_t *self, const char *name)
{
	size_t i;

	for (i = 0; i < NOBJ; i++)
		if (!strcmp(self->objs[i].name, name))
			return &self->objs[i];
	return NULL;
}

/* The names a directory listing of d should give: union, upper or lower. */
static void expected_names(const rename_t *self, char which, char *buf, size_t size)
{
	static char names[NOBJ][NAMELEN];
	int n = 0;
	size_t i;

	for (i = 0; i < NOBJ; i++) {
		const struct obj *o = &self->objs[i];

		if (which == 'm' && vis_kind(o))
			snprintf(names[n++], NAMELEN, "%s%s", o->name,
				 type_suffix(vis_kind(o)));
		if (which == 'l' && o->lower)
			snprintf(names[n++], NAMELEN, "%s%s", o->name,
				 type_suffix(o->lower));
		if (which == 'u' && o->upper == 'w' && self->aufs)
			snprintf(names[n++], NAMELEN, ".wh.%s", o->name);
		else if (which == 'u' && o->upper == 'w')
			snprintf(names[n++], NAMELEN, "%s%%", o->name);
		else if (which == 'u' && o->upper)
			snprintf(names[n++], NAMELEN, "%s%s", o->name,
				 type_suffix(o->upper));
	}
	join_names(names, n, buf, size);
}

/*
 * The object at PATH is of KIND with CONTENT; a directory holds the file
 * CONTENT (among others), whose content is its name.
 */
static void check_real(struct __test_metadata *_metadata, const char *path,
		       char kind, const char *content)
{
	char buf[256], child[PATH_MAX];
	struct stat st;
	ssize_t n;

	ASSERT_EQ(0, lstat(path, &st)) TH_LOG("%s: %s", path, strerror(errno));
	switch (kind) {
	case 'f':
		ASSERT_TRUE(S_ISREG(st.st_mode)) TH_LOG("%s: mode %o", path, st.st_mode);
		ASSERT_EQ((ssize_t)strlen(content), read_text(path, buf, sizeof(buf)))
			TH_LOG("%s", path);
		ASSERT_STREQ(content, buf);
		break;
	case 'l':
		ASSERT_TRUE(S_ISLNK(st.st_mode)) TH_LOG("%s: mode %o", path, st.st_mode);
		n = readlink(path, buf, sizeof(buf) - 1);
		ASSERT_EQ((ssize_t)strlen(content), n) TH_LOG("%s", path);
		buf[n] = '\0';
		ASSERT_STREQ(content, buf);
		break;
	case 'd':
		ASSERT_TRUE(S_ISDIR(st.st_mode)) TH_LOG("%s: mode %o", path, st.st_mode);
		snprintf(child, sizeof(child), "%s/%s", path, content);
		ASSERT_EQ((ssize_t)strlen(content), read_text(child, buf, sizeof(buf)))
			TH_LOG("%s", child);
		ASSERT_STREQ(content, buf);
		break;
	default:
		ASSERT_TRUE(false) TH_LOG("bad kind %c", kind);
	}
}

/* A whiteout for NAME in the upper directory d, in the mount's format. */
static void check_whiteout(struct __test_metadata *_metadata, const rename_t *self,
			   const char *name)
{
	char path[PATH_MAX], wh[NAME_MAX + 1];
	struct stat st;

	if (self->aufs) {
		snprintf(wh, sizeof(wh), ".wh.%s", name);
		ASSERT_EQ(0, lstat(path_in(path, self, "upper", wh), &st))
			TH_LOG("%s: %s", path, strerror(errno));
		ASSERT_TRUE(S_ISREG(st.st_mode)) TH_LOG("%s: mode %o", path, st.st_mode);
		ASSERT_EQ(0, st.st_size);
		ASSERT_EQ(0644, st.st_mode & 07777);
		ASSERT_EQ(ENOENT, lstat_errno(path_in(path, self, "upper", name)));
	} else {
		ASSERT_EQ(0, lstat(path_in(path, self, "upper", name), &st))
			TH_LOG("%s: %s", path, strerror(errno));
		ASSERT_TRUE(S_ISCHR(st.st_mode)) TH_LOG("%s: mode %o", path, st.st_mode);
		ASSERT_EQ(makedev(0, 0), st.st_rdev);
	}
}

/* The upper directory O: its file, its exact names and its opacity. */
static void check_upper_dir(struct __test_metadata *_metadata, const rename_t *self,
			    const struct obj *o)
{
	char path[PATH_MAX], names[256], want[256], value[8];
	ssize_t n;

	path_in(path, self, "upper", o->name);
	check_real(_metadata, path, 'd', o->uc);
	ASSERT_EQ(0, typed_names_of(path, names, sizeof(names)));
	n = lgetxattr(path, OPAQUE_XATTR, value, sizeof(value));
	if (o->opaque == 1 && self->aufs) {
		snprintf(want, sizeof(want), "%s %s", OPAQUE_MARKER, o->uc);
		ASSERT_STREQ(want, names) TH_LOG("upper %s", o->name);
	} else if (o->opaque == 1) {
		ASSERT_STREQ(o->uc, names) TH_LOG("upper %s", o->name);
		ASSERT_EQ(1, n) TH_LOG("upper %s not opaque: %s", o->name, strerror(errno));
		ASSERT_EQ('y', value[0]);
	} else if (o->opaque == 0) {
		ASSERT_STREQ(o->uc, names) TH_LOG("upper %s", o->name);
		ASSERT_EQ(-1, n) TH_LOG("upper %s is opaque", o->name);
		ASSERT_EQ(ENODATA, errno);
	} else if (!self->aufs) {
		ASSERT_STREQ(o->uc, names) TH_LOG("upper %s", o->name);
	} else if (strcmp(o->uc, names)) {
		snprintf(want, sizeof(want), "%s %s", OPAQUE_MARKER, o->uc);
		ASSERT_STREQ(want, names) TH_LOG("upper %s", o->name);
	}
}

/* What the union shows at O: kind, content, inode, a directory's names. */
static void check_union_obj(struct __test_metadata *_metadata, const rename_t *self,
			    const struct obj *o)
{
	char path[PATH_MAX], real[PATH_MAX], names[256], want[256];
	struct stat st, rst;
	char kind = vis_kind(o);

	path_in(path, self, "mnt", o->name);
	if (!kind) {
		ASSERT_EQ(ENOENT, lstat_errno(path)) TH_LOG("%s is visible", path);
		return;
	}
	check_real(_metadata, path, kind, vis_content(o));
	if (kind == 'd') {
		ASSERT_EQ(0, typed_names_of(path, names, sizeof(names)));
		if (o->upper == 'd' && o->lower == 'd' && o->opaque != 1)
			snprintf(want, sizeof(want), "%s %s", o->lc, o->uc);
		else
			snprintf(want, sizeof(want), "%s", vis_content(o));
		ASSERT_STREQ(want, names) TH_LOG("union %s", o->name);
		return;
	}
	/*
	 * A non-directory is its real file, the topmost one: with the union's
	 * st_dev (all layers share a filesystem), and its number, or that of
	 * the lower file it was copied from.
	 */
	path_in(real, self, o->upper ? "upper" : "lower", o->name);
	ASSERT_EQ(0, lstat(path, &st));
	ASSERT_EQ(0, lstat(real, &rst));
	ASSERT_EQ(dev_of(self->mnt), st.st_dev) TH_LOG("union %s", o->name);
	ASSERT_EQ(origin_ino(real, rst.st_ino), st.st_ino) TH_LOG("union %s", o->name);
}

/* The union, the upper and the lower directory d are as the model says. */
static void check_state(struct __test_metadata *_metadata, const rename_t *self)
{
	char path[PATH_MAX], want[512], got[512];
	size_t i;

	path_in(path, self, "mnt", "");
	ASSERT_EQ(0, typed_names_of(path, got, sizeof(got)));
	expected_names(self, 'm', want, sizeof(want));
	ASSERT_STREQ(want, got) TH_LOG("union d");

	path_in(path, self, "upper", "");
	ASSERT_EQ(0, typed_names_of(path, got, sizeof(got)));
	expected_names(self, 'u', want, sizeof(want));
	ASSERT_STREQ(want, got) TH_LOG("upper d");

	path_in(path, self, "lower", "");
	ASSERT_EQ(0, typed_names_of(path, got, sizeof(got)));
	expected_names(self, 'l', want, sizeof(want));
	ASSERT_STREQ(want, got) TH_LOG("lower d");

	for (i = 0; i < NOBJ; i++) {
		const struct obj *o = &self->objs[i];

		if (o->lower) {
			check_real(_metadata, path_in(path, self, "lower", o->name),
				   o->lower, o->lc);
			if (o->lower == 'd') {
				ASSERT_EQ(0, typed_names_of(path, got, sizeof(got)));
				ASSERT_STREQ(o->lc, got) TH_LOG("lower %s", o->name);
			}
		}
		if (o->upper == 'w')
			check_whiteout(_metadata, self, o->name);
		else if (o->upper == 'd')
			check_upper_dir(_metadata, self, o);
		else if (o->upper)
			check_real(_metadata, path_in(path, self, "upper", o->name),
				   o->upper, o->uc);
		check_union_obj(_metadata, self, o);
	}
}

static int mount_union(const rename_t *self)
{
	return mount("none", self->mnt, "rsunion", 0, self->opts);
}

/* The state now, and again after a remount (nothing cached). */
static void check_state_twice(struct __test_metadata *_metadata, const rename_t *self)
{
	check_state(_metadata, self);
	ASSERT_EQ(0, umount(self->mnt)) TH_LOG("umount: %s", strerror(errno));
	ASSERT_EQ(0, mount_union(self)) TH_LOG("remount: %s", strerror(errno));
	check_state(_metadata, self);
}

/* The model after FROM moved to TO (leaving a whiteout if WHITEOUT). */
static void model_rename(struct __test_metadata *_metadata, rename_t *self,
			 const char *from, const char *to, bool whiteout)
{
	struct obj *src = obj_of(self, from), *dst = obj_of(self, to);

	ASSERT_NE(NULL, src);
	ASSERT_NE(NULL, dst);
	dst->upper = vis_kind(src);
	snprintf(dst->uc, sizeof(dst->uc), "%s", vis_content(src));
	dst->opaque = dst->upper == 'd' && dst->lower == 'd' ? 1 : -1;
	src->upper = src->lower || whiteout ? 'w' : 0;
	src->uc[0] = '\0';
}

/* The model after A and B swapped: both in the upper layer now. */
static void model_exchange(struct __test_metadata *_metadata, rename_t *self,
			   const char *a, const char *b)
{
	struct obj *x = obj_of(self, a), *y = obj_of(self, b);
	struct obj old_x;

	ASSERT_NE(NULL, x);
	ASSERT_NE(NULL, y);
	old_x = *x;
	x->upper = vis_kind(y);
	snprintf(x->uc, sizeof(x->uc), "%s", vis_content(y));
	x->opaque = x->upper == 'd' && x->lower == 'd' ? 1 : -1;
	y->upper = vis_kind(&old_x);
	snprintf(y->uc, sizeof(y->uc), "%s", vis_content(&old_x));
	y->opaque = y->upper == 'd' && y->lower == 'd' ? 1 : -1;
}

/* A whiteout for NAME in upper directory DIR, in the mount's format. */
static int make_whiteout(const rename_t *self, const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (self->aufs) {
		snprintf(path, sizeof(path), "%s/.wh.%s", dir, name);
		return write_file(path, "");
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return mknod(path, S_IFCHR | 0644, makedev(0, 0));
}

/* Makes what KIND says at DIR/NAME with CONTENT. */
static int make(const rename_t *self, const char *dir, const char *name, char kind,
		const char *content)
{
	char path[PATH_MAX], child[PATH_MAX + NAME_MAX + 2];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	switch (kind) {
	case 'f':
		return write_file(path, content);
	case 'l':
		return symlink(content, path);
	case 'd':
		snprintf(child, sizeof(child), "%s/%s", path, content);
		return mkdir(path, 0755) ?: write_file(child, content);
	case 'w':
		return make_whiteout(self, dir, name);
	}
	return 0;
}

/*
 * lower/d and upper/d as the layout says, lower/e (efile, sub/subfile)
 * only in the lower layer, and the union mounted on mnt.
 */
FIXTURE_SETUP(rename)
{
	char path[PATH_MAX], lower[PATH_MAX], upper[PATH_MAX];
	size_t i;

	ASSERT_EQ(0, rsunion_ensure_loaded()) TH_LOG("load: %s", strerror(errno));
	ASSERT_EQ(0, scratch_get(self->dir));
	self->aufs = variant->aufs;
	memcpy(self->objs, layout, sizeof(layout));
	snprintf(lower, sizeof(lower), "%s/lower/d", self->dir);
	snprintf(upper, sizeof(upper), "%s/upper/d", self->dir);
	ASSERT_EQ(0, mkdirs(lower));
	ASSERT_EQ(0, mkdirs(upper));
	for (i = 0; i < NOBJ; i++) {
		const struct obj *o = &self->objs[i];

		ASSERT_EQ(0, make(self, lower, o->name, o->lower, o->lc))
			TH_LOG("lower %s: %s", o->name, strerror(errno));
		ASSERT_EQ(0, make(self, upper, o->name, o->upper, o->uc))
			TH_LOG("upper %s: %s", o->name, strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/lower/e/sub", self->dir);
	ASSERT_EQ(0, mkdirs(path));
	snprintf(path, sizeof(path), "%s/lower/e/sub/subfile", self->dir);
	ASSERT_EQ(0, write_file(path, "subfile"));
	snprintf(path, sizeof(path), "%s/lower/e/efile", self->dir);
	ASSERT_EQ(0, write_file(path, "efile"));
	snprintf(path, sizeof(path), "%s/work", self->dir);
	ASSERT_EQ(0, mkdir(path, 0755));
	snprintf(self->mnt, sizeof(self->mnt), "%s/mnt", self->dir);
	ASSERT_EQ(0, mkdir(self->mnt, 0755));
	snprintf(self->ro, sizeof(self->ro), "%s/ro", self->dir);
	ASSERT_EQ(0, mkdir(self->ro, 0755));
	if (self->aufs)
		snprintf(self->opts, sizeof(self->opts), "dirs=%s/upper=rw:%s/lower=ro",
			 self->dir, self->dir);
	else
		snprintf(self->opts, sizeof(self->opts),
			 "lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work",
			 self->dir, self->dir, self->dir);
	ASSERT_EQ(0, mount_union(self)) TH_LOG("mount %s: %s", self->opts, strerror(errno));
}

FIXTURE_TEARDOWN(rename)
{
	umount2(self->ro, MNT_DETACH);
	umount2(self->mnt, MNT_DETACH);
	scratch_put(self->dir);
}

/* renameat2(FROM, TO, FLAGS) succeeds and leaves what the model says. */
static void rename_ok(struct __test_metadata *_metadata, rename_t *self,
		      const char *from, const char *to, unsigned int flags)
{
	ASSERT_EQ(0, ren(self, from, to, flags))
		TH_LOG("rename %s %s: %s", from, to, strerror(errno));
	if (flags & RENAME_EXCHANGE)
		model_exchange(_metadata, self, from, to);
	else
		model_rename(_metadata, self, from, to, flags & RENAME_WHITEOUT);
	check_state_twice(_metadata, self);
}

/* renameat2(FROM, TO, FLAGS) fails with ERR and changes nothing. */
static void rename_fails(struct __test_metadata *_metadata, rename_t *self,
			 const char *from, const char *to, unsigned int flags, int err)
{
	ASSERT_EQ(-1, ren(self, from, to, flags)) TH_LOG("rename %s %s worked", from, to);
	ASSERT_EQ(err, errno) TH_LOG("rename %s %s: %s", from, to, strerror(errno));
	check_state_twice(_metadata, self);
}

TEST_F(rename, layout_is_as_modelled)
{
	check_state_twice(_metadata, self);
}

/* Files and symlinks from each place, to each kind of new name. */
#define RENAME_CASES(src, from)						\
TEST_F(rename, src##_to_new_name)					\
{									\
	rename_ok(_metadata, self, from, "new", 0);			\
}									\
TEST_F(rename, src##_over_upper_only_name)				\
{									\
	rename_ok(_metadata, self, from, "ut", 0);			\
}									\
TEST_F(rename, src##_over_lower_only_name)				\
{									\
	rename_ok(_metadata, self, from, "lt", 0);			\
}									\
TEST_F(rename, src##_over_whited_out_name)				\
{									\
	rename_ok(_metadata, self, from, "wt", 0);			\
}

RENAME_CASES(lower_file, "lf")
RENAME_CASES(upper_file, "uf")
RENAME_CASES(merged_file, "mf")
RENAME_CASES(lower_symlink, "ls")
RENAME_CASES(upper_symlink, "us")
RENAME_CASES(merged_symlink, "ms")

/* A lower file copied up through the union, then renamed. */
TEST_F(rename, file_copied_up_by_write_then_renamed)
{
	char path[PATH_MAX];
	struct obj *lf = obj_of(self, "lf");
	int fd;

	fd = open(path_in(path, self, "mnt", "lf"), O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(5, write(fd, " more", 5));
	ASSERT_EQ(0, close(fd));
	lf->upper = 'f';
	strcpy(lf->uc, "lower lf more");
	check_state(_metadata, self);
	rename_ok(_metadata, self, "lf", "new", 0);
}

/* A lower symlink copied up through the union (lchown), then renamed. */
TEST_F(rename, symlink_copied_up_by_lchown_then_renamed)
{
	char path[PATH_MAX];
	struct obj *ls = obj_of(self, "ls");

	ASSERT_EQ(0, lchown(path_in(path, self, "mnt", "ls"), 0, 0))
		TH_LOG("lchown: %s", strerror(errno));
	ls->upper = 'l';
	strcpy(ls->uc, ls->lc);
	check_state(_metadata, self);
	rename_ok(_metadata, self, "ls", "lt", 0);
}

/* lf to new and back: lf's whiteout goes, new leaves none. */
TEST_F(rename, lower_file_renamed_back)
{
	rename_ok(_metadata, self, "lf", "new", 0);
	rename_ok(_metadata, self, "new", "lf", 0);
}

/* Whether unlink leaves a whiteout depends on the new name's lower. */
TEST_F(rename, renamed_lower_file_unlinked_at_free_name)
{
	char path[PATH_MAX];

	rename_ok(_metadata, self, "lf", "new", 0);
	ASSERT_EQ(0, unlink(path_in(path, self, "mnt", "new"))) TH_LOG("%s", strerror(errno));
	obj_of(self, "new")->upper = 0;
	check_state_twice(_metadata, self);
}

TEST_F(rename, renamed_lower_file_unlinked_at_lower_name)
{
	char path[PATH_MAX];

	rename_ok(_metadata, self, "lf", "lt", 0);
	ASSERT_EQ(0, unlink(path_in(path, self, "mnt", "lt"))) TH_LOG("%s", strerror(errno));
	obj_of(self, "lt")->upper = 'w';
	check_state_twice(_metadata, self);
}

/* A directory stream opened before the rename, rewound after it. */
TEST_F(rename, rewound_listing_shows_rename)
{
	char path[PATH_MAX], want[512], got[512];
	DIR *d = opendir(path_in(path, self, "mnt", ""));

	ASSERT_NE(NULL, d);
	typed_names_of_stream(d, got, sizeof(got));
	expected_names(self, 'm', want, sizeof(want));
	ASSERT_STREQ(want, got);
	ASSERT_EQ(0, ren(self, "lf", "new", 0)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, ren(self, "udir", "hdir", 0)) TH_LOG("%s", strerror(errno));
	model_rename(_metadata, self, "lf", "new", false);
	model_rename(_metadata, self, "udir", "hdir", false);
	rewinddir(d);
	typed_names_of_stream(d, got, sizeof(got));
	closedir(d);
	expected_names(self, 'm', want, sizeof(want));
	ASSERT_STREQ(want, got);
	check_state_twice(_metadata, self);
}

/* d/lf to e/moved: e, only in the lower layer, is copied up first. */
TEST_F(rename, lower_file_into_lower_only_dir)
{
	char from[PATH_MAX], to[PATH_MAX], path[PATH_MAX], got[256], buf[64];

	path_in(from, self, "mnt", "lf");
	snprintf(to, sizeof(to), "%s/e/moved", self->mnt);
	ASSERT_EQ(0, syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 0))
		TH_LOG("rename: %s", strerror(errno));
	obj_of(self, "lf")->upper = 'w';
	check_state(_metadata, self);

	snprintf(path, sizeof(path), "%s/e", self->mnt);
	ASSERT_EQ(0, typed_names_of(path, got, sizeof(got)));
	ASSERT_STREQ("efile moved sub/", got);
	ASSERT_EQ(8, read_text(to, buf, sizeof(buf)));
	ASSERT_STREQ("lower lf", buf);
	snprintf(path, sizeof(path), "%s/upper/e", self->dir);
	ASSERT_EQ(0, typed_names_of(path, got, sizeof(got)));
	ASSERT_STREQ("moved", got);
	snprintf(path, sizeof(path), "%s/upper/e/moved", self->dir);
	check_real(_metadata, path, 'f', "lower lf");
	snprintf(path, sizeof(path), "%s/lower/e", self->dir);
	ASSERT_EQ(0, typed_names_of(path, got, sizeof(got)));
	ASSERT_STREQ("efile sub/", got);
}

/* e/efile to e/renamed: e, only in the lower layer, is copied up. */
TEST_F(rename, lower_file_within_lower_only_dir)
{
	char from[PATH_MAX], to[PATH_MAX], path[PATH_MAX], got[256];

	snprintf(from, sizeof(from), "%s/e/efile", self->mnt);
	snprintf(to, sizeof(to), "%s/e/renamed", self->mnt);
	ASSERT_EQ(0, syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 0))
		TH_LOG("rename: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/e", self->mnt);
	ASSERT_EQ(0, typed_names_of(path, got, sizeof(got)));
	ASSERT_STREQ("renamed sub/", got);
	ASSERT_EQ(ENOENT, lstat_errno(from));
	check_real(_metadata, to, 'f', "efile");
	snprintf(path, sizeof(path), "%s/upper/e", self->dir);
	ASSERT_EQ(0, typed_names_of(path, got, sizeof(got)));
	ASSERT_STREQ(self->aufs ? ".wh.efile renamed" : "efile% renamed", got);
	snprintf(path, sizeof(path), "%s/upper/e/renamed", self->dir);
	check_real(_metadata, path, 'f', "efile");
	snprintf(path, sizeof(path), "%s/lower/e", self->dir);
	ASSERT_EQ(0, typed_names_of(path, got, sizeof(got)));
	ASSERT_STREQ("efile sub/", got);
	check_state_twice(_metadata, self);
}

TEST_F(rename, upper_dir_with_content_to_new_name)
{
	rename_ok(_metadata, self, "udir", "newdir", 0);
}

/* hdir: a lower directory whited out in the upper; udir moved there. */
TEST_F(rename, upper_dir_over_whited_out_lower_dir_is_opaque)
{
	rename_ok(_metadata, self, "udir", "hdir", 0);
}

/* wt: a lower file whited out in the upper; udir moved there. */
TEST_F(rename, upper_dir_over_whited_out_lower_file)
{
	rename_ok(_metadata, self, "udir", "wt", 0);
}

TEST_F(rename, lower_dir_exdev)
{
	rename_fails(_metadata, self, "ldir", "newdir", 0, EXDEV);
}

TEST_F(rename, merged_dir_exdev)
{
	rename_fails(_metadata, self, "mdir", "newdir", 0, EXDEV);
}

/* A lower or merged directory that shows entries: ENOTEMPTY, as overlayfs. */
TEST_F(rename, upper_dir_over_non_empty_lower_dir)
{
	rename_fails(_metadata, self, "udir", "ldir", 0, ENOTEMPTY);
}

TEST_F(rename, upper_dir_over_non_empty_merged_dir)
{
	rename_fails(_metadata, self, "udir", "mdir", 0, ENOTEMPTY);
}

/*
 * Emptied through the union, a lower or merged directory holds whiteouts
 * in its upper copy: they go, and the directory moved there is opaque
 * (overlayfs's ovl_clear_empty). Seen by the differential tester (seed
 * 9130): rsunion answered EXDEV, overlayfs renamed.
 */
TEST_F(rename, upper_dir_over_emptied_lower_dir)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, unlink(path_in(path, self, "mnt", "ldir/ldchild")));
	rename_ok(_metadata, self, "udir", "ldir", 0);
}

TEST_F(rename, upper_dir_over_emptied_merged_dir)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, unlink(path_in(path, self, "mnt", "mdir/mlchild")));
	ASSERT_EQ(0, unlink(path_in(path, self, "mnt", "mdir/muchild")));
	rename_ok(_metadata, self, "udir", "mdir", 0);
}

/* An empty directory only the lower layer has: the upper gets udir's. */
TEST_F(rename, upper_dir_over_empty_lower_only_dir)
{
	char path[PATH_MAX], got[256];
	struct obj *ldir;
	int pass;

	ASSERT_EQ(0, umount(self->mnt));
	ASSERT_EQ(0, unlink(path_in(path, self, "lower", "ldir/ldchild")));
	ASSERT_EQ(0, mount_union(self));
	ASSERT_EQ(0, ren(self, "udir", "ldir", 0)) TH_LOG("rename: %s", strerror(errno));
	for (pass = 0; pass < 2; pass++) {
		ASSERT_EQ(0, typed_names_of(path_in(path, self, "mnt", "ldir"), got, sizeof(got)));
		ASSERT_STREQ("udchild", got) TH_LOG("pass %d", pass);
		ASSERT_EQ(ENOENT, lstat_errno(path_in(path, self, "mnt", "udir")));
		ASSERT_EQ(ENOENT, lstat_errno(path_in(path, self, "upper", "udir")));
		ASSERT_EQ(0, typed_names_of(path_in(path, self, "lower", "ldir"), got, sizeof(got)));
		ASSERT_STREQ("", got);
		ASSERT_EQ(0, umount(self->mnt));
		ASSERT_EQ(0, mount_union(self));
	}
	/* The upper's ldir: udir's, opaque. */
	ldir = obj_of(self, "ldir");
	ldir->upper = 'd';
	snprintf(ldir->uc, sizeof(ldir->uc), "udchild");
	ldir->opaque = 1;
	check_upper_dir(_metadata, self, ldir);
}

/* e/sub, in a lower-only parent: EXDEV, and e is not copied up. */
TEST_F(rename, lower_dir_exdev_copies_nothing_up)
{
	char from[PATH_MAX], to[PATH_MAX], path[PATH_MAX], got[256];

	snprintf(from, sizeof(from), "%s/e/sub", self->mnt);
	snprintf(to, sizeof(to), "%s/e/sub2", self->mnt);
	ASSERT_EQ(-1, syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 0));
	ASSERT_EQ(EXDEV, errno);
	snprintf(path, sizeof(path), "%s/upper/e", self->dir);
	ASSERT_EQ(ENOENT, lstat_errno(path));
	snprintf(path, sizeof(path), "%s/e", self->mnt);
	ASSERT_EQ(0, typed_names_of(path, got, sizeof(got)));
	ASSERT_STREQ("efile sub/", got);
	snprintf(path, sizeof(path), "%s/e/sub", self->mnt);
	ASSERT_EQ(0, typed_names_of(path, got, sizeof(got)));
	ASSERT_STREQ("subfile", got);
	check_state_twice(_metadata, self);
}

/*
 * A .wh. name is never content (creating one is EPERM): renaming to
 * .wh.lt must not hide lt, and uf must not vanish.
 */
TEST_F(rename, to_wh_name_of_lower_file_eperm)
{
	rename_fails(_metadata, self, "uf", ".wh.lt", 0, EPERM);
}

TEST_F(rename, to_wh_name_eperm)
{
	rename_fails(_metadata, self, "lf", ".wh.free", 0, EPERM);
}

TEST_F(rename, noreplace_over_upper_only_name_eexist)
{
	rename_fails(_metadata, self, "lf", "ut", RENAME_NOREPLACE, EEXIST);
}

TEST_F(rename, noreplace_over_lower_only_name_eexist)
{
	rename_fails(_metadata, self, "uf", "lt", RENAME_NOREPLACE, EEXIST);
}

TEST_F(rename, noreplace_over_merged_name_eexist)
{
	rename_fails(_metadata, self, "lf", "mf", RENAME_NOREPLACE, EEXIST);
}

TEST_F(rename, noreplace_to_free_name_renames)
{
	rename_ok(_metadata, self, "lf", "new", RENAME_NOREPLACE);
}

TEST_F(rename, noreplace_over_whited_out_name_renames)
{
	rename_ok(_metadata, self, "mf", "wt", RENAME_NOREPLACE);
}

TEST_F(rename, exchange_lower_and_upper_files)
{
	rename_ok(_metadata, self, "lf", "uf", RENAME_EXCHANGE);
}

TEST_F(rename, exchange_two_lower_files)
{
	rename_ok(_metadata, self, "lf", "lt", RENAME_EXCHANGE);
}

TEST_F(rename, exchange_lower_file_and_upper_dir)
{
	rename_ok(_metadata, self, "lf", "udir", RENAME_EXCHANGE);
}

/* fd: an upper file over a lower directory; the dir arriving is opaque. */
TEST_F(rename, exchange_upper_dir_with_file_over_lower_dir)
{
	rename_ok(_metadata, self, "udir", "fd", RENAME_EXCHANGE);
}

TEST_F(rename, exchange_file_over_lower_dir_with_upper_dir)
{
	rename_ok(_metadata, self, "fd", "udir", RENAME_EXCHANGE);
}

TEST_F(rename, exchange_with_lower_dir_exdev)
{
	rename_fails(_metadata, self, "uf", "ldir", RENAME_EXCHANGE, EXDEV);
}

TEST_F(rename, exchange_with_merged_dir_exdev)
{
	rename_fails(_metadata, self, "mdir", "udir", RENAME_EXCHANGE, EXDEV);
}

TEST_F(rename, exchange_with_missing_name_enoent)
{
	rename_fails(_metadata, self, "lf", "new", RENAME_EXCHANGE, ENOENT);
}

TEST_F(rename, whiteout_flag_upper_only_source)
{
	rename_ok(_metadata, self, "uf", "new", RENAME_WHITEOUT);
}

TEST_F(rename, whiteout_flag_lower_source)
{
	rename_ok(_metadata, self, "lf", "new", RENAME_WHITEOUT);
}

TEST_F(rename, whiteout_flag_merged_source_over_upper_name)
{
	rename_ok(_metadata, self, "mf", "ut", RENAME_WHITEOUT);
}

/* The same layers as a read-only union: EROFS, nothing changes. */
TEST_F(rename, read_only_union_erofs)
{
	char opts[512], from[PATH_MAX], to[PATH_MAX], got[512], want[512];
	static const struct {
		const char *from, *to;
		unsigned int flags;
	} cases[] = {
		{ "lf", "new", 0 }, { "uf", "ut", 0 }, { "mf", "lt", 0 },
		{ "udir", "newdir", 0 }, { "lf", "uf", RENAME_EXCHANGE },
		{ "ls", "wt", RENAME_NOREPLACE },
	};
	size_t i;

	snprintf(opts, sizeof(opts), "lowerdir=%s/upper:%s/lower", self->dir, self->dir);
	ASSERT_EQ(0, mount("none", self->ro, "rsunion", 0, opts))
		TH_LOG("mount %s: %s", opts, strerror(errno));
	snprintf(from, sizeof(from), "%s/d", self->ro);
	ASSERT_EQ(0, typed_names_of(from, want, sizeof(want)));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(from, sizeof(from), "%s/d/%s", self->ro, cases[i].from);
		snprintf(to, sizeof(to), "%s/d/%s", self->ro, cases[i].to);
		ASSERT_EQ(-1, syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to,
				      cases[i].flags))
			TH_LOG("%s to %s worked", from, to);
		ASSERT_EQ(EROFS, errno) TH_LOG("%s: %s", from, strerror(errno));
	}
	snprintf(from, sizeof(from), "%s/d", self->ro);
	ASSERT_EQ(0, typed_names_of(from, got, sizeof(got)));
	ASSERT_STREQ(want, got);
	check_state_twice(_metadata, self);
}

TEST_HARNESS_MAIN
