// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile input: malformed mount option strings, hand-written and
 * generated from a fixed-seed PRNG, through mount(2) and through
 * fsopen/fsconfig, and malformed layer trees. Whatever comes in, rsunion
 * either refuses the mount with an errno and a "rsunion: " line in dmesg,
 * or mounts a sane union: it lists, stats and reads without error, shows
 * no ".wh." name, and unmounts. Never an oops or a hang (selftests/run
 * checks the kernel log). Where in-tree overlayfs has an opinion on the
 * same tree, the union is compared with an overlay mount of it. Last, the
 * module still unloads: nothing was left mounted or referenced.
 *
 * Every test runs in a scratch tmpfs that is also its cwd, so option
 * strings name layers relatively: a, b, c (lower), u (upper), w (work).
 */
#include <stdarg.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

#define RSUNION_MAGIC	0x72737531
/* FSCONFIG_CMD_CREATE_EXCL (6.6), newer than glibc's enum. */
#define CMD_CREATE_EXCL	8
/* Refused with any errno (and a rsunion: line), or mounted sane. */
#define ANY		-1

/* S with non-printable bytes and backslashes as \xNN, for log lines. */
static const char *show(const char *s)
{
	static char out[2][600];
	static int next;
	char *buf = out[next++ % 2];
	size_t n = 0;

	for (; *s && n + 8 < sizeof(out[0]); s++) {
		unsigned char c = *s;

		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[n++] = c;
		else
			n += snprintf(buf + n, sizeof(out[0]) - n, "\\x%02x", c);
	}
	if (*s)
		n += snprintf(buf + n, sizeof(out[0]) - n, "...");
	buf[n] = '\0';
	return buf;
}

/* Says in WHY (SIZE) what went wrong; -1. */
static int __attribute__((format(printf, 3, 4)))
fail(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -1;
}

/* As fail(), for the oracles: false. */
#define wrong(...) (fail(__VA_ARGS__) == 0)

/*
 * Reads directory PATH and DEPTH levels below it: each listed name
 * lstat()s, no ".wh." name shows, "." and ".." come once each, regular
 * files read. *BUDGET bounds the entries visited. 0, or -1 with WHY.
 */
static int walk(const char *path, int depth, int *budget, char *why, size_t size)
{
	char sub[PATH_MAX], data[4096];
	int dots = 0, dotdots = 0, ret = 0, fd;
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(path);

	if (!d)
		return fail(why, size, "opendir %s: %s", path, strerror(errno));
	for (errno = 0; !ret && (de = readdir(d)); errno = 0) {
		if (!strcmp(de->d_name, ".")) {
			dots++;
			continue;
		}
		if (!strcmp(de->d_name, "..")) {
			dotdots++;
			continue;
		}
		if (--*budget < 0)
			break;
		if (!strncmp(de->d_name, ".wh.", 4)) {
			ret = fail(why, size, "%s lists %s", path, show(de->d_name));
			break;
		}
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (lstat(sub, &st)) {
			ret = fail(why, size, "lstat %s: %s", show(sub), strerror(errno));
		} else if (S_ISDIR(st.st_mode) && depth > 0) {
			ret = walk(sub, depth - 1, budget, why, size);
		} else if (S_ISREG(st.st_mode)) {
			fd = open(sub, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || read(fd, data, sizeof(data)) < 0)
				ret = fail(why, size, "read %s: %s", show(sub), strerror(errno));
			if (fd >= 0)
				close(fd);
		}
	}
	if (!ret && errno)
		ret = fail(why, size, "readdir %s: %s", path, strerror(errno));
	if (!ret && *budget >= 0 && (dots != 1 || dotdots != 1))
		ret = fail(why, size, "%s lists . %d and .. %d times", path, dots, dotdots);
	closedir(d);
	return ret;
}

/*
 * Is the union at MNT sane? It is an rsunion mount (statfs, and a line in
 * /proc/self/mountinfo, whose show_options must read back), and its tree
 * walks cleanly two levels down. 0, or -1 with WHY.
 */
static int union_sane(const char *mnt, char *why, size_t size)
{
	char *line = NULL, want[PATH_MAX];
	struct statfs sfs;
	bool listed = false;
	int budget = 2000;
	size_t cap = 0;
	FILE *f;

	if (statfs(mnt, &sfs))
		return fail(why, size, "statfs: %s", strerror(errno));
	if (sfs.f_type != RSUNION_MAGIC)
		return fail(why, size, "f_type %#lx", (unsigned long)sfs.f_type);
	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return fail(why, size, "mountinfo: %s", strerror(errno));
	snprintf(want, sizeof(want), " %s ", mnt);
	errno = 0;
	while (getline(&line, &cap, f) > 0)
		listed |= strstr(line, want) && strstr(line, " - rsunion ");
	if (errno)
		listed = false;
	free(line);
	fclose(f);
	if (!listed)
		return fail(why, size, "not in /proc/self/mountinfo");
	return walk(mnt, 2, &budget, why, size);
}

/*
 * The oracle for one option string through mount(2) at MNT. WANT: 0 (it
 * must mount a sane union), an errno (it must be refused with it) or ANY
 * (either). On a refusal dmesg must have a "rsunion: " line containing
 * NEEDLE, unless NEEDLE is NULL: the VFS refuses some strings before
 * rsunion sees them. A mounted union is unmounted. False with WHY when
 * the outcome is wrong.
 */
static bool check_mount(const char *mnt, const char *opts, int want,
			const char *needle, char *why, size_t size)
{
	int kmsg = kmsg_mark(), err = 0;
	bool logged, sane;

	if (kmsg < 0)
		return wrong(why, size, "/dev/kmsg: %s", strerror(errno));
	if (mount("none", mnt, "rsunion", 0, opts))
		err = errno;
	logged = kmsg_has(kmsg, needle ? needle : "");
	if (!err) {
		sane = union_sane(mnt, why, size) == 0;
		if (umount(mnt))
			return wrong(why, size, "umount: %s", strerror(errno));
		if (sane && want > 0)
			fail(why, size, "mounted; expected errno %d", want);
		return sane && want <= 0;
	}
	if (want == 0)
		return wrong(why, size, "refused: %s", strerror(err));
	if (want > 0 && err != want)
		return wrong(why, size, "errno %d (%s); expected %d (%s)", err,
				strerror(err), want, strerror(want));
	if (needle && !logged)
		return wrong(why, size, "errno %d but no 'rsunion: ...%s' line",
				err, needle);
	return true;
}

/* Cuts the next option off *S at the first comma no backslash escapes,
 * as rsunion splits mount(2)'s string. */
static char *next_opt(char **s)
{
	char *begin = *s, *p;

	if (!begin)
		return NULL;
	for (p = begin; *p; p++) {
		if (*p == '\\') {
			if (!*++p)
				break;
		} else if (*p == ',') {
			*p = '\0';
			*s = p + 1;
			return begin;
		}
	}
	*s = NULL;
	return begin;
}

/*
 * The same oracle (with ANY) through the new mount API: OPTS split as
 * mount(2) splits it, each option set with fsconfig(), then
 * FSCONFIG_CMD_CREATE, fsmount() and move_mount() to MNT. fsconfig()
 * copies keys and strings of 256 bytes or more from user space with
 * EINVAL, and a second or non-string "source" is the VFS's to refuse:
 * no rsunion: line then.
 */
