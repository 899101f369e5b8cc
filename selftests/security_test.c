// SPDX-License-Identifier: GPL-2.0
/*
 * Nothing lets a caller do through the union what the layers would deny
 * it: ACLs survive copy-up and are never stale, privileges are dropped as
 * for the caller, the mounter's CAP_SYS_RESOURCE is not lent out, trusted.*
 * names are hidden from the unprivileged, nobody makes whiteouts, a
 * read-only union stays read-only, layers may not overlap, and syncfs(2)
 * reaches the upper filesystem. Unprivileged steps run as uid 65534 and as
 * uid 1000 with supplementary group 1001.
 */
#include <grp.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

#define ACL_ACCESS	"system.posix_acl_access"
#define ACL_DEFAULT	"system.posix_acl_default"
#define NOBODY		65534
#define ALICE		1000
#define ALICE_GROUP	1001

struct acl_entry {
	uint16_t tag;
	uint16_t perm;
	uint32_t id;
};

/* user::rw-, user:UID:PERM, group::r--, mask::rw-, other::r-- */
struct acl5 {
	uint32_t version;
	struct acl_entry e[5];
};

static struct acl5 acl_user(uint32_t uid, uint16_t perm)
{
	struct acl5 a = {
		.version = 2,
		.e = {
			{ 0x01, 6, -1 }, { 0x02, perm, uid }, { 0x04, 4, -1 },
			{ 0x10, 6, -1 }, { 0x20, 4, -1 },
		},
	};
	return a;
}

FIXTURE(sec) {
	char dir[64];
	char lower[128];
	char upper[128];
	char work[128];
	char mnt[128];
	char opts[512];
};

FIXTURE_SETUP(sec)
{
	struct acl5 deny = acl_user(NOBODY, 0);

	ASSERT_EQ(0, rsunion_ensure_loaded());
	ASSERT_EQ(0, scratch_layers(self->dir, self->lower, self->upper, self->work, self->mnt));
	ASSERT_EQ(0, chmod(self->dir, 0755));
	/* Readable by all but nobody, whom the ACL denies. */
	ASSERT_EQ(0, write_file(in_dir(self->lower, "denied"), "secret\n"));
	ASSERT_EQ(0, chmod(in_dir(self->lower, "denied"), 0644));
	ASSERT_EQ(0, setxattr(in_dir(self->lower, "denied"), ACL_ACCESS, &deny, sizeof(deny), 0));
	ASSERT_EQ(0, write_file(in_dir(self->lower, "open"), "for all\n"));
	ASSERT_EQ(0, chmod(in_dir(self->lower, "open"), 0644));
	/* A directory whose default ACL denies nobody what is made in it. */
	ASSERT_EQ(0, mkdir(in_dir(self->lower, "dacl"), 0755));
	ASSERT_EQ(0, setxattr(in_dir(self->lower, "dacl"), ACL_DEFAULT, &deny, sizeof(deny), 0));
	/* setuid and setgid, writable by everyone. */
	ASSERT_EQ(0, write_file(in_dir(self->lower, "suid"), "privileged\n"));
	ASSERT_EQ(0, chmod(in_dir(self->lower, "suid"), 06777));
	/* setgid, owned by alice, group root: alice is not in the group. */
	ASSERT_EQ(0, write_file(in_dir(self->lower, "sgid"), "group\n"));
	ASSERT_EQ(0, chown(in_dir(self->lower, "sgid"), ALICE, 0));
	ASSERT_EQ(0, chmod(in_dir(self->lower, "sgid"), 02775));
	ASSERT_EQ(0, write_file(in_dir(self->lower, "xattrs"), "x\n"));
	ASSERT_EQ(0, setxattr(in_dir(self->lower, "xattrs"), "trusted.secret", "t", 1, 0));
	ASSERT_EQ(0, setxattr(in_dir(self->lower, "xattrs"), "user.plain", "u", 1, 0));
	ASSERT_EQ(0, mkdir(in_dir(self->lower, "pub"), 01777));
	ASSERT_EQ(0, chmod(in_dir(self->lower, "pub"), 01777));
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 self->lower, self->upper, self->work);
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, self->opts))
		TH_LOG("mount: %s", strerror(errno));
}

FIXTURE_TEARDOWN(sec)
{
	umount2(self->mnt, MNT_DETACH);
	scratch_put(self->dir);
}

