/*
 * gatectl_geo.c - 'gatectl geo sync [--follow]' and 'gatectl geo status'
 * (gatectl_geo.h).
 *
 * Why a pull from the primary's sshd-gate: the secondary already has the
 * projects table (a replica of the primary's database), so it knows which
 * repositories exist; the primary needs no new endpoint, the replication
 * account is an ordinary user whose reads go through the same access check
 * as everyone's, and reads stay allowed while the primary is in maintenance
 * mode, which is exactly when a failover needs the last pass.
 *
 * One pass: for each project, ls-remote the primary (libgit2's SSH transport,
 * libssh2 underneath), compare with the local refs, and when anything differs
 * fetch every ref under refs/ (forced, with pruning), so that the local repository ends with
 * exactly the primary's refs; HEAD follows the primary's.  Repositories of
 * projects that no longer exist are removed.  The pass's outcome, per
 * project, goes to the status file ([geo] status_file), written whole and
 * renamed into place, so a reader never sees half of it.
 *
 * --follow is driven by pushes: every push the primary accepts moves its
 * project's push generation (projects.pushed_seq, by /internal/post_receive),
 * which reaches the standby by streaming replication.  Every --interval
 * seconds the loop reads the generations (one query on the replica; a hot
 * standby cannot LISTEN) and syncs only the projects whose generation
 * differs from the one it synced them at; a full pass runs at the start,
 * when the set of projects changes, and every --full-interval seconds.  The
 * generations synced are kept in memory and in the status file (the standby
 * cannot be written), which 'geo status' compares with the replica's.
 *
 * The primary's host key is checked against [geo] primary_host_keys (the
 * SHA256 fingerprints 'sshd-gate --print-host-keys' prints on the primary);
 * without that setting nothing is fetched.
 */
#include "gatectl_geo.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <git2.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "repo.h"
#include "store.h"
#include "util.h"

#define GEO_REFSPEC "+refs/*:refs/*"

struct geo {
	struct gg_config cfg;
	struct gg_store *st;
	char pubkey[4096]; /* <replication_key>.pub when it exists, else "" */
};

/* What one project's fetch needs in libgit2's callbacks. */
struct geo_fetch {
	const struct geo *g;
	int credential_attempts;
};

static volatile sig_atomic_t stop_requested;

#ifdef __SANITIZE_ADDRESS__
/* libgit2 1.5's SSH transport loses a little per connection (the libssh2
 * known-hosts list and two strings of its path: load_known_hosts never frees
 * them; fixed in later libgit2).  Only allocations made inside
 * git_remote_connect_ext are ignored, so a remote or repository we forgot to
 * free is still a leak.  Matching the function needs full stacks
 * (ASAN_OPTIONS=fast_unwind_on_malloc=0; tests/e2e/test_geo.sh sets it),
 * since Debian's libgit2 has no frame pointers. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:git_remote_connect_ext\n";
}
#endif

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: gatectl [--config FILE] geo sync [--follow [--interval SECONDS]"
			" [--full-interval SECONDS]]\n"
			"       gatectl [--config FILE] geo status\n");
	return 2;
}

static const char *git_error_text(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown libgit2 error";
}

/* ---- SSH: the replication key and the primary's host key ---- */

static int geo_credentials(git_credential **out, const char *url, const char *username_from_url,
			   unsigned int allowed, void *payload)
{
	struct geo_fetch *f = payload;
	const char *user = username_from_url && *username_from_url ? username_from_url : "git";

	(void)url;
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	/* libgit2 asks again after a refusal; one try is all there is. */
	if (!(allowed & GIT_CREDENTIAL_SSH_KEY) || f->credential_attempts++ > 0) {
		git_error_set_str(GIT_ERROR_SSH, "the primary refused the replication key");
		return GIT_EAUTH;
	}
	return git_credential_ssh_key_new(out, user, f->g->pubkey[0] ? f->g->pubkey : NULL,
					  f->g->cfg.geo_replication_key, NULL);
}

/* "SHA256:<unpadded base64>", as libssh and OpenSSH print fingerprints. */
static void sha256_fingerprint(char *out, size_t outlen, const unsigned char hash[32])
{
	unsigned char b64[64];
	int n = EVP_EncodeBlock(b64, hash, 32);

	while (n > 0 && b64[n - 1] == '=')
		n--;
	snprintf(out, outlen, "SHA256:%.*s", n, (const char *)b64);
}

