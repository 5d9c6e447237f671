/*
 * store.h - the one interface to gitgate's state: users, keys, projects,
 * members, protected branches, tokens, application settings, audit events.
 *
 * Two backends implement it through struct gg_store_ops: SQLite (the default,
 * store_sqlite.c, WAL mode) and PostgreSQL (store_pg.c, for several nodes on
 * one database).  The backend is chosen by the URL given to gg_store_open():
 * "sqlite:PATH" (or a bare path) or "postgresql://..." / "postgres://...".  Opening a store applies
 * the numbered schema migrations that are not applied yet.
 *
 * A struct gg_store is one connection: use it from one thread at a time
 * (gate-api keeps one per worker thread).  Every function returns GG_OK (0)
 * or a negative GG_E* code; gg_store_errmsg() says what went wrong last.
 * Records are returned in caller-owned structs with fixed-size strings, so
 * nothing needs freeing except the arrays of the *_list functions (free()).
 *
 * Secrets never reach the database in clear: passwords are argon2id hashes,
 * tokens are stored as the SHA-256 of their secret.
 */
#ifndef GG_STORE_H
#define GG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	GG_OK = 0,
	GG_ERROR = -1,	   /* database or system error */
	GG_ENOTFOUND = -2, /* no such record */
	GG_EEXISTS = -3,   /* a unique field is taken */
	GG_EINVALID = -4,  /* an argument is not acceptable */
	GG_EDENIED = -5,   /* credentials do not match */
	GG_EREADONLY = -6, /* the store is a read-only replica */
	GG_EBUSY = -7,	   /* locked by another writer for longer than the busy timeout */
};

enum gg_visibility {
	GG_VISIBILITY_PRIVATE = 0,
	GG_VISIBILITY_INTERNAL = 10,
	GG_VISIBILITY_PUBLIC = 20
};

enum gg_access_level {
	GG_ACCESS_NONE = 0,
	GG_ACCESS_GUEST = 10,
	GG_ACCESS_REPORTER = 20,
	GG_ACCESS_DEVELOPER = 30,
	GG_ACCESS_MAINTAINER = 40,
	GG_ACCESS_OWNER = 50,
	GG_ACCESS_NO_ONE = 0 /* for protected branches: nobody may push */
};

#define GG_NAME_MAX	256
#define GG_PATH_MAX	512
#define GG_MESSAGE_MAX	2048
#define GG_KEY_BLOB_MAX 8192

struct gg_user {
	int64_t id;
	char username[GG_NAME_MAX];
	char name[GG_NAME_MAX];
	char email[GG_NAME_MAX];
	bool admin;
	bool blocked; /* state: "blocked" when true, "active" otherwise */
	int64_t created_at;
};

struct gg_key {
	int64_t id;
	int64_t user_id;    /* 0 for a deploy key */
	int64_t project_id; /* deploy keys only, else 0 */
	bool can_push;	    /* deploy keys only */
	char title[GG_NAME_MAX];
	char type[64];		    /* "ssh-ed25519", "ssh-rsa", ... */
	char blob[GG_KEY_BLOB_MAX]; /* base64, as in authorized_keys */
	char fingerprint[128];	    /* "SHA256:<unpadded base64>" */
	int64_t created_at;
	int64_t last_used_at; /* 0 when never used */
};

struct gg_project {
	int64_t id;
	char full_path[GG_PATH_MAX]; /* group[/subgroup]/name, unique (case-insensitive) */
	char name[GG_NAME_MAX];	     /* last segment of full_path */
	enum gg_visibility visibility;
	char default_branch[GG_NAME_MAX]; /* "main" */
	bool read_only;
	char read_only_message[GG_MESSAGE_MAX]; /* "" = the default message */
	char repo_path[GG_PATH_MAX];		/* relative to storage root: "<full_path>.git" */
	int64_t creator_id;
	int64_t created_at;
	/* Push generation: moved by one on every accepted push (gg_store_project_pushed),
	 * 0 = never pushed.  A Geo secondary reads it from its replica of the database and
	 * fetches only the projects whose generation moved. */
	int64_t pushed_seq;
	int64_t pushed_at; /* the last accepted push, 0 = none */
};

struct gg_member {
	int64_t project_id;
	int64_t user_id;
	int access_level;
	char username[GG_NAME_MAX]; /* filled by list */
};

struct gg_protected_branch {
	int64_t id;
	int64_t project_id;
	char name[GG_NAME_MAX]; /* exact name or a pattern with '*' */
	int push_access_level;	/* GG_ACCESS_MAINTAINER, GG_ACCESS_DEVELOPER or GG_ACCESS_NO_ONE */
};

