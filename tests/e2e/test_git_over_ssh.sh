#!/usr/bin/env bash
# Git over SSH (SPEC §4–§6, issue 3): real git over real ssh against sshd-gate + gate-api, for
# what test_sshd_gate.sh does not already drive over ssh: fetching (incremental, shallow,
# partial) with protocol v0 and v2, tags, every kind of push and its refusals, archives, a
# private project seen by a stranger, and maintenance switched on in the middle of a push.
# Every refusal is checked for its exact message, and for the repository being unchanged
# (refs, object count, no quarantine left); git fsck --full runs after every push.
. "$(dirname "$0")/lib.sh"
. "$GG_SRC/tests/e2e/messages.sh"

RULER=$(printf '=%.0s' $(seq 1 72))

# box MESSAGE: a refusal of the first check as gitlab-shell frames it, as git shows it.
box() {
	printf 'remote: \nremote: %s\nremote: \nremote: %s\nremote: \nremote: %s\nremote: ' \
		"$RULER" "$1" "$RULER"
}
contains() { # contains GOT NEEDLE NAME
	local got=$1 needle=$2
	shift 2
	if [[ "$got" == *"$needle"* ]]; then
		ok 0 "$*"
	else
		ok 1 "$*"
		printf '#   got:      %q\n#   expected to contain: %q\n' "$got" "$needle"
	fi
}
# state REPO: refs and object count of a bare repository, to prove nothing was written.
state() {
	git -C "$1" for-each-ref --format='%(objectname) %(refname)'
	git -C "$1" count-objects -v
}
# pushed_clean REPO WHAT: after a push, the repository is fsck clean and holds no quarantine.
pushed_clean() {
	local out
	# Dangling objects are no fault: a forced update or a delete leaves them.
	out=$(git -C "$1" fsck --full --no-dangling --no-progress 2>&1)
	is "$?:$out" "0:" "$2: git fsck --full is clean"
	ls -d "$1"/objects/incoming-* >/dev/null 2>&1
	is "$?" 2 "$2: no quarantine directory is left"
}
# unchanged REPO BEFORE WHAT: refs and objects as before, fsck clean, no quarantine.
unchanged() {
	is "$(state "$1")" "$2" "$3: refs and object count unchanged"
	pushed_clean "$1" "$3"
}
# run KEY git-args...: gg_git with that key; stdout in $OUT, stderr in $ERR, status in $RC.
run() {
	local key=$1
	shift
	gg_git "$key" "$@" >"$GG_TMP/out" 2>"$GG_TMP/err"
	RC=$?
	ERR=$(cat "$GG_TMP/err")
	OUT=$(cat "$GG_TMP/out")
}
rev() { git -C "$1" rev-parse -q --verify "$2"; }
loose() { git -C "$1" count-objects -v | sed -n 's/^count: //p'; }

gg_setup
gg_git_home
gg_new_key alicekey
gg_new_key bobkey
gatectl user create alice --email alice@example.com --password alice-pass-1234 >/dev/null
gatectl user create bob --email bob@example.com --password bob-pass-1234 >/dev/null
gatectl key add alice --file "$GG_TMP/alicekey.pub" >/dev/null
gatectl key add bob --file "$GG_TMP/bobkey.pub" >/dev/null
for p in grp/src grp/push grp/secret grp/race; do
	gatectl project create "$p" --visibility private >/dev/null
	gatectl member add "$p" alice owner >/dev/null
done
gatectl member add grp/src bob developer >/dev/null
gatectl branch protect grp/src main --push maintainer >/dev/null
SRC="$GG_DATA/repositories/grp/src.git"
PUSH="$GG_DATA/repositories/grp/push.git"
SECRET="$GG_DATA/repositories/grp/secret.git"
RACE="$GG_DATA/repositories/grp/race.git"
gg_start_api
gg_start_sshd

# --- the source repository: history in subdirectories, annotated and lightweight tags -------
W="$GG_TMP/work"
mkdir -p "$W"
git init -q "$W/seed"
for i in 1 2 3 4 5 6; do
	mkdir -p "$W/seed/dir/sub"
	echo "content $i" >"$W/seed/dir/sub/file$i"
	echo "top $i" >"$W/seed/top$i"
	git -C "$W/seed" add -A
	git -C "$W/seed" commit -q -m "commit $i"