/* Is fp one of the whitespace- or comma-separated fingerprints in list? */
static bool fingerprint_listed(const char *list, const char *fp)
{
	size_t fplen = strlen(fp);

	while (list && *list) {
		size_t n;

		list += strspn(list, " \t,");
		n = strcspn(list, " \t,");
		if (n == fplen && strncmp(list, fp, n) == 0)
			return true;
		list += n;
	}
	return false;
}

static int geo_check_host_key(git_cert *cert, int valid, const char *host, void *payload)
{
	struct geo_fetch *f = payload;
	const git_cert_hostkey *hk = (const git_cert_hostkey *)cert;
	char fp[128];

	(void)valid;
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2 || !(hk->type & GIT_CERT_SSH_SHA256)) {
		git_error_set(GIT_ERROR_SSH, "no SHA256 host key fingerprint from %s", host);
		return GIT_ECERTIFICATE;
	}
	sha256_fingerprint(fp, sizeof(fp), hk->hash_sha256);
	if (!fingerprint_listed(f->g->cfg.geo_primary_host_keys, fp)) {
		git_error_set(GIT_ERROR_SSH,
			      "the host key of %s (%s) is not in [geo] primary_host_keys", host,
			      fp);
		return GIT_ECERTIFICATE;
	}
	return 0;
}

/* ---- one project ---- */

/* Do the primary's refs (heads from ls-remote) differ from the local ones? */
static bool refs_differ(git_repository *repo, const git_remote_head **heads, size_t n)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	size_t remote_refs = 0, local_refs = 0;
	bool differ = false;

	for (size_t i = 0; i < n && !differ; i++) {
		const char *name = heads[i]->name;
		git_oid local;
		size_t len = strlen(name);

		if (strncmp(name, "refs/", 5) != 0 ||
		    (len > 3 && strcmp(name + len - 3, "^{}") == 0))
			continue;
		remote_refs++;
		if (git_reference_name_to_id(&local, repo, name) != 0 ||
		    !git_oid_equal(&local, &heads[i]->oid))
			differ = true;
	}
	if (differ)
		return true;
	if (git_reference_iterator_glob_new(&it, repo, "refs/*") != 0)
		return true;
	while (git_reference_next(&ref, it) == 0) {
		local_refs++;
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	return local_refs != remote_refs;
}

/* Point HEAD where the primary's points (else at the project's default branch). */
static void follow_head(git_repository *repo, git_remote *remote, const struct gg_project *p)
{
	git_buf head = GIT_BUF_INIT;
	char fallback[GG_NAME_MAX + 16];
	const char *target = fallback;

	snprintf(fallback, sizeof(fallback), "refs/heads/%s", p->default_branch);
	if (git_remote_default_branch(&head, remote) == 0 && head.ptr)
		target = head.ptr;
	if (git_repository_set_head(repo, target) != 0)
		fprintf(stderr, "gatectl: %s: cannot set HEAD to %s: %s\n", p->full_path, target,
			git_error_text());
	git_buf_dispose(&head);
}

/*
 * Bring one repository in step with the primary.  0 (with *fetched telling
 * whether anything had to be fetched and *refs the primary's ref count), or
 * -1 with the reason in err.
 */
