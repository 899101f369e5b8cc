// SPDX-License-Identifier: GPL-2.0
/*
 * POSIX ACLs: the real objects' ACLs count in permission checks on the
 * union, read back through it, and change (after a copy-up) on the upper
 * copy only.
 */
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

#define ACL_ACCESS "system.posix_acl_access"
#define ACL_DEFAULT "system.posix_acl_default"

/* The xattr form of an ACL (include/uapi/linux/posix_acl_xattr.h). */
struct acl_entry {
	uint16_t tag;
	uint16_t perm;
	uint32_t id;
};

struct acl {
	uint32_t version;
	struct acl_entry e[5];
};

/* rw for the owner, r for user UID, nothing for anyone else. */
static struct acl acl_for(uint32_t uid)
{
	struct acl a = {
		.version = 2,
		.e = {
			{ .tag = 0x01, .perm = 6, .id = -1 },	/* user::rw- */
			{ .tag = 0x02, .perm = 4, .id = uid },	/* user:UID:r-- */
			{ .tag = 0x04, .perm = 0, .id = -1 },	/* group::--- */
			{ .tag = 0x10, .perm = 4, .id = -1 },	/* mask::r-- */
			{ .tag = 0x20, .perm = 0, .id = -1 },	/* other::--- */
		},
	};
	return a;
}

FIXTURE(acl) {
	char dir[64];
	char path[512];
};

static const char *path_in(char *buf, size_t size, const char *dir, const char *rel)
{
	snprintf(buf, size, "%s/%s", dir, rel);
	return buf;
}

/* REL in a fixture's scratch directory, in the fixture's path buffer. */
#define at(self, rel) path_in((self)->path, sizeof((self)->path), (self)->dir, (rel))

FIXTURE_SETUP(acl)
{
	struct acl a = acl_for(1000);
	char opts[512];

	ASSERT_EQ(0, rsunion_ensure_loaded());
	ASSERT_EQ(0, scratch_get(self->dir));
	ASSERT_EQ(0, mkdirs(at(self, "l")));
	ASSERT_EQ(0, write_file(at(self, "l/f"), "secret\n"));
	ASSERT_EQ(0, chmod(at(self, "l/f"), 0600));
	ASSERT_EQ(0, setxattr(at(self, "l/f"), ACL_ACCESS, &a, sizeof(a), 0))
		TH_LOG("setxattr: %s", strerror(errno));
	ASSERT_EQ(0, write_file(at(self, "l/g"), "plain\n"));
	ASSERT_EQ(0, chmod(at(self, "l/g"), 0600));
	ASSERT_EQ(0, mkdirs(at(self, "u")));
	ASSERT_EQ(0, mkdirs(at(self, "w")));
	ASSERT_EQ(0, mkdirs(at(self, "mnt")));
	snprintf(opts, sizeof(opts), "lowerdir=%s/l,upperdir=%s/u,workdir=%s/w",
		 self->dir, self->dir, self->dir);
	ASSERT_EQ(0, mount("none", at(self, "mnt"), "rsunion", 0, opts));
}

FIXTURE_TEARDOWN(acl)
{
	umount2(at(self, "mnt"), MNT_DETACH);
	scratch_put(self->dir);
}

/* Can PATH be opened for reading? 0, or the errno. */
static int open_for_read(const char *path, const char *unused)
{
	return open_errno(path, O_RDONLY);
}

TEST_F(acl, lower_acl_grants_access_through_union)
{
	ASSERT_EQ(0, run_as(1000, open_for_read, at(self, "mnt/f"), NULL));
	ASSERT_EQ(EACCES, run_as(1001, open_for_read, at(self, "mnt/f"), NULL));
	ASSERT_EQ(EACCES, run_as(1000, open_for_read, at(self, "mnt/g"), NULL));
}

TEST_F(acl, acl_reads_back_through_union)
{
	struct acl a = acl_for(1000), got;

	ASSERT_EQ(sizeof(a), getxattr(at(self, "mnt/f"), ACL_ACCESS, &got, sizeof(got)));
	ASSERT_EQ(0, memcmp(&a, &got, sizeof(a)));
}

