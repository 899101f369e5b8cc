// SPDX-License-Identifier: GPL-2.0
/*
 * The write path of a union with an upper layer: the seed's steps 3 and 4
 * (aufs syntax, a over b), copy-up on each trigger (open for writing or
 * with O_TRUNC, truncate, ftruncate, chmod, chown, utimensat, link) keeping
 * data, holes, mode, owner, times and xattrs and copying missing parents
 * first; I/O on the upper copy afterwards; a copy-up that runs out of
 * space; EROFS without an upper layer; many processes appending to one
 * lower file at once. Lower layers never change and no copy-up temporary
 * stays in the work directory.
 */
#include <dirent.h>
#include <limits.h>
#include <linux/aio_abi.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

#define MIB		(1024 * 1024)
#define USER_ID		1000

/* Up to SIZE bytes of PATH into BUF; the count read or -1. */
static ssize_t read_all(const char *path, void *buf, size_t size)
{
	size_t done = 0;
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (done < size && (n = read(fd, (char *)buf + done, size - done)) > 0)
		done += n;
	close(fd);
	return n < 0 ? -1 : (ssize_t)done;
}

/* Does PATH hold exactly the LEN bytes at WANT? */
static bool has_bytes(const char *path, const void *want, size_t len)
{
	char *buf = malloc(len + 1);
	bool ok;

	if (!buf)
		return false;
	ok = read_all(path, buf, len + 1) == (ssize_t)len && !memcmp(buf, want, len);
	free(buf);
	return ok;
}

static bool has_text(const char *path, const char *want)
{
	return has_bytes(path, want, strlen(want));
}

/* The shell's `echo TEXT > PATH`: 0 or an errno value. */
static int echo_to(const char *path, const char *text)
{
	ssize_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);

	if (fd < 0)
		return errno;
	if (write(fd, text, len) != len) {
		close(fd);
		return errno ? errno : EIO;
	}
	return close(fd) ? errno : 0;
}

/* ---- the seed: docker-unionfs-aufs.zh.txt, section 2 ---- */

/*
 * Step 1 and 2: a (a.log, x.log) and b (b.log, x.log), all empty, mounted
 * as `mount -t rsunion -o dirs=./a:./b none ./mnt` from their parent.
 */
FIXTURE(seed) {
	char dir[64];
};

FIXTURE_SETUP(seed)
{
	ASSERT_EQ(0, rsunion_ensure_loaded()) TH_LOG("load: %s", strerror(errno));
	ASSERT_EQ(0, scratch_get(self->dir));
	ASSERT_EQ(0, chdir(self->dir));
	ASSERT_EQ(0, mkdir("a", 0755));
	ASSERT_EQ(0, mkdir("b", 0755));
	ASSERT_EQ(0, mkdir("mnt", 0755));
	ASSERT_EQ(0, write_file("a/a.log", ""));
	ASSERT_EQ(0, write_file("a/x.log", ""));
	ASSERT_EQ(0, write_file("b/b.log", ""));
	ASSERT_EQ(0, write_file("b/x.log", ""));
	ASSERT_EQ(0, mount("none", "mnt", "rsunion", 0, "dirs=./a:./b"))
		TH_LOG("mount: %s", strerror(errno));
}

FIXTURE_TEARDOWN(seed)
{
	char mnt[PATH_MAX];

	snprintf(mnt, sizeof(mnt), "%s/mnt", self->dir);
	chdir("/");
	umount2(mnt, MNT_DETACH);
	scratch_put(self->dir);
}

/* Step 3: echo test > mnt/x.log; cat mnt/x.log a/x.log b/x.log */
TEST_F(seed, step3_echo_to_x_log_writes_a_only)
{
	char names[256];

	ASSERT_EQ(0, echo_to("mnt/x.log", "test\n"));
	ASSERT_TRUE(has_text("mnt/x.log", "test\n"));
	ASSERT_TRUE(has_text("a/x.log", "test\n"));
	ASSERT_TRUE(has_text("b/x.log", ""));
	ASSERT_EQ(0, names_of("a", names, sizeof(names)));
	ASSERT_STREQ("a.log x.log", names);
	ASSERT_EQ(0, names_of("b", names, sizeof(names)));
	ASSERT_STREQ("b.log x.log", names);
	ASSERT_EQ(0, names_of("mnt", names, sizeof(names)));
	ASSERT_STREQ("a.log b.log x.log", names);
}

/* Step 3: echo test > mnt/b.log; cat mnt/b.log b/b.log a/b.log */
TEST_F(seed, step3_echo_to_b_log_copies_it_into_a)
{
	char names[256];

	ASSERT_EQ(0, echo_to("mnt/b.log", "test\n"));
	ASSERT_TRUE(has_text("mnt/b.log", "test\n"));
	ASSERT_TRUE(has_text("b/b.log", ""));
	ASSERT_TRUE(has_text("a/b.log", "test\n"));
	ASSERT_EQ(0, names_of("a", names, sizeof(names)));
	ASSERT_STREQ("a.log b.log x.log", names);
	ASSERT_EQ(0, names_of("b", names, sizeof(names)));
	ASSERT_STREQ("b.log x.log", names);
}

/*
 * Step 3, then step 4: touch b/bb.log; rm mnt/a.log; rm mnt/bb.log;
 * ls -al mnt a b.
 */
TEST_F(seed, step4_rm_removes_a_log_and_whites_out_bb_log)
{
	char names[256];
	struct stat st;

	ASSERT_EQ(0, echo_to("mnt/x.log", "test\n"));
	ASSERT_EQ(0, echo_to("mnt/b.log", "test\n"));
	ASSERT_EQ(0, write_file("b/bb.log", ""));
	ASSERT_EQ(0, names_of("mnt", names, sizeof(names)));
	ASSERT_STREQ("a.log b.log bb.log x.log", names);
	ASSERT_EQ(0, unlink("mnt/a.log")) TH_LOG("rm mnt/a.log: %s", strerror(errno));
	ASSERT_EQ(0, unlink("mnt/bb.log")) TH_LOG("rm mnt/bb.log: %s", strerror(errno));

	ASSERT_EQ(0, names_of("mnt", names, sizeof(names)));
	ASSERT_STREQ("b.log x.log", names);
	ASSERT_EQ(0, names_of("a", names, sizeof(names)));
	ASSERT_STREQ(".wh.bb.log b.log x.log", names);
	ASSERT_EQ(0, names_of("b", names, sizeof(names)));
	ASSERT_STREQ("b.log bb.log x.log", names);

	ASSERT_EQ(0, lstat("a/.wh.bb.log", &st));
	ASSERT_EQ(S_IFREG | 0644, st.st_mode);
	ASSERT_EQ(0, st.st_size);
	ASSERT_EQ(0, st.st_uid);
	ASSERT_EQ(ENOENT, lstat_errno("mnt/a.log"));
	ASSERT_EQ(ENOENT, lstat_errno("mnt/bb.log"));
	ASSERT_TRUE(has_text("mnt/b.log", "test\n"));
	ASSERT_TRUE(has_text("mnt/x.log", "test\n"));
	ASSERT_TRUE(has_text("b/b.log", ""));
	ASSERT_TRUE(has_text("b/bb.log", ""));
	ASSERT_TRUE(has_text("b/x.log", ""));
}

/* ---- copy-up ---- */

#define CONTENT		"0123456789 the lower file, copied up on the first change\n"
#define CONTENT_LEN	((ssize_t)sizeof(CONTENT) - 1)
#define DEEP		"three levels down\n"
#define LOG_START	"the log's first line\nand its second\n"
#define ATIME_SEC	1500000000
#define ATIME_NSEC	987654321
#define MTIME_SEC	1000000000
#define MTIME_NSEC	123456789
/* The sparse file: 64 MiB, data in two small extents, holes elsewhere. */
#define SPARSE_SIZE	(64L * MIB)
#define EXT1_OFF	(5L * MIB)
#define EXT1_LEN	8192L
#define EXT2_OFF	(50L * MIB + 4096)
#define EXT2_LEN	4096L
/* More than one 1 MiB round of the copy loop, and a partial last page. */
#define BIG_SIZE	(3L * MIB + 123)
/* a, a/b, a/b/c in the lower layer: mode, owner, mtime of each. */
static const struct {
	const char *path;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	time_t mtime;
} deep_dirs[] = {
	{ "a", 0751, 11, 12, 1100000000 },
	{ "a/b", 0705, 21, 22, 1200000000 },
	{ "a/b/c", 0770, 31, 32, 1300000000 },
};

FIXTURE(copy_up) {
	char dir[64];		/* scratch tmpfs */
	char lower[128];
	char upper[128];
	char mnt[128];
	char work[128];		/* where copy-up temporaries are made */
	struct stat file_st;	/* lower/file after the setup */
};

/* overlay: lowerdir/upperdir/workdir; aufs: br=, the rw branch is upper. */
FIXTURE_VARIANT(copy_up) {
	bool aufs;
};

FIXTURE_VARIANT_ADD(copy_up, overlay) {
	.aufs = false,
};

FIXTURE_VARIANT_ADD(copy_up, aufs) {
	.aufs = true,
};

static unsigned char pattern(off_t off)
{
	return (off % 251) ^ (off >> 12) ^ 0x5a;
}

static int pwrite_pattern(int fd, off_t off, size_t len)
{
	unsigned char buf[EXT1_LEN];
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pattern(off + i);
	return pwrite(fd, buf, len, off) == (ssize_t)len ? 0 : -1;
}

static bool is_pattern_at(int fd, off_t off, size_t len)
{
	unsigned char buf[EXT1_LEN];
	size_t i;

	if (pread(fd, buf, len, off) != (ssize_t)len)
		return false;
	for (i = 0; i < len; i++)
		if (buf[i] != pattern(off + i))
			return false;
	return true;
}

static int set_times(const char *path, time_t asec, long ansec, time_t msec, long mnsec)
{
	struct timespec ts[2] = {
		{ .tv_sec = asec, .tv_nsec = ansec },
		{ .tv_sec = msec, .tv_nsec = mnsec },
	};

	return utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

/* The union of lower/ and upper/, in the variant's syntax, at mnt/. */
static int mount_copy_up(FIXTURE_DATA(copy_up) *self,
			 const FIXTURE_VARIANT(copy_up) *variant)
{
	char opts[512];

	if (variant->aufs)
		snprintf(opts, sizeof(opts), "br=%s=rw:%s=ro", self->upper, self->lower);
	else
		snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
			 self->lower, self->upper, self->work);
	return mount("none", self->mnt, "rsunion", 0, opts);
}

