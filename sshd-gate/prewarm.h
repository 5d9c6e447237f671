/*
 * prewarm.h - OpenSSL's per-process state built once in sshd-gate's parent.
 *
 * OpenSSL 3 builds, on the first use of each algorithm in a process, the
 * method objects, their caches and locks (a few hundred kB in all).  A
 * connection process forked from a parent that never used them builds its own
 * copy; after gg_prewarm_crypto() in the parent, every connection shares the
 * parent's copy-on-write (SPEC §8, memory per session).
 */
#ifndef GG_PREWARM_H
#define GG_PREWARM_H

/* Runs, once, every kind of operation libssh does in a session: the key
 * exchanges, the host key signatures, the user key verifications, the ciphers
 * and MACs, the digests and the random generator.  Failures are ignored: a
 * connection then only builds what is missing. */
void gg_prewarm_crypto(void);

#endif
