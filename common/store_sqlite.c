/*
 * store_sqlite.c - the SQLite backend of store.h, the default store.
 *
 * One struct sqlite_store is one connection, used by one thread at a time.
 * Several processes (gate-api, gatectl, hooks) share the file safely: the
 * database runs in WAL mode so readers never wait for the writer, waits for a
 * lock are bounded by busy_timeout, and every write that takes more than one
 * statement runs in a BEGIN IMMEDIATE transaction, so it holds the write
 * lock from the start instead of failing to upgrade a read lock midway.
 *
 * The lookups made on every /internal/allowed request (key by id or
 * fingerprint, project by path, member level, settings, token) are single
 * indexed SELECTs on statements prepared once per connection and reset after
 * each use.  Reads never write, except that a token's or key's last_used_at
 * moves at most once a minute, so a busy key costs one write a minute, not one
 * per request.
 *
 * Schema changes are numbered migrations; opening a store applies the missing
 * ones in one transaction, recorded in schema_migrations(version).
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "messages.h"
#include "password.h"
#include "repo.h"
#include "sshkey.h"
#include "store_valid.h"
#include "util.h"

#define BUSY_TIMEOUT_MS 5000
/* last_used_at of keys and tokens is written at most this often. */
#define TOUCH_INTERVAL 60

/* ---- schema ---- */

static const char *const migrations[] = {
    /* 1: the data model of SPEC §2.  AUTOINCREMENT: an id is never reused,
     * since "key-N", "user-N" and "project-N" name rows outside the
     * database (forced commands, hooks, logs). */
    "CREATE TABLE users ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " username TEXT NOT NULL COLLATE NOCASE UNIQUE,"
    " name TEXT NOT NULL DEFAULT '',"
    " email TEXT NOT NULL COLLATE NOCASE UNIQUE,"
    " admin INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),"
    " state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'blocked')),"
    " password_hash TEXT,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE projects ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " full_path TEXT NOT NULL COLLATE NOCASE UNIQUE,"
    " name TEXT NOT NULL,"
    " visibility INTEGER NOT NULL DEFAULT 0 CHECK (visibility IN (0, 10, 20)),"
    " default_branch TEXT NOT NULL DEFAULT 'main',"
    " read_only INTEGER NOT NULL DEFAULT 0 CHECK (read_only IN (0, 1)),"
    " read_only_message TEXT NOT NULL DEFAULT '',"
    " repo_path TEXT NOT NULL,"
    " creator_id INTEGER REFERENCES users(id) ON DELETE SET NULL,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE keys ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,"
    " project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,"
    " can_push INTEGER NOT NULL DEFAULT 0 CHECK (can_push IN (0, 1)),"
    " title TEXT NOT NULL DEFAULT '',"
    " type TEXT NOT NULL,"
    " blob TEXT NOT NULL,"
    " fingerprint TEXT NOT NULL UNIQUE,"
    " created_at INTEGER NOT NULL,"
    " last_used_at INTEGER NOT NULL DEFAULT 0,"
    " CHECK ((user_id IS NULL) <> (project_id IS NULL)));"
    "CREATE INDEX keys_user_id ON keys(user_id);"
    "CREATE INDEX keys_project_id ON keys(project_id);"
    "CREATE TABLE members ("
    " project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,"
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " access_level INTEGER NOT NULL CHECK (access_level IN (10, 20, 30, 40, 50)),"
    " PRIMARY KEY (project_id, user_id)) WITHOUT ROWID;"
    "CREATE INDEX members_user_id ON members(user_id);"
    "CREATE TABLE protected_branches ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL,"
    " push_access_level INTEGER NOT NULL CHECK (push_access_level IN (0, 30, 40)),"
    " UNIQUE (project_id, name));"
    "CREATE TABLE tokens ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " kind INTEGER NOT NULL DEFAULT 0 CHECK (kind IN (0, 1, 2)),"
    " name TEXT NOT NULL DEFAULT '',"
    " scopes TEXT NOT NULL DEFAULT '',"
    " digest TEXT NOT NULL UNIQUE,"
    " expires_at INTEGER NOT NULL DEFAULT 0,"
    " revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),"
    " created_at INTEGER NOT NULL,"
    " last_used_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX tokens_user_id ON tokens(user_id);"
    "CREATE TABLE application_settings ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " maintenance_mode INTEGER NOT NULL DEFAULT 0 CHECK (maintenance_mode IN (0, 1)),"
    " maintenance_mode_message TEXT NOT NULL DEFAULT '',"
    " updated_at INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO application_settings (id) VALUES (1);"
    /* No foreign key on actor_id: the trail outlives the users it names. */
    "CREATE TABLE audit_events ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " actor_id INTEGER NOT NULL DEFAULT 0,"
    " actor TEXT NOT NULL DEFAULT '',"
    " action TEXT NOT NULL,"
    " target TEXT NOT NULL DEFAULT '',"
    " old_value TEXT NOT NULL DEFAULT '',"
    " new_value TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL);",
    /* 2: SPEC §7: scheduled maintenance windows (each start and end recorded
     * once, whatever the number of nodes), exemptions, writes in flight. */
    "CREATE TABLE maintenance_windows ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " start_at INTEGER NOT NULL,"
    " end_at INTEGER NOT NULL,"
    " notice INTEGER NOT NULL DEFAULT 0 CHECK (notice >= 0),"
    " message TEXT NOT NULL DEFAULT '',"
    " cancelled INTEGER NOT NULL DEFAULT 0 CHECK (cancelled IN (0, 1)),"
    " created_by TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL,"
    " CHECK (end_at > start_at));"
    "CREATE INDEX maintenance_windows_end_at ON maintenance_windows(end_at);"
    "CREATE TABLE maintenance_window_events ("
    " window_id INTEGER NOT NULL REFERENCES maintenance_windows(id) ON DELETE CASCADE,"
    " kind TEXT NOT NULL CHECK (kind IN ('start', 'end')),"
    " created_at INTEGER NOT NULL,"
    " PRIMARY KEY (window_id, kind)) WITHOUT ROWID;"
    "CREATE TABLE maintenance_exemptions ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " kind INTEGER NOT NULL CHECK (kind IN (0, 1)),"
    " value TEXT NOT NULL COLLATE NOCASE,"
    " created_at INTEGER NOT NULL,"
    " UNIQUE (kind, value));"
    "CREATE TABLE writes_in_flight ("
    " request_id TEXT PRIMARY KEY,"
    " node TEXT NOT NULL DEFAULT '',"
    " project TEXT NOT NULL DEFAULT '',"
    " username TEXT NOT NULL DEFAULT '',"
    " started_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL) WITHOUT ROWID;",
    /* 3: a project's push generation, moved by every accepted push (a Geo
     * secondary fetches only the projects whose generation moved), and the
     * failed sign-ins of every node (the password-guessing limit). */
    "ALTER TABLE projects ADD COLUMN pushed_seq INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE projects ADD COLUMN pushed_at INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE signin_failures ("
    " key TEXT PRIMARY KEY,"
    " failures INTEGER NOT NULL,"
    " since INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX signin_failures_since ON signin_failures(since);",
};
#define MIGRATION_COUNT ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ---- prepared statements ---- */

#define USER_COLS "id, username, name, email, admin, state, created_at"
#define KEY_COLS                                                                                   \
	"id, user_id, project_id, can_push, title, type, blob, fingerprint, created_at, "          \
	"last_used_at"
#define PROJECT_COLS                                                                               \
	"id, full_path, name, visibility, default_branch, read_only, read_only_message, "          \
	"repo_path, creator_id, created_at, pushed_seq, pushed_at"
#define TOKEN_COLS "id, user_id, kind, name, scopes, expires_at, revoked, created_at, last_used_at"
#define PB_COLS	   "id, project_id, name, push_access_level"
#define AUDIT_COLS "id, actor_id, actor, action, target, old_value, new_value, created_at"
#define WINDOW_COLS                                                                                \
	"id, start_at, end_at, notice, message, cancelled, created_by, created_at,"                \
	" EXISTS (SELECT 1 FROM maintenance_window_events e WHERE e.window_id = w.id"              \
	" AND e.kind = 'start'), EXISTS (SELECT 1 FROM maintenance_window_events e"                \
	" WHERE e.window_id = w.id AND e.kind = 'end')"
#define WRITE_COLS "request_id, node, project, username, started_at, expires_at"

