/* The selector byte that starts every input of tests/fuzz/fuzz_decode.c, shared with
 * tests/tools/mkcorpus.c, which writes the seeds (the input layout is described at the top
 * of fuzz_decode.c):
 *   bit 0     SEL_DAEMON: daemon origin (replies, notifications), else kernel (requests)
 *   bits 1-3  the connection, an index into conns[]
 *   bit 4     SEL_SESSION: session mode
 *   bit 5     SEL_ARG: replies: the request's `arg` (GETXATTR/LISTXATTR size) is nonzero */
#ifndef FP_FUZZSEL_H
#define FP_FUZZSEL_H

#include <stdint.h>

#include "fuseproto/abi.h"
#include "fuseproto/msg.h"

#define SEL_DAEMON  0x01u
#define SEL_SESSION 0x10u
#define SEL_ARG     0x20u

/* Negotiated flags without FUSE_SETXATTR_EXT (fuse_setxattr_in is then 8 bytes, not 16). */
#define NO_XATTR_EXT (UINT64_MAX & ~FP_SETXATTR_EXT)

/* Selector bits 1-3. */
static const struct fp_conn conns[8] = {
	{7, 45, UINT64_MAX},   {7, 45, NO_XATTR_EXT}, {7, 31, UINT64_MAX}, {7, 31, NO_XATTR_EXT},
	{7, 22, NO_XATTR_EXT}, {7, 8, NO_XATTR_EXT},  {7, 7, NO_XATTR_EXT}, {7, 7, UINT64_MAX},
};

#endif
