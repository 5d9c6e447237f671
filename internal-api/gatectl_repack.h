/*
 * gatectl_repack.h - 'gatectl repack': record which packs of a project may
 * be sent to clients byte for byte (pack_reuse.h), repacking when needed.
 *
 * sshd-gate runs the same maintenance in the background after each push;
 * this command is for an administrator after importing a repository (its
 * packs were written by stock git) or to force a full repack of our own
 * (--full), for instance after a force push removed a secret, so that
 * clones go fast again without the secret's pack.
 */
#ifndef GG_GATECTL_REPACK_H
#define GG_GATECTL_REPACK_H

/*
 * Runs 'gatectl repack (PROJECT | --all) [--full]'.  config is the --config
 * given before the command word (may be NULL); argv[0] is "repack".
 * Returns the exit status: 0 success, 1 error, 2 usage error.
 */
int gg_gatectl_repack_main(const char *config, int argc, char **argv);

#endif
