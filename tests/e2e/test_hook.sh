#!/usr/bin/env bash
# gate-hook (SPEC §1, §4; issue 4): stock git pushing over the file transport, git-shell and
# git-http-backend into repositories whose pre-receive and post-receive 'gatectl hooks install'
# made gate-hook.  Allowed while maintenance mode is off; refused with the exact message, refs
# and objects unchanged, while it is on; the pusher named by GL_ID / GL_USERNAME gets
# gate-api's full access check; and the installation itself is idempotent and leaves an
# operator's own hooks alone.
. "$(dirname "$0")/lib.sh"
. "$GG_SRC/tests/e2e/messages.sh"

GATE_HOOK="$GG_BUILD/hooks/gate-hook"
MSG_UNREACHABLE=$(_gg_msg GG_MSG_API_UNREACHABLE)
MARKER=$(sed -n 's/^#define GG_REPO_HOOKS_MARKER "\(.*\)"$/\1/p' "$GG_SRC/common/repo_hooks.h")
RULER=$(printf '=%.0s' $(seq 1 72))

# remote_box MESSAGE: what the client shows for a refusal, "remote: " and git's padding removed.
remote_box() { printf '\n%s\n\n%s\n\n%s\n' "$RULER" "$1" "$RULER"; }
# remote_text: the "remote:" lines of stdin without the prefix and trailing blanks.
remote_text() { sed -n 's/^remote: \{0,1\}//p' | sed 's/[[:space:]]*$//'; }
refs() { git -C "$1" for-each-ref --format='%(objectname) %(refname)'; }
commit() { # commit DIR MESSAGE: prints the new commit id
	git -C "$1" -c user.name=E2E -c user.email=e2e@example.com commit -q --allow-empty -m "$2"
	git -C "$1" rev-parse HEAD
}
# push DIR REPO REFSPEC [env...]: sets OUT (stdout+stderr) and RC.
push() {
	local dir=$1 repo=$2 spec=$3
	shift 3
	OUT=$(env "$@" git -C "$dir" push "$repo" "$spec" 2>&1)
	RC=$?
}

gg_setup
gatectl user create dev --email dev@example.com >/dev/null
gatectl user create rep --email rep@example.com >/dev/null
gatectl project create grp/hello --visibility private >/dev/null
gatectl project create grp/other --visibility private >/dev/null
gatectl project create grp/mine --visibility private >/dev/null
gatectl member add grp/hello dev developer >/dev/null
gatectl member add grp/hello rep reporter >/dev/null
REPOS="$GG_DATA/repositories"
HELLO="$REPOS/grp/hello.git"
DEV_ID=$(gatectl user show dev | awk '/^id:/ {print $2}')
REP_ID=$(gatectl user show rep | awk '/^id:/ {print $2}')
# An operator's own hook, which gitgate must not replace.
printf '#!/bin/sh\necho mine\n' >"$REPOS/grp/mine.git/hooks/pre-receive"
chmod 755 "$REPOS/grp/mine.git/hooks/pre-receive"
gg_start_api

# --- gatectl hooks install --------------------------------------------------------------------
out=$(gatectl hooks install grp/hello 2>&1)
rc=$?
is "$rc" 0 "hooks install PROJECT: exit status 0"
like "$out" "^Installed the hooks of grp/hello: .*/grp/hello.git/hooks$" "hooks install PROJECT says what it did"
for h in pre-receive post-receive; do
	is "$(stat -c %a "$HELLO/hooks/$h")" 755 "$h is executable"
	is "$(sed -n 2p "$HELLO/hooks/$h")" "$MARKER" "$h carries gitgate's marker"
	is "$(sed -n 3p "$HELLO/hooks/$h")" \
		"exec '$(realpath "$GATE_HOOK")' --config '$(realpath "$GG_CONF")' $h \"\$@\"" \
		"$h execs gate-hook with this config"