static bool check_fsconfig(const char *mnt, const char *opts, char *why, size_t size)
{
	char *copy = strdup(opts), *rest = copy, *key, *val;
	int fc, mfd, kmsg, err = 0;
	bool vfs = false, sane;

	fc = fsopen("rsunion", FSOPEN_CLOEXEC);
	kmsg = kmsg_mark();
	if (!copy || fc < 0 || kmsg < 0) {
		free(copy);
		return wrong(why, size, "setup: %s", strerror(errno));
	}
	while (!err && (key = next_opt(&rest))) {
		val = strchr(key, '=');
		if (!*key || val == key)
			continue; /* mount(2) skips these too */
		if (val)
			*val++ = '\0';
		vfs = strlen(key) > 255 || (val && strlen(val) > 255) ||
		      !strcmp(key, "source");
		if (val ? fsconfig(fc, FSCONFIG_SET_STRING, key, val, 0) :
			  fsconfig(fc, FSCONFIG_SET_FLAG, key, NULL, 0))
			err = errno;
	}
	free(copy);
	if (!err) {
		vfs = false;
		if (fsconfig(fc, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
			err = errno;
	}
	if (!kmsg_has(kmsg, "") && err && !vfs) {
		close(fc);
		return wrong(why, size, "errno %d but no rsunion: line", err);
	}
	if (err) {
		close(fc);
		return true;
	}
	mfd = fsmount(fc, FSMOUNT_CLOEXEC, 0);
	close(fc);
	if (mfd < 0)
		return wrong(why, size, "fsmount: %s", strerror(errno));
	err = move_mount(mfd, "", AT_FDCWD, mnt, MOVE_MOUNT_F_EMPTY_PATH);
	close(mfd);
	if (err)
		return wrong(why, size, "move_mount: %s", strerror(errno));
	sane = union_sane(mnt, why, size) == 0;
	if (umount(mnt))
		return wrong(why, size, "umount: %s", strerror(errno));
	return sane;
}

FIXTURE(hostile) {
	char dir[64];
	char mnt[128];
	char ovl[128];
	char why[1024];
	char opts[8192];
	char rs[16384];
	char ov[16384];
};

/*
 * In the scratch tmpfs, which is also the cwd: lower layers a, b, c, an
 * upper u and a work dir w, a file f, a dir w2/sub, odd names (p:q,
 * "s p", x=rw), a symlink lnk -> a, a symlink loop, and the mount points
 * mnt (rsunion) and ovl (overlayfs).
 */
FIXTURE_SETUP(hostile)
{
	ASSERT_EQ(0, rsunion_ensure_loaded()) TH_LOG("load: %s", strerror(errno));
	ASSERT_EQ(0, scratch_get(self->dir));
	ASSERT_EQ(0, chdir(self->dir));
	snprintf(self->mnt, sizeof(self->mnt), "%s/mnt", self->dir);
	snprintf(self->ovl, sizeof(self->ovl), "%s/ovl", self->dir);
	ASSERT_EQ(0, mkdirs("mnt"));
	ASSERT_EQ(0, mkdirs("ovl"));
	ASSERT_EQ(0, mkfile("a/a.log", "a.log of a\n"));
	ASSERT_EQ(0, mkfile("a/x.log", "x.log of a\n"));
	ASSERT_EQ(0, mkdirs("a/sub"));
	ASSERT_EQ(0, mkfile("b/b.log", "b.log of b\n"));
	ASSERT_EQ(0, mkfile("b/x.log", "x.log of b\n"));
	ASSERT_EQ(0, mkfile("b/sub/in_b", "in_b\n"));
	ASSERT_EQ(0, mkfile("c/c.log", "c.log of c\n"));
	ASSERT_EQ(0, mkfile("u/u.log", "u.log of u\n"));
	ASSERT_EQ(0, mkdirs("u/sub"));
	ASSERT_EQ(0, mkdirs("w"));
	ASSERT_EQ(0, mkdirs("w2/sub"));
	ASSERT_EQ(0, write_file("f", "a file\n"));
	ASSERT_EQ(0, mkfile("p:q/pq.log", "pq\n"));
	ASSERT_EQ(0, mkdirs("s p"));
	ASSERT_EQ(0, mkfile("x=rw/xrw.log", "xrw\n"));
	ASSERT_EQ(0, symlink("a", "lnk"));
	ASSERT_EQ(0, symlink("loop", "loop"));
}

FIXTURE_TEARDOWN(hostile)
{
	int i;

	if (chdir("/"))
		TH_LOG("chdir /: %s", strerror(errno));
	/* Unions may be stacked on mnt. */
	for (i = 0; i < 4; i++)
		umount2(self->mnt, MNT_DETACH);
	umount2(self->ovl, MNT_DETACH);
	scratch_put(self->dir);
}

/*
 * Option strings through mount(2), hand-written. /dev/kmsg shows a
 * backslash in a record as \x5c, so needles quoting one say so.
 */

static const struct option_case {
	const char *opts;
	int want;
	const char *needle;
} option_cases[] = {
	/* Empty values and nothing but separators. */
	{ "lowerdir=", EINVAL, "'lowerdir' needs a non-empty value" },
	{ "lowerdir", EINVAL, "'lowerdir' needs a non-empty value" },
	{ "upperdir=", EINVAL, "'upperdir' needs a non-empty value" },
	{ "workdir", EINVAL, "'workdir' needs a non-empty value" },
	{ "br=", EINVAL, "'br' needs a non-empty value" },
	{ "dirs", EINVAL, "'dirs' needs a non-empty value" },
	{ "lowerdir=:", EINVAL, "lowerdir: empty directory name" },
	{ "lowerdir=::", EINVAL, "lowerdir: empty directory name" },
	{ "lowerdir=::::::::", EINVAL, "lowerdir: empty directory name" },
	/* overlayfs's data-only layers: rsunion has none (README). */
	{ "lowerdir=a::b", EINVAL, "lowerdir: empty directory name" },
	{ "lowerdir=a:b::c", EINVAL, "lowerdir: empty directory name" },
	{ "lowerdir=:a:b", EINVAL, "lowerdir: empty directory name" },
	{ "lowerdir=a:b:", EINVAL, "lowerdir: empty directory name" },
	{ "br=:", EINVAL, "br: empty directory name" },
	{ "dirs=a::b", EINVAL, "dirs: empty directory name" },
	{ "br=a:b:", EINVAL, "br: empty directory name" },
	{ "br=:a=ro:b", EINVAL, "br: empty directory name" },
	/* The VFS drops empty options and "=value" before rsunion sees them. */
	{ "", EINVAL, "no layers" },
	{ ",", EINVAL, "no layers" },
	{ ",,,,,,", EINVAL, "no layers" },
	{ "=", EINVAL, "no layers" },
	{ "=a:b", EINVAL, "no layers" },
	{ "lowerdir=a:b,", 0, NULL },
	{ ",lowerdir=a:b", 0, NULL },
	{ ",,lowerdir=a:b,,,", 0, NULL },
	{ "lowerdir=a:b,=x", 0, NULL },
	/* Backslashes: trailing, escaping separators, octal or not. */
	{ "lowerdir=a:b\\", ENOENT, "cannot resolve 'b\\x5c'" },
	{ "lowerdir=\\", ENOENT, "lowerdir: cannot resolve '\\x5c'" },
	{ "lowerdir=\\\\:a", ENOENT, "lowerdir: cannot resolve '\\x5c'" },
	{ "lowerdir=a\\:b", ENOENT, "cannot resolve 'a:b'" },
	{ "lowerdir=a\\,b", ENOENT, "cannot resolve 'a,b'" },
	{ "lowerdir=a\\", ENOENT, "cannot resolve 'a\\x5c'" },
	{ "lowerdir=p\\:q:b", 0, NULL },
	{ "lowerdir=p\\072q:b", 0, NULL },
	{ "lowerdir=\\141:\\142", 0, NULL },	/* \141 is a, \142 is b */
	{ "lowerdir=\\a:\\b", 0, NULL },		/* \c is c */
	{ "lowerdir=s\\040p:b", 0, NULL },
	{ "lowerdir=a\\000:b", EINVAL, "cannot contain NUL" },
	{ "lowerdir=\\000", EINVAL, "cannot contain NUL" },
	{ "lowerdir=a:\\000b", EINVAL, "cannot contain NUL" },
	{ "lowerdir=a:b\\0", ENOENT, "cannot resolve 'b0'" },
	{ "lowerdir=a:b\\00", ENOENT, "cannot resolve 'b00'" },
	{ "lowerdir=a\\08:b", ENOENT, "cannot resolve 'a08'" },
	{ "lowerdir=a\\9:b", ENOENT, "cannot resolve 'a9'" },
	{ "lowerdir=a\\x41:b", ENOENT, "cannot resolve 'ax41'" },
	{ "lowerdir=a\\400:b", EINVAL, "" },
	{ "lowerdir=a\\777:b", ENOENT, "cannot resolve" },
	{ "lowerdir=a\\\\\\:b", ENOENT, "cannot resolve 'a\\x5c:b'" },
	/* Paths that do not resolve, or not to directories. */
	{ "lowerdir=nonexistent:b", ENOENT, "lowerdir: cannot resolve 'nonexistent': error -2" },
	{ "lowerdir=a:nonexistent/a", ENOENT, "cannot resolve 'nonexistent/a'" },
	{ "lowerdir=f:b", EINVAL, "lowerdir: 'f' is not a directory" },
	{ "lowerdir=a:f", EINVAL, "lowerdir: 'f' is not a directory" },
	{ "lowerdir=a:f/", ENOTDIR, "cannot resolve 'f/'" },
	{ "lowerdir=a:f/x", ENOTDIR, "cannot resolve 'f/x'" },
	{ "lowerdir=/dev/null:a", EINVAL, "'/dev/null' is not a directory" },
	{ "lowerdir=loop:a", ELOOP, "cannot resolve 'loop': error -40" },
	{ "lowerdir=a:loop/x", ELOOP, "cannot resolve 'loop/x'" },
	{ "lowerdir=lnk:b", 0, NULL },	/* a symlink to a directory is followed */
	{ "lowerdir= a:b", ENOENT, "cannot resolve ' a'" },
	{ "lowerdir=a :b", ENOENT, "cannot resolve 'a '" },
	{ "lowerdir=a\t:b", ENOENT, "cannot resolve" },
	{ "lowerdir=a\n:b", ENOENT, "cannot resolve" },
	{ "lowerdir=a:b\x01", ENOENT, "cannot resolve" },
	{ "lowerdir=\xff\xfe:b", ENOENT, "cannot resolve" },
	{ "lowerdir=s p:b", 0, NULL },
	{ "lowerdir=a/:b//", 0, NULL },
	{ "lowerdir=a/../b:a/./.", 0, NULL },
	{ "lowerdir=mnt:a", 0, NULL },	/* the mount point itself, below the union */
	/* Too few layers. */
	{ "lowerdir=a", EINVAL, "a read-only union needs at least two layers" },
	{ "br=a=ro", EINVAL, "a read-only union needs at least two layers" },
	{ "br=a", EINVAL, "a writable layer needs at least one read-only layer below it" },
	{ "br=u=rw", EINVAL, "a writable layer needs at least one read-only layer" },
	{ "upperdir=u,workdir=w", EINVAL, "a writable layer needs at least one read-only layer" },
	{ "upperdir=u", EINVAL, "a writable layer needs at least one read-only layer" },
	{ "workdir=w", EINVAL, "no layers" },
	{ "whiteout=aufs", EINVAL, "no layers" },
	/* Upper and work directories that do not go together. */
	{ "lowerdir=a:b,upperdir=u", EINVAL, "upperdir needs workdir" },
	{ "lowerdir=a,upperdir=u", EINVAL, "upperdir needs workdir" },
	{ "lowerdir=a:b,workdir=w", EINVAL, "workdir needs upperdir" },
	{ "lowerdir=a,upperdir=u,workdir=u", EINVAL, "workdir and upperdir must be separate subtrees" },
	{ "lowerdir=a,upperdir=u,workdir=u/./", EINVAL, "must be separate subtrees" },
	{ "lowerdir=a,upperdir=u,workdir=u/sub", EINVAL, "must be separate subtrees" },
	{ "lowerdir=a,upperdir=w2/sub,workdir=w2", EINVAL, "must be separate subtrees" },
	{ "lowerdir=a,upperdir=u,workdir=/proc", EINVAL, "workdir and upperdir must be on the same filesystem" },
	{ "lowerdir=a,upperdir=/proc,workdir=w", EINVAL, "must be on the same filesystem" },
	{ "lowerdir=a,upperdir=u,workdir=f", EINVAL, "workdir: 'f' is not a directory" },
	{ "lowerdir=a,upperdir=f,workdir=w", EINVAL, "upperdir: 'f' is not a directory" },
	{ "lowerdir=a,upperdir=u,workdir=nonexistent", ENOENT, "workdir: cannot resolve" },
	{ "lowerdir=a,upperdir=u,workdir=w", 0, NULL },
	{ "upperdir=u,workdir=w,lowerdir=a:b", 0, NULL },
	/* Repeated options: the last one counts. */
	{ "lowerdir=a:b,lowerdir=c", EINVAL, "a read-only union needs at least two layers" },
	{ "lowerdir=c,lowerdir=a:b", 0, NULL },
	{ "lowerdir=nonexistent,lowerdir=a:b", ENOENT, "cannot resolve 'nonexistent'" },
	{ "lowerdir=a,upperdir=c,upperdir=u,workdir=w", 0, NULL },
	{ "br=a:b,br=c", EINVAL, "a writable layer needs at least one read-only layer" },
	{ "br=c,dirs=a:b", 0, NULL },
	{ "whiteout=aufs,whiteout=overlay,lowerdir=a:b", 0, NULL },
	/* The two syntaxes do not mix. */
	{ "lowerdir=a:b,br=a:b", EINVAL, "'br' mixes aufs options" },
	{ "br=a:b,lowerdir=a:b", EINVAL, "'lowerdir' mixes aufs options" },
	{ "dirs=a:b,upperdir=u", EINVAL, "'upperdir' mixes aufs options" },
	{ "br=u:a,workdir=w", EINVAL, "'workdir' mixes aufs options" },
	{ "lowerdir=a:b,dirs=a", EINVAL, "'dirs' mixes aufs options" },
	{ "whiteout=overlay,br=u:a", 0, NULL },
	/* aufs branch marks: only =rw and =ro, only the leftmost rw. */
	{ "br=a=rx:b", ENOENT, "br: cannot resolve 'a=rx'" },
	{ "br=a=rw=ro:b", ENOENT, "br: cannot resolve 'a=rw'" },
	{ "br=a=:b", ENOENT, "br: cannot resolve 'a='" },
	{ "br=a==ro:b", ENOENT, "br: cannot resolve 'a='" },
	{ "br==rw:b", EINVAL, "br: empty directory name" },
	{ "br==ro:b", EINVAL, "br: empty directory name" },
	{ "br==:b", ENOENT, "br: cannot resolve '='" },
	{ "br=a=RW:b", ENOENT, "br: cannot resolve 'a=RW'" },
	{ "br=a=rw :b", ENOENT, "br: cannot resolve 'a=rw '" },
	{ "br=a:b=rw", EINVAL, "br: only the leftmost branch can be writable (=rw)" },
	{ "br=u=rw:a=rw", EINVAL, "only the leftmost branch can be writable" },
	{ "dirs=u:a:b=rw", EINVAL, "dirs: only the leftmost branch can be writable" },
	{ "br=a=ro:b=ro:c=ro", 0, NULL },
	{ "br=u=rw:a=ro:b", 0, NULL },
	/* An escaped '=' is part of the name, not a mark. */
	{ "br=x\\=rw=ro:b", 0, NULL },
	{ "br=b=ro:x\\=rw", 0, NULL },
	{ "br=x\\075rw=ro:b", 0, NULL },
	{ "br=a\\\\=ro:b", ENOENT, "br: cannot resolve 'a\\x5c'" },
	/* whiteout= takes two words. */
	{ "lowerdir=a:b,whiteout", EINVAL, "whiteout= takes 'overlay' or 'aufs'" },
	{ "lowerdir=a:b,whiteout=", EINVAL, "whiteout= takes 'overlay' or 'aufs'" },
	{ "lowerdir=a:b,whiteout=garbage", EINVAL, "whiteout= takes" },
	{ "lowerdir=a:b,whiteout=AUFS", EINVAL, "whiteout= takes" },
	{ "lowerdir=a:b,whiteout=Overlay", EINVAL, "whiteout= takes" },
	{ "lowerdir=a:b,whiteout=aufs ", EINVAL, "whiteout= takes" },
	{ "lowerdir=a:b,whiteout= aufs", EINVAL, "whiteout= takes" },
	{ "lowerdir=a:b,whiteout=aufs\\", EINVAL, "whiteout= takes" },
	{ "lowerdir=a:b,whiteout=aufs:overlay", EINVAL, "whiteout= takes" },
	{ "lowerdir=a:b,whiteout=overlay=aufs", EINVAL, "whiteout= takes" },
	{ "lowerdir=a:b,whiteout=aufs,whiteout=x", EINVAL, "whiteout= takes" },
	{ "lowerdir=a:b,whiteout=aufs", 0, NULL },
	{ "br=a=ro:b,whiteout=overlay", 0, NULL },
	/* Unknown keys, case variants, overlayfs features rsunion lacks. */
	{ "LOWERDIR=a:b", EINVAL, "unknown mount option 'LOWERDIR'" },
	{ "Lowerdir=a:b", EINVAL, "unknown mount option 'Lowerdir'" },
	{ "lowerDir=a:b", EINVAL, "unknown mount option 'lowerDir'" },
	{ "lowerdir =a:b", EINVAL, "unknown mount option 'lowerdir '" },
	{ " lowerdir=a:b", EINVAL, "unknown mount option ' lowerdir'" },
	{ "lower_dir=a:b", EINVAL, "unknown mount option 'lower_dir'" },
	{ "BR=a:b", EINVAL, "unknown mount option 'BR'" },
	{ "Dirs=a:b", EINVAL, "unknown mount option 'Dirs'" },
	{ "lowerdir=a:b,WHITEOUT=aufs", EINVAL, "unknown mount option 'WHITEOUT'" },
	{ "lowerdir+=a", EINVAL, "at least two layers" },
	{ "lowerdir+=a,lowerdir+=b", 0, NULL },
	{ "lowerdir=a,lowerdir+=b", EINVAL, "lowerdir+ cannot follow lowerdir" },
	{ "lowerdir+=a:b", ENOENT, "cannot resolve 'a:b'" },
	{ "lowerdir=a,datadir+=b", EINVAL, "datadir+: data-only layers need metacopy" },
	{ "lowerdir=a:b,redirect_dir=on", EINVAL, "unknown mount option 'redirect_dir'" },
	{ "lowerdir=a:b,index=off", EINVAL, "unknown mount option 'index'" },
	{ "lowerdir=a:b,metacopy=on", EINVAL, "unknown mount option 'metacopy'" },
	{ "lowerdir=a:b,xino=auto", EINVAL, "unknown mount option 'xino'" },
	{ "lowerdir=a:b,nfs_export=off", EINVAL, "unknown mount option 'nfs_export'" },
	{ "lowerdir=a:b,userxattr", EINVAL, "unknown mount option 'userxattr'" },
	{ "lowerdir=a,upperdir=u,workdir=w,volatile", EINVAL, "unknown mount option 'volatile'" },
	{ "lowerdir=a:b,uuid=null", EINVAL, "unknown mount option 'uuid'" },
	{ "lowerdir=a:b,verity=off", EINVAL, "unknown mount option 'verity'" },
	{ "lowerdir=a:b,default_permissions", EINVAL, "unknown mount option 'default_permissions'" },
	{ "lowerdir=a:b,noatime", EINVAL, "unknown mount option 'noatime'" },
	{ "frob\\,nicate=1", EINVAL, "unknown mount option 'frob\\x5c,nicate'" },
	{ "lowerdir\\=a:b", EINVAL, "unknown mount option 'lowerdir\\x5c'" },
	{ "\\=x", EINVAL, "unknown mount option '\\x5c'" },
	{ "\x01=\x02", EINVAL, "unknown mount option" },
	/* Generic superblock flags are the VFS's, never rsunion's. */
	{ "lowerdir=a:b,ro", 0, NULL },
	{ "lowerdir=a:b,rw", 0, NULL },
	{ "lowerdir=a:b,sync,dirsync", 0, NULL },
	{ "lowerdir=a,upperdir=u,workdir=w,ro", 0, NULL },
	/* The VFS's own refusals ("VFS: Multiple sources", "VFS: Non-string
	 * source"): mount(2) already gave the source, rsunion sees neither. */
	{ "source=x,lowerdir=a:b", EINVAL, NULL },
	{ "lowerdir=a:b,source", EINVAL, NULL },
};

TEST_F(hostile, handwritten_option_strings)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(option_cases); i++) {
		const struct option_case *c = &option_cases[i];

		EXPECT_TRUE(check_mount(self->mnt, c->opts, c->want, c->needle,
					self->why, sizeof(self->why)))
			TH_LOG("'%s': %s", show(c->opts), self->why);
	}
	TH_LOG("%u hand-written option strings", i);
}