/*
 * lower/  file (CONTENT, 0640, 1234:5678, fixed times, xattrs),
 *         sparse (64 MiB, two extents), log (LOG_START), big (BIG_SIZE
 *         bytes of the pattern), slink -> file,
 *         a/b/c/file (DEEP, 0600, 41:42) under dirs of deep_dirs[]
 * upper/ and work/ empty.
 */
FIXTURE_SETUP(copy_up)
{
	char path[PATH_MAX];
	long i;
	int fd;

	ASSERT_EQ(0, rsunion_ensure_loaded()) TH_LOG("load: %s", strerror(errno));
	ASSERT_EQ(0, scratch_get(self->dir));
	join(self->lower, self->dir, "lower");
	join(self->upper, self->dir, "upper");
	join(self->mnt, self->dir, "mnt");
	join(self->work, self->dir, variant->aufs ? "upper" : "work");
	ASSERT_EQ(0, mkdir(self->lower, 0755));
	ASSERT_EQ(0, mkdir(self->upper, 0755));
	ASSERT_EQ(0, mkdir(self->mnt, 0755));
	if (!variant->aufs)
		ASSERT_EQ(0, mkdir(self->work, 0755));

	ASSERT_EQ(0, write_file(join(path, self->lower, "file"), CONTENT));
	ASSERT_EQ(0, chown(path, 1234, 5678));
	ASSERT_EQ(0, chmod(path, 0640));
	ASSERT_EQ(0, setxattr(path, "user.color", "blue", 4, 0));
	ASSERT_EQ(0, setxattr(path, "user.bin", "\0\1\2", 3, 0));
	ASSERT_EQ(0, setxattr(path, "trusted.rsunion", "kept", 4, 0));
	ASSERT_EQ(0, setxattr(path, "trusted.overlay.rsunion", "private", 7, 0));
	ASSERT_EQ(0, set_times(path, ATIME_SEC, ATIME_NSEC, MTIME_SEC, MTIME_NSEC));

	fd = open(join(path, self->lower, "sparse"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ftruncate(fd, SPARSE_SIZE));
	ASSERT_EQ(0, pwrite_pattern(fd, EXT1_OFF, EXT1_LEN));
	ASSERT_EQ(0, pwrite_pattern(fd, EXT2_OFF, EXT2_LEN));
	ASSERT_EQ(0, close(fd));

	ASSERT_EQ(0, write_file(join(path, self->lower, "log"), LOG_START));

	fd = open(join(path, self->lower, "big"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_GE(fd, 0);
	for (i = 0; i < BIG_SIZE; i += EXT1_LEN)
		ASSERT_EQ(0, pwrite_pattern(fd, i, BIG_SIZE - i < EXT1_LEN ? BIG_SIZE - i : EXT1_LEN));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, symlink("file", join(path, self->lower, "slink")));

	ASSERT_EQ(0, mkdirs(join(path, self->lower, "a/b/c")));
	ASSERT_EQ(0, write_file(join(path, self->lower, "a/b/c/file"), DEEP));
	ASSERT_EQ(0, chown(path, 41, 42));
	ASSERT_EQ(0, chmod(path, 0600));
	for (i = ARRAY_SIZE(deep_dirs) - 1; i >= 0; i--) {
		join(path, self->lower, deep_dirs[i].path);
		ASSERT_EQ(0, chown(path, deep_dirs[i].uid, deep_dirs[i].gid));
		ASSERT_EQ(0, chmod(path, deep_dirs[i].mode));
		ASSERT_EQ(0, set_times(path, deep_dirs[i].mtime, 5, deep_dirs[i].mtime, 7));
	}

	ASSERT_EQ(0, stat(join(path, self->lower, "file"), &self->file_st));
	ASSERT_EQ(0, mount_copy_up(self, variant))
		TH_LOG("mount %s, %s: %s", self->lower, self->upper, strerror(errno));
}

FIXTURE_TEARDOWN(copy_up)
{
	umount2(self->mnt, MNT_DETACH);
	scratch_put(self->dir);
}

/*
 * lower/file still holds CONTENT with the attributes it had (its atime
 * aside: reading it may update that), and no copy-up temporary is left.
 */
static void check_lower_intact(struct __test_metadata *_metadata,
			       FIXTURE_DATA(copy_up) *self)
{
	char path[PATH_MAX], names[256];
	struct stat st;

	ASSERT_TRUE(has_bytes(join(path, self->lower, "file"), CONTENT, CONTENT_LEN));
	ASSERT_EQ(0, lstat(path, &st));
	ASSERT_EQ(self->file_st.st_ino, st.st_ino);
	ASSERT_EQ(self->file_st.st_mode, st.st_mode);
	ASSERT_EQ(self->file_st.st_uid, st.st_uid);
	ASSERT_EQ(self->file_st.st_gid, st.st_gid);
	ASSERT_EQ(self->file_st.st_nlink, st.st_nlink);
	ASSERT_EQ(self->file_st.st_size, st.st_size);
	ASSERT_EQ(self->file_st.st_mtim.tv_sec, st.st_mtim.tv_sec);
	ASSERT_EQ(self->file_st.st_mtim.tv_nsec, st.st_mtim.tv_nsec);
	ASSERT_EQ(self->file_st.st_ctim.tv_sec, st.st_ctim.tv_sec);
	ASSERT_EQ(self->file_st.st_ctim.tv_nsec, st.st_ctim.tv_nsec);
	ASSERT_EQ(0, names_of(self->lower, names, sizeof(names)));
	ASSERT_STREQ("a big file log slink sparse", names);
	ASSERT_EQ(0, count_temps(self->work));
	if (strcmp(self->work, self->upper)) {
		ASSERT_EQ(0, names_of(self->work, names, sizeof(names)));
		ASSERT_STREQ("", names);
	}
}

/* The upper layer holds exactly the names WANT at its root. */
static void check_upper_names(struct __test_metadata *_metadata,
			      FIXTURE_DATA(copy_up) *self, const char *want)
{
	char names[256];

	ASSERT_EQ(0, names_of(self->upper, names, sizeof(names)));
	ASSERT_STREQ(want, names);
}

/* CONTENT with the bytes at OFF replaced by NEW, into BUF. */
static char *content_with(char *buf, off_t off, const char *new)
{
	strcpy(buf, CONTENT);
	memcpy(buf + off, new, strlen(new));
	return buf;
}

TEST_F(copy_up, open_wronly_copies_up_before_any_write)
{
	char path[PATH_MAX], want[256];
	int fd = open(join(path, self->mnt, "file"), O_WRONLY | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_TRUE(has_bytes(join(path, self->upper, "file"), CONTENT, CONTENT_LEN));
	ASSERT_EQ(3, write(fd, "abc", 3));
	ASSERT_EQ(0, close(fd));
	content_with(want, 0, "abc");
	ASSERT_TRUE(has_text(join(path, self->upper, "file"), want));
	ASSERT_TRUE(has_text(join(path, self->mnt, "file"), want));
	check_upper_names(_metadata, self, "file");
	check_lower_intact(_metadata, self);
}

TEST_F(copy_up, open_rdwr_copies_up)
{
	char path[PATH_MAX], want[256], buf[16];
	int fd = open(join(path, self->mnt, "file"), O_RDWR | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(10, read(fd, buf, 10));
	ASSERT_EQ(0, memcmp(buf, CONTENT, 10));
	ASSERT_EQ(3, write(fd, "XYZ", 3));
	ASSERT_EQ(0, close(fd));
	content_with(want, 10, "XYZ");
	ASSERT_TRUE(has_text(join(path, self->upper, "file"), want));
	ASSERT_TRUE(has_text(join(path, self->mnt, "file"), want));
	check_lower_intact(_metadata, self);
}

TEST_F(copy_up, open_wronly_trunc_without_write_copies_up_empty)
{
	char path[PATH_MAX];
	struct stat st;
	int fd = open(join(path, self->mnt, "file"), O_WRONLY | O_TRUNC | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, lstat(join(path, self->upper, "file"), &st));
	ASSERT_EQ(S_IFREG | 0640, st.st_mode);
	ASSERT_EQ(0, st.st_size);
	ASSERT_EQ(0, stat(join(path, self->mnt, "file"), &st));
	ASSERT_EQ(0, st.st_size);
	ASSERT_TRUE(has_text(path, ""));
	check_upper_names(_metadata, self, "file");
	check_lower_intact(_metadata, self);
}

/* O_TRUNC alone asks for a write too: Linux truncates on O_RDONLY. */
TEST_F(copy_up, open_rdonly_trunc_copies_up_empty)
{
	char path[PATH_MAX];
	struct stat st;
	int fd = open(join(path, self->mnt, "file"), O_RDONLY | O_TRUNC | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, lstat(join(path, self->upper, "file"), &st));
	ASSERT_EQ(0, st.st_size);
	ASSERT_TRUE(has_text(join(path, self->mnt, "file"), ""));
	check_lower_intact(_metadata, self);
}

TEST_F(copy_up, truncate_copies_up)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, truncate(join(path, self->mnt, "file"), 10))
		TH_LOG("truncate: %s", strerror(errno));
	ASSERT_TRUE(has_bytes(join(path, self->upper, "file"), CONTENT, 10));
	ASSERT_TRUE(has_bytes(join(path, self->mnt, "file"), CONTENT, 10));
	check_lower_intact(_metadata, self);
}

TEST_F(copy_up, ftruncate_after_open_truncates_upper)
{
	char path[PATH_MAX];
	struct stat st;
	int fd = open(join(path, self->mnt, "file"), O_WRONLY | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(0, ftruncate(fd, 4)) TH_LOG("ftruncate: %s", strerror(errno));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(4, st.st_size);
	ASSERT_EQ(0, close(fd));
	ASSERT_TRUE(has_bytes(join(path, self->upper, "file"), CONTENT, 4));
	ASSERT_TRUE(has_bytes(join(path, self->mnt, "file"), CONTENT, 4));
	check_lower_intact(_metadata, self);
}

TEST_F(copy_up, chmod_copies_up)
{
	char path[PATH_MAX];
	struct stat st;

	ASSERT_EQ(0, chmod(join(path, self->mnt, "file"), 0604))
		TH_LOG("chmod: %s", strerror(errno));
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_EQ(S_IFREG | 0604, st.st_mode);
	ASSERT_EQ(0, lstat(join(path, self->upper, "file"), &st));
	ASSERT_EQ(S_IFREG | 0604, st.st_mode);
	ASSERT_EQ(1234, st.st_uid);
	ASSERT_EQ(5678, st.st_gid);
	ASSERT_TRUE(has_bytes(path, CONTENT, CONTENT_LEN));
	check_lower_intact(_metadata, self);
}

TEST_F(copy_up, chown_copies_up)
{
	char path[PATH_MAX];
	struct stat st;

	ASSERT_EQ(0, chown(join(path, self->mnt, "file"), 4321, 8765))
		TH_LOG("chown: %s", strerror(errno));
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_EQ(4321, st.st_uid);
	ASSERT_EQ(8765, st.st_gid);
	ASSERT_EQ(0, lstat(join(path, self->upper, "file"), &st));
	ASSERT_EQ(4321, st.st_uid);
	ASSERT_EQ(8765, st.st_gid);
	ASSERT_EQ(S_IFREG | 0640, st.st_mode);
	ASSERT_TRUE(has_bytes(path, CONTENT, CONTENT_LEN));
	check_lower_intact(_metadata, self);
}

TEST_F(copy_up, utimensat_copies_up)
{
	char path[PATH_MAX];
	struct stat st;

	ASSERT_EQ(0, set_times(join(path, self->mnt, "file"), 1600000000, 5, 1700000000, 250000000))
		TH_LOG("utimensat: %s", strerror(errno));
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_EQ(1700000000, st.st_mtim.tv_sec);
	ASSERT_EQ(250000000, st.st_mtim.tv_nsec);
	ASSERT_EQ(0, lstat(join(path, self->upper, "file"), &st));
	ASSERT_EQ(1600000000, st.st_atim.tv_sec);
	ASSERT_EQ(5, st.st_atim.tv_nsec);
	ASSERT_EQ(1700000000, st.st_mtim.tv_sec);
	ASSERT_EQ(250000000, st.st_mtim.tv_nsec);
	ASSERT_TRUE(has_bytes(path, CONTENT, CONTENT_LEN));
	check_lower_intact(_metadata, self);
}

/* link() copies its source up, then links the upper copy. */
TEST_F(copy_up, link_copies_up_source)
{
	char path[PATH_MAX], other[PATH_MAX];
	struct stat st, st2, ust;

	ASSERT_EQ(0, link(join(path, self->mnt, "file"), join(other, self->mnt, "file2")))
		TH_LOG("link: %s", strerror(errno));
	ASSERT_EQ(0, lstat(join(path, self->upper, "file"), &ust));
	ASSERT_EQ(2, ust.st_nlink);
	ASSERT_EQ(0, lstat(join(path, self->upper, "file2"), &st));
	ASSERT_EQ(ust.st_ino, st.st_ino);
	ASSERT_TRUE(has_bytes(path, CONTENT, CONTENT_LEN));
	/* One object under both names, with the lower file's number. */
	ASSERT_EQ(0, stat(join(path, self->mnt, "file"), &st));
	ASSERT_EQ(0, stat(join(path, self->mnt, "file2"), &st2));
	ASSERT_EQ(self->file_st.st_ino, st.st_ino);
	ASSERT_EQ(self->file_st.st_ino, st2.st_ino);
	ASSERT_EQ(2, st.st_nlink);
	ASSERT_TRUE(has_bytes(other, CONTENT, CONTENT_LEN));
	check_upper_names(_metadata, self, "file file2");
	check_lower_intact(_metadata, self);
}

/* Opens FILE for writing and closes it: a copy-up that changes nothing. */
static void copy_up_only(struct __test_metadata *_metadata,
			 FIXTURE_DATA(copy_up) *self, const char *file)
{
	char path[PATH_MAX];
	int fd = open(join(path, self->mnt, file), O_WRONLY | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open %s: %s", file, strerror(errno));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, lstat_errno(join(path, self->upper, file)));
}

TEST_F(copy_up, keeps_mode_and_owner)
{
	char path[PATH_MAX];
	struct stat st;

	copy_up_only(_metadata, self, "file");
	ASSERT_EQ(0, lstat(join(path, self->upper, "file"), &st));
	ASSERT_EQ(S_IFREG | 0640, st.st_mode);
	ASSERT_EQ(1234, st.st_uid);
	ASSERT_EQ(5678, st.st_gid);
	ASSERT_EQ(1, st.st_nlink);
	ASSERT_EQ(CONTENT_LEN, st.st_size);
	check_lower_intact(_metadata, self);
}

TEST_F(copy_up, keeps_mtime_to_the_ns)
{
	char path[PATH_MAX];
	struct stat st;

	copy_up_only(_metadata, self, "file");
	ASSERT_EQ(0, lstat(join(path, self->upper, "file"), &st));
	ASSERT_EQ(MTIME_SEC, st.st_mtim.tv_sec);
	ASSERT_EQ(MTIME_NSEC, st.st_mtim.tv_nsec);
	ASSERT_EQ(0, stat(join(path, self->mnt, "file"), &st));
	ASSERT_EQ(MTIME_SEC, st.st_mtim.tv_sec);
	ASSERT_EQ(MTIME_NSEC, st.st_mtim.tv_nsec);
	check_lower_intact(_metadata, self);
}

/*
 * The atime the file had before the copy-up, as overlayfs keeps it (it
 * takes the attributes before it reads the data).
 */
TEST_F(copy_up, keeps_atime_to_the_ns)
{
	char path[PATH_MAX];
	struct stat st;

	copy_up_only(_metadata, self, "file");
	ASSERT_EQ(0, lstat(join(path, self->upper, "file"), &st));
	EXPECT_EQ(ATIME_SEC, st.st_atim.tv_sec);
	EXPECT_EQ(ATIME_NSEC, st.st_atim.tv_nsec);
}

TEST_F(copy_up, copies_user_and_trusted_xattrs)
{
	char path[PATH_MAX], buf[64];

	copy_up_only(_metadata, self, "file");
	join(path, self->upper, "file");
	ASSERT_EQ(4, getxattr(path, "user.color", buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "blue", 4));
	ASSERT_EQ(3, getxattr(path, "user.bin", buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "\0\1\2", 3));
	ASSERT_EQ(4, getxattr(path, "trusted.rsunion", buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "kept", 4));
	check_lower_intact(_metadata, self);
}

TEST_F(copy_up, skips_trusted_overlay_xattrs)
{
	char path[PATH_MAX], buf[64];

	copy_up_only(_metadata, self, "file");
	ASSERT_EQ(-1, getxattr(join(path, self->upper, "file"), "trusted.overlay.rsunion",
			       buf, sizeof(buf)));
	ASSERT_EQ(ENODATA, errno);
	ASSERT_EQ(7, getxattr(join(path, self->lower, "file"), "trusted.overlay.rsunion",
			      buf, sizeof(buf)));
}

/* Where the data and holes of an open sparse file are. */
static void check_extents(struct __test_metadata *_metadata, int fd)
{
	ASSERT_EQ(EXT1_OFF, lseek(fd, 0, SEEK_DATA));
	ASSERT_EQ(EXT1_OFF + EXT1_LEN, lseek(fd, EXT1_OFF, SEEK_HOLE));
	ASSERT_EQ(EXT2_OFF, lseek(fd, EXT1_OFF + EXT1_LEN, SEEK_DATA));
	ASSERT_EQ(EXT2_OFF + EXT2_LEN, lseek(fd, EXT2_OFF, SEEK_HOLE));
	ASSERT_EQ(-1, lseek(fd, EXT2_OFF + EXT2_LEN, SEEK_DATA));
	ASSERT_EQ(ENXIO, errno);
	ASSERT_TRUE(is_pattern_at(fd, EXT1_OFF, EXT1_LEN));
	ASSERT_TRUE(is_pattern_at(fd, EXT2_OFF, EXT2_LEN));
}

TEST_F(copy_up, keeps_holes_of_sparse_file)
{
	char path[PATH_MAX];
	struct stat lst, st;
	ino_t ino;
	unsigned char buf[4096], zero[4096] = { 0 };
	int fd;

	ASSERT_EQ(0, stat(join(path, self->lower, "sparse"), &lst));
	ASSERT_LE(lst.st_blocks, (EXT1_LEN + EXT2_LEN) / 512);
	copy_up_only(_metadata, self, "sparse");
	ASSERT_EQ(0, stat(join(path, self->upper, "sparse"), &st));
	ASSERT_EQ(SPARSE_SIZE, st.st_size);
	ASSERT_EQ(lst.st_blocks, st.st_blocks);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	check_extents(_metadata, fd);
	ASSERT_EQ(sizeof(buf), pread(fd, buf, sizeof(buf), 20 * MIB));
	ASSERT_EQ(0, memcmp(buf, zero, sizeof(buf)));
	ASSERT_EQ(sizeof(buf), pread(fd, buf, sizeof(buf), SPARSE_SIZE - sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, zero, sizeof(buf)));
	close(fd);
	/* The union's file is the upper one now, with the lower's number. */
	ASSERT_EQ(lst.st_ino, origin_ino(path, st.st_ino));
	ino = lst.st_ino;
	fd = open(join(path, self->mnt, "sparse"), O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fstat(fd, &lst));
	ASSERT_EQ(ino, lst.st_ino);
	ASSERT_EQ(st.st_blocks, lst.st_blocks);
	check_extents(_metadata, fd);
	close(fd);
}

/* a/b/c/file: its three parents are copied up first, each as it is. */
TEST_F(copy_up, copies_missing_parents_first)
{
	char path[PATH_MAX], names[256];
	struct stat st;
	unsigned int i;
	int fd = open(join(path, self->mnt, "a/b/c/file"), O_WRONLY | O_APPEND | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(5, write(fd, "more\n", 5));
	ASSERT_EQ(0, close(fd));
	for (i = 0; i < ARRAY_SIZE(deep_dirs); i++) {
		ASSERT_EQ(0, lstat(join(path, self->upper, deep_dirs[i].path), &st))
			TH_LOG("upper %s: %s", deep_dirs[i].path, strerror(errno));
		ASSERT_EQ(S_IFDIR | deep_dirs[i].mode, st.st_mode);
		ASSERT_EQ(deep_dirs[i].uid, st.st_uid);
		ASSERT_EQ(deep_dirs[i].gid, st.st_gid);
	}
	check_upper_names(_metadata, self, "a");
	ASSERT_EQ(0, names_of(join(path, self->upper, "a"), names, sizeof(names)));
	ASSERT_STREQ("b", names);
	ASSERT_EQ(0, names_of(join(path, self->upper, "a/b"), names, sizeof(names)));
	ASSERT_STREQ("c", names);
	ASSERT_EQ(0, names_of(join(path, self->upper, "a/b/c"), names, sizeof(names)));
	ASSERT_STREQ("file", names);
	ASSERT_EQ(0, lstat(join(path, self->upper, "a/b/c/file"), &st));
	ASSERT_EQ(S_IFREG | 0600, st.st_mode);
	ASSERT_EQ(41, st.st_uid);
	ASSERT_EQ(42, st.st_gid);
	ASSERT_TRUE(has_text(path, DEEP "more\n"));
	ASSERT_TRUE(has_text(join(path, self->mnt, "a/b/c/file"), DEEP "more\n"));
	ASSERT_TRUE(has_text(join(path, self->lower, "a/b/c/file"), DEEP));
	check_lower_intact(_metadata, self);
}

/*
 * The copied parents keep their mtimes, though an entry was added to
 * each: overlayfs restores a parent's times after a copy-up into it.
 */
TEST_F(copy_up, copied_parents_keep_their_mtimes)
{
	char path[PATH_MAX];
	struct stat st;
	unsigned int i;

	copy_up_only(_metadata, self, "a/b/c/file");
	for (i = 0; i < ARRAY_SIZE(deep_dirs); i++) {
		ASSERT_EQ(0, lstat(join(path, self->upper, deep_dirs[i].path), &st));
		EXPECT_EQ(deep_dirs[i].mtime, st.st_mtim.tv_sec)
			TH_LOG("upper %s", deep_dirs[i].path);
		EXPECT_EQ(7, st.st_mtim.tv_nsec) TH_LOG("upper %s", deep_dirs[i].path);
		ASSERT_EQ(0, stat(join(path, self->mnt, deep_dirs[i].path), &st));
		EXPECT_EQ(deep_dirs[i].mtime, st.st_mtim.tv_sec)
			TH_LOG("union %s", deep_dirs[i].path);
	}
}

/* A second write open finds the upper copy: no second copy-up. */
TEST_F(copy_up, happens_once)
{
	char path[PATH_MAX], buf[64];
	struct stat st, st2;
	int fd;

	ASSERT_EQ(0, echo_to(join(path, self->mnt, "file"), "first\n"));
	ASSERT_EQ(0, lstat(join(path, self->upper, "file"), &st));
	fd = open(join(path, self->mnt, "file"), O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(6, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "first\n", 6));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, chmod(path, 0600));
	ASSERT_EQ(0, lstat(join(path, self->upper, "file"), &st2));
	ASSERT_EQ(st.st_ino, st2.st_ino);
	ASSERT_EQ(S_IFREG | 0600, st2.st_mode);
	ASSERT_TRUE(has_text(path, "first\n"));
	check_lower_intact(_metadata, self);
}

TEST_F(copy_up, written_content_survives_remount)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, echo_to(join(path, self->mnt, "file"), "kept\n"));
	ASSERT_EQ(0, umount2(self->mnt, 0));
	ASSERT_EQ(0, mount_copy_up(self, variant));
	ASSERT_TRUE(has_text(join(path, self->mnt, "file"), "kept\n"));
	check_lower_intact(_metadata, self);
}

/*
 * The copy reads the lower file, but the lower layer is never modified:
 * not even its atime (overlayfs mounts its lower layers noatime).
 */
TEST_F(copy_up, leaves_lower_atime_alone)
{
	char path[PATH_MAX];
	struct stat st;

	copy_up_only(_metadata, self, "file");
	ASSERT_EQ(0, lstat(join(path, self->lower, "file"), &st));
	EXPECT_EQ(ATIME_SEC, st.st_atim.tv_sec);
	EXPECT_EQ(ATIME_NSEC, st.st_atim.tv_nsec);
}

/* More than one round of the copy loop, and a partial last page. */
TEST_F(copy_up, copies_multi_mib_file_exactly)
{
	char path[PATH_MAX];
	struct stat st;
	off_t off;
	int fd;

	copy_up_only(_metadata, self, "big");
	fd = open(join(path, self->upper, "big"), O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(BIG_SIZE, st.st_size);
	for (off = 0; off < BIG_SIZE; off += EXT1_LEN)
		ASSERT_TRUE(is_pattern_at(fd, off, BIG_SIZE - off < EXT1_LEN ? BIG_SIZE - off : EXT1_LEN))
			TH_LOG("wrong bytes at %lld", (long long)off);
	close(fd);
}

/* A file copied up in 16 rounds of the 1 MiB copy loop. */
#define HUGE_SIZE	(16L * MIB)
/* Files of one round of splice's 64 KiB pipe, each copied in one call. */
#define SMALL_SIZE	(60L * 1024)
#define SMALLS		100

/*
 * lower/NAME0 .. lower/NAME<COUNT-1>, SIZE bytes of the pattern each, made
 * while the union is unmounted: a lower layer changed under a mount is
 * undefined.
 */
static void add_lower_files(struct __test_metadata *_metadata, FIXTURE_DATA(copy_up) *self,
			    const FIXTURE_VARIANT(copy_up) *variant, const char *name,
			    int count, off_t size)
{
	char path[PATH_MAX], file[64];
	off_t off;
	int i, fd;

	ASSERT_EQ(0, umount2(self->mnt, 0));
	for (i = 0; i < count; i++) {
		snprintf(file, sizeof(file), "%s%d", name, i);
		fd = open(join(path, self->lower, file), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		ASSERT_GE(fd, 0);
		for (off = 0; off < size; off += EXT1_LEN)
			ASSERT_EQ(0, pwrite_pattern(fd, off, size - off < EXT1_LEN ? size - off : EXT1_LEN));
		ASSERT_EQ(0, close(fd));
	}
	ASSERT_EQ(0, mount_copy_up(self, variant));
}

/* Whether union file NAME, copied up, holds SIZE bytes of the pattern. */
static bool copied_whole(FIXTURE_DATA(copy_up) *self, const char *name, off_t size)
{
	char path[PATH_MAX];
	struct stat st;
	bool whole;
	int fd;

	fd = open(join(path, self->upper, name), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	whole = !fstat(fd, &st) && st.st_size == size && is_pattern_at(fd, 0, EXT1_LEN) &&
		is_pattern_at(fd, size - EXT1_LEN, EXT1_LEN);
	close(fd);
	return whole;
}

/* The signals of one open in caught_signals_restart_the_copy. */
#define TICKS_PER_OPEN	5
static volatile sig_atomic_t ticks_of_open;

static void tick(int sig)
{
	static const struct itimerval stop;

	if (++ticks_of_open == TICKS_PER_OPEN)
		setitimer(ITIMER_REAL, &stop, NULL);
}

/*
 * A signal the caller catches, with SA_RESTART, while its open(2) copies a
 * file up: the copy stops (splice stops for any signal) and the open is
 * restarted, as under overlayfs, never failed with EINTR, which callers
 * do not expect and SA_RESTART promised them (bash's SIGCHLD handler
 * while it opens a redirection, say). A timer signals every 1 ms from a
 * varying start, up to TICKS_PER_OPEN times an open so that the last
 * restarted copy ends: a copy longer than the period would restart
 * forever, under overlayfs too. Each copy is one do_splice_direct() call
 * unless a signal stopped it: more calls show signals landed in copies.
 */
TEST_F(copy_up, caught_signals_restart_the_copy)
{
	struct sigaction sa = { .sa_handler = tick, .sa_flags = SA_RESTART };
	struct itimerval every = { { 0, 1000 } }, stop = { 0 };
	int i, fd, failed = 0, err = 0;
	char path[PATH_MAX], name[64];
	long long calls;

	add_lower_files(_metadata, self, variant, "small", SMALLS, SMALL_SIZE);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, calls_count_start("do_splice_direct")) TH_LOG("counting: %s", strerror(errno));
	for (i = 0; i < SMALLS; i++) {
		snprintf(name, sizeof(name), "small%d", i);
		ticks_of_open = 0;
		every.it_value.tv_usec = 20 + (i * 37) % 800;
		ASSERT_EQ(0, setitimer(ITIMER_REAL, &every, NULL));
		fd = open(join(path, self->mnt, name), O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			failed++;
			err = errno;
		}
		ASSERT_EQ(0, setitimer(ITIMER_REAL, &stop, NULL));
		if (fd >= 0)
			ASSERT_EQ(0, close(fd));
	}
	calls = calls_count_stop();
	ASSERT_EQ(0, failed) TH_LOG("%d opens failed: %s", failed, strerror(err));
	for (i = 0; i < SMALLS; i++) {
		snprintf(name, sizeof(name), "small%d", i);
		ASSERT_TRUE(copied_whole(self, name, SMALL_SIZE)) TH_LOG("%s", name);
	}
	ASSERT_EQ(0, count_temps(self->work));
	ASSERT_GE(calls, SMALLS);
	if (calls == SMALLS)
		SKIP(return, "no signal landed in a copy: nothing was shown");
}

/*
 * A copy-up killed part way leaves nothing behind: no upper file, no
 * temporary in the work directory; the union still shows the lower
 * file, which the next change copies up whole. The child is killed once
 * its copy has made two of its 16 splice calls.
 */
TEST_F(copy_up, killed_copy_leaves_nothing_behind)
{
	char path[PATH_MAX], upper[PATH_MAX];
	long long calls = 0;
	int fd, status;
	pid_t pid;

	add_lower_files(_metadata, self, variant, "huge", 1, HUGE_SIZE);
	join(path, self->mnt, "huge0");
	ASSERT_EQ(0, calls_count_start("do_splice_direct")) TH_LOG("counting: %s", strerror(errno));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(open(path, O_WRONLY | O_CLOEXEC) < 0);
	while (calls >= 0 && calls < 2 && waitpid(pid, &status, WNOHANG) == 0)
		calls = calls_counted();
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	calls = calls_count_stop();
	ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("the copy ended before the kill");
	ASSERT_LT(calls, HUGE_SIZE / MIB);
	ASSERT_EQ(ENOENT, stat_errno(join(upper, self->upper, "huge0")));
	ASSERT_EQ(0, count_temps(self->work));
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, close(fd));
	ASSERT_TRUE(copied_whole(self, "huge0", HUGE_SIZE));
}

/* lchown copies a symlink up: same target, new owner. */
TEST_F(copy_up, lchown_copies_up_symlink)
{
	char path[PATH_MAX], buf[64];
	struct stat st;

	ASSERT_EQ(0, fchownat(AT_FDCWD, join(path, self->mnt, "slink"), 4321, 8765,
			      AT_SYMLINK_NOFOLLOW)) TH_LOG("lchown: %s", strerror(errno));
	ASSERT_EQ(0, lstat(join(path, self->upper, "slink"), &st));
	ASSERT_TRUE(S_ISLNK(st.st_mode));
	ASSERT_EQ(4321, st.st_uid);
	ASSERT_EQ(8765, st.st_gid);
	ASSERT_EQ(4, readlink(path, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "file", 4));
	ASSERT_EQ(4, readlink(join(path, self->mnt, "slink"), buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "file", 4));
	check_upper_names(_metadata, self, "slink");
	ASSERT_EQ(0, lstat(join(path, self->lower, "slink"), &st));
	ASSERT_EQ(0, st.st_uid);
	check_lower_intact(_metadata, self);
}

/* chmod of a lower dir copies the dir alone, not its entries. */
TEST_F(copy_up, chmod_copies_up_dir_without_entries)
{
	char path[PATH_MAX], names[256];
	struct stat st;

	ASSERT_EQ(0, chmod(join(path, self->mnt, "a"), 0700)) TH_LOG("chmod: %s", strerror(errno));
	ASSERT_EQ(0, lstat(join(path, self->upper, "a"), &st));
	ASSERT_EQ(S_IFDIR | 0700, st.st_mode);
	ASSERT_EQ(11, st.st_uid);
	ASSERT_EQ(12, st.st_gid);
	ASSERT_EQ(0, names_of(path, names, sizeof(names)));
	ASSERT_STREQ("", names);
	ASSERT_EQ(0, names_of(join(path, self->mnt, "a"), names, sizeof(names)));
	ASSERT_STREQ("b", names);
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_EQ(S_IFDIR | 0700, st.st_mode);
	ASSERT_EQ(0, lstat(join(path, self->lower, "a"), &st));
	ASSERT_EQ(S_IFDIR | 0751, st.st_mode);
	check_upper_names(_metadata, self, "a");
	check_lower_intact(_metadata, self);
}

static int open_for_write(const char *path, const char *unused)
{
	return open_errno(path, O_WRONLY);
}

static int chmod_it(const char *path, const char *unused)
{
	return chmod(path, 0666) ? errno : 0;
}

/* The caller is checked before the copy-up: a refusal copies nothing. */
TEST_F(copy_up, refused_change_copies_nothing)
{
	char path[PATH_MAX];

	join(path, self->mnt, "file");
	ASSERT_EQ(EACCES, run_as(USER_ID, open_for_write, path, NULL));
	ASSERT_EQ(EPERM, run_as(USER_ID, chmod_it, path, NULL));
	check_upper_names(_metadata, self, "");
	check_lower_intact(_metadata, self);
}

/* ---- I/O after copy-up ---- */

TEST_F(copy_up, pwrite_reaches_upper)
{
	char path[PATH_MAX], want[256];
	struct stat st;
	int fd = open(join(path, self->mnt, "file"), O_RDWR | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(4, pwrite(fd, "PQRS", 4, 20));
	ASSERT_EQ(3, pwrite(fd, "end", 3, CONTENT_LEN + 10));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(CONTENT_LEN + 13, st.st_size);
	ASSERT_EQ(0, close(fd));
	memset(want, 0, sizeof(want));
	content_with(want, 20, "PQRS");
	memcpy(want + CONTENT_LEN + 10, "end", 3);
	ASSERT_TRUE(has_bytes(join(path, self->upper, "file"), want, CONTENT_LEN + 13));
	ASSERT_TRUE(has_bytes(join(path, self->mnt, "file"), want, CONTENT_LEN + 13));
	check_lower_intact(_metadata, self);
}

TEST_F(copy_up, writev_reaches_upper)
{
	char path[PATH_MAX], want[256];
	struct iovec iov[] = {
		{ "one", 3 }, { "-", 1 }, { "three", 5 },
	};
	int fd = open(join(path, self->mnt, "file"), O_WRONLY | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(5, lseek(fd, 5, SEEK_SET));
	ASSERT_EQ(9, writev(fd, iov, 3));
	ASSERT_EQ(14, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(0, close(fd));
	content_with(want, 5, "one-three");
	ASSERT_TRUE(has_text(join(path, self->upper, "file"), want));
	ASSERT_TRUE(has_text(join(path, self->mnt, "file"), want));
	check_lower_intact(_metadata, self);
}

TEST_F(copy_up, o_append_writes_at_end)
{
	char path[PATH_MAX];
	struct stat st;
	int fd = open(join(path, self->mnt, "file"), O_WRONLY | O_APPEND | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(6, write(fd, "tail1\n", 6));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(6, write(fd, "tail2\n", 6));
	ASSERT_EQ(CONTENT_LEN + 12, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, stat(join(path, self->mnt, "file"), &st));
	ASSERT_EQ(CONTENT_LEN + 12, st.st_size);
	ASSERT_TRUE(has_text(path, CONTENT "tail1\ntail2\n"));
	ASSERT_TRUE(has_text(join(path, self->upper, "file"), CONTENT "tail1\ntail2\n"));
	check_lower_intact(_metadata, self);
}

TEST_F(copy_up, fallocate_extends_upper)
{
	char path[PATH_MAX];
	unsigned char *buf = calloc(1, MIB + 1), *want = calloc(1, MIB);
	struct stat st;
	int fd = open(join(path, self->mnt, "file"), O_RDWR | O_CLOEXEC);

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, want);
	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(0, fallocate(fd, 0, 0, MIB)) TH_LOG("fallocate: %s", strerror(errno));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(MIB, st.st_size);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, stat(join(path, self->upper, "file"), &st));
	ASSERT_EQ(MIB, st.st_size);
	ASSERT_EQ(MIB / 512, st.st_blocks);
	memcpy(want, CONTENT, CONTENT_LEN);
	ASSERT_EQ(MIB, read_all(join(path, self->mnt, "file"), buf, MIB + 1));
	ASSERT_EQ(0, memcmp(buf, want, MIB));
	check_lower_intact(_metadata, self);
	free(buf);
	free(want);
}

TEST_F(copy_up, fallocate_punch_hole_in_upper)
{
	char path[PATH_MAX], want[256];
	int fd = open(join(path, self->mnt, "file"), O_RDWR | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4, 6))
		TH_LOG("fallocate: %s", strerror(errno));
	ASSERT_EQ(0, close(fd));
	strcpy(want, CONTENT);
	memset(want + 4, 0, 6);
	ASSERT_TRUE(has_bytes(join(path, self->upper, "file"), want, CONTENT_LEN));
	ASSERT_TRUE(has_bytes(join(path, self->mnt, "file"), want, CONTENT_LEN));
	check_lower_intact(_metadata, self);
}

TEST_F(copy_up, fsync_and_fdatasync_after_write)
{
	char path[PATH_MAX];
	int fd = open(join(path, self->mnt, "file"), O_WRONLY | O_TRUNC | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(7, write(fd, "synced\n", 7));
	ASSERT_EQ(0, fsync(fd)) TH_LOG("fsync: %s", strerror(errno));
	ASSERT_EQ(0, fdatasync(fd)) TH_LOG("fdatasync: %s", strerror(errno));
	ASSERT_EQ(0, close(fd));
	ASSERT_TRUE(has_text(join(path, self->upper, "file"), "synced\n"));
	check_lower_intact(_metadata, self);
}

TEST_F(copy_up, mmap_shared_write_reaches_upper)
{
	char path[PATH_MAX], want[256], buf[256];
	long page = sysconf(_SC_PAGESIZE);
	char *map;
	int fd = open(join(path, self->mnt, "file"), O_RDWR | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	map = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, memcmp(map, CONTENT, CONTENT_LEN));
	memcpy(map + 2, "MMAP", 4);
	ASSERT_EQ(0, msync(map, page, MS_SYNC)) TH_LOG("msync: %s", strerror(errno));
	content_with(want, 2, "MMAP");
	/* The same pages, seen through read(). */
	ASSERT_EQ(CONTENT_LEN, pread(fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, memcmp(buf, want, CONTENT_LEN));
	ASSERT_TRUE(has_text(join(path, self->upper, "file"), want));
	ASSERT_TRUE(has_text(join(path, self->mnt, "file"), want));
	ASSERT_EQ(0, munmap(map, page));
	ASSERT_EQ(0, close(fd));
	ASSERT_TRUE(has_text(join(path, self->mnt, "file"), want));
	check_lower_intact(_metadata, self);
}

/*
 * A read-only fd opened before another fd's write copied the file up
 * reads the copy from then on, at its own offset (overlayfs does the
 * same): one file, not two.
 */
TEST_F(copy_up, read_only_fd_from_before_reads_the_copy)
{
	char path[PATH_MAX], buf[256];
	int ro = open(join(path, self->mnt, "file"), O_RDONLY | O_CLOEXEC);

	ASSERT_GE(ro, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(5, read(ro, buf, 5));
	ASSERT_EQ(0, memcmp(buf, CONTENT, 5));
	ASSERT_EQ(0, echo_to(path, "replaced\n"));
	ASSERT_TRUE(has_text(path, "replaced\n"));
	ASSERT_EQ(4, read(ro, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "ced\n", 4));
	ASSERT_EQ(9, pread(ro, buf, sizeof(buf), 0));
	ASSERT_EQ(0, memcmp(buf, "replaced\n", 9));
	ASSERT_EQ(0, fsync(ro));
	ASSERT_EQ(0, close(ro));
	check_lower_intact(_metadata, self);
}

TEST_F(copy_up, stat_shows_new_size_and_mtime)
{
	char path[PATH_MAX];
	struct stat st, ust;
	int fd = open(join(path, self->mnt, "file"), O_WRONLY | O_APPEND | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(4, write(fd, "1234", 4));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_EQ(0, lstat(join(path, self->upper, "file"), &ust));
	ASSERT_EQ(CONTENT_LEN + 4, st.st_size);
	ASSERT_LT(MTIME_SEC + 1000, st.st_mtim.tv_sec);
	ASSERT_EQ(ust.st_mtim.tv_sec, st.st_mtim.tv_sec);
	ASSERT_EQ(ust.st_mtim.tv_nsec, st.st_mtim.tv_nsec);
	/* The copy keeps the lower file's number, under the union's st_dev. */
	ASSERT_EQ(self->file_st.st_ino, st.st_ino);
	ASSERT_EQ(dev_of(self->mnt), st.st_dev);
}

/* ---- many appenders at once ---- */

#define APPENDERS	8
#define LINES		200
#define LINE_LEN	48

/* Line I of appender C: LINE_LEN bytes, newline included. */
static void append_line(char *buf, int c, int i)
{
	int n = snprintf(buf, LINE_LEN + 1, "appender %d line %03d ", c, i);

	memset(buf + n, 'a' + c, LINE_LEN - 1 - n);
	buf[LINE_LEN - 1] = '\n';
	buf[LINE_LEN] = '\0';
}

static void appender(const char *path, int c, int go)
{
	char line[LINE_LEN + 1], byte;
	int fd, i;

	if (read(go, &byte, 1) != 0)
		_exit(2);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		_exit(3);
	for (i = 0; i < LINES; i++) {
		append_line(line, c, i);
		if (write(fd, line, LINE_LEN) != LINE_LEN)
			_exit(4);
	}
	_exit(close(fd) ? 5 : 0);
}

/*
 * APPENDERS processes open lower/log together (racing to copy it up) and
 * append LINES lines each: every line lands whole, each appender's in its
 * order, after the original content; one upper copy, no temporary left.
 */
TEST_F(copy_up, concurrent_appends_to_lower_file)
{
	const size_t start = strlen(LOG_START), total = start + APPENDERS * LINES * LINE_LEN;
	char path[PATH_MAX], line[LINE_LEN + 1], *buf = malloc(total + 1), *p;
	int next[APPENDERS] = { 0 }, go[2], c, status;
	pid_t pids[APPENDERS];

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, pipe(go));
	join(path, self->mnt, "log");
	for (c = 0; c < APPENDERS; c++) {
		pids[c] = fork();
		ASSERT_GE(pids[c], 0);
		if (pids[c] == 0) {
			close(go[1]);
			appender(path, c, go[0]);
		}
	}
	close(go[0]);
	close(go[1]);
	for (c = 0; c < APPENDERS; c++) {
		ASSERT_EQ(pids[c], waitpid(pids[c], &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("appender %d failed", c);
	}

	ASSERT_EQ(total, read_all(path, buf, total + 1));
	buf[total] = '\0';
	ASSERT_EQ(0, memcmp(buf, LOG_START, start));
	for (p = buf + start; p < buf + total; p += LINE_LEN) {
		ASSERT_EQ(1, sscanf(p, "appender %d ", &c)) TH_LOG("at %zd", p - buf);
		ASSERT_TRUE(c >= 0 && c < APPENDERS);
		ASSERT_LT(next[c], LINES);
		append_line(line, c, next[c]++);
		ASSERT_EQ(0, memcmp(p, line, LINE_LEN))
			TH_LOG("at %zd: %.*s", p - buf, LINE_LEN, p);
	}
	for (c = 0; c < APPENDERS; c++)
		ASSERT_EQ(LINES, next[c]);
	ASSERT_TRUE(has_bytes(join(path, self->upper, "log"), buf, total));
	ASSERT_TRUE(has_text(join(path, self->lower, "log"), LOG_START));
	check_upper_names(_metadata, self, "log");
	check_lower_intact(_metadata, self);
	free(buf);
}

/* ---- a copy-up that fails ---- */

/* The upper layer (with the work dir) on a 1 MiB tmpfs, lower/big 3 MiB. */
FIXTURE(full_upper) {
	char dir[64];
	char lower[128];
	char ufs[128];		/* the small tmpfs */
	char upper[128];
	char work[128];
	char mnt[128];
};

FIXTURE_VARIANT(full_upper) {
	bool aufs;
};

FIXTURE_VARIANT_ADD(full_upper, overlay) {
	.aufs = false,
};

FIXTURE_VARIANT_ADD(full_upper, aufs) {
	.aufs = true,
};

FIXTURE_SETUP(full_upper)
{
	char path[PATH_MAX], opts[512];
	long off;
	int fd;

	ASSERT_EQ(0, rsunion_ensure_loaded()) TH_LOG("load: %s", strerror(errno));
	ASSERT_EQ(0, scratch_get(self->dir));
	join(self->lower, self->dir, "lower");
	join(self->ufs, self->dir, "ufs");
	join(self->upper, self->ufs, "upper");
	join(self->work, self->ufs, variant->aufs ? "upper" : "work");
	join(self->mnt, self->dir, "mnt");
	ASSERT_EQ(0, mkdir(self->lower, 0755));
	ASSERT_EQ(0, mkdir(self->ufs, 0755));
	ASSERT_EQ(0, mount("ufs", self->ufs, "tmpfs", 0, "size=1m"));
	ASSERT_EQ(0, mkdir(self->upper, 0755));
	if (!variant->aufs)
		ASSERT_EQ(0, mkdir(self->work, 0755));
	ASSERT_EQ(0, mkdir(self->mnt, 0755));
	fd = open(join(path, self->lower, "big"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_GE(fd, 0);
	for (off = 0; off < BIG_SIZE; off += EXT1_LEN)
		ASSERT_EQ(0, pwrite_pattern(fd, off, BIG_SIZE - off < EXT1_LEN ? BIG_SIZE - off : EXT1_LEN));
	ASSERT_EQ(0, close(fd));
	if (variant->aufs)
		snprintf(opts, sizeof(opts), "br=%s=rw:%s=ro", self->upper, self->lower);
	else
		snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
			 self->lower, self->upper, self->work);
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, opts))
		TH_LOG("mount %s: %s", opts, strerror(errno));
}

FIXTURE_TEARDOWN(full_upper)
{
	umount2(self->mnt, MNT_DETACH);
	umount2(self->ufs, MNT_DETACH);
	scratch_put(self->dir);
}

/*
 * The copy does not fit: the open fails with ENOSPC, the temporary is
 * removed, and the union still shows the lower file.
 */
TEST_F(full_upper, failed_copy_up_leaves_no_temp)
{
	char path[PATH_MAX], names[256];
	struct stat st;
	int fd;

	ASSERT_EQ(-1, open(join(path, self->mnt, "big"), O_WRONLY | O_CLOEXEC));
	ASSERT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, count_temps(self->work));
	ASSERT_EQ(0, names_of(self->upper, names, sizeof(names)));
	ASSERT_STREQ("", names);
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_EQ(BIG_SIZE, st.st_size);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_TRUE(is_pattern_at(fd, 0, EXT1_LEN));
	ASSERT_TRUE(is_pattern_at(fd, 2 * MIB, EXT1_LEN));
	close(fd);
	/* Its space is free again: a small file fits. */
	ASSERT_EQ(0, echo_to(join(path, self->mnt, "small"), "fits\n"));
	ASSERT_TRUE(has_text(join(path, self->upper, "small"), "fits\n"));
}

/*
 * Opening with O_TRUNC copies up no data: the copy of a file bigger than
 * the whole upper filesystem fits, because it starts empty.
 */
TEST_F(full_upper, trunc_open_copies_up_no_data)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	fd = open(join(path, self->mnt, "big"), O_WRONLY | O_TRUNC | O_CLOEXEC);
	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(2, write(fd, "x\n", 2));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, stat(join(path, self->upper, "big"), &st));
	ASSERT_EQ(2, st.st_size);
	ASSERT_EQ(0, stat(join(path, self->lower, "big"), &st));
	ASSERT_EQ(BIG_SIZE, st.st_size);
}

/* ---- atimes: the union's mount options decide, as overlayfs's do ---- */

FIXTURE(atime) {
	char dir[64];
	char lower[128];
	char upper[128];
	char mnt[128];
};

/*
 * MOUNT_FLAGS of the union; whether an access records a new atime when
 * the atime is older than the mtime (OLD) and when it is newer than the
 * mtime and ctime and less than a day from now (RECENT).
 */
FIXTURE_VARIANT(atime) {
	unsigned long mount_flags;
	bool old;
	bool recent;
};

FIXTURE_VARIANT_ADD(atime, relatime) {
	.mount_flags = 0,
	.old = true,
	.recent = false,
};

FIXTURE_VARIANT_ADD(atime, noatime) {
	.mount_flags = MS_NOATIME,
	.old = false,
	.recent = false,
};

FIXTURE_VARIANT_ADD(atime, strictatime) {
	.mount_flags = MS_STRICTATIME,
	.old = true,
	.recent = true,
};

/*
 * lower/ file, lone, early (CONTENT), slink -> file, dir/a; union over
 * upper/, with file and dir copied up (dir merged: dir/b made through the
 * union).
 */
FIXTURE_SETUP(atime)
{
	char path[PATH_MAX], work[128], opts[512];

	ASSERT_EQ(0, rsunion_ensure_loaded()) TH_LOG("load: %s", strerror(errno));
	ASSERT_EQ(0, scratch_get(self->dir));
	join(self->lower, self->dir, "lower");
	join(self->upper, self->dir, "upper");
	join(self->mnt, self->dir, "mnt");
	join(work, self->dir, "work");
	ASSERT_EQ(0, mkdirs(join(path, self->lower, "dir")));
	ASSERT_EQ(0, write_file(join(path, self->lower, "dir/a"), CONTENT));
	ASSERT_EQ(0, write_file(join(path, self->lower, "file"), CONTENT));
	ASSERT_EQ(0, write_file(join(path, self->lower, "lone"), CONTENT));
	ASSERT_EQ(0, set_times(path, ATIME_SEC, ATIME_NSEC, MTIME_SEC, MTIME_NSEC));
	ASSERT_EQ(0, write_file(join(path, self->lower, "early"), CONTENT));
	ASSERT_EQ(0, symlink("file", join(path, self->lower, "slink")));
	ASSERT_EQ(0, mkdir(self->upper, 0755));
	ASSERT_EQ(0, mkdir(work, 0755));
	ASSERT_EQ(0, mkdir(self->mnt, 0755));
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 self->lower, self->upper, work);
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", variant->mount_flags, opts))
		TH_LOG("mount %s: %s", opts, strerror(errno));
	ASSERT_EQ(0, write_file(join(path, self->mnt, "dir/b"), CONTENT));
	ASSERT_EQ(0, chmod(join(path, self->mnt, "file"), 0644));
}

FIXTURE_TEARDOWN(atime)
{
	umount2(self->mnt, MNT_DETACH);
	scratch_put(self->dir);
}

static int read_it(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret = fd >= 0 && read(fd, buf, sizeof(buf)) > 0 ? 0 : -1;

	if (fd >= 0)
		close(fd);
	return ret;
}

static int read_noatime(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY | O_NOATIME | O_CLOEXEC);
	int ret = fd >= 0 && read(fd, buf, sizeof(buf)) > 0 ? 0 : -1;

	if (fd >= 0)
		close(fd);
	return ret;
}

/* A buffered read submitted through Linux AIO: the asynchronous path. */
static int aio_read_it(const char *path)
{
	struct iocb cb = { .aio_lio_opcode = IOCB_CMD_PREAD, .aio_nbytes = 64 };
	struct iocb *cbs[1] = { &cb };
	struct io_event event;
	aio_context_t ctx = 0;
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret = -1;

	if (fd < 0)
		return -1;
	cb.aio_fildes = fd;
	cb.aio_buf = (unsigned long)buf;
	if (syscall(SYS_io_setup, 1, &ctx) == 0) {
		if (syscall(SYS_io_submit, ctx, 1, cbs) == 1 &&
		    syscall(SYS_io_getevents, ctx, 1, 1, &event, NULL) == 1 &&
		    event.res > 0)
			ret = 0;
		syscall(SYS_io_destroy, ctx);
	}
	close(fd);
	return ret;
}

/* A file opened before the first access copied it up (see early_open). */
static int early_fd = -1;

static int read_early_fd(const char *path)
{
	char buf[64];

	return pread(early_fd, buf, sizeof(buf), 0) > 0 ? 0 : -1;
}

static int read_nothing(const char *path)
{
	char buf[1];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret = fd >= 0 && read(fd, buf, 0) == 0 ? 0 : -1;

	if (fd >= 0)
		close(fd);
	return ret;
}

static int readlink_it(const char *path)
{
	char buf[64];

	return readlink(path, buf, sizeof(buf)) == 4 ? 0 : -1;
}

static int mmap_it(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	volatile char *map;
	int ret = -1;

	if (fd < 0)
		return -1;
	map = mmap(NULL, 1, PROT_READ, MAP_SHARED, fd, 0);
	if (map != MAP_FAILED) {
		ret = map[0] == CONTENT[0] ? 0 : -1;
		munmap((void *)map, 1);
	}
	close(fd);
	return ret;
}

/* Through splice_read. */
static int sendfile_it(const char *path)
{
	int in = open(path, O_RDONLY | O_CLOEXEC);
	int out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int ret = in >= 0 && out >= 0 && sendfile(out, in, NULL, 64) > 0 ? 0 : -1;

	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ret;
}

static int list_it(const char *path)
{
	DIR *d = opendir(path);
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n == 4 ? 0 : -1;	/* . .. a b */
}

/*
 * Sets NAME's atime through the union to ASEC (its mtime to 1 s past the
 * epoch), ACCESSes it, and says whether the atime moved, as the union and
 * its upper copy show it.
 */
static bool access_moves_atime(struct __test_metadata *_metadata,
			       FIXTURE_DATA(atime) *self, const char *name,
			       time_t asec, int (*access)(const char *))
{
	char path[PATH_MAX], upper[PATH_MAX];
	struct stat st, ust;

	join(path, self->mnt, name);
	join(upper, self->upper, name);
	EXPECT_EQ(0, set_times(path, asec, 0, 1, 0));
	/* A later tick than the ctime the change set: else relatime records every access. */
	usleep(20 * 1000);
	EXPECT_EQ(0, access(path));
	EXPECT_EQ(0, lstat(path, &st));
	EXPECT_EQ(0, lstat(upper, &ust));
	EXPECT_EQ(ust.st_atim.tv_sec, st.st_atim.tv_sec);
	EXPECT_EQ(ust.st_atim.tv_nsec, st.st_atim.tv_nsec);
	return st.st_atim.tv_sec != asec || st.st_atim.tv_nsec != 0;
}

/*
 * ACCESSes NAME again, a few clock ticks after an access that may have
 * recorded one, and says whether the upper copy's atime moved: it must
 * not under relatime, which judges by the atime the union inode took
 * from the upper copy when it recorded the first.
 */
static bool access_again_moves_atime(struct __test_metadata *_metadata,
				     FIXTURE_DATA(atime) *self, const char *name,
				     int (*access)(const char *))
{
	char upper[PATH_MAX];
	struct stat before, after;

	join(upper, self->upper, name);
	EXPECT_EQ(0, lstat(upper, &before));
	usleep(30 * 1000);
	EXPECT_EQ(0, access(join((char[PATH_MAX]){}, self->mnt, name)));
	EXPECT_EQ(0, lstat(upper, &after));
	return before.st_atim.tv_sec != after.st_atim.tv_sec ||
	       before.st_atim.tv_nsec != after.st_atim.tv_nsec;
}

/*
 * An atime older than the mtime, then one in the next hour: newer than
 * the mtime and the ctime the change set, and not a day old.
 */
static void check_atimes(struct __test_metadata *_metadata, FIXTURE_DATA(atime) *self,
			 const FIXTURE_VARIANT(atime) *variant, const char *name,
			 int (*access)(const char *))
{
	EXPECT_EQ(variant->old, access_moves_atime(_metadata, self, name, 0, access));
	EXPECT_EQ(variant->recent, access_again_moves_atime(_metadata, self, name, access));
	EXPECT_EQ(variant->recent,
		  access_moves_atime(_metadata, self, name, time(NULL) + 3600, access));
}

TEST_F(atime, read_records_access_as_the_union_mount_says)
{
	check_atimes(_metadata, self, variant, "file", read_it);
}

TEST_F(atime, aio_read_records_access_as_the_union_mount_says)
{
	check_atimes(_metadata, self, variant, "file", aio_read_it);
}

/* Its first access copies the file up: the fd's reads reach the copy. */
TEST_F(atime, read_through_fd_from_before_copy_up_records_as_the_union_mount_says)
{
	char path[PATH_MAX];

	early_fd = open(join(path, self->mnt, "early"), O_RDONLY | O_CLOEXEC);
	ASSERT_GE(early_fd, 0);
	check_atimes(_metadata, self, variant, "early", read_early_fd);
	close(early_fd);
}

TEST_F(atime, readlink_records_access_as_the_union_mount_says)
{
	check_atimes(_metadata, self, variant, "slink", readlink_it);
}

/*
 * The upper copy's mtime moved past the atime behind the union's back (as
 * a write through a shared mapping moves it): relatime records the next
 * access, judging by the copy's times, not the union inode's old ones.
 */
TEST_F(atime, access_judged_by_the_upper_copy_times)
{
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT } };
	char path[PATH_MAX];
	struct stat st;
	time_t atime = time(NULL) + 3600;

	ASSERT_EQ(0, set_times(join(path, self->mnt, "file"), atime, 0, 1, 0));
	ts[1].tv_sec = atime + 3600;
	ASSERT_EQ(0, utimensat(AT_FDCWD, join(path, self->upper, "file"), ts, 0));
	ASSERT_EQ(0, read_it(join(path, self->mnt, "file")));
	ASSERT_EQ(0, lstat(path, &st));
	EXPECT_EQ(variant->old, st.st_atim.tv_sec != atime);
}

TEST_F(atime, mmap_records_access_as_the_union_mount_says)
{
	check_atimes(_metadata, self, variant, "file", mmap_it);
}

TEST_F(atime, sendfile_records_access_as_the_union_mount_says)
{
	check_atimes(_metadata, self, variant, "file", sendfile_it);
}

TEST_F(atime, readdir_records_access_as_the_union_mount_says)
{
	check_atimes(_metadata, self, variant, "dir", list_it);
}

/* Nothing read, nothing to record, as on the real filesystem. */
TEST_F(atime, empty_read_records_no_access)
{
	EXPECT_FALSE(access_moves_atime(_metadata, self, "file", 0, read_nothing));
}

TEST_F(atime, o_noatime_read_records_no_access)
{
	EXPECT_FALSE(access_moves_atime(_metadata, self, "file", 0, read_noatime));
	EXPECT_FALSE(access_moves_atime(_metadata, self, "file", time(NULL) + 3600, read_noatime));
}

TEST_F(atime, read_of_a_lower_file_records_nothing)
{
	char path[PATH_MAX];
	struct stat st;

	ASSERT_EQ(0, read_it(join(path, self->mnt, "lone")));
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(ATIME_SEC, st.st_atim.tv_sec);
	EXPECT_EQ(ATIME_NSEC, st.st_atim.tv_nsec);
	ASSERT_EQ(0, stat(join(path, self->lower, "lone"), &st));
	EXPECT_EQ(ATIME_SEC, st.st_atim.tv_sec);
}

/* ---- an upper layer on ext4: F_SETFL, asynchronous direct writes, FIEMAP ---- */

FIXTURE(setfl) {
	char dir[64];		/* scratch tmpfs: lower/, img, ext/ */
	char mnt[128];
	char upper[128];	/* on the ext4 image, which checks O_DIRECT */
};

FIXTURE_SETUP(setfl)
{
	char cmd[4 * PATH_MAX], opts[512];

	ASSERT_EQ(0, rsunion_ensure_loaded()) TH_LOG("load: %s", strerror(errno));
	ASSERT_EQ(0, scratch_get(self->dir));
	join(self->mnt, self->dir, "mnt");
	join(self->upper, self->dir, "ext/u");
	snprintf(cmd, sizeof(cmd),
		 "cd %s && mkdir lower mnt ext && head -c 8192 /dev/zero > lower/f && "
		 "truncate -s 32M img && mkfs.ext4 -q -F img && mount -o loop img ext && "
		 "mkdir ext/u ext/w",
		 self->dir);
	if (sh(cmd))
		SKIP(return, "no mkfs.ext4 or loop device here");
	snprintf(opts, sizeof(opts), "lowerdir=%s/lower,upperdir=%s,workdir=%s/ext/w",
		 self->dir, self->upper, self->dir);
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, opts))
		TH_LOG("mount %s: %s", opts, strerror(errno));
}

