/*
 * fuzz_http.c - gate-api's request path: the query string, form bodies
 * (urlencoded and multipart), JSON bodies, headers and cookies, through the
 * real libmicrohttpd adapter (internal-api/http.c), the read-only middleware,
 * the router and every handler, against a real SQLite store.
 *
 * LLVMFuzzerInitialize makes a data directory with `gatectl init` (the
 * gatectl next to this build's gate-api), then starts gate-api's HTTP daemon
 * in this process (gg_app_start on 127.0.0.1, a free port, two threads).
 * Each input becomes one HTTP/1.1 request on a fresh TCP connection, and the
 * answer must be a well-formed HTTP status line; ASan and UBSan watch the
 * worker threads that run the handlers.
 *
 * Two targets are built from this file:
 *   fuzz_http          byte 0: method (bits 0-2), body kind (bits 3-4: none,
 *                      JSON, urlencoded form, multipart form), caller (bits
 *                      5-7: anonymous, the admin's token, a valid internal-API
 *                      JWT, a forged JWT, a bogus PRIVATE-TOKEN, the admin's
 *                      token as Bearer, a session cookie that does not exist,
 *                      anonymous); then "path?query" NUL body.
 *   fuzz_internal_api  (GG_FUZZ_INTERNAL) always POST with a valid JWT and a
 *                      JSON body to /api/v4/internal/<route>: byte 0 picks the
 *                      route, the rest is the JSON body.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "gg_jwt.h"
#include "log.h"
#include "util.h"

/* OpenSSL keeps per-thread state (its DRBG, error queues) that it frees only
 * when the libmicrohttpd worker thread that made it ends; LeakSanitizer,
 * checking after each input while those threads live, would call it lost. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libcrypto.so\n";
}

static char dir[256];
static struct gg_config cfg;
static struct gg_app app;
static char *admin_token;
static char *jwt;

static void slurp_token(const char *path)
{
	char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		abort();
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, " \r\n")] = '\0';
	admin_token = strdup(buf);
}

static void stop(void)
{
	char cmd[400];

	gg_app_clear(&app);
	gg_config_clear(&cfg);
	free(admin_token);
	free(jwt);
	if (!getenv("GG_FUZZ_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char self[512], gatectl[600], conf[300], cmd[2048], err[512], *slash, *secret;
	ssize_t n;

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/gg-fuzz-http-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	/* <build>/tests/fuzz/fuzz_http -> <build>/internal-api/gatectl */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		abort();
	self[n] = '\0';
	for (int i = 0; i < 3; i++) {
		slash = strrchr(self, '/');
		if (!slash)
			abort();
		*slash = '\0';
	}
	snprintf(gatectl, sizeof(gatectl), "%s/internal-api/gatectl", self);
	snprintf(conf, sizeof(conf), "%s/gitgate.conf", dir);
	snprintf(
	    cmd, sizeof(cmd),
	    "'%s' --config '%s/gitgate.conf' init --data-dir '%s' --admin-password "
	    "admin-pass-1234 --token-file '%s/admin.token' --database-url 'sqlite:%s/gitgate.db' "
	    ">/dev/null 2>&1 && "
	    "'%s' --config '%s' user create alice --email alice@example.com --password "
	    "alice-pass-1234 >/dev/null && "
	    "'%s' --config '%s' project create grp/proj >/dev/null && "
	    "printf '[core]\\nlog_level = error\\n[api]\\nport = 0\\nthreads = 2\\n' >>'%s'",
	    gatectl, dir, dir, dir, dir, gatectl, conf, gatectl, conf, conf);
	if (system(cmd) != 0) {
		fprintf(stderr, "fuzz_http: setting up %s with %s failed\n", dir, gatectl);
		abort();
	}
	snprintf(cmd, sizeof(cmd), "%s/admin.token", dir);
	slurp_token(cmd);
	unsetenv("GITGATE_CONFIG");
	gg_config_init(&cfg);
	if (gg_config_load(&cfg, conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_http: %s\n", err);
		abort();
	}
	gg_log_setup("fuzz_http", cfg.log_level, cfg.log_format);
	secret = gg_config_read_secret(&cfg, err, sizeof(err));
	if (!secret || gg_app_init(&app, &cfg, secret) < 0 ||
	    gg_app_start(&app, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_http: cannot start: %s\n", err);
		abort();
	}
	free(secret);
	atexit(stop);
	return 0;
}

/* One request, one connection; the answer's status line must be well formed. */
static void exchange(const char *req, size_t len)
{
	struct sockaddr_in sa = {0};
	struct timeval tv = {60, 0};
	char buf[4096], head[16];
	size_t got = 0, off = 0;
	ssize_t n;
	int fd = -1;

	sa.sin_family = AF_INET;
	sa.sin_port = htons(app.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* Thousands of connections a second can run the ephemeral ports out
	 * (EADDRNOTAVAIL), and libFuzzer's own signals interrupt connect
	 * (EINTR): that is the harness, not gate-api, so retry on a new socket. */
	for (int tries = 0;; tries++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			abort();
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		if (tries == 500 || (errno != EADDRNOTAVAIL && errno != EAGAIN && errno != EINTR)) {
			fprintf(stderr, "fuzz_http: connect: %s\n", strerror(errno));
			abort();
		}
		close(fd);
		usleep(10000);
	}
	while (off < len) {
		n = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the server may refuse early (413): read its answer */
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		if (got < sizeof(head))
			memcpy(head + got, buf,
			       (size_t)n < sizeof(head) - got ? (size_t)n : sizeof(head) - got);
		got += (size_t)n;
	}
	/* Close with a reset: no TIME_WAIT left on this side for every input. */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){1, 0}, sizeof(struct linger));
	close(fd);
	/* An answer is due for every request the daemon could parse as HTTP; a
	 * closed connection without one is how libmicrohttpd refuses garbage. */
	if (got > 0 &&
	    (got < 12 || memcmp(head, "HTTP/1.", 7) != 0 || head[9] < '1' || head[9] > '5')) {
		fprintf(stderr, "fuzz_http: malformed answer\n");
		abort();
	}
}