/* Become UID (ALICE with her supplementary group); in a child. */
static void become(uid_t uid)
{
	gid_t group = ALICE_GROUP;

	if (setgroups(uid == ALICE ? 1 : 0, &group) || setresgid(uid, uid, uid) ||
	    setresuid(uid, uid, uid))
		_exit(254);
}

/* Can UID open PATH with FLAGS? 0, or the errno. */
static int open_as(uid_t uid, const char *path, int flags)
{
	pid_t pid = fork();
	int status, fd;

	if (pid == 0) {
		become(uid);
		fd = open(path, flags | O_CLOEXEC);
		_exit(fd < 0 ? errno : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WEXITSTATUS(status);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? (mode_t)-1 : st.st_mode & 07777;
}

/* A deny entry of the lower ACL holds after a copy-up (a mere touch). */
TEST_F(sec, lower_acl_survives_copy_up)
{
	struct acl5 got;

	ASSERT_EQ(EACCES, open_as(NOBODY, in_dir(self->mnt, "denied"), O_RDONLY));
	ASSERT_EQ(0, open_as(ALICE, in_dir(self->mnt, "denied"), O_RDONLY));
	ASSERT_EQ(0, utimes(in_dir(self->mnt, "denied"), NULL));
	ASSERT_EQ(0, lstat_errno(in_dir(self->upper, "denied")));
	ASSERT_EQ(sizeof(got), getxattr(in_dir(self->upper, "denied"), ACL_ACCESS, &got, sizeof(got)))
		TH_LOG("upper ACL: %s", strerror(errno));
	ASSERT_EQ(EACCES, open_as(NOBODY, in_dir(self->mnt, "denied"), O_RDONLY));
	ASSERT_EQ(0, open_as(ALICE, in_dir(self->mnt, "denied"), O_RDONLY));
	/* A directory's default ACL goes up with it. */
	ASSERT_EQ(0, chmod(in_dir(self->mnt, "dacl"), 0755));
	ASSERT_EQ(sizeof(got), getxattr(in_dir(self->upper, "dacl"), ACL_DEFAULT, &got, sizeof(got)));
	ASSERT_EQ(0, write_file(in_dir(self->mnt, "dacl/new"), "n\n"));
	ASSERT_EQ(EACCES, open_as(NOBODY, in_dir(self->mnt, "dacl/new"), O_RDONLY));
}

/* An ACL set, then removed, through the union counts at once. */
TEST_F(sec, acl_changes_count_at_once)
{
	struct acl5 deny = acl_user(NOBODY, 0);

	ASSERT_EQ(0, open_as(NOBODY, in_dir(self->mnt, "open"), O_RDONLY));
	ASSERT_EQ(0, setxattr(in_dir(self->mnt, "open"), ACL_ACCESS, &deny, sizeof(deny), 0));
	ASSERT_EQ(EACCES, open_as(NOBODY, in_dir(self->mnt, "open"), O_RDONLY));
	ASSERT_EQ(0, removexattr(in_dir(self->mnt, "open"), ACL_ACCESS));
	ASSERT_EQ(0, chmod(in_dir(self->mnt, "open"), 0644));
	ASSERT_EQ(0, open_as(NOBODY, in_dir(self->mnt, "open"), O_RDONLY));
}

/* Setting an ACL as an owner outside the group clears S_ISGID. */
TEST_F(sec, set_acl_by_owner_outside_group_clears_sgid)
{
	pid_t pid;
	int status;

	ASSERT_EQ(02775, mode_of(in_dir(self->mnt, "sgid")));
	pid = fork();
	if (pid == 0) {
		struct acl5 a = acl_user(NOBODY, 4);

		become(ALICE);
		_exit(setxattr(in_dir(self->mnt, "sgid"), ACL_ACCESS, &a, sizeof(a), 0) ? errno : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, mode_of(in_dir(self->mnt, "sgid")) & S_ISGID);
}

/* Runs OP (fallocate or write) on PATH as UID; 0, or the errno. */
static int modify_as(uid_t uid, const char *path, bool use_fallocate)
{
	pid_t pid = fork();
	int status, fd, err;

	if (pid == 0) {
		become(uid);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(errno);
		if (use_fallocate)
			err = fallocate(fd, 0, 0, 8192) ? errno : 0;
		else
			err = pwrite(fd, "w", 1, 0) == 1 ? 0 : errno;
		_exit(err);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WEXITSTATUS(status);
}

TEST_F(sec, fallocate_by_non_owner_drops_setuid_setgid)
{
	ASSERT_EQ(0, modify_as(NOBODY, in_dir(self->mnt, "suid"), true));
	ASSERT_EQ(0777, mode_of(in_dir(self->mnt, "suid")));
	ASSERT_EQ(0777, mode_of(in_dir(self->upper, "suid")));
}

TEST_F(sec, write_by_non_owner_drops_setuid_setgid)
{
	ASSERT_EQ(0, modify_as(ALICE, in_dir(self->mnt, "suid"), false));
	ASSERT_EQ(0777, mode_of(in_dir(self->mnt, "suid")));
}

/*
 * A write that finds nothing to drop marks the union inode S_NOSEC (the
 * union inherits SB_NOSEC from its upper layer, as overlayfs does), and
 * later writes skip the check. A chmod through the union clears the mark,
 * or the next write would keep a setgid bit the writer must drop: the
 * real file's own check, made as the mounter, whose CAP_FSETID keeps
 * setgid bits, does not drop it.
 */
TEST_F(sec, write_after_chmod_setgid_drops_it_again)
{
	const char *sgid = in_dir(self->mnt, "sgid");

	ASSERT_EQ(0, modify_as(ALICE, sgid, false));
	ASSERT_EQ(0775, mode_of(sgid));
	ASSERT_EQ(0, chmod(sgid, 02775));
	ASSERT_EQ(0, modify_as(ALICE, sgid, false));
	ASSERT_EQ(0775, mode_of(sgid));
	ASSERT_EQ(0775, mode_of(in_dir(self->upper, "sgid")));
}

/*
 * A file capability set through the union on a file marked S_NOSEC goes
 * with the next write. Here the upper filesystem's own check drops it as
 * well (who writes does not matter for a capability): this shows that the
 * mark leaves the union's writes no way to keep it, not which check drops
 * it.
 */
TEST_F(sec, write_after_file_capability_set_drops_it)
{
	/* struct vfs_cap_data, revision 2, little-endian: CAP_NET_RAW. */
	const unsigned char cap[20] = { 0, 0, 0, 2, 0, 0x20 };
	const char *open_ = in_dir(self->mnt, "open");
	char value[sizeof(cap)];

	ASSERT_EQ(0, chmod(open_, 0666));
	ASSERT_EQ(0, modify_as(ALICE, open_, false));
	ASSERT_EQ(0, setxattr(open_, "security.capability", cap, sizeof(cap), 0))
		TH_LOG("setxattr: %s", strerror(errno));
	ASSERT_EQ(sizeof(cap), getxattr(open_, "security.capability", value, sizeof(value)));
	ASSERT_EQ(0, modify_as(ALICE, open_, false));
	EXPECT_EQ(-1, getxattr(open_, "security.capability", value, sizeof(value)));
	EXPECT_EQ(ENODATA, errno);
	EXPECT_EQ(-1, getxattr(in_dir(self->upper, "open"), "security.capability", value,
			       sizeof(value)));
}

/* Lists PATH's xattr names as UID into BUF; the length, or -errno. */
static ssize_t list_as(uid_t uid, const char *path, char *buf, size_t size)
{
	int pipefd[2], status;
	ssize_t n = -1;
	pid_t pid;

	if (pipe(pipefd))
		return -errno;
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		become(uid);
		n = listxattr(path, buf, size);
		if (n < 0)
			n = -errno;
		if (write(pipefd[1], &n, sizeof(n)) != sizeof(n) ||
		    (n > 0 && write(pipefd[1], buf, n) != n))
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &n, sizeof(n)) != sizeof(n))
		n = -EIO;
	else if (n > 0 && read(pipefd[0], buf, n) != n)
		n = -EIO;
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return n;
}

static bool listed(const char *list, ssize_t len, const char *name)
{
	ssize_t i;

	for (i = 0; i < len; i += strlen(list + i) + 1)
		if (!strcmp(list + i, name))
			return true;
	return false;
}

TEST_F(sec, listxattr_hides_trusted_from_unprivileged)
{
	char list[1024];
	ssize_t n;

	n = listxattr(in_dir(self->mnt, "xattrs"), list, sizeof(list));
	ASSERT_GT(n, 0);
	ASSERT_TRUE(listed(list, n, "trusted.secret"));
	ASSERT_TRUE(listed(list, n, "user.plain"));
	n = list_as(NOBODY, in_dir(self->mnt, "xattrs"), list, sizeof(list));
	ASSERT_GT(n, 0);
	ASSERT_FALSE(listed(list, n, "trusted.secret"));
	ASSERT_TRUE(listed(list, n, "user.plain"));
	n = list_as(ALICE, in_dir(self->mnt, "xattrs"), list, sizeof(list));
	ASSERT_GT(n, 0);
	ASSERT_FALSE(listed(list, n, "trusted.secret"));
}

/* A char device 0/0 would be a whiteout: refused to root and others. */
TEST_F(sec, mknod_of_a_whiteout_refused)
{
	pid_t pid;
	int status;

	ASSERT_EQ(-1, mknod(in_dir(self->mnt, "wh"), S_IFCHR | 0600, makedev(0, 0)));
	ASSERT_EQ(EPERM, errno);
	pid = fork();
	if (pid == 0) {
		become(NOBODY);
		_exit(mknod(in_dir(self->mnt, "pub/wh"), S_IFCHR | 0600, makedev(0, 0)) ? errno : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(EPERM, WEXITSTATUS(status));
	ASSERT_EQ(ENOENT, lstat_errno(in_dir(self->upper, "pub/wh")));
	ASSERT_EQ(ENOENT, lstat_errno(in_dir(self->upper, "wh")));
}

/* A union without an upper layer cannot be remounted writable. */
TEST_F(sec, remount_rw_without_upper_refused)
{
	char opts[512], ro[PATH_MAX];
	int mark, fd;

	snprintf(ro, sizeof(ro), "%s/ro", self->dir);
	ASSERT_EQ(0, mkdirs(ro));
	ASSERT_EQ(0, mkdirs(in_dir(self->dir, "l2")));
	snprintf(opts, sizeof(opts), "lowerdir=%s:%s/l2", self->lower, self->dir);
	ASSERT_EQ(0, mount("none", ro, "rsunion", 0, opts));
	mark = kmsg_mark();
	ASSERT_EQ(-1, mount("none", ro, NULL, MS_REMOUNT, NULL));
	ASSERT_EQ(EROFS, errno);
	ASSERT_TRUE(kmsg_has(mark, "cannot be made writable"));
	fd = open(in_dir(ro, "open"), O_WRONLY | O_CLOEXEC);
	ASSERT_EQ(-1, fd);
	ASSERT_EQ(EROFS, errno);
	/* Remounting read-only again, with mount(8)'s old options, works. */
	ASSERT_EQ(0, mount("none", ro, NULL, MS_REMOUNT | MS_RDONLY, opts));
	ASSERT_EQ(0, umount(ro));
}

/* Mounts with OPTS; the errno (0 when it mounted, then unmounted). */
static int try_mount(const char *target, const char *opts)
{
	if (mount("none", target, "rsunion", 0, opts))
		return errno;
	umount(target);
	return 0;
}

TEST_F(sec, overlapping_layers_refused)
{
	char opts[4 * PATH_MAX], t[PATH_MAX], bind[PATH_MAX];
	int mark;

	snprintf(t, sizeof(t), "%s/t", self->dir);
	ASSERT_EQ(0, mkdirs(t));
	ASSERT_EQ(0, mkdirs(in_dir(self->lower, "inner/u")));
	ASSERT_EQ(0, mkdirs(in_dir(self->lower, "inner/w")));
	/* The upper layer inside a lower one. */
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s/inner/u,workdir=%s/inner/w",
		 self->lower, self->lower, self->lower);
	mark = kmsg_mark();
	ASSERT_EQ(ELOOP, try_mount(t, opts));
	ASSERT_TRUE(kmsg_has(mark, "layers overlap"));
	/* A lower layer inside the upper one. */
	ASSERT_EQ(0, mkdirs(in_dir(self->upper, "below")));
	snprintf(opts, sizeof(opts), "lowerdir=%s/below,upperdir=%s,workdir=%s",
		 self->upper, self->upper, self->work);
	ASSERT_EQ(ELOOP, try_mount(t, opts));
	/* One directory as two lower layers. */
	snprintf(opts, sizeof(opts), "lowerdir=%s:%s", self->lower, self->lower);
	mark = kmsg_mark();
	ASSERT_EQ(ELOOP, try_mount(t, opts));
	ASSERT_TRUE(kmsg_has(mark, "two layers"));
	/* The work directory through a read-only bind mount of the upper's fs. */
	snprintf(bind, sizeof(bind), "%s/bind", self->dir);
	ASSERT_EQ(0, mkdirs(bind));
	ASSERT_EQ(0, mount(self->work, bind, NULL, MS_BIND, NULL));
	ASSERT_EQ(0, mount(NULL, bind, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 self->lower, self->upper, bind);
	mark = kmsg_mark();
	ASSERT_EQ(EINVAL, try_mount(t, opts));
	ASSERT_TRUE(kmsg_has(mark, "same mount"));
	ASSERT_EQ(0, umount(bind));
}

/*
 * An object made where a lower one was removed (over a whiteout) is made
 * in the work directory first: it still gets what the directory gives
 * anything new in it, a setgid directory's group and bit and the default
 * ACL, exactly as a sibling made at a fresh name.
 */
TEST_F(sec, made_over_a_whiteout_inherits_like_a_fresh_name)
{
	struct acl5 dacl = acl_user(ALICE, 6);
	char a1[256], a2[256];
	struct stat over, fresh;
	ssize_t n1, n2;

	ASSERT_EQ(0, mkdir(in_dir(self->lower, "inh"), 0755));
	ASSERT_EQ(0, write_file(in_dir(self->lower, "inh/gone"), "x\n"));
	ASSERT_EQ(0, umount(self->mnt));
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, self->opts));
	ASSERT_EQ(0, chown(in_dir(self->mnt, "inh"), 0, ALICE_GROUP));
	ASSERT_EQ(0, chmod(in_dir(self->mnt, "inh"), 02775));
	ASSERT_EQ(0, setxattr(in_dir(self->mnt, "inh"), ACL_DEFAULT, &dacl, sizeof(dacl), 0));
	ASSERT_EQ(0, unlink(in_dir(self->mnt, "inh/gone")));
	ASSERT_EQ(0, mkdir(in_dir(self->mnt, "inh/gone"), 0700));
	ASSERT_EQ(0, mkdir(in_dir(self->mnt, "inh/fresh"), 0700));
	ASSERT_EQ(0, stat(in_dir(self->mnt, "inh/gone"), &over));
	ASSERT_EQ(0, stat(in_dir(self->mnt, "inh/fresh"), &fresh));
	ASSERT_EQ(fresh.st_mode, over.st_mode);
	ASSERT_EQ(ALICE_GROUP, over.st_gid);
	ASSERT_TRUE(over.st_mode & S_ISGID);
	n1 = getxattr(in_dir(self->mnt, "inh/gone"), ACL_DEFAULT, a1, sizeof(a1));
	n2 = getxattr(in_dir(self->mnt, "inh/fresh"), ACL_DEFAULT, a2, sizeof(a2));
	ASSERT_GT(n1, 0) TH_LOG("no default ACL: %s", strerror(errno));
	ASSERT_EQ(n2, n1);
	ASSERT_EQ(0, memcmp(a1, a2, n1));
	n1 = getxattr(in_dir(self->mnt, "inh/gone"), ACL_ACCESS, a1, sizeof(a1));
	n2 = getxattr(in_dir(self->mnt, "inh/fresh"), ACL_ACCESS, a2, sizeof(a2));
	ASSERT_EQ(n2, n1);
	ASSERT_GT(n1, 0);
	ASSERT_EQ(0, memcmp(a1, a2, n1));
}

/*
 * A symlink made over a whiteout takes a setgid directory's group too (the
 * differential tester's seed 1002: it kept the work directory's).
 */
TEST_F(sec, symlink_made_over_a_whiteout_takes_the_setgid_group)
{
	struct stat over, fresh;

	ASSERT_EQ(0, mkdir(in_dir(self->lower, "sgl"), 0755));
	ASSERT_EQ(0, write_file(in_dir(self->lower, "sgl/gone"), "x\n"));
	ASSERT_EQ(0, umount(self->mnt));
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, self->opts));
	ASSERT_EQ(0, chown(in_dir(self->mnt, "sgl"), 0, ALICE_GROUP));
	ASSERT_EQ(0, chmod(in_dir(self->mnt, "sgl"), 02775));
	ASSERT_EQ(0, unlink(in_dir(self->mnt, "sgl/gone")));
	ASSERT_EQ(0, symlink("target", in_dir(self->mnt, "sgl/gone")));
	ASSERT_EQ(0, symlink("target", in_dir(self->mnt, "sgl/fresh")));
	ASSERT_EQ(0, lstat(in_dir(self->mnt, "sgl/gone"), &over));
	ASSERT_EQ(0, lstat(in_dir(self->mnt, "sgl/fresh"), &fresh));
	ASSERT_EQ(ALICE_GROUP, fresh.st_gid);
	ASSERT_EQ(ALICE_GROUP, over.st_gid);
	ASSERT_EQ(fresh.st_mode, over.st_mode);
}

