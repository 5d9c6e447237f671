/*
 * test_store.c - every gg_store_* function against a temporary SQLite file
 * (common/store.c, common/store_sqlite.c), or against the PostgreSQL database
 * named by GG_TEST_DATABASE_URL (common/store_pg.c; meson's test_store_pg runs
 * this program through tests/pg/with-pg.sh).  Each PostgreSQL case starts
 * from an empty schema.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "messages.h"
#include "store.h"
#include "util.h"

#define ED25519_TYPE "ssh-ed25519"
#define ED25519_B64  "AAAAC3NzaC1lZDI1NTE5AAAAIIcOjYy+RAXi0r8DJ4VIoGKTfazmil8bZIADK4+ZvQ3O"
#define ED25519_FP   "SHA256:8dLNuNZeEx7bsxDeiz9Ecq99PecYz3ei7P6FrxGou6U"
#define ECDSA_TYPE   "ecdsa-sha2-nistp256"
#define ECDSA_B64                                                                                  \
	"AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBJntUHCQ16NOxPL6DWIOyHh9+"            \
	"0mzSnN6EkY8W"                                                                             \
	"yZGdSPAbea/SG0+BlCIptcf/uPAkPuVLZK4H4dQKSxX3HAGVs4="

struct fixture {
	char dir[64];
	char path[128];
	char url[512]; /* what gg_store_open() was given */
	bool pg;
	struct gg_store *st;
};

static void quiet_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* The PostgreSQL database under test, or NULL for SQLite. */
static const char *pg_url(void)
{
	const char *url = getenv("GG_TEST_DATABASE_URL");

	return url && *url ? url : NULL;
}

/* Run SQL on the PostgreSQL database behind the store's back; the first
 * column of the first row as an int, or -1. */