TEST_F(acl, set_acl_copies_up_and_changes_upper_only)
{
	struct acl a = acl_for(1001), got;
	struct stat st;

	ASSERT_EQ(0, setxattr(at(self, "mnt/g"), ACL_ACCESS, &a, sizeof(a), 0))
		TH_LOG("setxattr: %s", strerror(errno));
	ASSERT_EQ(0, stat(at(self, "u/g"), &st));
	ASSERT_EQ(sizeof(a), getxattr(at(self, "u/g"), ACL_ACCESS, &got, sizeof(got)));
	ASSERT_EQ(0, memcmp(&a, &got, sizeof(a)));
	ASSERT_EQ(-1, getxattr(at(self, "l/g"), ACL_ACCESS, &got, sizeof(got)));
	ASSERT_EQ(ENODATA, errno);
	ASSERT_EQ(0, run_as(1001, open_for_read, at(self, "mnt/g"), NULL));
}

TEST_F(acl, remove_acl_copies_up_and_removes_on_upper_only)
{
	struct acl got;

	ASSERT_EQ(0, removexattr(at(self, "mnt/f"), ACL_ACCESS));
	ASSERT_EQ(-1, getxattr(at(self, "u/f"), ACL_ACCESS, &got, sizeof(got)));
	ASSERT_EQ(ENODATA, errno);
	ASSERT_EQ(sizeof(got), getxattr(at(self, "l/f"), ACL_ACCESS, &got, sizeof(got)));
	ASSERT_EQ(EACCES, run_as(1000, open_for_read, at(self, "mnt/f"), NULL));
}

/*
 * A default ACL on the work directory: what a copy-up or a creation over
 * a whiteout prepares there must not keep what it inherits from it
 * (overlayfs prepares them in its private work/work, stripped of ACLs at
 * mount). It gives nobody rwx and the owning group nothing: an object
 * that kept it would let nobody in and keep its group out, whatever its
 * mode bits say.
 */
static struct acl work_dacl(void)
{
	struct acl a = {
		.version = 2,
		.e = {
			{ .tag = 0x01, .perm = 7, .id = -1 },	 /* user::rwx */
			{ .tag = 0x02, .perm = 7, .id = 65534 }, /* user:nobody:rwx */
			{ .tag = 0x04, .perm = 0, .id = -1 },	 /* group::--- */
			{ .tag = 0x10, .perm = 7, .id = -1 },	 /* mask::rwx */
			{ .tag = 0x20, .perm = 0, .id = -1 },	 /* other::--- */
		},
	};
	return a;
}

/*
 * In the overlayfs syntax the work directory is workdir=; in aufs's it
 * is the upper root itself, where a default ACL is a user's everyday
 * choice.
 */
FIXTURE(workacl) {
	char dir[64];
	char path[512];
	char upper[128];
};

FIXTURE_VARIANT(workacl) {
	bool aufs;
};

FIXTURE_VARIANT_ADD(workacl, overlay_syntax) {
	.aufs = false,
};

FIXTURE_VARIANT_ADD(workacl, aufs_syntax) {
	.aufs = true,
};


