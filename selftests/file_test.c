// SPDX-License-Identifier: GPL-2.0
/*
 * Regular files through a read-only union: every way of reading a lower
 * layer's file (read, pread, readv, mmap, sendfile, splice, lseek with
 * SEEK_DATA/SEEK_HOLE) gives its exact bytes, fstat and /proc/self/fd show
 * the real file and the union path, the caller's permissions are checked
 * on the file's own mode and owner, every kind of write fails with EROFS,
 * and statfs reports rsunion's magic over the top layer's filesystem.
 */
#include <grp.h>
#include <limits.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

#define RSUNION_MAGIC	0x72737531
#define MIB		(1024 * 1024)
#define HELLO		"hello from the lower layer\n"
#define HELLO_LEN	((ssize_t)sizeof(HELLO) - 1)
#define SHADOW_TOP	"the top layer's copy\n"
#define SHADOW_BOTTOM	"the bottom layer's copy, which is longer\n"
#define PUBLIC		"anyone may read this\n"
#define SECRET		"root alone may read this\n"
/* The size of the top layer's own tmpfs: statfs must report it. */
#define TOP_SIZE_OPT	"size=1m,nr_inodes=97,mode=0755"
#define TOP_FILES	97
#define USER_ID		1000
/* Exit codes of a child running as USER_ID, beside errno values. */
#define CHILD_SHORT	201
#define CHILD_WRONG	202

FIXTURE(file) {
	char dir[64];		/* scratch tmpfs */
	char top[128];		/* top lower layer: its own small tmpfs */
	char bottom[128];	/* bottom lower layer, on the scratch tmpfs */
	char mnt[128];		/* the union */
	long page;
};

/* The byte at OFF of the patterned files: differs from page to page. */
static unsigned char pattern(off_t off)
{
	return (off % 251) ^ (off >> 12);
}

static void fill_pattern(unsigned char *buf, off_t off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pattern(off + i);
}

/* Is BUF exactly the pattern from OFF on? */
static bool is_pattern(const unsigned char *buf, off_t off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != pattern(off + i))
			return false;
	return true;
}

/* A file of SIZE bytes of the pattern. */
static int write_pattern(const char *path, size_t size)
{
	unsigned char *buf = malloc(size);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ret = -1;

	if (buf && fd >= 0) {
		fill_pattern(buf, 0, size);
		if (write(fd, buf, size) == (ssize_t)size)
			ret = 0;
	}
	free(buf);
	if (fd >= 0 && close(fd))
		ret = -1;
	return ret;
}

/*
 * A sparse file of 2 MiB: one page of the pattern at 0 and one at 1 MiB,
 * holes everywhere else.
 */
static int write_sparse(const char *path, long page)
{
	unsigned char *buf = malloc(page);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ret = -1;

	if (buf && fd >= 0 && ftruncate(fd, 2 * MIB) == 0) {
		fill_pattern(buf, 0, page);
		if (pwrite(fd, buf, page, 0) == page) {
			fill_pattern(buf, MIB, page);
			if (pwrite(fd, buf, page, MIB) == page)
				ret = 0;
		}
	}
	free(buf);
	if (fd >= 0 && close(fd))
		ret = -1;
	return ret;
}

/* Reads exactly LEN bytes of FD (fewer only at EOF); -1 on error. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

/* Opens PATH for reading and checks that it holds exactly WANT. */
static int open_and_read(const char *path, const char *want)
{
	char buf[256];
	ssize_t len = strlen(want);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	if (read_full(fd, buf, sizeof(buf)) != len)
		return CHILD_SHORT;
	if (memcmp(buf, want, len))
		return CHILD_WRONG;
	close(fd);
	return 0;
}

static int stat_path(const char *path, const char *unused)
{
	struct stat st;

	return stat(path, &st) ? errno : 0;
}

/*
 * Layers (top first):
 *   top/     its own tmpfs (TOP_SIZE_OPT): shadowed
 *   bottom/  hello, shadowed, big (1 MiB of the pattern), sparse, public
 *            (0644), secret (0600), private/ (0700) with inner,
 *            owned (0640, 1234:5678, a fixed mtime), dir/
 * all root-owned unless said, mounted read-only at mnt.
 */