enum stmt_id {
	ST_BEGIN,
	ST_BEGIN_READ,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_USER_INSERT,
	ST_USER_GET,
	ST_USER_GET_BY_NAME,
	ST_USER_LIST,
	ST_USER_SET_STATE,
	ST_USER_SET_ADMIN,
	ST_USER_SET_PASSWORD,
	ST_USER_AUTH,
	ST_USER_DELETE_KEYS,
	ST_USER_DELETE_TOKENS,
	ST_USER_DELETE_MEMBERS,
	ST_USER_CLEAR_CREATOR,
	ST_USER_DELETE,
	ST_KEY_INSERT,
	ST_KEY_GET,
	ST_KEY_GET_BY_FP,
	ST_KEY_LIST_USER,
	ST_KEY_LIST_PROJECT,
	ST_KEY_DELETE,
	ST_KEY_TOUCH,
	ST_PROJECT_INSERT,
	ST_PROJECT_GET,
	ST_PROJECT_GET_BY_PATH,
	ST_PROJECT_LIST,
	ST_PROJECT_UPDATE,
	ST_PROJECT_DELETE_MEMBERS,
	ST_PROJECT_DELETE_BRANCHES,
	ST_PROJECT_DELETE_KEYS,
	ST_PROJECT_DELETE,
	ST_MEMBER_SET,
	ST_MEMBER_LEVEL,
	ST_MEMBER_LIST,
	ST_MEMBER_REMOVE,
	ST_PB_INSERT,
	ST_PB_LIST,
	ST_PB_DELETE,
	ST_TOKEN_INSERT,
	ST_TOKEN_FIND,
	ST_TOKEN_TOUCH,
	ST_TOKEN_LIST_USER,
	ST_TOKEN_REVOKE,
	ST_SETTINGS_GET,
	ST_SETTINGS_SET,
	ST_AUDIT_INSERT,
	ST_AUDIT_LIST,
	ST_WINDOW_INSERT,
	ST_WINDOW_LIST,
	ST_WINDOW_LIST_ALL,
	ST_WINDOW_CANCEL,
	ST_WINDOW_EVENT_INSERT,
	ST_EXEMPT_INSERT,
	ST_EXEMPT_DELETE,
	ST_EXEMPT_LIST,
	ST_WRITE_EXPIRE,
	ST_WRITE_INSERT,
	ST_WRITE_DELETE,
	ST_WRITE_LIST,
	ST_PROJECT_PUSHED,
	ST_SIGNIN_PRUNE,
	ST_SIGNIN_FAILED,
	ST_SIGNIN_CHECK,
	ST_SIGNIN_CLEAR,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_BEGIN_READ] = "BEGIN DEFERRED",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_USER_INSERT] = "INSERT INTO users (username, name, email, admin, state, password_hash,"
		       " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    [ST_USER_GET] = "SELECT " USER_COLS " FROM users WHERE id = ?",
    [ST_USER_GET_BY_NAME] = "SELECT " USER_COLS " FROM users WHERE username = ?",
    [ST_USER_LIST] = "SELECT " USER_COLS " FROM users ORDER BY id",
    [ST_USER_SET_STATE] = "UPDATE users SET state = ? WHERE id = ?",
    [ST_USER_SET_ADMIN] = "UPDATE users SET admin = ? WHERE id = ?",
    [ST_USER_SET_PASSWORD] = "UPDATE users SET password_hash = ? WHERE id = ?",
    [ST_USER_AUTH] = "SELECT " USER_COLS ", password_hash FROM users"
		     " WHERE username = ?1 OR email = ?1 LIMIT 1",
    [ST_USER_DELETE_KEYS] = "DELETE FROM keys WHERE user_id = ?",
    [ST_USER_DELETE_TOKENS] = "DELETE FROM tokens WHERE user_id = ?",
    [ST_USER_DELETE_MEMBERS] = "DELETE FROM members WHERE user_id = ?",
    [ST_USER_CLEAR_CREATOR] = "UPDATE projects SET creator_id = NULL WHERE creator_id = ?",
    [ST_USER_DELETE] = "DELETE FROM users WHERE id = ?",
    [ST_KEY_INSERT] = "INSERT INTO keys (user_id, project_id, can_push, title, type, blob,"
		      " fingerprint, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_KEY_GET] = "SELECT " KEY_COLS " FROM keys WHERE id = ?",
    [ST_KEY_GET_BY_FP] = "SELECT " KEY_COLS " FROM keys WHERE fingerprint = ?",
    [ST_KEY_LIST_USER] = "SELECT " KEY_COLS " FROM keys WHERE user_id = ? ORDER BY id",
    [ST_KEY_LIST_PROJECT] = "SELECT " KEY_COLS " FROM keys WHERE project_id = ? ORDER BY id",
    [ST_KEY_DELETE] = "DELETE FROM keys WHERE id = ?",
    [ST_KEY_TOUCH] = "UPDATE keys SET last_used_at = ?1 WHERE id = ?2 AND last_used_at <= ?1 - "
		     "60",
    [ST_PROJECT_INSERT] = "INSERT INTO projects (full_path, name, visibility, default_branch,"
			  " read_only, read_only_message, repo_path, creator_id, created_at)"
			  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_PROJECT_GET] = "SELECT " PROJECT_COLS " FROM projects WHERE id = ?",
    [ST_PROJECT_GET_BY_PATH] = "SELECT " PROJECT_COLS " FROM projects WHERE full_path = ?",
    [ST_PROJECT_LIST] = "SELECT " PROJECT_COLS " FROM projects ORDER BY full_path",
    [ST_PROJECT_UPDATE] = "UPDATE projects SET visibility = ?, default_branch = ?, read_only = ?,"
			  " read_only_message = ? WHERE id = ?",
    [ST_PROJECT_DELETE_MEMBERS] = "DELETE FROM members WHERE project_id = ?",
    [ST_PROJECT_DELETE_BRANCHES] = "DELETE FROM protected_branches WHERE project_id = ?",
    [ST_PROJECT_DELETE_KEYS] = "DELETE FROM keys WHERE project_id = ?",
    [ST_PROJECT_DELETE] = "DELETE FROM projects WHERE id = ?",
    [ST_MEMBER_SET] = "INSERT INTO members (project_id, user_id, access_level) VALUES (?, ?, ?)"
		      " ON CONFLICT (project_id, user_id) DO UPDATE"
		      " SET access_level = excluded.access_level",
    [ST_MEMBER_LEVEL] = "SELECT access_level FROM members WHERE project_id = ? AND user_id = ?",
    [ST_MEMBER_LIST] = "SELECT m.project_id, m.user_id, m.access_level, u.username"
		       " FROM members m JOIN users u ON u.id = m.user_id"
		       " WHERE m.project_id = ? ORDER BY u.username",
    [ST_MEMBER_REMOVE] = "DELETE FROM members WHERE project_id = ? AND user_id = ?",
    [ST_PB_INSERT] = "INSERT INTO protected_branches (project_id, name, push_access_level)"
		     " VALUES (?, ?, ?)",
    [ST_PB_LIST] = "SELECT " PB_COLS " FROM protected_branches WHERE project_id = ?"
		   " ORDER BY name",
    [ST_PB_DELETE] = "DELETE FROM protected_branches WHERE project_id = ? AND name = ?",
    [ST_TOKEN_INSERT] = "INSERT INTO tokens (user_id, kind, name, scopes, digest, expires_at,"
			" created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    [ST_TOKEN_FIND] = "SELECT " TOKEN_COLS " FROM tokens WHERE digest = ?",
    [ST_TOKEN_TOUCH] = "UPDATE tokens SET last_used_at = ?1 WHERE id = ?2 AND last_used_at <= "
		       "?1 - 60",
    [ST_TOKEN_LIST_USER] = "SELECT " TOKEN_COLS " FROM tokens WHERE user_id = ? ORDER BY id",
    [ST_TOKEN_REVOKE] = "UPDATE tokens SET revoked = 1 WHERE id = ?",
    /* The switch and the window in force or next, as of ?1 (store.h).  Asked on every
     * /internal/allowed: min() rather than ORDER BY ... LIMIT 1 keeps the plan free
     * of temporary b-trees (a sort, a materialized subquery). */
    [ST_SETTINGS_GET] = "SELECT s.maintenance_mode, s.maintenance_mode_message, s.updated_at,"
			" w.id, w.start_at, w.end_at, w.notice, w.message, w.created_by,"
			" w.created_at FROM application_settings s LEFT JOIN"
			" maintenance_windows w ON w.id = (SELECT min(id) FROM"
			" maintenance_windows WHERE cancelled = 0 AND end_at > ?1 AND"
			" start_at = (SELECT min(start_at) FROM maintenance_windows"
			" WHERE cancelled = 0 AND end_at > ?1)) WHERE s.id = 1",
    [ST_SETTINGS_SET] = "UPDATE application_settings SET maintenance_mode = ?,"
			" maintenance_mode_message = ?, updated_at = ? WHERE id = 1",
    [ST_AUDIT_INSERT] = "INSERT INTO audit_events (actor_id, actor, action, target, old_value,"
			" new_value, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    [ST_AUDIT_LIST] = "SELECT " AUDIT_COLS " FROM audit_events ORDER BY id DESC LIMIT ?",
    [ST_WINDOW_INSERT] = "INSERT INTO maintenance_windows (start_at, end_at, notice, message,"
			 " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    [ST_WINDOW_LIST] = "SELECT " WINDOW_COLS " FROM maintenance_windows w"
		       " WHERE cancelled = 0 AND end_at > ? ORDER BY start_at, id",
    [ST_WINDOW_LIST_ALL] = "SELECT " WINDOW_COLS " FROM maintenance_windows w ORDER BY id DESC",
    [ST_WINDOW_CANCEL] = "UPDATE maintenance_windows SET cancelled = 1 WHERE id = ?"
			 " AND cancelled = 0",
    [ST_WINDOW_EVENT_INSERT] = "INSERT OR IGNORE INTO maintenance_window_events (window_id, kind,"
			       " created_at) SELECT id, ?2, ?3 FROM maintenance_windows"
			       " WHERE id = ?1",
    [ST_EXEMPT_INSERT] = "INSERT INTO maintenance_exemptions (kind, value, created_at)"
			 " VALUES (?, ?, ?)",
    [ST_EXEMPT_DELETE] = "DELETE FROM maintenance_exemptions WHERE kind = ? AND value = ?",
    [ST_EXEMPT_LIST] = "SELECT id, kind, value, created_at FROM maintenance_exemptions"
		       " ORDER BY kind, value",
    [ST_WRITE_EXPIRE] = "DELETE FROM writes_in_flight WHERE expires_at <= ?",
    [ST_WRITE_INSERT] = "INSERT OR REPLACE INTO writes_in_flight (" WRITE_COLS ")"
			" VALUES (?, ?, ?, ?, ?, ?)",
    [ST_WRITE_DELETE] = "DELETE FROM writes_in_flight WHERE request_id = ?",
    [ST_WRITE_LIST] = "SELECT " WRITE_COLS " FROM writes_in_flight WHERE expires_at > ?"
		      " ORDER BY started_at, request_id",
    [ST_PROJECT_PUSHED] = "UPDATE projects SET pushed_seq = pushed_seq + 1, pushed_at = ?"
			  " WHERE id = ? RETURNING pushed_seq",
    [ST_SIGNIN_PRUNE] = "DELETE FROM signin_failures WHERE since <= ?",
    /* A failure in a window that has passed starts a new one (?2 = now, ?3 = the
     * oldest start still in the window). */
    [ST_SIGNIN_FAILED] = "INSERT INTO signin_failures (key, failures, since) VALUES (?1, 1, ?2)"
			 " ON CONFLICT (key) DO UPDATE SET"
			 " failures = CASE WHEN since > ?3 THEN failures + 1 ELSE 1 END,"
			 " since = CASE WHEN since > ?3 THEN since ELSE ?2 END",
    [ST_SIGNIN_CHECK] = "SELECT (SELECT count(*) FROM signin_failures WHERE key = ?1"
			" AND since > ?3 AND failures >= ?4) + (SELECT count(*) FROM"
			" signin_failures WHERE key = ?2 AND since > ?3 AND failures >= ?5)",
    [ST_SIGNIN_CLEAR] = "DELETE FROM signin_failures WHERE key = ?",
};

struct sqlite_store {
	struct gg_store base; /* first: a struct gg_store * points here */
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
};

static struct sqlite_store *S(struct gg_store *st)
{
	return (struct sqlite_store *)st;
}

/* ---- errors ---- */

static int set_error(struct sqlite_store *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int set_error(struct sqlite_store *s, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->base.errmsg, sizeof(s->base.errmsg), fmt, ap);
	va_end(ap);
	return code;
}