static int pg_exec(const char *url, const char *sql)
{
	PGconn *conn = PQconnectdb(url);
	PGresult *res;
	int n = -1;

	assert_int_equal(PQstatus(conn), CONNECTION_OK);
	PQsetNoticeProcessor(conn, quiet_notices, NULL);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
		n = atoi(PQgetvalue(res, 0, 0));
	else if (PQresultStatus(res) == PGRES_COMMAND_OK)
		n = 0;
	else
		fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(conn);
	return n;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/gg-test-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/gitgate.db", f->dir);
	if (pg_url()) {
		f->pg = true;
		snprintf(f->url, sizeof(f->url), "%s", pg_url());
		if (pg_exec(f->url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public") != 0)
			return -1;
	} else {
		snprintf(f->url, sizeof(f->url), "sqlite:%s", f->path);
	}
	if (gg_store_open(&f->st, f->url, err, sizeof(err)) != GG_OK) {
		fprintf(stderr, "open: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];

	gg_store_close(f->st);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Count rows with plain SQLite, behind the store's back. */
static int count_rows(struct fixture *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	int n = -1;

	if (f->pg)
		return pg_exec(f->url, sql);
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		n = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

/* Run SQL that changes the database, behind the store's back. */
static void exec_sql(struct fixture *f, const char *sql)
{
	sqlite3 *db;
	char *err = NULL;

	if (f->pg) {
		assert_int_equal(pg_exec(f->url, sql), 0);
		return;
	}
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fprintf(stderr, "%s: %s\n", sql, err ? err : "?");
	assert_null(err);
	sqlite3_close(db);
}

static int64_t make_user(struct gg_store *st, const char *username, const char *password)
{
	struct gg_user u;

	memset(&u, 0, sizeof(u));
	snprintf(u.username, sizeof(u.username), "%s", username);
	snprintf(u.email, sizeof(u.email), "%s@example.com", username);
	assert_int_equal(gg_store_user_create(st, &u, password), GG_OK);
	assert_true(u.id > 0);
	return u.id;
}

static int64_t make_project(struct gg_store *st, const char *path)
{
	struct gg_project p;

	memset(&p, 0, sizeof(p));
	snprintf(p.full_path, sizeof(p.full_path), "%s", path);
	assert_int_equal(gg_store_project_create(st, &p), GG_OK);
	return p.id;
}

static int64_t make_key(struct gg_store *st, int64_t user_id, int64_t project_id, const char *type,
			const char *b64)
{
	struct gg_key k;

	memset(&k, 0, sizeof(k));
	k.user_id = user_id;
	k.project_id = project_id;
	snprintf(k.title, sizeof(k.title), "laptop");
	snprintf(k.type, sizeof(k.type), "%s", type);
	snprintf(k.blob, sizeof(k.blob), "%s", b64);
	assert_int_equal(gg_store_key_add(st, &k), GG_OK);
	return k.id;
}

static void set_maintenance(struct gg_store *st, bool on, const char *msg)
{
	struct gg_settings s;

	memset(&s, 0, sizeof(s));
	s.maintenance_mode = on;
	snprintf(s.maintenance_mode_message, sizeof(s.maintenance_mode_message), "%s", msg);
	assert_int_equal(gg_store_settings_update(st, &s, 0, "test"), GG_OK);
}

#define SCHEMA_VERSION 3 /* the newest migration of store_sqlite.c and store_pg.c */

/* ---- opening ---- */

static void test_migrations_applied_once_and_idempotent_on_reopen(void **state)
{
	struct fixture *f = *state;
	char url[600], err[256];
	int version = 0;

	assert_int_equal(gg_store_schema_version(f->st, &version), GG_OK);
	assert_int_equal(version, SCHEMA_VERSION);
	make_user(f->st, "alice", NULL);

	gg_store_close(f->st);
	if (f->pg)
		snprintf(url, sizeof(url), "%s", f->url);
	else
		snprintf(url, sizeof(url), "sqlite://%s", f->path);
	assert_int_equal(gg_store_open(&f->st, url, err, sizeof(err)), GG_OK);
	assert_int_equal(gg_store_schema_version(f->st, &version), GG_OK);
	assert_int_equal(version, SCHEMA_VERSION);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM schema_migrations"), SCHEMA_VERSION);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM users"), 1);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM application_settings"), 1);

	/* a bare path works too, as a second connection on the same file */
	{
		struct gg_store *second;
		struct gg_user u;

		assert_int_equal(gg_store_open(&second, f->pg ? f->url : f->path, err, sizeof(err)),
				 GG_OK);
		assert_int_equal(gg_store_user_get_by_username(second, "alice", &u), GG_OK);
		gg_store_close(second);
	}
}

static void test_database_is_private_and_in_wal_mode(void **state)
{
	struct fixture *f = *state;
	struct stat sb;
	sqlite3 *db;
	sqlite3_stmt *stmt;

	if (f->pg)
		return; /* a server, not a file: nothing of this applies */
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

/* A PostgreSQL URL reaches the PostgreSQL backend: nothing listens on port 1,
 * so the open fails with a message that names the server but not the
 * password. */
static void test_open_dispatches_postgres_and_refuses_unknown_urls(void **state)
{
	struct gg_store *st = NULL;
	char err[256];

	(void)state;
	assert_int_equal(
	    gg_store_open(&st, "postgresql://u:sekrit@127.0.0.1:1/gitgate", err, sizeof(err)),
	    GG_ERROR);
	assert_null(st);
	assert_non_null(
	    strstr(err, "cannot connect to PostgreSQL at postgresql://u:***@127.0.0.1:1"));
	assert_null(strstr(err, "sekrit"));
	assert_int_equal(gg_store_open(&st, "postgres://127.0.0.1:1/x", err, sizeof(err)),
			 GG_ERROR);
	assert_non_null(strstr(err, "cannot connect to PostgreSQL"));
	assert_int_equal(gg_store_open(&st, "mysql://localhost/x", err, sizeof(err)), GG_EINVALID);
	assert_int_equal(gg_store_open(&st, "", err, sizeof(err)), GG_EINVALID);
	assert_int_not_equal(gg_store_open(&st, "sqlite:/nonexistent-dir/x.db", err, sizeof(err)),
			     GG_OK);
	assert_non_null(strstr(err, "/nonexistent-dir/x.db"));
}

/* ---- users ---- */

static void test_user_create_get_list_delete(void **state)
{
	struct fixture *f = *state;
	struct gg_user u, got, *list = NULL;
	size_t n = 0;

	memset(&u, 0, sizeof(u));
	snprintf(u.username, sizeof(u.username), "Alice");
	snprintf(u.email, sizeof(u.email), "alice@example.com");
	u.admin = true;
	assert_int_equal(gg_store_user_create(f->st, &u, "s3cret-pass"), GG_OK);
	assert_true(u.id > 0);
	assert_true(u.created_at > 0);
	assert_string_equal(u.name, "Alice"); /* name defaults to the username */

	assert_int_equal(gg_store_user_get(f->st, u.id, &got), GG_OK);
	assert_string_equal(got.username, "Alice");
	assert_string_equal(got.email, "alice@example.com");
	assert_true(got.admin);
	assert_false(got.blocked);
	assert_int_equal(gg_store_user_get_by_username(f->st, "alice", &got), GG_OK);
	assert_int_equal(got.id, u.id);

	make_user(f->st, "bob", NULL);
	assert_int_equal(gg_store_user_list(f->st, &list, &n), GG_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].username, "Alice");
	assert_string_equal(list[1].username, "bob");
	free(list);

	assert_int_equal(gg_store_user_delete(f->st, u.id), GG_OK);
	assert_int_equal(gg_store_user_get(f->st, u.id, &got), GG_ENOTFOUND);
	assert_int_equal(gg_store_user_delete(f->st, u.id), GG_ENOTFOUND);
	assert_int_equal(gg_store_user_get_by_username(f->st, "nobody", &got), GG_ENOTFOUND);
}

static void test_user_unique_username_and_email(void **state)
{
	struct fixture *f = *state;
	struct gg_user u;

	make_user(f->st, "alice", NULL);
	memset(&u, 0, sizeof(u));
	snprintf(u.username, sizeof(u.username), "ALICE");
	snprintf(u.email, sizeof(u.email), "other@example.com");
	assert_int_equal(gg_store_user_create(f->st, &u, NULL), GG_EEXISTS);
	assert_string_equal(gg_store_errmsg(f->st), "Username has already been taken");

	snprintf(u.username, sizeof(u.username), "alice2");
	snprintf(u.email, sizeof(u.email), "alice@example.com");
	assert_int_equal(gg_store_user_create(f->st, &u, NULL), GG_EEXISTS);
	assert_string_equal(gg_store_errmsg(f->st), "Email has already been taken");
	assert_int_equal(count_rows(f, "SELECT count(*) FROM users"), 1);
}

static void test_user_invalid_fields_refused(void **state)
{
	struct fixture *f = *state;
	static const char *bad_names[] = {"", "-x", ".x", "a b", "a/b", "x.git", "a@b", "x."};
	struct gg_user u;

	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		memset(&u, 0, sizeof(u));
		snprintf(u.username, sizeof(u.username), "%s", bad_names[i]);
		snprintf(u.email, sizeof(u.email), "x@example.com");
		assert_int_equal(gg_store_user_create(f->st, &u, NULL), GG_EINVALID);
	}
	memset(&u, 0, sizeof(u));
	snprintf(u.username, sizeof(u.username), "carol");
	snprintf(u.email, sizeof(u.email), "not-an-email");
	assert_int_equal(gg_store_user_create(f->st, &u, NULL), GG_EINVALID);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM users"), 0);
}

static void test_user_create_refused_in_maintenance_mode(void **state)
{
	struct fixture *f = *state;
	struct gg_user u;

	set_maintenance(f->st, true, "");
	memset(&u, 0, sizeof(u));
	snprintf(u.username, sizeof(u.username), "dave");
	snprintf(u.email, sizeof(u.email), "dave@example.com");
	assert_int_equal(gg_store_user_create(f->st, &u, "password1"), GG_EREADONLY);
	assert_string_equal(gg_store_errmsg(f->st), GG_MSG_READ_ONLY);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM users"), 0);

	set_maintenance(f->st, false, "");
	assert_int_equal(gg_store_user_create(f->st, &u, "password1"), GG_OK);
}

static void test_user_block_admin_and_password(void **state)
{
	struct fixture *f = *state;
	int64_t id = make_user(f->st, "erin", "first-password");
	struct gg_user got;

	assert_int_equal(gg_store_user_set_blocked(f->st, id, true), GG_OK);
	assert_int_equal(gg_store_user_get(f->st, id, &got), GG_OK);
	assert_true(got.blocked);
	assert_int_equal(gg_store_user_set_blocked(f->st, id, false), GG_OK);
	assert_int_equal(gg_store_user_set_admin(f->st, id, true), GG_OK);
	assert_int_equal(gg_store_user_get(f->st, id, &got), GG_OK);
	assert_false(got.blocked);
	assert_true(got.admin);
	assert_int_equal(gg_store_user_set_blocked(f->st, 9999, true), GG_ENOTFOUND);
	assert_int_equal(gg_store_user_set_admin(f->st, 9999, true), GG_ENOTFOUND);

	assert_int_equal(gg_store_user_set_password(f->st, id, "second-password"), GG_OK);
	assert_int_equal(gg_store_user_authenticate(f->st, "erin", "first-password", &got),
			 GG_EDENIED);
	assert_int_equal(gg_store_user_authenticate(f->st, "erin", "second-password", &got), GG_OK);
	assert_int_equal(gg_store_user_set_password(f->st, 9999, "x"), GG_ENOTFOUND);
	/* the hash, never the password, is stored */
	assert_int_equal(count_rows(f, "SELECT count(*) FROM users WHERE password_hash LIKE "
				       "'$argon2id$v=19$m=19456,t=2,p=1$%'"),
			 1);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM users WHERE password_hash LIKE "
				       "'%second-password%'"),
			 0);
}

static void test_user_authenticate_right_and_wrong(void **state)
{
	struct fixture *f = *state;
	int64_t id = make_user(f->st, "frank", "correct horse");
	struct gg_user got;

	make_user(f->st, "nopass", NULL);
	assert_int_equal(gg_store_user_authenticate(f->st, "frank", "correct horse", &got), GG_OK);
	assert_int_equal(got.id, id);
	assert_int_equal(
	    gg_store_user_authenticate(f->st, "FRANK@example.com", "correct horse", &got), GG_OK);
	assert_int_equal(got.id, id);
	assert_int_equal(gg_store_user_authenticate(f->st, "frank", "wrong", &got), GG_EDENIED);
	assert_string_equal(gg_store_errmsg(f->st), GG_MSG_INVALID_CREDENTIALS);
	assert_int_equal(gg_store_user_authenticate(f->st, "frank", "", &got), GG_EDENIED);
	assert_int_equal(gg_store_user_authenticate(f->st, "ghost", "correct horse", &got),
			 GG_EDENIED);
	assert_int_equal(gg_store_user_authenticate(f->st, "nopass", "", &got), GG_EDENIED);
	assert_int_equal(gg_store_user_authenticate(f->st, "frank", NULL, &got), GG_EDENIED);
}

static void test_user_delete_removes_dependents(void **state)
{
	struct fixture *f = *state;
	int64_t uid = make_user(f->st, "gina", NULL);
	int64_t pid = make_project(f->st, "group/project");
	struct gg_token t;
	char *secret = NULL;

	make_key(f->st, uid, 0, ED25519_TYPE, ED25519_B64);
	assert_int_equal(gg_store_member_set(f->st, pid, uid, GG_ACCESS_DEVELOPER), GG_OK);
	memset(&t, 0, sizeof(t));
	t.user_id = uid;
	snprintf(t.scopes, sizeof(t.scopes), "api");
	assert_int_equal(gg_store_token_create(f->st, &t, &secret), GG_OK);
	free(secret);

	assert_int_equal(gg_store_user_delete(f->st, uid), GG_OK);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM keys"), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM members"), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM tokens"), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM projects"), 1);
}

