// SPDX-License-Identifier: GPL-2.0
/*
 * rsunion-mount: containers/storage's mount_program for rsunion.
 *
 *   rsunion-mount [-o OPTIONS]... [SOURCE] TARGET [-o OPTIONS]...
 *
 * containers/storage (podman, buildah, CRI-O) runs its mount program as
 * "PROGRAM -o OPTIONS TARGET", with overlayfs's options; mount(8) runs a
 * helper as "PROGRAM SOURCE TARGET -o OPTIONS". Both work, and -o may come
 * anywhere and more than once.
 *
 * The layers (lowerdir=, lowerdir+=, upperdir=, workdir=) go to rsunion
 * with whiteout=aufs: containers/storage extracts image layers with
 * aufs-format ".wh." whiteouts when a mount program is set, and diffs and
 * commits by comparing mounted trees, so the container's layer must hold
 * whiteouts in the form image layers ship them. Options rsunion behaves
 * as if given are accepted; options asking for what rsunion cannot do are
 * refused, never dropped, so a container never runs on a union other than
 * the one asked for.
 *
 * An option string that fits in a page goes through mount(2); a longer one
 * (hundreds of layers) through fsopen()/fsconfig(), one "lowerdir+" per
 * layer. Errors are one line on stderr, with the kernel's own message when
 * it gave one: containers/storage puts that line into its error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

/* glibc before 2.36 has none of these; the values are the kernel's ABI. */
#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC		0x00000001
#endif
#ifndef FSMOUNT_CLOEXEC
#define FSMOUNT_CLOEXEC		0x00000001
#endif
#ifndef FSCONFIG_SET_FLAG
#define FSCONFIG_SET_FLAG	0
#define FSCONFIG_SET_STRING	1
#define FSCONFIG_CMD_CREATE	6
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY	0x00000001
#define MOUNT_ATTR_NOSUID	0x00000002
#define MOUNT_ATTR_NODEV	0x00000004
#define MOUNT_ATTR_NOEXEC	0x00000008
#define MOUNT_ATTR_NOATIME	0x00000010
#define MOUNT_ATTR_STRICTATIME	0x00000020
#define MOUNT_ATTR_NODIRATIME	0x00000080
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH	0x00000004
#endif

#define PROG "rsunion-mount"
#define FSTYPE "rsunion"
/* fsconfig(FSCONFIG_SET_STRING) copies at most this much, NUL included. */
#define FSCONFIG_VALUE_MAX 256

struct strv {
	char **v;
	size_t n, cap;
};

struct opts {
	struct strv lowers;		/* unescaped paths, top first */
	char *upper, *work;		/* unescaped */
	unsigned long flags;		/* MS_* */
	unsigned long propagation;	/* MS_PRIVATE, MS_SHARED, ... or 0 */
	struct strv lsm;		/* SELinux items as given, quotes kept */
};

static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		fail("out of memory");
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (!d)
		fail("out of memory");
	return d;
}

static void strv_push(struct strv *s, char *x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = x;
}

/* A growing string, for the mount(2) data and the kernel's messages. */
struct buf {
	char *s;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = 2 * (b->len + n + 1);
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/*
 * Backslashes escape in overlayfs's option syntax (buildah writes "\:"
 * into lowerdir= for a colon in a path): "\c" stands for c.
 */
static char *unescape(const char *s, size_t n)
{
	char *d = xstrndup(s, n), *o = d;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		*o++ = s[i];
	}
	*o = '\0';
	return d;
}

/* rsunion's mount(2) parser splits at unescaped ',' and lowerdir= at ':'. */
static void buf_escaped(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == ',' || *s == ':')
			buf_add(b, "\\", 1);
		buf_add(b, s, 1);
	}
}

/* The end of the item starting at s: an unescaped ',' outside quotes. */
static const char *item_end(const char *s)
{
	bool quoted = false;

	for (; *s; s++) {
		if (*s == '\\' && s[1])
			s++;
		else if (*s == '"')
			quoted = !quoted;
		else if (*s == ',' && !quoted)
			break;
	}
	return s;
}

