/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VFS headers rsunion needs that 6.12's `kernel` crate does not reach.
 * The module's own build runs bindgen on this file (see Kbuild); static
 * inline functions become C wrappers linked into the module.
 */
#include <linux/backing-file.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/delayed_call.h>
#include <linux/errno.h>
#include <linux/fiemap.h>
#include <linux/file.h>
#include <linux/fileattr.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/fs_stack.h>
#include <linux/iversion.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/path.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/security.h>
#include <linux/seq_file.h>
#include <linux/siphash.h>
#include <linux/slab.h>
#include <linux/splice.h>
#include <linux/statfs.h>
#include <linux/uio.h>
#include <linux/xattr.h>

/* The caller's credentials (current_cred() is a macro). */
static inline const struct cred *rsunion_current_cred(void)
{
	return current_cred();
}

/*
 * Whether the current task was killed: between its steps, a long operation
 * stops for that alone, as overlayfs's copy-up loop (signal_pending_state()
 * with TASK_KILLABLE). Another signal stops it only where a step does
 * (splice, with ERESTARTSYS, which SA_RESTART restarts).
 */
static inline bool rsunion_fatal_signal_pending(void)
{
	return fatal_signal_pending(current);
}

/*
 * An override of the task's credentials that takes no reference of its
 * own: the caller keeps CRED alive until it reverts (overlayfs's
 * ovl_override_creds since 6.13, override_creds() itself since 6.14).
 */
static inline const struct cred *rsunion_override_creds(const struct cred *cred)
{
	const struct cred *old = current->cred;

	rcu_assign_pointer(current->cred, cred);
	return old;
}

static inline void rsunion_revert_creds(const struct cred *old)
{
	rcu_assign_pointer(current->cred, old);
}

/*
 * A synchronous read of the union file's kiocb IOCB from REAL, the real
 * file opened for it, as CRED: vfs_iocb_iter_read() on the real file, but
 * on the VFS's own kiocb, lent to the real file for the call instead of
 * copied. A synchronous kiocb is the caller's alone and done with when
 * ->read_iter returns, so the lending ends there. Every read of an upper
 * copy comes here: one call, where the override, the read and the revert
 * were three, and a kiocb built for each.
 */
static inline ssize_t rsunion_read_real(struct file *real, struct kiocb *iocb,
					struct iov_iter *iter,
					const struct cred *cred)
{
	struct file *file = iocb->ki_filp;
	const struct cred *old = rsunion_override_creds(cred);
	ssize_t ret;

	iocb->ki_filp = real;
	ret = vfs_iocb_iter_read(real, iocb, iter);
	iocb->ki_filp = file;
	rsunion_revert_creds(old);
	return ret;
}

/*
 * INODE, a union inode, takes REAL's attributes under its i_lock, as
 * overlayfs's ovl_copyattr: a write's end copies them on a workqueue,
 * without the inode's lock, while a setattr copies them under it, and each
 * copy lands whole, so one read before a chmod of the real inode cannot
 * land after the chmod's own. Written here, in one call each, as the
 * accessors for times and size are inline: called one by one from Rust,
 * they made fio's 4 KiB writes through the union 1.4 % slower.
 */
static inline void rsunion_copy_written_attrs_locked(struct inode *inode,
						     const struct inode *real)
{
	inode->i_uid = real->i_uid;
	inode->i_gid = real->i_gid;
	inode->i_mode = real->i_mode;
	inode_set_atime_to_ts(inode, inode_get_atime(real));
	inode_set_mtime_to_ts(inode, inode_get_mtime(real));
	inode_set_ctime_to_ts(inode, inode_get_ctime(real));
	i_size_write(inode, i_size_read(real));
	inode->i_blocks = real->i_blocks;
}

static inline void rsunion_copy_written_attrs(struct inode *inode,
					      const struct inode *real)
{
	spin_lock(&inode->i_lock);
	rsunion_copy_written_attrs_locked(inode, real);
	spin_unlock(&inode->i_lock);
}