FIXTURE_TEARDOWN(setfl)
{
	char ext[128];

	umount2(self->mnt, MNT_DETACH);
	umount2(join(ext, self->dir, "ext"), MNT_DETACH);
	scratch_put(self->dir);
}

/* A FIEMAP request for the whole of PATH's extents, flushed first. */
struct extents {
	struct fiemap fm;
	struct fiemap_extent fe[8];
};

static int map_extents(const char *path, struct extents *x)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return errno;
	memset(x, 0, sizeof(*x));
	x->fm.fm_length = FIEMAP_MAX_OFFSET;
	x->fm.fm_flags = FIEMAP_FLAG_SYNC;
	x->fm.fm_extent_count = ARRAY_SIZE(x->fe);
	if (ioctl(fd, FS_IOC_FIEMAP, &x->fm))
		err = errno;
	close(fd);
	return err;
}

/*
 * FIEMAP (filefrag) on a union file maps its topmost real file, as
 * overlayfs's: nothing for a file still on the tmpfs below, which maps
 * none (EOPNOTSUPP); once it is copied up to ext4, the extents ext4 gives
 * for the upper file itself.
 */
TEST_F(setfl, fiemap_maps_the_top_real_file)
{
	char path[PATH_MAX], upper[PATH_MAX];
	struct extents in_union, in_upper;
	unsigned int i;
	int fd;

	join(path, self->mnt, "f");
	ASSERT_EQ(EOPNOTSUPP, map_extents(path, &in_union));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, pwrite_pattern(fd, 0, EXT1_LEN));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, map_extents(path, &in_union));
	ASSERT_EQ(0, map_extents(join(upper, self->upper, "f"), &in_upper));
	ASSERT_GT(in_union.fm.fm_mapped_extents, 0);
	ASSERT_EQ(in_upper.fm.fm_mapped_extents, in_union.fm.fm_mapped_extents);
	for (i = 0; i < in_union.fm.fm_mapped_extents; i++) {
		ASSERT_NE(0, in_union.fe[i].fe_physical);
		ASSERT_EQ(in_upper.fe[i].fe_physical, in_union.fe[i].fe_physical);
		ASSERT_EQ(in_upper.fe[i].fe_length, in_union.fe[i].fe_length);
		ASSERT_EQ(in_upper.fe[i].fe_flags, in_union.fe[i].fe_flags);
	}
}

