// SPDX-License-Identifier: GPL-2.0
/*
 * The module's life: it loads, registers "rsunion", refuses options it
 * cannot use with EINVAL and a dmesg line, and cannot be unloaded while a
 * union is mounted.
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

FIXTURE(module) {
	char dir[64];
	char mnt[128];
	char opts[256];
};

/* Two lower layers on a scratch tmpfs, and where to mount them. */
FIXTURE_SETUP(module)
{
	char path[128];

	ASSERT_EQ(0, rsunion_ensure_loaded()) TH_LOG("load: %s", strerror(errno));
	ASSERT_EQ(0, scratch_get(self->dir));
	snprintf(self->mnt, sizeof(self->mnt), "%s/mnt", self->dir);
	ASSERT_EQ(0, mkdir(self->mnt, 0755));
	snprintf(path, sizeof(path), "%s/l1", self->dir);
	ASSERT_EQ(0, mkdir(path, 0755));
	snprintf(path, sizeof(path), "%s/l2", self->dir);
	ASSERT_EQ(0, mkdir(path, 0755));
	snprintf(self->opts, sizeof(self->opts), "lowerdir=%s/l1:%s/l2",
		 self->dir, self->dir);
}

FIXTURE_TEARDOWN(module)
{
	umount2(self->mnt, MNT_DETACH);
	scratch_put(self->dir);
}

TEST_F(module, loads)
{
	ASSERT_EQ(0, rsunion_unload());
	ASSERT_FALSE(rsunion_loaded());
	ASSERT_EQ(0, rsunion_load()) TH_LOG("load: %s", strerror(errno));
	ASSERT_TRUE(rsunion_loaded());
}

TEST_F(module, registers_filesystem_type)
{
	ASSERT_TRUE(fs_registered("rsunion"));
}

TEST_F(module, mount_refuses_unknown_option)
{
	int kmsg = kmsg_mark();

	ASSERT_GE(kmsg, 0);
	ASSERT_EQ(-1, mount("none", self->mnt, "rsunion", 0, "no_such_option=1"));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_TRUE(kmsg_has(kmsg, "rsunion: unknown mount option 'no_such_option'"));
}

TEST_F(module, fsconfig_refuses_unknown_option)
{
	int kmsg = kmsg_mark();
	int fc = fsopen("rsunion", FSOPEN_CLOEXEC);

	ASSERT_GE(kmsg, 0);
	ASSERT_GE(fc, 0);
	ASSERT_EQ(-1, fsconfig(fc, FSCONFIG_SET_STRING, "no_such_option", "1", 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_TRUE(kmsg_has(kmsg, "rsunion: unknown mount option 'no_such_option'"));
	close(fc);
}

/*
 * A mounted union holds a reference on the module (file_system_type.owner).
 * delete_module(2) then answers EWOULDBLOCK; rmmod(8) checks the refcount
 * first and refuses with EBUSY, "Module rsunion is in use".
 */
TEST_F(module, rmmod_busy_while_mounted)
{
	char out[256] = "";
	FILE *rmmod;

	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, self->opts));
	ASSERT_GE(module_refcount("rsunion"), 1);

	ASSERT_EQ(-1, rsunion_unload());
	ASSERT_EQ(EWOULDBLOCK, errno);

	rmmod = popen("rmmod rsunion 2>&1", "r");
	ASSERT_NE(NULL, rmmod);
	fread(out, 1, sizeof(out) - 1, rmmod);
	ASSERT_NE(0, pclose(rmmod));
	ASSERT_NE(NULL, strstr(out, "is in use")) TH_LOG("rmmod said: %s", out);

	ASSERT_TRUE(rsunion_loaded());
	ASSERT_EQ(0, umount(self->mnt));
	ASSERT_EQ(0, module_refcount("rsunion"));
}

TEST_F(module, rmmod_after_umount)
{
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, self->opts));
	ASSERT_EQ(0, umount(self->mnt));
	ASSERT_EQ(0, rsunion_unload()) TH_LOG("rmmod: %s", strerror(errno));
	ASSERT_FALSE(rsunion_loaded());
	ASSERT_FALSE(fs_registered("rsunion"));
	ASSERT_EQ(0, rsunion_load());
}

TEST_HARNESS_MAIN