static int sync_project(const struct geo *g, const struct gg_project *p, bool *fetched,
			size_t *refs, char *err, size_t errlen)
{
	struct geo_fetch f = {g, 0};
	git_remote_callbacks callbacks;
	git_fetch_options fetch_opts;
	git_remote_create_options create_opts;
	char *refspec_list[] = {GEO_REFSPEC};
	git_strarray refspecs = {refspec_list, 1};
	const git_remote_head **heads = NULL;
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	char *path = NULL, *url = NULL;
	size_t nheads = 0, base_len;
	struct stat sb;
	int ret = -1;

	*fetched = false;
	*refs = 0;
	git_remote_init_callbacks(&callbacks, GIT_REMOTE_CALLBACKS_VERSION);
	git_fetch_options_init(&fetch_opts, GIT_FETCH_OPTIONS_VERSION);
	git_remote_create_options_init(&create_opts, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	if (gg_repo_check_path(p->repo_path, err, errlen) < 0)
		return -1;
	path = gg_strdup_printf("%s/%s", g->cfg.storage_root, p->repo_path);
	base_len = strlen(g->cfg.geo_primary_ssh_url);
	while (base_len > 0 && g->cfg.geo_primary_ssh_url[base_len - 1] == '/')
		base_len--;
	url = gg_strdup_printf("%.*s/%s", (int)base_len, g->cfg.geo_primary_ssh_url, p->repo_path);
	if (!path || !url) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (stat(path, &sb) != 0 &&
	    gg_repo_create(g->cfg.storage_root, p->repo_path, p->default_branch, err, errlen) < 0)
		goto done;
	if (git_repository_open_bare(&repo, path) != 0) {
		snprintf(err, errlen, "%s", git_error_text());
		goto done;
	}
	/* An anonymous remote with the configured URL as it is (no insteadOf). */
	create_opts.repository = repo;
	create_opts.flags =
	    GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&remote, url, &create_opts) != 0) {
		snprintf(err, errlen, "%s", git_error_text());
		goto done;
	}
	callbacks.credentials = geo_credentials;
	callbacks.certificate_check = geo_check_host_key;
	callbacks.payload = &f;
	if (git_remote_connect(remote, GIT_DIRECTION_FETCH, &callbacks, NULL, NULL) != 0 ||
	    git_remote_ls(&heads, &nheads, remote) != 0) {
		snprintf(err, errlen, "%s", git_error_text());
		goto done;
	}
	for (size_t i = 0; i < nheads; i++)
		if (strncmp(heads[i]->name, "refs/", 5) == 0 && !strstr(heads[i]->name, "^{}"))
			(*refs)++;
	if (refs_differ(repo, heads, nheads)) {
		fetch_opts.callbacks = callbacks;
		fetch_opts.prune = GIT_FETCH_PRUNE;
		fetch_opts.update_fetchhead = 0;
		fetch_opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
		if (git_remote_fetch(remote, &refspecs, &fetch_opts, "geo sync") != 0) {
			snprintf(err, errlen, "%s", git_error_text());
			goto done;
		}
		*fetched = true;
	}
	follow_head(repo, remote, p);
	ret = 0;
done:
	if (remote) {
		git_remote_disconnect(remote);
		git_remote_free(remote);
	}
	git_repository_free(repo);
	free(path);
	free(url);
	return ret;
}

/* ---- repositories of projects that are gone ---- */

struct stale_walk {
	const char *root;
	size_t root_len;
	const struct gg_project *projects;
	size_t count;
	char **stale;
	size_t nstale;
};

static struct stale_walk *walk_state; /* nftw has no user pointer */

static bool is_project_repo(const struct stale_walk *w, const char *rel)
{
	for (size_t i = 0; i < w->count; i++)
		if (strcmp(w->projects[i].repo_path, rel) == 0)
			return true;
	return false;
}

static int visit(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
	struct stale_walk *w = walk_state;
	size_t len = strlen(fpath);
	const char *rel;
	char **grown;

	(void)sb;
	(void)ftw;
	if (type != FTW_D || len < 4 || strcmp(fpath + len - 4, ".git") != 0 ||
	    len <= w->root_len + 1)
		return FTW_CONTINUE;
	rel = fpath + w->root_len + 1;
	if (!is_project_repo(w, rel)) {
		grown = realloc(w->stale, (w->nstale + 1) * sizeof(*grown));
		if (!grown)
			return FTW_STOP;
		w->stale = grown;
		w->stale[w->nstale] = strdup(rel);
		if (!w->stale[w->nstale])
			return FTW_STOP;
		w->nstale++;
	}
	return FTW_SKIP_SUBTREE; /* never look inside a repository */
}

/* Remove the repositories under the storage root that no project names.
 * Returns how many could not be removed. */
