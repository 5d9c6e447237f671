/*
 * config.c - defaults and INI parsing for struct gg_config (see config.h).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

void gg_config_init(struct gg_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->data_dir = strdup(GG_DEFAULT_DATA_DIR);
	cfg->log_level = strdup("info");
	cfg->log_format = strdup("text");
	cfg->api_listen = strdup("127.0.0.1");
	cfg->api_port = 8080;
	cfg->api_threads = 0;
	cfg->api_timeout = 10;
	cfg->session_lifetime = 7 * 24 * 3600;
	cfg->token_lifetime = 7200;
	cfg->role = strdup("primary");
	cfg->ssh_listen = strdup("127.0.0.1");
	cfg->ssh_port = 2222;
	cfg->ssh_user = strdup("git");
	cfg->login_grace_time = 60;
	cfg->max_startups = 100;
	cfg->max_sessions = 1000;
	cfg->max_sessions_per_user = 100;
	cfg->idle_timeout = 600;
	cfg->ssh_proxy_protocol = strdup("ignore");
	cfg->ssh_proxy_allowed_cidrs = strdup("");
	cfg->ssh_proxy_header_timeout = 5;
	cfg->ssh_metrics_listen = strdup("127.0.0.1");
	cfg->ssh_metrics_port = 0;
	cfg->registry_issuer = strdup("gitgate");
	cfg->registry_service = strdup("container_registry");
	cfg->registry_token_lifetime = 300;
	cfg->geo_sync_interval = 10;
	cfg->git_max_pack_objects = 10000000;
	cfg->git_max_object_size = 1024ULL * 1024 * 1024;
}

struct load_ctx {
	struct gg_config *cfg;
	const char *base_dir;
	char *err;
	size_t errlen;
};

static void set_str(char **dst, const char *value)
{
	free(*dst);
	*dst = strdup(value);
}

static void set_path(struct load_ctx *ctx, char **dst, const char *value)
{
	free(*dst);
	if (value[0] == '/' || ctx->base_dir == NULL)
		*dst = strdup(value);
	else if (strcmp(value, ".") == 0)
		*dst = strdup(ctx->base_dir);
	else
		*dst = gg_strdup_printf("%s/%s", ctx->base_dir,
					strncmp(value, "./", 2) == 0 ? value + 2 : value);
}

static int set_int(struct load_ctx *ctx, int *dst, const char *section, const char *name,
		   const char *value)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < 0 || v > 1000000000) {
		snprintf(ctx->err, ctx->errlen, "[%s] %s: not a number: %s", section, name, value);
		return 0;
	}
	*dst = (int)v;
	return 1;
}

/* A byte count with an optional k, m or g suffix (powers of 1024), as git's config has. */
static int set_size(struct load_ctx *ctx, unsigned long long *dst, const char *section,
		    const char *name, const char *value)
{
	unsigned long long v, unit = 1;
	char *end;

	errno = 0;
	v = strtoull(value, &end, 10);
	if (*end == 'k' || *end == 'K')
		unit = 1024ULL, end++;
	else if (*end == 'm' || *end == 'M')
		unit = 1024ULL * 1024, end++;
	else if (*end == 'g' || *end == 'G')
		unit = 1024ULL * 1024 * 1024, end++;
	if (errno || end == value || *end || value[0] == '-' || v > ULLONG_MAX / unit) {
		snprintf(ctx->err, ctx->errlen, "[%s] %s: not a size: %s", section, name, value);
		return 0;
	}
	*dst = v * unit;
	return 1;
}

static int set_bool(struct load_ctx *ctx, bool *dst, const char *section, const char *name,
		    const char *value)
{
	if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
		*dst = true;
	else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 || strcmp(value, "0") == 0)
		*dst = false;
	else {
		snprintf(ctx->err, ctx->errlen, "[%s] %s: not true or false: %s", section, name,
			 value);
		return 0;
	}
	return 1;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *ctx = user;
	struct gg_config *c = ctx->cfg;

