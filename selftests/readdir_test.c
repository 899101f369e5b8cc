// SPDX-License-Identifier: GPL-2.0
/*
 * Merged readdir: a directory merged from three layers lists each visible
 * name once with its d_type, upper layers' entries first, "." and "..",
 * whiteouts (char device 0/0 and .wh.NAME) and opaque directories applied,
 * no .wh. name; the list is the same read one entry per getdents64, after
 * telldir/seekdir and after rewinddir; a directory of one layer, read
 * straight from it, holds back whiteouts too; a 100000-entry merged
 * directory lists its 90000 distinct names once each; readers of one big
 * directory share one list (merged) or none (one layer), and the list is
 * charged to the memory cgroup of the reader that merged it.
 */
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>

#include "rsunion_test.h"
#include "kselftest_harness.h"

struct dirent64_raw {
	unsigned long long d_ino;
	long long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

#define MAX_ENTRIES 64
#define BIG_BUF 32768

struct entry {
	char name[NAME_MAX + 1];
	unsigned char type;
};

struct listing {
	struct entry e[MAX_ENTRIES];
	int n;
	int calls;	/* getdents64 calls, the last one returning 0 */
};

/* Every entry of directory PATH, getdents64 with BUFSIZE bytes a call. */
static int list_getdents(const char *path, size_t bufsize, struct listing *l)
{
	char buf[32768] __attribute__((aligned(8)));
	struct dirent64_raw *de;
	long n, off;
	int fd;

	if (bufsize > sizeof(buf))
		return -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	l->n = 0;
	l->calls = 0;
	for (;;) {
		n = syscall(SYS_getdents64, fd, buf, bufsize);
		if (n < 0)
			break;
		l->calls++;
		if (n == 0)
			break;
		for (off = 0; off < n; off += de->d_reclen) {
			de = (struct dirent64_raw *)(buf + off);
			if (l->n == MAX_ENTRIES) {
				close(fd);
				errno = E2BIG;
				return -1;
			}
			snprintf(l->e[l->n].name, NAME_MAX + 1, "%s", de->d_name);
			l->e[l->n++].type = de->d_type;
		}
	}
	close(fd);
	return n < 0 ? -1 : 0;
}

/* How often NAME is listed. */
static int count(const struct listing *l, const char *name)
{
	int i, c = 0;

	for (i = 0; i < l->n; i++)
		c += !strcmp(l->e[i].name, name);
	return c;
}

/* The d_type NAME is listed with, or -1. */
static int type_of(const struct listing *l, const char *name)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->e[i].name, name))
			return l->e[i].type;
	return -1;
}

/*
 * mnt/d, merged from l1 (top), l2, l3 (bottom). What each layer holds:
 *
 *   l1/d: top_only both12 all3/in1 sym1 reborn fifo1 .wh.l2file
 *         opq/own1 (trusted.overlay.opaque=y) opq2/{own2,.wh..wh..opq}
 *         solo/ (see solo_expect)
 *   l2/d: both12 all3 (a file) l2file mid_only/ reborn (0/0) chr13 (1/3)
 *         gone_chr (0/0) .wh.gone_wh both23 opq/low2 opq2/low2
 *   l3/d: all3/deep reborn gone_chr gone_wh/ bottom_only both23 l2file
 *         .wh.nothing opq/low3 opq2/low3
 */
static const struct expect {
	const char *name;
	unsigned char type;
	int layer;	/* the topmost layer showing it */
} d_expect[] = {
	{ "top_only", DT_REG, 1 },
	{ "both12", DT_REG, 1 },
	{ "all3", DT_DIR, 1 },
	{ "sym1", DT_LNK, 1 },
	{ "reborn", DT_REG, 1 },
	{ "fifo1", DT_FIFO, 1 },
	{ "opq", DT_DIR, 1 },
	{ "opq2", DT_DIR, 1 },
	{ "solo", DT_DIR, 1 },
	{ "mid_only", DT_DIR, 2 },
	{ "chr13", DT_CHR, 2 },
	{ "both23", DT_REG, 2 },
	{ "bottom_only", DT_REG, 3 },
	{ NULL }
};

#define D_EXPECTED (sizeof(d_expect) / sizeof(d_expect[0]) - 1)

static int layer_of(const char *name)
{
	const struct expect *e;

	for (e = d_expect; e->name; e++)
		if (!strcmp(e->name, name))
			return e->layer;
	return -1;
}

FIXTURE(readdir) {
	char dir[PATH_MAX];
	char mnt[PATH_MAX + 8];
};

