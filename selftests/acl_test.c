// SPDX-License-Identifier: GPL-2.0
/*
 * POSIX ACLs: the real objects' ACLs count in permission checks on the
 * union, read back through it, and change (after a copy-up) on the upper
 * copy only.
 */
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

#define ACL_ACCESS "system.posix_acl_access"

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

static const char *at(FIXTURE_DATA(acl) *self, const char *rel)
{
	snprintf(self->path, sizeof(self->path), "%s/%s", self->dir, rel);
	return self->path;
}

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

/* Can uid UID open PATH for reading? 0, or the errno. */
static int open_as(uid_t uid, const char *path)
{
	pid_t pid = fork();
	int status, fd;

	if (pid == 0) {
		if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
			_exit(255);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		_exit(fd < 0 ? errno : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WEXITSTATUS(status);
}

TEST_F(acl, lower_acl_grants_access_through_union)
{
	ASSERT_EQ(0, open_as(1000, at(self, "mnt/f")));
	ASSERT_EQ(EACCES, open_as(1001, at(self, "mnt/f")));
	ASSERT_EQ(EACCES, open_as(1000, at(self, "mnt/g")));
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
	ASSERT_EQ(0, open_as(1001, at(self, "mnt/g")));
}

TEST_F(acl, remove_acl_copies_up_and_removes_on_upper_only)
{
	struct acl got;

	ASSERT_EQ(0, removexattr(at(self, "mnt/f"), ACL_ACCESS));
	ASSERT_EQ(-1, getxattr(at(self, "u/f"), ACL_ACCESS, &got, sizeof(got)));
	ASSERT_EQ(ENODATA, errno);
	ASSERT_EQ(sizeof(got), getxattr(at(self, "l/f"), ACL_ACCESS, &got, sizeof(got)));
	ASSERT_EQ(EACCES, open_as(1000, at(self, "mnt/f")));
}

TEST_HARNESS_MAIN
