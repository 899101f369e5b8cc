// SPDX-License-Identifier: GPL-2.0
/*
 * rsunion and the kernel's overlayfs agree on the on-disk format of an
 * upper layer: what one writes (copy-ups, new objects, whiteouts, opaque
 * directories), the other reads as the same tree. Also: an upper written
 * in the aufs format (.wh.NAME, .wh..wh..opq) reads back the same when
 * mounted again with the overlay option syntax.
 *
 * Every union is recorded the same way: a sorted list of
 * "path type mode uid:gid size content" lines, where content is a hash of
 * a regular file's bytes or a symlink's target.
 */
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

#define OVL_OPTS	"index=off,redirect_dir=off,metacopy=off,xino=off"
#define USER_ID		1000
#define RECORD_MAX	(64 * 1024)

FIXTURE(interop) {
	char dir[64];		/* scratch tmpfs: layers, workdirs, mount point */
	char lower[128];
	char upper[128];
	char work[128];		/* the writer's workdir */
	char work2[128];	/* the reader's fresh workdir */
	char mnt[128];
};

/* FNV-1a, 64 bits. */
static uint64_t fnv1a(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_INIT	0xcbf29ce484222325ULL

/* Hash of a file's bytes, read through PATH; -1 on error. */
static int hash_file(const char *path, uint64_t *hash)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	*hash = FNV_INIT;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		*hash = fnv1a(*hash, buf, n);
	close(fd);
	return n < 0 ? -1 : 0;
}

/*
 * One record line. SIZE < 0 prints "-" (a directory's size left out);
 * CONTENT is the last field as it is.
 */
static char *record_line(const char *path, char type, mode_t mode, uid_t uid,
			 gid_t gid, long long size, const char *content)
{
	char sizebuf[32], *line;

	if (size < 0)
		strcpy(sizebuf, "-");
	else
		snprintf(sizebuf, sizeof(sizebuf), "%lld", size);
	if (asprintf(&line, "%s %c %04o %u:%u %s %s", path, type, mode & 07777,
		     uid, gid, sizebuf, content) < 0)
		return NULL;
	return line;
}

struct record {
	char *lines[512];
	size_t n;
	bool dir_sizes;		/* record directories' st_size, or "-" */
};

static int record_add(struct record *r, char *line)
{
	if (!line)
		return -1;
	if (r->n == ARRAY_SIZE(r->lines)) {
		free(line);
		errno = E2BIG;
		return -1;
	}
	r->lines[r->n++] = line;
	return 0;
}

/* Record ROOT/REL (REL is "" for the root, else starts with '/'). */
static int record_walk(struct record *r, const char *root, const char *rel)
{
	char path[PATH_MAX], child[PATH_MAX], content[PATH_MAX + 2];
	long long size;
	struct dirent *de;
	struct stat st;
	uint64_t hash;
	ssize_t len;
	char type;
	DIR *d;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	if (lstat(path, &st))
		return -1;
	size = st.st_size;
	strcpy(content, "-");
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		type = 'f';
		if (hash_file(path, &hash))
			return -1;
		snprintf(content, sizeof(content), "%016llx",
			 (unsigned long long)hash);
		break;
	case S_IFLNK:
		type = 'l';
		len = readlink(path, content + 2, PATH_MAX - 1);
		if (len < 0)
			return -1;
		content[0] = '-';
		content[1] = '>';
		content[len + 2] = '\0';
		break;
	case S_IFDIR:
		type = 'd';
		if (!r->dir_sizes)
			size = -1;
		break;
	case S_IFCHR:
	case S_IFBLK:
		type = S_ISCHR(st.st_mode) ? 'c' : 'b';
		snprintf(content, sizeof(content), "%u:%u",
			 major(st.st_rdev), minor(st.st_rdev));
		break;
	case S_IFIFO:
		type = 'p';
		break;
	default:
		type = 's';
		break;
	}
	if (record_add(r, record_line(*rel ? rel : "/", type, st.st_mode,
				      st.st_uid, st.st_gid, size, content)))
		return -1;
	if (type != 'd')
		return 0;

	d = opendir(path);
	if (!d)
		return -1;
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(child, sizeof(child), "%s/%s", rel, de->d_name);
		if (record_walk(r, root, child)) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return errno ? -1 : 0;
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted lines into one string, each ending in '\n'; frees the lines. */
static char *record_join(struct record *r)
{
	char *out = malloc(RECORD_MAX), *p = out;
	size_t i, len;

	qsort(r->lines, r->n, sizeof(r->lines[0]), cmp_lines);
	for (i = 0; i < r->n; i++) {
		len = strlen(r->lines[i]);
		if (out && p + len + 2 <= out + RECORD_MAX) {
			memcpy(p, r->lines[i], len);
			p += len;
			*p++ = '\n';
		} else {
			free(out);
			out = NULL;
		}
		free(r->lines[i]);
	}
	if (out)
		*p = '\0';
	r->n = 0;
	return out;
}