/* ---- keys ---- */

static void test_key_add_get_list_delete(void **state)
{
	struct fixture *f = *state;
	int64_t uid = make_user(f->st, "hank", NULL);
	struct gg_key k, got, *list = NULL;
	size_t n = 0;

	memset(&k, 0, sizeof(k));
	k.user_id = uid;
	snprintf(k.title, sizeof(k.title), "laptop");
	snprintf(k.type, sizeof(k.type), ED25519_TYPE);
	snprintf(k.blob, sizeof(k.blob), ED25519_B64);
	snprintf(k.fingerprint, sizeof(k.fingerprint), "SHA256:forged");
	assert_int_equal(gg_store_key_add(f->st, &k), GG_OK);
	assert_true(k.id > 0);
	assert_string_equal(k.fingerprint, ED25519_FP); /* computed, not trusted */

	assert_int_equal(gg_store_key_get(f->st, k.id, &got), GG_OK);
	assert_int_equal(got.user_id, uid);
	assert_int_equal(got.project_id, 0);
	assert_string_equal(got.title, "laptop");
	assert_string_equal(got.type, ED25519_TYPE);
	assert_string_equal(got.blob, ED25519_B64);
	assert_int_equal(got.last_used_at, 0);
	assert_int_equal(gg_store_key_get_by_fingerprint(f->st, ED25519_FP, &got), GG_OK);
	assert_int_equal(got.id, k.id);
	assert_int_equal(gg_store_key_get_by_fingerprint(f->st, "SHA256:nope", &got), GG_ENOTFOUND);

	make_key(f->st, uid, 0, ECDSA_TYPE, ECDSA_B64);
	assert_int_equal(gg_store_key_list_for_user(f->st, uid, &list, &n), GG_OK);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, k.id);
	free(list);

	assert_int_equal(gg_store_key_touch(f->st, k.id), GG_OK);
	assert_int_equal(gg_store_key_get(f->st, k.id, &got), GG_OK);
	assert_true(got.last_used_at >= gg_now() - 5);

	assert_int_equal(gg_store_key_delete(f->st, k.id), GG_OK);
	assert_int_equal(gg_store_key_get(f->st, k.id, &got), GG_ENOTFOUND);
	assert_int_equal(gg_store_key_delete(f->st, k.id), GG_ENOTFOUND);

	/* ids are never reused: "key-N" may still sit in a forced command */
	{
		int64_t old_max = make_key(f->st, uid, 0, ED25519_TYPE, ED25519_B64);

		assert_int_equal(gg_store_key_delete(f->st, old_max), GG_OK);
		assert_true(make_key(f->st, uid, 0, ED25519_TYPE, ED25519_B64) > old_max);
	}
}

static void test_key_unique_fingerprint_and_invalid_keys(void **state)
{
	struct fixture *f = *state;
	int64_t a = make_user(f->st, "ivy", NULL), b = make_user(f->st, "jack", NULL);
	struct gg_key k;

	make_key(f->st, a, 0, ED25519_TYPE, ED25519_B64);
	memset(&k, 0, sizeof(k));
	k.user_id = b;
	snprintf(k.type, sizeof(k.type), ED25519_TYPE);
	snprintf(k.blob, sizeof(k.blob), ED25519_B64);
	assert_int_equal(gg_store_key_add(f->st, &k), GG_EEXISTS);
	assert_string_equal(gg_store_errmsg(f->st), "Fingerprint has already been taken");

	snprintf(k.type, sizeof(k.type), "ssh-rsa"); /* does not match the blob */
	assert_int_equal(gg_store_key_add(f->st, &k), GG_EINVALID);
	snprintf(k.type, sizeof(k.type), ED25519_TYPE);
	snprintf(k.blob, sizeof(k.blob), "AAAA!!!!");
	assert_int_equal(gg_store_key_add(f->st, &k), GG_EINVALID);

	/* a key for no one, or for both a user and a project */
	snprintf(k.blob, sizeof(k.blob), ECDSA_B64);
	snprintf(k.type, sizeof(k.type), ECDSA_TYPE);
	k.user_id = 0;
	assert_int_equal(gg_store_key_add(f->st, &k), GG_EINVALID);
	k.user_id = 424242; /* no such user */
	assert_int_equal(gg_store_key_add(f->st, &k), GG_ENOTFOUND);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM keys"), 1);
}

static void test_deploy_keys(void **state)
{
	struct fixture *f = *state;
	int64_t pid = make_project(f->st, "group/deployed");
	struct gg_key k, *list = NULL;
	size_t n = 0;

	memset(&k, 0, sizeof(k));
	k.project_id = pid;
	k.can_push = true;
	snprintf(k.title, sizeof(k.title), "ci");
	snprintf(k.type, sizeof(k.type), ED25519_TYPE);
	snprintf(k.blob, sizeof(k.blob), ED25519_B64);
	assert_int_equal(gg_store_key_add(f->st, &k), GG_OK);
	assert_int_equal(gg_store_key_list_for_project(f->st, pid, &list, &n), GG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].user_id, 0);
	assert_int_equal(list[0].project_id, pid);
	assert_true(list[0].can_push);
	free(list);
}

/* ---- projects ---- */

static void test_project_create_get_list_update_delete(void **state)
{
	struct fixture *f = *state;
	int64_t uid = make_user(f->st, "kim", NULL);
	struct gg_project p, got, *list = NULL;
	size_t n = 0;

	memset(&p, 0, sizeof(p));
	snprintf(p.full_path, sizeof(p.full_path), "Demo/sub/Hello");
	p.visibility = GG_VISIBILITY_PUBLIC;
	p.creator_id = uid;
	assert_int_equal(gg_store_project_create(f->st, &p), GG_OK);
	assert_true(p.id > 0);
	assert_string_equal(p.name, "Hello");
	assert_string_equal(p.repo_path, "Demo/sub/Hello.git");
	assert_string_equal(p.default_branch, "main");

	assert_int_equal(gg_store_project_get(f->st, p.id, &got), GG_OK);
	assert_string_equal(got.full_path, "Demo/sub/Hello");
	assert_int_equal(got.visibility, GG_VISIBILITY_PUBLIC);
	assert_int_equal(got.creator_id, uid);
	assert_false(got.read_only);

	static const char *spellings[] = {"Demo/sub/Hello", "demo/sub/hello", "/demo/SUB/hello",
					  "demo/sub/hello.git", "/Demo/sub/Hello.GIT"};
	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		assert_int_equal(gg_store_project_get_by_path(f->st, spellings[i], &got), GG_OK);
		assert_int_equal(got.id, p.id);
	}
	assert_int_equal(gg_store_project_get_by_path(f->st, "demo/sub", &got), GG_ENOTFOUND);
	assert_int_equal(gg_store_project_get_by_path(f->st, "//demo/sub/hello", &got),
			 GG_ENOTFOUND);

	make_project(f->st, "alpha/beta");
	assert_int_equal(gg_store_project_list(f->st, &list, &n), GG_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].full_path, "alpha/beta");
	free(list);

	got.read_only = true;
	snprintf(got.read_only_message, sizeof(got.read_only_message), "Migrating");
	got.visibility = GG_VISIBILITY_INTERNAL;
	snprintf(got.default_branch, sizeof(got.default_branch), "develop");
	assert_int_equal(gg_store_project_update(f->st, &got), GG_OK);
	assert_int_equal(gg_store_project_get(f->st, p.id, &got), GG_OK);
	assert_true(got.read_only);
	assert_string_equal(got.read_only_message, "Migrating");
	assert_int_equal(got.visibility, GG_VISIBILITY_INTERNAL);
	assert_string_equal(got.default_branch, "develop");
	got.id = 9999;
	assert_int_equal(gg_store_project_update(f->st, &got), GG_ENOTFOUND);

	assert_int_equal(gg_store_project_delete(f->st, p.id), GG_OK);
	assert_int_equal(gg_store_project_get(f->st, p.id, &got), GG_ENOTFOUND);
	assert_int_equal(gg_store_project_delete(f->st, p.id), GG_ENOTFOUND);
}