/* REPEAT copies of PIECE after PREFIX and before SUFFIX, into BUF. */
static const char *repeat(char *buf, size_t size, const char *prefix,
			  const char *piece, int times, const char *suffix)
{
	size_t len = snprintf(buf, size, "%s", prefix);

	while (times-- > 0 && len < size)
		len += snprintf(buf + len, size - len, "%s", piece);
	if (len < size)
		snprintf(buf + len, size - len, "%s", suffix);
	return buf;
}

/*
 * Long strings. mount(2) copies one page of options and cuts the rest
 * silently (at 4095 bytes), so no path over PATH_MAX reaches rsunion
 * that way, and fsconfig() takes no string over 255 bytes: the longest
 * paths come from a deep cwd (layers_deeper_than_path_max).
 */
TEST_F(hostile, long_option_strings)
{
	static const struct {
		const char *prefix, *piece;
		int times;
		const char *suffix;
		int want;
		const char *needle;
	} cases[] = {
		/* A name over NAME_MAX. */
		{ "lowerdir=", "x", 256, ":b", ENAMETOOLONG, "error -36" },
		{ "lowerdir=", "x", 255, ":b", ENOENT, "cannot resolve" },
		{ "lowerdir=a:b/", "x", 300, "", ENAMETOOLONG, "cannot resolve" },
		/* Cut at 4095 bytes: what is left still resolves, or not. */
		{ "lowerdir=", "a/", 2100, ":b", ENOENT, "cannot resolve" },
		{ "lowerdir=", "./", 2100, "a:b", EINVAL, "at least two layers" },
		{ "lowerdir=", "a/../", 900, "b", EINVAL, "at least two layers" },
		/* Over the 500-layer limit, also with one name many times. */
		{ "lowerdir=", "a:", 501, "a", EINVAL, "too many layers, the limit is 500" },
		{ "br=", "a=ro:", 501, "b=ro", EINVAL, "br: too many layers, the limit is 500" },
		{ "br=u:", "a:", 500, "b", EINVAL, "br: too many layers" },
		{ "lowerdir=", "a:b:", 1000, "", EINVAL, "too many layers" },
		/* One directory many times: overlayfs refuses a layer given
		 * twice (ELOOP), rsunion does not check (yet). */
		{ "lowerdir=", "a:", 49, "a", ANY, "" },
		/* Long keys and values rsunion does not know. The line quotes
		 * only the start: printk would cut it, newline and all. */
		{ "", "k", 4000, "=1", EINVAL, "unknown mount option 'kkkk" },
		{ "", "k", 4000, "=1", EINVAL, "kkkkkkkk...'" },
		{ "lowerdir=", "z", 3000, ":b", ENAMETOOLONG, "zzzzzzzz...': error -36" },
		{ "lowerdir=a:b,whiteout=", "aufs", 900, "", EINVAL, "whiteout= takes" },
		/* Many options; the last one cut to "lo". */
		{ "", "ro,", 1000, "lowerdir=a:b", 0, NULL },
		{ "lowerdir=c,", "lowerdir=a:b,", 400, "", EINVAL, "unknown mount option 'lo'" },
		{ "", ",", 5000, "lowerdir=a:b", EINVAL, "no layers" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		repeat(self->opts, sizeof(self->opts), cases[i].prefix, cases[i].piece,
		       cases[i].times, cases[i].suffix);
		EXPECT_TRUE(check_mount(self->mnt, self->opts, cases[i].want,
					cases[i].needle, self->why, sizeof(self->why)))
			TH_LOG("case %u ('%s'...): %s", i, show(self->opts), self->why);
	}
}

/* Generated option strings. */

/* xorshift64: a fixed seed makes every run try the same strings. */
static uint64_t rng_state;

static unsigned int rnd(unsigned int n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (rng_state >> 32) % n;
}

static const char *const gen_keys[] = {
	"lowerdir", "lowerdir", "lowerdir", "upperdir", "workdir", "br", "dirs",
	"whiteout", "lowerdir+", "LOWERDIR", "ro", "index", "",
};

/*
 * Nothing outside the scratch directory but /dev/null: a union over /proc
 * would have the walk read /proc/kmsg, which blocks.
 */
static const char *const gen_items[] = {
	"a", "b", "c", "u", "w", "f", "lnk", "loop", "nonexistent", "", ".",
	"a/..", "a/", "./b", "w/../a", "u/sub", "w2/sub", "w2", "mnt", "p\\:q",
	"p\\072q", "s p", "x\\=rw", "a=rw", "b=ro", "u=rw", "c=ro", "=", "=rw",
	"\\", "a\\", "\\000", "\\0", "\\377", "\\,", ",", "aufs", "overlay",
	"\x01", "\xff", " a", "a\n", "/dev/null", "/proc/self/cwd/a",
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
};

/* Starts that mount, so that what follows them gets a say too. */
static const char *const gen_bases[] = {
	"lowerdir=a:b", "lowerdir=a:b:c,upperdir=u,workdir=w", "br=u:a=ro:b",
	"dirs=a=ro:b=ro",
};

/*
 * One to four options from the pieces above (a quarter of them after a
 * start that mounts), keys with values of one to four items or bare.
 */
static const char *gen_options(char *buf, size_t size)
{
	int n = 1 + rnd(4), i, j, items;
	size_t len = 0;

	buf[0] = '\0';
	if (!rnd(4))
		len = snprintf(buf, size, "%s,", gen_bases[rnd(ARRAY_SIZE(gen_bases))]);
	for (i = 0; i < n && len < size; i++) {
		len += snprintf(buf + len, size - len, "%s%s", i ? "," : "",
				gen_keys[rnd(ARRAY_SIZE(gen_keys))]);
		if (!rnd(8))
			continue;
		items = 1 + rnd(4);
		for (j = 0; j < items && len < size; j++)
			len += snprintf(buf + len, size - len, "%s%s", j ? ":" : "=",
					gen_items[rnd(ARRAY_SIZE(gen_items))]);
	}
	return buf;
}

/*
 * Would a log line quoting S look like a kernel failure to selftests/run?
 * Random strings that would are skipped.
 */
static bool alarming(const char *s)
{
	static const char *const words[] = {
		"BUG", "WARNING", "Oops", "general protection", "UBSAN", "KASAN",
		"refcount", "panic", "Busy", "in use",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (strstr(s, words[i]))
			return true;
	return false;
}

/* LEN random bytes from LO to HI, NUL-terminated, into BUF. */
static const char *gen_bytes(char *buf, int len, int lo, int hi)
{
	int i;

	do {
		for (i = 0; i < len; i++)
			buf[i] = lo + rnd(hi - lo + 1);
		buf[len] = '\0';
	} while (alarming(buf));
	return buf;
}

TEST_F(hostile, generated_option_strings_through_mount)
{
	int i;

	rng_state = 0x5eed0001;
	for (i = 0; i < 150; i++) {
		gen_options(self->opts, sizeof(self->opts));
		EXPECT_TRUE(check_mount(self->mnt, self->opts, ANY, "",
					self->why, sizeof(self->why)))
			TH_LOG("#%d '%s': %s", i, show(self->opts), self->why);
	}
}

TEST_F(hostile, generated_option_strings_through_fsconfig)
{
	int i;

	rng_state = 0x5eed0002;
	for (i = 0; i < 60; i++) {
		gen_options(self->opts, sizeof(self->opts));
		EXPECT_TRUE(check_fsconfig(self->mnt, self->opts, self->why, sizeof(self->why)))
			TH_LOG("#%d '%s': %s", i, show(self->opts), self->why);
	}
}

/* Random printable, then random non-printable-too bytes (no NUL). */
TEST_F(hostile, random_bytes_through_mount_and_fsconfig)
{
	int i;

	rng_state = 0x5eed0003;
	for (i = 0; i < 120; i++) {
		if (i < 60)
			gen_bytes(self->opts, 1 + rnd(80), ' ', '~');
		else
			gen_bytes(self->opts, 1 + rnd(80), 1, 255);
		EXPECT_TRUE(check_mount(self->mnt, self->opts, ANY, "",
					self->why, sizeof(self->why)))
			TH_LOG("#%d '%s': %s", i, show(self->opts), self->why);
		if (i % 4 == 0) {
			EXPECT_TRUE(check_fsconfig(self->mnt, self->opts, self->why,
						   sizeof(self->why)))
				TH_LOG("#%d fsconfig '%s': %s", i, show(self->opts), self->why);
		}
	}
}

/* The new mount API, misused. */

/*
 * One fsconfig() call that must fail with WANT, with a rsunion: line
 * containing NEEDLE, or with none required (NULL) where the VFS refuses
 * before rsunion sees the call.
 */
static bool check_fsconfig_call(int fc, unsigned int cmd, const char *key,
				const void *value, int aux, int want,
				const char *needle, char *why, size_t size)
{
	int kmsg = kmsg_mark(), err = 0;
	bool logged;

	if (kmsg < 0)
		return wrong(why, size, "/dev/kmsg: %s", strerror(errno));
	if (fsconfig(fc, cmd, key, value, aux))
		err = errno;
	logged = kmsg_has(kmsg, needle ? needle : "");
	if (err != want)
		return wrong(why, size, "errno %d (%s); expected %d (%s)", err,
				strerror(err), want, strerror(want));
	if (needle && !logged)
		return wrong(why, size, "no 'rsunion: ...%s' line", needle);
	return true;
}

#define FSCONFIG_GIVES(fc, cmd, key, value, aux, want, needle) \
	EXPECT_TRUE(check_fsconfig_call((fc), (cmd), (key), (value), (aux), \
					(want), (needle), self->why, \
					sizeof(self->why))) \
		TH_LOG("fsconfig(%s, %s): %s", #cmd, #key, self->why)

/* fsmount() what FC created and move it to MNT: 0 or an errno. */
static int fsmount_at(int fc, const char *mnt)
{
	int mfd = fsmount(fc, FSMOUNT_CLOEXEC, 0), err = 0;

	if (mfd < 0)
		return errno;
	if (move_mount(mfd, "", AT_FDCWD, mnt, MOVE_MOUNT_F_EMPTY_PATH))
		err = errno;
	close(mfd);
	return err;
}

/* Values of the wrong kind, bad pointers and sizes, bad commands. */
TEST_F(hostile, fsconfig_wrong_kinds_of_values)
{
	char long_name[300];
	int fc = fsopen("rsunion", FSOPEN_CLOEXEC);
	int dirfd = open("a", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ASSERT_GE(fc, 0);
	ASSERT_GE(dirfd, 0);
	memset(long_name, 'x', 256);
	long_name[256] = '\0';

	/* rsunion's refusals. */
	FSCONFIG_GIVES(fc, FSCONFIG_SET_FLAG, "lowerdir", NULL, 0, EINVAL,
		       "'lowerdir' needs a non-empty value");
	FSCONFIG_GIVES(fc, FSCONFIG_SET_FLAG, "br", NULL, 0, EINVAL,
		       "'br' needs a non-empty value");
	FSCONFIG_GIVES(fc, FSCONFIG_SET_FLAG, "whiteout", NULL, 0, EINVAL,
		       "whiteout= takes 'overlay' or 'aufs'");
	FSCONFIG_GIVES(fc, FSCONFIG_SET_FLAG, "frobnicate", NULL, 0, EINVAL,
		       "unknown mount option 'frobnicate'");
	FSCONFIG_GIVES(fc, FSCONFIG_SET_STRING, "lowerdir", "", 0, EINVAL,
		       "'lowerdir' needs a non-empty value");
	FSCONFIG_GIVES(fc, FSCONFIG_SET_STRING, "", "a:b", 0, EINVAL,
		       "unknown mount option ''");
	FSCONFIG_GIVES(fc, FSCONFIG_SET_STRING, "lowerdir", "a\\000:b", 0, EINVAL,
		       "cannot contain NUL");
	FSCONFIG_GIVES(fc, FSCONFIG_SET_STRING, "lowerdir", long_name + 1, 0,
		       ENOENT, "cannot resolve");
	/* Paths, fds and blobs are not strings: rsunion takes strings only. */
	FSCONFIG_GIVES(fc, FSCONFIG_SET_PATH, "lowerdir", "a", AT_FDCWD, EINVAL,
		       "'lowerdir' needs a non-empty value");
	FSCONFIG_GIVES(fc, FSCONFIG_SET_PATH_EMPTY, "upperdir", "", dirfd, EINVAL,
		       "'upperdir' needs a non-empty value");
	FSCONFIG_GIVES(fc, FSCONFIG_SET_FD, "workdir", NULL, dirfd, EINVAL,
		       "'workdir' needs a non-empty value");
	FSCONFIG_GIVES(fc, FSCONFIG_SET_BINARY, "lowerdir", "a:b", 3, EINVAL,
		       "'lowerdir' needs a non-empty value");
	FSCONFIG_GIVES(fc, FSCONFIG_SET_BINARY, "whiteout", "aufs", 4, EINVAL,
		       "whiteout= takes");
	FSCONFIG_GIVES(fc, FSCONFIG_SET_PATH, "frobnicate", "a", AT_FDCWD, EINVAL,
		       "unknown mount option 'frobnicate'");

	/* The VFS's refusals, before rsunion sees anything. */
	FSCONFIG_GIVES(fc, FSCONFIG_SET_STRING, "lowerdir", long_name, 0, EINVAL, NULL);
	FSCONFIG_GIVES(fc, FSCONFIG_SET_STRING, long_name, "a", 0, EINVAL, NULL);
	FSCONFIG_GIVES(fc, FSCONFIG_SET_STRING, "lowerdir", (void *)8, 0, EFAULT, NULL);
	FSCONFIG_GIVES(fc, FSCONFIG_SET_STRING, (char *)8, "a", 0, EFAULT, NULL);
	FSCONFIG_GIVES(fc, FSCONFIG_SET_STRING, NULL, "a", 0, EINVAL, NULL);
	FSCONFIG_GIVES(fc, FSCONFIG_SET_STRING, "lowerdir", NULL, 0, EINVAL, NULL);
	FSCONFIG_GIVES(fc, FSCONFIG_SET_STRING, "lowerdir", "a:b", 1, EINVAL, NULL);
	FSCONFIG_GIVES(fc, FSCONFIG_SET_FLAG, "lowerdir", "a", 0, EINVAL, NULL);
	FSCONFIG_GIVES(fc, FSCONFIG_SET_FD, "lowerdir", NULL, -1, EINVAL, NULL);
	FSCONFIG_GIVES(fc, FSCONFIG_SET_FD, "lowerdir", NULL, 100000, EBADF, NULL);
	FSCONFIG_GIVES(fc, FSCONFIG_SET_BINARY, "lowerdir", "a", 0, EINVAL, NULL);
	FSCONFIG_GIVES(fc, FSCONFIG_SET_PATH, "lowerdir", "", AT_FDCWD, ENOENT, NULL);
	FSCONFIG_GIVES(fc, 99, "lowerdir", "a", 0, EOPNOTSUPP, NULL);
	FSCONFIG_GIVES(fc, FSCONFIG_CMD_CREATE, "lowerdir", NULL, 0, EINVAL, NULL);
	FSCONFIG_GIVES(fc, FSCONFIG_SET_STRING, "source", "one", 0, 0, NULL);
	FSCONFIG_GIVES(fc, FSCONFIG_SET_STRING, "source", "two", 0, EINVAL, NULL);
	FSCONFIG_GIVES(dirfd, FSCONFIG_SET_STRING, "lowerdir", "a:b", 0, EINVAL, NULL);

	/* After all that the context still mounts a union, once. */
	FSCONFIG_GIVES(fc, FSCONFIG_SET_STRING, "lowerdir", "a:b", 0, 0, NULL);
	FSCONFIG_GIVES(fc, FSCONFIG_CMD_CREATE, NULL, NULL, 0, 0, NULL);
	FSCONFIG_GIVES(fc, FSCONFIG_CMD_CREATE, NULL, NULL, 0, EBUSY, NULL);
	FSCONFIG_GIVES(fc, CMD_CREATE_EXCL, NULL, NULL, 0, EBUSY, NULL);
	FSCONFIG_GIVES(fc, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0, EBUSY, NULL);
	FSCONFIG_GIVES(fc, FSCONFIG_SET_STRING, "lowerdir", "c:b", 0, EBUSY, NULL);
	ASSERT_EQ(0, fsmount_at(fc, self->mnt));
	EXPECT_EQ(EBUSY, fsmount_at(fc, self->ovl));
	ASSERT_EQ(0, union_sane(self->mnt, self->why, sizeof(self->why)))
		TH_LOG("%s", self->why);
	ASSERT_EQ(0, names_of(self->mnt, self->rs, sizeof(self->rs)));
	ASSERT_STREQ("a.log b.log sub x.log", self->rs);
	close(dirfd);
	close(fc);
}

/*
 * A failed FSCONFIG_CMD_CREATE leaves the context failed: EBUSY after,
 * and fsmount() finds no superblock (EINVAL), as before any CREATE.
 */
TEST_F(hostile, fsconfig_after_failed_create)
{
	int fc = fsopen("rsunion", FSOPEN_CLOEXEC);

	ASSERT_GE(fc, 0);
	FSCONFIG_GIVES(fc, FSCONFIG_CMD_CREATE, NULL, NULL, 0, EINVAL, "no layers");
	FSCONFIG_GIVES(fc, FSCONFIG_SET_STRING, "lowerdir", "a:b", 0, EBUSY, NULL);
	FSCONFIG_GIVES(fc, FSCONFIG_CMD_CREATE, NULL, NULL, 0, EBUSY, NULL);
	EXPECT_EQ(EINVAL, fsmount_at(fc, self->mnt));
	close(fc);

	fc = fsopen("rsunion", FSOPEN_CLOEXEC);
	ASSERT_GE(fc, 0);
	FSCONFIG_GIVES(fc, FSCONFIG_SET_STRING, "lowerdir", "a:b", 0, 0, NULL);
	EXPECT_EQ(EINVAL, fsmount_at(fc, self->mnt));
	close(fc);
}

/* Refusals go to the fsopen() log too, for the caller to read. */
TEST_F(hostile, fsconfig_refusal_in_fsopen_log)
{
	char msg[512];
	int fc = fsopen("rsunion", FSOPEN_CLOEXEC);
	ssize_t n;

	ASSERT_GE(fc, 0);
	ASSERT_EQ(-1, fsconfig(fc, FSCONFIG_SET_STRING, "br", "a:b=rw", 0));
	ASSERT_EQ(EINVAL, errno);
	n = read(fc, msg, sizeof(msg) - 1);
	ASSERT_GT(n, 0) TH_LOG("read log: %s", strerror(errno));
	msg[n] = '\0';
	ASSERT_STREQ("e rsunion: br: only the leftmost branch can be writable (=rw)\n", msg);
	close(fc);
}

/*
 * A refused option changes nothing: the context keeps what it had, be it
 * a layer list or the syntax, and mounts it.
 */
TEST_F(hostile, refused_option_changes_nothing)
{
	static const struct {
		const char *key1, *val1, *key2, *val2;
		int err2;
		const char *names;
	} cases[] = {
		{ "br", "a=ro:b=ro", "br", "c=ro:b=ro:nonexistent", ENOENT,
		  "a.log b.log sub x.log" },
		{ "br", "u:a", "br", "c:nonexistent", ENOENT, "a.log sub u.log x.log" },
		{ "br", "u:a", "dirs", "c:b=rw", EINVAL, "a.log sub u.log x.log" },
		{ "lowerdir", "a:b", "lowerdir", "c:nonexistent", ENOENT,
		  "a.log b.log sub x.log" },
		/* A refused lowerdir= has not chosen the overlayfs syntax. */
		{ "lowerdir", NULL, "br", "a=ro:b=ro", 0, "a.log b.log sub x.log" },
		{ "br", NULL, "lowerdir", "a:b", 0, "a.log b.log sub x.log" },
	};
	unsigned int i;
	int fc;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		fc = fsopen("rsunion", FSOPEN_CLOEXEC);
		ASSERT_GE(fc, 0);
		if (cases[i].val1) {
			ASSERT_EQ(0, fsconfig(fc, FSCONFIG_SET_STRING, cases[i].key1,
					      cases[i].val1, 0));
		} else {
			ASSERT_EQ(-1, fsconfig(fc, FSCONFIG_SET_FLAG, cases[i].key1, NULL, 0));
		}
		EXPECT_EQ(cases[i].err2 ? -1 : 0,
			  fsconfig(fc, FSCONFIG_SET_STRING, cases[i].key2, cases[i].val2, 0))
			TH_LOG("case %u: %s", i, strerror(errno));
		if (cases[i].err2) {
			EXPECT_EQ(cases[i].err2, errno);
		}
		ASSERT_EQ(0, fsconfig(fc, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
			TH_LOG("case %u: create: %s", i, strerror(errno));
		ASSERT_EQ(0, fsmount_at(fc, self->mnt));
		close(fc);
		ASSERT_EQ(0, names_of(self->mnt, self->rs, sizeof(self->rs)));
		EXPECT_STREQ(cases[i].names, self->rs) TH_LOG("case %u", i);
		ASSERT_EQ(0, umount(self->mnt));
	}
}

/* Malformed layer trees. */

/* Appends a formatted line to OUT (SIZE), truncating. */
static void append(char *out, size_t size, const char *fmt, ...)
{
	size_t len = strlen(out);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(out + len, size - len, fmt, ap);
	va_end(ap);
}

/*
 * The tree at PATH, DEPTH levels down, one line per entry in name order:
 * its path below the top (REL), its type and what tells it apart (a
 * file's first bytes, a link's target and what stat() through it gives,
 * a device's numbers), appended to OUT. For comparing a union with an
 * overlay mount of the same layers.
 */
static void tree_of(const char *path, const char *rel, int depth, char *out, size_t size)
{
	char sub[PATH_MAX], subrel[PATH_MAX], data[33];
	struct dirent **names;
	struct stat st;
	ssize_t len;
	int n, i, fd;

	n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		append(out, size, "%s: scandir: %s\n", rel, strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;

		if (strcmp(name, ".") && strcmp(name, "..")) {
			snprintf(sub, sizeof(sub), "%s/%s", path, name);
			snprintf(subrel, sizeof(subrel), "%s/%s", rel, name);
			if (lstat(sub, &st)) {
				append(out, size, "%s lstat:%d\n", show(subrel), errno);
			} else if (S_ISDIR(st.st_mode)) {
				append(out, size, "%s d\n", show(subrel));
				if (depth > 0)
					tree_of(sub, subrel, depth - 1, out, size);
			} else if (S_ISREG(st.st_mode)) {
				fd = open(sub, O_RDONLY | O_CLOEXEC);
				len = fd < 0 ? -1 : read(fd, data, sizeof(data) - 1);
				data[len < 0 ? 0 : len] = '\0';
				append(out, size, "%s f %s\n", show(subrel),
				       len < 0 ? strerror(errno) : show(data));
				if (fd >= 0)
					close(fd);
			} else if (S_ISLNK(st.st_mode)) {
				len = readlink(sub, data, sizeof(data) - 1);
				data[len < 0 ? 0 : len] = '\0';
				append(out, size, "%s l %s stat:%d\n", show(subrel),
				       show(data), stat_errno(sub));
			} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
				append(out, size, "%s %c %u:%u\n", show(subrel),
				       S_ISCHR(st.st_mode) ? 'c' : 'b',
				       major(st.st_rdev), minor(st.st_rdev));
			} else {
				append(out, size, "%s %o\n", show(subrel), st.st_mode & S_IFMT);
			}
		}
		free(names[i]);
	}
	free(names);
}

/*
 * Mounts the same layers with rsunion (RS, at mnt) and overlayfs (OV,
 * at ovl) and asserts both show the same tree DEPTH levels down.
 */
#define ASSERT_SAME_AS_OVERLAY(rs_opts, ov_opts, depth) do { \
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, (rs_opts))) \
		TH_LOG("rsunion %s: %s", (rs_opts), strerror(errno)); \
	ASSERT_EQ(0, mount("overlay", self->ovl, "overlay", 0, (ov_opts))) \
		TH_LOG("overlay %s: %s", (ov_opts), strerror(errno)); \
	self->rs[0] = self->ov[0] = '\0'; \
	tree_of(self->mnt, "", (depth), self->rs, sizeof(self->rs)); \
	tree_of(self->ovl, "", (depth), self->ov, sizeof(self->ov)); \
	ASSERT_STREQ(self->ov, self->rs); \
	ASSERT_EQ(0, union_sane(self->mnt, self->why, sizeof(self->why))) \
		TH_LOG("%s", self->why); \
} while (0)

/*
 * aufs/OCI names in every shape a layer can hold them: whiteouts that
 * are directories (non-empty), symlinks, fifos, devices; an opaque marker
 * that is a non-empty directory; markers (.wh..wh.*) that whiteout
 * nothing; whiteouts of "", "." and ".."; a whiteout in the bottom
 * layer. Whatever their type, none shows and each does its job (README);
 * overlayfs would show them as plain entries, so there is nothing to
 * compare with.
 */
TEST_F(hostile, aufs_names_of_every_shape)
{
	static const char *const hidden[] = {
		"by_dir", "by_link", "by_fifo", "by_cdev", "nothing", ".wh.by_dir",
		".wh.by_link", ".wh.", ".wh..", ".wh...", ".wh..wh.plain",
		".wh..wh..opq", ".wh.nothing", "d/low", "d/.wh..wh..opq",
		"keep/.wh..wh.foo", "keep/.wh..wh.", "keep/.wh..wh..wh.x",
	};
	char path[PATH_MAX];
	unsigned int i;

	ASSERT_EQ(0, mkfile("bt/plain", "plain\n"));
	ASSERT_EQ(0, mkfile("bt/by_dir", "by_dir\n"));
	ASSERT_EQ(0, mkfile("bt/by_link", "by_link\n"));
	ASSERT_EQ(0, mkfile("bt/by_fifo", "by_fifo\n"));
	ASSERT_EQ(0, mkfile("bt/by_cdev", "by_cdev\n"));
	ASSERT_EQ(0, mkfile("bt/d/low", "low\n"));
	ASSERT_EQ(0, mkfile("bt/keep/low", "low\n"));
	ASSERT_EQ(0, mkfile("bt/.wh.nothing", ""));
	ASSERT_EQ(0, mkfile("t/.wh.by_dir/inside", "inside\n"));
	ASSERT_EQ(0, symlink("nowhere", "t/.wh.by_link"));
	ASSERT_EQ(0, mkfifo("t/.wh.by_fifo", 0644));
	ASSERT_EQ(0, mknod("t/.wh.by_cdev", S_IFCHR | 0644, makedev(1, 3)));
	ASSERT_EQ(0, mkfile("t/d/top", "top\n"));
	ASSERT_EQ(0, mkfile("t/d/.wh..wh..opq/junk", "junk\n"));
	ASSERT_EQ(0, mkfile("t/keep/.wh..wh.foo", ""));
	ASSERT_EQ(0, mkfile("t/keep/.wh..wh.", ""));
	ASSERT_EQ(0, mkdirs("t/keep/.wh..wh..wh.x"));
	ASSERT_EQ(0, mkfile("t/.wh.", ""));
	ASSERT_EQ(0, mkfile("t/.wh..", ""));
	ASSERT_EQ(0, mkfile("t/.wh...", ""));
	ASSERT_EQ(0, mkfile("t/.wh..wh.plain", ""));

	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, "lowerdir=t:bt"));
	ASSERT_EQ(0, names_of(self->mnt, self->rs, sizeof(self->rs)));
	ASSERT_STREQ("d keep plain", self->rs);
	ASSERT_EQ(0, names_of(join(path, self->mnt, "d"), self->rs, sizeof(self->rs)));
	ASSERT_STREQ("top", self->rs);
	ASSERT_EQ(0, names_of(join(path, self->mnt, "keep"), self->rs, sizeof(self->rs)));
	ASSERT_STREQ("low", self->rs);
	for (i = 0; i < ARRAY_SIZE(hidden); i++) {
		EXPECT_EQ(ENOENT, lstat_errno(join(path, self->mnt, hidden[i])))
			TH_LOG("%s", hidden[i]);
	}
	EXPECT_EQ(0, stat_errno(join(path, self->mnt, ".")));
	EXPECT_EQ(0, stat_errno(join(path, self->mnt, "..")));
	EXPECT_EQ(0, stat_errno(join(path, self->mnt, "d/.")));
	ASSERT_EQ(0, union_sane(self->mnt, self->why, sizeof(self->why)))
		TH_LOG("%s", self->why);
}