FIXTURE_SETUP(readdir)
{
	char opts[3 * PATH_MAX + 64];

	ASSERT_EQ(0, rsunion_ensure_loaded()) TH_LOG("load: %s", strerror(errno));
	ASSERT_EQ(0, scratch_get(self->dir));
	snprintf(self->mnt, sizeof(self->mnt), "%s/mnt", self->dir);
	ASSERT_EQ(0, chdir(self->dir));
	ASSERT_EQ(0, mkdir("mnt", 0755));

	ASSERT_EQ(0, mkfile("l1/d/top_only", "l1\n"));
	ASSERT_EQ(0, mkfile("l1/d/both12", "l1\n"));
	ASSERT_EQ(0, mkfile("l1/d/all3/in1", "l1\n"));
	ASSERT_EQ(0, symlink("top_only", "l1/d/sym1"));
	ASSERT_EQ(0, mkfile("l1/d/reborn", "l1\n"));
	ASSERT_EQ(0, mkfifo("l1/d/fifo1", 0644));
	ASSERT_EQ(0, mkfile("l1/d/.wh.l2file", ""));
	ASSERT_EQ(0, mkfile("l1/d/opq/own1", "l1\n"));
	ASSERT_EQ(0, setxattr("l1/d/opq", "trusted.overlay.opaque", "y", 1, 0));
	ASSERT_EQ(0, mkfile("l1/d/opq2/own2", "l1\n"));
	ASSERT_EQ(0, mkfile("l1/d/opq2/.wh..wh..opq", ""));

	/* One layer's directory, read straight from it. */
	ASSERT_EQ(0, mkfile("l1/d/solo/a", "l1\n"));
	ASSERT_EQ(0, mkwhiteout("l1/d/solo/wh_chr"));
	ASSERT_EQ(0, mkfile("l1/d/solo/b", "l1\n"));
	ASSERT_EQ(0, mkfile("l1/d/solo/.wh.wh_name", ""));
	ASSERT_EQ(0, mknod("l1/d/solo/chr13", S_IFCHR | 0666, makedev(1, 3)));
	ASSERT_EQ(0, mkfile("l1/d/solo/.wh..wh..opq", ""));
	ASSERT_EQ(0, mkwhiteout("l1/d/solo/wh_chr2"));
	ASSERT_EQ(0, mkfifo("l1/d/solo/fifo", 0644));
	ASSERT_EQ(0, mkfile("l1/d/solo/c", "l1\n"));

	ASSERT_EQ(0, mkfile("l2/d/both12", "l2\n"));
	ASSERT_EQ(0, mkfile("l2/d/all3", "l2\n"));
	ASSERT_EQ(0, mkfile("l2/d/l2file", "l2\n"));
	ASSERT_EQ(0, mkdir("l2/d/mid_only", 0755));
	ASSERT_EQ(0, mkwhiteout("l2/d/reborn"));
	ASSERT_EQ(0, mknod("l2/d/chr13", S_IFCHR | 0666, makedev(1, 3)));
	ASSERT_EQ(0, mkwhiteout("l2/d/gone_chr"));
	ASSERT_EQ(0, mkfile("l2/d/.wh.gone_wh", ""));
	ASSERT_EQ(0, mkfile("l2/d/both23", "l2\n"));
	ASSERT_EQ(0, mkfile("l2/d/opq/low2", "l2\n"));
	ASSERT_EQ(0, mkfile("l2/d/opq2/low2", "l2\n"));

	ASSERT_EQ(0, mkfile("l3/d/all3/deep", "l3\n"));
	ASSERT_EQ(0, mkfile("l3/d/reborn", "l3\n"));
	ASSERT_EQ(0, mkfile("l3/d/gone_chr", "l3\n"));
	ASSERT_EQ(0, mkdirs("l3/d/gone_wh/sub"));
	ASSERT_EQ(0, mkfile("l3/d/bottom_only", "l3\n"));
	ASSERT_EQ(0, mkfile("l3/d/both23", "l3\n"));
	ASSERT_EQ(0, mkfile("l3/d/l2file", "l3\n"));
	ASSERT_EQ(0, mkfile("l3/d/.wh.nothing", ""));
	ASSERT_EQ(0, mkfile("l3/d/opq/low3", "l3\n"));
	ASSERT_EQ(0, mkfile("l3/d/opq2/low3", "l3\n"));

	snprintf(opts, sizeof(opts), "lowerdir=%s/l1:%s/l2:%s/l3",
		 self->dir, self->dir, self->dir);
	ASSERT_EQ(0, mount("none", "mnt", "rsunion", 0, opts))
		TH_LOG("mount: %s", strerror(errno));
}

FIXTURE_TEARDOWN(readdir)
{
	chdir("/");
	umount2(self->mnt, MNT_DETACH);
	scratch_put(self->dir);
}