static void test_project_unique_path_and_invalid_paths(void **state)
{
	struct fixture *f = *state;
	static const char *bad[] = {"",	    "single", "a//b",	 "/a/b",  "a/b/",  "a/../b",
				    "a/.b", "a/-b",   "a/b.git", "a/b c", "a/b;rm"};
	struct gg_project p;

	make_project(f->st, "group/name");
	memset(&p, 0, sizeof(p));
	snprintf(p.full_path, sizeof(p.full_path), "GROUP/Name");
	assert_int_equal(gg_store_project_create(f->st, &p), GG_EEXISTS);
	assert_string_equal(gg_store_errmsg(f->st), "Path has already been taken");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&p, 0, sizeof(p));
		snprintf(p.full_path, sizeof(p.full_path), "%s", bad[i]);
		assert_int_equal(gg_store_project_create(f->st, &p), GG_EINVALID);
	}
	memset(&p, 0, sizeof(p));
	snprintf(p.full_path, sizeof(p.full_path), "group/other");
	snprintf(p.default_branch, sizeof(p.default_branch), "bad..branch");
	assert_int_equal(gg_store_project_create(f->st, &p), GG_EINVALID);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM projects"), 1);
}

static void test_project_delete_removes_dependents(void **state)
{
	struct fixture *f = *state;
	int64_t uid = make_user(f->st, "lee", NULL);
	int64_t pid = make_project(f->st, "group/doomed");
	struct gg_protected_branch pb;

	assert_int_equal(gg_store_member_set(f->st, pid, uid, GG_ACCESS_OWNER), GG_OK);
	memset(&pb, 0, sizeof(pb));
	pb.project_id = pid;
	pb.push_access_level = GG_ACCESS_MAINTAINER;
	snprintf(pb.name, sizeof(pb.name), "main");
	assert_int_equal(gg_store_protected_branch_add(f->st, &pb), GG_OK);
	make_key(f->st, 0, pid, ED25519_TYPE, ED25519_B64);

	assert_int_equal(gg_store_project_delete(f->st, pid), GG_OK);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM members"), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM protected_branches"), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM keys"), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM users"), 1);
}

/* ---- members ---- */

static void test_members(void **state)
{
	struct fixture *f = *state;
	int64_t a = make_user(f->st, "mia", NULL), b = make_user(f->st, "ned", NULL);
	int64_t pid = make_project(f->st, "team/app");
	struct gg_member *list = NULL;
	size_t n = 0;
	int level = -1;

	assert_int_equal(gg_store_member_get_level(f->st, pid, a, &level), GG_OK);
	assert_int_equal(level, GG_ACCESS_NONE);
	assert_int_equal(gg_store_member_set(f->st, pid, a, GG_ACCESS_REPORTER), GG_OK);
	assert_int_equal(gg_store_member_set(f->st, pid, a, GG_ACCESS_MAINTAINER), GG_OK);
	assert_int_equal(gg_store_member_set(f->st, pid, b, GG_ACCESS_GUEST), GG_OK);
	assert_int_equal(gg_store_member_get_level(f->st, pid, a, &level), GG_OK);
	assert_int_equal(level, GG_ACCESS_MAINTAINER);

	assert_int_equal(gg_store_member_list(f->st, pid, &list, &n), GG_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].username, "mia");
	assert_int_equal(list[0].access_level, GG_ACCESS_MAINTAINER);
	assert_string_equal(list[1].username, "ned");
	free(list);

	assert_int_equal(gg_store_member_set(f->st, pid, a, 35), GG_EINVALID);
	assert_int_equal(gg_store_member_set(f->st, pid, 9999, GG_ACCESS_GUEST), GG_ENOTFOUND);
	assert_int_equal(gg_store_member_set(f->st, 9999, a, GG_ACCESS_GUEST), GG_ENOTFOUND);

	assert_int_equal(gg_store_member_remove(f->st, pid, a), GG_OK);
	assert_int_equal(gg_store_member_remove(f->st, pid, a), GG_ENOTFOUND);
	assert_int_equal(gg_store_member_get_level(f->st, pid, a, &level), GG_OK);
	assert_int_equal(level, GG_ACCESS_NONE);
}

/* ---- protected branches ---- */

static void test_protected_branches(void **state)
{
	struct fixture *f = *state;
	int64_t pid = make_project(f->st, "team/lib");
	struct gg_protected_branch pb, *list = NULL;
	size_t n = 0;

	memset(&pb, 0, sizeof(pb));
	pb.project_id = pid;
	snprintf(pb.name, sizeof(pb.name), "main");
	pb.push_access_level = GG_ACCESS_MAINTAINER;
	assert_int_equal(gg_store_protected_branch_add(f->st, &pb), GG_OK);
	assert_true(pb.id > 0);
	assert_int_equal(gg_store_protected_branch_add(f->st, &pb), GG_EEXISTS);
	snprintf(pb.name, sizeof(pb.name), "release/*");
	pb.push_access_level = GG_ACCESS_NO_ONE;
	assert_int_equal(gg_store_protected_branch_add(f->st, &pb), GG_OK);
	pb.push_access_level = GG_ACCESS_OWNER;
	snprintf(pb.name, sizeof(pb.name), "other");
	assert_int_equal(gg_store_protected_branch_add(f->st, &pb), GG_EINVALID);
	pb.push_access_level = GG_ACCESS_DEVELOPER;
	pb.project_id = 9999;
	assert_int_equal(gg_store_protected_branch_add(f->st, &pb), GG_ENOTFOUND);

	assert_int_equal(gg_store_protected_branch_list(f->st, pid, &list, &n), GG_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "main");
	assert_int_equal(list[0].push_access_level, GG_ACCESS_MAINTAINER);
	assert_string_equal(list[1].name, "release/*");
	assert_int_equal(list[1].push_access_level, GG_ACCESS_NO_ONE);
	free(list);

	assert_int_equal(gg_store_protected_branch_delete(f->st, pid, "main"), GG_OK);
	assert_int_equal(gg_store_protected_branch_delete(f->st, pid, "main"), GG_ENOTFOUND);
}

/* ---- tokens ---- */