/*
 * Only a char device 0/0 is a whiteout: other char devices, a block
 * device 0/0 and fifos are content, shown as overlayfs shows them, and a
 * whiteout in the bottom layer hides nothing and shows nothing.
 */
TEST_F(hostile, devices_but_0_0_are_content)
{
	ASSERT_EQ(0, mkdirs("t"));
	ASSERT_EQ(0, mknod("t/null", S_IFCHR | 0644, makedev(1, 3)));
	ASSERT_EQ(0, mknod("t/c01", S_IFCHR | 0644, makedev(0, 1)));
	ASSERT_EQ(0, mknod("t/c10", S_IFCHR | 0644, makedev(1, 0)));
	ASSERT_EQ(0, mknod("t/b00", S_IFBLK | 0644, makedev(0, 0)));
	ASSERT_EQ(0, mknod("t/wh", S_IFCHR | 0644, makedev(0, 0)));
	ASSERT_EQ(0, mknod("t/whdir", S_IFCHR | 0644, makedev(0, 0)));
	ASSERT_EQ(0, mkfifo("t/fifo", 0644));
	ASSERT_EQ(0, mkfile("bt/wh", "hidden\n"));
	ASSERT_EQ(0, mkfile("bt/whdir/in", "hidden\n"));
	ASSERT_EQ(0, mkfile("bt/c01", "under c01\n"));
	ASSERT_EQ(0, mkfile("bt/b00", "under b00\n"));
	ASSERT_EQ(0, mknod("bt/bottom_wh", S_IFCHR | 0644, makedev(0, 0)));
	ASSERT_SAME_AS_OVERLAY("lowerdir=t:bt", "lowerdir=t:bt", 2);
	EXPECT_EQ(ENOENT, stat_errno(join(self->opts, self->mnt, "wh")));
	EXPECT_EQ(ENOENT, stat_errno(join(self->opts, self->mnt, "bottom_wh")));
}

