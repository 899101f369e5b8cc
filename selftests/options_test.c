// SPDX-License-Identifier: GPL-2.0
/*
 * rsunion's mount options: the overlayfs syntax (lowerdir=, upperdir=,
 * workdir=, with \: \, and \ooo escapes and relative paths), the aufs
 * syntax (br=, dirs=, =rw/=ro marks), mounting through fsopen/fsconfig/
 * fsmount/move_mount, one lower layer per fsconfig call (lowerdir+, past
 * what one page of options can name), what /proc/mounts shows and that it
 * mounts the same union again, each union's id (si=) and its branch files
 * in /sys/fs/rsunion/si_<id>/br<N>, the 500-layer limit, and every refusal
 * with its errno and its "rsunion: " line in dmesg.
 */
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <dirent.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

#define MAX_LAYERS 500

/* The whole content of PATH into OUT (NUL-terminated); -1 on error. */
static int slurp(const char *path, char *out, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, out, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	out[n] = '\0';
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

/*
 * The names in directory PATH but "." and "..", sorted and joined by
 * spaces into OUT; a name listed twice shows twice. -1 on error.
 */
static int list_dir(const char *path, char *out, size_t size)
{
	char *names[256];
	struct dirent *d;
	size_t len = 0;
	int n = 0, i;
	DIR *dir = opendir(path);

	if (!dir)
		return -1;
	while ((d = readdir(dir)) && n < 256) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		names[n++] = strdup(d->d_name);
	}
	closedir(dir);
	qsort(names, n, sizeof(names[0]), cmp_names);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		len += snprintf(out + len, len < size ? size - len : 0, "%s%s",
				i ? " " : "", names[i]);
		free(names[i]);
	}
	return len < size ? 0 : -1;
}

/*
 * The options field of the rsunion mount at MNT in /proc/self/mounts,
 * as the kernel writes it (escapes kept). -1 when there is none.
 */
static int mount_options(const char *mnt, char *out, size_t size)
{
	FILE *f = fopen("/proc/self/mounts", "r");
	char *line = NULL, *save, *dev, *dir, *type, *opts;
	size_t cap = 0;
	int ret = -1;

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		dev = strtok_r(line, " ", &save);
		dir = strtok_r(NULL, " ", &save);
		type = strtok_r(NULL, " ", &save);
		opts = strtok_r(NULL, " ", &save);
		if (!dev || !dir || !type || !opts)
			continue;
		if (strcmp(dir, mnt) || strcmp(type, "rsunion"))
			continue;
		ret = snprintf(out, size, "%s", opts) < (int)size ? 0 : -1;
	}
	free(line);
	fclose(f);
	return ret;
}

/*
 * rsunion's own part of a /proc/mounts options field: what follows the
 * generic flags ("ro,relatime,..."), from "lowerdir=" or "br=" on.
 */
static const char *own_options(const char *opts)
{
	const char *p = strstr(opts, ",lowerdir=");

	if (!p)
		p = strstr(opts, ",br=");
	return p ? p + 1 : NULL;
}

/*
 * mount(2) of a union that must be refused: its errno (0 if it mounted,
 * -1 if dmesg cannot be watched), and in *LOGGED whether dmesg got a
 * "rsunion: " line containing NEEDLE meanwhile.
 */
static int mount_refused(const char *mnt, const char *opts, const char *needle,
			 bool *logged)
{
	int kmsg = kmsg_mark();
	int err = 0;

	*logged = false;
	if (kmsg < 0)
		return -1;
	if (mount("none", mnt, "rsunion", 0, opts))
		err = errno;
	*logged = kmsg_has(kmsg, needle);
	return err;
}

/* Directories 0 .. N-1 under BASE; the bottom one (N-1) holds "bottom". */
static int make_stack(const char *base, int n)
{
	char path[PATH_MAX];
	int i;

	if (mkdir(base, 0755))
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%d", base, i);
		if (mkdir(path, 0755))
			return -1;
	}
	snprintf(path, sizeof(path), "%s/%d/bottom", base, n - 1);
	return write_file(path, "bottom layer\n");
}

/*
 * KEY followed by the stack's directories 0:1:...:N-1, relative to the
 * stack's directory, MARK after the top one.
 */
static size_t stack_options(char *out, size_t size, const char *key,
			    const char *mark, int n)
{
	size_t len = snprintf(out, size, "%s0%s", key, mark);
	int i;

	for (i = 1; i < n && len < size; i++)
		len += snprintf(out + len, size - len, ":%d", i);
	return len;
}

FIXTURE(options) {
	char dir[64];
	char mnt[128];
	char opts[8192];
	char buf[32768];
};

/*
 * On a scratch tmpfs: lower layers a(a.log, x.log), b(b.log, x.log),
 * c(c.log, x.log), an upper u(u.log, x.log), an empty work dir w, a
 * regular file f, and the mount point mnt.
 */
FIXTURE_SETUP(options)
{
	static const char *const layers[] = { "a", "b", "c", "u" };
	char name[16], content[32];
	unsigned int i;

	ASSERT_EQ(0, rsunion_ensure_loaded()) TH_LOG("load: %s", strerror(errno));
	ASSERT_EQ(0, scratch_get(self->dir));
	snprintf(self->mnt, sizeof(self->mnt), "%s/mnt", self->dir);
	ASSERT_EQ(0, mkdir(self->mnt, 0755));
	for (i = 0; i < sizeof(layers) / sizeof(layers[0]); i++) {
		ASSERT_EQ(0, mkdir(in_dir(self->dir, layers[i]), 0755));
		snprintf(name, sizeof(name), "%s/%s.log", layers[i], layers[i]);
		snprintf(content, sizeof(content), "%s.log of %s\n", layers[i], layers[i]);
		ASSERT_EQ(0, write_file(in_dir(self->dir, name), content));
		snprintf(name, sizeof(name), "%s/x.log", layers[i]);
		snprintf(content, sizeof(content), "x.log of %s\n", layers[i]);
		ASSERT_EQ(0, write_file(in_dir(self->dir, name), content));
	}
	ASSERT_EQ(0, mkdir(in_dir(self->dir, "w"), 0755));
	ASSERT_EQ(0, write_file(in_dir(self->dir, "f"), "a file\n"));
}