static int remove_stale(const struct geo *g, const struct gg_project *projects, size_t count,
			cJSON *removed)
{
	struct stale_walk w = {
	    g->cfg.storage_root, strlen(g->cfg.storage_root), projects, count, NULL, 0};
	char err[512];
	int failures = 0;

	walk_state = &w;
	if (nftw(g->cfg.storage_root, visit, 32, FTW_PHYS | FTW_ACTIONRETVAL) < 0 &&
	    errno != ENOENT) {
		fprintf(stderr, "gatectl: cannot read %s: %s\n", g->cfg.storage_root,
			strerror(errno));
		failures++;
	}
	walk_state = NULL;
	for (size_t i = 0; i < w.nstale; i++) {
		if (gg_repo_delete(g->cfg.storage_root, w.stale[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "gatectl: cannot remove %s: %s\n", w.stale[i], err);
			failures++;
		} else {
			printf("removed %s (no such project on the primary)\n", w.stale[i]);
			cJSON_AddItemToArray(removed, cJSON_CreateString(w.stale[i]));
		}
		free(w.stale[i]);
	}
	free(w.stale);
	return failures;
}

/* ---- the status file ---- */

static int write_status(const struct geo *g, cJSON *status)
{
	char *text = cJSON_Print(status);
	char *tmp = gg_strdup_printf("%s.tmp", g->cfg.geo_status_file);
	FILE *f = NULL;
	int ret = -1;

	if (!text || !tmp)
		goto done;
	f = fopen(tmp, "w");
	if (!f)
		goto done;
	if (fputs(text, f) < 0 || fputc('\n', f) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fclose(f);
		goto done;
	}
	if (fclose(f) != 0)
		goto done;
	ret = rename(tmp, g->cfg.geo_status_file);
done:
	if (ret < 0)
		fprintf(stderr, "gatectl: cannot write %s: %s\n", g->cfg.geo_status_file,
			strerror(errno));
	free(text);
	free(tmp);
	return ret;
}

static cJSON *read_status(const char *file)
{
	FILE *f = fopen(file, "r");
	char *text = NULL;
	size_t len = 0;
	cJSON *j;

	if (!f)
		return NULL;
	if (getdelim(&text, &len, '\0', f) < 0) {
		free(text);
		fclose(f);
		return NULL;
	}
	fclose(f);
	j = cJSON_Parse(text);
	free(text);
	return j;
}

/* ---- geo sync ---- */

/*
 * What the secondary knows of one project: the push generation the primary
 * had (as last read from the replica) and the one its repository has.  Kept
 * in memory by 'geo sync' and written to the status file, never to the
 * database (the standby cannot be written).
 */
struct tracked {
	int64_t id;
	char path[GG_PATH_MAX];
	char repo_path[GG_PATH_MAX];
	int64_t pushed_seq; /* the primary's push generation, read from the replica */
	int64_t synced_seq; /* the generation the local repository has; -1 = not synced */
	size_t refs;
	bool ok;
	bool fetched;
	char error[512];
	int64_t checked_at;
};

struct sync_state {
	struct tracked *t;
	size_t n;
	bool follow;
	int64_t pass_started_at, pass_finished_at, polled_at;
	unsigned long full_passes, polls, push_syncs;
	int stale_failures; /* stale repositories the last full pass could not remove */
	cJSON *removed;	    /* of the last full pass */
};

static void tracked_clear(struct sync_state *ss)
{
	free(ss->t);
	ss->t = NULL;
	ss->n = 0;
	cJSON_Delete(ss->removed);
	ss->removed = NULL;
}

/* The whole state, as 'geo status' reads it. */
static int write_sync_status(const struct geo *g, const struct sync_state *ss)
{
	cJSON *status = cJSON_CreateObject(), *list;
	int failures = ss->stale_failures, ret;

	if (!status)
		return -1;
	cJSON_AddStringToObject(status, "primary", g->cfg.geo_primary_ssh_url);
	cJSON_AddStringToObject(status, "mode", ss->follow ? "follow" : "pass");
	cJSON_AddNumberToObject(status, "started_at", (double)ss->pass_started_at);
	cJSON_AddNumberToObject(status, "finished_at", (double)ss->pass_finished_at);
	cJSON_AddNumberToObject(status, "full_passes", (double)ss->full_passes);
	cJSON_AddNumberToObject(status, "polls", (double)ss->polls);
	cJSON_AddNumberToObject(status, "polled_at", (double)ss->polled_at);
	cJSON_AddNumberToObject(status, "push_syncs", (double)ss->push_syncs);
	list = cJSON_AddArrayToObject(status, "projects");
	for (size_t i = 0; i < ss->n; i++) {
		const struct tracked *t = &ss->t[i];
		cJSON *row = cJSON_CreateObject();

		cJSON_AddNumberToObject(row, "id", (double)t->id);
		cJSON_AddStringToObject(row, "path", t->path);
		cJSON_AddStringToObject(row, "state", t->ok ? "ok" : "error");
		cJSON_AddNumberToObject(row, "refs", (double)t->refs);
		cJSON_AddBoolToObject(row, "fetched", t->fetched);
		cJSON_AddNumberToObject(row, "checked_at", (double)t->checked_at);
		cJSON_AddNumberToObject(row, "pushed_seq", (double)t->pushed_seq);
		cJSON_AddNumberToObject(row, "synced_seq", (double)t->synced_seq);
		if (!t->ok) {
			cJSON_AddStringToObject(row, "error", t->error);
			failures++;
		}
		cJSON_AddItemToArray(list, row);
	}
	cJSON_AddItemToObject(status, "removed",
			      ss->removed ? cJSON_Duplicate(ss->removed, true)
					  : cJSON_CreateArray());
	cJSON_AddNumberToObject(status, "failures", failures);
	ret = write_status(g, status);
	cJSON_Delete(status);
	return ret;
}

/*
 * Bring one project in step, taking p->pushed_seq (read before the fetch) as
 * the generation it then has: the primary moves the generation after the
 * push's refs are in place, so a fetch that follows the read has at least
 * that push.  0 or -1.
 */
static int sync_tracked(const struct geo *g, const struct gg_project *p, struct tracked *t)
{
	int rc;

	t->id = p->id;
	snprintf(t->path, sizeof(t->path), "%s", p->full_path);
	snprintf(t->repo_path, sizeof(t->repo_path), "%s", p->repo_path);
	t->pushed_seq = p->pushed_seq;
	t->error[0] = '\0';
	rc = sync_project(g, p, &t->fetched, &t->refs, t->error, sizeof(t->error));
	t->checked_at = gg_now();
	t->ok = rc == 0;
	if (rc == 0)
		t->synced_seq = p->pushed_seq;
	else
		fprintf(stderr, "gatectl: %s: %s\n", p->full_path, t->error);
	return rc;
}

/*
 * One pass over every project of projects (the replica's table, just read):
 * ls-remote each, fetch what differs, remove the repositories of projects
 * that are gone.  Returns the number of failures.
 */
static int full_pass(struct geo *g, struct sync_state *ss, const struct gg_project *projects,
		     size_t count)
{
	struct tracked *t = calloc(count ? count : 1, sizeof(*t));
	int failures = 0, fetched = 0;

	if (!t)
		return 1;
	cJSON_Delete(ss->removed);
	ss->removed = cJSON_CreateArray();
	ss->pass_started_at = gg_now();
	ss->pass_finished_at = 0;
	for (size_t i = 0; i < count; i++) {
		t[i].synced_seq = -1;
		for (size_t j = 0; j < ss->n; j++)
			if (ss->t[j].id == projects[i].id)
				t[i] = ss->t[j];
	}
	free(ss->t);
	ss->t = t;
	ss->n = count;
	for (size_t i = 0; i < count && !stop_requested; i++) {
		if (sync_tracked(g, &projects[i], &t[i]) != 0)
			failures++;
		else if (t[i].fetched) {
			fetched++;
			printf("synced %s (%zu refs)\n", t[i].path, t[i].refs);
		}
	}
	/* Removal only after a clean pass, and never on an empty projects table:
	 * that is more likely a database_url pointing at the wrong database than
	 * a primary whose every project was deleted. */
	ss->stale_failures = 0;
	if (!stop_requested && failures == 0 && count > 0)
		failures += ss->stale_failures = remove_stale(g, projects, count, ss->removed);
	ss->pass_finished_at = gg_now();
	ss->full_passes++;
	printf("full pass: %zu projects, %d fetched, %d failed\n", count, fetched, failures);
	return failures;
}

/* Are the projects (id, path, repository) those the last full pass saw? */
static bool same_projects(const struct sync_state *ss, const struct gg_project *projects,
			  size_t count)
{
	if (count != ss->n)
		return false;
	for (size_t i = 0; i < count; i++)
		if (projects[i].id != ss->t[i].id ||
		    strcmp(projects[i].full_path, ss->t[i].path) != 0 ||
		    strcmp(projects[i].repo_path, ss->t[i].repo_path) != 0)
			return false;
	return true;
}

/*
 * One poll of --follow: read the push generations (one query on the
 * replica); a full pass when the projects changed (created, renamed,
 * deleted) or full_interval has passed, else a sync of only the projects
 * whose generation moved.  Returns the number of failures.
 */
static int poll_once(struct geo *g, struct sync_state *ss, int full_interval)
{
	struct gg_project *projects = NULL;
	size_t count = 0;
	int failures = 0;
	bool changed = false;

	if (gg_store_project_list(g->st, &projects, &count) != GG_OK) {
		fprintf(stderr, "gatectl: cannot list projects: %s\n", gg_store_errmsg(g->st));
		return 1;
	}
	ss->polls++;
	ss->polled_at = gg_now();
	if (ss->full_passes == 0 || !same_projects(ss, projects, count) ||
	    gg_now() - ss->pass_started_at >= full_interval) {
		failures = full_pass(g, ss, projects, count);
		changed = true;
	} else {
		for (size_t i = 0; i < count && !stop_requested; i++) {
			struct tracked *t = &ss->t[i];

			t->pushed_seq = projects[i].pushed_seq;
			if (projects[i].pushed_seq == t->synced_seq)
				continue;
			changed = true;
			ss->push_syncs++;
			if (sync_tracked(g, &projects[i], t) != 0)
				failures++;
			else
				printf("fetched %s at push generation %lld (%zu refs%s)\n", t->path,
				       (long long)t->synced_seq, t->refs,
				       t->fetched ? "" : ", nothing new");
		}
	}
	/* The status file every poll in --follow (polls and polled_at show that
	 * the loop is alive), and after every change. */
	if ((changed || ss->follow) && write_sync_status(g, ss) < 0)
		failures++;
	fflush(stdout);
	free(projects);
	return failures;
}
static int check_geo_config(const struct geo *g)
{
	const char *missing = !g->cfg.geo_primary_ssh_url     ? "primary_ssh_url"
			      : !g->cfg.geo_replication_key   ? "replication_key"
			      : !g->cfg.geo_primary_host_keys ? "primary_host_keys"
							      : NULL;

	/* On a primary, the projects table is the truth and a pass would remove
	 * nothing but could fetch from the wrong site: refuse. */
	if (!g->cfg.role || strcmp(g->cfg.role, "secondary") != 0) {
		fprintf(stderr, "gatectl: geo sync runs on a secondary ([api] role = secondary)\n");
		return -1;
	}
	if (missing) {
		fprintf(stderr, "gatectl: geo sync needs [geo] %s in %s\n", missing,
			g->cfg.path ? g->cfg.path : "the configuration");
		return -1;
	}
	if (access(g->cfg.geo_replication_key, R_OK) != 0) {
		fprintf(stderr, "gatectl: cannot read the replication key %s: %s\n",
			g->cfg.geo_replication_key, strerror(errno));
		return -1;
	}
	return 0;
}

static int cmd_sync(struct geo *g, bool follow, int interval, int full_interval)
{
	struct sync_state ss;
	struct sigaction sa;
	char err[512];
	int failures;

	if (check_geo_config(g) < 0)
		return 1;
	snprintf(g->pubkey, sizeof(g->pubkey), "%s.pub", g->cfg.geo_replication_key);
	if (access(g->pubkey, R_OK) != 0)
		g->pubkey[0] = '\0';
	if (gg_store_open(&g->st, g->cfg.database_url, err, sizeof(err)) != GG_OK) {
		fprintf(stderr, "gatectl: %s\n", err);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	memset(&ss, 0, sizeof(ss));
	ss.follow = follow;
	git_libgit2_init();
	do {
		failures = poll_once(g, &ss, full_interval);
		for (int s = 0; follow && s < interval * 10 && !stop_requested; s++)
			usleep(100000);
	} while (follow && !stop_requested);
	git_libgit2_shutdown();
	tracked_clear(&ss);
	return follow ? 0 : failures ? 1 : 0;
}

/* ---- geo status ---- */

static void print_time(const char *label, double when)
{
	char buf[64];
	time_t t = (time_t)when;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s: %s (%lld s ago)\n", label, buf, (long long)(gg_now() - (int64_t)when));
}

static const cJSON *status_row(const cJSON *list, int64_t id, const char *path)
{
	const cJSON *row;

	cJSON_ArrayForEach(row, list)
	{
		const cJSON *rid = cJSON_GetObjectItem(row, "id");
		const char *rpath = cJSON_GetStringValue(cJSON_GetObjectItem(row, "path"));

		if (cJSON_IsNumber(rid) ? (int64_t)rid->valuedouble == id
					: rpath && strcmp(rpath, path) == 0)
			return row;
	}
	return NULL;
}

/*
 * The repositories' side: per project of the replica's projects table, the
 * primary's push generation against the one synced (the status file), and
 * the last full pass.  true when every project is synced at its generation
 * and nothing failed.
 */
static bool show_repositories(const struct geo *g)
{
	cJSON *s = read_status(g->cfg.geo_status_file), *list;
	struct gg_project *projects = NULL;
	struct gg_store *st = NULL;
	size_t count = 0;
	int ok = 0, failed = 0, behind = 0;
	char err[512];
	const char *mode;

	if (!s) {
		printf("repositories: never synced (no %s)\n", g->cfg.geo_status_file);
		return false;
	}
	list = cJSON_GetObjectItem(s, "projects");
	if (gg_store_open(&st, g->cfg.database_url, err, sizeof(err)) != GG_OK ||
	    gg_store_project_list(st, &projects, &count) != GG_OK) {
		fprintf(stderr, "gatectl: cannot read the push generations: %s\n",
			st ? gg_store_errmsg(st) : err);
		failed++;
	}
	gg_store_close(st);
	print_time("last full pass", cJSON_GetNumberValue(cJSON_GetObjectItem(s, "finished_at")));
	mode = cJSON_GetStringValue(cJSON_GetObjectItem(s, "mode"));
	if (mode && strcmp(mode, "follow") == 0) {
		print_time("last poll", cJSON_GetNumberValue(cJSON_GetObjectItem(s, "polled_at")));
		printf("polls: %.0f, full passes: %.0f, syncs after a push: %.0f\n",
		       cJSON_GetNumberValue(cJSON_GetObjectItem(s, "polls")),
		       cJSON_GetNumberValue(cJSON_GetObjectItem(s, "full_passes")),
		       cJSON_GetNumberValue(cJSON_GetObjectItem(s, "push_syncs")));
	}
	for (size_t i = 0; i < count; i++) {
		const cJSON *row = status_row(list, projects[i].id, projects[i].full_path);
		const char *state =
		    row ? cJSON_GetStringValue(cJSON_GetObjectItem(row, "state")) : NULL;
		const char *rerr =
		    row ? cJSON_GetStringValue(cJSON_GetObjectItem(row, "error")) : NULL;
		const cJSON *jsynced = row ? cJSON_GetObjectItem(row, "synced_seq") : NULL;
		long long synced = cJSON_IsNumber(jsynced) ? (long long)jsynced->valuedouble : -1;
		long long lag = (long long)projects[i].pushed_seq - synced;
		const char *label;

		if (!row) {
			label = "new";
			behind++;
		} else if (!state || strcmp(state, "ok") != 0) {
			label = "error";
			failed++;
		} else if (synced != projects[i].pushed_seq) {
			label = "behind";
			behind++;
		} else {
			label = "ok";
			ok++;
		}
		printf("  %-6s %s (%d refs, push generation %lld, synced %lld, lag %lld)%s%s\n",
		       label, projects[i].full_path,
		       row ? (int)cJSON_GetNumberValue(cJSON_GetObjectItem(row, "refs")) : 0,
		       (long long)projects[i].pushed_seq, synced, synced < 0 ? 0 : lag,
		       rerr ? ": " : "", rerr ? rerr : "");
	}
	printf("repositories: %d in sync, %d failed", ok, failed);
	if (behind)
		printf(", %d behind", behind);
	printf("\n");
	if (cJSON_GetNumberValue(cJSON_GetObjectItem(s, "failures")) > 0)
		failed++; /* e.g. a stale repository that could not be removed */
	cJSON_Delete(s);
	free(projects);
	return failed == 0 && behind == 0;
}

/* Run a query; NULL (and a line on stderr) when it fails. */
static PGresult *query(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "gatectl: %s", PQerrorMessage(conn));
		PQclear(res);
		return NULL;
	}
	return res;
}