/* What a violated UNIQUE constraint means to the person who hit it. */
static const struct {
	const char *columns;
	const char *message;
} unique_messages[] = {
    {"users.username", "Username has already been taken"},
    {"users.email", "Email has already been taken"},
    {"keys.fingerprint", "Fingerprint has already been taken"},
    {"projects.full_path", "Path has already been taken"},
    {"protected_branches.project_id, protected_branches.name", "Protected branch already exists"},
};

/* Map an SQLite result code to a GG_E* code, with a message. */
static int db_error(struct sqlite_store *s, int rc, const char *what)
{
	const char *msg = sqlite3_errmsg(s->db);

	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY: {
		const char *cols = strstr(msg, "failed: ");

		cols = cols ? cols + 8 : "";
		for (size_t i = 0; i < sizeof(unique_messages) / sizeof(unique_messages[0]); i++)
			if (strcmp(cols, unique_messages[i].columns) == 0)
				return set_error(s, GG_EEXISTS, "%s", unique_messages[i].message);
		return set_error(s, GG_EEXISTS, "%s: %s", what, msg);
	}
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return set_error(s, GG_ENOTFOUND, "%s: the user or project does not exist", what);
	case SQLITE_CONSTRAINT_CHECK:
	case SQLITE_CONSTRAINT_NOTNULL:
		return set_error(s, GG_EINVALID, "%s: invalid value (%s)", what, msg);
	default:
		break;
	}
	if ((rc & 0xff) == SQLITE_READONLY)
		return set_error(s, GG_EREADONLY, "%s: the database is read-only", what);
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return set_error(s, GG_EBUSY, "%s: %s", what, msg);
	return set_error(s, GG_ERROR, "%s: %s", what, msg);
}

/* ---- statement helpers ---- */

/* The cached statement id, prepared on first use.  NULL (errmsg set) on error. */
static sqlite3_stmt *stmt_get(struct sqlite_store *s, enum stmt_id id)
{
	int rc;

	if (s->stmt[id])
		return s->stmt[id];
	rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[id],
				NULL);
	if (rc != SQLITE_OK) {
		db_error(s, rc, "prepare");
		s->stmt[id] = NULL;
	}
	return s->stmt[id];
}

/* Make a cached statement ready for its next use. */
static void stmt_done(sqlite3_stmt *stmt)
{
	if (stmt) {
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
	}
}

/*
 * Bind parameters by a type string: 't' text (NULL binds NULL), 'i' int,
 * 'I' int64_t, 'N' int64_t with 0 bound as NULL (an absent foreign key).
 */
static int bind(struct sqlite_store *s, sqlite3_stmt *stmt, const char *types, ...)
{
	va_list ap;
	int rc = SQLITE_OK, idx = 1;

	va_start(ap, types);
	for (const char *t = types; *t && rc == SQLITE_OK; t++, idx++) {
		switch (*t) {
		case 't': {
			const char *v = va_arg(ap, const char *);

			rc = v ? sqlite3_bind_text(stmt, idx, v, -1, SQLITE_TRANSIENT)
			       : sqlite3_bind_null(stmt, idx);
			break;
		}
		case 'i':
			rc = sqlite3_bind_int(stmt, idx, va_arg(ap, int));
			break;
		case 'I':
			rc = sqlite3_bind_int64(stmt, idx, va_arg(ap, int64_t));
			break;
		case 'N': {
			int64_t v = va_arg(ap, int64_t);

			rc = v ? sqlite3_bind_int64(stmt, idx, v) : sqlite3_bind_null(stmt, idx);
			break;
		}
		default:
			rc = SQLITE_MISUSE;
		}
	}
	va_end(ap);
	return rc == SQLITE_OK ? GG_OK : db_error(s, rc, "bind");
}

/* Run a statement that returns no rows. */
static int exec_stmt(struct sqlite_store *s, sqlite3_stmt *stmt, const char *what)
{
	int rc = sqlite3_step(stmt);

	return rc == SQLITE_DONE ? GG_OK : db_error(s, rc, what);
}

static int tx_begin(struct sqlite_store *s)
{
	sqlite3_stmt *stmt = stmt_get(s, ST_BEGIN);
	int ret;

	if (!stmt)
		return GG_ERROR;
	ret = exec_stmt(s, stmt, "begin transaction");
	stmt_done(stmt);
	return ret;
}

static int tx_commit(struct sqlite_store *s)
{
	sqlite3_stmt *stmt = stmt_get(s, ST_COMMIT);
	int ret;

	if (!stmt)
		return GG_ERROR;
	ret = exec_stmt(s, stmt, "commit");
	stmt_done(stmt);
	return ret;
}

/* Undo an open transaction, keeping the message of what made it fail. */
static void tx_rollback(struct sqlite_store *s)
{
	sqlite3_stmt *stmt;

	if (sqlite3_get_autocommit(s->db))
		return;
	stmt = stmt_get(s, ST_ROLLBACK);
	if (stmt) {
		sqlite3_step(stmt);
		stmt_done(stmt);
	}
}

static void copy_col(char *dst, size_t cap, sqlite3_stmt *stmt, int col)
{
	const char *v = (const char *)sqlite3_column_text(stmt, col);
	size_t n = v ? strnlen(v, cap - 1) : 0; /* cut to fit, as snprintf would */

	memcpy(dst, v ? v : "", n);
	dst[n] = '\0';
}

/* ---- row readers ---- */

typedef void (*row_reader)(sqlite3_stmt *stmt, void *out);

static void read_user(sqlite3_stmt *stmt, void *out)
{
	struct gg_user *u = out;

	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(stmt, 0);
	copy_col(u->username, sizeof(u->username), stmt, 1);
	copy_col(u->name, sizeof(u->name), stmt, 2);
	copy_col(u->email, sizeof(u->email), stmt, 3);
	u->admin = sqlite3_column_int(stmt, 4) != 0;
	u->blocked = strcmp((const char *)sqlite3_column_text(stmt, 5), "blocked") == 0;
	u->created_at = sqlite3_column_int64(stmt, 6);
}

static void read_key(sqlite3_stmt *stmt, void *out)
{
	struct gg_key *k = out;

	memset(k, 0, sizeof(*k));
	k->id = sqlite3_column_int64(stmt, 0);
	k->user_id = sqlite3_column_int64(stmt, 1);
	k->project_id = sqlite3_column_int64(stmt, 2);
	k->can_push = sqlite3_column_int(stmt, 3) != 0;
	copy_col(k->title, sizeof(k->title), stmt, 4);
	copy_col(k->type, sizeof(k->type), stmt, 5);
	copy_col(k->blob, sizeof(k->blob), stmt, 6);
	copy_col(k->fingerprint, sizeof(k->fingerprint), stmt, 7);
	k->created_at = sqlite3_column_int64(stmt, 8);
	k->last_used_at = sqlite3_column_int64(stmt, 9);
}

static void read_project(sqlite3_stmt *stmt, void *out)
{
	struct gg_project *p = out;

	memset(p, 0, sizeof(*p));
	p->id = sqlite3_column_int64(stmt, 0);
	copy_col(p->full_path, sizeof(p->full_path), stmt, 1);
	copy_col(p->name, sizeof(p->name), stmt, 2);
	p->visibility = (enum gg_visibility)sqlite3_column_int(stmt, 3);
	copy_col(p->default_branch, sizeof(p->default_branch), stmt, 4);
	p->read_only = sqlite3_column_int(stmt, 5) != 0;
	copy_col(p->read_only_message, sizeof(p->read_only_message), stmt, 6);
	copy_col(p->repo_path, sizeof(p->repo_path), stmt, 7);
	p->creator_id = sqlite3_column_int64(stmt, 8);
	p->created_at = sqlite3_column_int64(stmt, 9);
	p->pushed_seq = sqlite3_column_int64(stmt, 10);
	p->pushed_at = sqlite3_column_int64(stmt, 11);
}

static void read_member(sqlite3_stmt *stmt, void *out)
{
	struct gg_member *m = out;

	memset(m, 0, sizeof(*m));
	m->project_id = sqlite3_column_int64(stmt, 0);
	m->user_id = sqlite3_column_int64(stmt, 1);
	m->access_level = sqlite3_column_int(stmt, 2);
	copy_col(m->username, sizeof(m->username), stmt, 3);
}

static void read_pb(sqlite3_stmt *stmt, void *out)
{
	struct gg_protected_branch *pb = out;

	memset(pb, 0, sizeof(*pb));
	pb->id = sqlite3_column_int64(stmt, 0);
	pb->project_id = sqlite3_column_int64(stmt, 1);
	copy_col(pb->name, sizeof(pb->name), stmt, 2);
	pb->push_access_level = sqlite3_column_int(stmt, 3);
}

static void read_token(sqlite3_stmt *stmt, void *out)
{
	struct gg_token *t = out;

	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(stmt, 0);
	t->user_id = sqlite3_column_int64(stmt, 1);
	t->kind = (enum gg_token_kind)sqlite3_column_int(stmt, 2);
	copy_col(t->name, sizeof(t->name), stmt, 3);
	copy_col(t->scopes, sizeof(t->scopes), stmt, 4);
	t->expires_at = sqlite3_column_int64(stmt, 5);
	t->revoked = sqlite3_column_int(stmt, 6) != 0;
	t->created_at = sqlite3_column_int64(stmt, 7);
	t->last_used_at = sqlite3_column_int64(stmt, 8);
}

static void read_audit(sqlite3_stmt *stmt, void *out)
{
	struct gg_audit_event *e = out;

	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(stmt, 0);
	e->actor_id = sqlite3_column_int64(stmt, 1);
	copy_col(e->actor, sizeof(e->actor), stmt, 2);
	copy_col(e->action, sizeof(e->action), stmt, 3);
	copy_col(e->target, sizeof(e->target), stmt, 4);
	copy_col(e->old_value, sizeof(e->old_value), stmt, 5);
	copy_col(e->new_value, sizeof(e->new_value), stmt, 6);
	e->created_at = sqlite3_column_int64(stmt, 7);
}

/* Step a bound statement expected to give at most one row. */
static int fetch_one(struct sqlite_store *s, sqlite3_stmt *stmt, row_reader read, void *out,
		     const char *what)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_ROW) {
		read(stmt, out);
		return GG_OK;
	}
	if (rc == SQLITE_DONE)
		return set_error(s, GG_ENOTFOUND, "no such %s", what);
	return db_error(s, rc, what);
}