done
git -C "$W/seed" tag -a v1.0 -m "release 1.0" HEAD~2
git -C "$W/seed" tag light HEAD~1
git -C "$W/seed" tag -a v-tree -m "a tag of a tree" 'HEAD^{tree}'
run alicekey -C "$W/seed" push "$(gg_url grp/src)" main --tags
is "$RC" 0 "seed: push of a branch and three tags"
pushed_clean "$SRC" "seed"
for p in push secret race; do
	gg_git alicekey -C "$W/seed" push -q "$(gg_url "grp/$p")" main 2>/dev/null
done

# --- tags -------------------------------------------------------------------------------------
for v in 0 2; do
	run alicekey -c protocol.version=$v ls-remote "$(gg_url grp/src)"
	is "$OUT" "$(git ls-remote "$SRC")" "v$v: ls-remote equals stock git's listing (HEAD, peeled ^{})"
done
contains "$OUT" "$(rev "$SRC" 'v1.0^{}')	refs/tags/v1.0^{}" "ls-remote peels the annotated tag to its commit"
contains "$OUT" "$(rev "$SRC" 'v-tree^{}')	refs/tags/v-tree^{}" "ls-remote peels a tag of a tree"
unlike "$OUT" 'light\^\{\}' "a lightweight tag is not peeled"
run alicekey -c protocol.version=2 ls-remote --tags "$(gg_url grp/src)" 'v*'
is "$OUT" "$(git ls-remote --tags "$SRC" 'v*')" "v2: ls-remote with a ref prefix"

# --- packed refs: what packed-refs says about peeling is used, as git does -------------------
gatectl project create grp/packed --visibility private >/dev/null
gatectl member add grp/packed alice owner >/dev/null
PACKED="$GG_DATA/repositories/grp/packed.git"
rm -rf "$PACKED" && cp -a "$SRC" "$PACKED"
git -C "$PACKED" pack-refs --all
ls_both() { # ls_both NAME: ls-remote over sshd-gate (v0 and v2) equals stock git's on the path
	local v
	for v in 0 2; do
		run alicekey -c protocol.version=$v ls-remote "$(gg_url grp/packed)"
		is "$OUT" "$(git ls-remote "$PACKED")" "v$v: $1"
	done
}
ls_both "refs packed (fully-peeled): ls-remote equals stock git's"
contains "$OUT" "$(rev "$PACKED" 'v1.0^{}')	refs/tags/v1.0^{}" "... the annotated tag still peeled"
# A ref (not a branch) pointing at an annotated tag, loose, over a packed entry that is not a tag: the loose
# ref's object is looked up and peeled.
git -C "$PACKED" update-ref refs/other/totag "$(rev "$PACKED" main)"
git -C "$PACKED" pack-refs --all
git -C "$PACKED" update-ref refs/other/totag "$(rev "$PACKED" v1.0)"
ls_both "a loose ref to a tag over a packed non-tag entry: equals stock git's"
contains "$OUT" "$(rev "$PACKED" 'v1.0^{}')	refs/other/totag^{}" "... and that ref is peeled"
# With only the "peeled" trait, entries outside refs/tags/ without a ^ line are not trusted.
git -C "$PACKED" pack-refs --all
{
	echo '# pack-refs with: peeled sorted '
	grep -v '^#' "$PACKED/packed-refs" | grep -v '^\^'
} >"$PACKED/packed-refs.new" && mv "$PACKED/packed-refs.new" "$PACKED/packed-refs"
ls_both "packed-refs with only the peeled trait and no ^ lines: equals stock git's"
contains "$OUT" "$(rev "$PACKED" 'v1.0^{}')	refs/other/totag^{}" "... a ref outside refs/tags/ to a tag is still peeled"
unlike "$OUT" 'refs/tags/v1\.0\^\{\}' "... a tag entry without ^ line is taken as not peelable, as git does"
# fully-peeled is trusted: a tag entry without its ^ line is advertised unpeeled, as git does
# (proof that the lookups are skipped, not only that the listing is right).
sed -i '1s/.*/# pack-refs with: peeled fully-peeled sorted /' "$PACKED/packed-refs"
ls_both "packed-refs (fully-peeled) without the ^ lines: equals stock git's"
unlike "$OUT" '\^\{\}' "... nothing is peeled: packed-refs was trusted, no object looked up"