FIXTURE_TEARDOWN(options)
{
	if (chdir("/"))
		TH_LOG("chdir /: %s", strerror(errno));
	umount2(self->mnt, MNT_DETACH);
	scratch_put(self->dir);
}

/* Mount a union at MNT with mount(2) data OPTS, as a test step. */
#define MOUNT_OK(opts) \
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, (opts))) \
		TH_LOG("mount %s: %s", (opts), strerror(errno))

/* The names in the union's root, exactly. */
#define ASSERT_LISTS(names) do { \
	ASSERT_EQ(0, list_dir(self->mnt, self->buf, sizeof(self->buf))); \
	ASSERT_STREQ((names), self->buf); \
} while (0)

/* The content of NAME in the union, exactly. */
#define ASSERT_CONTENT(name, content) do { \
	ASSERT_EQ(0, slurp(in_dir(self->mnt, (name)), self->buf, sizeof(self->buf))) \
		TH_LOG("read %s: %s", (name), strerror(errno)); \
	ASSERT_STREQ((content), self->buf); \
} while (0)

/* mount(2) with OPTS fails with ERR and a "rsunion: ...NEEDLE" dmesg line. */
#define ASSERT_REFUSED(opts, err, needle) do { \
	bool logged; \
	ASSERT_EQ((err), mount_refused(self->mnt, (opts), (needle), &logged)) \
		TH_LOG("mount %s", (opts)); \
	ASSERT_TRUE(logged) TH_LOG("no dmesg line 'rsunion: ...%s'", (needle)); \
} while (0)

/* Overlayfs syntax. */

TEST_F(options, lowerdir_two_layers)
{
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/a:%s/b",
		 self->dir, self->dir);
	MOUNT_OK(self->opts);
	ASSERT_LISTS("a.log b.log x.log");
	ASSERT_CONTENT("a.log", "a.log of a\n");
	ASSERT_CONTENT("b.log", "b.log of b\n");
}

TEST_F(options, lowerdir_three_layers)
{
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/a:%s/b:%s/c",
		 self->dir, self->dir, self->dir);
	MOUNT_OK(self->opts);
	ASSERT_LISTS("a.log b.log c.log x.log");
	ASSERT_CONTENT("c.log", "c.log of c\n");
}

/* The leftmost layer is on top, whichever it is. */
TEST_F(options, lowerdir_leftmost_layer_content_wins)
{
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/a:%s/b:%s/c",
		 self->dir, self->dir, self->dir);
	MOUNT_OK(self->opts);
	ASSERT_CONTENT("x.log", "x.log of a\n");
	ASSERT_EQ(0, umount(self->mnt));

	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/c:%s/a:%s/b",
		 self->dir, self->dir, self->dir);
	MOUNT_OK(self->opts);
	ASSERT_CONTENT("x.log", "x.log of c\n");
}

TEST_F(options, lowerdir_relative_paths_from_cwd)
{
	ASSERT_EQ(0, mkdirs(in_dir(self->dir, "sub/inner")));
	ASSERT_EQ(0, chdir(in_dir(self->dir, "sub/inner")));
	MOUNT_OK("lowerdir=../../b:../../c");
	ASSERT_LISTS("b.log c.log x.log");
	ASSERT_CONTENT("x.log", "x.log of b\n");
}

TEST_F(options, lowerdir_escaped_colon_in_dir_name)
{
	ASSERT_EQ(0, mkdir(in_dir(self->dir, "p:q"), 0755));
	ASSERT_EQ(0, write_file(in_dir(self->dir, "p:q/x.log"), "x.log of p:q\n"));
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/p\\:q:%s/b",
		 self->dir, self->dir);
	MOUNT_OK(self->opts);
	ASSERT_LISTS("b.log x.log");
	ASSERT_CONTENT("x.log", "x.log of p:q\n");
}

TEST_F(options, lowerdir_escaped_comma_in_mount_data)
{
	ASSERT_EQ(0, mkdir(in_dir(self->dir, "p,q"), 0755));
	ASSERT_EQ(0, write_file(in_dir(self->dir, "p,q/x.log"), "x.log of p,q\n"));
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/p\\,q:%s/b",
		 self->dir, self->dir);
	MOUNT_OK(self->opts);
	ASSERT_LISTS("b.log x.log");
	ASSERT_CONTENT("x.log", "x.log of p,q\n");
}

TEST_F(options, lowerdir_octal_escapes)
{
	ASSERT_EQ(0, mkdir(in_dir(self->dir, "p:q,r"), 0755));
	ASSERT_EQ(0, write_file(in_dir(self->dir, "p:q,r/x.log"), "x.log of p:q,r\n"));
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/p\\072q\\054r:%s/b",
		 self->dir, self->dir);
	MOUNT_OK(self->opts);
	ASSERT_LISTS("b.log x.log");
	ASSERT_CONTENT("x.log", "x.log of p:q,r\n");
}

TEST_F(options, upperdir_workdir_accepted)
{
	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir=%s/a:%s/b,upperdir=%s/u,workdir=%s/w",
		 self->dir, self->dir, self->dir, self->dir);
	MOUNT_OK(self->opts);
	ASSERT_LISTS("a.log b.log u.log x.log");
	ASSERT_CONTENT("x.log", "x.log of u\n");
	ASSERT_CONTENT("u.log", "u.log of u\n");
}

/* Aufs syntax. */