/*
 * The tree under ROOT, as a string of sorted lines; NULL on error.
 * Without DIR_SIZES, directories' sizes are left out ("-"): they count
 * the upper directory's whiteouts on tmpfs, which no expected tree knows.
 */
static char *record_tree(const char *root, bool dir_sizes)
{
	struct record *r = calloc(1, sizeof(*r));
	char *out = NULL;
	size_t i;

	if (!r)
		return NULL;
	r->dir_sizes = dir_sizes;
	if (!record_walk(r, root, ""))
		out = record_join(r);
	for (i = 0; i < r->n; i++)
		free(r->lines[i]);
	free(r);
	return out;
}

/* Print the lines only one of two records has; their number. */
static int record_diff(const char *a, const char *b, const char *name_a,
		       const char *name_b)
{
	const char *ea, *eb;
	int diffs = 0, c;

	while (*a || *b) {
		ea = *a ? strchr(a, '\n') : a;
		eb = *b ? strchr(b, '\n') : b;
		if (!*a)
			c = 1;
		else if (!*b)
			c = -1;
		else
			c = strncmp(a, b, (ea - a < eb - b ? ea - a : eb - b) + 1);
		if (c < 0) {
			fprintf(stderr, "#   only %s: %.*s\n", name_a, (int)(ea - a), a);
			a = ea + 1;
			diffs++;
		} else if (c > 0) {
			fprintf(stderr, "#   only %s: %.*s\n", name_b, (int)(eb - b), b);
			b = eb + 1;
			diffs++;
		} else {
			a = ea + 1;
			b = eb + 1;
		}
	}
	return diffs;
}

/*
 * The lower layer:
 *   keep.txt, modify.txt (uid/gid 1000), delete.txt, chmod.txt,
 *   link -> keep.txt, dir/{a,b,sub/c}, nest/deep/deeper/file (modes
 *   0755/0750/0711), nest/other/x
 */
static int make_lower(const char *l)
{
	char p[PATH_MAX];

	if (mkdirs(l) ||
	    write_file(join(p, l, "keep.txt"), "keep\n") ||
	    write_file(join(p, l, "modify.txt"), "original\n") ||
	    chown(p, USER_ID, USER_ID) ||
	    write_file(join(p, l, "delete.txt"), "gone\n") ||
	    write_file(join(p, l, "chmod.txt"), "chmod me\n") ||
	    symlink("keep.txt", join(p, l, "link")) ||
	    mkdirs(join(p, l, "dir/sub")) ||
	    write_file(join(p, l, "dir/a"), "a\n") ||
	    write_file(join(p, l, "dir/b"), "b\n") ||
	    write_file(join(p, l, "dir/sub/c"), "c\n") ||
	    mkdirs(join(p, l, "nest/deep/deeper")) ||
	    chmod(join(p, l, "nest/deep"), 0750) ||
	    chmod(join(p, l, "nest/deep/deeper"), 0711) ||
	    write_file(join(p, l, "nest/deep/deeper/file"), "deep\n") ||
	    mkdirs(join(p, l, "nest/other")) ||
	    write_file(join(p, l, "nest/other/x"), "x\n"))
		return -1;
	return 0;
}

