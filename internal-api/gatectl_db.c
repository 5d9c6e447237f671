/*
 * gatectl_db.c - 'gatectl db copy [--from sqlite:PATH] --to postgresql://...'
 * (gatectl_db.h).
 *
 * Why rows and not records: the store's records leave out what must never
 * leave the store (password hashes, token digests), and ids must survive so
 * that "key-N" and "user-N" keep meaning the same account.  So the copy works
 * below the store, on the tables: PostgreSQL's catalog names the tables and
 * columns (the schema both sides were just migrated to), SQLite is read
 * column by column, and booleans, which SQLite keeps as 0/1, are converted.
 * The target must be new (no users), so that nothing is merged by accident;
 * its seeded rows are replaced, and its identity sequences continue after the
 * copied ids.
 */
#include "gatectl_db.h"

#include <getopt.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "store.h"
#include "util.h"

#define MAX_COLUMNS 32

/* Parents before children (foreign keys); tables not listed follow, by name. */
static const char *const table_order[] = {
    "users",
    "projects",
    "keys",
    "members",
    "protected_branches",
    "tokens",
    "application_settings",
    "audit_events",
    "maintenance_windows",
    "maintenance_window_events",
    "maintenance_exemptions",
};

struct copy {
	sqlite3 *src;
	PGconn *dst;
	char err[1024];
};

static int usage(void)
{
	fprintf(stderr, "usage: gatectl [--config FILE] db copy [--from sqlite:PATH] --to "
			"postgresql://...\n");
	return 2;
}

static const char *sqlite_path(const char *url)
{
	if (strncmp(url, "sqlite://", 9) == 0)
		return url + 9;
	if (strncmp(url, "sqlite:", 7) == 0)
		return url + 7;
	return strstr(url, "://") ? NULL : url;
}

/* Open (and so migrate) a store and read its schema version.  0 or -1. */
static int migrated_version(const char *url, int *version, char *err, size_t errlen)
{
	struct gg_store *st = NULL;
	int ret = -1;

	if (gg_store_open(&st, url, err, errlen) != GG_OK)
		return -1;
	if (gg_store_schema_version(st, version) == GG_OK)
		ret = 0;
	else
		snprintf(err, errlen, "%s", gg_store_errmsg(st));
	gg_store_close(st);
	return ret;
}

static PGresult *pg_exec(struct copy *c, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = PQexecParams(c->dst, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		snprintf(c->err, sizeof(c->err), "%s", PQresultErrorMessage(res));
		c->err[strcspn(c->err, "\n")] = '\0';
		PQclear(res);
		return NULL;
	}
	return res;
}

static bool pg_ok(struct copy *c, const char *sql)
{
	PGresult *res = pg_exec(c, sql, 0, NULL);

	PQclear(res);
	return res != NULL;
}

/* The tables to copy, in copy order.  NULL-terminated; the caller frees. */
static char **list_tables(struct copy *c)
{
	PGresult *res =
	    pg_exec(c,
		    "SELECT table_name FROM information_schema.tables"
		    " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
		    " AND table_name <> 'schema_migrations' ORDER BY table_name",
		    0, NULL);
	size_t n = 0, total;
	char **out;

	if (!res)
		return NULL;
	total = (size_t)PQntuples(res);
	out = calloc(total + 1, sizeof(*out));
	for (size_t i = 0; out && i < sizeof(table_order) / sizeof(table_order[0]); i++)
		for (size_t r = 0; r < total; r++)
			if (strcmp(PQgetvalue(res, (int)r, 0), table_order[i]) == 0)
				out[n++] = strdup(table_order[i]);
	for (size_t r = 0; out && r < total; r++) {
		const char *name = PQgetvalue(res, (int)r, 0);
		bool listed = false;

		for (size_t i = 0; i < sizeof(table_order) / sizeof(table_order[0]); i++)
			listed |= strcmp(name, table_order[i]) == 0;
		if (!listed)
			out[n++] = strdup(name);
	}
	PQclear(res);
	if (!out)
		snprintf(c->err, sizeof(c->err), "out of memory");
	return out;
}