/*
 * O_DIRECT set by fcntl(F_SETFL) on an open union file holds for writes
 * as for reads, as through overlayfs: ext4 refuses a direct write that is
 * not aligned, and takes it once the flag is cleared again.
 */
TEST_F(setfl, o_direct_reaches_writes)
{
	char path[PATH_MAX], buf[100], back[sizeof(buf)];
	void *block;
	int fd, flags;

	memset(buf, 'x', sizeof(buf));
	fd = open(join(path, self->mnt, "f"), O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	flags = fcntl(fd, F_GETFL);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, flags | O_DIRECT));
	EXPECT_EQ(-1, pwrite(fd, buf, sizeof(buf), 3));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, posix_memalign(&block, 4096, 4096));
	memset(block, 'd', 4096);
	EXPECT_EQ(4096, pwrite(fd, block, 4096, 4096));
	EXPECT_EQ(4096, pread(fd, block, 4096, 4096));
	EXPECT_EQ('d', ((char *)block)[4095]);
	free(block);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, flags));
	EXPECT_EQ(sizeof(buf), pwrite(fd, buf, sizeof(buf), 3));
	ASSERT_EQ(0, close(fd));

	fd = open(join(path, self->upper, "f"), O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(sizeof(back), pread(fd, back, sizeof(back), 3));
	EXPECT_EQ(0, memcmp(buf, back, sizeof(back)));
	EXPECT_EQ(1, pread(fd, back, 1, 8191));
	EXPECT_EQ('d', back[0]);
	close(fd);
}