static void parse_lowerdir(struct opts *o, const char *val)
{
	const char *p = val, *start = val;

	if (!*val)
		fail("lowerdir= needs at least one directory");
	/* overlayfs resets the stack on a second lowerdir=; so does this. */
	o->lowers.n = 0;
	for (;;) {
		if (*p == '\\' && p[1]) {
			p += 2;
			continue;
		}
		if (*p == ':' || !*p) {
			if (p == start)
				fail("lowerdir=%s: an empty layer (data-only layers, \"::\") is not supported by rsunion",
				     val);
			strv_push(&o->lowers, unescape(start, p - start));
			if (!*p)
				break;
			start = p + 1;
		}
		p++;
	}
}

static bool selinux_enabled(void)
{
	return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

struct flag_opt {
	const char *name;
	unsigned long set, clear;
};

/* Mount flags: the VFS's, not rsunion's, so all of them are honoured. */
static const struct flag_opt flag_opts[] = {
	{ "ro", MS_RDONLY, 0 },
	{ "rw", 0, MS_RDONLY },
	{ "nodev", MS_NODEV, 0 },
	{ "dev", 0, MS_NODEV },
	{ "nosuid", MS_NOSUID, 0 },
	{ "suid", 0, MS_NOSUID },
	{ "noexec", MS_NOEXEC, 0 },
	{ "exec", 0, MS_NOEXEC },
	{ "noatime", MS_NOATIME, MS_RELATIME | MS_STRICTATIME },
	{ "relatime", MS_RELATIME, MS_NOATIME | MS_STRICTATIME },
	{ "strictatime", MS_STRICTATIME, MS_NOATIME | MS_RELATIME },
	{ "nodiratime", MS_NODIRATIME, 0 },
};

static const struct flag_opt propagation_opts[] = {
	{ "private", MS_PRIVATE, 0 },
	{ "rprivate", MS_PRIVATE | MS_REC, 0 },
	{ "shared", MS_SHARED, 0 },
	{ "rshared", MS_SHARED | MS_REC, 0 },
	{ "slave", MS_SLAVE, 0 },
	{ "rslave", MS_SLAVE | MS_REC, 0 },
	{ "unbindable", MS_UNBINDABLE, 0 },
	{ "runbindable", MS_UNBINDABLE | MS_REC, 0 },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * overlayfs options whose one value is what rsunion always does. Anything
 * else for these keys asks for a feature rsunion lacks and is refused.
 */
static const struct {
	const char *key, *values, *why;
} feature_opts[] = {
	{ "metacopy", "off", "rsunion copies data up with the metadata (no metacopy)" },
	{ "redirect_dir", "off nofollow",
	  "rsunion renames no merged directory by redirect (such a rename is EXDEV)" },
	{ "index", "off", "rsunion has no inode index (a copy-up breaks a lower hard link)" },
	{ "xino", "off auto", "rsunion has no xino: its inode numbers follow overlayfs's rules without it" },
};

static bool word_in(const char *word, const char *list)
{
	size_t n = strlen(word);
	const char *p = list;

	if (!n)
		return false;
	while ((p = strstr(p, word))) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

static void parse_item(struct opts *o, char *item)
{
	char *val = strchr(item, '=');
	size_t i;

	if (val)
		*val++ = '\0';

	if (!strcmp(item, "lowerdir") && val) {
		parse_lowerdir(o, val);
		return;
	}
	if (!strcmp(item, "lowerdir+") && val && *val) {
		strv_push(&o->lowers, unescape(val, strlen(val)));
		return;
	}
	if ((!strcmp(item, "upperdir") || !strcmp(item, "workdir")) && val) {
		if (!*val)
			fail("%s= needs a directory", item);
		*(item[0] == 'u' ? &o->upper : &o->work) = unescape(val, strlen(val));
		return;
	}
	if (!strcmp(item, "datadir+"))
		fail("refusing datadir+: rsunion has no data-only layers (it has no metacopy)");
	if (!strcmp(item, "whiteout") && val) {
		if (strcmp(val, "aufs"))
			fail("refusing whiteout=%s: a mount program writes aufs-format whiteouts, as containers/storage expects",
			     val);
		return;
	}
	if (!val) {
		for (i = 0; i < ARRAY_SIZE(flag_opts); i++) {
			if (!strcmp(item, flag_opts[i].name)) {
				o->flags = (o->flags & ~flag_opts[i].clear) | flag_opts[i].set;
				return;
			}
		}
		for (i = 0; i < ARRAY_SIZE(propagation_opts); i++) {
			if (!strcmp(item, propagation_opts[i].name)) {
				o->propagation = propagation_opts[i].set;
				return;
			}
		}
		/*
		 * overlayfs may skip syncing a volatile upper layer; rsunion
		 * always syncs it (fsync and syncfs reach the upper file
		 * system): durability is only stronger than asked.
		 */
		if (!strcmp(item, "volatile"))
			return;
		if (!strcmp(item, "userxattr"))
			fail("refusing userxattr: rootless (user namespace) mounts are not supported by rsunion; run as root");
	}
	for (i = 0; i < ARRAY_SIZE(feature_opts); i++) {
		if (strcmp(item, feature_opts[i].key))
			continue;
		if (val && word_in(val, feature_opts[i].values))
			return;
		fail("refusing %s=%s: %s", item, val ? val : "", feature_opts[i].why);
	}
	if (!strcmp(item, "uidmapping") || !strcmp(item, "gidmapping"))
		fail("refusing %s=: ID-shifted (user namespace) layers are not supported by rsunion", item);
	if (val && (!strcmp(item, "context") || !strcmp(item, "fscontext") ||
		    !strcmp(item, "defcontext") || !strcmp(item, "rootcontext"))) {
		if (!selinux_enabled())
			fail("refusing %s=: SELinux is not enabled here (no /sys/fs/selinux/enforce)", item);
		val[-1] = '=';
		strv_push(&o->lsm, item);
		return;
	}
	fail("refusing unknown option '%s%s%s'", item, val ? "=" : "", val ? val : "");
}

static void parse_options(struct opts *o, const char *s)
{
	const char *end;

	for (; *s; s = *end ? end + 1 : end) {
		end = item_end(s);
		if (end > s)
			parse_item(o, xstrndup(s, end - s));
	}
}

static int sys_fsopen(const char *fsname, unsigned int flags)
{
	return syscall(__NR_fsopen, fsname, flags);
}

static int sys_fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux)
{
	return syscall(__NR_fsconfig, fd, cmd, key, value, aux);
}

static int sys_fsmount(int fd, unsigned int flags, unsigned int attr_flags)
{
	return syscall(__NR_fsmount, fd, flags, attr_flags);
}

static int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to,
			  unsigned int flags)
{
	return syscall(__NR_move_mount, from_dfd, from, to_dfd, to, flags);
}

/*
 * The fs context's log: "e rsunion: ..." lines, joined by "; ". Keeps
 * errno, read beside it in the same call.
 */
static char *kernel_log(int fsfd)
{
	struct buf b = { 0 };
	char msg[1024];
	int err = errno;
	ssize_t n;

	while ((n = read(fsfd, msg, sizeof(msg) - 1)) > 0) {
		msg[n] = '\0';
		if (b.len)
			buf_str(&b, "; ");
		/* Each message starts with its level: "e ", "w " or "i ". */
		buf_str(&b, n > 2 && msg[1] == ' ' ? msg + 2 : msg);
	}
	errno = err;
	return b.s;
}

static void __attribute__((noreturn)) fail_errno(int err, const char *what, char *log)
{
	if (err == ENODEV)
		fail("%s: %s (is the rsunion module loaded?)", what, strerror(err));
	if (log)
		fail("%s: %s: %s", what, strerror(err), log);
	fail("%s: %s", what, strerror(err));
}

/* Keeps errno: it says what went wrong with what it names. */
static char *what(const char *fmt, const char *arg)
{
	int err = errno;
	char *s;

	if (asprintf(&s, fmt, arg) < 0)
		fail("out of memory");
	errno = err;
	return s;
}

/* An SELinux item as fsconfig wants it: key and value, quotes removed. */
static void lsm_split(const char *item, char **key, char **val)
{
	const char *eq = strchr(item, '=');
	size_t n;

	*key = xstrndup(item, eq - item);
	eq++;
	n = strlen(eq);
	if (n >= 2 && eq[0] == '"' && eq[n - 1] == '"')
		*val = xstrndup(eq + 1, n - 2);
	else
		*val = xstrndup(eq, n);
}

static char *escaped(const char *s)
{
	struct buf b = { 0 };

	buf_str(&b, "");
	buf_escaped(&b, s);
	return b.s;
}

static char *lowerdir_string(const struct opts *o)
{
	struct buf b = { 0 };
	size_t i;

	for (i = 0; i < o->lowers.n; i++) {
		if (i)
			buf_str(&b, ":");
		buf_escaped(&b, o->lowers.v[i]);
	}
	return b.s;
}

/*
 * Gives the options to an fs context: the layers in one "lowerdir" string
 * when it fits in a value, else one "lowerdir+" each (rsunion, like
 * overlayfs since 6.7, appends each below those given so far). Returns
 * NULL, or what failed with errno set.
 */
static const char *configure(int fsfd, const char *source, const struct opts *o)
{
	char *key, *val, *lower = lowerdir_string(o);
	size_t i;

	if (sys_fsconfig(fsfd, FSCONFIG_SET_STRING, "source", source, 0))
		return "fsconfig source";
	for (i = 0; i < o->lsm.n; i++) {
		lsm_split(o->lsm.v[i], &key, &val);
		if (sys_fsconfig(fsfd, FSCONFIG_SET_STRING, key, val, 0))
			return what("fsconfig %s", key);
	}
	if (strlen(lower) < FSCONFIG_VALUE_MAX) {
		if (sys_fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir", lower, 0))
			return "fsconfig lowerdir";
	} else {
		for (i = 0; i < o->lowers.n; i++) {
			if (sys_fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", o->lowers.v[i], 0))
				return what("fsconfig lowerdir+ %s", o->lowers.v[i]);
		}
	}
	/* rsunion undoes backslash escapes in these, as in mount(2)'s. */
	if (o->upper && sys_fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", escaped(o->upper), 0))
		return "fsconfig upperdir";
	if (o->work && sys_fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", escaped(o->work), 0))
		return "fsconfig workdir";
	if (sys_fsconfig(fsfd, FSCONFIG_SET_STRING, "whiteout", "aufs", 0))
		return "fsconfig whiteout";
	/* MOUNT_ATTR_RDONLY below makes the mount read-only, this the union. */
	if ((o->flags & MS_RDONLY) && sys_fsconfig(fsfd, FSCONFIG_SET_FLAG, "ro", NULL, 0))
		return "fsconfig ro";
	if (sys_fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		return "fsconfig create";
	return NULL;
}

static unsigned int mount_attrs(unsigned long flags)
{
	unsigned int attr = 0;

	if (flags & MS_RDONLY)
		attr |= MOUNT_ATTR_RDONLY;
	if (flags & MS_NOSUID)
		attr |= MOUNT_ATTR_NOSUID;
	if (flags & MS_NODEV)
		attr |= MOUNT_ATTR_NODEV;
	if (flags & MS_NOEXEC)
		attr |= MOUNT_ATTR_NOEXEC;
	if (flags & MS_NOATIME)
		attr |= MOUNT_ATTR_NOATIME;
	if (flags & MS_STRICTATIME)
		attr |= MOUNT_ATTR_STRICTATIME;
	if (flags & MS_NODIRATIME)
		attr |= MOUNT_ATTR_NODIRATIME;
	return attr;
}

static void check_value_sizes(const struct opts *o)
{
	size_t i;

	for (i = 0; i < o->lowers.n; i++) {
		if (strlen(o->lowers.v[i]) >= FSCONFIG_VALUE_MAX)
			fail("lowerdir %s: longer than the %d bytes fsconfig() takes, and the options do not fit in mount(2)'s page",
			     o->lowers.v[i], FSCONFIG_VALUE_MAX - 1);
	}
	if ((o->upper && strlen(escaped(o->upper)) >= FSCONFIG_VALUE_MAX) ||
	    (o->work && strlen(escaped(o->work)) >= FSCONFIG_VALUE_MAX))
		fail("upperdir or workdir longer than the %d bytes fsconfig() takes, and the options do not fit in mount(2)'s page",
		     FSCONFIG_VALUE_MAX - 1);
}

static void mount_fsconfig(const char *source, const char *target, const struct opts *o)
{
	int fsfd, mfd;
	const char *failed;

	check_value_sizes(o);
	fsfd = sys_fsopen(FSTYPE, FSOPEN_CLOEXEC);
	if (fsfd < 0)
		fail_errno(errno, "fsopen " FSTYPE, NULL);
	failed = configure(fsfd, source, o);
	if (failed)
		fail_errno(errno, failed, kernel_log(fsfd));
	mfd = sys_fsmount(fsfd, FSMOUNT_CLOEXEC, mount_attrs(o->flags));
	if (mfd < 0)
		fail_errno(errno, "fsmount", kernel_log(fsfd));
	if (sys_move_mount(mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH))
		fail_errno(errno, what("move_mount to %s", target), NULL);
	close(mfd);
	close(fsfd);
}

/*
 * mount(2) gives only an errno; the same options given to a fresh fs
 * context make the kernel say why, which is worth a second try. A union
 * it happens to create now is dropped with the context.
 */
static char *explain(const char *source, const struct opts *o)
{
	int fsfd = sys_fsopen(FSTYPE, FSOPEN_CLOEXEC);
	char *log;

	if (fsfd < 0)
		return NULL;
	configure(fsfd, source, o);
	log = kernel_log(fsfd);
	close(fsfd);
	return log;
}

static void mount_monolithic(const char *source, const char *target, const struct opts *o,
			     const char *data)
{
	int err;

	if (!mount(source, target, FSTYPE, o->flags, data))
		return;
	err = errno;
	fail_errno(err, what("mount " FSTYPE " on %s", target), explain(source, o));
}

static void usage(void)
{
	fprintf(stderr, "usage: " PROG " [-o OPTIONS]... [SOURCE] TARGET\n"
		"  OPTIONS: lowerdir=TOP:...:BOTTOM[,upperdir=DIR,workdir=DIR][,ro|nodev|nosuid|noexec|...]\n");
	exit(1);
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct buf data = { 0 };
	const char *pos[2], *source, *target;
	int npos = 0, i;
	bool dashdash = false;
	size_t j;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!dashdash && !strcmp(a, "--")) {
			dashdash = true;
		} else if (!dashdash && !strcmp(a, "-o")) {
			if (++i == argc)
				fail("-o needs an argument");
			parse_options(&o, argv[i]);
		} else if (!dashdash && !strncmp(a, "-o", 2)) {
			parse_options(&o, a + 2);
		} else if (!dashdash && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
			usage();
		} else if (!dashdash && a[0] == '-' && a[1]) {
			fail("unknown argument '%s' (usage: " PROG " [-o OPTIONS]... [SOURCE] TARGET)", a);
		} else {
			if (npos == 2)
				fail("too many arguments (usage: " PROG " [-o OPTIONS]... [SOURCE] TARGET)");
			pos[npos++] = a;
		}
	}
	if (npos == 0)
		usage();
	if (!o.lowers.n)
		fail("no lowerdir= given: rsunion needs at least one lower layer");
	if (!o.upper != !o.work)
		fail("upperdir= and workdir= go together: give both or neither");

	buf_str(&data, "lowerdir=");
	buf_str(&data, lowerdir_string(&o));
	if (o.upper) {
		buf_str(&data, ",upperdir=");
		buf_escaped(&data, o.upper);
		buf_str(&data, ",workdir=");
		buf_escaped(&data, o.work);
	}
	buf_str(&data, ",whiteout=aufs");
	for (j = 0; j < o.lsm.n; j++) {
		buf_str(&data, ",");
		buf_str(&data, o.lsm.v[j]);
	}

	source = npos == 2 ? pos[0] : FSTYPE;
	target = pos[npos - 1];
	/* mount(2) copies one page of data, its terminating NUL included. */
	if (data.len < (size_t)sysconf(_SC_PAGESIZE))
		mount_monolithic(source, target, &o, data.s);
	else
		mount_fsconfig(source, target, &o);
	if (o.propagation && mount(NULL, target, NULL, o.propagation, NULL))
		fail_errno(errno, what("setting the propagation of %s", target), NULL);
	return 0;
}