/*
 * All of REAL's attributes, the link count among them; see above. Not its
 * inode flags (fsstack_copy_attr_all's i_flags): the union inode's are its
 * own once it is set up, as overlayfs's, and only fileattr_set changes
 * them. The VFS marks union inodes S_DEAD and S_NOSEC, and immutable and
 * append-only may come from the overlay.protattr xattr, not the real inode.
 */
static inline void rsunion_copy_all_attrs(struct inode *inode,
					  const struct inode *real)
{
	spin_lock(&inode->i_lock);
	rsunion_copy_written_attrs_locked(inode, real);
	inode->i_rdev = real->i_rdev;
	inode->i_blkbits = real->i_blkbits;
	set_nlink(inode, real->i_nlink);
	spin_unlock(&inode->i_lock);
}

/*
 * May the current task get (or, with SET, set) the flags in FA of the
 * real object at MNT and DENTRY? There is no LSM hook on fileattr but the
 * ioctl's, which takes a file: overlayfs's ovl_security_fileattr.
 */
static inline int rsunion_fileattr_security(struct vfsmount *mnt,
					    struct dentry *dentry,
					    const struct fileattr *fa, bool set)
{
	struct path path = { .mnt = mnt, .dentry = dentry };
	unsigned int flags = O_RDONLY | (force_o_largefile() ? O_LARGEFILE : 0);
	unsigned int cmd;
	struct file *file;
	int err;

	if (set)
		cmd = fa->fsx_valid ? FS_IOC_FSSETXATTR : FS_IOC_SETFLAGS;
	else
		cmd = fa->fsx_valid ? FS_IOC_FSGETXATTR : FS_IOC_GETFLAGS;
	file = dentry_open(&path, flags, current_cred());
	if (IS_ERR(file))
		return PTR_ERR(file);
	err = security_file_ioctl(file, cmd, 0);
	fput(file);
	return err;
}

/*
 * FILE takes the flags in MASK from FLAGS, as fcntl(F_SETFL) changes them
 * (overlayfs's ovl_change_flags, past its checks).
 */
static inline void rsunion_set_file_flags(struct file *file, unsigned int mask,
					  unsigned int flags)
{
	spin_lock(&file->f_lock);
	file->f_flags = (file->f_flags & ~mask) | (flags & mask);
	file->f_iocb_flags = iocb_flags(file);
	spin_unlock(&file->f_lock);
}

/*
 * The mounter's credentials act for every caller: quotas and reserved
 * blocks must still hold for them (overlayfs's ovl_fill_super).
 */
static inline void rsunion_drop_sys_resource(struct cred *cred)
{
	cap_lower(cred->cap_effective, CAP_SYS_RESOURCE);
}

/* May the caller see trusted.* names (overlayfs's ovl_can_list)? */
static inline bool rsunion_may_list_trusted(void)
{
	return ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN);
}

/*
 * Would setting an access ACL on INODE clear its S_ISGID for the caller,
 * as posix_acl_update_mode() decides? The real set_acl runs as the
 * mounter, whose CAP_FSETID would keep it.
 */
static inline bool rsunion_acl_kills_sgid(struct inode *inode)
{
	return (inode->i_mode & S_ISGID) && !in_group_p(inode->i_gid) &&
	       !capable_wrt_inode_uidgid(&nop_mnt_idmap, inode, CAP_FSETID);
}

/* syncfs(2) of a union: the upper filesystem's, as overlayfs does it. */
static inline int rsunion_sync_filesystem(struct super_block *sb)
{
	int ret;

	down_read(&sb->s_umount);
	ret = sync_filesystem(sb);
	up_read(&sb->s_umount);
	return ret;
}

/*
 * A union stacked on a union holds an inode lock of each at once: each
 * stacking depth gets its own lock classes, as overlayfs gives them
 * (ovl_lockdep_annotate_inode_mutex_key), or lockdep takes the nesting
 * for recursion. Only the wrapper object includes this, so the keys exist
 * once.
 */