/* The seed's example: a(a.log, x.log) over b(b.log, x.log). */
TEST_F(options, dirs_two_branches)
{
	snprintf(self->opts, sizeof(self->opts), "dirs=%s/a:%s/b",
		 self->dir, self->dir);
	MOUNT_OK(self->opts);
	ASSERT_LISTS("a.log b.log x.log");
	ASSERT_CONTENT("x.log", "x.log of a\n");
}

TEST_F(options, br_two_branches)
{
	snprintf(self->opts, sizeof(self->opts), "br=%s/a:%s/b",
		 self->dir, self->dir);
	MOUNT_OK(self->opts);
	ASSERT_LISTS("a.log b.log x.log");
	ASSERT_CONTENT("x.log", "x.log of a\n");
}

TEST_F(options, br_three_branches_leftmost_on_top)
{
	snprintf(self->opts, sizeof(self->opts), "br=%s/c:%s/b:%s/a",
		 self->dir, self->dir, self->dir);
	MOUNT_OK(self->opts);
	ASSERT_LISTS("a.log b.log c.log x.log");
	ASSERT_CONTENT("x.log", "x.log of c\n");
}

/* Unmarked, the leftmost branch is the writable one and the rest ro. */
TEST_F(options, br_leftmost_branch_rw_by_default)
{
	char want[512];

	snprintf(self->opts, sizeof(self->opts), "br=%s/a:%s/b:%s/c",
		 self->dir, self->dir, self->dir);
	MOUNT_OK(self->opts);
	ASSERT_EQ(0, mount_options(self->mnt, self->buf, sizeof(self->buf)));
	snprintf(want, sizeof(want), "br=%s/a=rw:%s/b=ro:%s/c=ro",
		 self->dir, self->dir, self->dir);
	ASSERT_STREQ(want, own_options(self->buf));
}

/* =ro on the leftmost: no writable branch, all three are read-only. */
TEST_F(options, br_explicit_ro_marks)
{
	char want[512];

	snprintf(self->opts, sizeof(self->opts), "br=%s/a=ro:%s/b=ro:%s/c",
		 self->dir, self->dir, self->dir);
	MOUNT_OK(self->opts);
	ASSERT_LISTS("a.log b.log c.log x.log");
	ASSERT_CONTENT("x.log", "x.log of a\n");
	ASSERT_EQ(0, mount_options(self->mnt, self->buf, sizeof(self->buf)));
	snprintf(want, sizeof(want), "br=%s/a=ro:%s/b=ro:%s/c=ro",
		 self->dir, self->dir, self->dir);
	ASSERT_STREQ(want, own_options(self->buf));
}

TEST_F(options, br_explicit_rw_on_leftmost)
{
	char want[512];

	snprintf(self->opts, sizeof(self->opts), "br=%s/u=rw:%s/a=ro",
		 self->dir, self->dir);
	MOUNT_OK(self->opts);
	ASSERT_LISTS("a.log u.log x.log");
	ASSERT_CONTENT("x.log", "x.log of u\n");
	ASSERT_EQ(0, mount_options(self->mnt, self->buf, sizeof(self->buf)));
	snprintf(want, sizeof(want), "br=%s/u=rw:%s/a=ro", self->dir, self->dir);
	ASSERT_STREQ(want, own_options(self->buf));
}

/* The new mount API. */