done
before=$(md5sum "$HELLO"/hooks/*-receive)
out=$(gatectl hooks install grp/hello 2>&1)
is "$?" 0 "hooks install again: exit status 0"
like "$out" "^Hooks already in place for grp/hello" "hooks install is idempotent"
is "$(md5sum "$HELLO"/hooks/*-receive)" "$before" "a second install changes nothing"

out=$(gatectl hooks install --all 2>&1)
is "$?" 1 "hooks install --all: exit status 1 when one project has its own hook"
like "$out" "grp/mine: .*pre-receive exists and is not gitgate's" "an operator's own pre-receive is reported"
is "$(cat "$REPOS/grp/mine.git/hooks/pre-receive")" $'#!/bin/sh\necho mine' "and left as it was"
like "$out" "Installed the hooks of grp/other" "--all installs the other projects"
ok "$(test -x "$REPOS/grp/other.git/hooks/pre-receive"; echo $?)" "grp/other has its pre-receive"

gatectl hooks install >/dev/null 2>&1
is "$?" 2 "hooks install without PROJECT or --all: usage error"
gatectl hooks install grp/hello --all >/dev/null 2>&1
is "$?" 2 "hooks install with both PROJECT and --all: usage error"
out=$(gatectl hooks install grp/hello --hook-path /nonexistent/gate-hook 2>&1)
is "$?" 1 "hooks install --hook-path to nothing: exit status 1"
like "$out" "/nonexistent/gate-hook is not an executable gate-hook" "and says why"
gatectl hooks install grp/nope >/dev/null 2>&1
is "$?" 1 "hooks install of an unknown project: exit status 1"

# --- gate-hook's own interface ----------------------------------------------------------------
like "$("$GATE_HOOK" --version)" "^gate-hook \(gitgate\) [0-9]" "gate-hook --version"
like "$("$GATE_HOOK" --help)" "pre-receive \| post-receive" "gate-hook --help"
"$GATE_HOOK" </dev/null >/dev/null 2>&1
is "$?" 2 "gate-hook neither named nor told which hook: usage error"

# --- pushes over the file transport -----------------------------------------------------------
WORK="$GG_TMP/work"
git init -q -b main "$WORK"
c1=$(commit "$WORK" one)
push "$WORK" "$HELLO" main
is "$RC" 0 "maintenance off: push without an identity is allowed"
is "$(git -C "$HELLO" rev-parse refs/heads/main)" "$c1" "and main moved"

gatectl maintenance on >/dev/null
c2=$(commit "$WORK" two)
snap=$(refs "$HELLO")
push "$WORK" "$HELLO" main
is "$RC" 1 "maintenance on: push refused, git exits 1"
is "$(remote_text <<<"$OUT")" "$(remote_box "$MSG_MAINTENANCE_PUSH")" \
	"maintenance on: the exact message as remote: lines in gitlab-shell's box"
like "$OUT" '! \[remote rejected\] main -> main \(pre-receive hook declined\)' "the client reports the ref rejected"
is "$(refs "$HELLO")" "$snap" "maintenance on: no ref moved"
git -C "$HELLO" cat-file -e "$c2" 2>/dev/null
is "$?" 1 "maintenance on: the pushed commit is not in the repository"
push "$WORK" "$HELLO" main GL_ID="user-$DEV_ID"
is "$RC" 1 "maintenance on: a developer named by GL_ID is refused too"
is "$(remote_text <<<"$OUT")" "$(remote_box "$MSG_MAINTENANCE_PUSH")" "with the same message"
rm -rf "$GG_TMP/clone"
git clone -q "$HELLO" "$GG_TMP/clone" 2>/dev/null
is "$(git -C "$GG_TMP/clone" rev-parse HEAD 2>/dev/null)" "$c1" "maintenance on: clone still works"

gatectl maintenance off >/dev/null
push "$WORK" "$HELLO" main
is "$RC" 0 "maintenance off again: the same push goes through"
is "$(git -C "$HELLO" rev-parse refs/heads/main)" "$c2" "and main moved"

# --- git-shell and git-http-backend -----------------------------------------------------------
# git-shell as a login shell would run it: a stand-in for ssh hands it the command.
printf '#!/bin/sh\nfor last; do :; done\nexec git-shell -c "$last"\n' >"$GG_TMP/gitshell-ssh"
chmod 755 "$GG_TMP/gitshell-ssh"
# git-http-backend as a web server's CGI would run it, behind a small python server.
HTTP_PORT=$(gg_free_port)
python3 - "$HTTP_PORT" "$REPOS" >"$GG_TMP/http-backend.log" 2>&1 <<'PY' &
import http.server, os, subprocess, sys
port, root = int(sys.argv[1]), sys.argv[2]
class CGI(http.server.BaseHTTPRequestHandler):
    def run(self):
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        env = dict(os.environ, GIT_PROJECT_ROOT=root, GIT_HTTP_EXPORT_ALL="1",
                   REMOTE_USER="e2e", REMOTE_ADDR="127.0.0.1", REQUEST_METHOD=self.command,
                   PATH_INFO=path, QUERY_STRING=query,
                   CONTENT_TYPE=self.headers.get("Content-Type", ""),
                   CONTENT_LENGTH=str(len(body)))
        out = subprocess.run(["git", "http-backend"], input=body, env=env,
                             stdout=subprocess.PIPE).stdout
        head, _, rest = out.partition(b"\r\n\r\n")
        status = 200
        lines = head.decode().split("\r\n")
        for line in lines:
            if line.lower().startswith("status:"):
                status = int(line.split()[1])
        self.send_response(status)
        for line in lines:
            name, _, value = line.partition(":")
            if name.lower() != "status":
                self.send_header(name, value.strip())
        self.send_header("Content-Length", str(len(rest)))
        self.end_headers()
        self.wfile.write(rest)
    do_GET = do_POST = run
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), CGI).serve_forever()
PY
_pids+=($!)
for _ in $(seq 1 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT") 2>/dev/null && break
	sleep 0.05
done
gatectl maintenance on >/dev/null
commit "$WORK" two-b >/dev/null
snap=$(refs "$HELLO")
push "$WORK" "ssh://git@gitgate.invalid$HELLO" main GIT_SSH_COMMAND="$GG_TMP/gitshell-ssh" GIT_SSH_VARIANT=simple
is "$RC" 1 "git-shell, maintenance on: push refused"
is "$(remote_text <<<"$OUT")" "$(remote_box "$MSG_MAINTENANCE_PUSH")" "git-shell, maintenance on: the exact message"
push "$WORK" "http://127.0.0.1:$HTTP_PORT/grp/hello.git" main
is "$RC" 1 "git-http-backend, maintenance on: push refused"
is "$(remote_text <<<"$OUT")" "$(remote_box "$MSG_MAINTENANCE_PUSH")" "git-http-backend, maintenance on: the exact message"
is "$(refs "$HELLO")" "$snap" "git-shell and git-http-backend, maintenance on: no ref moved"
gatectl maintenance off >/dev/null
push "$WORK" "ssh://git@gitgate.invalid$HELLO" main GIT_SSH_COMMAND="$GG_TMP/gitshell-ssh" GIT_SSH_VARIANT=simple
is "$RC" 0 "git-shell, maintenance off: push allowed"
c2c=$(commit "$WORK" two-c)
push "$WORK" "http://127.0.0.1:$HTTP_PORT/grp/hello.git" main
is "$RC" 0 "git-http-backend, maintenance off: push allowed"
is "$(git -C "$HELLO" rev-parse refs/heads/main)" "$c2c" "and main moved"

# --- the pusher named by the transport --------------------------------------------------------
c3=$(commit "$WORK" three)
snap=$(refs "$HELLO")
push "$WORK" "$HELLO" main GL_ID="user-$REP_ID"
is "$RC" 1 "GL_ID of a reporter: refused"
is "$(remote_text <<<"$OUT")" "$(remote_box "$MSG_NO_PUSH_ACCESS")" "GL_ID of a reporter: the push-access message"
is "$(refs "$HELLO")" "$snap" "GL_ID of a reporter: no ref moved"
push "$WORK" "$HELLO" main GL_USERNAME=rep
is "$RC" 1 "GL_USERNAME of a reporter: refused"
is "$(remote_text <<<"$OUT")" "$(remote_box "$MSG_NO_PUSH_ACCESS")" "GL_USERNAME of a reporter: the push-access message"
push "$WORK" "$HELLO" main GL_ID=admin
is "$RC" 1 "a GL_ID that is neither key-N nor user-N: refused"
like "$OUT" "remote: gate-hook: GL_ID 'admin' is neither key-N nor user-N" "and told why"
is "$(refs "$HELLO")" "$snap" "no ref moved for any of them"

push "$WORK" "$HELLO" main GL_ID="user-$DEV_ID" GL_PROTOCOL=ssh
is "$RC" 0 "GL_ID of a developer: allowed"
is "$(git -C "$HELLO" rev-parse refs/heads/main)" "$c3" "and main moved"

gatectl branch protect grp/hello main --push maintainer >/dev/null
c4=$(commit "$WORK" four)
snap=$(refs "$HELLO")
push "$WORK" "$HELLO" main GL_USERNAME=dev
is "$RC" 1 "a developer pushing to a protected branch: refused (the real changes reach gate-api)"
is "$(remote_text <<<"$OUT")" "$(remote_box "$MSG_PROTECTED_BRANCH")" "with the protected-branch message"
push "$WORK" "$HELLO" main:topic GL_USERNAME=dev
is "$RC" 0 "the same developer pushing another branch: allowed"
is "$(git -C "$HELLO" rev-parse refs/heads/topic)" "$c4" "and topic was created"
is "$(git -C "$HELLO" rev-parse refs/heads/main)" "$c3" "main stayed where it was"

# [hooks] default_user speaks for unidentified pushes.
cp "$GG_CONF" "$GG_DATA/default-user.conf"
printf '\n[hooks]\ndefault_user = rep\n' >>"$GG_DATA/default-user.conf"
OUT=$(cd "$HELLO" && printf '%s %s refs/heads/x\n' "$c3" "$c4" |
	"$GATE_HOOK" --config "$GG_DATA/default-user.conf" pre-receive 2>&1)
is "$?" 1 "[hooks] default_user = a reporter: an unidentified push is refused"
is "$OUT" "$(remote_box "$MSG_NO_PUSH_ACCESS")" "with the reporter's message"

# --- post-receive -----------------------------------------------------------------------------
gatectl maintenance on --message "Back at noon" >/dev/null
OUT=$(cd "$HELLO" && printf '%s %s refs/heads/main\n' "$c3" "$c4" |
	GL_ID="user-$DEV_ID" "$GATE_HOOK" --config "$GG_CONF" post-receive 2>&1)
is "$?" 0 "post-receive: exit status 0"
is "$OUT" "$(remote_box "Back at noon")" "post-receive: gate-api's alert, framed by rulers"
OUT=$(cd "$HELLO" && printf '' | "$GATE_HOOK" --config "$GG_CONF" post-receive 2>&1)
is "$?$OUT" "0" "post-receive of an unidentified push: nothing to say"
gatectl maintenance off >/dev/null

# --- where the project comes from -------------------------------------------------------------
git init -q --bare "$GG_TMP/elsewhere.git"
OUT=$(cd "$GG_TMP/elsewhere.git" && printf '' | "$GATE_HOOK" --config "$GG_CONF" pre-receive 2>&1)
is "$?" 1 "a repository outside the storage root: refused"
like "$OUT" "is not below the storage root .*; set GL_PROJECT_PATH" "and told why"
OUT=$(cd "$GG_TMP/elsewhere.git" && printf '%s %s refs/heads/main\n' "$c3" "$c4" |
	GL_PROJECT_PATH=grp/hello GL_USERNAME=rep "$GATE_HOOK" --config "$GG_CONF" pre-receive 2>&1)
is "$OUT" "$(remote_box "$MSG_NO_PUSH_ACCESS")" "GL_PROJECT_PATH names the project"

# --- projects created later -------------------------------------------------------------------
printf '\n[hooks]\ninstall_on_create = true\n' >>"$GG_CONF"
gatectl project create grp/later >/dev/null
ok "$(grep -qxF "$MARKER" "$REPOS/grp/later.git/hooks/pre-receive"; echo $?)" \
	"[hooks] install_on_create: gatectl project create installs the hooks"
gg_stop_api
gg_start_api
admin POST /api/v4/projects -d name=viarest
is "$STATUS" 201 "REST project create"
ok "$(grep -qxF "$MARKER" "$REPOS/root/viarest.git/hooks/post-receive"; echo $?)" \
	"[hooks] install_on_create: the REST API installs the hooks too"

# --- gate-api down ----------------------------------------------------------------------------
gg_stop_api
snap=$(refs "$HELLO")
push "$WORK" "$HELLO" main:down GL_USERNAME=dev
is "$RC" 1 "gate-api down: push refused"
is "$(remote_text <<<"$OUT")" "$(remote_box "$MSG_UNREACHABLE")" "gate-api down: $MSG_UNREACHABLE"
is "$(refs "$HELLO")" "$snap" "gate-api down: no ref moved"

done_testing
