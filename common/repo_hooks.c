/*
 * repo_hooks.c - see repo_hooks.h.
 */
#include "repo_hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repo.h"
#include "util.h"

#define HOOK_MODE      0755
#define HOOKS_DIR_MODE 0755
#define HOOK_MAX_BYTES 8192

static const char *const hook_names[] = {"pre-receive", "post-receive"};

/* s inside single quotes for sh: every ' becomes '\''. */
static int add_sh_quoted(struct gg_buf *b, const char *s)
{
	if (gg_buf_puts(b, "'") != 0)
		return -1;
	for (; *s; s++)
		if ((*s == '\'' ? gg_buf_puts(b, "'\\''") : gg_buf_add(b, s, 1)) != 0)
			return -1;
	return gg_buf_puts(b, "'");
}

static char *wrapper_text(const char *gate_hook, const char *config_path, const char *hook)
{
	struct gg_buf b = GG_BUF_INIT;

	if (gg_buf_printf(&b, "#!/bin/sh\n%s\nexec ", GG_REPO_HOOKS_MARKER) != 0 ||
	    add_sh_quoted(&b, gate_hook) != 0 ||
	    (config_path &&
	     (gg_buf_puts(&b, " --config ") != 0 || add_sh_quoted(&b, config_path) != 0)) ||
	    gg_buf_printf(&b, " %s \"$@\"\n", hook) != 0) {
		gg_buf_clear(&b);
		return NULL;
	}
	return gg_buf_detach(&b);
}

/*
 * What is at path now: 0 nothing, 1 exactly want, 2 an older wrapper of
 * ours, or -1 with err (someone else's hook, or an error).
 */
static int existing_hook(const char *path, const char *want, char *err, size_t errlen)
{
	char buf[HOOK_MAX_BYTES + 1];
	struct stat st;
	ssize_t n;
	int fd, ret = -1;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen,
			 "%s exists and is not gitgate's (not a regular file); move it "
			 "away first",
			 path);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, HOOK_MAX_BYTES);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	if (strcmp(buf, want) == 0 && (st.st_mode & 07777) == HOOK_MODE)
		ret = 1;
	else if (strncmp(buf, "#!/bin/sh\n" GG_REPO_HOOKS_MARKER "\n",
			 strlen("#!/bin/sh\n" GG_REPO_HOOKS_MARKER "\n")) == 0)
		ret = 2;
	else
		snprintf(err, errlen, "%s exists and is not gitgate's; move it away first", path);
	return ret;
}

/* Write text to path through a temporary file and a rename. */
static int write_hook(const char *path, const char *text, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	size_t len = strlen(text);
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.gitgate-%ld", path, (long)getpid()) >=
	    sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, HOOK_MODE);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (write(fd, text, len) != (ssize_t)len || fchmod(fd, HOOK_MODE) != 0 || close(fd) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int gg_repo_hooks_install(const char *storage_root, const char *repo_path, const char *gate_hook,
			  const char *config_path, char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat st;
	bool written = false;

	if (gg_repo_check_path(repo_path, err, errlen) < 0)
		return -1;
	if (gate_hook == NULL || gate_hook[0] != '/' || (config_path && config_path[0] != '/') ||
	    strchr(gate_hook, '\n') || (config_path && strchr(config_path, '\n'))) {
		snprintf(err, errlen, "gate-hook and the config must be absolute paths");
		return -1;
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", storage_root, repo_path) >= sizeof(dir) ||
	    stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "no repository at %s/%s", storage_root, repo_path);
		return -1;
	}
	strncat(dir, "/hooks", sizeof(dir) - strlen(dir) - 1);
	if (mkdir(dir, HOOKS_DIR_MODE) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(hook_names) / sizeof(hook_names[0]); i++) {
		char *text = wrapper_text(gate_hook, config_path, hook_names[i]);
		int state;

		if (text == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, hook_names[i]) >=
		    sizeof(path)) {
			snprintf(err, errlen, "%s: path too long", dir);
			free(text);
			return -1;
		}
		state = existing_hook(path, text, err, errlen);
		if (state == 0 || state == 2) {
			if (write_hook(path, text, err, errlen) != 0)
				state = -1;
			else
				written = true;
		}
		free(text);
		if (state < 0)
			return -1;
	}
	return written ? GG_REPO_HOOKS_WRITTEN : GG_REPO_HOOKS_UNCHANGED;
}

static char *executable_or_null(char *path)
{
	char *real;

	if (path == NULL)
		return NULL;
	real = realpath(path, NULL);
	free(path);
	if (real && access(real, X_OK) == 0)
		return real;
	free(real);
	return NULL;
}

char *gg_repo_hooks_gate_hook(const struct gg_config *cfg, const char *override, char *err,
			      size_t errlen)
{
	const char *given = override ? override : cfg->hook_path;
	char *dir, *found;

	if (given) {
		found = executable_or_null(strdup(given));
		if (found == NULL)
			snprintf(err, errlen, "%s is not an executable gate-hook", given);
		return found;
	}
	dir = gg_self_dir();
	if (dir == NULL) {
		snprintf(err, errlen, "cannot tell where this program is; use --hook-path");
		return NULL;
	}
	found = executable_or_null(gg_strdup_printf("%s/gate-hook", dir));
	if (found == NULL)
		found = executable_or_null(gg_strdup_printf("%s/../hooks/gate-hook", dir));
	if (found == NULL)
		snprintf(err, errlen, "no gate-hook next to %s; use --hook-path or [hooks] path",
			 dir);
	free(dir);
	return found;
}

int gg_repo_hooks_install_configured(const struct gg_config *cfg, const char *repo_path, char *err,
				     size_t errlen)
{
	char *gate_hook = gg_repo_hooks_gate_hook(cfg, NULL, err, errlen);
	int rc;

	if (gate_hook == NULL)
		return -1;
	rc = gg_repo_hooks_install(cfg->storage_root, repo_path, gate_hook, cfg->path, err, errlen);
	free(gate_hook);
	return rc < 0 ? -1 : 0;
}