# --- clone and fetch, protocol v0 and v2 ------------------------------------------------------
for v in 0 2; do
	C="$W/clone$v"
	GIT_TRACE_PACKET="$GG_TMP/trace$v" gg_git alicekey -c protocol.version=$v clone -q \
		"$(gg_url grp/src)" "$C" 2>/dev/null
	is "$?" 0 "v$v: clone"
	if [ $v = 2 ]; then
		grep -q 'clone< version 2$' "$GG_TMP/trace$v"
		ok $? "v2: the server answered in protocol v2"
	else
		! grep -q '< version 2$' "$GG_TMP/trace$v"
		ok $? "v0: the server answered in protocol v0"
	fi
	is "$(rev "$C" HEAD)" "$(rev "$SRC" main)" "v$v: the clone is at main"
	is "$(git -C "$C" cat-file -t v1.0) $(git -C "$C" cat-file -t v-tree) $(git -C "$C" cat-file -t light)" \
		"tag tag commit" "v$v: annotated tags arrive as tag objects, the lightweight one as a ref"
	is "$(git -C "$C" rev-parse 'v1.0^{}')" "$(rev "$SRC" 'v1.0^{}')" "v$v: v1.0 peels to the same commit"
	out=$(git -C "$C" fsck --full --strict 2>&1)
	is "$?:$out" "0:" "v$v: the clone is fsck --strict clean"
done

# One changed file two directories deep: the commit, three trees and a blob, nothing more.
echo changed >"$W/seed/dir/sub/file3"
git -C "$W/seed" commit -q -a -m "change file3"
gg_git alicekey -C "$W/seed" push -q "$(gg_url grp/src)" main 2>/dev/null
for v in 0 2; do
	C="$W/clone$v"
	before=$(loose "$C")
	run alicekey -C "$C" -c protocol.version=$v -c fetch.unpackLimit=1000 fetch origin
	is "$RC" 0 "v$v: incremental fetch"
	is "$(rev "$C" origin/main)" "$(rev "$SRC" main)" "v$v: fetch brought the new commit"
	is "$(($(loose "$C") - before))" 5 "v$v: ... and exactly 5 new objects (commit, 3 trees, blob)"
	run alicekey -C "$C" -c protocol.version=$v fetch origin
	is "$RC:$ERR" "0:" "v$v: a no-op fetch succeeds silently"
done

# A new annotated tag on a new commit follows the branch (include-tag / auto-follow).
git -C "$W/seed" commit -q --allow-empty -m "for v2.0"
git -C "$W/seed" tag -a v2.0 -m "release 2.0"
gg_git alicekey -C "$W/seed" push -q "$(gg_url grp/src)" main v2.0 2>/dev/null
for v in 0 2; do
	run alicekey -C "$W/clone$v" -c protocol.version=$v fetch origin
	is "$(git -C "$W/clone$v" rev-parse 'v2.0' 2>/dev/null)" "$(rev "$SRC" v2.0)" \
		"v$v: fetching main brings the annotated tag that points into it"
done

for v in 0 2; do
	S="$W/shallow$v"
	run alicekey -c protocol.version=$v clone -q --depth 1 "$(gg_url grp/src)" "$S"
	is "$RC" 0 "v$v: --depth 1 clone"
	is "$(git -C "$S" rev-list --count HEAD) $(git -C "$S" rev-parse --is-shallow-repository)" \
		"1 true" "v$v: ... has one commit and is shallow"
	is "$(cat "$S/.git/shallow")" "$(rev "$SRC" main)" "v$v: ... cut at main"
	run alicekey -C "$S" -c protocol.version=$v fetch -q --deepen 2
	is "$RC" 0 "v$v: --deepen 2"
	is "$(git -C "$S" rev-list --count origin/main)" 3 "v$v: ... adds two generations"
	out=$(git -C "$S" fsck --full 2>&1)
	is "$?:$out" "0:" "v$v: the deepened clone is fsck clean"
	run alicekey -C "$S" -c protocol.version=$v fetch -q --unshallow
	is "$(git -C "$S" rev-list --count origin/main) $(git -C "$S" rev-parse --is-shallow-repository)" \
		"$(git -C "$SRC" rev-list --count main) false" "v$v: --unshallow gets the whole history"