/*
 * An upper filesystem without trusted xattrs or RENAME_WHITEOUT (ramfs)
 * cannot hold overlay-format whiteouts: the mount says so in dmesg and
 * writes aufs-format ones, so removing a lower file, making a directory
 * where a lower one was removed and renaming a lower file all work;
 * whiteout=overlay asked for there is refused with EINVAL.
 */
TEST_F(sec, upper_without_overlay_features_gets_aufs_whiteouts)
{
	char opts[3 * PATH_MAX], ram[PATH_MAX], m[PATH_MAX];
	struct stat st;
	int mark;

	ASSERT_EQ(0, write_file(in_dir(self->lower, "rmme"), "x\n"));
	ASSERT_EQ(0, write_file(in_dir(self->lower, "mvme"), "x\n"));
	ASSERT_EQ(0, mkfile(in_dir(self->lower, "rdir/f"), "x\n"));
	snprintf(ram, sizeof(ram), "%s/ram", self->dir);
	snprintf(m, sizeof(m), "%s/m2", self->dir);
	ASSERT_EQ(0, mkdirs(ram));
	ASSERT_EQ(0, mkdirs(m));
	ASSERT_EQ(0, mount("ram", ram, "ramfs", 0, NULL));
	ASSERT_EQ(0, mkdirs(in_dir(ram, "u")));
	ASSERT_EQ(0, mkdirs(in_dir(ram, "w")));
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s/u,workdir=%s/w",
		 self->lower, ram, ram);
	mark = kmsg_mark();
	ASSERT_EQ(0, mount("none", m, "rsunion", 0, opts)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, unlink(in_dir(m, "rmme")));
	ASSERT_EQ(ENOENT, stat_errno(in_dir(m, "rmme")));
	ASSERT_EQ(0, lstat(in_dir(ram, "u/.wh.rmme"), &st));
	ASSERT_TRUE(S_ISREG(st.st_mode));
	ASSERT_EQ(0, unlink(in_dir(m, "rdir/f")));
	ASSERT_EQ(0, rmdir(in_dir(m, "rdir")));
	ASSERT_EQ(0, mkdir(in_dir(m, "rdir"), 0755)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(ENOENT, stat_errno(in_dir(m, "rdir/f")));
	ASSERT_EQ(0, rename(in_dir(m, "mvme"), in_dir(m, "moved"))) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(ENOENT, stat_errno(in_dir(m, "mvme")));
	ASSERT_TRUE(kmsg_has(mark, "writing aufs-format whiteouts"));
	ASSERT_EQ(0, umount(m));
	/* Read back as the same union after a remount. */
	ASSERT_EQ(0, mount("none", m, "rsunion", 0, opts));
	ASSERT_EQ(ENOENT, stat_errno(in_dir(m, "rmme")));
	ASSERT_EQ(ENOENT, stat_errno(in_dir(m, "rdir/f")));
	ASSERT_EQ(0, stat_errno(in_dir(m, "moved")));
	ASSERT_EQ(0, umount(m));
	strncat(opts, ",whiteout=overlay", sizeof(opts) - strlen(opts) - 1);
	mark = kmsg_mark();
	ASSERT_EQ(-1, mount("none", m, "rsunion", 0, opts));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_TRUE(kmsg_has(mark, "whiteout=overlay: the upper filesystem has no"));
	ASSERT_EQ(0, umount(ram));
}