static void test_token_create_find_list_revoke(void **state)
{
	struct fixture *f = *state;
	int64_t uid = make_user(f->st, "oli", NULL);
	struct gg_token t, got, *list = NULL;
	char *secret = NULL, sql[256], digest[65];
	size_t n = 0;

	memset(&t, 0, sizeof(t));
	t.user_id = uid;
	snprintf(t.name, sizeof(t.name), "ci");
	snprintf(t.scopes, sizeof(t.scopes), "api,read_api");
	assert_int_equal(gg_store_token_create(f->st, &t, &secret), GG_OK);
	assert_non_null(secret);
	assert_true(t.id > 0);
	assert_int_equal(strlen(secret), 26);
	assert_memory_equal(secret, "glpat-", 6);
	for (size_t i = 6; i < 26; i++)
		assert_non_null(strchr(
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", secret[i]));

	/* only the digest is stored */
	gg_sha256_hex(digest, secret, strlen(secret));
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM tokens WHERE digest = '%s'", digest);
	assert_int_equal(count_rows(f, sql), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM tokens WHERE digest LIKE '%%%s%%'",
		 secret + 6);
	assert_int_equal(count_rows(f, sql), 0);

	assert_int_equal(gg_store_token_find(f->st, secret, &got), GG_OK);
	assert_int_equal(got.id, t.id);
	assert_int_equal(got.user_id, uid);
	assert_string_equal(got.scopes, "api,read_api");
	assert_string_equal(got.name, "ci");
	assert_true(got.last_used_at >= gg_now() - 5);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM tokens WHERE last_used_at > 0");
	assert_int_equal(count_rows(f, sql), 1);

	assert_int_equal(gg_store_token_list_for_user(f->st, uid, &list, &n), GG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].id, t.id);
	free(list);

	assert_int_equal(gg_store_token_revoke(f->st, t.id), GG_OK);
	assert_int_equal(gg_store_token_find(f->st, secret, &got), GG_ENOTFOUND);
	assert_int_equal(gg_store_token_revoke(f->st, 9999), GG_ENOTFOUND);
	free(secret);
}

static void test_token_find_rejects_wrong_expired_revoked(void **state)
{
	struct fixture *f = *state;
	int64_t uid = make_user(f->st, "pat", NULL);
	struct gg_token t, got;
	char *expired = NULL, *live = NULL;

	memset(&t, 0, sizeof(t));
	t.user_id = uid;
	snprintf(t.scopes, sizeof(t.scopes), "api");
	t.expires_at = gg_now() - 1;
	assert_int_equal(gg_store_token_create(f->st, &t, &expired), GG_OK);
	t.expires_at = gg_now() + 3600;
	assert_int_equal(gg_store_token_create(f->st, &t, &live), GG_OK);

	assert_int_equal(gg_store_token_find(f->st, expired, &got), GG_ENOTFOUND);
	assert_int_equal(gg_store_token_find(f->st, live, &got), GG_OK);
	assert_int_equal(gg_store_token_find(f->st, "glpat-wrongwrongwrongwrong", &got),
			 GG_ENOTFOUND);
	assert_int_equal(gg_store_token_find(f->st, "", &got), GG_ENOTFOUND);
	assert_int_equal(gg_store_token_find(f->st, NULL, &got), GG_ENOTFOUND);
	live[strlen(live) - 1] ^= 1;
	assert_int_equal(gg_store_token_find(f->st, live, &got), GG_ENOTFOUND);
	free(expired);
	free(live);
}

static void test_token_invalid_and_other_kinds(void **state)
{
	struct fixture *f = *state;
	int64_t uid = make_user(f->st, "quinn", NULL);
	struct gg_token t, got;
	char *secret = NULL;

	memset(&t, 0, sizeof(t));
	t.user_id = uid;
	assert_int_equal(gg_store_token_create(f->st, &t, &secret), GG_EINVALID); /* no scopes */
	snprintf(t.scopes, sizeof(t.scopes), "api,,x");
	assert_int_equal(gg_store_token_create(f->st, &t, &secret), GG_EINVALID);
	snprintf(t.scopes, sizeof(t.scopes), "api");
	t.user_id = 9999;
	assert_int_equal(gg_store_token_create(f->st, &t, &secret), GG_ENOTFOUND);
	assert_null(secret);

	t.user_id = uid;
	t.kind = GG_TOKEN_SESSION;
	t.scopes[0] = '\0';
	assert_int_equal(gg_store_token_create(f->st, &t, &secret), GG_OK);
	assert_int_equal(strlen(secret), 40);
	assert_int_equal(gg_store_token_find(f->st, secret, &got), GG_OK);
	assert_int_equal(got.kind, GG_TOKEN_SESSION);
	free(secret);
}

/* ---- settings and audit ---- */

static void test_settings_update_writes_audit_events(void **state)
{
	struct fixture *f = *state;
	struct gg_settings s;
	struct gg_audit_event *ev = NULL;
	size_t n = 0;

	assert_int_equal(gg_store_settings_get(f->st, &s), GG_OK);
	assert_false(s.maintenance_mode);
	assert_string_equal(s.maintenance_mode_message, "");

	s.maintenance_mode = true;
	snprintf(s.maintenance_mode_message, sizeof(s.maintenance_mode_message), "Back at 10:00");
	assert_int_equal(gg_store_settings_update(f->st, &s, 0, "gatectl (uid 1000)"), GG_OK);
	assert_int_equal(gg_store_settings_get(f->st, &s), GG_OK);
	assert_true(s.maintenance_mode);
	assert_string_equal(s.maintenance_mode_message, "Back at 10:00");
	assert_true(s.updated_at > 0);

	assert_int_equal(gg_store_audit_list(f->st, 0, &ev, &n), GG_OK);
	assert_int_equal(n, 2);
	/* newest first */
	assert_string_equal(ev[0].target, "maintenance_mode_message");
	assert_string_equal(ev[0].old_value, "");
	assert_string_equal(ev[0].new_value, "Back at 10:00");
	assert_string_equal(ev[1].action, "settings.update");
	assert_string_equal(ev[1].target, "maintenance_mode");
	assert_string_equal(ev[1].old_value, "false");
	assert_string_equal(ev[1].new_value, "true");
	assert_string_equal(ev[1].actor, "gatectl (uid 1000)");
	assert_int_equal(ev[1].actor_id, 0);
	assert_true(ev[0].id > ev[1].id);
	free(ev);

	/* unchanged values write nothing */
	assert_int_equal(gg_store_settings_update(f->st, &s, 0, "again"), GG_OK);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM audit_events"), 2);

	s.maintenance_mode = false;
	assert_int_equal(gg_store_settings_update(f->st, &s, 7, "root"), GG_OK);
	assert_int_equal(gg_store_audit_list(f->st, 1, &ev, &n), GG_OK);
	assert_int_equal(n, 1);
	assert_string_equal(ev[0].target, "maintenance_mode");
	assert_string_equal(ev[0].new_value, "false");
	assert_int_equal(ev[0].actor_id, 7);
	free(ev);
}

static void test_settings_seen_fresh_by_another_connection(void **state)
{
	struct fixture *f = *state;
	struct gg_store *other;
	struct gg_settings s;
	char err[256];

	assert_int_equal(gg_store_open(&other, f->url, err, sizeof(err)), GG_OK);
	assert_int_equal(gg_store_settings_get(other, &s), GG_OK);
	assert_false(s.maintenance_mode);
	set_maintenance(f->st, true, "x");
	assert_int_equal(gg_store_settings_get(other, &s), GG_OK);
	assert_true(s.maintenance_mode);
	assert_string_equal(s.maintenance_mode_message, "x");
	gg_store_close(other);
}

/* A read snapshot sees one state throughout, and the newest one after it ends,
 * also when another connection is opened and closed meanwhile. */
static void test_read_snapshot_is_consistent(void **state)
{
	struct fixture *f = *state;
	struct gg_store *reader, *third;
	struct gg_settings s;
	char err[256];

	assert_int_equal(gg_store_open(&reader, f->url, err, sizeof(err)), GG_OK);
	assert_int_equal(gg_store_read_begin(reader), GG_OK);
	assert_int_equal(gg_store_read_begin(reader), GG_EINVALID);
	assert_int_equal(gg_store_settings_get(reader, &s), GG_OK);
	assert_false(s.maintenance_mode);
	set_maintenance(f->st, true, "snap");
	assert_int_equal(gg_store_open(&third, f->url, err, sizeof(err)), GG_OK);
	gg_store_close(third);
	assert_int_equal(gg_store_settings_get(reader, &s), GG_OK);
	assert_false(s.maintenance_mode);
	gg_store_read_end(reader);
	assert_int_equal(gg_store_settings_get(reader, &s), GG_OK);
	assert_true(s.maintenance_mode);
	set_maintenance(f->st, false, "");
	assert_int_equal(gg_store_settings_get(reader, &s), GG_OK);
	assert_false(s.maintenance_mode);
	gg_store_close(reader);
}

/* A use recorded during a snapshot (as /allowed records a key's) becomes
 * visible to others when the snapshot ends, not before, and does not
 * disturb the snapshot. */
static void test_key_touch_in_snapshot_lands_after_read_end(void **state)
{
	struct fixture *f = *state;
	int64_t uid = make_user(f->st, "ivy", NULL);
	int64_t kid = make_key(f->st, uid, 0, ED25519_TYPE, ED25519_B64);
	struct gg_settings s;

	assert_int_equal(gg_store_read_begin(f->st), GG_OK);
	assert_int_equal(gg_store_key_touch(f->st, kid), GG_OK);
	assert_int_equal(gg_store_settings_get(f->st, &s), GG_OK);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM keys WHERE last_used_at > 0"), 0);
	gg_store_read_end(f->st);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM keys WHERE last_used_at > 0"), 1);
}

struct opener {
	const char *url;
	int ret;
};

static void *open_store_thread(void *arg)
{
	struct opener *o = arg;
	struct gg_store *st = NULL;
	char err[256];

	o->ret = gg_store_open(&st, o->url, err, sizeof(err));
	if (o->ret != GG_OK)
		fprintf(stderr, "open: %s\n", err);
	gg_store_close(st);
	return NULL;
}

/* Nodes starting together on a new database apply each migration once. */
static void test_concurrent_opens_migrate_once(void **state)
{
	struct fixture *f = *state;
	struct opener o[4];
	pthread_t t[4];

	gg_store_close(f->st);
	f->st = NULL;
	if (f->pg)
		assert_int_equal(
		    pg_exec(f->url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public"), 0);
	else
		assert_int_equal(unlink(f->path), 0);
	for (int i = 0; i < 4; i++) {
		o[i].url = f->url;
		assert_int_equal(pthread_create(&t[i], NULL, open_store_thread, &o[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(o[i].ret, GG_OK);
	}
	assert_int_equal(count_rows(f, "SELECT count(*) FROM schema_migrations"), SCHEMA_VERSION);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM application_settings"), 1);
}

/* A hot standby (here: a database whose transactions are read-only) serves
 * reads, and refuses writes with GG_EREADONLY, not a generic error. */
static void test_pg_read_only_database_refuses_writes(void **state)
{
	struct fixture *f = *state;
	struct gg_store *ro;
	struct gg_settings s;
	struct gg_user u, got;
	char err[256];

	if (!f->pg)
		return; /* SQLite: a read-only file is covered by db_error's mapping */
	make_user(f->st, "jack", NULL);
	assert_int_equal(pg_exec(f->url, "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET"
					 " default_transaction_read_only = on',"
					 " current_database()); END $$"),
			 0);
	assert_int_equal(gg_store_open(&ro, f->url, err, sizeof(err)), GG_OK);
	assert_int_equal(gg_store_user_get_by_username(ro, "JACK", &got), GG_OK);
	assert_int_equal(gg_store_read_begin(ro), GG_OK);
	assert_int_equal(gg_store_settings_get(ro, &s), GG_OK);
	gg_store_read_end(ro);
	memset(&u, 0, sizeof(u));
	snprintf(u.username, sizeof(u.username), "kate");
	snprintf(u.email, sizeof(u.email), "kate@example.com");
	assert_int_equal(gg_store_user_create(ro, &u, NULL), GG_EREADONLY);
	memset(&s, 0, sizeof(s));
	s.maintenance_mode = true;
	assert_int_equal(gg_store_settings_update(ro, &s, 0, "test"), GG_EREADONLY);
	assert_int_equal(gg_store_user_set_admin(ro, got.id, true), GG_EREADONLY);
	assert_non_null(strstr(gg_store_errmsg(ro), "read-only"));
	gg_store_close(ro);
	{
		/* one statement per PQexec: a multi-statement string is one transaction,
		 * read-only before its SET could take effect */
		PGconn *conn = PQconnectdb(f->url);
		PGresult *res;

		PQclear(PQexec(conn, "SET default_transaction_read_only = off"));
		res = PQexec(conn, "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET"
				   " default_transaction_read_only', current_database()); END $$");
		assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
		PQclear(res);
		PQfinish(conn);
	}
}

/* A connection the server dropped fails one call with a clear message, and
 * the next call reconnects. */
static void test_pg_reconnects_after_the_server_drops_the_connection(void **state)
{
	struct fixture *f = *state;
	struct gg_settings s;
	int ret;

	if (!f->pg)
		return; /* SQLite has no connection to lose */
	assert_int_equal(gg_store_settings_get(f->st, &s), GG_OK);
	assert_true(pg_exec(f->url,
			    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
			    " WHERE pid <> pg_backend_pid() AND datname = current_database()") >=
		    1);
	ret = gg_store_settings_get(f->st, &s);
	if (ret != GG_OK) {
		assert_int_equal(ret, GG_ERROR);
		assert_non_null(strstr(gg_store_errmsg(f->st), "PostgreSQL"));
	}
	assert_int_equal(gg_store_settings_get(f->st, &s), GG_OK);
	make_user(f->st, "leo", NULL);
}

static void test_audit_add_and_list(void **state)
{
	struct fixture *f = *state;
	struct gg_audit_event e, *ev = NULL;
	size_t n = 0;

	for (int i = 0; i < 3; i++) {
		memset(&e, 0, sizeof(e));
		e.actor_id = 1;
		snprintf(e.actor, sizeof(e.actor), "root");
		snprintf(e.action, sizeof(e.action), "project.create");
		snprintf(e.target, sizeof(e.target), "group/p%d", i);
		assert_int_equal(gg_store_audit_add(f->st, &e), GG_OK);
		assert_true(e.id > 0);
		assert_true(e.created_at > 0);
	}
	memset(&e, 0, sizeof(e));
	assert_int_equal(gg_store_audit_add(f->st, &e), GG_EINVALID);
	assert_int_equal(gg_store_audit_list(f->st, 2, &ev, &n), GG_OK);
	assert_int_equal(n, 2);
	assert_string_equal(ev[0].target, "group/p2");
	assert_string_equal(ev[1].target, "group/p1");
	free(ev);
}

/* ---- maintenance windows, exemptions, writes in flight (SPEC §7) ---- */

static void test_window_in_force_turns_maintenance_on(void **state)
{
	struct fixture *f = *state;
	struct gg_maintenance_window w = {0}, *list = NULL;
	struct gg_settings s;
	int64_t now = gg_now();
	size_t n = 0;

	assert_int_equal(gg_store_settings_get(f->st, &s), GG_OK);
	assert_int_equal(s.window_state, GG_WINDOW_NONE);
	w.start_at = now + 3600;
	w.end_at = now + 7200;
	w.notice = 600;
	assert_int_equal(gg_store_window_add(f->st, &w, 0, "test"), GG_OK);
	assert_int_equal(gg_store_settings_get(f->st, &s), GG_OK);
	assert_int_equal(s.window_state, GG_WINDOW_SCHEDULED);
	assert_false(s.maintenance_mode);
	assert_int_equal(gg_store_window_cancel(f->st, w.id, 0, "test"), GG_OK);
	assert_int_equal(gg_store_window_cancel(f->st, w.id, 0, "test"), GG_ENOTFOUND);

	memset(&w, 0, sizeof(w));
	w.start_at = now + 60;
	w.end_at = now + 120;
	w.notice = 600;
	assert_int_equal(gg_store_window_add(f->st, &w, 0, "test"), GG_OK);
	assert_int_equal(gg_store_settings_get(f->st, &s), GG_OK);
	assert_int_equal(s.window_state, GG_WINDOW_ANNOUNCED);
	assert_int_equal(s.window.id, w.id);
	assert_false(s.maintenance_mode);

	memset(&w, 0, sizeof(w));
	w.start_at = now - 10;
	w.end_at = now + 3600;
	snprintf(w.message, sizeof(w.message), "upgrade");
	assert_int_equal(gg_store_window_add(f->st, &w, 0, "test"), GG_OK);
	assert_int_equal(gg_store_settings_get(f->st, &s), GG_OK);
	assert_int_equal(s.window_state, GG_WINDOW_ACTIVE);
	assert_true(s.maintenance_mode);
	assert_false(s.maintenance_switch);
	assert_string_equal(s.window.message, "upgrade");

	/* Writing back what was read keeps the switch off: the window stays a window. */
	assert_int_equal(gg_store_settings_update(f->st, &s, 0, "test"), GG_OK);
	assert_int_equal(gg_store_settings_get(f->st, &s), GG_OK);
	assert_false(s.maintenance_switch);
	/* Switching on during the window sets the switch. */
	s.maintenance_switch = true;
	assert_int_equal(gg_store_settings_update(f->st, &s, 0, "test"), GG_OK);
	assert_int_equal(gg_store_settings_get(f->st, &s), GG_OK);
	assert_true(s.maintenance_switch);

	assert_int_equal(gg_store_window_list(f->st, false, &list, &n), GG_OK);
	assert_int_equal(n, 2); /* the cancelled one is left out */
	assert_int_equal(list[0].start_at, now - 10);
	free(list);

	memset(&w, 0, sizeof(w));
	w.start_at = now - 100;
	w.end_at = now - 50;
	assert_int_equal(gg_store_window_add(f->st, &w, 0, "test"), GG_EINVALID);
	w.end_at = now + 100;
	w.start_at = now + 200;
	assert_int_equal(gg_store_window_add(f->st, &w, 0, "test"), GG_EINVALID);
}

static void test_window_start_recorded_once(void **state)
{
	struct fixture *f = *state;
	struct gg_maintenance_window w = {0}, *list = NULL;
	struct gg_audit_event e = {0};
	size_t n = 0;

	w.start_at = gg_now() - 1;
	w.end_at = gg_now() + 60;
	assert_int_equal(gg_store_window_add(f->st, &w, 0, "test"), GG_OK);
	snprintf(e.action, sizeof(e.action), "maintenance.window_start");
	assert_int_equal(gg_store_window_record(f->st, w.id, "start", &e), GG_OK);
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "maintenance.window_start");
	assert_int_equal(gg_store_window_record(f->st, w.id, "start", &e), GG_EEXISTS);
	assert_int_equal(gg_store_window_record(f->st, w.id, "middle", &e), GG_EINVALID);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM audit_events"
				       " WHERE action = 'maintenance.window_start'"),
			 1);
	assert_int_equal(gg_store_window_list(f->st, true, &list, &n), GG_OK);
	assert_int_equal(n, 1);
	assert_true(list[0].start_recorded);
	assert_false(list[0].end_recorded);
	free(list);
}

static void test_exemptions_add_list_remove(void **state)
{
	struct fixture *f = *state;
	struct gg_exemption *ex = NULL;
	size_t n = 0;

	assert_int_equal(gg_store_exemption_list(f->st, &ex, &n), GG_OK);
	assert_int_equal(n, 0);
	free(ex);
	assert_int_equal(gg_store_exemption_add(f->st, GG_EXEMPT_CIDR, "10.0.0.0/8", 0, "t"),
			 GG_OK);
	assert_int_equal(gg_store_exemption_add(f->st, GG_EXEMPT_CIDR, "10.0.0.0/8", 0, "t"),
			 GG_EEXISTS);
	assert_int_equal(gg_store_exemption_add(f->st, GG_EXEMPT_CIDR, "2001:db8::/32", 0, "t"),
			 GG_OK);
	assert_int_equal(gg_store_exemption_add(f->st, GG_EXEMPT_CIDR, "10.0.0.0/33", 0, "t"),
			 GG_EINVALID);
	assert_int_equal(gg_store_exemption_add(f->st, GG_EXEMPT_USER, "release-bot", 0, "t"),
			 GG_OK);
	assert_int_equal(gg_store_exemption_add(f->st, GG_EXEMPT_USER, "Release-Bot", 0, "t"),
			 GG_EEXISTS);
	assert_int_equal(gg_store_exemption_add(f->st, GG_EXEMPT_USER, "no spaces", 0, "t"),
			 GG_EINVALID);
	assert_int_equal(gg_store_exemption_list(f->st, &ex, &n), GG_OK);
	assert_int_equal(n, 3);
	assert_int_equal(ex[2].kind, GG_EXEMPT_USER);
	assert_string_equal(ex[2].value, "release-bot");
	free(ex);
	assert_int_equal(gg_store_exemption_remove(f->st, GG_EXEMPT_USER, "release-bot", 0, "t"),
			 GG_OK);
	assert_int_equal(gg_store_exemption_remove(f->st, GG_EXEMPT_USER, "release-bot", 0, "t"),
			 GG_ENOTFOUND);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM audit_events"
				       " WHERE action LIKE 'maintenance.exempt%'"),
			 4); /* three added, one removed */
}

static void test_writes_in_flight(void **state)
{
	struct fixture *f = *state;
	struct gg_write_in_flight w = {0}, *list = NULL;
	size_t n = 0;

	snprintf(w.request_id, sizeof(w.request_id), "abc");
	snprintf(w.project, sizeof(w.project), "g/p");
	w.started_at = gg_now();
	w.expires_at = gg_now() + 3600;
	assert_int_equal(gg_store_write_begin(f->st, &w), GG_OK);
	assert_int_equal(gg_store_write_begin(f->st, &w), GG_OK); /* replaced, not doubled */
	snprintf(w.request_id, sizeof(w.request_id), "expired");
	w.expires_at = gg_now() - 1;
	assert_int_equal(gg_store_write_begin(f->st, &w), GG_OK);
	assert_int_equal(gg_store_write_list(f->st, &list, &n), GG_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].request_id, "abc");
	assert_string_equal(list[0].project, "g/p");
	free(list);
	assert_int_equal(gg_store_write_end(f->st, "abc"), GG_OK);
	assert_int_equal(gg_store_write_end(f->st, "abc"), GG_ENOTFOUND);
	assert_int_equal(gg_store_write_list(f->st, &list, &n), GG_OK);
	assert_int_equal(n, 0);
	free(list);
}