#define IS(s, n) (strcmp(section, s) == 0 && strcmp(name, n) == 0)
	if (IS("core", "data_dir"))
		set_path(ctx, &c->data_dir, value);
	else if (IS("core", "secret_file"))
		set_path(ctx, &c->secret_file, value);
	else if (IS("core", "database_url"))
		set_str(&c->database_url, value);
	else if (IS("core", "storage_root"))
		set_path(ctx, &c->storage_root, value);
	else if (IS("core", "log_level"))
		set_str(&c->log_level, value);
	else if (IS("core", "log_format"))
		set_str(&c->log_format, value);
	else if (IS("api", "listen"))
		set_str(&c->api_listen, value);
	else if (IS("api", "port"))
		return set_int(ctx, &c->api_port, section, name, value);
	else if (IS("api", "threads"))
		return set_int(ctx, &c->api_threads, section, name, value);
	else if (IS("api", "url"))
		set_str(&c->api_url, value);
	else if (IS("api", "timeout"))
		return set_int(ctx, &c->api_timeout, section, name, value);
	else if (IS("api", "session_lifetime"))
		return set_int(ctx, &c->session_lifetime, section, name, value);
	else if (IS("api", "token_lifetime"))
		return set_int(ctx, &c->token_lifetime, section, name, value);
	else if (IS("api", "role")) {
		if (strcmp(value, "primary") != 0 && strcmp(value, "secondary") != 0) {
			snprintf(ctx->err, ctx->errlen, "[api] role: not primary or secondary: %s",
				 value);
			return 0;
		}
		set_str(&c->role, value);
	} else if (IS("ssh", "listen"))
		set_str(&c->ssh_listen, value);
	else if (IS("ssh", "port"))
		return set_int(ctx, &c->ssh_port, section, name, value);
	else if (IS("ssh", "user"))
		set_str(&c->ssh_user, value);
	else if (IS("ssh", "host_key_dir"))
		set_path(ctx, &c->host_key_dir, value);
	else if (IS("ssh", "login_grace_time"))
		return set_int(ctx, &c->login_grace_time, section, name, value);
	else if (IS("ssh", "max_startups"))
		return set_int(ctx, &c->max_startups, section, name, value);
	else if (IS("ssh", "max_sessions"))
		return set_int(ctx, &c->max_sessions, section, name, value);
	else if (IS("ssh", "max_sessions_per_user"))
		return set_int(ctx, &c->max_sessions_per_user, section, name, value);
	else if (IS("ssh", "idle_timeout"))
		return set_int(ctx, &c->idle_timeout, section, name, value);
	else if (IS("ssh", "shell_path"))
		set_path(ctx, &c->shell_path, value);
	else if (IS("ssh", "proxy_protocol"))
		set_str(&c->ssh_proxy_protocol, value);
	else if (IS("ssh", "proxy_allowed_cidrs"))
		set_str(&c->ssh_proxy_allowed_cidrs, value);
	else if (IS("ssh", "proxy_header_timeout"))
		return set_int(ctx, &c->ssh_proxy_header_timeout, section, name, value);
	else if (IS("ssh", "metrics_listen"))
		set_str(&c->ssh_metrics_listen, value);
	else if (IS("ssh", "metrics_port"))
		return set_int(ctx, &c->ssh_metrics_port, section, name, value);
	else if (IS("hooks", "default_user"))
		set_str(&c->hook_default_user, value);
	else if (IS("hooks", "path"))
		set_path(ctx, &c->hook_path, value);
	else if (IS("hooks", "install_on_create"))
		return set_bool(ctx, &c->hook_install_on_create, section, name, value);
	else if (IS("registry", "key_file"))
		set_path(ctx, &c->registry_key_file, value);
	else if (IS("registry", "issuer"))
		set_str(&c->registry_issuer, value);
	else if (IS("registry", "service"))
		set_str(&c->registry_service, value);
	else if (IS("registry", "token_lifetime"))
		return set_int(ctx, &c->registry_token_lifetime, section, name, value);
	else if (IS("geo", "primary_ssh_url"))
		set_str(&c->geo_primary_ssh_url, value);
	else if (IS("geo", "replication_key"))
		set_path(ctx, &c->geo_replication_key, value);
	else if (IS("geo", "primary_host_keys"))
		set_str(&c->geo_primary_host_keys, value);
	else if (IS("geo", "status_file"))
		set_path(ctx, &c->geo_status_file, value);
	else if (IS("geo", "sync_interval"))
		return set_int(ctx, &c->geo_sync_interval, section, name, value);
	else if (IS("git", "max_input_size"))
		return set_size(ctx, &c->git_max_input_size, section, name, value);
	else if (IS("git", "max_pack_objects")) {
		unsigned long long v;

		if (!set_size(ctx, &v, section, name, value))
			return 0;
		c->git_max_pack_objects = v > 4294967295ULL ? 4294967295UL : (unsigned long)v;
	} else if (IS("git", "max_object_size"))
		return set_size(ctx, &c->git_max_object_size, section, name, value);
	else {
		snprintf(ctx->err, ctx->errlen, "unknown key [%s] %s", section, name);
		return 0;
	}