/* Create PATH with MODE and CONTENT; it must not exist. */
static int create_file(const char *path, mode_t mode, const char *content)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	ssize_t len = strlen(content);

	if (fd < 0)
		return -1;
	if (write(fd, content, len) != len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static int append_file(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	ssize_t len = strlen(content);

	if (fd < 0)
		return -1;
	if (write(fd, content, len) != len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* RET, naming WHAT in *FAILED when it is an error (errno stays). */
static int step(const char **failed, const char *what, int ret)
{
	if (ret)
		*failed = what;
	return ret;
}

/*
 * The fixed set of changes, made through the union at M (umask 0); stops
 * at the first that fails, naming it in *FAILED.
 */
static int make_changes(const char *m, const char **failed)
{
	char p[PATH_MAX];

	*failed = NULL;
	if (step(failed, "append to modify.txt",
		 append_file(join(p, m, "modify.txt"), "appended\n")) ||
	    step(failed, "unlink delete.txt", unlink(join(p, m, "delete.txt"))) ||
	    step(failed, "chmod chmod.txt", chmod(join(p, m, "chmod.txt"), 0600)) ||
	    step(failed, "create new.txt",
		 create_file(join(p, m, "new.txt"), 0640, "new file\n")) ||
	    step(failed, "mkdir newdir", mkdir(join(p, m, "newdir"), 0750)) ||
	    step(failed, "create newdir/inner",
		 create_file(join(p, m, "newdir/inner"), 0644, "inner\n")) ||
	    step(failed, "symlink newlink", symlink("dir/new", join(p, m, "newlink"))) ||
	    step(failed, "create nest/deep/deeper/created",
		 create_file(join(p, m, "nest/deep/deeper/created"), 0644, "created\n")) ||
	    /* rm -r dir */
	    step(failed, "unlink dir/sub/c", unlink(join(p, m, "dir/sub/c"))) ||
	    step(failed, "rmdir dir/sub", rmdir(join(p, m, "dir/sub"))) ||
	    step(failed, "unlink dir/a", unlink(join(p, m, "dir/a"))) ||
	    step(failed, "unlink dir/b", unlink(join(p, m, "dir/b"))) ||
	    step(failed, "rmdir dir", rmdir(join(p, m, "dir"))) ||
	    /* and a new dir by the same name, over its whiteout */
	    step(failed, "mkdir dir", mkdir(join(p, m, "dir"), 0700)) ||
	    step(failed, "create dir/new",
		 create_file(join(p, m, "dir/new"), 0600, "in the new dir\n")))
		return -1;
	return 0;
}

/* The tree any union must show after make_changes(), without dir sizes. */
static char *expected_tree(void)
{
	static const struct {
		const char *path;
		char type;
		mode_t mode;
		uid_t owner;
		const char *content;	/* file bytes or link target */
	} want[] = {
		{ "/", 'd', 0755, 0, NULL },
		{ "/chmod.txt", 'f', 0600, 0, "chmod me\n" },
		{ "/dir", 'd', 0700, 0, NULL },
		{ "/dir/new", 'f', 0600, 0, "in the new dir\n" },
		{ "/keep.txt", 'f', 0644, 0, "keep\n" },
		{ "/link", 'l', 0777, 0, "keep.txt" },
		{ "/modify.txt", 'f', 0644, USER_ID, "original\nappended\n" },
		{ "/nest", 'd', 0755, 0, NULL },
		{ "/nest/deep", 'd', 0750, 0, NULL },
		{ "/nest/deep/deeper", 'd', 0711, 0, NULL },
		{ "/nest/deep/deeper/created", 'f', 0644, 0, "created\n" },
		{ "/nest/deep/deeper/file", 'f', 0644, 0, "deep\n" },
		{ "/nest/other", 'd', 0755, 0, NULL },
		{ "/nest/other/x", 'f', 0644, 0, "x\n" },
		{ "/new.txt", 'f', 0640, 0, "new file\n" },
		{ "/newdir", 'd', 0750, 0, NULL },
		{ "/newdir/inner", 'f', 0644, 0, "inner\n" },
		{ "/newlink", 'l', 0777, 0, "dir/new" },
	};
	struct record r = { .n = 0 };
	char content[PATH_MAX + 2];
	long long size;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(want); i++) {
		strcpy(content, "-");
		size = -1;
		if (want[i].type == 'f') {
			size = strlen(want[i].content);
			snprintf(content, sizeof(content), "%016llx",
				 (unsigned long long)fnv1a(FNV_INIT,
							   want[i].content, size));
		} else if (want[i].type == 'l') {
			size = strlen(want[i].content);
			snprintf(content, sizeof(content), "->%s", want[i].content);
		}
		if (record_add(&r, record_line(want[i].path, want[i].type,
					       want[i].mode, want[i].owner,
					       want[i].owner, size, content)))
			return NULL;
	}
	return record_join(&r);
}

static int mount_rsunion(const char *mnt, const char *l, const char *u,
			 const char *w)
{
	char opts[1024];

	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", l, u, w);
	return mount("none", mnt, "rsunion", 0, opts);
}

static int mount_overlay(const char *mnt, const char *l, const char *u,
			 const char *w)
{
	char opts[1024];

	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s," OVL_OPTS,
		 l, u, w);
	return mount("overlay", mnt, "overlay", 0, opts);
}

/*
 * The entries of DIR, sorted, each as a record line without content
 * ("NAME TYPE MODE UID:GID SIZE -", a directory's size "-"), joined by
 * commas. WITH_MODE false prints every mode as 0000.
 */
static char *list_dir(const char *dir, bool with_mode)
{
	struct record r = { .n = 0 };
	char path[PATH_MAX], *out, *p;
	struct dirent *de;
	struct stat st;
	size_t i;
	DIR *d = opendir(dir);

	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (lstat(join(path, dir, de->d_name), &st) ||
		    record_add(&r, record_line(de->d_name,
					       S_ISDIR(st.st_mode) ? 'd' :
					       S_ISREG(st.st_mode) ? 'f' :
					       S_ISLNK(st.st_mode) ? 'l' :
					       S_ISCHR(st.st_mode) ? 'c' : '?',
					       with_mode ? st.st_mode : 0,
					       st.st_uid, st.st_gid,
					       S_ISDIR(st.st_mode) ? -1 : st.st_size,
					       "-"))) {
			closedir(d);
			for (i = 0; i < r.n; i++)
				free(r.lines[i]);
			return NULL;
		}
	}
	closedir(d);
	out = record_join(&r);
	for (p = out; p && *p; p++)
		if (*p == '\n' && p[1])
			*p = ',';
	return out;
}