/*
 * A direct AIO write to ext4 that the real filesystem queues ends on a
 * workqueue, where the union inode takes the copy's size and times (as
 * overlayfs's ovl_file_modified). Not its link count: an unlink through
 * the union counts that down meanwhile, under locks the completion does
 * not hold, and a copy landing between the real unlink and the union's own
 * count would count the link twice: to 0 with a name left, which link()
 * then refuses with ENOENT. Each round unlinks one of two names, at a
 * different moment of the write; on the old module, three runs out of
 * three failed, within 200 rounds.
 */
TEST_F(setfl, direct_aio_writes_racing_unlinks_keep_the_link_count)
{
	char a[PATH_MAX], b[PATH_MAX], c[PATH_MAX];
	struct iocb cb = { .aio_lio_opcode = IOCB_CMD_PWRITE, .aio_nbytes = 4096 };
	struct iocb *cbs[1] = { &cb };
	struct io_event event;
	aio_context_t ctx = 0;
	void *block;
	int round, fd;

	join(a, self->mnt, "a");
	join(b, self->mnt, "b");
	join(c, self->mnt, "c");
	ASSERT_EQ(0, posix_memalign(&block, 4096, 4096));
	memset(block, 'w', 4096);
	cb.aio_buf = (unsigned long)block;
	ASSERT_EQ(0, syscall(SYS_io_setup, 1, &ctx));
	for (round = 0; round < 300; round++) {
		bool opened_goes = round % 2;	/* else the other name */
		volatile int spin;

		fd = open(a, O_RDWR | O_CREAT | O_DIRECT | O_CLOEXEC, 0644);
		ASSERT_GE(fd, 0);
		/* Allocated first: ext4 waits for a write that extends. */
		ASSERT_EQ(4096, pwrite(fd, block, 4096, 0));
		ASSERT_EQ(0, link(a, b));
		cb.aio_fildes = fd;
		ASSERT_EQ(1, syscall(SYS_io_submit, ctx, 1, cbs));
		for (spin = 0; spin < (round * 37) % 2000; spin++)
			;
		ASSERT_EQ(0, unlink(opened_goes ? a : b));
		ASSERT_EQ(1, syscall(SYS_io_getevents, ctx, 1, 1, &event, NULL));
		EXPECT_EQ(4096, event.res);
		ASSERT_EQ(0, link(opened_goes ? b : a, c))
			TH_LOG("round %d: link of the name left: %s", round, strerror(errno));
		ASSERT_EQ(0, unlink(opened_goes ? b : a));
		ASSERT_EQ(0, unlink(c));
		ASSERT_EQ(0, close(fd));
	}
	syscall(SYS_io_destroy, ctx);
	free(block);
}