/*
 * trusted.overlay.opaque: only "y" makes a directory opaque, as
 * overlayfs reads it; garbage ("n", "", "yy", "Y", "y\n", "y\0", "x", a
 * long value) leaves it merged. On the top layer's root it changes
 * nothing, for either.
 */
TEST_F(hostile, opaque_xattr_values)
{
	static const struct {
		const char *name, *value;
		size_t len;
	} values[] = {
		{ "o_y", "y", 1 }, { "o_n", "n", 1 }, { "o_empty", "", 0 },
		{ "o_yy", "yy", 2 }, { "o_Y", "Y", 1 }, { "o_ynl", "y\n", 2 },
		{ "o_ynul", "y\0", 2 }, { "o_x", "x", 1 }, { "o_nul", "\0", 1 },
		{ "o_long", "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", 50 },
	};
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(values); i++) {
		snprintf(path, sizeof(path), "t/%s/top", values[i].name);
		ASSERT_EQ(0, mkfile(path, "top\n"));
		snprintf(path, sizeof(path), "bt/%s/low", values[i].name);
		ASSERT_EQ(0, mkfile(path, "low\n"));
		snprintf(path, sizeof(path), "t/%s", values[i].name);
		ASSERT_EQ(0, setxattr(path, "trusted.overlay.opaque", values[i].value,
				      values[i].len, 0))
			TH_LOG("setxattr %s: %s", path, strerror(errno));
	}
	/* On a file, and on the root. */
	ASSERT_EQ(0, mkfile("t/file", "top file\n"));
	ASSERT_EQ(0, setxattr("t/file", "trusted.overlay.opaque", "y", 1, 0));
	ASSERT_EQ(0, mkfile("bt/only_low", "low\n"));
	ASSERT_EQ(0, setxattr("t", "trusted.overlay.opaque", "y", 1, 0));
	ASSERT_SAME_AS_OVERLAY("lowerdir=t:bt", "lowerdir=t:bt", 2);
	ASSERT_EQ(0, names_of(join(path, self->mnt, "o_y"), self->rs, sizeof(self->rs)));
	ASSERT_STREQ("top", self->rs);
	ASSERT_EQ(0, names_of(join(path, self->mnt, "o_yy"), self->rs, sizeof(self->rs)));
	ASSERT_STREQ("low top", self->rs);
}

/*
 * Symlink loops and dangling links in a layer: lstat and readlink work,
 * following them gives ELOOP or ENOENT, as through overlayfs. A layer
 * named through a loop is refused.
 */
TEST_F(hostile, symlink_loops_in_layers)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, mkdirs("t/dir"));
	ASSERT_EQ(0, symlink("self_loop", "t/self_loop"));
	ASSERT_EQ(0, symlink("l2", "t/l1"));
	ASSERT_EQ(0, symlink("l1", "t/l2"));
	ASSERT_EQ(0, symlink(".", "t/dot"));
	ASSERT_EQ(0, symlink("..", "t/dir/up"));
	ASSERT_EQ(0, symlink("nowhere", "t/dangling"));
	ASSERT_EQ(0, symlink("/proc/self/cwd/t/l1", "t/abs_loop"));
	ASSERT_EQ(0, mkfile("bt/l1", "under a loop\n"));
	ASSERT_EQ(0, mkfile("bt/nowhere", "not the target\n"));
	ASSERT_SAME_AS_OVERLAY("lowerdir=t:bt", "lowerdir=t:bt", 2);
	EXPECT_EQ(ELOOP, stat_errno(join(path, self->mnt, "self_loop")));
	EXPECT_EQ(ELOOP, stat_errno(join(path, self->mnt, "l1")));
	EXPECT_EQ(0, stat_errno(join(path, self->mnt, "dir/up/dot/dir")));
	EXPECT_EQ(ELOOP, stat_errno(join(path, self->mnt, "dot/dot/l2")));
	ASSERT_EQ(0, umount(self->mnt));
	ASSERT_TRUE(check_mount(self->mnt, "lowerdir=t/self_loop:bt", ELOOP,
				"cannot resolve 't/self_loop': error -40",
				self->why, sizeof(self->why))) TH_LOG("%s", self->why);
	ASSERT_TRUE(check_mount(self->mnt, "lowerdir=t/dot/dot/dot:bt", 0, NULL,
				self->why, sizeof(self->why))) TH_LOG("%s", self->why);
}

/*
 * Layers named through symlinks are followed, as overlayfs follows them:
 * writes to an upperdir named through a symlink land in its target.
 */