enum gg_token_kind { GG_TOKEN_PERSONAL = 0, GG_TOKEN_OAUTH = 1, GG_TOKEN_SESSION = 2 };

struct gg_token {
	int64_t id;
	int64_t user_id;
	enum gg_token_kind kind;
	char name[GG_NAME_MAX];
	char scopes[GG_NAME_MAX]; /* comma-separated: "api,read_api,read_repository,..." */
	int64_t expires_at;	  /* 0 = never */
	bool revoked;
	int64_t created_at;
	int64_t last_used_at;
};

/* A scheduled maintenance window (SPEC §7): maintenance is on from start_at
 * (inclusive) to end_at (exclusive), announced notice seconds before. */
struct gg_maintenance_window {
	int64_t id;
	int64_t start_at;	      /* Unix seconds */
	int64_t end_at;		      /* > start_at */
	int64_t notice;		      /* seconds before start_at to announce it; 0 = none */
	char message[GG_MESSAGE_MAX]; /* "" = the maintenance mode message */
	bool cancelled;
	char created_by[GG_NAME_MAX];
	int64_t created_at;
	bool start_recorded; /* its start and end are in the audit trail */
	bool end_recorded;
};

enum gg_window_state {
	GG_WINDOW_NONE,	     /* no window in force or to come */
	GG_WINDOW_SCHEDULED, /* the next one is further ahead than its notice */
	GG_WINDOW_ANNOUNCED, /* the next one starts within its notice */
	GG_WINDOW_ACTIVE,    /* now is within one */
};

struct gg_settings {
	/* In force: the switch, or now within a scheduled window.  Evaluated by
	 * the store when read (on PostgreSQL by the database's clock, so every
	 * node agrees on the instant). */
	bool maintenance_mode;
	char maintenance_mode_message[GG_MESSAGE_MAX]; /* "" = none */
	int64_t updated_at;
	bool maintenance_switch; /* the stored switch alone (gatectl maintenance on/off) */
	/* The window in force, else the next one (id 0 = none), and the time the
	 * store evaluated them at. */
	struct gg_maintenance_window window;
	enum gg_window_state window_state;
	int64_t now;
};

/* Who may still push while maintenance is on: a source network or a user. */
enum gg_exemption_kind { GG_EXEMPT_CIDR = 0, GG_EXEMPT_USER = 1 };

struct gg_exemption {
	int64_t id;
	enum gg_exemption_kind kind;
	char value[GG_NAME_MAX]; /* "10.0.0.0/8", "2001:db8::/32", or a username */
	int64_t created_at;
};

/* A push between /internal/pre_receive and /internal/post_receive, on any node. */
struct gg_write_in_flight {
	char request_id[64]; /* the X-Request-Id of the SSH session */
	char node[GG_NAME_MAX];
	char project[GG_PATH_MAX];
	char username[GG_NAME_MAX];
	int64_t started_at;
	int64_t expires_at; /* forgotten after this, should post_receive never come */
};

struct gg_audit_event {
	int64_t id;
	int64_t actor_id;	  /* 0 = console (gatectl) */
	char actor[GG_NAME_MAX];  /* username, or "gatectl (uid N)" */
	char action[64];	  /* e.g. "settings.update" */
	char target[GG_NAME_MAX]; /* e.g. "maintenance_mode" */
	char old_value[GG_MESSAGE_MAX];
	char new_value[GG_MESSAGE_MAX];
	int64_t created_at;
};

struct gg_store;

/* Open (creating and migrating as needed). */
int gg_store_open(struct gg_store **out, const char *database_url, char *errbuf, size_t errlen);
void gg_store_close(struct gg_store *st);
/* The database URL with its password replaced by "***", for messages and logs. */
void gg_store_url_redacted(char *dst, size_t cap, const char *url);
const char *gg_store_errmsg(struct gg_store *st);
/*
 * Read several records from one consistent snapshot: between read_begin and
 * read_end every read sees the same state (an access decision never mixes a
 * key from before a change with a project from after it), and SQLite takes
 * its file locks once instead of once per statement, which is most of the
 * cost of /internal/allowed.  Writes inside are allowed but may fail when
 * another process wrote since the snapshot began.  read_end always ends it.
 */
int gg_store_read_begin(struct gg_store *st);
void gg_store_read_end(struct gg_store *st);

/* Number of the newest migration applied. */
int gg_store_schema_version(struct gg_store *st, int *out);

