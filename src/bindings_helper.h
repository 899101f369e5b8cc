/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VFS headers rsunion needs that 6.12's `kernel` crate does not reach.
 * The module's own build runs bindgen on this file (see Kbuild); static
 * inline functions become C wrappers linked into the module.
 */
#include <linux/backing-file.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/delayed_call.h>
#include <linux/errno.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/fs_stack.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/path.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
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
 * Constants bindgen cannot evaluate (they use BIT() and friends). Only
 * bindgen sees these; Kbuild renames RSUNION_CONST_X to X.
 */
#ifdef __BINDGEN__
const unsigned long RSUNION_CONST_SB_RDONLY = SB_RDONLY;
const unsigned long RSUNION_CONST_SB_POSIXACL = SB_POSIXACL;
const fmode_t RSUNION_CONST_FMODE_CAN_ODIRECT = FMODE_CAN_ODIRECT;
#endif
