/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers the rsunion selftests share: the module's life and dmesg.
 * The runner passes the module's path in RSUNION_KO.
 */
#ifndef RSUNION_TEST_H
#define RSUNION_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

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
 * look for a record containing NEEDLE among those that came after.
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
	char rec[1024];
	bool found = false;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue; /* overwritten records: keep reading */
		if (n <= 0)
			break;
		rec[n] = '\0';
		if (strstr(rec, needle))
			found = true;
	}
	close(fd);
	return found;
}

#endif