/* Users.  create: fills id and created_at; password may be NULL (no web sign-in).
 * create is refused with GG_EREADONLY (message GG_MSG_READ_ONLY) while maintenance
 * mode is on, whoever asks (SPEC §4).  set_password with NULL removes the password. */
int gg_store_user_create(struct gg_store *st, struct gg_user *user, const char *password);
int gg_store_user_get(struct gg_store *st, int64_t id, struct gg_user *out);
int gg_store_user_get_by_username(struct gg_store *st, const char *username, struct gg_user *out);
int gg_store_user_list(struct gg_store *st, struct gg_user **out, size_t *count);
int gg_store_user_set_blocked(struct gg_store *st, int64_t id, bool blocked);
int gg_store_user_set_admin(struct gg_store *st, int64_t id, bool admin);
int gg_store_user_set_password(struct gg_store *st, int64_t id, const char *password);
/* Deletes the user's keys, memberships and tokens too. */
int gg_store_user_delete(struct gg_store *st, int64_t id);
/* login is a username or an email. GG_EDENIED when unknown, wrong or no password. */
int gg_store_user_authenticate(struct gg_store *st, const char *login, const char *password,
			       struct gg_user *out);

/* SSH keys (user keys and deploy keys). add: validates type and blob, computes the
 * fingerprint, fills id, created_at; GG_EEXISTS if the fingerprint is registered already. */
int gg_store_key_add(struct gg_store *st, struct gg_key *key);
int gg_store_key_get(struct gg_store *st, int64_t id, struct gg_key *out);
int gg_store_key_get_by_fingerprint(struct gg_store *st, const char *fingerprint,
				    struct gg_key *out);
int gg_store_key_list_for_user(struct gg_store *st, int64_t user_id, struct gg_key **out,
			       size_t *count);
int gg_store_key_list_for_project(struct gg_store *st, int64_t project_id, struct gg_key **out,
				  size_t *count);
int gg_store_key_delete(struct gg_store *st, int64_t id);
/* last_used_at = now, written at most once a minute per key; never fails a request. */
int gg_store_key_touch(struct gg_store *st, int64_t id);

/* Projects.  create: fills id, name, repo_path, created_at (the repository on disk is the
 * caller's job); full_path must be group[/subgroup]/name.  get_by_path ignores case, a
 * leading "/" and a trailing ".git". */
int gg_store_project_create(struct gg_store *st, struct gg_project *project);
int gg_store_project_get(struct gg_store *st, int64_t id, struct gg_project *out);
int gg_store_project_get_by_path(struct gg_store *st, const char *full_path,
				 struct gg_project *out);
int gg_store_project_list(struct gg_store *st, struct gg_project **out, size_t *count);
/* Updates visibility, default_branch, read_only and read_only_message. */
int gg_store_project_update(struct gg_store *st, const struct gg_project *project);
/* Deletes members, protected branches and deploy keys too. */
int gg_store_project_delete(struct gg_store *st, int64_t id);

/* Members.  set inserts or updates; get_level gives GG_ACCESS_NONE when not a member. */
int gg_store_member_set(struct gg_store *st, int64_t project_id, int64_t user_id, int access_level);
int gg_store_member_get_level(struct gg_store *st, int64_t project_id, int64_t user_id, int *level);
int gg_store_member_list(struct gg_store *st, int64_t project_id, struct gg_member **out,
			 size_t *count);
int gg_store_member_remove(struct gg_store *st, int64_t project_id, int64_t user_id);

/* Protected branches. */
int gg_store_protected_branch_add(struct gg_store *st, struct gg_protected_branch *pb);
int gg_store_protected_branch_list(struct gg_store *st, int64_t project_id,
				   struct gg_protected_branch **out, size_t *count);
int gg_store_protected_branch_delete(struct gg_store *st, int64_t project_id, const char *name);

/* Tokens.  create: fills id and created_at and returns the secret once in *secret_out
 * (caller frees); only its SHA-256 is stored.  find: GG_ENOTFOUND for an unknown, expired
 * or revoked secret; updates last_used_at (at most once a minute).  Personal tokens are
 * "glpat-" + 20 URL-safe characters; OAuth and session tokens 40 URL-safe characters. */
int gg_store_token_create(struct gg_store *st, struct gg_token *token, char **secret_out);
int gg_store_token_find(struct gg_store *st, const char *secret, struct gg_token *out);
int gg_store_token_list_for_user(struct gg_store *st, int64_t user_id, struct gg_token **out,
				 size_t *count);