/* Append s, with CR, LF and NUL dropped: the request line and headers stay
 * one line each, so the input drives the parsers behind them, not framing. */
static void add_clean(struct gg_buf *b, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != '\r' && s[i] != '\n' && s[i] != '\0' && s[i] != ' ')
			gg_buf_add(b, (const char *)&s[i], 1);
}

static void add(struct gg_buf *b, const char *s)
{
	gg_buf_add(b, s, strlen(s));
}

static char *valid_jwt(void)
{
	char *t = NULL;

	if (!jwt && gg_jwt_sign_shell(app.secret, &t) == 0)
		jwt = t;
	return jwt;
}

#ifdef GG_FUZZ_INTERNAL
/* POST routes of internal_api.c, and two that are not there (404 path). */
static const char *const internal_routes[] = {"allowed", "pre_receive",	     "post_receive",
					      "allowed", "lfs_authenticate", "allowed/x"};
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = {"GET",   "POST", "PUT",  "DELETE",
					      "PATCH", "HEAD", "POST", "PUT"};
	static const char *const types[] = {NULL, "application/json",
					    "application/x-www-form-urlencoded",
					    "multipart/form-data; boundary=XyZ"};
	struct gg_buf req = GG_BUF_INIT;
	const uint8_t *path, *body, *nul;
	size_t path_len, body_len;
	unsigned sel;
	const char *method, *type;
	char line[256];

	if (size < 1)
		return 0;
	sel = data[0];
#ifdef GG_FUZZ_INTERNAL
	method = "POST";
	type = "application/json";
	snprintf(line, sizeof(line), "/api/v4/internal/%s",
		 internal_routes[sel % (sizeof(internal_routes) / sizeof(internal_routes[0]))]);
	path = (const uint8_t *)line;
	path_len = strlen(line);
	body = data + 1;
	body_len = size - 1;
	sel = 2u << 5; /* a valid JWT */
#else
	method = methods[sel & 7];
	type = types[(sel >> 3) & 3];
	path = data + 1;
	nul = memchr(path, '\0', size - 1);
	path_len = nul ? (size_t)(nul - path) : size - 1;
	body = nul ? nul + 1 : data + size;
	body_len = nul ? size - 1 - path_len - 1 : 0;
#endif
	add(&req, method);
	add(&req, " ");
	if (path_len == 0 || path[0] != '/')
		add(&req, "/");
	add_clean(&req, path, path_len);
	add(&req, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
	switch (sel >> 5) {
	case 1:
		snprintf(line, sizeof(line), "PRIVATE-TOKEN: %s\r\n", admin_token);
		add(&req, line);
		break;
	case 2:
		if (valid_jwt()) {
			snprintf(line, sizeof(line), "Gitlab-Shell-Api-Request: %s\r\n", jwt);
			add(&req, line);
		}
		break;
	case 3:
		add(&req,
		    "Gitlab-Shell-Api-Request: eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJnaXRsYWItc2hlbGwifQ."
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n");
		break;
	case 4:
		add(&req, "PRIVATE-TOKEN: glpat-not-a-token\r\n");
		break;
	case 5:
		snprintf(line, sizeof(line), "Authorization: Bearer %s\r\n", admin_token);
		add(&req, line);
		break;
	case 6:
		add(&req, "Cookie: _gitgate_session=0123456789abcdef; other=1\r\n");
		break;
	default:
		break;
	}
	if (type) {
		snprintf(line, sizeof(line), "Content-Type: %s\r\n", type);
		add(&req, line);
	}
	snprintf(line, sizeof(line), "Content-Length: %zu\r\n\r\n", body_len);
	add(&req, line);
	if (body_len)
		gg_buf_add(&req, (const char *)body, body_len);
	if (req.data)
		exchange(req.data, req.len);
	gg_buf_clear(&req);
	return 0;
}