/* Copy one table.  Returns the rows copied, or -1 with c->err. */
static long copy_table(struct copy *c, const char *table)
{
	const char *param[1] = {table};
	PGresult *cols = pg_exec(c,
				 "SELECT column_name, data_type FROM information_schema.columns"
				 " WHERE table_schema = current_schema() AND table_name = $1"
				 " ORDER BY ordinal_position",
				 1, param);
	char *select = NULL, *insert = NULL, *tmp;
	bool boolean[MAX_COLUMNS];
	const char *values[MAX_COLUMNS];
	sqlite3_stmt *stmt = NULL;
	long rows = -1;
	int ncols, rc;

	if (!cols)
		return -1;
	ncols = PQntuples(cols);
	if (ncols == 0 || ncols > MAX_COLUMNS) {
		snprintf(c->err, sizeof(c->err), "table %s: %d columns", table, ncols);
		goto done;
	}
	select = strdup("SELECT ");
	insert = gg_strdup_printf("INSERT INTO \"%s\" (", table);
	for (int i = 0; i < ncols && select && insert; i++) {
		const char *name = PQgetvalue(cols, i, 0);

		boolean[i] = strcmp(PQgetvalue(cols, i, 1), "boolean") == 0;
		tmp = gg_strdup_printf("%s%s\"%s\"", select, i ? ", " : "", name);
		free(select);
		select = tmp;
		tmp = gg_strdup_printf("%s%s\"%s\"", insert, i ? ", " : "", name);
		free(insert);
		insert = tmp;
	}
	if (!select || !insert)
		goto oom;
	tmp = gg_strdup_printf("%s FROM \"%s\"", select, table);
	free(select);
	select = tmp;
	tmp = gg_strdup_printf("%s) VALUES (", insert);
	free(insert);
	insert = tmp;
	for (int i = 0; i < ncols && insert; i++) {
		tmp = gg_strdup_printf("%s%s$%d", insert, i ? ", " : "", i + 1);
		free(insert);
		insert = tmp;
	}
	if (!select || !insert)
		goto oom;
	tmp = gg_strdup_printf("%s)", insert);
	free(insert);
	insert = tmp;
	if (!insert)
		goto oom;

	if (sqlite3_prepare_v2(c->src, select, -1, &stmt, NULL) != SQLITE_OK) {
		snprintf(c->err, sizeof(c->err), "table %s in SQLite: %s", table,
			 sqlite3_errmsg(c->src));
		goto done;
	}
	rows = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		PGresult *res;

		for (int i = 0; i < ncols; i++) {
			if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
				values[i] = NULL;
			else if (boolean[i])
				values[i] = sqlite3_column_int64(stmt, i) ? "true" : "false";
			else
				values[i] = (const char *)sqlite3_column_text(stmt, i);
		}
		res = pg_exec(c, insert, ncols, values);
		if (!res) {
			tmp = gg_strdup_printf("table %s: %s", table, c->err);
			snprintf(c->err, sizeof(c->err), "%s", tmp ? tmp : "out of memory");
			free(tmp);
			rows = -1;
			goto done;
		}
		PQclear(res);
		rows++;
	}
	if (rc != SQLITE_DONE) {
		snprintf(c->err, sizeof(c->err), "table %s in SQLite: %s", table,
			 sqlite3_errmsg(c->src));
		rows = -1;
	}
	goto done;
oom:
	snprintf(c->err, sizeof(c->err), "out of memory");
done:
	sqlite3_finalize(stmt);
	PQclear(cols);
	free(select);
	free(insert);
	return rows;
}

/* Identity columns continue after the copied ids. */
static bool reset_identity(struct copy *c, const char *table)
{
	const char *param[1] = {table};
	PGresult *res = pg_exec(c,
				"SELECT 1 FROM information_schema.columns"
				" WHERE table_schema = current_schema() AND table_name = $1"
				" AND column_name = 'id' AND is_identity = 'YES'",
				1, param);
	char *sql;
	bool ok;

	if (!res)
		return false;
	ok = PQntuples(res) == 0;
	PQclear(res);
	if (ok)
		return true;
	sql = gg_strdup_printf("SELECT setval(pg_get_serial_sequence('\"%s\"', 'id'),"
			       " (SELECT coalesce(max(id), 0) + 1 FROM \"%s\"), false)",
			       table, table);
	ok = sql && pg_ok(c, sql);
	free(sql);
	return ok;
}