done

P="$W/partial"
run alicekey -c protocol.version=2 clone -q --filter=blob:none --no-checkout "$(gg_url grp/src)" "$P"
is "$RC" 0 "v2: --filter=blob:none clone"
missing=$(git -C "$P" rev-list --objects --missing=print --all | grep -c '^?')
blobs=$(git -C "$SRC" rev-list --objects --all | cut -d' ' -f1 | git -C "$SRC" cat-file --batch-check='%(objecttype)' | grep -c blob)
is "$missing" "$blobs" "... holds not one of the $blobs blobs"
GIT_SSH_COMMAND="ssh -i $GG_TMP/alicekey $GG_SSH_OPTS" git -C "$P" -c protocol.version=2 checkout -q main 2>"$GG_TMP/err"
is "$?" 0 "... then a checkout fetches the blobs it needs"
is "$(cat "$P/dir/sub/file3") $(cat "$P/top6")" "changed top 6" "... and the files are right"
is "$(git -C "$P" status --porcelain)" "" "... and the work tree is clean"

# --- archive ----------------------------------------------------------------------------------
gg_git alicekey archive --remote="$(gg_url grp/src)" --format=tar main >"$GG_TMP/remote.tar" 2>/dev/null
is "$?" 0 "archive --remote: tar"
git -C "$SRC" archive --format=tar main >"$GG_TMP/local.tar"
cmp -s "$GG_TMP/remote.tar" "$GG_TMP/local.tar"
ok $? "archive --remote: tar is byte-identical to stock git archive"
gg_git alicekey archive --remote="$(gg_url grp/src)" --format=tar.gz --prefix=p/ v1.0 dir \
	>"$GG_TMP/remote.tgz" 2>/dev/null
is "$?" 0 "archive --remote: tar.gz of a subdirectory of a tag, with a prefix"
is "$(gzip -dc "$GG_TMP/remote.tgz" | tar tf - | sort | tr '\n' ' ')" \
	"p/ p/dir/ p/dir/sub/ p/dir/sub/file1 p/dir/sub/file2 p/dir/sub/file3 p/dir/sub/file4 " \
	"archive --remote: the tar.gz holds the tag's files"
is "$(gzip -dc "$GG_TMP/remote.tgz" | tar xOf - p/dir/sub/file3)" "content 3" \
	"archive --remote: ... with the tag's content"

# --- a private project and a stranger ---------------------------------------------------------
run bobkey clone "$(gg_url grp/secret)" "$W/nope"
is "$RC" 128 "private project: a non-member's clone fails"
contains "$ERR" "$(box "$MSG_PROJECT_NOT_FOUND")" "private project: the exact 404 message as remote: lines"
[ ! -e "$W/nope" ]
ok $? "private project: no clone directory is left"
secret_err=$ERR
run bobkey clone "$(gg_url grp/no-such-project)" "$W/nope"
is "$ERR" "${secret_err//secret/no-such-project}" "private project: indistinguishable from a missing one"
run bobkey ls-remote "$(gg_url grp/secret)"
is "$RC:$OUT" "128:" "private project: ls-remote shows no ref"
run bobkey archive --remote="$(gg_url grp/secret)" main
contains "$ERR" "$(box "$MSG_PROJECT_NOT_FOUND")" "private project: archive --remote refused alike"
before=$(state "$SECRET")
git -C "$W/seed" commit -q --allow-empty -m "bob was here"
run bobkey -C "$W/seed" push "$(gg_url grp/secret)" HEAD:main HEAD:refs/heads/bob
contains "$ERR" "$(box "$MSG_PROJECT_NOT_FOUND")" "private project: a non-member's push gets the 404 message"
unchanged "$SECRET" "$before" "private project: refused push"
git -C "$W/seed" reset -q --hard HEAD~1

