/*
 * repo_hooks.h - gitgate's pre-receive and post-receive hooks in a bare
 * repository, so that pushes through stock git-receive-pack (the file
 * transport, git-shell, git-http-backend) meet the same access check and
 * maintenance switch as pushes through sshd-gate.
 *
 * Each hook is a two-line shell wrapper that execs gate-hook with the
 * configuration it should read (a symlink could not carry that):
 *
 *   #!/bin/sh
 *   # gitgate: gate-hook, written by 'gatectl hooks install'
 *   exec '/usr/bin/gate-hook' --config '/etc/gitgate/gitgate.conf' pre-receive "$@"
 *
 * Installing is idempotent, and it never overwrites a hook gitgate did not
 * write: an operator's own pre-receive is reported, not replaced.
 */
#ifndef GG_REPO_HOOKS_H
#define GG_REPO_HOOKS_H

#include <stddef.h>

#include "config.h"

/* The second line of every wrapper; how a hook is recognised as ours. */
#define GG_REPO_HOOKS_MARKER "# gitgate: gate-hook, written by 'gatectl hooks install'"

enum {
	GG_REPO_HOOKS_UNCHANGED = 0, /* both hooks were in place already */
	GG_REPO_HOOKS_WRITTEN = 1,   /* at least one was written */
};

/*
 * Put the pre-receive and post-receive wrappers for gate_hook (an absolute
 * path) into <storage_root>/<repo_path>/hooks, passing config_path (absolute;
 * NULL: none, gate-hook then uses its default).  Each file is replaced
 * atomically.  GG_REPO_HOOKS_WRITTEN, GG_REPO_HOOKS_UNCHANGED, or -1 with a
 * message in err.
 */
int gg_repo_hooks_install(const char *storage_root, const char *repo_path, const char *gate_hook,
			  const char *config_path, char *err, size_t errlen);

/*
 * The gate-hook to install: override when given, else [hooks] path, else
 * the one next to the running program (installed side by side), else the
 * one in the build tree (<dir>/../hooks/gate-hook).  Absolute, and checked
 * to be executable.  Caller frees; NULL with a message in err.
 */
char *gg_repo_hooks_gate_hook(const struct gg_config *cfg, const char *override, char *err,
			      size_t errlen);

/*
 * What a program that creates repositories does when [hooks]
 * install_on_create is set: gg_repo_hooks_gate_hook(cfg, NULL), then
 * gg_repo_hooks_install() with cfg's storage root and file.  0 or -1 with
 * a message in err.
 */
int gg_repo_hooks_install_configured(const struct gg_config *cfg, const char *repo_path, char *err,
				     size_t errlen);

#endif