static inline void rsunion_lockdep_annotate(struct inode *inode)
{
#ifdef CONFIG_LOCKDEP
	static struct lock_class_key dir_keys[FILESYSTEM_MAX_STACK_DEPTH];
	static struct lock_class_key keys[FILESYSTEM_MAX_STACK_DEPTH];
	int depth = inode->i_sb->s_stack_depth - 1;

	if (depth < 0 || depth >= FILESYSTEM_MAX_STACK_DEPTH)
		depth = 0;
	if (S_ISDIR(inode->i_mode))
		lockdep_set_class(&inode->i_rwsem, &dir_keys[depth]);
	else
		lockdep_set_class(&inode->i_rwsem, &keys[depth]);
#endif
}

/*
 * Gives DENTRY, a new object made in the work directory, the permission
 * bits of MODE and the group it would have had if made in real directory
 * PARENT: a setgid directory's group (and, for a directory, the setgid
 * bit). The type bits stay DENTRY's: notify_change() sets i_mode whole.
 */
static inline int rsunion_set_new_owner_mode(struct mnt_idmap *idmap, struct dentry *dentry,
					     struct inode *parent, umode_t mode)
{
	umode_t type = d_inode(dentry)->i_mode & ~S_IALLUGO;
	struct iattr attr = { .ia_valid = ATTR_MODE, .ia_mode = type | (mode & S_IALLUGO) };
	int err;

	/* A symlink's mode is fixed: only a setgid parent's group passes on. */
	if (S_ISLNK(type))
		attr.ia_valid = 0;
	if (parent->i_mode & S_ISGID) {
		attr.ia_valid |= ATTR_GID;
		attr.ia_vfsgid = VFSGIDT_INIT(parent->i_gid);
		if (S_ISDIR(type))
			attr.ia_mode |= S_ISGID;
	}
	if (!attr.ia_valid)
		return 0;
	inode_lock(d_inode(dentry));
	err = notify_change(idmap, dentry, &attr, NULL);
	inode_unlock(d_inode(dentry));
	return err;
}

/* Tell the VFS not to cache ACLs on a union inode: the real ones count. */
static inline void rsunion_acl_dont_cache(struct inode *inode)
{
#ifdef CONFIG_FS_POSIX_ACL
	inode->i_acl = inode->i_default_acl = ACL_DONT_CACHE;
#endif
}

/*
 * May a listing of DIR stand for what lookups in it find, and will every
 * change to its names move its i_version? Only on filesystems known to
 * do both: tmpfs and ext2/3/4, and not where names are folded
 * (d_hash/d_compare: casefolding) or encrypted (fscrypt's revalidation:
 * the listing shows no-key names). XFS is left out: its ascii-ci format
 * folds case inside ->lookup, where nothing outside XFS can see it; so is
 * btrfs: a snapshot made in a directory does not move its i_version.
 */
static inline bool rsunion_names_are_plain(const struct dentry *dir)
{
	switch (dir->d_sb->s_magic) {
	case TMPFS_MAGIC:
	case EXT4_SUPER_MAGIC:
		break;
	default:
		return false;
	}
	return !(dir->d_flags & (DCACHE_OP_HASH | DCACHE_OP_COMPARE)) &&
	       d_really_is_positive(dir) && !IS_ENCRYPTED(d_inode(dir));
}

/*
 * INODE's change counter, marked as read so that its next change bumps
 * it; false where the filesystem keeps none.
 */
static inline bool rsunion_query_iversion(struct inode *inode, u64 *version)
{
	if (!IS_I_VERSION(inode))
		return false;
	*version = inode_query_iversion(inode);
	return true;
}

/* Is INODE's change counter still VERSION? */
static inline bool rsunion_iversion_is(const struct inode *inode, u64 version)
{
	return inode_eq_iversion(inode, version);
}

/*
 * Constants bindgen cannot evaluate (they use BIT() and friends). Only
 * bindgen sees these; Kbuild renames RSUNION_CONST_X to X.
 */
#ifdef __BINDGEN__
const unsigned long RSUNION_CONST_SB_RDONLY = SB_RDONLY;
const unsigned long RSUNION_CONST_SB_POSIXACL = SB_POSIXACL;
const unsigned long RSUNION_CONST_SB_NOSEC = SB_NOSEC;
const fmode_t RSUNION_CONST_FMODE_CAN_ODIRECT = FMODE_CAN_ODIRECT;
#endif