/* A push moves the project's push generation and ends its write in flight,
 * in one call; an unknown project changes nothing. */
static void test_project_pushed(void **state)
{
	struct fixture *f = *state;
	struct gg_write_in_flight w = {0}, *list = NULL;
	struct gg_project p, *all = NULL;
	int64_t id = make_project(f->st, "g/pushed"), other = make_project(f->st, "g/quiet");
	int64_t seq = -1;
	size_t n = 0;

	assert_int_equal(gg_store_project_get(f->st, id, &p), GG_OK);
	assert_int_equal(p.pushed_seq, 0);
	assert_int_equal(p.pushed_at, 0);
	snprintf(w.request_id, sizeof(w.request_id), "push-1");
	w.started_at = gg_now();
	w.expires_at = gg_now() + 3600;
	assert_int_equal(gg_store_write_begin(f->st, &w), GG_OK);
	assert_int_equal(gg_store_project_pushed(f->st, id, "push-1", &seq), GG_OK);
	assert_int_equal(seq, 1);
	assert_int_equal(gg_store_write_list(f->st, &list, &n), GG_OK);
	assert_int_equal(n, 0); /* the write in flight ended with it */
	free(list);
	assert_int_equal(gg_store_project_pushed(f->st, id, NULL, &seq), GG_OK);
	assert_int_equal(seq, 2);
	assert_int_equal(gg_store_project_pushed(f->st, id, "never-began", NULL), GG_OK);
	assert_int_equal(gg_store_project_get_by_path(f->st, "g/pushed", &p), GG_OK);
	assert_int_equal(p.pushed_seq, 3);
	assert_true(p.pushed_at >= w.started_at);
	assert_int_equal(gg_store_project_pushed(f->st, 999999, NULL, &seq), GG_ENOTFOUND);
	assert_int_equal(gg_store_project_list(f->st, &all, &n), GG_OK);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(all[i].pushed_seq, all[i].id == other ? 0 : 3);
	free(all);
}