FIXTURE_SETUP(workacl)
{
	struct acl dacl = work_dacl(), lacl = acl_for(1000);
	char opts[512];

	ASSERT_EQ(0, rsunion_ensure_loaded());
	ASSERT_EQ(0, scratch_get(self->dir));
	ASSERT_EQ(0, mkdirs(at(self, "l/d")));
	ASSERT_EQ(0, write_file(at(self, "l/f"), "root\n"));
	ASSERT_EQ(0, chmod(at(self, "l/f"), 0640));
	ASSERT_EQ(0, write_file(at(self, "l/d/f"), "deep\n"));
	ASSERT_EQ(0, chmod(at(self, "l/d/f"), 0604));
	ASSERT_EQ(0, chmod(at(self, "l/d"), 0751));
	ASSERT_EQ(0, mkdirs(at(self, "l/e")));
	ASSERT_EQ(0, chmod(at(self, "l/e"), 0705));
	ASSERT_EQ(0, mkfifo(at(self, "l/p"), 0620));
	ASSERT_EQ(0, chmod(at(self, "l/p"), 0620));
	ASSERT_EQ(0, write_file(at(self, "l/a"), "acl\n"));
	ASSERT_EQ(0, setxattr(at(self, "l/a"), ACL_ACCESS, &lacl, sizeof(lacl), 0));
	ASSERT_EQ(0, mkdirs(at(self, "l/wd/gone2")));
	ASSERT_EQ(0, write_file(at(self, "l/wd/gone"), "x\n"));
	ASSERT_EQ(0, mkdirs(at(self, "l/wm/gone2")));
	ASSERT_EQ(0, write_file(at(self, "l/wm/gone"), "x\n"));
	ASSERT_EQ(0, mkdirs(at(self, "u")));
	ASSERT_EQ(0, mkdirs(at(self, "w")));
	ASSERT_EQ(0, mkdirs(at(self, "mnt")));
	snprintf(self->upper, sizeof(self->upper), "%s/u", self->dir);
	ASSERT_EQ(0, setxattr(at(self, variant->aufs ? "u" : "w"), ACL_DEFAULT,
			      &dacl, sizeof(dacl), 0))
		TH_LOG("setxattr: %s", strerror(errno));
	if (variant->aufs)
		snprintf(opts, sizeof(opts), "br=%s/u=rw:%s/l=ro", self->dir, self->dir);
	else
		snprintf(opts, sizeof(opts), "lowerdir=%s/l,upperdir=%s/u,workdir=%s/w",
			 self->dir, self->dir, self->dir);
	ASSERT_EQ(0, mount("none", at(self, "mnt"), "rsunion", 0, opts))
		TH_LOG("mount: %s", strerror(errno));
}

FIXTURE_TEARDOWN(workacl)
{
	umount2(at(self, "mnt"), MNT_DETACH);
	scratch_put(self->dir);
}

/* getxattr's errno for ACL NAME of PATH: ENODATA when it has none. */
static int acl_errno(const char *path, const char *name)
{
	char buf[256];

	return getxattr(path, name, buf, sizeof(buf)) < 0 ? errno : 0;
}

static mode_t lmode(const char *path)
{
	struct stat st;

	return lstat(path, &st) ? (mode_t)-1 : st.st_mode;
}

/*
 * A lower object without ACLs, copied up through a work directory with a
 * default ACL, has none in the upper layer, and exactly the lower's mode:
 * a regular file (made as an O_TMPFILE), a directory (parent of a copied
 * file, and on its own), a fifo (both made under a temporary name).
 */
TEST_F(workacl, copy_up_takes_no_acl_from_the_work_directory)
{
	static const char *const names[] = { "f", "d", "d/f", "e", "p" };
	const char *u = self->upper;
	unsigned int i;
	int fd;

	fd = open(at(self, "mnt/f"), O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	close(fd);
	fd = open(at(self, "mnt/d/f"), O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, utimes(at(self, "mnt/e"), NULL));
	ASSERT_EQ(0, utimes(at(self, "mnt/p"), NULL));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *n = names[i];
		char lower[256];

		snprintf(lower, sizeof(lower), "%s/l/%s", self->dir, n);
		ASSERT_EQ(0, lstat_errno(in_dir(u, n))) TH_LOG("%s not copied up", n);
		ASSERT_EQ(ENODATA, acl_errno(in_dir(u, n), ACL_ACCESS))
			TH_LOG("%s has an access ACL", n);
		if (S_ISDIR(lmode(lower)))
			ASSERT_EQ(ENODATA, acl_errno(in_dir(u, n), ACL_DEFAULT))
				TH_LOG("%s has a default ACL", n);
		ASSERT_EQ(lmode(lower), lmode(in_dir(u, n)))
			TH_LOG("%s: mode %o, lower's %o", n, lmode(in_dir(u, n)), lmode(lower));
	}
	ASSERT_EQ(ENODATA, acl_errno(at(self, "mnt/f"), ACL_ACCESS));
	ASSERT_EQ(0640 | S_IFREG, lmode(at(self, "mnt/f")));
}