FIXTURE_SETUP(interop)
{
	ASSERT_EQ(0, rsunion_ensure_loaded()) TH_LOG("load: %s", strerror(errno));
	if (!fs_registered("overlay"))
		SKIP(return, "the kernel has no overlayfs");
	umask(0);
	ASSERT_EQ(0, scratch_get(self->dir));
	join(self->lower, self->dir, "L");
	join(self->upper, self->dir, "U");
	join(self->work, self->dir, "W1");
	join(self->work2, self->dir, "W2");
	join(self->mnt, self->dir, "mnt");
	ASSERT_EQ(0, make_lower(self->lower)) TH_LOG("lower: %s", strerror(errno));
	ASSERT_EQ(0, mkdir(self->upper, 0755));
	ASSERT_EQ(0, mkdir(self->work, 0755));
	ASSERT_EQ(0, mkdir(self->work2, 0755));
	ASSERT_EQ(0, mkdir(self->mnt, 0755));
}

FIXTURE_TEARDOWN(interop)
{
	umount2(self->mnt, MNT_DETACH);
	scratch_put(self->dir);
}

TEST_F(interop, rsunion_writes_overlayfs_reads_same_tree)
{
	char *want, *wrote, *wrote_nosize, *read;
	const char *failed;

	ASSERT_EQ(0, mount_rsunion(self->mnt, self->lower, self->upper, self->work))
		TH_LOG("mount rsunion: %s", strerror(errno));
	ASSERT_EQ(0, make_changes(self->mnt, &failed))
		TH_LOG("rsunion: %s: %s", failed, strerror(errno));
	wrote = record_tree(self->mnt, true);
	ASSERT_NE(NULL, wrote) TH_LOG("record: %s", strerror(errno));
	wrote_nosize = record_tree(self->mnt, false);
	ASSERT_NE(NULL, wrote_nosize);
	ASSERT_EQ(0, umount(self->mnt));

	want = expected_tree();
	ASSERT_NE(NULL, want);
	EXPECT_EQ(0, record_diff(want, wrote_nosize, "expected", "rsunion"));

	ASSERT_EQ(0, mount_overlay(self->mnt, self->lower, self->upper, self->work2))
		TH_LOG("mount overlay: %s", strerror(errno));
	read = record_tree(self->mnt, true);
	ASSERT_NE(NULL, read) TH_LOG("record: %s", strerror(errno));
	ASSERT_EQ(0, record_diff(wrote, read, "rsunion (writer)", "overlayfs"));
	ASSERT_STREQ(wrote, read);
	free(want);
	free(wrote);
	free(wrote_nosize);
	free(read);
}