TEST_F(readdir, lists_each_visible_name_once)
{
	const struct expect *e;
	struct listing l;
	int i;

	ASSERT_EQ(0, list_getdents("mnt/d", BIG_BUF, &l)) TH_LOG("%s", strerror(errno));
	for (e = d_expect; e->name; e++) {
		char name[NAME_MAX + 1];

		strcpy(name, e->name);
		EXPECT_EQ(1, count(&l, name))
			TH_LOG("'%s' listed %d times", name, count(&l, name));
	}
	for (i = 0; i < l.n; i++)
		EXPECT_TRUE(!strcmp(l.e[i].name, ".") || !strcmp(l.e[i].name, "..") ||
			    layer_of(l.e[i].name) > 0)
			TH_LOG("unexpected entry '%s'", l.e[i].name);
	ASSERT_EQ(D_EXPECTED + 2, l.n);
}

TEST_F(readdir, d_types)
{
	const struct expect *e;
	struct listing l;

	ASSERT_EQ(0, list_getdents("mnt/d", BIG_BUF, &l));
	for (e = d_expect; e->name; e++) {
		char name[NAME_MAX + 1];

		strcpy(name, e->name);
		EXPECT_EQ(e->type, type_of(&l, name)) TH_LOG("'%s'", name);
	}
}

TEST_F(readdir, dot_and_dotdot_listed)
{
	struct listing l;

	ASSERT_EQ(0, list_getdents("mnt/d", BIG_BUF, &l));
	ASSERT_EQ(1, count(&l, "."));
	ASSERT_EQ(1, count(&l, ".."));
	ASSERT_EQ(DT_DIR, type_of(&l, "."));
	ASSERT_EQ(DT_DIR, type_of(&l, ".."));
}

/* Names only lower layers show come after those of the layers above. */
TEST_F(readdir, upper_layer_entries_first)
{
	struct listing l;
	int i, layer, prev = 1;

	ASSERT_EQ(0, list_getdents("mnt/d", BIG_BUF, &l));
	for (i = 0; i < l.n; i++) {
		if (!strcmp(l.e[i].name, ".") || !strcmp(l.e[i].name, ".."))
			continue;
		layer = layer_of(l.e[i].name);
		ASSERT_GT(layer, 0) TH_LOG("unexpected entry '%s'", l.e[i].name);
		ASSERT_LE(prev, layer) TH_LOG("'%s' (layer %d) listed after a layer %d name",
					      l.e[i].name, layer, prev);
		prev = layer;
	}
	ASSERT_EQ(3, prev);
}

/*
 * gone_chr: whited out by a 0/0 in l2. reborn: a 0/0 in l2 between files
 * in l1 and l3: l1's file listed, once.
 */
TEST_F(readdir, chardev_whiteout_hides_lower_name)
{
	struct listing l;

	ASSERT_EQ(0, list_getdents("mnt/d", BIG_BUF, &l));
	ASSERT_EQ(0, count(&l, "gone_chr"));
	ASSERT_EQ(1, count(&l, "reborn"));
	ASSERT_EQ(DT_REG, type_of(&l, "reborn"));
}

/*
 * l2file: a file in l2 and l3, whited out by .wh.l2file in l1. gone_wh: a
 * directory in l3, whited out by .wh.gone_wh in l2. nothing: a whiteout
 * in the bottom layer, with nothing to hide.
 */
TEST_F(readdir, wh_whiteout_hides_lower_name)
{
	struct listing l;

	ASSERT_EQ(0, list_getdents("mnt/d", BIG_BUF, &l));
	ASSERT_EQ(0, count(&l, "l2file"));
	ASSERT_EQ(0, count(&l, "gone_wh"));
	ASSERT_EQ(0, count(&l, "nothing"));
}

TEST_F(readdir, wh_names_never_listed)
{
	static const char * const dirs[] = {
		"mnt", "mnt/d", "mnt/d/opq", "mnt/d/opq2", "mnt/d/all3",
	};
	struct listing l;
	size_t d;
	int i;

	for (d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		ASSERT_EQ(0, list_getdents(dirs[d], BIG_BUF, &l)) TH_LOG("%s", dirs[d]);
		ASSERT_GT(l.n, 2) TH_LOG("%s", dirs[d]);
		for (i = 0; i < l.n; i++)
			EXPECT_NE(0, strncmp(l.e[i].name, ".wh.", 4))
				TH_LOG("%s lists '%s'", dirs[d], l.e[i].name);
	}
}