TEST_F(hostile, layers_named_through_symlinks)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, symlink("u", "us"));
	ASSERT_EQ(0, symlink("w", "ws"));
	ASSERT_EQ(0, symlink("/proc/self/cwd/b", "bs"));
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0,
			   "lowerdir=lnk:bs,upperdir=us,workdir=ws"))
		TH_LOG("mount: %s", strerror(errno));
	ASSERT_EQ(0, write_file(join(path, self->mnt, "new"), "new\n"));
	ASSERT_EQ(0, write_file(join(path, self->mnt, "a.log"), "changed\n"));
	ASSERT_EQ(0, lstat_errno("u/new"));
	ASSERT_EQ(0, lstat_errno("u/a.log"));
	ASSERT_EQ(0, union_sane(self->mnt, self->why, sizeof(self->why)))
		TH_LOG("%s", self->why);
	ASSERT_EQ(0, mkdirs("u2"));
	ASSERT_EQ(0, mkdirs("w3"));
	ASSERT_EQ(0, symlink("u2", "u2s"));
	ASSERT_EQ(0, symlink("w3", "w3s"));
	ASSERT_EQ(0, mount("overlay", self->ovl, "overlay", 0,
			   "lowerdir=lnk:bs,upperdir=u2s,workdir=w3s"))
		TH_LOG("overlay: %s", strerror(errno));
}

/* Upper and work on different filesystems: refused, as by overlayfs. */
TEST_F(hostile, upper_and_work_on_different_filesystems)
{
	static const char *const opts[] = {
		"lowerdir=a,upperdir=u,workdir=other/w",
		"lowerdir=a,upperdir=other/u,workdir=w",
	};
	unsigned int i;

	ASSERT_EQ(0, mkdirs("other"));
	ASSERT_EQ(0, mount("other", "other", "tmpfs", 0, NULL));
	ASSERT_EQ(0, mkdirs("other/w"));
	ASSERT_EQ(0, mkdirs("other/u"));
	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		EXPECT_TRUE(check_mount(self->mnt, opts[i], EINVAL,
					"workdir and upperdir must be on the same filesystem",
					self->why, sizeof(self->why)))
			TH_LOG("%s: %s", opts[i], self->why);
		EXPECT_EQ(-1, mount("overlay", self->ovl, "overlay", 0, opts[i]));
		EXPECT_EQ(EINVAL, errno);
	}
}

/*
 * A work directory full of junk: what an overlay mount leaves (work/,
 * index/, "#N" temporaries), and entries under the names of rsunion's
 * own temporaries that no copy-up draws (its counter is hex): a
 * non-empty directory, a whiteout, a symlink. The mount removes what it
 * can of the latter (a failure there only costs space and is logged,
 * super_block.rs), leaves the rest alone, shows none of it, and copies
 * up and whites out as usual. overlayfs mounts on it too.
 */
TEST_F(hostile, workdir_holding_junk)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, mkfile("w/work/#1", "overlay temporary\n"));
	ASSERT_EQ(0, mkfile("w/work/#2/deeper", "deeper\n"));
	ASSERT_EQ(0, mkdirs("w/index"));
	ASSERT_EQ(0, mkfile("w/#3", ""));
	ASSERT_EQ(0, mkfile("w/" TEMP_PREFIX "zz/inside", "stuck\n"));
	ASSERT_EQ(0, mknod("w/" TEMP_PREFIX "yy", S_IFCHR | 0644, makedev(0, 0)));
	ASSERT_EQ(0, symlink("/", "w/" TEMP_PREFIX "xx"));
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0,
			   "lowerdir=a:b,upperdir=u,workdir=w"))
		TH_LOG("mount: %s", strerror(errno));
	ASSERT_EQ(0, names_of(self->mnt, self->rs, sizeof(self->rs)));
	ASSERT_STREQ("a.log b.log sub u.log x.log", self->rs);
	ASSERT_EQ(0, write_file(join(path, self->mnt, "a.log"), "changed\n"));
	ASSERT_EQ(0, unlink(join(path, self->mnt, "b.log")));
	ASSERT_EQ(0, mkdir(join(path, self->mnt, "sub/new"), 0755));
	ASSERT_EQ(0, names_of(self->mnt, self->rs, sizeof(self->rs)));
	ASSERT_STREQ("a.log sub u.log x.log", self->rs);
	ASSERT_EQ(0, lstat_errno("u/a.log"));
	ASSERT_EQ(0, lstat_errno("u/sub/new"));
	ASSERT_EQ(0, union_sane(self->mnt, self->why, sizeof(self->why)))
		TH_LOG("%s", self->why);
	/* Only temporaries were touched. */
	EXPECT_EQ(0, lstat_errno("w/work/#1"));
	EXPECT_EQ(0, lstat_errno("w/work/#2/deeper"));
	EXPECT_EQ(0, lstat_errno("w/index"));
	EXPECT_EQ(0, lstat_errno("w/#3"));
	ASSERT_EQ(0, umount(self->mnt));
	ASSERT_EQ(0, mount("overlay", self->ovl, "overlay", 0,
			   "lowerdir=a:b,upperdir=u,workdir=w"))
		TH_LOG("overlay: %s", strerror(errno));
}

/* NAME of LEN bytes C, into BUF (LEN + 1). */
static char *name_of(char *buf, char c, int len)
{
	memset(buf, c, len);
	buf[len] = '\0';
	return buf;
}

/*
 * Names of NAME_MAX bytes, and names whose aufs whiteout (".wh." and the
 * name) would pass NAME_MAX and so cannot exist: lookups and listings go
 * on as usual, a 251-byte name is whited out the aufs way, and where a
 * whiteout cannot be written (aufs format, 252 bytes and more) a removal
 * fails and leaves the name shown, never half done.
 */
TEST_F(hostile, long_names_in_layers)
{
	char n255[256], n252[253], n251[252], wh[300], path[PATH_MAX];

	name_of(n255, 'n', 255);
	name_of(n252, 'q', 252);
	name_of(n251, 'h', 251);
	snprintf(path, sizeof(path), "t/%s/in", n255);
	ASSERT_EQ(0, mkfile(path, "in\n"));
	snprintf(path, sizeof(path), "bt/%s/low", n255);
	ASSERT_EQ(0, mkfile(path, "low\n"));
	snprintf(path, sizeof(path), "t/%s", n252);
	ASSERT_EQ(0, mkfile(path, "252\n"));
	snprintf(path, sizeof(path), "bt/%s", n251);
	ASSERT_EQ(0, mkfile(path, "hidden\n"));
	snprintf(wh, sizeof(wh), "t/.wh.%s", n251);
	ASSERT_EQ(0, mkfile(wh, ""));

	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0,
			   "lowerdir=t:bt,upperdir=u,workdir=w,whiteout=aufs"));
	snprintf(self->opts, sizeof(self->opts), "%s %s sub u.log", n255, n252);
	ASSERT_EQ(0, names_of(self->mnt, self->rs, sizeof(self->rs)));
	ASSERT_STREQ(self->opts, self->rs);
	snprintf(path, sizeof(path), "%s/%s", self->mnt, n255);
	ASSERT_EQ(0, names_of(path, self->rs, sizeof(self->rs)));
	ASSERT_STREQ("in low", self->rs);
	EXPECT_EQ(ENOENT, lstat_errno(join(path, self->mnt, n251)));
	/*
	 * No ".wh." name fits before 252 bytes: the whiteout written is a
	 * char device, which every syntax reads.
	 */
	snprintf(path, sizeof(path), "%s/%s", self->mnt, n252);
	EXPECT_EQ(0, unlink(path)) TH_LOG("unlink: %s", strerror(errno));
	EXPECT_EQ(ENOENT, lstat_errno(path));
	/* Copy-up through a 255-byte directory name. */
	snprintf(path, sizeof(path), "%s/%s/low", self->mnt, n255);
	ASSERT_EQ(0, write_file(path, "changed\n"));
	snprintf(path, sizeof(path), "u/%s/low", n255);
	ASSERT_EQ(0, lstat_errno(path));
	ASSERT_EQ(0, union_sane(self->mnt, self->why, sizeof(self->why)))
		TH_LOG("%s", self->why);
	ASSERT_EQ(0, umount(self->mnt));

	/* The char-device whiteout holds in the overlayfs syntax too. */
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0,
			   "lowerdir=t:bt,upperdir=u,workdir=w"));
	snprintf(path, sizeof(path), "%s/%s", self->mnt, n252);
	EXPECT_EQ(ENOENT, lstat_errno(path));
}

/* DEPTH directories NAME below directory fd DIR; the last one's fd. */
static int dig(int dir, const char *name, int depth)
{
	int fd = dup(dir), next;

	while (fd >= 0 && depth-- > 0) {
		if (mkdirat(fd, name, 0755) && errno != EEXIST)
			return close(fd), -1;
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = next;
	}
	return fd;
}

/* The fd of directory DEPTH levels of NAME below DIR, or -1. */
static int descend(const char *dir, const char *name, int depth)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), next;

	while (fd >= 0 && depth-- > 0) {
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = next;
	}
	return fd;
}

/* Reads file NAME in directory fd DIR into BUF (SIZE); -1 on error. */
static int read_at(int dir, const char *name, char *buf, size_t size)
{
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Writes CONTENT to file NAME in directory fd DIR (truncating). */
static int write_at(int dir, const char *name, const char *content)
{
	int fd = openat(dir, name, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t len = strlen(content);

	if (fd < 0)
		return -1;
	if (write(fd, content, len) != len)
		return close(fd), -1;
	return close(fd);
}

/*
 * Deep trees: a file 200 directories down, and one under 20 directories
 * of 250-byte names (over PATH_MAX in all, so reached with openat()),
 * read through the union and copy up with all their parents.
 */
TEST_F(hostile, deep_trees)
{
	char name250[251], data[64];
	int top, fd, i;

	name_of(name250, 'L', 250);
	ASSERT_EQ(0, mkdirs("bt"));
	top = open("bt", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_GE(top, 0);
	fd = dig(top, "d", 200);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, close(openat(fd, "f", O_CREAT | O_WRONLY | O_CLOEXEC, 0644)));
	ASSERT_EQ(0, write_at(fd, "f", "deep\n"));
	close(fd);
	fd = dig(top, name250, 20);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, close(openat(fd, "f", O_CREAT | O_WRONLY | O_CLOEXEC, 0644)));
	ASSERT_EQ(0, write_at(fd, "f", "long\n"));
	close(fd);
	close(top);

	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0,
			   "lowerdir=bt:a,upperdir=u,workdir=w"));
	for (i = 0; i < 2; i++) {
		const char *name = i ? name250 : "d";
		int depth = i ? 20 : 200;

		fd = descend(self->mnt, name, depth);
		ASSERT_GE(fd, 0) TH_LOG("%s: %s", name, strerror(errno));
		ASSERT_EQ(0, read_at(fd, "f", data, sizeof(data)));
		ASSERT_STREQ(i ? "long\n" : "deep\n", data);
		ASSERT_EQ(0, write_at(fd, "f", "copied up\n"))
			TH_LOG("%s: %s", name, strerror(errno));
		close(fd);
		fd = descend("u", name, depth);
		ASSERT_GE(fd, 0);
		ASSERT_EQ(0, read_at(fd, "f", data, sizeof(data)));
		ASSERT_STREQ("copied up\n", data);
		close(fd);
	}
	ASSERT_EQ(0, union_sane(self->mnt, self->why, sizeof(self->why)))
		TH_LOG("%s", self->why);
}

/*
 * Layers reached from a cwd deeper than PATH_MAX: they mount, and
 * /proc/self/mountinfo shows their absolute paths, longer than a page,
 * without failing; overlayfs mounts them alike. Their branch files show
 * what a page can hold: the last name.
 */