# --- protected branch --------------------------------------------------------------------------
# A developer's push of an unprotected and a protected branch at once: gate-api refuses the
# changes as a whole, so neither ref moves and no object stays.
C="$W/clone2"
git -C "$C" checkout -q -B main origin/main
git -C "$C" commit -q --allow-empty -m "by bob"
before=$(state "$SRC")
run bobkey -C "$C" push origin HEAD:main HEAD:refs/heads/bob-topic
is "$RC" 1 "protected branch: a developer's push fails"
contains "$ERR" "remote: $MSG_PROTECTED_BRANCH" "protected branch: the message as a remote: line"
contains "$ERR" " ! [remote rejected] HEAD -> main ($MSG_PROTECTED_BRANCH)" \
	"protected branch: main rejected with the exact message"
contains "$ERR" " ! [remote rejected] HEAD -> bob-topic ($MSG_PROTECTED_BRANCH)" \
	"protected branch: the unprotected ref of the same push too"
unchanged "$SRC" "$before" "protected branch"

# --- pushes ------------------------------------------------------------------------------------
C="$W/pusher"
gg_git alicekey clone -q "$(gg_url grp/push)" "$C" 2>/dev/null
base=$(rev "$C" HEAD)
git -C "$C" checkout -q -b feature
echo one >"$C/new-file"
git -C "$C" add new-file
git -C "$C" commit -q -m "feature 1"
run alicekey -C "$C" push origin feature
is "$RC" 0 "push of a new branch"
contains "$ERR" " * [new branch]      feature -> feature" "... git reports a new branch"
is "$(rev "$PUSH" refs/heads/feature)" "$(rev "$C" HEAD)" "... the branch is on the server"
pushed_clean "$PUSH" "new branch"

for i in 2 3 4; do
	echo "$i" >>"$C/new-file"
	git -C "$C" commit -q -a -m "feature $i"
done
run alicekey -C "$C" push origin feature
is "$RC" 0 "fast-forward push of three commits"
is "$(rev "$PUSH" refs/heads/feature)" "$(rev "$C" HEAD)" "... the branch moved"
pushed_clean "$PUSH" "fast-forward"

git -C "$C" reset -q --hard HEAD~2
echo diverged >"$C/other-file"
git -C "$C" add other-file
git -C "$C" commit -q -m "diverged"
before=$(state "$PUSH")
run alicekey -C "$C" push origin feature
is "$RC" 1 "non-fast-forward push: rejected"
contains "$ERR" " ! [rejected]        feature -> feature (non-fast-forward)" \
	"non-fast-forward push: the client's own rejection"
unchanged "$PUSH" "$before" "non-fast-forward push"

run alicekey -C "$C" push --force origin feature
is "$RC" 0 "forced update: --force is allowed (no receive.denyNonFastForwards)"
like "$ERR" '\+ [0-9a-f]+\.\.\.[0-9a-f]+ feature -> feature \(forced update\)' "... git reports a forced update"
is "$(rev "$PUSH" refs/heads/feature)" "$(rev "$C" HEAD)" "... the branch is the diverged commit"
pushed_clean "$PUSH" "forced update"

old=$(rev "$PUSH" refs/heads/feature)
git -C "$C" commit -q --allow-empty -m "lease"
run alicekey -C "$C" push --force-with-lease=feature:"$base" origin feature
is "$RC" 1 "--force-with-lease with a stale expectation is rejected"
contains "$ERR" "feature -> feature (stale info)" "... as stale info"
is "$(rev "$PUSH" refs/heads/feature)" "$old" "... and the branch did not move"

run alicekey -C "$C" push origin :feature
is "$RC" 0 "branch delete"
contains "$ERR" " - [deleted]         feature" "... git reports the deletion"
is "$(rev "$PUSH" refs/heads/feature)" "" "... the branch is gone"
pushed_clean "$PUSH" "branch delete"