TEST_F(readdir, opaque_xattr_dir_lists_own_only)
{
	struct listing l;

	ASSERT_EQ(0, list_getdents("mnt/d/opq", BIG_BUF, &l));
	ASSERT_EQ(3, l.n);
	ASSERT_EQ(1, count(&l, "."));
	ASSERT_EQ(1, count(&l, ".."));
	ASSERT_EQ(1, count(&l, "own1"));
}

TEST_F(readdir, opaque_wh_marker_dir_lists_own_only)
{
	struct listing l;

	ASSERT_EQ(0, list_getdents("mnt/d/opq2", BIG_BUF, &l));
	ASSERT_EQ(3, l.n);
	ASSERT_EQ(1, count(&l, "."));
	ASSERT_EQ(1, count(&l, ".."));
	ASSERT_EQ(1, count(&l, "own2"));
}

/* all3: a directory in l1 and l3 with a file between: not merged. */
TEST_F(readdir, dir_over_file_not_merged)
{
	struct listing l;

	ASSERT_EQ(0, list_getdents("mnt/d/all3", BIG_BUF, &l));
	ASSERT_EQ(3, l.n);
	ASSERT_EQ(1, count(&l, "in1"));
	ASSERT_EQ(0, count(&l, "deep"));
}

/*
 * A 40-byte buffer holds one entry (24 bytes at least, names here are
 * short enough to fit): one entry a call, and the same list, in the same
 * order, as one big read.
 */