FIXTURE_SETUP(file)
{
	struct timespec times[2] = {
		{ .tv_sec = 1500000000, .tv_nsec = 987654321 },	/* atime */
		{ .tv_sec = 1000000000, .tv_nsec = 123456789 },	/* mtime */
	};
	char path[PATH_MAX], opts[3 * PATH_MAX];

	ASSERT_EQ(0, rsunion_ensure_loaded()) TH_LOG("load: %s", strerror(errno));
	self->page = sysconf(_SC_PAGESIZE);
	ASSERT_EQ(0, scratch_get(self->dir));
	join(self->top, self->dir, "top");
	join(self->bottom, self->dir, "bottom");
	join(self->mnt, self->dir, "mnt");
	ASSERT_EQ(0, mkdir(self->top, 0755));
	ASSERT_EQ(0, mount("top", self->top, "tmpfs", 0, TOP_SIZE_OPT));
	ASSERT_EQ(0, mkdir(self->bottom, 0755));
	ASSERT_EQ(0, chmod(self->bottom, 0755));
	ASSERT_EQ(0, mkdir(self->mnt, 0755));
	ASSERT_EQ(0, chmod(self->mnt, 0755));

	ASSERT_EQ(0, write_file(join(path, self->top, "shadowed"), SHADOW_TOP));
	ASSERT_EQ(0, write_file(join(path, self->bottom, "shadowed"), SHADOW_BOTTOM));
	ASSERT_EQ(0, write_file(join(path, self->bottom, "hello"), HELLO));
	ASSERT_EQ(0, write_pattern(join(path, self->bottom, "big"), MIB));
	ASSERT_EQ(0, write_sparse(join(path, self->bottom, "sparse"), self->page));

	ASSERT_EQ(0, write_file(join(path, self->bottom, "public"), PUBLIC));
	ASSERT_EQ(0, chmod(path, 0644));
	ASSERT_EQ(0, write_file(join(path, self->bottom, "secret"), SECRET));
	ASSERT_EQ(0, chmod(path, 0600));
	ASSERT_EQ(0, mkdir(join(path, self->bottom, "private"), 0700));
	ASSERT_EQ(0, chmod(path, 0700));
	ASSERT_EQ(0, write_file(join(path, self->bottom, "private/inner"), PUBLIC));
	ASSERT_EQ(0, chmod(path, 0644));
	ASSERT_EQ(0, mkdir(join(path, self->bottom, "dir"), 0755));

	ASSERT_EQ(0, write_file(join(path, self->bottom, "owned"), HELLO));
	ASSERT_EQ(0, chown(path, 1234, 5678));
	ASSERT_EQ(0, chmod(path, 0640));
	ASSERT_EQ(0, utimensat(AT_FDCWD, path, times, 0));

	snprintf(opts, sizeof(opts), "lowerdir=%s:%s", self->top, self->bottom);
	ASSERT_EQ(0, mount("none", self->mnt, "rsunion", 0, opts))
		TH_LOG("mount %s: %s", opts, strerror(errno));
}

FIXTURE_TEARDOWN(file)
{
	umount2(self->mnt, MNT_DETACH);
	umount2(self->top, MNT_DETACH);
	scratch_put(self->dir);
}

/* ---- reading ---- */

TEST_F(file, read_small_file_exact)
{
	char path[PATH_MAX], buf[256];
	int fd = open(join(path, self->mnt, "hello"), O_RDONLY | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(HELLO_LEN, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, HELLO, HELLO_LEN));
	ASSERT_EQ(0, read(fd, buf, sizeof(buf)));
	close(fd);
}