/* Failed sign-ins counted in the database: every connection sees them. */
static void test_signin_failures_shared(void **state)
{
	struct fixture *f = *state;
	struct gg_store *other;
	char err[256];
	bool out = true;

	assert_int_equal(gg_store_open(&other, f->url, err, sizeof(err)), GG_OK);
	assert_int_equal(gg_store_signin_check(f->st, "u:ann", "i:10.0.0.1", 600, 3, 5, &out),
			 GG_OK);
	assert_false(out);
	/* two failures on one connection, one on the other: the login's limit */
	assert_int_equal(gg_store_signin_failed(f->st, "u:ann", "i:10.0.0.1", 600), GG_OK);
	assert_int_equal(gg_store_signin_failed(other, "u:ann", "i:10.0.0.2", 600), GG_OK);
	assert_int_equal(gg_store_signin_check(other, "u:ann", "i:10.0.0.9", 600, 3, 5, &out),
			 GG_OK);
	assert_false(out);
	assert_int_equal(gg_store_signin_failed(f->st, "u:ann", "i:10.0.0.1", 600), GG_OK);
	assert_int_equal(gg_store_signin_check(other, "u:ann", "i:10.0.0.9", 600, 3, 5, &out),
			 GG_OK);
	assert_true(out);
	/* the address's limit, whatever the login */
	assert_int_equal(gg_store_signin_check(other, "u:bob", "i:10.0.0.1", 600, 3, 2, &out),
			 GG_OK);
	assert_true(out);
	assert_int_equal(gg_store_signin_check(other, "u:bob", "i:10.0.0.2", 600, 3, 2, &out),
			 GG_OK);
	assert_false(out);
	/* a success clears the login, not the addresses */
	assert_int_equal(gg_store_signin_clear(other, "u:ann"), GG_OK);
	assert_int_equal(gg_store_signin_check(f->st, "u:ann", "i:10.0.0.9", 600, 3, 5, &out),
			 GG_OK);
	assert_false(out);
	assert_int_equal(count_rows(f, "SELECT failures FROM signin_failures"
				       " WHERE key = 'i:10.0.0.1'"),
			 2);
	/* outside the window nothing counts, and the next failure prunes them */
	assert_int_equal(gg_store_signin_check(f->st, "u:x", "i:10.0.0.1", 0, 3, 1, &out), GG_OK);
	assert_false(out);
	assert_int_equal(gg_store_signin_failed(f->st, "u:x", "i:10.0.0.3", 0), GG_OK);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM signin_failures"), 2);
	gg_store_close(other);
}