TEST_F(options, fsmount_mounts_union)
{
	int fc, mfd;

	fc = fsopen("rsunion", FSOPEN_CLOEXEC);
	ASSERT_GE(fc, 0) TH_LOG("fsopen: %s", strerror(errno));
	snprintf(self->opts, sizeof(self->opts), "%s/b:%s/c", self->dir, self->dir);
	ASSERT_EQ(0, fsconfig(fc, FSCONFIG_SET_STRING, "lowerdir", self->opts, 0))
		TH_LOG("fsconfig: %s", strerror(errno));
	ASSERT_EQ(0, fsconfig(fc, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		TH_LOG("create: %s", strerror(errno));
	mfd = fsmount(fc, FSMOUNT_CLOEXEC, 0);
	ASSERT_GE(mfd, 0) TH_LOG("fsmount: %s", strerror(errno));
	ASSERT_EQ(0, move_mount(mfd, "", AT_FDCWD, self->mnt, MOVE_MOUNT_F_EMPTY_PATH))
		TH_LOG("move_mount: %s", strerror(errno));
	close(mfd);
	close(fc);
	ASSERT_LISTS("b.log c.log x.log");
	ASSERT_CONTENT("x.log", "x.log of b\n");
}

/* An option that cannot be used fails at fsconfig() already. */
TEST_F(options, fsconfig_refuses_missing_path)
{
	int kmsg = kmsg_mark();
	int fc = fsopen("rsunion", FSOPEN_CLOEXEC);

	ASSERT_GE(kmsg, 0);
	ASSERT_GE(fc, 0);
	snprintf(self->opts, sizeof(self->opts), "%s/a:%s/nonexistent",
		 self->dir, self->dir);
	ASSERT_EQ(-1, fsconfig(fc, FSCONFIG_SET_STRING, "lowerdir", self->opts, 0));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_TRUE(kmsg_has(kmsg, "cannot resolve"));
	close(fc);
}

TEST_F(options, fsconfig_refuses_non_directory)
{
	int kmsg = kmsg_mark();
	int fc = fsopen("rsunion", FSOPEN_CLOEXEC);

	ASSERT_GE(kmsg, 0);
	ASSERT_GE(fc, 0);
	snprintf(self->opts, sizeof(self->opts), "%s/a:%s/f", self->dir, self->dir);
	ASSERT_EQ(-1, fsconfig(fc, FSCONFIG_SET_STRING, "lowerdir", self->opts, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_TRUE(kmsg_has(kmsg, "is not a directory"));
	close(fc);
}

TEST_F(options, fsconfig_refuses_empty_list_entry)
{
	int kmsg = kmsg_mark();
	int fc = fsopen("rsunion", FSOPEN_CLOEXEC);

	ASSERT_GE(kmsg, 0);
	ASSERT_GE(fc, 0);
	snprintf(self->opts, sizeof(self->opts), "%s/a::%s/b", self->dir, self->dir);
	ASSERT_EQ(-1, fsconfig(fc, FSCONFIG_SET_STRING, "lowerdir", self->opts, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_TRUE(kmsg_has(kmsg, ""));
	close(fc);
}

TEST_F(options, fsconfig_refuses_mixed_syntaxes)
{
	int kmsg = kmsg_mark();
	int fc = fsopen("rsunion", FSOPEN_CLOEXEC);

	ASSERT_GE(kmsg, 0);
	ASSERT_GE(fc, 0);
	snprintf(self->opts, sizeof(self->opts), "%s/a:%s/b", self->dir, self->dir);
	ASSERT_EQ(0, fsconfig(fc, FSCONFIG_SET_STRING, "lowerdir", self->opts, 0));
	ASSERT_EQ(-1, fsconfig(fc, FSCONFIG_SET_STRING, "br", self->opts, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_TRUE(kmsg_has(kmsg, ""));
	close(fc);
}

TEST_F(options, fsconfig_refuses_rw_on_non_leftmost_branch)
{
	int kmsg = kmsg_mark();
	int fc = fsopen("rsunion", FSOPEN_CLOEXEC);

	ASSERT_GE(kmsg, 0);
	ASSERT_GE(fc, 0);
	snprintf(self->opts, sizeof(self->opts), "%s/a=ro:%s/b=rw", self->dir, self->dir);
	ASSERT_EQ(-1, fsconfig(fc, FSCONFIG_SET_STRING, "br", self->opts, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_TRUE(kmsg_has(kmsg, ""));
	close(fc);
}

/* Refusals that need every option wait for FSCONFIG_CMD_CREATE. */
TEST_F(options, fsconfig_refuses_upperdir_without_workdir_at_create)
{
	int kmsg = kmsg_mark();
	int fc = fsopen("rsunion", FSOPEN_CLOEXEC);

	ASSERT_GE(kmsg, 0);
	ASSERT_GE(fc, 0);
	snprintf(self->opts, sizeof(self->opts), "%s/a:%s/b", self->dir, self->dir);
	ASSERT_EQ(0, fsconfig(fc, FSCONFIG_SET_STRING, "lowerdir", self->opts, 0));
	ASSERT_EQ(0, fsconfig(fc, FSCONFIG_SET_STRING, "upperdir",
			      in_dir(self->dir, "u"), 0));
	ASSERT_EQ(-1, fsconfig(fc, FSCONFIG_CMD_CREATE, NULL, NULL, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_TRUE(kmsg_has(kmsg, ""));
	close(fc);
}

/* /proc/mounts. */

TEST_F(options, proc_mounts_shows_lowerdir)
{
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/a:%s/b:%s/c",
		 self->dir, self->dir, self->dir);
	MOUNT_OK(self->opts);
	ASSERT_EQ(0, mount_options(self->mnt, self->buf, sizeof(self->buf)));
	ASSERT_STREQ(self->opts, own_options(self->buf));
}

TEST_F(options, proc_mounts_shows_upperdir_workdir)
{
	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir=%s/a:%s/b,upperdir=%s/u,workdir=%s/w",
		 self->dir, self->dir, self->dir, self->dir);
	MOUNT_OK(self->opts);
	ASSERT_EQ(0, mount_options(self->mnt, self->buf, sizeof(self->buf)));
	ASSERT_STREQ(self->opts, own_options(self->buf));
}

TEST_F(options, proc_mounts_shows_br)
{
	char want[512];

	snprintf(self->opts, sizeof(self->opts), "dirs=%s/a:%s/b=ro",
		 self->dir, self->dir);
	MOUNT_OK(self->opts);
	ASSERT_EQ(0, mount_options(self->mnt, self->buf, sizeof(self->buf)));
	snprintf(want, sizeof(want), "br=%s/a=rw:%s/b=ro", self->dir, self->dir);
	ASSERT_STREQ(want, own_options(self->buf));
}

TEST_F(options, proc_mounts_shows_absolute_paths)
{
	char want[512];

	ASSERT_EQ(0, chdir(self->dir));
	MOUNT_OK("lowerdir=a:./b");
	ASSERT_EQ(0, mount_options(self->mnt, self->buf, sizeof(self->buf)));
	snprintf(want, sizeof(want), "lowerdir=%s/a:%s/b", self->dir, self->dir);
	ASSERT_STREQ(want, own_options(self->buf));
}

/* : , = space tab newline backslash in a path are octal escapes. */
TEST_F(options, proc_mounts_escapes_special_characters)
{
	char want[512];

	ASSERT_EQ(0, mkdir(in_dir(self->dir, "p:q,r=s t\tu\nv\\w"), 0755));
	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir=%s/p\\:q\\,r=s t\tu\nv\\\\w:%s/b", self->dir, self->dir);
	MOUNT_OK(self->opts);
	ASSERT_EQ(0, mount_options(self->mnt, self->buf, sizeof(self->buf)));
	snprintf(want, sizeof(want),
		 "lowerdir=%s/p\\072q\\054r\\075s\\040t\\011u\\012v\\134w:%s/b",
		 self->dir, self->dir);
	ASSERT_STREQ(want, own_options(self->buf));
}

/*
 * Special directories for the round trips: names with ':' and ',' (and
 * '=' and a space), each holding a file that tells it apart.
 */
static int make_odd_layers(const char *dir)
{
	static const char *const names[] = { "l:1,x", "l,2:y=z", "u:3,w t", "w,4:v" };
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (mkdir(in_dir(dir, names[i]), 0755))
			return -1;
	}
	if (write_file(in_dir(dir, "l:1,x/x.log"), "x.log of l:1,x\n") ||
	    write_file(in_dir(dir, "l:1,x/one"), "one\n") ||
	    write_file(in_dir(dir, "l,2:y=z/x.log"), "x.log of l,2:y=z\n") ||
	    write_file(in_dir(dir, "l,2:y=z/two"), "two\n") ||
	    write_file(in_dir(dir, "u:3,w t/x.log"), "x.log of u:3,w t\n"))
		return -1;
	return 0;
}

/* Read the options back, umount, mount with them: the same union. */
#define ROUND_TRIP(names, xlog) do { \
	char again[8192]; \
	ASSERT_LISTS(names); \
	ASSERT_CONTENT("x.log", xlog); \
	ASSERT_EQ(0, mount_options(self->mnt, self->buf, sizeof(self->buf))); \
	ASSERT_NE(NULL, own_options(self->buf)) TH_LOG("%s", self->buf); \
	snprintf(again, sizeof(again), "%s", own_options(self->buf)); \
	ASSERT_EQ(0, umount(self->mnt)); \
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, again)) \
		TH_LOG("mount again with %s: %s", again, strerror(errno)); \
	ASSERT_LISTS(names); \
	ASSERT_CONTENT("x.log", xlog); \
	ASSERT_EQ(0, mount_options(self->mnt, self->buf, sizeof(self->buf))); \
	ASSERT_STREQ(again, own_options(self->buf)); \
} while (0)

TEST_F(options, proc_mounts_round_trip_lowerdir)
{
	ASSERT_EQ(0, make_odd_layers(self->dir));
	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir=%s/l\\:1\\,x:%s/l\\,2\\:y=z:%s/b",
		 self->dir, self->dir, self->dir);
	MOUNT_OK(self->opts);
	ROUND_TRIP("b.log one two x.log", "x.log of l:1,x\n");
}

TEST_F(options, proc_mounts_round_trip_upperdir_workdir)
{
	ASSERT_EQ(0, make_odd_layers(self->dir));
	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir=%s/l\\,2\\:y=z:%s/l\\:1\\,x,upperdir=%s/u\\:3\\,w t,workdir=%s/w\\,4\\:v",
		 self->dir, self->dir, self->dir, self->dir);
	MOUNT_OK(self->opts);
	ROUND_TRIP("one two x.log", "x.log of u:3,w t\n");
}

TEST_F(options, proc_mounts_round_trip_br)
{
	ASSERT_EQ(0, make_odd_layers(self->dir));
	snprintf(self->opts, sizeof(self->opts),
		 "br=%s/u\\:3\\,w t:%s/l\\:1\\,x=ro:%s/l\\,2\\:y=z",
		 self->dir, self->dir, self->dir);
	MOUNT_OK(self->opts);
	ROUND_TRIP("one two x.log", "x.log of u:3,w t\n");
}

/*
 * The layer limit. The stack's directories are 0 .. N-1 given relative
 * to the cwd: 500 absolute paths, even as short as /tmp/X/N, make an
 * option string over 5 KiB, past the page mount(2) copies (the VFS cuts
 * it at 4095 bytes, silently), and fsconfig takes no string over 255
 * bytes.
 */
TEST_F(options, stack_of_500_layers_mounts)
{
	char want[128];
	int colons = 0;
	const char *p;
	size_t len;

	ASSERT_EQ(0, make_stack(in_dir(self->dir, "s"), MAX_LAYERS));
	ASSERT_EQ(0, chdir(in_dir(self->dir, "s")));
	len = stack_options(self->opts, sizeof(self->opts), "lowerdir=", "", MAX_LAYERS);
	ASSERT_LT(len, 4096) TH_LOG("%zu bytes do not fit in mount(2)'s page", len);
	MOUNT_OK(self->opts);
	ASSERT_LISTS("bottom");
	ASSERT_CONTENT("bottom", "bottom layer\n");
	/* All 500 are layers, the last one shown is the bottom one. */
	ASSERT_EQ(0, mount_options(self->mnt, self->buf, sizeof(self->buf)));
	for (p = self->buf; *p; p++)
		colons += *p == ':';
	ASSERT_EQ(MAX_LAYERS - 1, colons);
	snprintf(want, sizeof(want), ":%s/s/%d", self->dir, MAX_LAYERS - 1);
	ASSERT_STREQ(want, strrchr(self->buf, ':'));
}

TEST_F(options, refuses_501_layers)
{
	size_t len;

	ASSERT_EQ(0, make_stack(in_dir(self->dir, "s"), MAX_LAYERS + 1));
	ASSERT_EQ(0, chdir(in_dir(self->dir, "s")));
	len = stack_options(self->opts, sizeof(self->opts), "lowerdir=", "",
			    MAX_LAYERS + 1);
	ASSERT_LT(len, 4096);
	ASSERT_REFUSED(self->opts, EINVAL, "");
}

TEST_F(options, refuses_501_ro_branches)
{
	size_t len;

	ASSERT_EQ(0, make_stack(in_dir(self->dir, "s"), MAX_LAYERS + 1));
	ASSERT_EQ(0, chdir(in_dir(self->dir, "s")));
	/* br=0=ro:1:...:500: no writable branch, 501 read-only ones. */
	len = stack_options(self->opts, sizeof(self->opts), "br=", "=ro",
			    MAX_LAYERS + 1);
	ASSERT_LT(len, 4096);
	ASSERT_REFUSED(self->opts, EINVAL, "");
}

/* One lower layer per fsconfig call: lowerdir+ (overlayfs since 6.7). */

/* fsopen("rsunion") with lowerdir+ for each of the N names in DIRS. */
static int fsopen_lowers(const char *const *dirs, int n)
{
	int fc = fsopen("rsunion", FSOPEN_CLOEXEC), i;

	if (fc < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (fsconfig(fc, FSCONFIG_SET_STRING, "lowerdir+", dirs[i], 0)) {
			close(fc);
			return -1;
		}
	return fc;
}

/* Creates the union of FC and mounts it at MNT; closes FC. */
static int fsmount_at(int fc, const char *mnt)
{
	int mfd, ret = -1;

	if (fsconfig(fc, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0) {
		mfd = fsmount(fc, FSMOUNT_CLOEXEC, 0);
		if (mfd >= 0) {
			ret = move_mount(mfd, "", AT_FDCWD, mnt, MOVE_MOUNT_F_EMPTY_PATH);
			close(mfd);
		}
	}
	close(fc);
	return ret;
}

TEST_F(options, lowerdir_add_stacks_top_first)
{
	char a[128], c[128], want[512];
	const char *dirs[] = { a, "b", c };
	int fc;

	snprintf(a, sizeof(a), "%s/a", self->dir);
	snprintf(c, sizeof(c), "%s/c", self->dir);
	ASSERT_EQ(0, chdir(self->dir));
	fc = fsopen_lowers(dirs, 3);
	ASSERT_LE(0, fc) TH_LOG("lowerdir+: %s", strerror(errno));
	ASSERT_EQ(0, fsmount_at(fc, self->mnt)) TH_LOG("mount: %s", strerror(errno));
	ASSERT_LISTS("a.log b.log c.log x.log");
	ASSERT_CONTENT("x.log", "x.log of a\n");
	/* Shown one per option, as they came, so that a long stack mounts again. */
	ASSERT_EQ(0, mount_options(self->mnt, self->buf, sizeof(self->buf)));
	snprintf(want, sizeof(want), ",lowerdir+=%s/a,lowerdir+=%s/b,lowerdir+=%s/c",
		 self->dir, self->dir, self->dir);
	ASSERT_NE(NULL, strstr(self->buf, want)) TH_LOG("options: %s", self->buf);
	ASSERT_EQ(NULL, strstr(self->buf, ",lowerdir="));
}

/*
 * 300 layers with 100-byte names: about 36 KiB of names, past the page
 * mount(2) takes and the 255 bytes fsconfig takes in one string.
 */
TEST_F(options, lowerdir_add_mounts_more_layers_than_a_page_names)
{
	static char names[300][200], shown[65536];
	const char *dirs[300];
	char bottom[300];
	int i, fc;

	ASSERT_EQ(0, mkdir(in_dir(self->dir, "s"), 0755));
	for (i = 0; i < 300; i++) {
		snprintf(names[i], sizeof(names[i]), "%s/s/%03d%0*d", self->dir, i, 96, 0);
		ASSERT_EQ(0, mkdir(names[i], 0755)) TH_LOG("%s: %s", names[i], strerror(errno));
		dirs[i] = names[i];
	}
	snprintf(bottom, sizeof(bottom), "%s/bottom", names[299]);
	ASSERT_EQ(0, write_file(bottom, "bottom layer\n"));
	fc = fsopen_lowers(dirs, 300);
	ASSERT_LE(0, fc) TH_LOG("lowerdir+: %s", strerror(errno));
	ASSERT_EQ(0, fsmount_at(fc, self->mnt)) TH_LOG("mount: %s", strerror(errno));
	ASSERT_LISTS("bottom");
	ASSERT_CONTENT("bottom", "bottom layer\n");
	ASSERT_EQ(0, mount_options(self->mnt, shown, sizeof(shown)));
	ASSERT_LT(300 * 100, strlen(shown));
}

/* What /proc/mounts shows of a lowerdir+ union mounts it again. */
TEST_F(options, proc_mounts_round_trip_lowerdir_add)
{
	char again[4096];
	const char *own;

	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir+=%s/a,lowerdir+=%s/b,upperdir=%s/u,workdir=%s/w",
		 self->dir, self->dir, self->dir, self->dir);
	MOUNT_OK(self->opts);
	ASSERT_EQ(0, mount_options(self->mnt, self->buf, sizeof(self->buf)));
	own = strstr(self->buf, ",si=");
	ASSERT_NE(NULL, own);
	snprintf(again, sizeof(again), "%s", own + 1);
	ASSERT_EQ(0, umount(self->mnt));
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, again))
		TH_LOG("mount again with %s: %s", again, strerror(errno));
	ASSERT_LISTS("a.log b.log u.log x.log");
	ASSERT_CONTENT("x.log", "x.log of u\n");
}

/* A lowerdir= list replaces every layer given before, as in overlayfs. */
TEST_F(options, lowerdir_replaces_lowerdir_add)
{
	char a[128];
	const char *dirs[] = { a };
	int fc;

	snprintf(a, sizeof(a), "%s/a", self->dir);
	fc = fsopen_lowers(dirs, 1);
	ASSERT_LE(0, fc);
	snprintf(self->opts, sizeof(self->opts), "%s/b:%s/c", self->dir, self->dir);
	ASSERT_EQ(0, fsconfig(fc, FSCONFIG_SET_STRING, "lowerdir", self->opts, 0));
	ASSERT_EQ(0, fsmount_at(fc, self->mnt)) TH_LOG("mount: %s", strerror(errno));
	ASSERT_LISTS("b.log c.log x.log");
}

TEST_F(options, refuses_lowerdir_add_after_lowerdir)
{
	int kmsg = kmsg_mark(), fc = fsopen("rsunion", FSOPEN_CLOEXEC);

	ASSERT_LE(0, kmsg);
	ASSERT_LE(0, fc);
	snprintf(self->opts, sizeof(self->opts), "%s/a", self->dir);
	ASSERT_EQ(0, fsconfig(fc, FSCONFIG_SET_STRING, "lowerdir", self->opts, 0));
	snprintf(self->opts, sizeof(self->opts), "%s/b", self->dir);
	ASSERT_EQ(-1, fsconfig(fc, FSCONFIG_SET_STRING, "lowerdir+", self->opts, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_TRUE(kmsg_has(kmsg, "lowerdir+ cannot follow lowerdir"));
	close(fc);
}

TEST_F(options, refuses_lowerdir_add_past_500_layers)
{
	int fc = fsopen("rsunion", FSOPEN_CLOEXEC), i;

	ASSERT_LE(0, fc);
	ASSERT_EQ(0, make_stack(in_dir(self->dir, "s"), MAX_LAYERS + 1));
	ASSERT_EQ(0, chdir(in_dir(self->dir, "s")));
	for (i = 0; i < MAX_LAYERS; i++) {
		snprintf(self->opts, sizeof(self->opts), "%d", i);
		ASSERT_EQ(0, fsconfig(fc, FSCONFIG_SET_STRING, "lowerdir+", self->opts, 0));
	}
	snprintf(self->opts, sizeof(self->opts), "%d", MAX_LAYERS);
	ASSERT_EQ(-1, fsconfig(fc, FSCONFIG_SET_STRING, "lowerdir+", self->opts, 0));
	ASSERT_EQ(EINVAL, errno);
	close(fc);
}

/* Data-only layers are metacopy's: rsunion has none, and says so. */
TEST_F(options, refuses_datadir_add)
{
	snprintf(self->opts, sizeof(self->opts), "lowerdir+=%s/a,datadir+=%s/b",
		 self->dir, self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "datadir+: data-only layers need metacopy");
}

/* A lowerdir+ name is taken as it is: no escapes, ':' is a character. */
TEST_F(options, lowerdir_add_takes_names_unescaped)
{
	char odd[128], b[128];
	const char *dirs[] = { odd, b };
	int fc;

	ASSERT_EQ(0, make_odd_layers(self->dir));
	snprintf(odd, sizeof(odd), "%s/l:1,x", self->dir);
	snprintf(b, sizeof(b), "%s/b", self->dir);
	fc = fsopen_lowers(dirs, 2);
	ASSERT_LE(0, fc) TH_LOG("lowerdir+ %s: %s", odd, strerror(errno));
	ASSERT_EQ(0, fsmount_at(fc, self->mnt)) TH_LOG("mount: %s", strerror(errno));
	ASSERT_CONTENT("x.log", "x.log of l:1,x\n");
}

/* The union's id (si=) and its branch files. */

/* The si= of the union at MNT, or 0. */
static unsigned long long union_id(const char *mnt)
{
	char opts[8192];
	const char *p;

	if (mount_options(mnt, opts, sizeof(opts)))
		return 0;
	p = strstr(opts, ",si=");
	return p ? strtoull(p + 4, NULL, 16) : 0;
}

/* The content of /sys/fs/rsunion/si_<ID>/<FILE> into OUT; -1 if none. */
static int branch_file(unsigned long long id, const char *file, char *out, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/fs/rsunion/si_%llx/%s", id, file);
	return slurp(path, out, size);
}

/* Branch file FILE of union ID reads "<scratch>/LAYER=MARK\n". */
#define ASSERT_BRANCH(id, file, layer, mark) do { \
	char want[256]; \
	ASSERT_EQ(0, branch_file((id), (file), self->buf, sizeof(self->buf))) \
		TH_LOG("%s: %s", (file), strerror(errno)); \
	snprintf(want, sizeof(want), "%s/%s=%s\n", self->dir, (layer), (mark)); \
	ASSERT_STREQ(want, self->buf); \
} while (0)

TEST_F(options, proc_mounts_shows_a_union_id_per_mount)
{
	char second[128];
	unsigned long long first_id, second_id;

	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/a:%s/b", self->dir, self->dir);
	MOUNT_OK(self->opts);
	snprintf(second, sizeof(second), "%s/second", self->dir);
	ASSERT_EQ(0, mkdir(second, 0755));
	ASSERT_EQ(0, mount("none", second, "rsunion", 0, self->opts));
	first_id = union_id(self->mnt);
	second_id = union_id(second);
	umount2(second, MNT_DETACH);
	ASSERT_NE(0, first_id);
	ASSERT_NE(0, second_id);
	ASSERT_NE(first_id, second_id);
}

/* As aufs's /sys/fs/aufs/si_<id>/br<N>: the path and =rw or =ro, top first. */
TEST_F(options, sysfs_lists_branches_top_first)
{
	unsigned long long id;

	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir=%s/a:%s/b,upperdir=%s/u,workdir=%s/w",
		 self->dir, self->dir, self->dir, self->dir);
	MOUNT_OK(self->opts);
	id = union_id(self->mnt);
	ASSERT_NE(0, id);
	ASSERT_BRANCH(id, "br0", "u", "rw");
	ASSERT_BRANCH(id, "br1", "a", "ro");
	ASSERT_BRANCH(id, "br2", "b", "ro");
	ASSERT_EQ(-1, branch_file(id, "br3", self->buf, sizeof(self->buf)));
	ASSERT_EQ(ENOENT, errno);
}

TEST_F(options, sysfs_lists_aufs_branches)
{
	unsigned long long id;

	snprintf(self->opts, sizeof(self->opts), "br=%s/c=ro:%s/a", self->dir, self->dir);
	MOUNT_OK(self->opts);
	id = union_id(self->mnt);
	ASSERT_BRANCH(id, "br0", "c", "ro");
	ASSERT_BRANCH(id, "br1", "a", "ro");
}

/* Read-only, even for root; gone with the superblock, not before. */
TEST_F(options, sysfs_branch_files_are_read_only_and_go_with_the_union)
{
	char path[128];
	unsigned long long id;
	int fd;

	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/a:%s/b", self->dir, self->dir);
	MOUNT_OK(self->opts);
	id = union_id(self->mnt);
	snprintf(path, sizeof(path), "/sys/fs/rsunion/si_%llx/br0", id);
	ASSERT_EQ(-1, open(path, O_WRONLY));
	ASSERT_EQ(EACCES, errno);
	/* A file open in the detached union keeps its superblock. */
	fd = open(in_dir(self->mnt, "a.log"), O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, umount2(self->mnt, MNT_DETACH));
	ASSERT_EQ(0, access(path, R_OK));
	close(fd);
	ASSERT_EQ(-1, access(path, F_OK));
	ASSERT_EQ(ENOENT, errno);
	snprintf(path, sizeof(path), "/sys/fs/rsunion/si_%llx", id);
	ASSERT_EQ(-1, access(path, F_OK));
}

/* Refusals through mount(2). */

TEST_F(options, refuses_unknown_option)
{
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/a:%s/b,frobnicate=1",
		 self->dir, self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "unknown mount option 'frobnicate'");
}

TEST_F(options, refuses_empty_lowerdir)
{
	ASSERT_REFUSED("lowerdir=", EINVAL, "");
}

TEST_F(options, refuses_empty_br)
{
	ASSERT_REFUSED("br=", EINVAL, "");
}

TEST_F(options, refuses_empty_entry_in_lowerdir)
{
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/a::%s/b",
		 self->dir, self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "");
}

TEST_F(options, refuses_empty_entry_in_br)
{
	snprintf(self->opts, sizeof(self->opts), "br=%s/a::%s/b",
		 self->dir, self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "");
}

TEST_F(options, refuses_missing_path)
{
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/a:%s/nonexistent",
		 self->dir, self->dir);
	ASSERT_REFUSED(self->opts, ENOENT, "cannot resolve");
}