/* Collect every row of a bound statement into a malloc'ed array. */
static int fetch_all(struct sqlite_store *s, sqlite3_stmt *stmt, size_t size, row_reader read,
		     void **out, size_t *count, const char *what)
{
	char *arr = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*out = NULL;
	*count = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char *p = realloc(arr, ncap * size);

			if (!p) {
				free(arr);
				return set_error(s, GG_ERROR, "%s: out of memory", what);
			}
			arr = p;
			cap = ncap;
		}
		read(stmt, arr + n * size);
		n++;
	}
	if (rc != SQLITE_DONE) {
		free(arr);
		return db_error(s, rc, what);
	}
	*out = arr;
	*count = n;
	return GG_OK;
}

/* Run a one-statement update keyed by id; GG_ENOTFOUND when no row matched. */
static int update_by_id(struct sqlite_store *s, enum stmt_id id, const char *what,
			const char *types, ...)
{
	sqlite3_stmt *stmt = stmt_get(s, id);
	va_list ap;
	int ret, rc = SQLITE_OK, idx = 1;

	if (!stmt)
		return GG_ERROR;
	va_start(ap, types);
	for (const char *t = types; *t && rc == SQLITE_OK; t++, idx++) {
		if (*t == 't') {
			const char *v = va_arg(ap, const char *);

			rc = v ? sqlite3_bind_text(stmt, idx, v, -1, SQLITE_TRANSIENT)
			       : sqlite3_bind_null(stmt, idx);
		} else if (*t == 'i') {
			rc = sqlite3_bind_int(stmt, idx, va_arg(ap, int));
		} else {
			rc = sqlite3_bind_int64(stmt, idx, va_arg(ap, int64_t));
		}
	}
	va_end(ap);
	if (rc != SQLITE_OK) {
		ret = db_error(s, rc, what);
		goto done;
	}
	ret = exec_stmt(s, stmt, what);
	if (ret == GG_OK && sqlite3_changes(s->db) == 0)
		ret = set_error(s, GG_ENOTFOUND, "%s: no such record", what);
done:
	stmt_done(stmt);
	return ret;
}

/* ---- users ---- */

static int read_settings(struct sqlite_store *s, struct gg_settings *out)
{
	sqlite3_stmt *stmt = stmt_get(s, ST_SETTINGS_GET);
	int rc, ret;

	if (!stmt)
		return GG_ERROR;
	memset(out, 0, sizeof(*out));
	out->now = gg_now();
	if ((ret = bind(s, stmt, "I", out->now)) != GG_OK) {
		stmt_done(stmt);
		return ret;
	}
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		struct gg_maintenance_window *w = &out->window;

		out->maintenance_mode = sqlite3_column_int(stmt, 0) != 0;
		copy_col(out->maintenance_mode_message, sizeof(out->maintenance_mode_message), stmt,
			 1);
		out->updated_at = sqlite3_column_int64(stmt, 2);
		w->id = sqlite3_column_int64(stmt, 3);
		w->start_at = sqlite3_column_int64(stmt, 4);
		w->end_at = sqlite3_column_int64(stmt, 5);
		w->notice = sqlite3_column_int64(stmt, 6);
		copy_col(w->message, sizeof(w->message), stmt, 7);
		copy_col(w->created_by, sizeof(w->created_by), stmt, 8);
		w->created_at = sqlite3_column_int64(stmt, 9);
		gg_store_settings_evaluate(out);
		ret = GG_OK;
	} else if (rc == SQLITE_DONE) {
		ret = set_error(s, GG_ERROR, "application settings are missing");
	} else {
		ret = db_error(s, rc, "settings");
	}
	stmt_done(stmt);
	return ret;
}

/*
 * User creation is refused while maintenance mode is on, however it is
 * attempted (SPEC §4); the check and the insert share one transaction, so a
 * switch cannot slip in between.
 */
static int sq_user_create(struct gg_store *st, struct gg_user *user, const char *password)
{
	struct sqlite_store *s = S(st);
	char hash[GG_PASSWORD_HASH_MAX];
	struct gg_settings settings;
	sqlite3_stmt *stmt = NULL;
	int64_t now = gg_now();
	int ret;

	if (!gg_store_valid_username(user->username))
		return set_error(s, GG_EINVALID, "invalid username: %s", user->username);
	if (!gg_store_valid_email(user->email))
		return set_error(s, GG_EINVALID, "invalid email: %s", user->email);
	if (!gg_store_valid_text(user->name, GG_NAME_MAX, false))
		return set_error(s, GG_EINVALID, "invalid name");
	if (!user->name[0])
		snprintf(user->name, sizeof(user->name), "%s", user->username);
	if (password && gg_password_hash(password, hash, sizeof(hash)) < 0)
		return set_error(s, GG_ERROR, "cannot hash the password");

	if ((ret = tx_begin(s)) != GG_OK)
		return ret;
	if ((ret = read_settings(s, &settings)) != GG_OK)
		goto done;
	if (settings.maintenance_mode) {
		ret = set_error(s, GG_EREADONLY, "%s", GG_MSG_READ_ONLY);
		goto done;
	}
	stmt = stmt_get(s, ST_USER_INSERT);
	if (!stmt) {
		ret = GG_ERROR;
		goto done;
	}
	ret = bind(s, stmt, "tttittI", user->username, user->name, user->email, user->admin ? 1 : 0,
		   user->blocked ? "blocked" : "active", password ? hash : NULL, now);
	if (ret == GG_OK)
		ret = exec_stmt(s, stmt, "create user");
	if (ret == GG_OK)
		ret = tx_commit(s);
	if (ret == GG_OK) {
		user->id = sqlite3_last_insert_rowid(s->db);
		user->created_at = now;
	}
done:
	stmt_done(stmt);
	if (ret != GG_OK)
		tx_rollback(s);
	explicit_bzero(hash, sizeof(hash));
	return ret;
}

static int get_by_id(struct sqlite_store *s, enum stmt_id id, int64_t key, row_reader read,
		     void *out, const char *what)
{
	sqlite3_stmt *stmt = stmt_get(s, id);
	int ret;

	if (!stmt)
		return GG_ERROR;
	ret = bind(s, stmt, "I", key);
	if (ret == GG_OK)
		ret = fetch_one(s, stmt, read, out, what);
	stmt_done(stmt);
	return ret;
}

static int get_by_text(struct sqlite_store *s, enum stmt_id id, const char *key, row_reader read,
		       void *out, const char *what)
{
	sqlite3_stmt *stmt = stmt_get(s, id);
	int ret;

	if (!key)
		return set_error(s, GG_ENOTFOUND, "no such %s", what);
	if (!stmt)
		return GG_ERROR;
	ret = bind(s, stmt, "t", key);
	if (ret == GG_OK)
		ret = fetch_one(s, stmt, read, out, what);
	stmt_done(stmt);
	return ret;
}

static int list_by_id(struct sqlite_store *s, enum stmt_id id, int64_t key, size_t size,
		      row_reader read, void **out, size_t *count, const char *what)
{
	sqlite3_stmt *stmt = stmt_get(s, id);
	int ret;

	*out = NULL;
	*count = 0;
	if (!stmt)
		return GG_ERROR;
	ret = bind(s, stmt, "I", key);
	if (ret == GG_OK)
		ret = fetch_all(s, stmt, size, read, out, count, what);
	stmt_done(stmt);
	return ret;
}

static int sq_user_get(struct gg_store *st, int64_t id, struct gg_user *out)
{
	return get_by_id(S(st), ST_USER_GET, id, read_user, out, "user");
}

static int sq_user_get_by_username(struct gg_store *st, const char *username, struct gg_user *out)
{
	return get_by_text(S(st), ST_USER_GET_BY_NAME, username, read_user, out, "user");
}

static int sq_user_list(struct gg_store *st, struct gg_user **out, size_t *count)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *stmt = stmt_get(s, ST_USER_LIST);
	int ret;

	*out = NULL;
	*count = 0;
	if (!stmt)
		return GG_ERROR;
	ret = fetch_all(s, stmt, sizeof(**out), read_user, (void **)out, count, "users");
	stmt_done(stmt);
	return ret;
}

static int sq_user_set_blocked(struct gg_store *st, int64_t id, bool blocked)
{
	return update_by_id(S(st), ST_USER_SET_STATE, "block user", "tI",
			    blocked ? "blocked" : "active", id);
}

static int sq_user_set_admin(struct gg_store *st, int64_t id, bool admin)
{
	return update_by_id(S(st), ST_USER_SET_ADMIN, "set admin", "iI", admin ? 1 : 0, id);
}

/* password NULL removes it (no web sign-in). */
static int sq_user_set_password(struct gg_store *st, int64_t id, const char *password)
{
	struct sqlite_store *s = S(st);
	char hash[GG_PASSWORD_HASH_MAX];
	int ret;

	if (password && gg_password_hash(password, hash, sizeof(hash)) < 0)
		return set_error(s, GG_ERROR, "cannot hash the password");
	ret =
	    update_by_id(s, ST_USER_SET_PASSWORD, "set password", "tI", password ? hash : NULL, id);
	explicit_bzero(hash, sizeof(hash));
	return ret;
}

/* Run one "DELETE ... WHERE x = id" of a multi-statement deletion. */
static int delete_where(struct sqlite_store *s, enum stmt_id id, int64_t key, const char *what)
{
	sqlite3_stmt *stmt = stmt_get(s, id);
	int ret;

	if (!stmt)
		return GG_ERROR;
	ret = bind(s, stmt, "I", key);
	if (ret == GG_OK)
		ret = exec_stmt(s, stmt, what);
	stmt_done(stmt);
	return ret;
}

/* Dependents are deleted explicitly as well as by ON DELETE CASCADE, so that
 * a connection opened without foreign keys cannot leave orphans. */
static int delete_with_dependents(struct sqlite_store *s, int64_t id, const enum stmt_id *deps,
				  size_t ndeps, enum stmt_id main, const char *what)
{
	int ret;

	if ((ret = tx_begin(s)) != GG_OK)
		return ret;
	for (size_t i = 0; i < ndeps && ret == GG_OK; i++)
		ret = delete_where(s, deps[i], id, what);
	if (ret == GG_OK)
		ret = delete_where(s, main, id, what);
	if (ret == GG_OK && sqlite3_changes(s->db) == 0)
		ret = set_error(s, GG_ENOTFOUND, "no such %s", what);
	if (ret == GG_OK)
		ret = tx_commit(s);
	if (ret != GG_OK)
		tx_rollback(s);
	return ret;
}