/* A version-2 database (before push generations and shared sign-in
 * failures) is upgraded in place when opened, its rows kept. */
static void test_upgrade_from_version_2(void **state)
{
	struct fixture *f = *state;
	struct gg_project p;
	char err[256];
	int64_t id = make_project(f->st, "old/app");
	int version = 0;

	make_user(f->st, "olduser", NULL);
	gg_store_close(f->st);
	f->st = NULL;
	/* back to the schema of migration 2 */
	exec_sql(f, "DROP TABLE signin_failures");
	exec_sql(f, "ALTER TABLE projects DROP COLUMN pushed_seq");
	exec_sql(f, "ALTER TABLE projects DROP COLUMN pushed_at");
	exec_sql(f, "DELETE FROM schema_migrations WHERE version = 3");
	assert_int_equal(count_rows(f, "SELECT max(version) FROM schema_migrations"), 2);
	assert_int_equal(gg_store_open(&f->st, f->url, err, sizeof(err)), GG_OK);
	assert_int_equal(gg_store_schema_version(f->st, &version), GG_OK);
	assert_int_equal(version, SCHEMA_VERSION);
	assert_int_equal(gg_store_project_get(f->st, id, &p), GG_OK);
	assert_string_equal(p.full_path, "old/app");
	assert_int_equal(p.pushed_seq, 0);
	assert_int_equal(gg_store_project_pushed(f->st, id, NULL, NULL), GG_OK);
	assert_int_equal(
	    count_rows(f, "SELECT pushed_seq FROM projects WHERE full_path = 'old/app'"), 1);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM users WHERE username = 'olduser'"), 1);
	assert_int_equal(gg_store_signin_failed(f->st, "u:olduser", "i:::1", 600), GG_OK);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_migrations_applied_once_and_idempotent_on_reopen),
	    T(test_window_in_force_turns_maintenance_on),
	    T(test_window_start_recorded_once),
	    T(test_exemptions_add_list_remove),
	    T(test_writes_in_flight),
	    T(test_project_pushed),
	    T(test_signin_failures_shared),
	    T(test_upgrade_from_version_2),
	    T(test_database_is_private_and_in_wal_mode),
	    cmocka_unit_test(test_open_dispatches_postgres_and_refuses_unknown_urls),
	    T(test_user_create_get_list_delete),
	    T(test_user_unique_username_and_email),
	    T(test_user_invalid_fields_refused),
	    T(test_user_create_refused_in_maintenance_mode),
	    T(test_user_block_admin_and_password),
	    T(test_user_authenticate_right_and_wrong),
	    T(test_user_delete_removes_dependents),
	    T(test_key_add_get_list_delete),
	    T(test_key_unique_fingerprint_and_invalid_keys),
	    T(test_deploy_keys),
	    T(test_project_create_get_list_update_delete),
	    T(test_project_unique_path_and_invalid_paths),
	    T(test_project_delete_removes_dependents),
	    T(test_members),
	    T(test_protected_branches),
	    T(test_token_create_find_list_revoke),
	    T(test_token_find_rejects_wrong_expired_revoked),
	    T(test_token_invalid_and_other_kinds),
	    T(test_settings_update_writes_audit_events),
	    T(test_settings_seen_fresh_by_another_connection),
	    T(test_read_snapshot_is_consistent),
	    T(test_audit_add_and_list),
	    T(test_key_touch_in_snapshot_lands_after_read_end),
	    T(test_concurrent_opens_migrate_once),
	    T(test_pg_read_only_database_refuses_writes),
	    T(test_pg_reconnects_after_the_server_drops_the_connection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