#undef IS
	return 1;
}

static void fill_derived(struct gg_config *c)
{
	if (!c->secret_file)
		c->secret_file = gg_strdup_printf("%s/gitlab_shell_secret", c->data_dir);
	if (!c->database_url)
		c->database_url = gg_strdup_printf("sqlite:%s/gitgate.db", c->data_dir);
	if (!c->storage_root)
		c->storage_root = gg_strdup_printf("%s/repositories", c->data_dir);
	if (!c->host_key_dir)
		c->host_key_dir = strdup(c->data_dir);
	if (!c->registry_key_file)
		c->registry_key_file = gg_strdup_printf("%s/registry.key", c->data_dir);
	if (!c->api_url)
		c->api_url = gg_strdup_printf("http://%s:%d", c->api_listen, c->api_port);
	if (!c->geo_status_file)
		c->geo_status_file = gg_strdup_printf("%s/geo-status.json", c->data_dir);
}

int gg_config_load(struct gg_config *cfg, const char *path, char *errbuf, size_t errlen)
{
	struct load_ctx ctx = {cfg, NULL, errbuf, errlen};
	bool explicit_path = path != NULL;
	char *copy = NULL, *abs = NULL;
	FILE *f;
	int rc;

	errbuf[0] = '\0';
	if (!path) {
		path = getenv("GITGATE_CONFIG");
		explicit_path = path != NULL;
	}
	if (!path)
		path = GG_DEFAULT_CONFIG_PATH;

	f = fopen(path, "r");
	if (!f) {
		if (!explicit_path && errno == ENOENT) {
			fill_derived(cfg);
			return 0;
		}
		snprintf(errbuf, errlen, "cannot read config %s: %s", path, strerror(errno));
		return -1;
	}
	abs = realpath(path, NULL);
	copy = strdup(abs ? abs : path);
	ctx.base_dir = dirname(copy);
	rc = ini_parse_file(f, on_key, &ctx);
	fclose(f);
	if (rc != 0) {
		if (!errbuf[0])
			snprintf(errbuf, errlen, "%s: syntax error", path);
		if (rc > 0) {
			char tmp[512];
			snprintf(tmp, sizeof(tmp), "%s:%d: %s", path, rc, errbuf);
			snprintf(errbuf, errlen, "%s", tmp);
		}
		free(copy);
		free(abs);
		return -1;
	}
	free(cfg->path);
	cfg->path = abs ? abs : strdup(path);
	free(copy);
	fill_derived(cfg);
	return 0;
}

char *gg_config_read_secret(const struct gg_config *cfg, char *errbuf, size_t errlen)
{
	char buf[1024];
	size_t n, start = 0;
	FILE *f = fopen(cfg->secret_file, "r");

	if (!f) {
		snprintf(errbuf, errlen, "cannot read secret %s: %s", cfg->secret_file,
			 strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	while (start < n && isspace((unsigned char)buf[start]))
		start++;
	if (start == n) {
		snprintf(errbuf, errlen, "secret %s is empty", cfg->secret_file);
		return NULL;
	}
	return strdup(buf + start);
}

void gg_config_clear(struct gg_config *c)
{
	char **strs[] = {&c->path,
			 &c->data_dir,
			 &c->secret_file,
			 &c->database_url,
			 &c->storage_root,
			 &c->log_level,
			 &c->log_format,
			 &c->api_listen,
			 &c->api_url,
			 &c->role,
			 &c->ssh_listen,
			 &c->ssh_user,
			 &c->host_key_dir,
			 &c->shell_path,
			 &c->hook_default_user,
			 &c->hook_path,
			 &c->registry_key_file,
			 &c->registry_issuer,
			 &c->registry_service,
			 &c->geo_primary_ssh_url,
			 &c->geo_replication_key,
			 &c->geo_primary_host_keys,
			 &c->geo_status_file,
			 &c->ssh_proxy_protocol,
			 &c->ssh_proxy_allowed_cidrs,
			 &c->ssh_metrics_listen};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
}