TEST_F(readdir, one_entry_per_getdents_same_list)
{
	struct listing big, tiny;
	int i;

	ASSERT_EQ(0, list_getdents("mnt/d", BIG_BUF, &big));
	ASSERT_EQ(2, big.calls);
	ASSERT_EQ(0, list_getdents("mnt/d", 40, &tiny)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(big.n, tiny.n);
	ASSERT_EQ(tiny.n + 1, tiny.calls);
	for (i = 0; i < big.n; i++) {
		ASSERT_STREQ(big.e[i].name, tiny.e[i].name);
		ASSERT_EQ(big.e[i].type, tiny.e[i].type);
	}
}

/* Names readdir(3) gives from DIR's position on, into NAMES; how many. */
static int read_rest(DIR *d, char names[][NAME_MAX + 1], int max)
{
	struct dirent *de;
	int n = 0;

	while (n < max && (de = readdir(d)))
		snprintf(names[n++], NAME_MAX + 1, "%s", de->d_name);
	return n;
}

TEST_F(readdir, telldir_seekdir_same_tail)
{
	char head[MAX_ENTRIES][NAME_MAX + 1];
	char tail1[MAX_ENTRIES][NAME_MAX + 1];
	char tail2[MAX_ENTRIES][NAME_MAX + 1];
	int half = (D_EXPECTED + 2) / 2, n1, n2, i;
	long pos;
	DIR *d = opendir("mnt/d");

	ASSERT_NE(NULL, d);
	ASSERT_EQ(half, read_rest(d, head, half));
	pos = telldir(d);
	ASSERT_NE(-1, pos);
	n1 = read_rest(d, tail1, MAX_ENTRIES);
	ASSERT_EQ(D_EXPECTED + 2 - half, n1);
	seekdir(d, pos);
	n2 = read_rest(d, tail2, MAX_ENTRIES);
	ASSERT_EQ(n1, n2);
	for (i = 0; i < n1; i++)
		ASSERT_STREQ(tail1[i], tail2[i]);
	/* The head and the tail together: every name once. */
	for (i = 0; i < half; i++) {
		int j;

		for (j = 0; j < n1; j++)
			ASSERT_STRNE(head[i], tail1[j]);
	}
	closedir(d);
}

TEST_F(readdir, rewinddir_lists_all_again)
{
	char first[MAX_ENTRIES][NAME_MAX + 1];
	char again[MAX_ENTRIES][NAME_MAX + 1];
	int n1, n2, i;
	DIR *d = opendir("mnt/d");

	ASSERT_NE(NULL, d);
	n1 = read_rest(d, first, MAX_ENTRIES);
	ASSERT_EQ(D_EXPECTED + 2, n1);
	ASSERT_EQ(NULL, readdir(d));
	rewinddir(d);
	n2 = read_rest(d, again, MAX_ENTRIES);
	ASSERT_EQ(n1, n2);
	for (i = 0; i < n1; i++)
		ASSERT_STREQ(first[i], again[i]);
	closedir(d);
}

/*
 * l1/d/solo has no other layer: it is read straight from l1, where two
 * whiteouts (0/0), a .wh. name and the opaque marker must stay hidden.
 */
static const char * const solo_expect[] = {
	".", "..", "a", "b", "c", "chr13", "fifo",
};
#define SOLO_EXPECTED 7

TEST_F(readdir, one_layer_dir_lists_what_it_shows)
{
	struct listing big, tiny;
	int i;

	ASSERT_EQ(0, list_getdents("mnt/d/solo", BIG_BUF, &big));
	ASSERT_EQ(SOLO_EXPECTED, big.n);
	for (i = 0; i < SOLO_EXPECTED; i++)
		ASSERT_EQ(1, count(&big, solo_expect[i])) TH_LOG("solo_expect[%d]", i);
	ASSERT_EQ(DT_CHR, type_of(&big, "chr13"));
	ASSERT_EQ(DT_FIFO, type_of(&big, "fifo"));
	ASSERT_EQ(0, list_getdents("mnt/d/solo", 40, &tiny)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(big.n, tiny.n);
	ASSERT_EQ(tiny.n + 1, tiny.calls);
	for (i = 0; i < big.n; i++)
		ASSERT_STREQ(big.e[i].name, tiny.e[i].name);
}

/* From every position telldir gives, seekdir reads the same tail. */
TEST_F(readdir, one_layer_dir_telldir_seekdir)
{
	char all[MAX_ENTRIES][NAME_MAX + 1];
	char tail[MAX_ENTRIES][NAME_MAX + 1];
	int k, i, n;
	long pos;
	DIR *d = opendir("mnt/d/solo");

	ASSERT_NE(NULL, d);
	ASSERT_EQ(SOLO_EXPECTED, read_rest(d, all, MAX_ENTRIES));
	for (k = 0; k <= SOLO_EXPECTED; k++) {
		rewinddir(d);
		ASSERT_EQ(k, read_rest(d, tail, k));
		pos = telldir(d);
		ASSERT_NE(-1, pos);
		ASSERT_EQ(SOLO_EXPECTED - k, read_rest(d, tail, MAX_ENTRIES));
		seekdir(d, pos);
		n = read_rest(d, tail, MAX_ENTRIES);
		ASSERT_EQ(SOLO_EXPECTED - k, n) TH_LOG("from entry %d", k);
		for (i = 0; i < n; i++)
			ASSERT_STREQ(all[k + i], tail[i]);
	}
	closedir(d);
}

/*
 * A big merged directory: f00000..f49999 in l1, f40000..f89999 in l2
 * (10000 names in both): 90000 names, each listed once.
 */
#define BIG_PER_LAYER 50000
#define BIG_OVERLAP 10000
#define BIG_TOTAL (2 * BIG_PER_LAYER - BIG_OVERLAP)

FIXTURE(big) {
	char dir[PATH_MAX];
	char mnt[PATH_MAX + 8];
};

FIXTURE_SETUP(big)
{
	ASSERT_EQ(0, rsunion_ensure_loaded()) TH_LOG("load: %s", strerror(errno));
	ASSERT_EQ(0, scratch_get(self->dir));
	snprintf(self->mnt, sizeof(self->mnt), "%s/mnt", self->dir);
	ASSERT_EQ(0, chdir(self->dir));
	ASSERT_EQ(0, mkdir("mnt", 0755));
	ASSERT_EQ(0, mkdirs("l1/big"));
	ASSERT_EQ(0, mkdirs("l2/big"));
}

FIXTURE_TEARDOWN(big)
{
	chdir("/");
	umount2(self->mnt, MNT_DETACH);
	scratch_put(self->dir);
}

/* Empty files f<FIRST>..f<FIRST+N-1> in directory DIR. */
static int make_names(const char *dir, int first, int n)
{
	char name[16];
	int dfd, i;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	for (i = first; i < first + n; i++) {
		snprintf(name, sizeof(name), "f%05d", i);
		if (mknodat(dfd, name, S_IFREG | 0644, 0)) {
			close(dfd);
			return -1;
		}
	}
	return close(dfd);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

TEST_F_TIMEOUT(big, lists_90000_names_once, 1200)
{
	char buf[32768] __attribute__((aligned(8)));
	char opts[2 * PATH_MAX + 64];
	unsigned char *seen;
	struct timespec t0;
	int fd, names = 0, dots = 0, bad = 0, dups = 0, calls = 0, i;
	double t_create, t_read;
	long n, off;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, make_names("l1/big", 0, BIG_PER_LAYER));
	ASSERT_EQ(0, make_names("l2/big", BIG_PER_LAYER - BIG_OVERLAP, BIG_PER_LAYER));
	t_create = seconds_since(&t0);
	ksft_print_msg("created 2 x %d files in %.1f s\n", BIG_PER_LAYER, t_create);

	snprintf(opts, sizeof(opts), "lowerdir=%s/l1:%s/l2", self->dir, self->dir);
	ASSERT_EQ(0, mount("none", "mnt", "rsunion", 0, opts));

	seen = calloc(BIG_TOTAL, 1);
	ASSERT_NE(NULL, seen);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd = open("mnt/big", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		calls++;
		for (off = 0; off < n; ) {
			struct dirent64_raw *de = (struct dirent64_raw *)(buf + off);
			char *end;
			long k;

			off += de->d_reclen;
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) {
				dots++;
				continue;
			}
			k = strtol(de->d_name + 1, &end, 10);
			if (de->d_name[0] != 'f' || strlen(de->d_name) != 6 || *end ||
			    k < 0 || k >= BIG_TOTAL || de->d_type != DT_REG) {
				if (bad++ < 5)
					TH_LOG("unexpected entry '%s' type %d",
					       de->d_name, de->d_type);
				continue;
			}
			if (seen[k]++ && dups++ < 5)
				TH_LOG("'%s' listed again", de->d_name);
			names++;
		}
	}
	t_read = seconds_since(&t0);
	ksft_print_msg("listed %d names in %.2f s (%d getdents64 calls)\n",
		       names, t_read, calls);
	ASSERT_EQ(0, n) TH_LOG("getdents64: %s", strerror(errno));
	close(fd);

	for (i = 0; i < BIG_TOTAL; i++)
		if (!seen[i] && bad++ < 10)
			TH_LOG("f%05d missing", i);
	free(seen);
	ASSERT_EQ(0, bad);
	ASSERT_EQ(0, dups);
	ASSERT_EQ(2, dots);
	ASSERT_EQ(BIG_TOTAL, names);
}

/* MemFree from /proc/meminfo, in kB; -1 if unreadable. */
static long mem_free_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemFree: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

#define READERS 64

/*
 * READERS open files of DIR, each past its first getdents: how much free
 * memory that took, in kB. A list of the 50000 names below is about 2 MB.
 */
static long pinned_by_readers(const char *dir, int fds[READERS])
{
	char buf[4096] __attribute__((aligned(8)));
	long before = mem_free_kb();
	int i;

	for (i = 0; i < READERS; i++) {
		fds[i] = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fds[i] < 0 || syscall(SYS_getdents64, fds[i], buf, sizeof(buf)) <= 0)
			return -1;
	}
	return before - mem_free_kb();
}