TEST_F(hostile, layers_deeper_than_path_max)
{
	char name250[251], br[64], *line = NULL, *si;
	size_t cap = 0, longest = 0;
	unsigned long long id = 0;
	struct statfs sfs;
	int top, fd;
	ssize_t n;
	FILE *f;

	name_of(name250, 'P', 250);
	top = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_GE(top, 0);
	fd = dig(top, name250, 20);
	close(top);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fchdir(fd));
	close(fd);
	ASSERT_EQ(0, mkfile("l1/l1.log", "l1\n"));
	ASSERT_EQ(0, mkfile("l2/l2.log", "l2\n"));
	ASSERT_EQ(0, mkdirs("m"));
	ASSERT_EQ(0, mount("none", "m", "rsunion", 0, "lowerdir=l1:l2"))
		TH_LOG("mount: %s", strerror(errno));
	ASSERT_EQ(0, statfs("m", &sfs));
	ASSERT_EQ(RSUNION_MAGIC, sfs.f_type);
	ASSERT_EQ(0, names_of("m", self->rs, sizeof(self->rs)));
	ASSERT_STREQ("l1.log l2.log", self->rs);
	f = fopen("/proc/self/mountinfo", "r");
	ASSERT_NE(NULL, f);
	errno = 0;
	while (getline(&line, &cap, f) > 0)
		if (strstr(line, " - rsunion ") && strlen(line) > longest) {
			longest = strlen(line);
			si = strstr(line, ",si=");
			id = si ? strtoull(si + 4, NULL, 16) : 0;
		}
	ASSERT_EQ(0, errno);
	free(line);
	fclose(f);
	ASSERT_GT(longest, 3 * 4096);
	/* A branch file holds a page: a longer path is shown by its end. */
	snprintf(br, sizeof(br), "/sys/fs/rsunion/si_%llx/br0", id);
	fd = open(br, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", br, strerror(errno));
	n = read(fd, self->rs, sizeof(self->rs) - 1);
	close(fd);
	ASSERT_LT(0, n);
	self->rs[n] = '\0';
	ASSERT_STREQ(".../l1=ro\n", self->rs);
	ASSERT_EQ(0, umount("m"));
	ASSERT_EQ(0, mount("overlay", "m", "overlay", 0, "lowerdir=l1:l2"))
		TH_LOG("overlay: %s", strerror(errno));
	ASSERT_EQ(0, umount("m"));
}

/*
 * Read-only bind mounts. Under a lower layer: nothing changes, reads and
 * copy-ups go on, as with overlayfs. Under the upper layer (and on a
 * read-only filesystem): overlayfs refuses such an upperdir at once
 * (EINVAL, "filesystem on ... is read-only"); rsunion may refuse it too,
 * or mount it, but then no write gets through and the layer is untouched.
 */
TEST_F(hostile, read_only_layers)
{
	static const char *const opts[] = {
		"lowerdir=a:b,upperdir=uro,workdir=w",
		"lowerdir=a:b,upperdir=rofs/u,workdir=rofs/w",
	};
	char path[PATH_MAX];
	unsigned int i;
	int kmsg, err;

	ASSERT_EQ(0, mkdirs("aro"));
	ASSERT_EQ(0, mount("a", "aro", NULL, MS_BIND, NULL));
	ASSERT_EQ(0, mount(NULL, "aro", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0,
			   "lowerdir=aro:b,upperdir=u,workdir=w"));
	ASSERT_EQ(0, write_file(join(path, self->mnt, "a.log"), "changed\n"));
	ASSERT_EQ(0, lstat_errno("u/a.log"));
	ASSERT_EQ(0, umount(self->mnt));
	ASSERT_EQ(0, mount("overlay", self->ovl, "overlay", 0,
			   "lowerdir=aro:b,upperdir=u,workdir=w"));
	ASSERT_EQ(0, umount(self->ovl));

	ASSERT_EQ(0, mkdirs("uro"));
	ASSERT_EQ(0, mount("u", "uro", NULL, MS_BIND, NULL));
	ASSERT_EQ(0, mount(NULL, "uro", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
	ASSERT_EQ(0, mkdirs("rofs"));
	ASSERT_EQ(0, mount("rofs", "rofs", "tmpfs", 0, NULL));
	ASSERT_EQ(0, mkdirs("rofs/u"));
	ASSERT_EQ(0, mkdirs("rofs/w"));
	ASSERT_EQ(0, mount(NULL, "rofs", NULL, MS_REMOUNT | MS_RDONLY, NULL));
	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		EXPECT_EQ(-1, mount("overlay", self->ovl, "overlay", 0, opts[i]));
		EXPECT_EQ(EINVAL, errno);
		kmsg = kmsg_mark();
		ASSERT_GE(kmsg, 0);
		err = mount("none", self->mnt, "rsunion", 0, opts[i]) ? errno : 0;
		if (err) {
			EXPECT_TRUE(kmsg_has(kmsg, "")) TH_LOG("%s: errno %d, no line", opts[i], err);
			continue;
		}
		close(kmsg);
		EXPECT_EQ(-1, write_file(join(path, self->mnt, "new"), "new\n"));
		EXPECT_EQ(EROFS, errno);
		EXPECT_EQ(-1, write_file(join(path, self->mnt, "a.log"), "changed\n"));
		EXPECT_EQ(EROFS, errno);
		EXPECT_EQ(-1, mkdir(join(path, self->mnt, "newdir"), 0755));
		EXPECT_EQ(EROFS, errno);
		EXPECT_EQ(-1, unlink(join(path, self->mnt, "b.log")));
		EXPECT_EQ(EROFS, errno);
		EXPECT_EQ(0, union_sane(self->mnt, self->why, sizeof(self->why)))
			TH_LOG("%s: %s", opts[i], self->why);
		ASSERT_EQ(0, umount(self->mnt));
	}
	ASSERT_EQ(0, names_of("u", self->rs, sizeof(self->rs)));
	ASSERT_STREQ("a.log sub u.log", self->rs);
}

/*
 * A union mounted on the directory it names as a lower layer sees the
 * directory as it was (layers are resolved before the mount); a second
 * union over that one stacks; a third passes the kernel's stacking limit
 * (FILESYSTEM_MAX_STACK_DEPTH, 2) and is refused, as overlayfs refuses
 * it. (The stacked union is not read here: the directory locks of all
 * unions share one lockdep class, so taking a lower union's under an
 * upper one's reads as recursive locking.) An upper layer that is the
 * mount point works as with overlayfs.
 */
TEST_F(hostile, mounted_over_its_own_layer)
{
	char path[PATH_MAX];
	struct statfs sfs;

	ASSERT_EQ(0, mkfile("mnt/under", "under\n"));
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, "lowerdir=mnt:a"));
	ASSERT_EQ(0, names_of(self->mnt, self->rs, sizeof(self->rs)));
	ASSERT_STREQ("a.log sub under x.log", self->rs);
	ASSERT_EQ(0, union_sane(self->mnt, self->why, sizeof(self->why)))
		TH_LOG("%s", self->why);
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, "lowerdir=mnt:c"));
	ASSERT_EQ(0, statfs(self->mnt, &sfs));
	ASSERT_EQ(RSUNION_MAGIC, sfs.f_type);
	ASSERT_TRUE(check_mount(self->mnt, "lowerdir=mnt:b", EINVAL,
				"maximum filesystem stacking depth exceeded",
				self->why, sizeof(self->why))) TH_LOG("%s", self->why);
	EXPECT_EQ(-1, mount("overlay", self->ovl, "overlay", 0, "lowerdir=mnt:b"));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, umount(self->mnt));
	ASSERT_EQ(0, umount(self->mnt));

	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0,
			   "lowerdir=a,upperdir=mnt,workdir=w"));
	ASSERT_EQ(0, write_file(join(path, self->mnt, "new"), "new\n"));
	ASSERT_EQ(0, umount(self->mnt));
	ASSERT_EQ(0, names_of(self->mnt, self->rs, sizeof(self->rs)));
	ASSERT_STREQ("new under", self->rs);
}

/*
 * Layers that overlap: one directory twice, one inside another, the
 * upper or work directory the same as or inside or around a lower one,
 * an upper layer another union uses as its lower. overlayfs refuses
 * most of these (ELOOP: "conflicting"/"overlapping ... path") and fails
 * lookups into an upper inside a lower; rsunion does not check them yet
 * (issue 9, item 9), so the only demand here is the oracle's: refused
 * with a line, or a sane union.
 */
TEST_F(hostile, overlapping_layers)
{
	static const char *const opts[] = {
		"lowerdir=a:a",
		"lowerdir=a:a/sub",
		"lowerdir=a/sub:a",
		"lowerdir=.:a",
		"lowerdir=u:a,upperdir=u,workdir=w",
		"lowerdir=u/sub:a,upperdir=u,workdir=w",
		"lowerdir=o:a,upperdir=o/up,workdir=o/wk",
		"lowerdir=w:a,upperdir=u,workdir=w",
		"lowerdir=w2/sub:a,upperdir=u,workdir=w2",
		"lowerdir=a,upperdir=o/up,workdir=o",
		"lowerdir=a,upperdir=u,workdir=w",
	};
	unsigned int i;

	ASSERT_EQ(0, mkfile("o/o.log", "o\n"));
	ASSERT_EQ(0, mkdirs("o/up"));
	ASSERT_EQ(0, mkdirs("o/wk"));
	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		EXPECT_TRUE(check_mount(self->mnt, opts[i], ANY, "", self->why,
					sizeof(self->why)))
			TH_LOG("%s: %s", opts[i], self->why);
	}
	/* Another union's upper layer, while it is mounted, as a lower. */
	ASSERT_EQ(0, mount("none", self->ovl, "rsunion", 0,
			   "lowerdir=a,upperdir=u,workdir=w"));
	EXPECT_TRUE(check_mount(self->mnt, "lowerdir=u:b", ANY, "", self->why,
				sizeof(self->why))) TH_LOG("%s", self->why);
	EXPECT_TRUE(check_mount(self->mnt, "lowerdir=b,upperdir=u,workdir=w2", ANY, "",
				self->why, sizeof(self->why))) TH_LOG("%s", self->why);
}

/*
 * Layers that are deleted directories, named through /proc/self/fd:
 * they resolve like any directory, and overlayfs mounts them too. A
 * union over one lists what overlayfs lists (getdents fails on the dead
 * directory) and creates nothing there; it never oopses.
 */
TEST_F(hostile, deleted_directories_as_layers)
{
	char path[PATH_MAX];
	int lower, upper, i;

	ASSERT_EQ(0, mkdirs("gone"));
	ASSERT_EQ(0, mkdirs("gone_u"));
	lower = open("gone", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	upper = open("gone_u", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_GE(lower, 0);
	ASSERT_GE(upper, 0);
	ASSERT_EQ(0, rmdir("gone"));
	ASSERT_EQ(0, rmdir("gone_u"));
	for (i = 0; i < 2; i++) {
		if (i == 0)
			snprintf(self->opts, sizeof(self->opts),
				 "lowerdir=/proc/self/fd/%d:a", lower);
		else
			snprintf(self->opts, sizeof(self->opts),
				 "lowerdir=a,upperdir=/proc/self/fd/%d,workdir=w", upper);
		ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, self->opts))
			TH_LOG("%s: %s", self->opts, strerror(errno));
		ASSERT_EQ(0, mount("overlay", self->ovl, "overlay", 0, self->opts))
			TH_LOG("overlay %s: %s", self->opts, strerror(errno));
		ASSERT_EQ(0, names_of(self->mnt, self->rs, sizeof(self->rs)));
		ASSERT_EQ(0, names_of(self->ovl, self->ov, sizeof(self->ov)));
		EXPECT_STREQ(self->ov, self->rs) TH_LOG("%s", self->opts);
		if (i == 1) {
			EXPECT_EQ(-1, write_file(join(path, self->mnt, "new"), "new\n"));
			EXPECT_EQ(-1, write_file(join(path, self->mnt, "a.log"), "changed\n"));
		}
		ASSERT_EQ(0, umount(self->mnt));
		ASSERT_EQ(0, umount(self->ovl));
	}
	close(lower);
	close(upper);
}

/*
 * procfs forbids stacking on it (its s_stack_depth is at the limit): a
 * lower layer there is refused, as overlayfs refuses it.
 */