/*
 * An ext4 image at DIR/img mounted at DIR/ext, RESERVED % of it kept for
 * uid 4242 and for CAP_SYS_RESOURCE (not for uid 0, whose fsuid the
 * mounter's credentials have, so that only the capability can reach it).
 */
static int ext4_upper(const char *dir, int reserved)
{
	char cmd[4 * PATH_MAX];

	snprintf(cmd, sizeof(cmd),
		 "truncate -s 32M %s/img && mkfs.ext4 -q -F -m %d %s/img && mkdir -p %s/ext && "
		 "mount -o loop,resuid=4242 %s/img %s/ext && mkdir %s/ext/u %s/ext/w && "
		 "chmod 1777 %s/ext/u",
		 dir, reserved, dir, dir, dir, dir, dir, dir, dir);
	return sh(cmd);
}

/*
 * The mounter's CAP_SYS_RESOURCE is not lent to callers: an unprivileged
 * writer stops where the filesystem's reserve for root begins.
 */
TEST_F(sec, unprivileged_writer_cannot_use_reserved_blocks)
{
	char opts[4 * PATH_MAX], t[PATH_MAX], ext[PATH_MAX], buf[65536];
	struct statvfs sv;
	long long written = 0, allowed;
	int status, pipefd[2];
	pid_t pid;

	if (ext4_upper(self->dir, 50))
		SKIP(return, "no mkfs.ext4 or loop device here");
	snprintf(ext, sizeof(ext), "%s/ext", self->dir);
	snprintf(t, sizeof(t), "%s/t", self->dir);
	ASSERT_EQ(0, mkdirs(t));
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s/u,workdir=%s/w",
		 self->lower, ext, ext);
	ASSERT_EQ(0, mount("none", t, "rsunion", 0, opts));
	ASSERT_EQ(0, statvfs(ext, &sv));
	allowed = (long long)sv.f_bavail * sv.f_bsize;
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	if (pid == 0) {
		int fd;

		become(NOBODY);
		fd = open(in_dir(t, "fill"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			_exit(1);
		memset(buf, 'x', sizeof(buf));
		while (write(fd, buf, sizeof(buf)) > 0)
			written += sizeof(buf);
		close(fd);
		if (write(pipefd[1], &written, sizeof(written)) != sizeof(written))
			_exit(2);
		_exit(0);
	}
	close(pipefd[1]);
	ASSERT_EQ(sizeof(written), read(pipefd[0], &written, sizeof(written)));
	close(pipefd[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	TH_LOG("nobody wrote %lld bytes, %lld were free to non-root", written, allowed);
	ASSERT_LE(written, allowed + (1 << 20));
	umount(t);
	umount(ext);
}

/* Whether FILE's bytes contain NEEDLE (LEN bytes). */
static bool file_contains(const char *file, const char *needle, size_t len)
{
	static char buf[1 << 20];
	bool found = false;
	size_t keep = 0;
	ssize_t n;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	while (!found && (n = read(fd, buf + keep, sizeof(buf) - keep)) > 0) {
		size_t have = keep + n;

		found = memmem(buf, have, needle, len) != NULL;
		keep = have < len ? have : len - 1;
		memmove(buf, buf + have - keep, keep);
	}
	close(fd);
	return found;
}

/* syncfs(2) on the union writes back the upper filesystem. */
TEST_F(sec, syncfs_reaches_the_upper_filesystem)
{
	char opts[4 * PATH_MAX], t[PATH_MAX], ext[PATH_MAX], img[PATH_MAX];
	char pattern[4096];
	int fd, i;

	if (ext4_upper(self->dir, 5))
		SKIP(return, "no mkfs.ext4 or loop device here");
	snprintf(ext, sizeof(ext), "%s/ext", self->dir);
	snprintf(img, sizeof(img), "%s/img", self->dir);
	snprintf(t, sizeof(t), "%s/t", self->dir);
	ASSERT_EQ(0, mkdirs(t));
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s/u,workdir=%s/w",
		 self->lower, ext, ext);
	ASSERT_EQ(0, mount("none", t, "rsunion", 0, opts));
	for (i = 0; i < (int)sizeof(pattern); i++)
		pattern[i] = "rsunion-syncfs-"[i % 15] ^ (i / 15 % 7);
	fd = open(in_dir(t, "durable"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(sizeof(pattern), write(fd, pattern, sizeof(pattern)));
	/* Not yet written back: the test would prove nothing otherwise. */
	ASSERT_FALSE(file_contains(img, pattern, sizeof(pattern)));
	ASSERT_EQ(0, syncfs(fd));
	ASSERT_TRUE(file_contains(img, pattern, sizeof(pattern)));
	close(fd);
	umount(t);
	umount(ext);
}

TEST_HARNESS_MAIN
