/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers the rsunion selftests share: the module's life, scratch trees
 * and their files, directory listings, dmesg, and counts of a kernel
 * function's calls.
 * The runner passes the module's path in RSUNION_KO.
 */
#ifndef RSUNION_TEST_H
#define RSUNION_TEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Does PATH open with FLAGS? 0, or the errno. */
static inline int open_errno(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* What run_as() returns when its child could not become the user. */
#define CHILD_SETID	200

/*
 * Runs FN(A, B) in a child that first becomes uid and gid ID, with no
 * supplementary groups and nothing opened: FN's result (0 or an errno
 * value), CHILD_SETID if the child could not become ID, -1 if it died.
 */
static inline int run_as(uid_t id, int (*fn)(const char *, const char *), const char *a,
			 const char *b)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(id, id, id) || setresuid(id, id, id))
			_exit(CHILD_SETID);
		_exit(fn(a, b));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static inline int rsunion_load(void)
{
	const char *ko = getenv("RSUNION_KO");
	int fd, ret;

	if (!ko) {
		errno = ENOENT;
		return -1;
	}
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return ret;
}

static inline int rsunion_unload(void)
{
	return syscall(SYS_delete_module, "rsunion", O_NONBLOCK);
}

static inline bool rsunion_loaded(void)
{
	return access("/sys/module/rsunion", F_OK) == 0;
}

/* Load the module unless it is: tests may run in any order. */
static inline int rsunion_ensure_loaded(void)
{
	if (rsunion_loaded())
		return 0;
	return rsunion_load();
}

/* Runs a shell command line; its exit status. */
static inline int sh(const char *cmd)
{
	int status = system(cmd);

	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * A scratch tmpfs at a new directory under /tmp; fills DIR (PATH_MAX).
 * Unmount with scratch_put().
 */
static inline int scratch_get(char *dir)
{
	strcpy(dir, "/tmp/rsunion-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return mount("scratch", dir, "tmpfs", 0, NULL);
}

static inline void scratch_put(const char *dir)
{
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

/* mkdir -p for one path below an existing directory. */
static inline int mkdirs(const char *path)
{
	char buf[4096], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0755) && errno != EEXIST ? -1 : 0;
}

/* The size of each path scratch_layers() writes. */
#define LAYER_PATH_MAX	128

/*
 * A scratch tmpfs at DIR holding the empty directories of a union: LOWER
 * (DIR/l), UPPER (DIR/u), WORK (DIR/w) and the mount point MNT (DIR/m).
 * 0, or -1 with errno.
 */
static inline int scratch_layers(char *dir, char lower[LAYER_PATH_MAX],
				 char upper[LAYER_PATH_MAX], char work[LAYER_PATH_MAX],
				 char mnt[LAYER_PATH_MAX])
{
	if (scratch_get(dir))
		return -1;
	snprintf(lower, LAYER_PATH_MAX, "%s/l", dir);
	snprintf(upper, LAYER_PATH_MAX, "%s/u", dir);
	snprintf(work, LAYER_PATH_MAX, "%s/w", dir);
	snprintf(mnt, LAYER_PATH_MAX, "%s/m", dir);
	if (mkdirs(lower) || mkdirs(upper) || mkdirs(work) || mkdirs(mnt))
		return -1;
	return 0;
}

/* Write CONTENT to PATH (created 0644, truncated). */
static inline int write_file(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t len = strlen(content);

	if (fd < 0)
		return -1;
	if (write(fd, content, len) != len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* DIR/NAME into BUF (PATH_MAX). */
static inline char *join(char *buf, const char *dir, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", dir, name);
	return buf;
}

/*
 * DIR/NAME, in one of eight rotating buffers: a call's result stays valid
 * for the next seven, enough for one assertion's arguments.
 */
static inline const char *in_dir(const char *dir, const char *name)
{
	static char bufs[8][2 * PATH_MAX];
	static int next;
	char *buf = bufs[next++ % 8];

	snprintf(buf, 2 * PATH_MAX, "%s/%s", dir, name);
	return buf;
}

/* stat() errno for PATH, 0 if it exists. */
static inline int stat_errno(const char *path)
{
	struct stat st;

	return stat(path, &st) ? errno : 0;
}

/* lstat() errno for PATH, 0 if it exists. */
static inline int lstat_errno(const char *path)
{
	struct stat st;

	return lstat(path, &st) ? errno : 0;
}

/* Make PATH's parent directories; 0 or -1. */
static inline int mkparents(const char *path)
{
	char parent[PATH_MAX], *slash;

	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	return mkdirs(parent);
}

/* PATH's parent directories, then PATH as a file holding CONTENT. */
static inline int mkfile(const char *path, const char *content)
{
	if (mkparents(path))
		return -1;
	return write_file(path, content);
}

/* An overlayfs whiteout: a char device 0/0 at PATH (parents made). */
static inline int mkwhiteout(const char *path)
{
	if (mkparents(path))
		return -1;
	return mknod(path, S_IFCHR | 0644, makedev(0, 0));
}

/*
 * The names in directory PATH but "." and "..", sorted and joined by
 * spaces, into BUF; -1 on error. At most 64 names are read.
 */
static inline int names_of(const char *path, char *buf, size_t size)
{
	char names[64][NAME_MAX + 1], tmp[NAME_MAX + 1];
	struct dirent *de;
	int n = 0, i, j;
	DIR *d = opendir(path);

	if (!d)
		return -1;
	while ((de = readdir(d)) && n < 64) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(names[n++], NAME_MAX + 1, "%s", de->d_name);
	}
	closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			strcpy(tmp, names[j]);
			strcpy(names[j], names[j - 1]);
			strcpy(names[j - 1], tmp);
		}
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i)
			strncat(buf, " ", size - strlen(buf) - 1);
		strncat(buf, names[i], size - strlen(buf) - 1);
	}
	return 0;
}