/* \000 cannot stand in a path: refused like any other bad option. */
TEST_F(options, refuses_octal_escaped_nul)
{
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/a\\000:%s/b",
		 self->dir, self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "");
}

TEST_F(options, refuses_non_directory)
{
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/a:%s/f",
		 self->dir, self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "is not a directory");
}

TEST_F(options, refuses_upperdir_without_workdir)
{
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/a:%s/b,upperdir=%s/u",
		 self->dir, self->dir, self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "");
}

TEST_F(options, refuses_workdir_without_upperdir)
{
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/a:%s/b,workdir=%s/w",
		 self->dir, self->dir, self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "");
}

TEST_F(options, refuses_upper_and_work_on_different_filesystems)
{
	ASSERT_EQ(0, mkdir(in_dir(self->dir, "other"), 0755));
	ASSERT_EQ(0, mount("other", in_dir(self->dir, "other"), "tmpfs", 0, NULL));
	ASSERT_EQ(0, mkdir(in_dir(self->dir, "other/w"), 0755));
	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir=%s/a:%s/b,upperdir=%s/u,workdir=%s/other/w",
		 self->dir, self->dir, self->dir, self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "");
}

TEST_F(options, refuses_workdir_inside_upperdir)
{
	ASSERT_EQ(0, mkdir(in_dir(self->dir, "u/w"), 0755));
	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir=%s/a:%s/b,upperdir=%s/u,workdir=%s/u/w",
		 self->dir, self->dir, self->dir, self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "");
}