run alicekey -C "$C" push origin :main
is "$RC" 1 "deleting the current branch is refused"
contains "$ERR" " ! [remote rejected] main (deletion of the current branch prohibited)" \
	"... with git's own reason"

# --atomic: a new branch together with a ref that fails on the server: nothing changes.
git -C "$C" checkout -q -b atomic-a
git -C "$C" commit -q --allow-empty -m "atomic a"
before=$(state "$PUSH")
run alicekey -C "$C" push --atomic origin atomic-a :main
is "$RC" 1 "--atomic with one failing ref: the push fails"
contains "$ERR" " ! [remote rejected] main (deletion of the current branch prohibited)" \
	"--atomic: the failing ref with its reason"
contains "$ERR" " ! [remote rejected] atomic-a -> atomic-a (atomic push failure)" \
	"--atomic: the good ref is not applied"
unchanged "$PUSH" "$before" "--atomic with one failing ref"
run alicekey -C "$C" push origin atomic-a :main
is "$(rev "$PUSH" refs/heads/atomic-a)" "$(rev "$C" HEAD)" "the same push without --atomic applies the good ref"
pushed_clean "$PUSH" "non-atomic partial push"
git -C "$C" commit -q --allow-empty -m "atomic b"
run alicekey -C "$C" push --atomic origin atomic-a:atomic-a atomic-a:refs/heads/atomic-b
is "$RC" 0 "--atomic push of two refs"
is "$(rev "$PUSH" refs/heads/atomic-a) $(rev "$PUSH" refs/heads/atomic-b)" "$(rev "$C" HEAD) $(rev "$C" HEAD)" \
	"--atomic: both refs moved"
pushed_clean "$PUSH" "--atomic push"

git -C "$C" commit -q --allow-empty -m "with options"
run alicekey -C "$C" push -o ci.skip -o 'merge_request.title=a title with spaces' origin HEAD:refs/heads/opts
is "$RC" 0 "push options (-o): accepted"
is "$(rev "$PUSH" refs/heads/opts)" "$(rev "$C" HEAD)" "push options: the ref moved"
grep -q 'post_receive project-[0-9]*: 1 ref changes, 2 push options' "$GG_TMP/sshd-gate.log"
ok $? "push options: both reached /internal/post_receive"
pushed_clean "$PUSH" "push with options"

# A tag push, then its deletion.
git -C "$C" tag -a v9 -m "nine"
run alicekey -C "$C" push origin v9
is "$(rev "$PUSH" refs/tags/v9)" "$(rev "$C" refs/tags/v9)" "push of an annotated tag"
run alicekey -C "$C" push origin :refs/tags/v9
is "$RC:$(rev "$PUSH" refs/tags/v9)" "0:" "delete of a tag"
pushed_clean "$PUSH" "tag push and delete"

# A push whose connection is cut in the middle of its pack.
head -c 400000 /dev/urandom >"$C/random.bin"
git -C "$C" add random.bin
git -C "$C" commit -q -m "random"
cat >"$GG_TMP/cut-ssh" <<EOF
#!/usr/bin/env bash
head -c 100000 | ssh -i '$GG_TMP/alicekey' $GG_SSH_OPTS "\$@"
EOF
chmod +x "$GG_TMP/cut-ssh"
before=$(state "$PUSH")
GIT_SSH_COMMAND="$GG_TMP/cut-ssh" GIT_SSH_VARIANT=ssh git -C "$C" push origin HEAD:refs/heads/cut \
	>/dev/null 2>"$GG_TMP/err"
[ "$?" -ne 0 ]
ok $? "a push cut off in the middle of its pack fails"
unchanged "$PUSH" "$before" "interrupted push"

# --- maintenance switched on between a push's start and its ref update ---------------------------
# The ssh wrapper passes the server's ref advertisement through but holds the client's
# commands and pack back until $release exists.  Maintenance is switched on once the first
# check has passed (sshd-gate logs "... allowed"), then the push goes on: the second check,
# with the real changes, must refuse it.
release="$GG_TMP/release"
cat >"$GG_TMP/held-ssh" <<EOF
#!/usr/bin/env bash
{ while [ ! -e '$release' ]; do sleep 0.05; done; exec cat; } |
	ssh -i '$GG_TMP/alicekey' $GG_SSH_OPTS "\$@"