/*
 * Where copy-up records the inode number of the lower object a copy came
 * from (the union keeps reporting it): the union's bookkeeping in the
 * upper layer, not content.
 */
#define ORIGIN_INO_XATTR "trusted.overlay.rsunion.ino"

/*
 * The inode number the union reports for REAL, an upper or lower object
 * whose own number is INO: a copy reports the number of the lower object
 * it was copied from, which it records.
 */
static inline ino_t origin_ino(const char *real, ino_t ino)
{
	unsigned char v[8];
	ino_t origin = 0;
	int i;

	if (lgetxattr(real, ORIGIN_INO_XATTR, v, sizeof(v)) != sizeof(v))
		return ino;
	for (i = 7; i >= 0; i--)
		origin = origin << 8 | v[i];
	return origin;
}

/* st_dev of PATH, or (dev_t)-1. */
static inline dev_t dev_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? (dev_t)-1 : st.st_dev;
}

/* What the names of copy-up temporaries in the work directory start with. */
#define TEMP_PREFIX	".wh..wh.rsunion."

/* How many copy-up temporaries directory PATH holds; -1 on error. */
static inline int count_temps(const char *path)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(path);

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, TEMP_PREFIX, strlen(TEMP_PREFIX)))
			n++;
	closedir(d);
	return n;
}

/* The module's reference count, or -1 when it is not loaded. */
static inline int module_refcount(const char *name)
{
	char path[128];
	int refs = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &refs) != 1)
		refs = -1;
	fclose(f);
	return refs;
}

/* Is NAME in /proc/filesystems? */
static inline bool fs_registered(const char *name)
{
	char line[128], want[64];
	bool found = false;
	FILE *f = fopen("/proc/filesystems", "r");

	if (!f)
		return false;
	snprintf(want, sizeof(want), "\t%s\n", name);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, want) != NULL;
	fclose(f);
	return found;
}