TEST_F(file, read_gives_topmost_copy)
{
	char path[PATH_MAX], buf[256];
	int fd = open(join(path, self->mnt, "shadowed"), O_RDONLY | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(strlen(SHADOW_TOP), read_full(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, SHADOW_TOP, strlen(SHADOW_TOP)));
	close(fd);
}

/* Odd-sized reads that straddle page boundaries, up to EOF. */
TEST_F(file, read_1mib_pattern_exact)
{
	char path[PATH_MAX];
	unsigned char *buf = malloc(MIB + 1);
	size_t done = 0;
	ssize_t n;
	int fd = open(join(path, self->mnt, "big"), O_RDONLY | O_CLOEXEC);

	ASSERT_NE(NULL, buf);
	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	/* Asks for one byte more than the file holds, to see EOF. */
	while ((n = read(fd, buf + done, MIB + 1 - done < 65537 ? MIB + 1 - done : 65537)) > 0)
		done += n;
	ASSERT_EQ(0, n) TH_LOG("read: %s", strerror(errno));
	ASSERT_EQ(MIB, done);
	ASSERT_TRUE(is_pattern(buf, 0, MIB));
	close(fd);
	free(buf);
}

TEST_F(file, pread_at_offsets)
{
	static const off_t offs[] = { 0, 1, 4095, 4096, 4097, 65535, MIB / 2 - 3 };
	char path[PATH_MAX];
	unsigned char buf[8192];
	unsigned int i;
	int fd = open(join(path, self->mnt, "big"), O_RDONLY | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		memset(buf, 0, sizeof(buf));
		ASSERT_EQ(sizeof(buf), pread(fd, buf, sizeof(buf), offs[i]));
		ASSERT_TRUE(is_pattern(buf, offs[i], sizeof(buf)))
			TH_LOG("wrong bytes at %lld", (long long)offs[i]);
	}
	/* Short at the end, nothing past it. */
	ASSERT_EQ(10, pread(fd, buf, sizeof(buf), MIB - 10));
	ASSERT_TRUE(is_pattern(buf, MIB - 10, 10));
	ASSERT_EQ(0, pread(fd, buf, sizeof(buf), MIB));
	ASSERT_EQ(0, pread(fd, buf, sizeof(buf), 3 * MIB));
	/* pread leaves the file position alone. */
	ASSERT_EQ(0, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(16, read(fd, buf, 16));
	ASSERT_TRUE(is_pattern(buf, 0, 16));
	close(fd);
}

TEST_F(file, readv_fills_buffers_in_order)
{
	static const size_t sizes[] = { 1, 4095, 5000, 7 };
	unsigned char a[1], b[4095], c[5000], d[7];
	struct iovec iov[] = {
		{ a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) }, { d, sizeof(d) },
	};
	char path[PATH_MAX];
	off_t off = 100;
	unsigned int i;
	int fd = open(join(path, self->mnt, "big"), O_RDONLY | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(100, lseek(fd, 100, SEEK_SET));
	ASSERT_EQ(1 + 4095 + 5000 + 7, readv(fd, iov, 4));
	for (i = 0; i < 4; i++) {
		ASSERT_TRUE(is_pattern(iov[i].iov_base, off, sizes[i]))
			TH_LOG("buffer %u wrong", i);
		off += sizes[i];
	}
	ASSERT_EQ(off, lseek(fd, 0, SEEK_CUR));
	close(fd);
}

TEST_F(file, preadv_at_offset)
{
	unsigned char a[3000], b[3000];
	struct iovec iov[] = { { a, sizeof(a) }, { b, sizeof(b) } };
	char path[PATH_MAX];
	int fd = open(join(path, self->mnt, "big"), O_RDONLY | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(6000, preadv(fd, iov, 2, 3 * 4096 - 1));
	ASSERT_TRUE(is_pattern(a, 3 * 4096 - 1, sizeof(a)));
	ASSERT_TRUE(is_pattern(b, 3 * 4096 - 1 + sizeof(a), sizeof(b)));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_CUR));
	close(fd);
}

/* ---- mmap ---- */

TEST_F(file, mmap_shared_reads_exact_bytes)
{
	char path[PATH_MAX];
	unsigned char *map;
	int fd = open(join(path, self->mnt, "big"), O_RDONLY | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	map = mmap(NULL, MIB, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_TRUE(is_pattern(map, 0, MIB));
	munmap(map, MIB);
	/* At a page offset too. */
	map = mmap(NULL, 2 * self->page, PROT_READ, MAP_SHARED, fd, 5 * self->page);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_TRUE(is_pattern(map, 5 * self->page, 2 * self->page));
	munmap(map, 2 * self->page);
	close(fd);
}

TEST_F(file, mmap_private_reads_exact_bytes)
{
	char path[PATH_MAX];
	unsigned char *map;
	int fd = open(join(path, self->mnt, "big"), O_RDONLY | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	map = mmap(NULL, MIB, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_TRUE(is_pattern(map, 0, MIB));
	munmap(map, MIB);
	close(fd);
}

/* Stores to a private mapping are copied on write, never reach the file. */
TEST_F(file, mmap_private_write_stays_private)
{
	char path[PATH_MAX];
	unsigned char *map, buf[16];
	int fd = open(join(path, self->mnt, "big"), O_RDONLY | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	map = mmap(NULL, self->page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerror(errno));
	memset(map, 0xa5, 16);
	ASSERT_EQ(0xa5, map[15]);
	ASSERT_TRUE(is_pattern(map + 16, 16, self->page - 16));
	ASSERT_EQ(16, pread(fd, buf, 16, 0));
	ASSERT_TRUE(is_pattern(buf, 0, 16));
	munmap(map, self->page);
	close(fd);
	fd = open(join(path, self->bottom, "big"), O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(16, pread(fd, buf, 16, 0));
	ASSERT_TRUE(is_pattern(buf, 0, 16));
	close(fd);
}

/* ---- sendfile, splice ---- */

TEST_F(file, sendfile_whole_file_to_tmpfs)
{
	char path[PATH_MAX];
	unsigned char *buf = malloc(MIB + 1);
	size_t done = 0;
	ssize_t n;
	int in = open(join(path, self->mnt, "big"), O_RDONLY | O_CLOEXEC);
	int out = open(join(path, self->dir, "out"),
		       O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ASSERT_NE(NULL, buf);
	ASSERT_GE(in, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_GE(out, 0);
	while ((n = sendfile(out, in, NULL, MIB + 1 - done)) > 0)
		done += n;
	ASSERT_EQ(0, n) TH_LOG("sendfile: %s", strerror(errno));
	ASSERT_EQ(MIB, done);
	ASSERT_EQ(MIB, lseek(in, 0, SEEK_CUR));
	ASSERT_EQ(MIB, pread(out, buf, MIB + 1, 0));
	ASSERT_TRUE(is_pattern(buf, 0, MIB));
	close(in);
	close(out);
	free(buf);
}

/* With an offset, sendfile reads from there and leaves f_pos alone. */
TEST_F(file, sendfile_from_offset)
{
	char path[PATH_MAX];
	unsigned char buf[200];
	off_t off = 4096 + 3;
	int in = open(join(path, self->mnt, "big"), O_RDONLY | O_CLOEXEC);
	int out = open(join(path, self->dir, "out"),
		       O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ASSERT_GE(in, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_GE(out, 0);
	ASSERT_EQ(100, sendfile(out, in, &off, 100)) TH_LOG("sendfile: %s", strerror(errno));
	ASSERT_EQ(4096 + 3 + 100, off);
	ASSERT_EQ(0, lseek(in, 0, SEEK_CUR));
	ASSERT_EQ(100, pread(out, buf, sizeof(buf), 0));
	ASSERT_TRUE(is_pattern(buf, 4096 + 3, 100));
	close(in);
	close(out);
}

TEST_F(file, splice_into_pipe)
{
	char path[PATH_MAX], buf[256];
	int p[2];
	int fd = open(join(path, self->mnt, "hello"), O_RDONLY | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(HELLO_LEN, splice(fd, NULL, p[1], NULL, 4096, 0))
		TH_LOG("splice: %s", strerror(errno));
	ASSERT_EQ(0, splice(fd, NULL, p[1], NULL, 4096, 0));
	close(p[1]);
	ASSERT_EQ(HELLO_LEN, read_full(p[0], buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, HELLO, HELLO_LEN));
	close(p[0]);
	close(fd);
}

/* 200 KiB from an odd offset: more than a pipe holds, so several calls. */
TEST_F(file, splice_from_offset_into_pipe)
{
	const size_t len = 200 * 1024;
	const loff_t start = 12345;
	char path[PATH_MAX];
	unsigned char *buf = malloc(len);
	loff_t off = start;
	size_t done = 0;
	ssize_t n;
	int p[2];
	int fd = open(join(path, self->mnt, "big"), O_RDONLY | O_CLOEXEC);

	ASSERT_NE(NULL, buf);
	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(0, pipe(p));
	while (done < len) {
		n = splice(fd, &off, p[1], NULL, len - done, 0);
		ASSERT_GT(n, 0) TH_LOG("splice: %s", strerror(errno));
		ASSERT_EQ(n, read_full(p[0], buf + done, n));
		done += n;
	}
	ASSERT_EQ(start + len, off);
	ASSERT_EQ(0, lseek(fd, 0, SEEK_CUR));
	ASSERT_TRUE(is_pattern(buf, start, len));
	close(p[0]);
	close(p[1]);
	close(fd);
	free(buf);
}

/* ---- lseek ---- */

TEST_F(file, lseek_end_and_cur)
{
	char path[PATH_MAX], buf[64];
	int fd = open(join(path, self->mnt, "hello"), O_RDONLY | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(HELLO_LEN, lseek(fd, 0, SEEK_END));
	ASSERT_EQ(0, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(HELLO_LEN - 6, lseek(fd, -6, SEEK_END));
	ASSERT_EQ(6, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, HELLO + HELLO_LEN - 6, 6));
	ASSERT_EQ(HELLO_LEN, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(HELLO_LEN - 20, lseek(fd, -20, SEEK_CUR));
	ASSERT_EQ(HELLO_LEN - 17, lseek(fd, 3, SEEK_CUR));
	ASSERT_EQ(4, read(fd, buf, 4));
	ASSERT_EQ(0, memcmp(buf, HELLO + HELLO_LEN - 17, 4));
	ASSERT_EQ(HELLO_LEN + 100, lseek(fd, 100, SEEK_END));
	ASSERT_EQ(0, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(-1, lseek(fd, -HELLO_LEN - 1, SEEK_END));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(HELLO_LEN + 100, lseek(fd, 0, SEEK_CUR));
	close(fd);
}

/*
 * sparse: data in [0, page) and [1 MiB, 1 MiB + page), size 2 MiB; tmpfs
 * finds holes at page granularity.
 */
TEST_F(file, seek_data_hole_on_sparse_file)
{
	const off_t page = self->page;
	char path[PATH_MAX];
	unsigned char buf[16];
	int fd = open(join(path, self->mnt, "sparse"), O_RDONLY | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_DATA));
	ASSERT_EQ(page, lseek(fd, 0, SEEK_HOLE));
	ASSERT_EQ(page, lseek(fd, 10, SEEK_HOLE));
	ASSERT_EQ(MIB, lseek(fd, page, SEEK_DATA));
	ASSERT_EQ(MIB, lseek(fd, page + 1, SEEK_DATA));
	ASSERT_EQ(page + 7, lseek(fd, page + 7, SEEK_HOLE));
	ASSERT_EQ(MIB + page, lseek(fd, MIB, SEEK_HOLE));
	ASSERT_EQ(MIB + 5, lseek(fd, MIB + 5, SEEK_DATA));
	ASSERT_EQ(-1, lseek(fd, MIB + page, SEEK_DATA));
	ASSERT_EQ(ENXIO, errno);
	ASSERT_EQ(2 * MIB - 1, lseek(fd, 2 * MIB - 1, SEEK_HOLE));
	ASSERT_EQ(-1, lseek(fd, 2 * MIB, SEEK_HOLE));
	ASSERT_EQ(ENXIO, errno);
	ASSERT_EQ(-1, lseek(fd, 2 * MIB, SEEK_DATA));
	ASSERT_EQ(ENXIO, errno);
	/* The position found is the union file's: read from there. */
	ASSERT_EQ(MIB, lseek(fd, page, SEEK_DATA));
	ASSERT_EQ(MIB, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(16, read(fd, buf, 16));
	ASSERT_TRUE(is_pattern(buf, MIB, 16));
	ASSERT_EQ(page, lseek(fd, 0, SEEK_HOLE));
	memset(buf, 0xff, sizeof(buf));
	ASSERT_EQ(16, read(fd, buf, 16));
	ASSERT_EQ(0, buf[0]);
	ASSERT_EQ(0, buf[15]);
	close(fd);
}

/* ---- attributes of open files ---- */

TEST_F(file, fstat_matches_layer_file)
{
	char path[PATH_MAX];
	struct stat real, st;
	int fd = open(join(path, self->mnt, "owned"), O_RDONLY | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(0, stat(join(path, self->bottom, "owned"), &real));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(HELLO_LEN, st.st_size);
	ASSERT_EQ(S_IFREG | 0640, st.st_mode);
	ASSERT_EQ(1234, st.st_uid);
	ASSERT_EQ(5678, st.st_gid);
	ASSERT_EQ(1000000000, st.st_mtim.tv_sec);
	ASSERT_EQ(123456789, st.st_mtim.tv_nsec);
	ASSERT_EQ(1500000000, st.st_atim.tv_sec);
	ASSERT_EQ(987654321, st.st_atim.tv_nsec);
	ASSERT_EQ(real.st_ino, st.st_ino);
	ASSERT_EQ(real.st_dev, st.st_dev);
	ASSERT_EQ(real.st_nlink, st.st_nlink);
	ASSERT_EQ(real.st_blocks, st.st_blocks);
	ASSERT_EQ(real.st_ctim.tv_sec, st.st_ctim.tv_sec);
	ASSERT_EQ(real.st_ctim.tv_nsec, st.st_ctim.tv_nsec);
	close(fd);
}

TEST_F(file, proc_fd_link_is_union_path)
{
	char path[PATH_MAX], want[PATH_MAX], link[64], got[PATH_MAX];
	ssize_t n;
	int fd = open(join(path, self->mnt, "hello"), O_RDONLY | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_NE(NULL, realpath(self->mnt, want));
	strcat(want, "/hello");
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, got, sizeof(got) - 1);
	ASSERT_GT(n, 0);
	got[n] = '\0';
	ASSERT_STREQ(want, got);
	close(fd);
}

/* O_DIRECT reads go through to the real file (tmpfs takes them). */
TEST_F(file, o_direct_pread_reads_exact_bytes)
{
	char path[PATH_MAX];
	unsigned char *buf;
	int fd = open(join(path, self->mnt, "big"), O_RDONLY | O_DIRECT | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(0, posix_memalign((void **)&buf, 4096, 8192));
	ASSERT_EQ(8192, pread(fd, buf, 8192, 65536)) TH_LOG("pread: %s", strerror(errno));
	ASSERT_TRUE(is_pattern(buf, 65536, 8192));
	ASSERT_EQ(4096, read(fd, buf, 4096));
	ASSERT_TRUE(is_pattern(buf, 0, 4096));
	ASSERT_EQ(4096, lseek(fd, 0, SEEK_CUR));
	free(buf);
	close(fd);
}

/*
 * A read through the union is a read of the real file, with its hooks:
 * a watcher of the layer sees IN_ACCESS (as with overlayfs, whose reads
 * go through vfs_iter_read on the real file). The union's own read path
 * must not call the real filesystem's read directly.
 */
TEST_F(file, read_notifies_watchers_of_the_real_file)
{
	char path[PATH_MAX], buf[4096];
	struct inotify_event *ev;
	ssize_t n;
	int fd, in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	ASSERT_GE(in, 0);
	ASSERT_GE(inotify_add_watch(in, self->bottom, IN_ACCESS), 0);
	fd = open(join(path, self->mnt, "hello"), O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(HELLO_LEN, pread(fd, buf, sizeof(buf), 0));
	close(fd);
	n = read(in, buf, sizeof(buf));
	ASSERT_GT(n, (ssize_t)sizeof(*ev)) TH_LOG("no event: %s", strerror(errno));
	ev = (struct inotify_event *)buf;
	ASSERT_TRUE(ev->mask & IN_ACCESS);
	ASSERT_STREQ("hello", ev->name);
	close(in);
}

/*
 * posix_fadvise through the union advises the real file, whose page cache
 * the reads use (as overlayfs's ovl_fadvise): the union calls vfs_fadvise
 * on it, once an advice (the syscall has its own call inlined). tmpfs
 * would show no effect of the advice itself (DONTNEED drops none of its
 * pages).
 */
TEST_F(file, fadvise_reaches_the_real_file)
{
	char path[PATH_MAX];
	long long calls;
	int fd = open(join(path, self->mnt, "big"), O_RDONLY | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(0, calls_count_start("vfs_fadvise")) TH_LOG("counting: %s", strerror(errno));
	ASSERT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
	ASSERT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM));
	calls = calls_count_stop();
	ASSERT_EQ(2, calls) TH_LOG("2 fadvise calls: %lld of vfs_fadvise", calls);
	close(fd);
}

/* Two opens of one file keep their own positions. */
TEST_F(file, two_fds_read_independently)
{
	char path[PATH_MAX];
	unsigned char buf[4096];
	int a = open(join(path, self->mnt, "big"), O_RDONLY | O_CLOEXEC);
	int b = open(path, O_RDONLY | O_CLOEXEC);

	ASSERT_GE(a, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_GE(b, 0) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(1000, read(a, buf, 1000));
	ASSERT_TRUE(is_pattern(buf, 0, 1000));
	ASSERT_EQ(3000, read(b, buf, 3000));
	ASSERT_TRUE(is_pattern(buf, 0, 3000));
	ASSERT_EQ(4096, read(a, buf, 4096));
	ASSERT_TRUE(is_pattern(buf, 1000, 4096));
	ASSERT_EQ(4096, read(b, buf, 4096));
	ASSERT_TRUE(is_pattern(buf, 3000, 4096));
	ASSERT_EQ(5096, lseek(a, 0, SEEK_CUR));
	ASSERT_EQ(7096, lseek(b, 0, SEEK_CUR));
	close(a);
	ASSERT_EQ(100, read(b, buf, 100));
	ASSERT_TRUE(is_pattern(buf, 7096, 100));
	close(b);
}

/*
 * Syncing a file opened for reading is no write: it succeeds on the real
 * filesystem and on overlayfs (`sync FILE` does this).
 */
TEST_F(file, fsync_read_only_file_succeeds)
{
	char path[PATH_MAX];
	int fd = open(join(path, self->mnt, "hello"), O_RDONLY | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	EXPECT_EQ(0, fsync(fd)) TH_LOG("fsync: %s", strerror(errno));
	EXPECT_EQ(0, fdatasync(fd)) TH_LOG("fdatasync: %s", strerror(errno));
	close(fd);
}

/* ---- permission ---- */

/* Cold (nothing cached), then again once root has looked it up. */
TEST_F(file, perm_0600_root_file_eacces_for_user)
{
	char path[PATH_MAX];

	join(path, self->mnt, "secret");
	ASSERT_EQ(EACCES, run_as(USER_ID, open_and_read, path, SECRET));
	ASSERT_EQ(0, open_and_read(path, SECRET));
	ASSERT_EQ(EACCES, run_as(USER_ID, open_and_read, path, SECRET));
}

TEST_F(file, perm_0644_root_file_readable_by_user)
{
	char path[PATH_MAX];

	join(path, self->mnt, "public");
	ASSERT_EQ(0, run_as(USER_ID, open_and_read, path, PUBLIC));
	ASSERT_EQ(0, open_and_read(path, PUBLIC));
	ASSERT_EQ(0, run_as(USER_ID, open_and_read, path, PUBLIC));
}

TEST_F(file, perm_0700_root_dir_not_searchable_by_user)
{
	char path[PATH_MAX];

	join(path, self->mnt, "private/inner");
	ASSERT_EQ(EACCES, run_as(USER_ID, stat_path, path, NULL));
	ASSERT_EQ(0, stat_path(path, NULL));
	ASSERT_EQ(EACCES, run_as(USER_ID, stat_path, path, NULL));
	ASSERT_EQ(EACCES, run_as(USER_ID, open_and_read, path, PUBLIC));
}

/* ---- writes: EROFS, and the layers stay as they were ---- */

/* Does PATH hold exactly WANT? */
static bool has_content(const char *path, const char *want)
{
	return open_and_read(path, want) == 0;
}

TEST_F(file, open_wronly_erofs)
{
	char path[PATH_MAX];

	ASSERT_EQ(-1, open(join(path, self->mnt, "hello"), O_WRONLY | O_CLOEXEC));
	ASSERT_EQ(EROFS, errno);
}

TEST_F(file, open_rdwr_erofs)
{
	char path[PATH_MAX];

	ASSERT_EQ(-1, open(join(path, self->mnt, "hello"), O_RDWR | O_CLOEXEC));
	ASSERT_EQ(EROFS, errno);
}

TEST_F(file, open_append_erofs)
{
	char path[PATH_MAX];

	ASSERT_EQ(-1, open(join(path, self->mnt, "hello"),
			   O_WRONLY | O_APPEND | O_CLOEXEC));
	ASSERT_EQ(EROFS, errno);
}

TEST_F(file, open_trunc_erofs)
{
	char path[PATH_MAX];

	ASSERT_EQ(-1, open(join(path, self->mnt, "hello"), O_RDONLY | O_TRUNC | O_CLOEXEC));
	ASSERT_EQ(EROFS, errno);
	ASSERT_TRUE(has_content(join(path, self->bottom, "hello"), HELLO));
	ASSERT_TRUE(has_content(join(path, self->mnt, "hello"), HELLO));
}

TEST_F(file, creat_erofs)
{
	char path[PATH_MAX];
	struct stat st;

	ASSERT_EQ(-1, creat(join(path, self->mnt, "new"), 0644));
	ASSERT_EQ(EROFS, errno);
	ASSERT_EQ(-1, stat(path, &st));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(-1, stat(join(path, self->top, "new"), &st));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(-1, stat(join(path, self->bottom, "new"), &st));
	ASSERT_EQ(ENOENT, errno);
}

/* O_CREAT on a file that exists: still a write open. */
TEST_F(file, open_creat_existing_wronly_erofs)
{
	char path[PATH_MAX];

	ASSERT_EQ(-1, open(join(path, self->mnt, "hello"),
			   O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	ASSERT_EQ(EROFS, errno);
}

TEST_F(file, mkdir_erofs)
{
	char path[PATH_MAX];
	struct stat st;

	ASSERT_EQ(-1, mkdir(join(path, self->mnt, "newdir"), 0755));
	ASSERT_EQ(EROFS, errno);
	ASSERT_EQ(-1, stat(path, &st));
	ASSERT_EQ(ENOENT, errno);
}

TEST_F(file, rmdir_erofs)
{
	char path[PATH_MAX];
	struct stat st;

	ASSERT_EQ(-1, rmdir(join(path, self->mnt, "dir")));
	ASSERT_EQ(EROFS, errno);
	ASSERT_EQ(0, stat(join(path, self->bottom, "dir"), &st));
}

TEST_F(file, unlink_erofs)
{
	char path[PATH_MAX];
	struct stat st;

	ASSERT_EQ(-1, unlink(join(path, self->mnt, "hello")));
	ASSERT_EQ(EROFS, errno);
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_EQ(0, stat(join(path, self->bottom, "hello"), &st));
}

TEST_F(file, rename_erofs)
{
	char from[PATH_MAX], to[PATH_MAX];
	struct stat st;

	ASSERT_EQ(-1, rename(join(from, self->mnt, "hello"), join(to, self->mnt, "renamed")));
	ASSERT_EQ(EROFS, errno);
	ASSERT_EQ(0, stat(from, &st));
	ASSERT_EQ(-1, stat(to, &st));
	ASSERT_EQ(ENOENT, errno);
}

TEST_F(file, link_erofs)
{
	char from[PATH_MAX], to[PATH_MAX];

	ASSERT_EQ(-1, link(join(from, self->mnt, "hello"), join(to, self->mnt, "linked")));
	ASSERT_EQ(EROFS, errno);
}

TEST_F(file, symlink_erofs)
{
	char path[PATH_MAX];

	ASSERT_EQ(-1, symlink("hello", join(path, self->mnt, "symlinked")));
	ASSERT_EQ(EROFS, errno);
}

TEST_F(file, chmod_erofs)
{
	char path[PATH_MAX];
	struct stat st;

	ASSERT_EQ(-1, chmod(join(path, self->mnt, "hello"), 0600));
	ASSERT_EQ(EROFS, errno);
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_EQ(S_IFREG | 0644, st.st_mode);
}

TEST_F(file, chown_erofs)
{
	char path[PATH_MAX];

	ASSERT_EQ(-1, chown(join(path, self->mnt, "hello"), 1, 1));
	ASSERT_EQ(EROFS, errno);
}

TEST_F(file, utimensat_erofs)
{
	char path[PATH_MAX];

	ASSERT_EQ(-1, utimensat(AT_FDCWD, join(path, self->mnt, "hello"), NULL, 0));
	ASSERT_EQ(EROFS, errno);
}

TEST_F(file, truncate_erofs)
{
	char path[PATH_MAX];
	struct stat st;

	ASSERT_EQ(-1, truncate(join(path, self->mnt, "hello"), 0));
	ASSERT_EQ(EROFS, errno);
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_EQ(HELLO_LEN, st.st_size);
	ASSERT_TRUE(has_content(join(path, self->bottom, "hello"), HELLO));
}

TEST_F(file, setxattr_erofs)
{
	char path[PATH_MAX];

	ASSERT_EQ(-1, setxattr(join(path, self->mnt, "hello"), "user.rsunion", "1", 1, 0));
	ASSERT_EQ(EROFS, errno);
	ASSERT_EQ(-1, getxattr(join(path, self->bottom, "hello"), "user.rsunion", NULL, 0));
	ASSERT_EQ(ENODATA, errno);
}

/* ---- statfs ---- */

TEST_F(file, statfs_type_is_rsunion)
{
	char path[PATH_MAX];
	struct statfs sf;

	ASSERT_EQ(0, statfs(self->mnt, &sf));
	ASSERT_EQ(RSUNION_MAGIC, sf.f_type);
	ASSERT_EQ(0, statfs(join(path, self->mnt, "hello"), &sf));
	ASSERT_EQ(RSUNION_MAGIC, sf.f_type);
}

/*
 * The top layer is its own small tmpfs: its size and inode count tell its
 * numbers from the bottom layer's.
 */
TEST_F(file, statfs_reports_top_layer)
{
	struct statfs top, bottom, sf;

	ASSERT_EQ(0, statfs(self->top, &top));
	ASSERT_EQ(0, statfs(self->bottom, &bottom));
	ASSERT_EQ(MIB / self->page, top.f_blocks);
	ASSERT_EQ(TOP_FILES, top.f_files);
	ASSERT_NE(top.f_blocks, bottom.f_blocks);
	ASSERT_EQ(0, statfs(self->mnt, &sf));
	ASSERT_EQ(top.f_bsize, sf.f_bsize);
	ASSERT_EQ(top.f_blocks, sf.f_blocks);
	ASSERT_EQ(top.f_bfree, sf.f_bfree);
	ASSERT_EQ(top.f_files, sf.f_files);
	ASSERT_EQ(top.f_ffree, sf.f_ffree);
	ASSERT_EQ(top.f_namelen, sf.f_namelen);
}

TEST_HARNESS_MAIN