/* Entries in directory PATH but . and ..; -1 if it cannot be read. */
static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* FNV-1a (32 bits) of LEN bytes at P, continued from STATE. */
static uint32_t fnv1a(uint32_t state, const char *p, size_t len)
{
	while (len--)
		state = (state ^ (unsigned char)*p++) * 0x01000193u;
	return state;
}

#define FLOOD_STAGES 16
#define FLOOD_NAMES (1 << FLOOD_STAGES)
#define FLOOD_TABLE (1 << 20)

#define FLOOD_BLOCK 6

/*
 * Block I as FLOOD_BLOCK characters of [0-9a-z], all of them varying with
 * I: blocks counted up in order, alike but for their first bytes, gave no
 * pair in 2^19 tries (FNV-1a spreads small differences poorly).
 */
static void flood_block(unsigned int i, char out[FLOOD_BLOCK])
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned long long x = (i + 1ULL) * 0x9e3779b97f4a7c15ULL;
	int k;

	for (k = 0; k < FLOOD_BLOCK; k++, x /= 36)
		out[k] = digits[x % 36];
}

/*
 * Two different blocks that take FNV-1a from STATE to one state: a
 * birthday search, some 80000 blocks. 0, or -1 if none was found.
 */
static int flood_pair(uint32_t state, char a[FLOOD_BLOCK], char b[FLOOD_BLOCK],
		      uint32_t *seen_hash, unsigned int *seen_block)
{
	unsigned int i, slot;
	char blk[FLOOD_BLOCK];
	uint32_t h;

	memset(seen_block, 0xff, FLOOD_TABLE * sizeof(*seen_block));
	for (i = 0; i < FLOOD_TABLE / 2; i++) {
		flood_block(i, blk);
		h = fnv1a(state, blk, FLOOD_BLOCK);
		for (slot = h & (FLOOD_TABLE - 1); seen_block[slot] != ~0u;
		     slot = (slot + 1) & (FLOOD_TABLE - 1)) {
			if (seen_hash[slot] == h) {
				flood_block(seen_block[slot], a);
				memcpy(b, blk, FLOOD_BLOCK);
				return 0;
			}
		}
		seen_hash[slot] = h;
		seen_block[slot] = i;
	}
	return -1;
}

/* Seconds a listing of merged directory PATH takes; -1 if it fails. */
static double time_listing(const char *path, int *listed)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	*listed = count_entries(path);
	return *listed < 0 ? -1 : seconds_since(&t0);
}