TEST_F(hostile, procfs_as_lower_layer)
{
	ASSERT_TRUE(check_mount(self->mnt, "lowerdir=/proc/sys/kernel:a", EINVAL,
				"maximum filesystem stacking depth exceeded",
				self->why, sizeof(self->why))) TH_LOG("%s", self->why);
	EXPECT_EQ(-1, mount("overlay", self->ovl, "overlay", 0,
			    "lowerdir=/proc/sys/kernel:a"));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * A layer on an unbindable mount cannot be cloned as a private mount:
 * refused with EINVAL, as overlayfs refuses it ("failed to clone").
 */
TEST_F(hostile, unbindable_layer)
{
	ASSERT_EQ(0, mkdirs("ub"));
	ASSERT_EQ(0, mount("ub", "ub", "tmpfs", 0, NULL));
	ASSERT_EQ(0, mkfile("ub/f", "f\n"));
	ASSERT_EQ(0, mount(NULL, "ub", NULL, MS_UNBINDABLE, NULL));
	EXPECT_EQ(-1, mount("none", self->mnt, "rsunion", 0, "lowerdir=ub:a"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mount("overlay", self->ovl, "overlay", 0, "lowerdir=ub:a"));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * Remounting: read-only and back on a writable union. Options given
 * with a remount, garbage or layers, change nothing rsunion shows
 * (overlayfs ignores them on mount(2), refuses them through fsconfig()):
 * they are refused with a line or ignored.
 */
TEST_F(hostile, remount_with_options)
{
	static const char *const opts[] = {
		"frobnicate=1", "lowerdir=c", "lowerdir=", "lowerdir=c:b",
		"br=c", "whiteout=aufs", "upperdir=c,workdir=w2", "lowerdir=a\\000",
	};
	char path[PATH_MAX];
	unsigned int i;
	int kmsg, err, fc;
	bool logged;

	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0,
			   "lowerdir=a:b,upperdir=u,workdir=w"));
	ASSERT_EQ(0, mount(NULL, self->mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL));
	EXPECT_EQ(-1, write_file(join(path, self->mnt, "new"), "new\n"));
	EXPECT_EQ(EROFS, errno);
	ASSERT_EQ(0, mount(NULL, self->mnt, NULL, MS_REMOUNT, NULL));
	ASSERT_EQ(0, write_file(join(path, self->mnt, "new"), "new\n"));
	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		kmsg = kmsg_mark();
		ASSERT_GE(kmsg, 0);
		err = mount(NULL, self->mnt, NULL, MS_REMOUNT, opts[i]) ? errno : 0;
		logged = kmsg_has(kmsg, "");
		EXPECT_TRUE(!err || logged)
			TH_LOG("remount %s: errno %d, no rsunion: line", opts[i], err);
		ASSERT_EQ(0, names_of(self->mnt, self->rs, sizeof(self->rs)));
		EXPECT_STREQ("a.log b.log new sub u.log x.log", self->rs)
			TH_LOG("after remount %s", opts[i]);

		fc = fspick(AT_FDCWD, self->mnt, FSPICK_CLOEXEC);
		ASSERT_GE(fc, 0);
		if (!fsconfig(fc, FSCONFIG_SET_STRING, "lowerdir", "c", 0))
			fsconfig(fc, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0);
		close(fc);
		ASSERT_EQ(0, names_of(self->mnt, self->rs, sizeof(self->rs)));
		EXPECT_STREQ("a.log b.log new sub u.log x.log", self->rs);
	}
	ASSERT_EQ(0, union_sane(self->mnt, self->why, sizeof(self->why)))
		TH_LOG("%s", self->why);
}

/* ---- Defects these tests found outside the option parser. ---- */

/*
 * A read-only union (no upper layer) stays read-only: a read-write
 * remount is refused (overlayfs: EROFS, ovl_reconfigure), or at least
 * every write still fails with EROFS.
 */
TEST_F(hostile, read_only_union_stays_read_only)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, "lowerdir=a:b"));
	if (mount(NULL, self->mnt, NULL, MS_REMOUNT, NULL)) {
		EXPECT_EQ(EROFS, errno);
		return;
	}
	EXPECT_EQ(-1, write_file(join(path, self->mnt, "a.log"), "changed\n"));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, mkdir(join(path, self->mnt, "new"), 0755));
	EXPECT_EQ(EROFS, errno);
}

/*
 * A union over a union reads like any other (overlayfs over overlayfs
 * does, without a lockdep report: selftests/run checks the log).
 */
TEST_F(hostile, union_over_a_union_reads)
{
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, "lowerdir=a:b"));
	ASSERT_EQ(0, mount("none", self->ovl, "rsunion", 0, "lowerdir=mnt:c"));
	ASSERT_EQ(0, names_of(self->ovl, self->rs, sizeof(self->rs)));
	ASSERT_STREQ("a.log b.log c.log sub x.log", self->rs);
	ASSERT_EQ(0, union_sane(self->ovl, self->why, sizeof(self->why)))
		TH_LOG("%s", self->why);
}

/*
 * Names of 252 to 255 bytes (whose aufs whiteout could not exist) are
 * created, listed, renamed to and removed in a directory with lower
 * layers, in either whiteout format where no whiteout is needed, as
 * through overlayfs.
 */
TEST_F(hostile, long_names_created_and_removed)
{
	static const char *const opts[] = {
		"lowerdir=a:b,upperdir=u,workdir=w",
		"lowerdir=a:b,upperdir=u,workdir=w,whiteout=aufs",
	};
	char name[256], path[PATH_MAX], path2[PATH_MAX];
	unsigned int i;

	name_of(name, 'q', 252);
	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, opts[i]));
		snprintf(path, sizeof(path), "%s/%s", self->mnt, name);
		EXPECT_EQ(0, write_file(path, "long\n")) TH_LOG("%s: %s", opts[i], strerror(errno));
		EXPECT_EQ(0, lstat_errno(path));
		EXPECT_EQ(0, unlink(path)) TH_LOG("%s: %s", opts[i], strerror(errno));
		EXPECT_EQ(ENOENT, lstat_errno(path));
		snprintf(path2, sizeof(path2), "u/%s", name);
		EXPECT_EQ(ENOENT, lstat_errno(path2));
		snprintf(path, sizeof(path), "%s/sub/%s", self->mnt, name);
		EXPECT_EQ(0, mkdir(path, 0755)) TH_LOG("%s: %s", opts[i], strerror(errno));
		EXPECT_EQ(0, rmdir(path));
		snprintf(path, sizeof(path), "%s/%s", self->mnt, name);
		EXPECT_EQ(0, rename(join(path2, self->mnt, "u.log"), path))
			TH_LOG("%s: %s", opts[i], strerror(errno));
		EXPECT_EQ(0, rename(path, join(path2, self->mnt, "u.log")));
		ASSERT_EQ(0, umount(self->mnt));
	}
}

/*
 * The work directory must be on the upper layer's mount, not only its
 * filesystem (overlayfs: "workdir and upperdir must reside under the
 * same mount"): through a bind mount the subtree check is blind, and a
 * work directory inside the upper layer gets through.
 */
TEST_F(hostile, workdir_on_another_mount)
{
	ASSERT_EQ(0, mkdirs("wb"));
	ASSERT_EQ(0, mount("u/sub", "wb", NULL, MS_BIND, NULL));
	ASSERT_EQ(0, mkdirs("wb2"));
	ASSERT_EQ(0, mount("w", "wb2", NULL, MS_BIND, NULL));
	EXPECT_TRUE(check_mount(self->mnt, "lowerdir=a,upperdir=u,workdir=wb", EINVAL, "",
				self->why, sizeof(self->why))) TH_LOG("%s", self->why);
	EXPECT_TRUE(check_mount(self->mnt, "lowerdir=a,upperdir=u,workdir=wb2", EINVAL, "",
				self->why, sizeof(self->why))) TH_LOG("%s", self->why);
}

/* A layer that cannot be cloned is refused with a rsunion: line too. */
TEST_F(hostile, unbindable_layer_logged)
{
	ASSERT_EQ(0, mkdirs("ub"));
	ASSERT_EQ(0, mount("ub", "ub", "tmpfs", 0, NULL));
	ASSERT_EQ(0, mount(NULL, "ub", NULL, MS_UNBINDABLE, NULL));
	EXPECT_TRUE(check_mount(self->mnt, "lowerdir=ub:a", EINVAL, "",
				self->why, sizeof(self->why))) TH_LOG("%s", self->why);
}

/*
 * Junk under the names of copy-up temporaries that the mount cannot
 * remove (non-empty directories) does not make copy-ups fail: overlayfs
 * empties its work directory at mount, whatever is there.
 */
TEST_F(hostile, unremovable_temporaries_do_not_block_copy_up)
{
	char path[PATH_MAX];
	int i;

	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "w/" TEMP_PREFIX "%x/junk", i);
		ASSERT_EQ(0, mkfile(path, "junk\n"));
	}
	/* The temporaries' counter starts again at 0. */
	ASSERT_EQ(0, rsunion_unload());
	ASSERT_EQ(0, rsunion_load());
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0,
			   "lowerdir=a:b,upperdir=u,workdir=w"));
	EXPECT_EQ(0, write_file(join(path, self->mnt, "a.log"), "changed\n"))
		TH_LOG("%s", strerror(errno));
}

/*
 * A union as another union's upper layer: whiteouts written into it are
 * whiteouts to it too, so it hides them from the union above, which
 * then lists names it cannot look up. Refused, as overlayfs refuses its
 * own kind there ("not supported as upperdir").
 */
TEST_F(hostile, union_as_upper_layer_refused)
{
	ASSERT_EQ(0, mkdirs("in"));
	ASSERT_EQ(0, mount("none", "in", "rsunion", 0, "lowerdir=c,upperdir=u,workdir=w"));
	ASSERT_EQ(0, mkdir("in/up", 0755));
	ASSERT_EQ(0, mkdir("in/wk", 0755));
	EXPECT_TRUE(check_mount(self->mnt, "lowerdir=a:b,upperdir=in/up,workdir=in/wk",
				EINVAL, "", self->why, sizeof(self->why)))
		TH_LOG("%s", self->why);
	umount2("in", MNT_DETACH);
}

/*
 * Overlapping layers (issue 9, item 9), as overlayfs treats them: a
 * directory given twice, or inside another layer, or the same as or
 * inside the upper or work directory, is refused with ELOOP
 * ("conflicting"/"overlapping ... path"). An upper or work directory
 * inside a lower one mounts, but looking it up through the union fails
 * with ELOOP.
 */
TEST_F(hostile, overlapping_layers_refused)
{
	static const char *const opts[] = {
		"lowerdir=a:a",
		"lowerdir=a:a/sub",
		"lowerdir=a/sub:a",
		"lowerdir=.:a",
		"lowerdir=u:a,upperdir=u,workdir=w",
		"lowerdir=u/sub:a,upperdir=u,workdir=w",
		"lowerdir=w:a,upperdir=u,workdir=w",
		"lowerdir=w2/sub:a,upperdir=u,workdir=w2",
	};
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		EXPECT_TRUE(check_mount(self->mnt, opts[i], ELOOP, "", self->why,
					sizeof(self->why)))
			TH_LOG("%s: %s", opts[i], self->why);
		EXPECT_EQ(-1, mount("overlay", self->ovl, "overlay", 0, opts[i]));
		EXPECT_EQ(ELOOP, errno) TH_LOG("overlay %s", opts[i]);
	}
	/*
	 * overlayfs mounts an upper and work directory inside a lower layer
	 * and fails their lookups with ELOOP; rsunion refuses the mount.
	 */
	ASSERT_EQ(0, mkdirs("o/up"));
	ASSERT_EQ(0, mkdirs("o/wk"));
	ASSERT_EQ(0, mount("overlay", self->ovl, "overlay", 0,
			   "lowerdir=o:a,upperdir=o/up,workdir=o/wk"));
	EXPECT_EQ(ELOOP, stat_errno(join(path, self->ovl, "up")));
	EXPECT_TRUE(check_mount(self->mnt, "lowerdir=o:a,upperdir=o/up,workdir=o/wk", ELOOP,
				"layers overlap", self->why, sizeof(self->why)))
		TH_LOG("%s", self->why);
}

/*
 * An upper layer that cannot be written is refused at mount, as
 * overlayfs refuses it ("filesystem on ... is read-only").
 */
TEST_F(hostile, read_only_upper_refused)
{
	ASSERT_EQ(0, mkdirs("uro"));
	ASSERT_EQ(0, mount("u", "uro", NULL, MS_BIND, NULL));
	ASSERT_EQ(0, mount(NULL, "uro", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
	EXPECT_TRUE(check_mount(self->mnt, "lowerdir=a:b,upperdir=uro,workdir=w", EINVAL, "",
				self->why, sizeof(self->why))) TH_LOG("%s", self->why);
}

/*
 * Options cannot change a mounted union: through fsconfig() on fspick()
 * they are refused, as overlayfs refuses them ("No changes allowed in
 * reconfigure"), not taken and ignored.
 */
TEST_F(hostile, reconfigure_refuses_options)
{
	int fc;

	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, "lowerdir=a:b"));
	fc = fspick(AT_FDCWD, self->mnt, FSPICK_CLOEXEC);
	ASSERT_GE(fc, 0);
	FSCONFIG_GIVES(fc, FSCONFIG_SET_STRING, "lowerdir", "c:b", 0, EINVAL, "");
	close(fc);
}

/*
 * Last (tests run in the order they are written): after all that,
 * nothing is left mounted or holding the module, which unloads, and
 * loads again for the tests after these.
 */
TEST_F(hostile, module_still_unloads)
{
	char *line = NULL;
	size_t cap = 0;
	bool mounted = false;
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int i;

	ASSERT_NE(NULL, f);
	while (getline(&line, &cap, f) > 0)
		mounted |= strstr(line, " - rsunion ") != NULL;
	free(line);
	fclose(f);
	ASSERT_FALSE(mounted);
	/* A union's last reference may go with the exit of the test before. */
	for (i = 0; i < 50 && rsunion_unload(); i++)
		usleep(100000);
	ASSERT_FALSE(rsunion_loaded()) TH_LOG("unload: %s", strerror(errno));
	ASSERT_EQ(0, rsunion_load()) TH_LOG("load: %s", strerror(errno));
}

TEST_HARNESS_MAIN