int gg_store_token_revoke(struct gg_store *st, int64_t id);

/* Application settings (one row). update writes the new values and one audit event per
 * changed field (actor_id 0 = console) in one transaction. */
int gg_store_settings_get(struct gg_store *st, struct gg_settings *out);
int gg_store_settings_update(struct gg_store *st, const struct gg_settings *settings,
			     int64_t actor_id, const char *actor);

/* Maintenance windows.  add: validates (end after start, end still to
 * come), fills id and created_at, and records an audit event.  list: with all false only those not
 * cancelled and not ended, by start; with all true every window, newest first.  cancel:
 * GG_ENOTFOUND for an unknown or already cancelled window.  record: write the audit event of a
 * window's "start" or "end" once, whatever the number of nodes asking: GG_EEXISTS when it is
 * recorded already. */
int gg_store_window_add(struct gg_store *st, struct gg_maintenance_window *w, int64_t actor_id,
			const char *actor);
int gg_store_window_list(struct gg_store *st, bool all, struct gg_maintenance_window **out,
			 size_t *count);
int gg_store_window_cancel(struct gg_store *st, int64_t id, int64_t actor_id, const char *actor);
int gg_store_window_record(struct gg_store *st, int64_t window_id, const char *kind,
			   struct gg_audit_event *event);

/* Maintenance exemptions (off when the list is empty).  add validates the CIDR
 * or the username (the user need not exist) and records an audit event;
 * GG_EEXISTS when listed already; remove: GG_ENOTFOUND when not listed. */
int gg_store_exemption_add(struct gg_store *st, enum gg_exemption_kind kind, const char *value,
			   int64_t actor_id, const char *actor);
int gg_store_exemption_remove(struct gg_store *st, enum gg_exemption_kind kind, const char *value,
			      int64_t actor_id, const char *actor);
int gg_store_exemption_list(struct gg_store *st, struct gg_exemption **out, size_t *count);

/* Writes in flight, shared by every node (drain).  begin replaces a record with
 * the same request_id; end: GG_ENOTFOUND when there was none; list gives those
 * not expired, oldest first. */
int gg_store_write_begin(struct gg_store *st, const struct gg_write_in_flight *w);
int gg_store_write_end(struct gg_store *st, const char *request_id);
int gg_store_write_list(struct gg_store *st, struct gg_write_in_flight **out, size_t *count);

/* A push to project_id was accepted (post_receive with ref changes): move its push
 * generation and, when request_id is not NULL, end that write in flight, in one
 * transaction.  *seq (may be NULL) gets the new generation; GG_ENOTFOUND for an
 * unknown project (nothing changed). */
int gg_store_project_pushed(struct gg_store *st, int64_t project_id, const char *request_id,
			    int64_t *seq);

/* Failed password sign-ins, shared by every node on the database (the guessing
 * limit of sessions.c).  Keys are the caller's ("u:<login>", "i:<address>").
 * check: *exhausted when login_key has max_login failures, or address_key
 * max_address, within the last window seconds.  failed: one more failure for both
 * keys (a key whose window has passed starts a new one; records older than the
 * window are removed).  clear: forget login_key's failures.  On a read-only
 * replica failed and clear give GG_EREADONLY. */
int gg_store_signin_check(struct gg_store *st, const char *login_key, const char *address_key,
			  int64_t window, int max_login, int max_address, bool *exhausted);
int gg_store_signin_failed(struct gg_store *st, const char *login_key, const char *address_key,
			   int64_t window);
int gg_store_signin_clear(struct gg_store *st, const char *login_key);

/* Audit events, newest first; list with limit 0 gives all. add fills id (and created_at
 * when 0). */
int gg_store_audit_add(struct gg_store *st, struct gg_audit_event *event);
int gg_store_audit_list(struct gg_store *st, size_t limit, struct gg_audit_event **out,
			size_t *count);