echo "\${PIPESTATUS[1]}" >'$GG_TMP/held-ssh.status'
exit "\${PIPESTATUS[1]}"
EOF
chmod +x "$GG_TMP/held-ssh"
# held_push git-push-args...: a push through held-ssh, maintenance on after the first check.
held_push() {
	local n i
	rm -f "$release" "$GG_TMP/held-ssh.status"
	n=$(grep -c 'git-receive-pack grp/race by alice .* allowed' "$GG_TMP/sshd-gate.log")
	GIT_SSH_COMMAND="$GG_TMP/held-ssh" GIT_SSH_VARIANT=ssh git -C "$R" push "$@" >"$GG_TMP/out" 2>"$GG_TMP/err" &
	local pid=$!
	for i in $(seq 1 200); do
		[ "$(grep -c 'git-receive-pack grp/race by alice .* allowed' "$GG_TMP/sshd-gate.log")" -gt "$n" ] && break
		sleep 0.05
	done
	gatectl maintenance on >/dev/null
	touch "$release"
	wait "$pid"
	RC=$?
	ERR=$(cat "$GG_TMP/err")
	gatectl maintenance off >/dev/null
}
R="$W/race"
gg_git alicekey clone -q "$(gg_url grp/race)" "$R" 2>/dev/null
for i in 1 2 3; do
	echo "race $i" >"$R/race$i"
	git -C "$R" add "race$i"
	git -C "$R" commit -q -m "race $i"
done
git -C "$R" branch doomed HEAD~1
gg_git alicekey -C "$R" push -q origin doomed 2>/dev/null
before=$(state "$RACE")
refused=$(grep -c 'push to grp/race refused at the second check' "$GG_TMP/sshd-gate.log")
held_push origin main HEAD:refs/heads/new-branch
is "$RC" 1 "maintenance mid-push: git push fails"
is "$(cat "$GG_TMP/held-ssh.status")" 1 "maintenance mid-push: ssh exit status 1"
is "$(grep -c 'push to grp/race refused at the second check' "$GG_TMP/sshd-gate.log")" $((refused + 1)) \
	"maintenance mid-push: the first check passed, the second refused"
contains "$ERR" "remote: $MSG_MAINTENANCE_PUSH" "maintenance mid-push: the exact message as a remote: line"
contains "$ERR" " ! [remote rejected] main -> main ($MSG_MAINTENANCE_PUSH)" \
	"maintenance mid-push: main rejected with the exact message"
contains "$ERR" " ! [remote rejected] HEAD -> new-branch ($MSG_MAINTENANCE_PUSH)" \
	"maintenance mid-push: the new branch too"
unchanged "$RACE" "$before" "maintenance mid-push"

held_push origin :doomed
is "$RC" 1 "maintenance mid-push: a delete-only push (no pack) fails too"
contains "$ERR" " ! [remote rejected] doomed ($MSG_MAINTENANCE_PUSH)" \
	"maintenance mid-push: the delete rejected with the exact message"
unchanged "$RACE" "$before" "maintenance mid-push, delete"

run alicekey -C "$R" push origin main :doomed
is "$RC" 0 "once maintenance is off, the same push goes through"
is "$(rev "$RACE" main) $(rev "$RACE" doomed)" "$(rev "$R" main) " "... main moved and doomed is gone"
pushed_clean "$RACE" "push after maintenance"

if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$GG_TMP/sshd-gate.log" "$GG_TMP/gate-api.log" >/dev/null; then
	ok 1 "no sanitizer reports in the daemons' logs"
	grep -h -E -A20 'Sanitizer|runtime error' "$GG_TMP/sshd-gate.log" "$GG_TMP/gate-api.log" | sed 's/^/# /' | head -60
else
	ok 0 "no sanitizer reports in the daemons' logs"
fi
done_testing