TEST_F(interop, overlayfs_writes_rsunion_reads_same_tree)
{
	char *want, *wrote, *wrote_nosize, *read;
	const char *failed;

	ASSERT_EQ(0, mount_overlay(self->mnt, self->lower, self->upper, self->work))
		TH_LOG("mount overlay: %s", strerror(errno));
	ASSERT_EQ(0, make_changes(self->mnt, &failed))
		TH_LOG("overlayfs: %s: %s", failed, strerror(errno));
	wrote = record_tree(self->mnt, true);
	ASSERT_NE(NULL, wrote) TH_LOG("record: %s", strerror(errno));
	wrote_nosize = record_tree(self->mnt, false);
	ASSERT_NE(NULL, wrote_nosize);
	ASSERT_EQ(0, umount(self->mnt));

	/* The expected tree is right about overlayfs too. */
	want = expected_tree();
	ASSERT_NE(NULL, want);
	EXPECT_EQ(0, record_diff(want, wrote_nosize, "expected", "overlayfs"));

	ASSERT_EQ(0, mount_rsunion(self->mnt, self->lower, self->upper, self->work2))
		TH_LOG("mount rsunion: %s", strerror(errno));
	read = record_tree(self->mnt, true);
	ASSERT_NE(NULL, read) TH_LOG("record: %s", strerror(errno));
	ASSERT_EQ(0, record_diff(wrote, read, "overlayfs (writer)", "rsunion"));
	ASSERT_STREQ(wrote, read);
	free(want);
	free(wrote);
	free(wrote_nosize);
	free(read);
}

/*
 * Through dirs=./U=rw:./L=ro, the changes leave aufs whiteouts: an empty
 * 0644 .wh.delete.txt beside the copied-up files, no .wh.dir (the new dir
 * replaced it), and in the new dir an empty .wh..wh..opq beside its file
 * (its mode is not specified: 0444 in aufs itself). Nothing else: no char
 * device whiteout, no copy-up leftovers.
 */
TEST_F(interop, aufs_syntax_writes_wh_files_and_opq_marker)
{
	char path[PATH_MAX], *root, *dir;
	const char *failed;

	ASSERT_EQ(0, chdir(self->dir));
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, "dirs=./U=rw:./L=ro"))
		TH_LOG("mount rsunion: %s", strerror(errno));
	ASSERT_EQ(0, make_changes(self->mnt, &failed))
		TH_LOG("rsunion: %s: %s", failed, strerror(errno));
	ASSERT_EQ(0, umount(self->mnt));

	root = list_dir(self->upper, true);
	ASSERT_NE(NULL, root);
	EXPECT_STREQ(".wh.delete.txt f 0644 0:0 0 -,"
		     "chmod.txt f 0600 0:0 9 -,"
		     "dir d 0700 0:0 - -,"
		     "modify.txt f 0644 1000:1000 18 -,"
		     "nest d 0755 0:0 - -,"
		     "new.txt f 0640 0:0 9 -,"
		     "newdir d 0750 0:0 - -,"
		     "newlink l 0777 0:0 7 -\n", root);
	dir = list_dir(join(path, self->upper, "dir"), false);
	ASSERT_NE(NULL, dir);
	EXPECT_STREQ(".wh..wh..opq f 0000 0:0 0 -,"
		     "new f 0000 0:0 15 -\n", dir);
	free(root);
	free(dir);
}

/*
 * The aufs-format upper, mounted again with lowerdir=,upperdir=,workdir=,
 * shows the tree the aufs mount showed.
 */
TEST_F(interop, aufs_format_upper_reads_same_with_overlay_syntax)
{
	char *want, *wrote, *wrote_nosize, *read;
	const char *failed;

	ASSERT_EQ(0, chdir(self->dir));
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, "dirs=./U=rw:./L=ro"))
		TH_LOG("mount rsunion: %s", strerror(errno));
	ASSERT_EQ(0, make_changes(self->mnt, &failed))
		TH_LOG("rsunion: %s: %s", failed, strerror(errno));
	wrote = record_tree(self->mnt, true);
	ASSERT_NE(NULL, wrote) TH_LOG("record: %s", strerror(errno));
	wrote_nosize = record_tree(self->mnt, false);
	ASSERT_NE(NULL, wrote_nosize);
	ASSERT_EQ(0, umount(self->mnt));

	want = expected_tree();
	ASSERT_NE(NULL, want);
	EXPECT_EQ(0, record_diff(want, wrote_nosize, "expected", "rsunion (aufs)"));

	ASSERT_EQ(0, mount_rsunion(self->mnt, self->lower, self->upper, self->work2))
		TH_LOG("mount rsunion: %s", strerror(errno));
	read = record_tree(self->mnt, true);
	ASSERT_NE(NULL, read) TH_LOG("record: %s", strerror(errno));
	ASSERT_EQ(0, record_diff(wrote, read, "rsunion dirs=", "rsunion lowerdir="));
	ASSERT_STREQ(wrote, read);
	free(want);
	free(wrote);
	free(wrote_nosize);
	free(read);
}

TEST_HARNESS_MAIN