/* A lower access ACL is what the copy gets, not the work directory's. */
TEST_F(workacl, copy_up_keeps_exactly_the_lower_acl)
{
	struct acl want = acl_for(1000), got;
	int fd;

	fd = open(at(self, "mnt/a"), O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(sizeof(want), getxattr(in_dir(self->upper, "a"), ACL_ACCESS, &got, sizeof(got)));
	ASSERT_EQ(0, memcmp(&want, &got, sizeof(want)));
	ASSERT_EQ(lmode(at(self, "l/a")), lmode(in_dir(self->upper, "a")));
}

/* Do A and B have the same ACLs of either kind (or both none)? */
static bool same_acls(const char *a, const char *b)
{
	static const char *const names[] = { ACL_ACCESS, ACL_DEFAULT };
	char va[256], vb[256];
	ssize_t na, nb;
	int i, ea, eb;

	for (i = 0; i < 2; i++) {
		na = getxattr(a, names[i], va, sizeof(va));
		ea = na < 0 ? errno : 0;
		nb = getxattr(b, names[i], vb, sizeof(vb));
		eb = nb < 0 ? errno : 0;
		if (na != nb || ea != eb || (na > 0 && memcmp(va, vb, na)))
			return false;
	}
	return true;
}

/*
 * A file or directory made over a whiteout is made in the work directory
 * first: it must come out with what its real parent would have given it
 * (overlayfs: posix_acl_create on the union parent), never with the work
 * directory's default ACL. In a parent without a default ACL that is
 * none; in one whose default ACL gives nothing beyond the mode, a file
 * gets no access ACL and a directory only that default ACL. (An aufs
 * whiteout is not replaced through the work directory: the same holds.)
 */
TEST_F(workacl, made_over_a_whiteout_takes_no_acl_from_the_work_directory)
{
	/* user::rwx, group::r-x, other::r-x: equivalent to a mode. */
	struct {
		uint32_t version;
		struct acl_entry e[3];
	} minimal = {
		.version = 2,
		.e = { { 0x01, 7, -1 }, { 0x04, 5, -1 }, { 0x20, 5, -1 } },
	};
	static const char *const parents[] = { "wd", "wm" };
	char p[8][64];
	int i, j, fd;

	ASSERT_EQ(0, setxattr(at(self, "mnt/wm"), ACL_DEFAULT, &minimal, sizeof(minimal), 0));
	for (i = 0; i < 2; i++) {
		static const char *const names[] = { "gone", "fresh", "gone2", "fresh2" };

		for (j = 0; j < 4; j++) {
			snprintf(p[j], sizeof(p[j]), "mnt/%s/%s", parents[i], names[j]);
			snprintf(p[4 + j], sizeof(p[j]), "u/%s/%s", parents[i], names[j]);
		}
		ASSERT_EQ(0, unlink(at(self, p[0])));
		ASSERT_EQ(0, rmdir(at(self, p[2])));
		fd = open(at(self, p[0]), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		ASSERT_LE(0, fd);
		close(fd);
		fd = open(at(self, p[1]), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		ASSERT_LE(0, fd);
		close(fd);
		ASSERT_EQ(0, mkdir(at(self, p[2]), 0755));
		ASSERT_EQ(0, mkdir(at(self, p[3]), 0755));
		ASSERT_EQ(ENODATA, acl_errno(in_dir(self->dir, p[4]), ACL_ACCESS))
			TH_LOG("%s has an access ACL", p[4]);
		ASSERT_EQ(ENODATA, acl_errno(in_dir(self->dir, p[6]), ACL_ACCESS))
			TH_LOG("%s has an access ACL", p[6]);
		ASSERT_TRUE(same_acls(in_dir(self->dir, p[4]), in_dir(self->dir, p[5])))
			TH_LOG("%s and %s have different ACLs", p[4], p[5]);
		ASSERT_TRUE(same_acls(in_dir(self->dir, p[6]), in_dir(self->dir, p[7])))
			TH_LOG("%s and %s have different ACLs", p[6], p[7]);
		ASSERT_EQ(lmode(in_dir(self->dir, p[5])), lmode(in_dir(self->dir, p[4])));
		ASSERT_EQ(lmode(in_dir(self->dir, p[7])), lmode(in_dir(self->dir, p[6])));
	}
	ASSERT_EQ(ENODATA, acl_errno(in_dir(self->dir, "u/wd/gone2"), ACL_DEFAULT));
	ASSERT_EQ(sizeof(minimal), getxattr(in_dir(self->dir, "u/wm/gone2"), ACL_DEFAULT,
					    p[0], sizeof(p[0])));
}

TEST_HARNESS_MAIN