/* ---- no upper layer: still read-only ---- */

FIXTURE(read_only) {
	char dir[64];
	char l1[128];
	char mnt[128];
};

FIXTURE_VARIANT(read_only) {
	const char *opts;	/* with %s for l1 and l2 */
};

FIXTURE_VARIANT_ADD(read_only, lowerdir) {
	.opts = "lowerdir=%s:%s",
};

/* Every aufs branch marked =ro: no rw branch, no upper layer. */
FIXTURE_VARIANT_ADD(read_only, br_all_ro) {
	.opts = "br=%s=ro:%s=ro",
};

FIXTURE_SETUP(read_only)
{
	char path[PATH_MAX], l2[128], opts[512];

	ASSERT_EQ(0, rsunion_ensure_loaded()) TH_LOG("load: %s", strerror(errno));
	ASSERT_EQ(0, scratch_get(self->dir));
	join(self->l1, self->dir, "l1");
	join(l2, self->dir, "l2");
	join(self->mnt, self->dir, "mnt");
	ASSERT_EQ(0, mkdir(self->l1, 0755));
	ASSERT_EQ(0, mkdir(l2, 0755));
	ASSERT_EQ(0, mkdir(self->mnt, 0755));
	ASSERT_EQ(0, write_file(join(path, self->l1, "file"), CONTENT));
	snprintf(opts, sizeof(opts), variant->opts, self->l1, l2);
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, opts))
		TH_LOG("mount %s: %s", opts, strerror(errno));
}

FIXTURE_TEARDOWN(read_only)
{
	umount2(self->mnt, MNT_DETACH);
	scratch_put(self->dir);
}

TEST_F(read_only, open_for_write_erofs)
{
	char path[PATH_MAX];

	ASSERT_EQ(-1, open(join(path, self->mnt, "file"), O_WRONLY | O_CLOEXEC));
	ASSERT_EQ(EROFS, errno);
	ASSERT_EQ(-1, truncate(path, 0));
	ASSERT_EQ(EROFS, errno);
	ASSERT_TRUE(has_bytes(join(path, self->l1, "file"), CONTENT, CONTENT_LEN));
}

TEST_F(read_only, create_and_unlink_erofs)
{
	char path[PATH_MAX], names[256];

	ASSERT_EQ(-1, open(join(path, self->mnt, "new"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	ASSERT_EQ(EROFS, errno);
	ASSERT_EQ(-1, unlink(join(path, self->mnt, "file")));
	ASSERT_EQ(EROFS, errno);
	ASSERT_EQ(0, names_of(self->l1, names, sizeof(names)));
	ASSERT_STREQ("file", names);
}

TEST_HARNESS_MAIN