static int sq_user_delete(struct gg_store *st, int64_t id)
{
	static const enum stmt_id deps[] = {ST_USER_DELETE_KEYS, ST_USER_DELETE_TOKENS,
					    ST_USER_DELETE_MEMBERS, ST_USER_CLEAR_CREATOR};

	return delete_with_dependents(S(st), id, deps, sizeof(deps) / sizeof(deps[0]),
				      ST_USER_DELETE, "user");
}

static int sq_user_authenticate(struct gg_store *st, const char *login, const char *password,
				struct gg_user *out)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *stmt = stmt_get(s, ST_USER_AUTH);
	char *hash = NULL;
	bool found = false, ok = false;
	int rc, ret;

	if (!stmt)
		return GG_ERROR;
	if (!login || !password) {
		stmt_done(stmt);
		return set_error(s, GG_EDENIED, "%s", GG_MSG_INVALID_CREDENTIALS);
	}
	ret = bind(s, stmt, "t", login);
	if (ret != GG_OK)
		goto done;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		const unsigned char *h = sqlite3_column_text(stmt, 7);

		read_user(stmt, out);
		found = true;
		hash = h ? strdup((const char *)h) : NULL;
	} else if (rc != SQLITE_DONE) {
		ret = db_error(s, rc, "authenticate");
		goto done;
	}
	stmt_done(stmt);
	stmt = NULL;

	if (hash) {
		ok = gg_password_verify(hash, password);
	} else {
		/* Spend the same time when there is no such user or no password,
		 * so that timing does not tell which logins exist. */
		char scratch[GG_PASSWORD_HASH_MAX];

		gg_password_hash(password, scratch, sizeof(scratch));
	}
	if (!found || !ok) {
		if (found)
			memset(out, 0, sizeof(*out));
		ret = set_error(s, GG_EDENIED, "%s", GG_MSG_INVALID_CREDENTIALS);
	}
done:
	stmt_done(stmt);
	free(hash);
	return ret;
}

/* ---- keys ---- */

/*
 * The fingerprint, the unique handle every lookup uses, is computed here from
 * the blob rather than trusted from the caller; the caller's type and blob
 * must be a valid key.
 */
static int sq_key_add(struct gg_store *st, struct gg_key *key)
{
	struct sqlite_store *s = S(st);
	struct gg_sshkey *parsed = NULL;
	sqlite3_stmt *stmt = NULL;
	char err[128];
	int64_t now = gg_now();
	int ret;

	if ((key->user_id != 0) == (key->project_id != 0))
		return set_error(s, GG_EINVALID, "a key belongs to a user or to a project");
	if (!gg_store_valid_text(key->title, GG_NAME_MAX, false))
		return set_error(s, GG_EINVALID, "invalid key title");
	parsed = malloc(sizeof(*parsed));
	if (!parsed)
		return set_error(s, GG_ERROR, "out of memory");
	if (gg_sshkey_parse(parsed, key->type, key->blob, err, sizeof(err)) < 0) {
		ret = set_error(s, GG_EINVALID, "invalid key: %s", err);
		goto done;
	}
	snprintf(key->fingerprint, sizeof(key->fingerprint), "%s", parsed->fingerprint);
	if (key->user_id)
		key->can_push = false; /* only deploy keys carry can_push */

	stmt = stmt_get(s, ST_KEY_INSERT);
	if (!stmt) {
		ret = GG_ERROR;
		goto done;
	}
	ret = bind(s, stmt, "NNittttI", key->user_id, key->project_id, key->can_push ? 1 : 0,
		   key->title, parsed->type, parsed->blob, parsed->fingerprint, now);
	if (ret == GG_OK)
		ret = exec_stmt(s, stmt, "add key");
	if (ret == GG_OK) {
		key->id = sqlite3_last_insert_rowid(s->db);
		key->created_at = now;
		key->last_used_at = 0;
	}
done:
	stmt_done(stmt);
	free(parsed);
	return ret;
}

static int sq_key_get(struct gg_store *st, int64_t id, struct gg_key *out)
{
	return get_by_id(S(st), ST_KEY_GET, id, read_key, out, "key");
}

static int sq_key_get_by_fingerprint(struct gg_store *st, const char *fingerprint,
				     struct gg_key *out)
{
	return get_by_text(S(st), ST_KEY_GET_BY_FP, fingerprint, read_key, out, "key");
}

static int sq_key_list_for_user(struct gg_store *st, int64_t user_id, struct gg_key **out,
				size_t *count)
{
	return list_by_id(S(st), ST_KEY_LIST_USER, user_id, sizeof(**out), read_key, (void **)out,
			  count, "keys");
}

static int sq_key_list_for_project(struct gg_store *st, int64_t project_id, struct gg_key **out,
				   size_t *count)
{
	return list_by_id(S(st), ST_KEY_LIST_PROJECT, project_id, sizeof(**out), read_key,
			  (void **)out, count, "keys");
}

static int sq_key_delete(struct gg_store *st, int64_t id)
{
	return update_by_id(S(st), ST_KEY_DELETE, "delete key", "I", id);
}

/*
 * Record a use at most once a TOUCH_INTERVAL.  A use is not worth failing a
 * request for: a busy or read-only database is not an error here.
 */
static int touch(struct sqlite_store *s, enum stmt_id id, int64_t row)
{
	sqlite3_stmt *stmt = stmt_get(s, id);

	if (!stmt)
		return GG_OK;
	if (bind(s, stmt, "II", gg_now(), row) == GG_OK)
		sqlite3_step(stmt);
	stmt_done(stmt);
	return GG_OK;
}

static int sq_key_touch(struct gg_store *st, int64_t id)
{
	return touch(S(st), ST_KEY_TOUCH, id);
}

/* ---- projects ---- */

static int sq_project_create(struct gg_store *st, struct gg_project *p)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *stmt = NULL;
	int64_t now = gg_now();
	const char *name;
	int ret;

	if (!gg_store_valid_full_path(p->full_path))
		return set_error(s, GG_EINVALID,
				 "invalid project path: %s (group[/subgroup]/name of letters, "
				 "digits, '_', '.', '-')",
				 p->full_path);
	if (!p->default_branch[0])
		snprintf(p->default_branch, sizeof(p->default_branch), "main");
	if (!gg_store_valid_branch(p->default_branch))
		return set_error(s, GG_EINVALID, "invalid default branch: %s", p->default_branch);
	if (p->visibility != GG_VISIBILITY_PRIVATE && p->visibility != GG_VISIBILITY_INTERNAL &&
	    p->visibility != GG_VISIBILITY_PUBLIC)
		return set_error(s, GG_EINVALID, "invalid visibility");
	if (!gg_store_valid_text(p->read_only_message, GG_MESSAGE_MAX, true))
		return set_error(s, GG_EINVALID, "invalid read-only message");
	name = strrchr(p->full_path, '/') + 1;
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (strlen(p->full_path) + sizeof(".git") > sizeof(p->repo_path))
		return set_error(s, GG_EINVALID, "project path too long");
	memcpy(p->repo_path, p->full_path, strlen(p->full_path));
	memcpy(p->repo_path + strlen(p->full_path), ".git", sizeof(".git"));

	stmt = stmt_get(s, ST_PROJECT_INSERT);
	if (!stmt)
		return GG_ERROR;
	ret =
	    bind(s, stmt, "ttitittNI", p->full_path, p->name, (int)p->visibility, p->default_branch,
		 p->read_only ? 1 : 0, p->read_only_message, p->repo_path, p->creator_id, now);
	if (ret == GG_OK)
		ret = exec_stmt(s, stmt, "create project");
	if (ret == GG_OK) {
		p->id = sqlite3_last_insert_rowid(s->db);
		p->created_at = now;
	}
	stmt_done(stmt);
	return ret;
}

static int sq_project_get(struct gg_store *st, int64_t id, struct gg_project *out)
{
	return get_by_id(S(st), ST_PROJECT_GET, id, read_project, out, "project");
}

/* The path as a user typed it: "/Group/Name.git" finds "group/name". */
static int sq_project_get_by_path(struct gg_store *st, const char *full_path,
				  struct gg_project *out)
{
	char path[GG_PATH_MAX];
	size_t n;

	if (!full_path)
		return set_error(S(st), GG_ENOTFOUND, "no such project");
	if (full_path[0] == '/')
		full_path++;
	n = strlen(full_path);
	if (n >= sizeof(path))
		return set_error(S(st), GG_ENOTFOUND, "no such project");
	memcpy(path, full_path, n + 1);
	if (gg_store_ends_with_nocase(path, ".git"))
		path[n - 4] = '\0';
	return get_by_text(S(st), ST_PROJECT_GET_BY_PATH, path, read_project, out, "project");
}

static int sq_project_list(struct gg_store *st, struct gg_project **out, size_t *count)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *stmt = stmt_get(s, ST_PROJECT_LIST);
	int ret;

	*out = NULL;
	*count = 0;
	if (!stmt)
		return GG_ERROR;
	ret = fetch_all(s, stmt, sizeof(**out), read_project, (void **)out, count, "projects");
	stmt_done(stmt);
	return ret;
}

static int sq_project_update(struct gg_store *st, const struct gg_project *p)
{
	struct sqlite_store *s = S(st);

	if (!gg_store_valid_branch(p->default_branch))
		return set_error(s, GG_EINVALID, "invalid default branch: %s", p->default_branch);
	if (p->visibility != GG_VISIBILITY_PRIVATE && p->visibility != GG_VISIBILITY_INTERNAL &&
	    p->visibility != GG_VISIBILITY_PUBLIC)
		return set_error(s, GG_EINVALID, "invalid visibility");
	if (!gg_store_valid_text(p->read_only_message, GG_MESSAGE_MAX, true))
		return set_error(s, GG_EINVALID, "invalid read-only message");
	return update_by_id(s, ST_PROJECT_UPDATE, "update project", "ititI", (int)p->visibility,
			    p->default_branch, p->read_only ? 1 : 0, p->read_only_message, p->id);
}

static int sq_project_delete(struct gg_store *st, int64_t id)
{
	static const enum stmt_id deps[] = {ST_PROJECT_DELETE_MEMBERS, ST_PROJECT_DELETE_BRANCHES,
					    ST_PROJECT_DELETE_KEYS};

	return delete_with_dependents(S(st), id, deps, sizeof(deps) / sizeof(deps[0]),
				      ST_PROJECT_DELETE, "project");
}

/* ---- members ---- */

