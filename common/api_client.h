/*
 * api_client.h - the one client of gate-api's internal API (SPEC §3).
 *
 * sshd-gate, gate-shell, gate-authorized-keys-check and gate-hook never
 * decide whether something is allowed: they ask gate-api here and obey.  The
 * invariant this module keeps for them is that "gate-api said no" and
 * "gate-api could not be asked" are never confused: a denial comes back as an
 * answer (GG_API_OK with allowed == false and gate-api's message), while a
 * refused connection, a timeout, a 5xx, a redirect or a body that is not the
 * expected JSON all come back as GG_API_EUNREACHABLE, which callers turn into
 * GG_MSG_API_UNREACHABLE.
 *
 * A client holds one libcurl easy handle, reused for keep-alive, so it is
 * not thread-safe; use one per process or per thread.  Every request carries
 * a fresh Gitlab-Shell-Api-Request JWT and the client's X-Request-Id.
 * Redirects are never followed.  Every request finishes within api_timeout
 * seconds.
 */
#ifndef GG_API_CLIENT_H
#define GG_API_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum {
	GG_API_OK = 0,
	GG_API_ENOTFOUND = -1,	  /* the key or user asked about does not exist */
	GG_API_EUNREACHABLE = -2, /* no usable answer: connection, timeout, 5xx, garbage */
	GG_API_EINVAL = -3,	  /* bad arguments from the caller */
	GG_API_ENOMEM = -4,
};

/* Largest response body accepted; a longer one counts as garbage. */
#define GG_API_MAX_BODY (1024 * 1024)

struct gg_api_client;

/*
 * A client for base_url (e.g. "http://127.0.0.1:8080"), signing with secret,
 * every request bounded by timeout_s seconds (connect and total; 0 means
 * 10).  The strings are copied.  GG_API_OK, GG_API_EINVAL or GG_API_ENOMEM.
 * Free with gg_api_client_free().
 */
int gg_api_client_new(struct gg_api_client **out, const char *base_url, const char *secret,
		      int timeout_s);

/* The same from a configuration: api_url, api_timeout and the secret file.
 * On failure a message is written into err. */
int gg_api_client_from_config(struct gg_api_client **out, const struct gg_config *cfg, char *err,
			      size_t errlen);

void gg_api_client_free(struct gg_api_client *client);

/* The X-Request-Id sent with every request (a random one by default). */
void gg_api_client_set_request_id(struct gg_api_client *client, const char *id);
const char *gg_api_client_request_id(const struct gg_api_client *client);

/* What went wrong in the last request, for logs ("" after success). */
const char *gg_api_client_error(const struct gg_api_client *client);

/* A short English description of a GG_API_* code, for logs. */
const char *gg_api_strerror(int code);

/* --- POST /api/v4/internal/allowed -------------------------------------------------- */

struct gg_api_allowed_request {
	const char *action;  /* "git-upload-pack" | "git-receive-pack" | "git-upload-archive" */
	const char *project; /* the path as the user typed it */
	/*
	 * Who asks: at most one of key_id ("N" or "key-N"), user_id ("N" or
	 * "user-N") and username.  None asks only the instance-wide questions
	 * that gate-api answers before identity (maintenance, Geo secondary):
	 * when those pass, the answer is a denial with GG_MSG_UNKNOWN_USER.
	 * gate-hook does that for a push nobody is named for.
	 */
	const char *key_id;
	const char *user_id;
	const char *username;
	const char *protocol;	  /* NULL means "ssh" */
	const char *changes;	  /* NULL means "_any" */
	const char *check_ip;	  /* the client's address; may be NULL */
	const char *git_protocol; /* GIT_PROTOCOL as the client sent it; may be NULL */
};

struct gg_api_allowed {
	bool allowed;
	long http_status;
	char *message; /* gate-api's reason when !allowed; may be NULL */
	char *gl_repository;
	char *gl_project_path;
	char *gl_id;
	char *gl_username;
	char *gl_key_type;
	char *gl_key_id;
	char *git_protocol;
	char *storage_name;  /* gitaly.repository.storage_name */
	char *relative_path; /* gitaly.repository.relative_path */
	char **console_messages;
	size_t n_console_messages;
};

/*
 * Ask whether req may go ahead.  GG_API_OK means gate-api answered: see
 * out->allowed, and out->message for a denial.  Every string in *out is
 * NULL or owned by *out; release with gg_api_allowed_clear() in every case.
 */
int gg_api_allowed(struct gg_api_client *client, const struct gg_api_allowed_request *req,
		   struct gg_api_allowed *out);
void gg_api_allowed_clear(struct gg_api_allowed *a);

/* --- GET /api/v4/internal/authorized_keys?key=<blob> -------------------------------- */

/* The id of the key whose base64 blob is given: GG_API_OK, GG_API_ENOTFOUND
 * or GG_API_EUNREACHABLE. */
int gg_api_authorized_key(struct gg_api_client *client, const char *base64_blob,
			  int64_t *key_id_out);

/* --- GET /api/v4/internal/discover?key_id=N|username=U ------------------------------ */

struct gg_api_user {
	int64_t id;
	char *name;
	char *username;
};

/* The user of a key (key_id > 0) or of a name (username non-NULL).
 * GG_API_OK, GG_API_ENOTFOUND or GG_API_EUNREACHABLE.  Release with
 * gg_api_user_clear() in every case. */
int gg_api_discover(struct gg_api_client *client, int64_t key_id, const char *username,
		    struct gg_api_user *out);
void gg_api_user_clear(struct gg_api_user *u);

/* --- GET /api/v4/internal/check ------------------------------------------------------ */

struct gg_api_check_result {
	char *api_version;
	char *version;
	char *revision;
	char *database;
};

int gg_api_check(struct gg_api_client *client, struct gg_api_check_result *out);
void gg_api_check_clear(struct gg_api_check_result *c);

/* --- POST /api/v4/internal/pre_receive and post_receive ------------------------------ */

/* Tells gate-api a write to gl_repository is starting (the reference counter
 * behind drain) by identifier ("user-N", "key-N"; may be NULL: the in-flight
 * list then names nobody).  GG_API_OK only when gate-api confirmed the
 * increase. */
int gg_api_pre_receive(struct gg_api_client *client, const char *gl_repository,
		       const char *identifier);

struct gg_api_message {
	char *message;
	char *type; /* "basic" | "alert" */
};

struct gg_api_post_receive {
	bool reference_counter_decreased;
	struct gg_api_message *messages;
	size_t n_messages;
};

/*
 * Tells gate-api the write to gl_repository is over.  identifier is "key-N"
 * or "user-N"; changes the "<old> <new> <ref>" lines that were applied;
 * push_options the client's -o values.  Release with
 * gg_api_post_receive_clear() in every case.
 */
int gg_api_post_receive(struct gg_api_client *client, const char *gl_repository,
			const char *identifier, const char *changes,
			const char *const *push_options, size_t n_push_options,
			struct gg_api_post_receive *out);
void gg_api_post_receive_clear(struct gg_api_post_receive *p);

#endif
