/*
 * gatectl_geo.h - 'gatectl geo': a Geo secondary's repository replication and
 * the replication status of both sites (SPEC §4 "Geo secondary", issue 8).
 *
 * The database of a secondary is a PostgreSQL hot standby, replicated by
 * PostgreSQL itself; the bare repositories are not in the database, so
 * 'gatectl geo sync' copies them: for every project of the replicated
 * projects table it compares the primary's refs with the local ones and
 * fetches what differs, with libgit2 over SSH from the primary's sshd-gate
 * and the replication account's key.  The result of each pass is written to
 * a status file under the secondary's data directory (the standby database
 * cannot be written), which 'gatectl geo status' shows together with the
 * database's replication lag.  'geo sync --follow' polls the push
 * generations the primary records on every accepted push and fetches only
 * the projects whose generation moved.
 */
#ifndef GG_GATECTL_GEO_H
#define GG_GATECTL_GEO_H

/*
 * Run 'gatectl geo ...'.  config is the --config given before the command
 * word (may be NULL); argv[0] is "geo".  Returns the process exit status:
 * 0 success (for 'status': replication caught up), 1 error or not caught up,
 * 2 usage error.
 */
int gg_gatectl_geo_main(const char *config, int argc, char **argv);

#endif