/*
 * The database's side.  On a standby: what it has received and replayed and
 * when the last replayed transaction was made on the primary.  On a primary:
 * every standby of pg_stat_replication, and how far its replay is behind.
 * true when nothing is behind.
 */
static bool show_database(const struct geo *g)
{
	PGconn *conn;
	PGresult *res;
	bool caught_up = false;

	if (strncmp(g->cfg.database_url, "postgres", 8) != 0) {
		printf("database: not PostgreSQL, no replication\n");
		return true;
	}
	conn = PQconnectdb(g->cfg.database_url);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "gatectl: cannot connect to PostgreSQL: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return false;
	}
	res = query(conn, "SELECT pg_is_in_recovery()");
	if (res && strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
		PQclear(res);
		res = query(conn,
			    "SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), 'stopped'),"
			    " coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(),"
			    "  pg_last_wal_replay_lsn()), 0)::bigint,"
			    " coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()),"
			    "  -1)::bigint");
		if (res) {
			long long behind = atoll(PQgetvalue(res, 0, 1));
			long long age = atoll(PQgetvalue(res, 0, 2));

			printf("database: standby, WAL receiver %s\n", PQgetvalue(res, 0, 0));
			printf("replay lag: %lld bytes received but not replayed\n", behind);
			if (age >= 0)
				printf("last replayed transaction: committed on the primary %lld s "
				       "ago\n",
				       age);
			else
				printf("last replayed transaction: none yet\n");
			caught_up = behind == 0 && strcmp(PQgetvalue(res, 0, 0), "streaming") == 0;
		}
	} else if (res) {
		PQclear(res);
		res = query(conn, "SELECT application_name, coalesce(host(client_addr), 'local'), "
				  " state,"
				  " coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), -1)"
				  "  ::bigint,"
				  " coalesce(extract(epoch FROM replay_lag), 0)::numeric(12,3)"
				  " FROM pg_stat_replication ORDER BY application_name");
		if (res) {
			int n = PQntuples(res);

			printf("database: primary, %d standby(s)\n", n);
			caught_up = n > 0;
			for (int i = 0; i < n; i++) {
				long long behind = atoll(PQgetvalue(res, i, 3));

				printf("standby %s (%s): %s, replay lag %lld bytes (%s s)\n",
				       PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
				       PQgetvalue(res, i, 2), behind, PQgetvalue(res, i, 4));
				if (behind != 0)
					caught_up = false;
			}
		}
	}
	PQclear(res);
	PQfinish(conn);
	return caught_up;
}