static int sq_member_set(struct gg_store *st, int64_t project_id, int64_t user_id, int level)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *stmt;
	int ret;

	if (!gg_store_valid_level(level))
		return set_error(s, GG_EINVALID, "invalid access level: %d", level);
	stmt = stmt_get(s, ST_MEMBER_SET);
	if (!stmt)
		return GG_ERROR;
	ret = bind(s, stmt, "IIi", project_id, user_id, level);
	if (ret == GG_OK)
		ret = exec_stmt(s, stmt, "set member");
	stmt_done(stmt);
	return ret;
}

static int sq_member_get_level(struct gg_store *st, int64_t project_id, int64_t user_id, int *level)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *stmt = stmt_get(s, ST_MEMBER_LEVEL);
	int rc, ret;

	*level = GG_ACCESS_NONE;
	if (!stmt)
		return GG_ERROR;
	ret = bind(s, stmt, "II", project_id, user_id);
	if (ret == GG_OK) {
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW)
			*level = sqlite3_column_int(stmt, 0);
		else if (rc != SQLITE_DONE)
			ret = db_error(s, rc, "member level");
	}
	stmt_done(stmt);
	return ret;
}

static int sq_member_list(struct gg_store *st, int64_t project_id, struct gg_member **out,
			  size_t *count)
{
	return list_by_id(S(st), ST_MEMBER_LIST, project_id, sizeof(**out), read_member,
			  (void **)out, count, "members");
}

static int sq_member_remove(struct gg_store *st, int64_t project_id, int64_t user_id)
{
	return update_by_id(S(st), ST_MEMBER_REMOVE, "remove member", "II", project_id, user_id);
}

/* ---- protected branches ---- */

static int sq_protected_branch_add(struct gg_store *st, struct gg_protected_branch *pb)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *stmt;
	int ret;

	if (!pb->name[0] || !gg_store_valid_text(pb->name, GG_NAME_MAX, false) ||
	    strchr(pb->name, ' '))
		return set_error(s, GG_EINVALID, "invalid branch name or pattern");
	if (pb->push_access_level != GG_ACCESS_MAINTAINER &&
	    pb->push_access_level != GG_ACCESS_DEVELOPER &&
	    pb->push_access_level != GG_ACCESS_NO_ONE)
		return set_error(s, GG_EINVALID, "invalid push access level: %d",
				 pb->push_access_level);
	stmt = stmt_get(s, ST_PB_INSERT);
	if (!stmt)
		return GG_ERROR;
	ret = bind(s, stmt, "Iti", pb->project_id, pb->name, pb->push_access_level);
	if (ret == GG_OK)
		ret = exec_stmt(s, stmt, "protect branch");
	if (ret == GG_OK)
		pb->id = sqlite3_last_insert_rowid(s->db);
	stmt_done(stmt);
	return ret;
}

static int sq_protected_branch_list(struct gg_store *st, int64_t project_id,
				    struct gg_protected_branch **out, size_t *count)
{
	return list_by_id(S(st), ST_PB_LIST, project_id, sizeof(**out), read_pb, (void **)out,
			  count, "protected branches");
}

static int sq_protected_branch_delete(struct gg_store *st, int64_t project_id, const char *name)
{
	return update_by_id(S(st), ST_PB_DELETE, "unprotect branch", "It", project_id,
			    name ? name : "");
}

/*
 * Personal access tokens look like GitLab's ("glpat-" and 20 characters, so
 * secret scanners recognise them); OAuth and session tokens are 40 URL-safe
 * characters.
 */
static int sq_token_create(struct gg_store *st, struct gg_token *t, char **secret_out)
{
	struct sqlite_store *s = S(st);
	const char *prefix = t->kind == GG_TOKEN_PERSONAL ? "glpat-" : "";
	size_t nrand = t->kind == GG_TOKEN_PERSONAL ? 20 : 40;
	char secret[80], digest[65];
	sqlite3_stmt *stmt = NULL;
	int64_t now = gg_now();
	int ret;

	*secret_out = NULL;
	if (t->kind != GG_TOKEN_PERSONAL && t->kind != GG_TOKEN_OAUTH &&
	    t->kind != GG_TOKEN_SESSION)
		return set_error(s, GG_EINVALID, "invalid token kind");
	if (!gg_store_valid_text(t->name, GG_NAME_MAX, false))
		return set_error(s, GG_EINVALID, "invalid token name");
	if (!gg_store_valid_scopes(t->scopes, t->kind == GG_TOKEN_PERSONAL))
		return set_error(s, GG_EINVALID, "invalid scopes: '%s'", t->scopes);
	if (t->expires_at < 0)
		return set_error(s, GG_EINVALID, "invalid expiry");

	strcpy(secret, prefix);
	if (gg_store_random_urlsafe(secret + strlen(prefix), nrand) < 0)
		return set_error(s, GG_ERROR, "no randomness for a token");
	gg_sha256_hex(digest, secret, strlen(secret));

	stmt = stmt_get(s, ST_TOKEN_INSERT);
	if (!stmt) {
		ret = GG_ERROR;
		goto done;
	}
	ret = bind(s, stmt, "IitttII", t->user_id, (int)t->kind, t->name, t->scopes, digest,
		   t->expires_at, now);
	if (ret == GG_OK)
		ret = exec_stmt(s, stmt, "create token");
	if (ret == GG_OK) {
		*secret_out = strdup(secret);
		if (!*secret_out) {
			/* A token nobody can present is useless: undo it. */
			int64_t id = sqlite3_last_insert_rowid(s->db);

			stmt_done(stmt);
			stmt = NULL;
			update_by_id(s, ST_TOKEN_REVOKE, "revoke token", "I", id);
			ret = set_error(s, GG_ERROR, "out of memory");
			goto done;
		}
		t->id = sqlite3_last_insert_rowid(s->db);
		t->created_at = now;
		t->revoked = false;
		t->last_used_at = 0;
	}
done:
	stmt_done(stmt);
	explicit_bzero(secret, sizeof(secret));
	return ret;
}

/* The lookup is by the secret's digest, so the secret itself is never
 * compared and never stored. */
static int sq_token_find(struct gg_store *st, const char *secret, struct gg_token *out)
{
	struct sqlite_store *s = S(st);
	char digest[65];
	int ret;

	if (!secret || !*secret)
		return set_error(s, GG_ENOTFOUND, "no such token");
	gg_sha256_hex(digest, secret, strlen(secret));
	ret = get_by_text(s, ST_TOKEN_FIND, digest, read_token, out, "token");
	if (ret != GG_OK)
		return ret;
	if (out->revoked || (out->expires_at != 0 && out->expires_at <= gg_now())) {
		memset(out, 0, sizeof(*out));
		return set_error(s, GG_ENOTFOUND, "the token is revoked or expired");
	}
	if (out->last_used_at <= gg_now() - TOUCH_INTERVAL) {
		touch(s, ST_TOKEN_TOUCH, out->id);
		out->last_used_at = gg_now();
	}
	return GG_OK;
}

static int sq_token_list_for_user(struct gg_store *st, int64_t user_id, struct gg_token **out,
				  size_t *count)
{
	return list_by_id(S(st), ST_TOKEN_LIST_USER, user_id, sizeof(**out), read_token,
			  (void **)out, count, "tokens");
}

static int sq_token_revoke(struct gg_store *st, int64_t id)
{
	return update_by_id(S(st), ST_TOKEN_REVOKE, "revoke token", "I", id);
}

/* ---- settings and audit ---- */

static int sq_settings_get(struct gg_store *st, struct gg_settings *out)
{
	return read_settings(S(st), out);
}

static int insert_audit(struct sqlite_store *s, struct gg_audit_event *e)
{
	sqlite3_stmt *stmt = stmt_get(s, ST_AUDIT_INSERT);
	int ret;

	if (!stmt)
		return GG_ERROR;
	if (!e->created_at)
		e->created_at = gg_now();
	ret = bind(s, stmt, "ItttttI", e->actor_id, e->actor, e->action, e->target, e->old_value,
		   e->new_value, e->created_at);
	if (ret == GG_OK)
		ret = exec_stmt(s, stmt, "audit event");
	if (ret == GG_OK)
		e->id = sqlite3_last_insert_rowid(s->db);
	stmt_done(stmt);
	return ret;
}

static int audit_change(struct sqlite_store *s, int64_t actor_id, const char *actor,
			const char *target, const char *old_value, const char *new_value)
{
	struct gg_audit_event *e = calloc(1, sizeof(*e));
	int ret;

	if (!e)
		return set_error(s, GG_ERROR, "out of memory");
	e->actor_id = actor_id;
	snprintf(e->actor, sizeof(e->actor), "%s", actor ? actor : "");
	snprintf(e->action, sizeof(e->action), "settings.update");
	snprintf(e->target, sizeof(e->target), "%s", target);
	snprintf(e->old_value, sizeof(e->old_value), "%s", old_value);
	snprintf(e->new_value, sizeof(e->new_value), "%s", new_value);
	ret = insert_audit(s, e);
	free(e);
	return ret;
}

/*
 * Compare with the stored row and write only what changed, one audit event
 * per changed field, all in the transaction that holds the write lock, so
 * two admins switching at once each see (and log) the other's value.
 */
static int sq_settings_update(struct gg_store *st, const struct gg_settings *in, int64_t actor_id,
			      const char *actor)
{
	struct sqlite_store *s = S(st);
	struct gg_settings *cur = NULL;
	sqlite3_stmt *stmt = NULL;
	bool changed = false, new_switch;
	int ret;

	if (!gg_store_valid_text(in->maintenance_mode_message, GG_MESSAGE_MAX, true))
		return set_error(s, GG_EINVALID, "invalid maintenance mode message");
	cur = malloc(sizeof(*cur));
	if (!cur)
		return set_error(s, GG_ERROR, "out of memory");
	if ((ret = tx_begin(s)) != GG_OK)
		goto done;
	if ((ret = read_settings(s, cur)) != GG_OK)
		goto done;
	/* A caller that changed the mode in force sets the switch; one that did
	 * not leaves the switch as it read it (a window stays a window). */
	new_switch = cur->maintenance_mode != in->maintenance_mode ? in->maintenance_mode
								   : in->maintenance_switch;
	if (cur->maintenance_switch != new_switch) {
		changed = true;
		ret = audit_change(s, actor_id, actor, "maintenance_mode",
				   cur->maintenance_switch ? "true" : "false",
				   new_switch ? "true" : "false");
		if (ret != GG_OK)
			goto done;
	}
	if (strcmp(cur->maintenance_mode_message, in->maintenance_mode_message) != 0) {
		changed = true;
		ret = audit_change(s, actor_id, actor, "maintenance_mode_message",
				   cur->maintenance_mode_message, in->maintenance_mode_message);
		if (ret != GG_OK)
			goto done;
	}
	if (changed) {
		stmt = stmt_get(s, ST_SETTINGS_SET);
		if (!stmt) {
			ret = GG_ERROR;
			goto done;
		}
		ret = bind(s, stmt, "itI", new_switch ? 1 : 0, in->maintenance_mode_message,
			   gg_now());
		if (ret == GG_OK)
			ret = exec_stmt(s, stmt, "update settings");
		if (ret != GG_OK)
			goto done;
	}
	ret = tx_commit(s);
done:
	stmt_done(stmt);
	if (ret != GG_OK)
		tx_rollback(s);
	free(cur);
	return ret;
}

