/*
 * gatectl_db.h - 'gatectl db copy': move an instance's state from SQLite to a
 * new PostgreSQL database (README, "SQLite or PostgreSQL").
 *
 * Rows are copied table by table, as they are (ids, password hashes, token
 * digests, settings, the audit trail), in one PostgreSQL transaction: the
 * target ends up with all of it or with nothing.  Both stores are migrated to
 * this program's schema first, so their tables match.
 */
#ifndef GG_GATECTL_DB_H
#define GG_GATECTL_DB_H

/* Run 'gatectl db ...'; argv[0] is "db".  Returns the exit status (0, 1, or 2
 * for a usage error). */
int gg_gatectl_db_main(const char *config, int argc, char **argv);

#endif