static int cmd_status(struct geo *g)
{
	bool db = show_database(g);
	bool repos = true;

	printf("role: %s\n", g->cfg.role ? g->cfg.role : "primary");
	if (g->cfg.role && strcmp(g->cfg.role, "secondary") == 0)
		repos = show_repositories(g);
	return db && repos ? 0 : 1;
}

int gg_gatectl_geo_main(const char *config, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"follow", no_argument, NULL, 'f'},
	    {"interval", required_argument, NULL, 'i'},
	    {"full-interval", required_argument, NULL, 'F'},
	    {NULL, 0, NULL, 0},
	};
	struct geo g;
	const char *sub;
	char err[512];
	bool follow = false;
	int interval = -1, full_interval = -1, opt, ret;

	if (argc < 2)
		return usage();
	sub = argv[1];
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'f':
			follow = true;
			break;
		case 'i':
			interval = atoi(optarg);
			if (interval <= 0)
				return usage();
			break;
		case 'F':
			full_interval = atoi(optarg);
			if (full_interval <= 0)
				return usage();
			break;
		default:
			return usage();
		}
	}
	if (optind != argc - 1 || (strcmp(sub, "sync") != 0 && strcmp(sub, "status") != 0) ||
	    (strcmp(sub, "status") == 0 && (follow || interval > 0 || full_interval > 0)))
		return usage();

	memset(&g, 0, sizeof(g));
	gg_config_init(&g.cfg);
	if (gg_config_load(&g.cfg, config, err, sizeof(err)) < 0) {
		fprintf(stderr, "gatectl: %s\n", err);
		gg_config_clear(&g.cfg);
		return 1;
	}
	/* --interval: between polls of the push generations; --full-interval
	 * (default [geo] sync_interval): between full passes. */
	if (interval < 0)
		interval = 1;
	if (full_interval < 0)
		full_interval = g.cfg.geo_sync_interval > 0 ? g.cfg.geo_sync_interval : 10;
	ret = strcmp(sub, "sync") == 0 ? cmd_sync(&g, follow, interval, full_interval)
				       : cmd_status(&g);
	gg_store_close(g.st);
	gg_config_clear(&g.cfg);
	return ret;
}