static int sq_audit_add(struct gg_store *st, struct gg_audit_event *e)
{
	struct sqlite_store *s = S(st);

	if (!e->action[0])
		return set_error(s, GG_EINVALID, "an audit event needs an action");
	return insert_audit(s, e);
}

/* limit 0: every event. */
static int sq_audit_list(struct gg_store *st, size_t limit, struct gg_audit_event **out,
			 size_t *count)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *stmt = stmt_get(s, ST_AUDIT_LIST);
	int64_t lim = limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit;
	int ret;

	*out = NULL;
	*count = 0;
	if (!stmt)
		return GG_ERROR;
	ret = bind(s, stmt, "I", lim);
	if (ret == GG_OK)
		ret = fetch_all(s, stmt, sizeof(**out), read_audit, (void **)out, count,
				"audit events");
	stmt_done(stmt);
	return ret;
}

/* ---- maintenance windows, exemptions, writes in flight ---- */

static void read_window(sqlite3_stmt *stmt, void *out)
{
	struct gg_maintenance_window *w = out;

	memset(w, 0, sizeof(*w));
	w->id = sqlite3_column_int64(stmt, 0);
	w->start_at = sqlite3_column_int64(stmt, 1);
	w->end_at = sqlite3_column_int64(stmt, 2);
	w->notice = sqlite3_column_int64(stmt, 3);
	copy_col(w->message, sizeof(w->message), stmt, 4);
	w->cancelled = sqlite3_column_int(stmt, 5) != 0;
	copy_col(w->created_by, sizeof(w->created_by), stmt, 6);
	w->created_at = sqlite3_column_int64(stmt, 7);
	w->start_recorded = sqlite3_column_int(stmt, 8) != 0;
	w->end_recorded = sqlite3_column_int(stmt, 9) != 0;
}

static void read_exemption(sqlite3_stmt *stmt, void *out)
{
	struct gg_exemption *e = out;

	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(stmt, 0);
	e->kind = sqlite3_column_int(stmt, 1) == GG_EXEMPT_USER ? GG_EXEMPT_USER : GG_EXEMPT_CIDR;
	copy_col(e->value, sizeof(e->value), stmt, 2);
	e->created_at = sqlite3_column_int64(stmt, 3);
}

static void read_write(sqlite3_stmt *stmt, void *out)
{
	struct gg_write_in_flight *w = out;

	memset(w, 0, sizeof(*w));
	copy_col(w->request_id, sizeof(w->request_id), stmt, 0);
	copy_col(w->node, sizeof(w->node), stmt, 1);
	copy_col(w->project, sizeof(w->project), stmt, 2);
	copy_col(w->username, sizeof(w->username), stmt, 3);
	w->started_at = sqlite3_column_int64(stmt, 4);
	w->expires_at = sqlite3_column_int64(stmt, 5);
}

static int sq_window_add(struct gg_store *st, struct gg_maintenance_window *w)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *stmt = stmt_get(s, ST_WINDOW_INSERT);
	int ret;

	if (!stmt)
		return GG_ERROR;
	ret = bind(s, stmt, "IIIttI", w->start_at, w->end_at, w->notice, w->message, w->created_by,
		   w->created_at);
	if (ret == GG_OK)
		ret = exec_stmt(s, stmt, "schedule maintenance");
	if (ret == GG_OK)
		w->id = sqlite3_last_insert_rowid(s->db);
	stmt_done(stmt);
	return ret;
}

static int sq_window_list(struct gg_store *st, bool all, struct gg_maintenance_window **out,
			  size_t *count)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *stmt = stmt_get(s, all ? ST_WINDOW_LIST_ALL : ST_WINDOW_LIST);
	int ret = GG_OK;

	*out = NULL;
	*count = 0;
	if (!stmt)
		return GG_ERROR;
	if (!all)
		ret = bind(s, stmt, "I", gg_now());
	if (ret == GG_OK)
		ret = fetch_all(s, stmt, sizeof(**out), read_window, (void **)out, count,
				"maintenance windows");
	stmt_done(stmt);
	return ret;
}

static int sq_window_cancel(struct gg_store *st, int64_t id)
{
	return update_by_id(S(st), ST_WINDOW_CANCEL, "cancel maintenance window", "I", id);
}

/* The (window, kind) key makes the first node to ask the only one to write. */
static int sq_window_record(struct gg_store *st, int64_t window_id, const char *kind,
			    struct gg_audit_event *event)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *stmt = NULL;
	int ret;

	if ((ret = tx_begin(s)) != GG_OK)
		return ret;
	stmt = stmt_get(s, ST_WINDOW_EVENT_INSERT);
	if (!stmt) {
		ret = GG_ERROR;
		goto done;
	}
	ret = bind(s, stmt, "ItI", window_id, kind, gg_now());
	if (ret == GG_OK)
		ret = exec_stmt(s, stmt, "record maintenance window");
	if (ret == GG_OK && sqlite3_changes(s->db) == 0)
		ret = set_error(s, GG_EEXISTS, "the window's %s is recorded already", kind);
	if (ret == GG_OK)
		ret = insert_audit(s, event);
	if (ret == GG_OK)
		ret = tx_commit(s);
done:
	stmt_done(stmt);
	if (ret != GG_OK)
		tx_rollback(s);
	return ret;
}

static int sq_exemption_add(struct gg_store *st, enum gg_exemption_kind kind, const char *value)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *stmt = stmt_get(s, ST_EXEMPT_INSERT);
	int ret;

	if (!stmt)
		return GG_ERROR;
	ret = bind(s, stmt, "itI", (int)kind, value, gg_now());
	if (ret == GG_OK)
		ret = exec_stmt(s, stmt, "add exemption");
	if (ret == GG_EEXISTS)
		set_error(s, ret, "%s is exempt already", value);
	stmt_done(stmt);
	return ret;
}

static int sq_exemption_remove(struct gg_store *st, enum gg_exemption_kind kind, const char *value)
{
	int ret = update_by_id(S(st), ST_EXEMPT_DELETE, "remove exemption", "it", (int)kind, value);

	if (ret == GG_ENOTFOUND)
		set_error(S(st), ret, "%s is not exempt", value);
	return ret;
}

static int sq_exemption_list(struct gg_store *st, struct gg_exemption **out, size_t *count)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *stmt = stmt_get(s, ST_EXEMPT_LIST);
	int ret;

	*out = NULL;
	*count = 0;
	if (!stmt)
		return GG_ERROR;
	ret = fetch_all(s, stmt, sizeof(**out), read_exemption, (void **)out, count, "exemptions");
	stmt_done(stmt);
	return ret;
}

/* Expired records go when a new write begins, so the table stays small. */
static int sq_write_begin(struct gg_store *st, const struct gg_write_in_flight *w)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *stmt = stmt_get(s, ST_WRITE_EXPIRE);
	int ret;

	if (!stmt)
		return GG_ERROR;
	ret = bind(s, stmt, "I", gg_now());
	if (ret == GG_OK)
		ret = exec_stmt(s, stmt, "expire writes in flight");
	stmt_done(stmt);
	if (ret != GG_OK)
		return ret;
	stmt = stmt_get(s, ST_WRITE_INSERT);
	if (!stmt)
		return GG_ERROR;
	ret = bind(s, stmt, "ttttII", w->request_id, w->node, w->project, w->username,
		   w->started_at, w->expires_at);
	if (ret == GG_OK)
		ret = exec_stmt(s, stmt, "record write in flight");
	stmt_done(stmt);
	return ret;
}

static int sq_write_end(struct gg_store *st, const char *request_id)
{
	return update_by_id(S(st), ST_WRITE_DELETE, "end write in flight", "t", request_id);
}

static int sq_write_list(struct gg_store *st, struct gg_write_in_flight **out, size_t *count)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *stmt = stmt_get(s, ST_WRITE_LIST);
	int ret;

	*out = NULL;
	*count = 0;
	if (!stmt)
		return GG_ERROR;
	ret = bind(s, stmt, "I", gg_now());
	if (ret == GG_OK)
		ret = fetch_all(s, stmt, sizeof(**out), read_write, (void **)out, count,
				"writes in flight");
	stmt_done(stmt);
	return ret;
}

/*
 * A push was accepted: move the project's push generation and end the write
 * in flight (request_id may be NULL), in one transaction.
 */
static int sq_project_pushed(struct gg_store *st, int64_t project_id, const char *request_id,
			     int64_t *seq)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *stmt;
	int ret, rc;

	if ((ret = tx_begin(s)) != GG_OK)
		return ret;
	stmt = stmt_get(s, ST_PROJECT_PUSHED);
	ret = stmt ? bind(s, stmt, "II", gg_now(), project_id) : GG_ERROR;
	if (ret == GG_OK) {
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW) {
			if (seq)
				*seq = sqlite3_column_int64(stmt, 0);
			rc = sqlite3_step(stmt);
		} else if (rc == SQLITE_DONE) {
			ret = set_error(s, GG_ENOTFOUND, "no such project");
		}
		if (ret == GG_OK && rc != SQLITE_DONE)
			ret = db_error(s, rc, "record push");
	}
	stmt_done(stmt);
	if (ret == GG_OK && request_id) {
		stmt = stmt_get(s, ST_WRITE_DELETE);
		ret = stmt ? bind(s, stmt, "t", request_id) : GG_ERROR;
		if (ret == GG_OK)
			ret = exec_stmt(s, stmt, "end write in flight");
		stmt_done(stmt);
	}
	if (ret == GG_OK)
		ret = tx_commit(s);
	if (ret != GG_OK)
		tx_rollback(s);
	return ret;
}

/* ---- failed sign-ins ---- */