static int copy_all(struct copy *c)
{
	PGresult *res;
	char **tables = NULL;
	size_t n = 0;
	int ret = -1;

	if (!pg_ok(c, "BEGIN"))
		return -1;
	res = pg_exec(c, "SELECT count(*) FROM users", 0, NULL);
	if (!res)
		goto done;
	if (strcmp(PQgetvalue(res, 0, 0), "0") != 0) {
		snprintf(c->err, sizeof(c->err),
			 "the target database has users already: copy into a new, empty database "
			 "(without gatectl init)");
		PQclear(res);
		goto done;
	}
	PQclear(res);
	tables = list_tables(c);
	if (!tables)
		goto done;
	while (tables[n])
		n++;
	/* Children first: what the migrations seeded (the settings row) goes. */
	for (size_t i = n; i-- > 0;) {
		char *sql = gg_strdup_printf("DELETE FROM \"%s\"", tables[i]);
		bool ok = sql && pg_ok(c, sql);

		free(sql);
		if (!ok)
			goto done;
	}
	for (size_t i = 0; i < n; i++) {
		long rows = copy_table(c, tables[i]);

		if (rows < 0 || !reset_identity(c, tables[i]))
			goto done;
		printf("%s: %ld row%s\n", tables[i], rows, rows == 1 ? "" : "s");
	}
	if (pg_ok(c, "COMMIT"))
		ret = 0;
done:
	if (ret < 0)
		PQclear(PQexec(c->dst, "ROLLBACK"));
	for (size_t i = 0; tables && tables[i]; i++)
		free(tables[i]);
	free(tables);
	return ret;
}

int gg_gatectl_db_main(const char *config, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"from", required_argument, NULL, 'f'},
	    {"to", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	struct gg_config cfg;
	struct copy c = {0};
	const char *from = NULL, *to = NULL, *path;
	char err[512];
	int opt, vfrom = 0, vto = 0, ret = 1;

	if (argc < 2 || strcmp(argv[1], "copy") != 0)
		return usage();
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		if (opt == 'c')
			config = optarg;
		else if (opt == 'f')
			from = optarg;
		else if (opt == 't')
			to = optarg;
		else
			return usage();
	}
	if (optind != argc - 1 || !to)
		return usage();
	gg_config_init(&cfg);
	if (!from) {
		if (gg_config_load(&cfg, config, err, sizeof(err)) < 0) {
			fprintf(stderr, "gatectl: %s\n", err);
			goto done;
		}
		from = cfg.database_url;
	}
	path = sqlite_path(from);
	if (!path ||
	    (strncmp(to, "postgres://", 11) != 0 && strncmp(to, "postgresql://", 13) != 0)) {
		fprintf(stderr, "gatectl: db copy copies from sqlite:PATH to postgresql://...\n");
		goto done;
	}
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "gatectl: cannot read %s\n", path);
		goto done;
	}
	if (migrated_version(from, &vfrom, err, sizeof(err)) < 0 ||
	    migrated_version(to, &vto, err, sizeof(err)) < 0) {
		fprintf(stderr, "gatectl: %s\n", err);
		goto done;
	}
	if (vfrom != vto) {
		fprintf(stderr,
			"gatectl: schema versions differ: %d (SQLite) and %d (PostgreSQL)\n", vfrom,
			vto);
		goto done;
	}
	if (sqlite3_open_v2(path, &c.src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "gatectl: cannot open %s: %s\n", path, sqlite3_errmsg(c.src));
		goto done;
	}
	c.dst = PQconnectdb(to);
	if (PQstatus(c.dst) != CONNECTION_OK) {
		fprintf(stderr, "gatectl: cannot connect to PostgreSQL: %s", PQerrorMessage(c.dst));
		goto done;
	}
	if (copy_all(&c) < 0) {
		fprintf(stderr, "gatectl: nothing copied: %s\n", c.err);
		goto done;
	}
	printf("Copied schema version %d from %s to PostgreSQL.\n", vfrom, path);
	ret = 0;
done:
	sqlite3_close(c.src);
	PQfinish(c.dst);
	gg_config_clear(&cfg);
	return ret;
}