TEST_F(options, refuses_upperdir_inside_workdir)
{
	ASSERT_EQ(0, mkdir(in_dir(self->dir, "w/u"), 0755));
	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir=%s/a:%s/b,upperdir=%s/w/u,workdir=%s/w",
		 self->dir, self->dir, self->dir, self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "");
}

TEST_F(options, refuses_same_upperdir_and_workdir)
{
	snprintf(self->opts, sizeof(self->opts),
		 "lowerdir=%s/a:%s/b,upperdir=%s/u,workdir=%s/u",
		 self->dir, self->dir, self->dir, self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "");
}

TEST_F(options, refuses_lowerdir_then_br)
{
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/a:%s/b,br=%s/c:%s/b",
		 self->dir, self->dir, self->dir, self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "");
}

TEST_F(options, refuses_dirs_then_lowerdir)
{
	snprintf(self->opts, sizeof(self->opts), "dirs=%s/a:%s/b,lowerdir=%s/c:%s/b",
		 self->dir, self->dir, self->dir, self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "");
}

/* With the aufs syntax there is no workdir option. */
TEST_F(options, refuses_workdir_with_br)
{
	snprintf(self->opts, sizeof(self->opts), "br=%s/u=rw:%s/a,workdir=%s/w",
		 self->dir, self->dir, self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "");
}

TEST_F(options, refuses_no_layers)
{
	bool logged;

	ASSERT_EQ(EINVAL, mount_refused(self->mnt, NULL, "", &logged));
	ASSERT_TRUE(logged);
}

TEST_F(options, refuses_single_lowerdir_without_upper)
{
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/a", self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "");
}

TEST_F(options, refuses_single_ro_branch)
{
	snprintf(self->opts, sizeof(self->opts), "br=%s/a=ro", self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "");
}

TEST_F(options, refuses_upperdir_without_lowerdir)
{
	snprintf(self->opts, sizeof(self->opts), "upperdir=%s/u,workdir=%s/w",
		 self->dir, self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "");
}

TEST_F(options, refuses_single_rw_branch)
{
	snprintf(self->opts, sizeof(self->opts), "br=%s/u", self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "");
}

TEST_F(options, refuses_rw_on_non_leftmost_branch)
{
	snprintf(self->opts, sizeof(self->opts), "br=%s/u:%s/a=rw:%s/b",
		 self->dir, self->dir, self->dir);
	ASSERT_REFUSED(self->opts, EINVAL, "");
}

TEST_HARNESS_MAIN