/*
 * A layer can hold 65536 names that share one FNV-1a hash, made in a
 * second (16 colliding pairs of 6-character blocks, one after the other:
 * any choice of one block a stage gives the same hash). A merged listing
 * whose table hashed names so would compare each name with every one
 * before it: two billion comparisons, minutes where 65536 other names of
 * the same length take a fraction of a second. The table's hash is keyed
 * (HalfSipHash, a random key a listing), so the two listings cost alike.
 * Not a benchmark: the bound is twenty times the other listing's time,
 * on the same machine in the same run; the quadratic table took hundreds.
 */
TEST_F_TIMEOUT(big, names_of_one_fnv_hash_list_in_linear_time, 1200)
{
	char pairs[FLOOD_STAGES][2][FLOOD_BLOCK], name[FLOOD_BLOCK * FLOOD_STAGES + 1];
	char opts[2 * PATH_MAX + 64];
	unsigned int *seen_block;
	uint32_t *seen_hash, h = 0x811c9dc5u, want;
	int dfd, cfd, i, s, listed, other;
	double flood, plain;

	seen_hash = malloc(FLOOD_TABLE * sizeof(*seen_hash));
	seen_block = malloc(FLOOD_TABLE * sizeof(*seen_block));
	ASSERT_NE(NULL, seen_hash);
	ASSERT_NE(NULL, seen_block);
	for (s = 0; s < FLOOD_STAGES; s++) {
		ASSERT_EQ(0, flood_pair(h, pairs[s][0], pairs[s][1], seen_hash, seen_block));
		h = fnv1a(h, pairs[s][0], FLOOD_BLOCK);
	}
	free(seen_hash);
	free(seen_block);
	want = h;

	ASSERT_EQ(0, mkdirs("l1/plain"));
	dfd = open("l1/big", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cfd = open("l1/plain", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_GE(dfd, 0);
	ASSERT_GE(cfd, 0);
	for (i = 0; i < FLOOD_NAMES; i++) {
		for (s = 0; s < FLOOD_STAGES; s++)
			memcpy(name + FLOOD_BLOCK * s, pairs[s][(i >> s) & 1], FLOOD_BLOCK);
		name[FLOOD_BLOCK * FLOOD_STAGES] = '\0';
		ASSERT_EQ(want, fnv1a(0x811c9dc5u, name, strlen(name)));
		ASSERT_EQ(0, mknodat(dfd, name, S_IFREG | 0644, 0)) TH_LOG("%s", name);
		snprintf(name, sizeof(name), "%0*d", FLOOD_BLOCK * FLOOD_STAGES, i);
		ASSERT_EQ(0, mknodat(cfd, name, S_IFREG | 0644, 0)) TH_LOG("%s", name);
	}
	close(dfd);
	close(cfd);
	ASSERT_EQ(0, mkfile("l2/big/other", ""));
	ASSERT_EQ(0, mkfile("l2/plain/other", ""));
	snprintf(opts, sizeof(opts), "lowerdir=%s/l1:%s/l2", self->dir, self->dir);
	ASSERT_EQ(0, mount("none", "mnt", "rsunion", 0, opts));

	plain = time_listing("mnt/plain", &other);
	flood = time_listing("mnt/big", &listed);
	ksft_print_msg("65537 names: %.2f s of one FNV hash, %.2f s of others\n", flood, plain);
	ASSERT_EQ(FLOOD_NAMES + 1, other);
	ASSERT_EQ(FLOOD_NAMES + 1, listed);
	ASSERT_LE(flood, 20 * plain + 0.5) TH_LOG("%.2f s against %.2f s", flood, plain);
}

/*
 * The open files of one merged directory share one list; a directory of
 * one layer is read straight from it and pins none. Before: a list per
 * open file, 64 x 2 MB of kernel memory.
 */
TEST_F_TIMEOUT(big, readers_share_one_list, 1200)
{
	char opts[2 * PATH_MAX + 64];
	int fds[READERS], i;
	long merged, solo;

	ASSERT_EQ(0, make_names("l1/big", 0, 30000));
	ASSERT_EQ(0, make_names("l2/big", 20000, 30000));
	ASSERT_EQ(0, mkdirs("l2/solo"));
	ASSERT_EQ(0, make_names("l2/solo", 0, 50000));
	snprintf(opts, sizeof(opts), "lowerdir=%s/l1:%s/l2", self->dir, self->dir);
	ASSERT_EQ(0, mount("none", "mnt", "rsunion", 0, opts));

	merged = pinned_by_readers("mnt/big", fds);
	ASSERT_NE(-1, merged) TH_LOG("reading mnt/big: %s", strerror(errno));
	for (i = 0; i < READERS; i++)
		close(fds[i]);
	solo = pinned_by_readers("mnt/solo", fds);
	ASSERT_NE(-1, solo) TH_LOG("reading mnt/solo: %s", strerror(errno));
	for (i = 0; i < READERS; i++)
		close(fds[i]);
	ksft_print_msg("%d readers pinned %ld kB (merged), %ld kB (one layer)\n",
		       READERS, merged, solo);
	ASSERT_LT(merged, 16384);
	ASSERT_LT(solo, 8192);
}

#define CGROUP_ROOT "/sys/fs/cgroup"
#define LONG_NAME 200

/* Empty files named by FIRST..FIRST+N-1, padded to LONG_NAME bytes. */
static int make_long_names(const char *dir, int first, int n)
{
	char name[LONG_NAME + 1];
	int dfd, i;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	for (i = first; i < first + n; i++) {
		snprintf(name, sizeof(name), "%06d%0*d", i, LONG_NAME - 6, 0);
		if (mknodat(dfd, name, S_IFREG | 0644, 0)) {
			close(dfd);
			return -1;
		}
	}
	return close(dfd);
}

/* The cgroup's memory.current in kB, or -1. */
static long memcg_kb(const char *cg)
{
	char path[PATH_MAX];
	long long bytes = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.current", cg);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &bytes) != 1)
		bytes = -1;
	fclose(f);
	return bytes < 0 ? -1 : bytes / 1024;
}

/*
 * The cgroup v2 hierarchy with the memory controller on for its children:
 * 1, or 0 when the kernel has no memory controller, or -1.
 */
static int memcg_ready(void)
{
	char controllers[256] = "";
	FILE *f = fopen(CGROUP_ROOT "/cgroup.controllers", "r");

	if (!f) {
		if (mount("cgroup2", CGROUP_ROOT, "cgroup2", 0, NULL))
			return -1;
		f = fopen(CGROUP_ROOT "/cgroup.controllers", "r");
		if (!f)
			return -1;
	}
	if (!fgets(controllers, sizeof(controllers), f))
		controllers[0] = '\0';
	fclose(f);
	if (!strstr(controllers, "memory"))
		return 0;
	return write_file(CGROUP_ROOT "/cgroup.subtree_control", "+memory") ? -1 : 1;
}

/*
 * A merged listing is kernel memory a reader makes the kernel hold for as
 * long as it keeps the directory open: it is charged to the reader's
 * memory cgroup, so that a container's limit bounds it. 20000 names of
 * 200 bytes: the list holds about 4.6 MB of names. Before: none of it
 * was charged, and memory.current did not move.
 */
TEST_F_TIMEOUT(big, listing_is_charged_to_the_readers_memcg, 1200)
{
	char buf[4096] __attribute__((aligned(8)));
	char opts[2 * PATH_MAX + 64], cg[PATH_MAX], pid[32];
	long before, after, names_kb = 24000L * LONG_NAME / 1024;
	int ready, fd;
	long got;

	ready = memcg_ready();
	ASSERT_NE(-1, ready) TH_LOG("cgroup v2: %s", strerror(errno));
	if (!ready)
		SKIP(return, "the kernel has no memory cgroup controller");
	ASSERT_EQ(0, make_long_names("l1/big", 0, 12000));
	ASSERT_EQ(0, make_long_names("l2/big", 8000, 12000));
	snprintf(opts, sizeof(opts), "lowerdir=%s/l1:%s/l2", self->dir, self->dir);
	ASSERT_EQ(0, mount("none", "mnt", "rsunion", 0, opts));

	snprintf(cg, sizeof(cg), CGROUP_ROOT "/rsunion-readdir-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	snprintf(pid, sizeof(pid), "%d", getpid());
	ASSERT_EQ(0, write_file(in_dir(cg, "cgroup.procs"), pid));
	fd = open("mnt/big", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	memset(buf, 0, sizeof(buf));
	before = memcg_kb(cg);
	got = syscall(SYS_getdents64, fd, buf, sizeof(buf));
	after = memcg_kb(cg);
	close(fd);
	write_file(CGROUP_ROOT "/cgroup.procs", pid);
	rmdir(cg);

	ASSERT_LT(0, got) TH_LOG("getdents64: %s", strerror(errno));
	ASSERT_NE(-1, before);
	ksft_print_msg("the list's names: %ld kB; the reader's cgroup grew by %ld kB\n",
		       names_kb, after - before);
	ASSERT_GE(after - before, names_kb * 3 / 4);
}

TEST_HARNESS_MAIN