static int sq_signin_check(struct gg_store *st, const char *login_key, const char *address_key,
			   int64_t window, int max_login, int max_address, bool *exhausted)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *stmt = stmt_get(s, ST_SIGNIN_CHECK);
	int ret, rc;

	*exhausted = false;
	if (!stmt)
		return GG_ERROR;
	ret = bind(s, stmt, "ttIii", login_key, address_key, gg_now() - window, max_login,
		   max_address);
	if (ret == GG_OK) {
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW)
			*exhausted = sqlite3_column_int(stmt, 0) > 0;
		else
			ret = db_error(s, rc, "failed sign-ins");
	}
	stmt_done(stmt);
	return ret;
}

/* Records older than the window go first, so the table holds only live ones. */
static int sq_signin_failed(struct gg_store *st, const char *login_key, const char *address_key,
			    int64_t window)
{
	struct sqlite_store *s = S(st);
	const char *keys[2] = {login_key, address_key};
	int64_t now = gg_now();
	sqlite3_stmt *stmt;
	int ret;

	if ((ret = tx_begin(s)) != GG_OK)
		return ret;
	stmt = stmt_get(s, ST_SIGNIN_PRUNE);
	ret = stmt ? bind(s, stmt, "I", now - window) : GG_ERROR;
	if (ret == GG_OK)
		ret = exec_stmt(s, stmt, "prune failed sign-ins");
	stmt_done(stmt);
	for (int i = 0; i < 2 && ret == GG_OK; i++) {
		stmt = stmt_get(s, ST_SIGNIN_FAILED);
		ret = stmt ? bind(s, stmt, "tII", keys[i], now, now - window) : GG_ERROR;
		if (ret == GG_OK)
			ret = exec_stmt(s, stmt, "record failed sign-in");
		stmt_done(stmt);
	}
	if (ret == GG_OK)
		ret = tx_commit(s);
	if (ret != GG_OK)
		tx_rollback(s);
	return ret;
}

static int sq_signin_clear(struct gg_store *st, const char *login_key)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *stmt = stmt_get(s, ST_SIGNIN_CLEAR);
	int ret;

	if (!stmt)
		return GG_ERROR;
	ret = bind(s, stmt, "t", login_key);
	if (ret == GG_OK)
		ret = exec_stmt(s, stmt, "clear failed sign-ins");
	stmt_done(stmt);
	return ret;
}

/* ---- connection ---- */

/* Newest applied migration, 0 for a new database (no table yet). */
static int read_version(struct sqlite_store *s, int *out)
{
	sqlite3_stmt *stmt = NULL;
	int rc, ret = GG_OK;

	*out = 0;
	rc = sqlite3_prepare_v2(s->db,
				"SELECT count(*) FROM sqlite_master"
				" WHERE type = 'table' AND name = 'schema_migrations'",
				-1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return db_error(s, rc, "schema version");
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		ret = db_error(s, rc, "schema version");
		goto done;
	}
	if (sqlite3_column_int(stmt, 0) == 0)
		goto done;
	sqlite3_finalize(stmt);
	stmt = NULL;
	rc = sqlite3_prepare_v2(s->db, "SELECT coalesce(max(version), 0) FROM schema_migrations",
				-1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		ret = db_error(s, rc, "schema version");
		goto done;
	}
	*out = sqlite3_column_int(stmt, 0);
done:
	sqlite3_finalize(stmt);
	return ret;
}

static int sq_schema_version(struct gg_store *st, int *out)
{
	return read_version(S(st), out);
}

static int sq_read_begin(struct gg_store *st)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *stmt;
	int ret;

	if (!sqlite3_get_autocommit(s->db))
		return set_error(s, GG_EINVALID, "a transaction is open already");
	stmt = stmt_get(s, ST_BEGIN_READ);
	if (!stmt)
		return GG_ERROR;
	ret = exec_stmt(s, stmt, "begin read");
	stmt_done(stmt);
	return ret;
}

static void sq_read_end(struct gg_store *st)
{
	struct sqlite_store *s = S(st);

	if (sqlite3_get_autocommit(s->db))
		return;
	if (tx_commit(s) != GG_OK)
		tx_rollback(s);
}

static int exec_sql(struct sqlite_store *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? GG_OK : db_error(s, rc, what);
}

/*
 * Apply the missing migrations.  The version is read once without a lock (the
 * common case: nothing to do), and again under BEGIN IMMEDIATE, so that two
 * processes starting on a new file apply each migration exactly once.
 */
static int migrate(struct sqlite_store *s)
{
	char sql[96];
	int version, ret;

	if ((ret = read_version(s, &version)) != GG_OK)
		return ret;
	if (version > MIGRATION_COUNT)
		return set_error(s, GG_ERROR,
				 "the database schema (version %d) is newer than this program "
				 "(version %d)",
				 version, MIGRATION_COUNT);
	if (version == MIGRATION_COUNT)
		return GG_OK;

	if ((ret = tx_begin(s)) != GG_OK)
		return ret;
	ret = exec_sql(s,
		       "CREATE TABLE IF NOT EXISTS schema_migrations ("
		       " version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
		       "migrations");
	if (ret == GG_OK)
		ret = read_version(s, &version);
	for (int v = version + 1; ret == GG_OK && v <= MIGRATION_COUNT; v++) {
		ret = exec_sql(s, migrations[v - 1], "migration");
		if (ret == GG_OK) {
			snprintf(sql, sizeof(sql),
				 "INSERT INTO schema_migrations VALUES (%d, %lld)", v,
				 (long long)gg_now());
			ret = exec_sql(s, sql, "migration");
		}
		if (ret != GG_OK) {
			char msg[sizeof(s->base.errmsg)];

			snprintf(msg, sizeof(msg), "%s", s->base.errmsg);
			set_error(s, ret, "migration %d: %s", v, msg);
		}
	}
	if (ret == GG_OK)
		ret = tx_commit(s);
	if (ret != GG_OK)
		tx_rollback(s);
	return ret;
}

static void sq_close(struct gg_store *st)
{
	struct sqlite_store *s = S(st);

	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s);
}

static const struct gg_store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .schema_version = sq_schema_version,
    .read_begin = sq_read_begin,
    .read_end = sq_read_end,
    .user_create = sq_user_create,
    .user_get = sq_user_get,
    .user_get_by_username = sq_user_get_by_username,
    .user_list = sq_user_list,
    .user_set_blocked = sq_user_set_blocked,
    .user_set_admin = sq_user_set_admin,
    .user_set_password = sq_user_set_password,
    .user_delete = sq_user_delete,
    .user_authenticate = sq_user_authenticate,
    .key_add = sq_key_add,
    .key_get = sq_key_get,
    .key_get_by_fingerprint = sq_key_get_by_fingerprint,
    .key_list_for_user = sq_key_list_for_user,
    .key_list_for_project = sq_key_list_for_project,
    .key_delete = sq_key_delete,
    .key_touch = sq_key_touch,
    .project_create = sq_project_create,
    .project_get = sq_project_get,
    .project_get_by_path = sq_project_get_by_path,
    .project_list = sq_project_list,
    .project_update = sq_project_update,
    .project_delete = sq_project_delete,
    .member_set = sq_member_set,
    .member_get_level = sq_member_get_level,
    .member_list = sq_member_list,
    .member_remove = sq_member_remove,
    .protected_branch_add = sq_protected_branch_add,
    .protected_branch_list = sq_protected_branch_list,
    .protected_branch_delete = sq_protected_branch_delete,
    .token_create = sq_token_create,
    .token_find = sq_token_find,
    .token_list_for_user = sq_token_list_for_user,
    .token_revoke = sq_token_revoke,
    .settings_get = sq_settings_get,
    .settings_update = sq_settings_update,
    .audit_add = sq_audit_add,
    .audit_list = sq_audit_list,
    .window_add = sq_window_add,
    .window_list = sq_window_list,
    .window_cancel = sq_window_cancel,
    .window_record = sq_window_record,
    .exemption_add = sq_exemption_add,
    .exemption_remove = sq_exemption_remove,
    .exemption_list = sq_exemption_list,
    .write_begin = sq_write_begin,
    .write_end = sq_write_end,
    .write_list = sq_write_list,
    .project_pushed = sq_project_pushed,
    .signin_check = sq_signin_check,
    .signin_failed = sq_signin_failed,
    .signin_clear = sq_signin_clear,
};

static int journal_cb(void *arg, int ncol, char **values, char **names)
{
	(void)names;
	if (ncol > 0 && values[0])
		snprintf(arg, 16, "%s", values[0]);
	return 0;
}

/*
 * The file holds password hashes and token digests: it is created 0600
 * before SQLite sees it (SQLite gives its -wal and -shm files the mode of
 * the database).
 */
int gg_store_sqlite_open(struct gg_store **out, const char *path, char *errbuf, size_t errlen)
{
	struct sqlite_store *s = NULL;
	char journal[16] = "";
	int rc, ret = GG_ERROR;

	*out = NULL;
	/*
	 * Only a file that does not exist yet is touched here: closing any
	 * descriptor of a database file drops every POSIX lock this process
	 * holds on it, so opening and closing an existing file while another
	 * connection of the process (another gate-api thread) has it open would
	 * let a second process delete the WAL under it and leave that
	 * connection reading a stale snapshot for ever.
	 */
	if (strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0) {
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		if (fd >= 0) {
			close(fd);
		} else if (errno != EEXIST) {
			snprintf(errbuf, errlen, "cannot open database %s: %s", path,
				 strerror(errno));
			return GG_ERROR;
		}
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(errbuf, errlen, "out of memory");
		return GG_ERROR;
	}
	s->base.ops = &sqlite_ops;
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
				 SQLITE_OPEN_URI,
			     NULL);
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errlen, "cannot open database %s: %s", path,
			 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto done;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	ret = exec_sql(s, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;", "open");
	if (ret == GG_OK) {
		/* Switching a new file to WAL needs a lock the busy handler does not
		 * always wait for (processes creating the file together): retry. */
		for (int i = 0; i < BUSY_TIMEOUT_MS / 10; i++) {
			rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", journal_cb, journal,
					  NULL);
			if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
				break;
			usleep(10000);
		}
		if (rc != SQLITE_OK)
			ret = db_error(s, rc, "enable WAL");
		else if (strcmp(journal, "wal") != 0 && strcmp(journal, "memory") != 0)
			ret = set_error(s, GG_ERROR, "cannot enable WAL mode (journal mode %s)",
					journal);
	}
	if (ret == GG_OK)
		ret = migrate(s);
	if (ret != GG_OK)
		snprintf(errbuf, errlen, "%s: %s", path, s->base.errmsg);
done:
	if (ret != GG_OK) {
		sq_close(&s->base);
		return ret;
	}
	*out = &s->base;
	return GG_OK;
}