/*
 * dmesg since a mark: open /dev/kmsg at its end before the action, then
 * look for a "rsunion: " record containing NEEDLE among those that
 * came after.
 */
static inline int kmsg_mark(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

static inline bool kmsg_has(int fd, const char *needle)
{
	/* A read shorter than the record fails: take the longest there is. */
	char rec[8192], *msg;
	bool found = false;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue; /* overwritten records: keep reading */
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strstr(rec, "rsunion: ");
		if (msg && strstr(msg, needle))
			found = true;
	}
	close(fd);
	return found;
}

/*
 * Counting a kernel function's calls: a hardware execute breakpoint on its
 * first instruction, counted by perf on every CPU, whoever calls it: the
 * counts are exact where nothing else runs, as in the test guest. Nothing
 * here patches kernel text, which under TCG another vCPU now and then
 * catches half-done: it executes an int3 already patched out, "Oops:
 * int3", and the guest panics. The function tracer patches the call site
 * and the sched_switch tracepoint as it starts and stops; a perf event
 * bound to a task turns on the perf_sched_events static key. One bound
 * to a CPU does neither.
 */

/* FUNCTION's address from /proc/kallsyms; 0 (errno set) unless exactly one. */
static inline unsigned long long kernel_symbol(const char *function)
{
	unsigned long long addr, found = 0;
	char line[512], type, name[256];
	int matches = 0;
	FILE *f;

	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) == 3 &&
		    (type == 't' || type == 'T') && !strcmp(name, function)) {
			found = addr;
			matches++;
		}
	fclose(f);
	if (matches != 1 || !found) {
		/* No name, two of it, or addresses hidden (kptr_restrict). */
		errno = matches > 1 ? ENOTUNIQ : ENOENT;
		return 0;
	}
	return found;
}

#define MAX_COUNTED_CPUS 64
static int calls_counters[MAX_COUNTED_CPUS];
static int calls_counted_cpus;

/* The calls counted so far, counting on; or -1. */
static inline long long calls_counted(void)
{
	long long calls = 0, n;
	int i;

	if (!calls_counted_cpus)
		return -1;
	for (i = 0; i < calls_counted_cpus; i++) {
		if (read(calls_counters[i], &n, sizeof(n)) != sizeof(n))
			return -1;
		calls += n;
	}
	return calls;
}

/* Stops counting; how many calls it saw, or -1. */
static inline long long calls_count_stop(void)
{
	long long calls;
	int i;

	for (i = 0; i < calls_counted_cpus; i++)
		ioctl(calls_counters[i], PERF_EVENT_IOC_DISABLE, 0);
	calls = calls_counted();
	for (i = 0; i < calls_counted_cpus; i++)
		close(calls_counters[i]);
	calls_counted_cpus = 0;
	return calls;
}

/* Starts counting calls of kernel FUNCTION on every CPU; 0 or -1. */
static inline int calls_count_start(const char *function)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_BREAKPOINT,
		.size = sizeof(attr),
		.bp_type = HW_BREAKPOINT_X,
		.bp_len = sizeof(long),
		.exclude_user = 1,
		.exclude_hv = 1,
	};
	long cpu, cpus = sysconf(_SC_NPROCESSORS_CONF);
	int fd;

	attr.bp_addr = kernel_symbol(function);
	if (!attr.bp_addr)
		return -1;
	if (cpus < 1 || cpus > MAX_COUNTED_CPUS) {
		errno = ERANGE;
		return -1;
	}
	calls_counted_cpus = 0;
	for (cpu = 0; cpu < cpus; cpu++) {
		fd = syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0 && errno == ENODEV)
			continue;	/* offline */
		if (fd < 0) {
			int err = errno;

			calls_count_stop();
			errno = err;
			return -1;
		}
		calls_counters[calls_counted_cpus++] = fd;
	}
	return 0;
}

#endif