/* Backend interface: every gg_store_* function above forwards to one of these. */
struct gg_store_ops {
	const char *name;
	void (*close)(struct gg_store *st);
	int (*schema_version)(struct gg_store *st, int *out);
	int (*read_begin)(struct gg_store *st);
	void (*read_end)(struct gg_store *st);
	int (*user_create)(struct gg_store *, struct gg_user *, const char *);
	int (*user_get)(struct gg_store *, int64_t, struct gg_user *);
	int (*user_get_by_username)(struct gg_store *, const char *, struct gg_user *);
	int (*user_list)(struct gg_store *, struct gg_user **, size_t *);
	int (*user_set_blocked)(struct gg_store *, int64_t, bool);
	int (*user_set_admin)(struct gg_store *, int64_t, bool);
	int (*user_set_password)(struct gg_store *, int64_t, const char *);
	int (*user_delete)(struct gg_store *, int64_t);
	int (*user_authenticate)(struct gg_store *, const char *, const char *, struct gg_user *);
	int (*key_add)(struct gg_store *, struct gg_key *);
	int (*key_get)(struct gg_store *, int64_t, struct gg_key *);
	int (*key_get_by_fingerprint)(struct gg_store *, const char *, struct gg_key *);
	int (*key_list_for_user)(struct gg_store *, int64_t, struct gg_key **, size_t *);
	int (*key_list_for_project)(struct gg_store *, int64_t, struct gg_key **, size_t *);
	int (*key_delete)(struct gg_store *, int64_t);
	int (*key_touch)(struct gg_store *, int64_t);
	int (*project_create)(struct gg_store *, struct gg_project *);
	int (*project_get)(struct gg_store *, int64_t, struct gg_project *);
	int (*project_get_by_path)(struct gg_store *, const char *, struct gg_project *);
	int (*project_list)(struct gg_store *, struct gg_project **, size_t *);
	int (*project_update)(struct gg_store *, const struct gg_project *);
	int (*project_delete)(struct gg_store *, int64_t);
	int (*member_set)(struct gg_store *, int64_t, int64_t, int);
	int (*member_get_level)(struct gg_store *, int64_t, int64_t, int *);
	int (*member_list)(struct gg_store *, int64_t, struct gg_member **, size_t *);
	int (*member_remove)(struct gg_store *, int64_t, int64_t);
	int (*protected_branch_add)(struct gg_store *, struct gg_protected_branch *);
	int (*protected_branch_list)(struct gg_store *, int64_t, struct gg_protected_branch **,
				     size_t *);
	int (*protected_branch_delete)(struct gg_store *, int64_t, const char *);
	int (*token_create)(struct gg_store *, struct gg_token *, char **);
	int (*token_find)(struct gg_store *, const char *, struct gg_token *);
	int (*token_list_for_user)(struct gg_store *, int64_t, struct gg_token **, size_t *);
	int (*token_revoke)(struct gg_store *, int64_t);
	int (*settings_get)(struct gg_store *, struct gg_settings *);
	int (*settings_update)(struct gg_store *, const struct gg_settings *, int64_t,
			       const char *);
	int (*audit_add)(struct gg_store *, struct gg_audit_event *);
	int (*audit_list)(struct gg_store *, size_t, struct gg_audit_event **, size_t *);
	/* store.c validates and writes the audit events of these. */
	int (*window_add)(struct gg_store *, struct gg_maintenance_window *);
	int (*window_list)(struct gg_store *, bool, struct gg_maintenance_window **, size_t *);
	int (*window_cancel)(struct gg_store *, int64_t);
	int (*window_record)(struct gg_store *, int64_t, const char *, struct gg_audit_event *);
	int (*exemption_add)(struct gg_store *, enum gg_exemption_kind, const char *);
	int (*exemption_remove)(struct gg_store *, enum gg_exemption_kind, const char *);
	int (*exemption_list)(struct gg_store *, struct gg_exemption **, size_t *);
	int (*write_begin)(struct gg_store *, const struct gg_write_in_flight *);
	int (*write_end)(struct gg_store *, const char *);
	int (*write_list)(struct gg_store *, struct gg_write_in_flight **, size_t *);
	int (*project_pushed)(struct gg_store *, int64_t, const char *, int64_t *);
	int (*signin_check)(struct gg_store *, const char *, const char *, int64_t, int, int,
			    bool *);
	int (*signin_failed)(struct gg_store *, const char *, const char *, int64_t);
	int (*signin_clear)(struct gg_store *, const char *);
};

/* Every backend's connection struct begins with this. */
struct gg_store {
	const struct gg_store_ops *ops;
	char errmsg[512];
};

/* For backends: fill window_state and the effective maintenance_mode of s from
 * the switch, s->window and s->now (as read by the backend). */
void gg_store_settings_evaluate(struct gg_settings *s);

/* Backends' open functions (store.c picks one by URL). */
int gg_store_sqlite_open(struct gg_store **out, const char *path, char *errbuf, size_t errlen);
/* url: a libpq connection URI, postgresql://user:pass@host:port/db?options. */
int gg_store_pg_open(struct gg_store **out, const char *url, char *errbuf, size_t errlen);

#endif
