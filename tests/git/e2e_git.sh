#!/bin/bash
# e2e_git.sh - real git (2.39) drives gitgate's Git serving code through the
# gg-git-serve driver over file:// URLs.  TAP output.
#
# usage: e2e_git.sh /path/to/gg-git-serve
set -u

SERVE=${1:?usage: e2e_git.sh /path/to/gg-git-serve}
SERVE=$(cd "$(dirname "$SERVE")" && pwd)/$(basename "$SERVE")
TMP=$(mktemp -d "${TMPDIR:-/tmp}/gg-e2e-git.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

export HOME=$TMP/home GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
export GIT_AUTHOR_NAME=Tester GIT_AUTHOR_EMAIL=tester@example.com
export GIT_COMMITTER_NAME=Tester GIT_COMMITTER_EMAIL=tester@example.com
mkdir -p "$HOME"
git config --global init.defaultBranch main
git config --global advice.detachedHead false

UP="--upload-pack=$SERVE upload-pack"
RP="--receive-pack=$SERVE receive-pack"
T=0
FAILED=0

ok() { T=$((T + 1)); echo "ok $T - $1"; }
not_ok() { T=$((T + 1)); FAILED=$((FAILED + 1)); echo "not ok $T - $1"; }
# check NAME COMMAND...: one test, passing when the command succeeds.
check() {
	local name=$1
	shift
	if "$@" >"$TMP/out" 2>&1; then
		ok "$name"
	else
		not_ok "$name"
		sed 's/^/# /' "$TMP/out" | tail -n 30
	fi
}

# A clone whose remote "origin" is served by gg-git-serve.
use_gg() {
	git -C "$1" config remote.origin.uploadpack "$SERVE upload-pack"
	git -C "$1" config remote.origin.receivepack "$SERVE receive-pack"
}

# Commit number N is dated DAY0 + N days, so date cuts are predictable.
DAY0=1600000000
NCOMMITS=0
commit_date() { date -u -d "@$((DAY0 + $1 * 86400))" +%Y-%m-%dT%H:%M:%SZ; }
commit_file() { # repo path content
	NCOMMITS=$((NCOMMITS + 1))
	mkdir -p "$(dirname "$1/$2")"
	echo "$3" >"$1/$2"
	git -C "$1" add "$2" &&
		GIT_COMMITTER_DATE=$(commit_date $NCOMMITS) GIT_AUTHOR_DATE=$(commit_date $NCOMMITS) \
			git -C "$1" commit -qm "$2: $3"
}

refs_of() { git -C "$1" for-each-ref --format='%(objectname) %(refname)' | sort; }
objects_of() { find "$1/objects" -type f ! -name '*.keep' | sort | xargs -r cat | sha1sum; }
no_quarantine_left() { ! ls -d "$1"/objects/incoming-* >/dev/null 2>&1; }

# --- fixtures --------------------------------------------------------------
EMPTY=$TMP/empty.git
SRV=$TMP/srv.git
git init -q --bare "$EMPTY"
git init -q --bare "$SRV"
git init -q "$TMP/seed"
for i in 1 2 3 4 5; do
	commit_file "$TMP/seed" "dir/sub/file$i" "content $i"
	commit_file "$TMP/seed" "top$i" "top $i"
done
git -C "$TMP/seed" tag -a v1.0 -m "release 1.0"
git -C "$TMP/seed" tag light
git -C "$TMP/seed" tag -a v-tree -m "tag of a tree" 'HEAD^{tree}'
git -C "$TMP/seed" push -q "$SRV" main --tags
git -C "$SRV" symbolic-ref HEAD refs/heads/main

clone() { # protocol dest [args...]
	local v=$1 dest=$2
	shift 2
	git -c protocol.version="$v" clone -q "$UP" "$@" "file://$SRV" "$dest"
}

# --- upload-pack -----------------------------------------------------------
for v in 0 2; do
	check "v$v: clone of an empty repository" \
		git -c protocol.version=$v clone -q "$UP" "file://$EMPTY" "$TMP/empty-v$v"

	check "v$v: clone" clone $v "$TMP/c$v"
	check "v$v: clone has all history and is fsck clean" bash -c "
		test \"\$(git -C '$TMP/c$v' rev-parse HEAD)\" = \"\$(git -C '$SRV' rev-parse main)\" &&
		test \"\$(git -C '$TMP/c$v' rev-list --count HEAD)\" = 10 &&
		git -C '$TMP/c$v' fsck --full --strict"
	check "v$v: annotated tags arrive as tag objects" bash -c "
		test \"\$(git -C '$TMP/c$v' cat-file -t v1.0)\" = tag &&
		test \"\$(git -C '$TMP/c$v' cat-file -t v-tree)\" = tag"
	check "v$v: ls-remote shows HEAD first and peeled tags" bash -c "
		git -c protocol.version=$v ls-remote '$UP' 'file://$SRV' >'$TMP/ls' &&
		head -n1 '$TMP/ls' | grep -q 'HEAD\$' &&
		grep -q 'refs/tags/v1.0^{}\$' '$TMP/ls' &&
		grep -q 'refs/tags/v-tree^{}\$' '$TMP/ls' &&
		! grep -q 'refs/tags/light^{}' '$TMP/ls'"
done

check "v2: clone reports progress like git" bash -c "
	git -c protocol.version=2 clone --progress '$UP' 'file://$SRV' '$TMP/progress' 2>'$TMP/err' &&
	grep -q 'remote: Enumerating objects: [0-9]*, done.' '$TMP/err' &&
	grep -q 'remote: Counting objects: 100% ([0-9]*/[0-9]*), done.' '$TMP/err' &&
	grep -q 'remote: Total [0-9]*' '$TMP/err'"

# Incremental fetch: one changed file deep in a tree is one commit, the
# trees on its path and one blob - nothing else.
commit_file "$TMP/seed" "dir/sub/file3" "changed"
git -C "$TMP/seed" push -q "$SRV" main
for v in 0 2; do
	use_gg "$TMP/c$v"
	check "v$v: incremental fetch sends only the new objects" bash -c "
		git -C '$TMP/c$v' -c protocol.version=$v fetch --progress origin 2>'$TMP/err' &&
		test \"\$(git -C '$TMP/c$v' rev-parse origin/main)\" = \"\$(git -C '$SRV' rev-parse main)\" &&
		grep -q 'remote: Total 5 (' '$TMP/err' &&
		git -C '$TMP/c$v' fsck --full"
done

# Negotiation over several rounds: the client has 300 commits of its own,
# which the server NAKs, before it reaches history they share.
for v in 0 2; do
	git -C "$TMP/c$v" checkout -q -b local origin/main
	for i in $(seq 1 300); do
		git -C "$TMP/c$v" commit -q --allow-empty -m "local $i"
	done
done
commit_file "$TMP/seed" "dir/other" "after local work"
git -C "$TMP/seed" push -q "$SRV" main
for v in 0 2; do
	check "v$v: fetch negotiates past 300 unknown commits and sends 4 objects" bash -c "
		GIT_TRACE_PACKET='$TMP/trace$v' git -C '$TMP/c$v' -c protocol.version=$v fetch --progress origin 2>'$TMP/err' &&
		test \"\$(git -C '$TMP/c$v' rev-parse origin/main)\" = \"\$(git -C '$SRV' rev-parse main)\" &&
		grep -q 'remote: Total 4 (' '$TMP/err' &&
		test \"\$(grep -c '> have ' '$TMP/trace$v')\" -gt 32"
done

for v in 0 2; do
	check "v$v: --depth 1 clone is shallow" bash -c "
		git -c protocol.version=$v clone -q '$UP' --depth 1 'file://$SRV' '$TMP/shallow-v$v' &&
		test \"\$(git -C '$TMP/shallow-v$v' rev-list --count HEAD)\" = 1 &&
		test -f '$TMP/shallow-v$v/.git/shallow' &&
		git -C '$TMP/shallow-v$v' fsck --full"
	use_gg "$TMP/shallow-v$v"
	check "v$v: --deepen 2 adds two generations" bash -c "
		git -C '$TMP/shallow-v$v' -c protocol.version=$v fetch -q --deepen 2 &&
		test \"\$(git -C '$TMP/shallow-v$v' rev-list --count origin/main)\" = 3 &&
		git -C '$TMP/shallow-v$v' fsck --full"
	check "v$v: --depth 2 fetch on a shallow clone" bash -c "
		git -C '$TMP/shallow-v$v' -c protocol.version=$v fetch -q --depth 2 &&
		test \"\$(git -C '$TMP/shallow-v$v' rev-list --count origin/main)\" = 2"
	check "v$v: --unshallow gets the whole history" bash -c "
		git -C '$TMP/shallow-v$v' -c protocol.version=$v fetch -q --unshallow &&
		test ! -f '$TMP/shallow-v$v/.git/shallow' &&
		test \"\$(git -C '$TMP/shallow-v$v' rev-list --count origin/main)\" = 12 &&
		git -C '$TMP/shallow-v$v' fsck --full"
done

check "v2: --shallow-exclude cuts at a tag" bash -c "
	git -c protocol.version=2 clone -q '$UP' --shallow-exclude=v1.0 'file://$SRV' '$TMP/excl' &&
	test \"\$(git -C '$TMP/excl' rev-list --count HEAD)\" = 2"
for v in 0 2; do
	check "v$v: --shallow-since keeps the commits since that date" bash -c "
		git -c protocol.version=$v clone -q '$UP' --shallow-since='$(commit_date 9)' 'file://$SRV' '$TMP/since$v' &&
		test \"\$(git -C '$TMP/since$v' rev-list --count HEAD)\" = 4 &&
		git -C '$TMP/since$v' fsck --full"
done

for v in 0 2; do
	check "v$v: --filter=blob:none clone has no blobs, checkout fetches them" bash -c "
		git -c protocol.version=$v clone -q '$UP' --filter=blob:none --no-checkout 'file://$SRV' '$TMP/partial$v' &&
		git -C '$TMP/partial$v' config remote.origin.uploadpack '$SERVE upload-pack' &&
		git -C '$TMP/partial$v' rev-list --objects --missing=print --all | grep -q '^?' &&
		git -C '$TMP/partial$v' -c protocol.version=$v checkout -q main &&
		test \"\$(cat '$TMP/partial$v/dir/sub/file3')\" = changed &&
		git -C '$TMP/partial$v' fsck --full"
done
check "v2: --filter=tree:0 clone, then checkout" bash -c "
	git -c protocol.version=2 clone -q '$UP' --filter=tree:0 --no-checkout 'file://$SRV' '$TMP/treeless' &&
	git -C '$TMP/treeless' config remote.origin.uploadpack '$SERVE upload-pack' &&
	test \"\$(git -C '$TMP/treeless' rev-list --objects --missing=print --all | grep -c '^?')\" -ge 1 &&
	git -C '$TMP/treeless' -c protocol.version=2 checkout -q main &&
	test \"\$(cat '$TMP/treeless/top5')\" = 'top 5'"

check "v2: fetch by id of a reachable commit" bash -c "
	git init -q '$TMP/byid' && cd '$TMP/byid' &&
	git -c protocol.version=2 fetch -q '$UP' 'file://$SRV' \"\$(git -C '$SRV' rev-parse main~3)\""

# --- receive-pack ----------------------------------------------------------
W=$TMP/c2
git -C "$W" checkout -q main
git -C "$W" merge -q --ff-only origin/main

push_check() { # name expected-refs-change(1/0) command...
	local name=$1
	shift
	if "$@" >"$TMP/out" 2>&1 && git -C "$SRV" fsck --full >>"$TMP/out" 2>&1 &&
		no_quarantine_left "$SRV"; then
		ok "$name"
	else
		not_ok "$name"
		sed 's/^/# /' "$TMP/out" | tail -n 30
	fi
}

push_check "push into an empty repository" bash -c "
	git -C '$W' push -q '$RP' 'file://$EMPTY' main &&
	test \"\$(git -C '$EMPTY' rev-parse main)\" = \"\$(git -C '$W' rev-parse HEAD)\" &&
	git -C '$EMPTY' fsck --full && no_quarantine_left() { ! ls -d \"\$1\"/objects/incoming-* >/dev/null 2>&1; } &&
	no_quarantine_left '$EMPTY'"
commit_file "$W" "pushed/a" "a"
push_check "push a new branch" bash -c "
	git -C '$W' push -q origin HEAD:refs/heads/topic &&
	test \"\$(git -C '$SRV' rev-parse topic)\" = \"\$(git -C '$W' rev-parse HEAD)\""
commit_file "$W" "pushed/b" "b"
push_check "push a fast-forward" bash -c "
	git -C '$W' push -q origin HEAD:main &&
	test \"\$(git -C '$SRV' rev-parse main)\" = \"\$(git -C '$W' rev-parse HEAD)\""
push_check "push a branch to an existing commit (no objects)" bash -c "
	git -C '$W' push -q origin HEAD~1:refs/heads/old &&
	test \"\$(git -C '$SRV' rev-parse old)\" = \"\$(git -C '$W' rev-parse HEAD~1)\""
push_check "push a new annotated tag" bash -c "
	git -C '$W' tag -a v2.0 -m 'release 2.0' && git -C '$W' push -q origin v2.0 &&
	test \"\$(git -C '$SRV' cat-file -t v2.0)\" = tag"

# A secret pushed and then force-pushed away must not come back by id.
commit_file "$W" "secret" "password=hunter2"
SECRET=$(git -C "$W" rev-parse HEAD)
git -C "$W" push -q origin HEAD:refs/heads/topic
git -C "$W" reset -q --hard HEAD~1
push_check "push a forced update" bash -c "
	git -C '$W' push -q -f origin HEAD:refs/heads/topic &&
	test \"\$(git -C '$SRV' rev-parse topic)\" = \"\$(git -C '$W' rev-parse HEAD)\""
check "an object left behind by a force push is not fetchable by id" bash -c "
	git -C '$SRV' cat-file -e $SECRET &&
	git init -q '$TMP/thief' && cd '$TMP/thief' &&
	! git -c protocol.version=2 fetch '$UP' 'file://$SRV' $SECRET 2>'$TMP/err' &&
	grep -q 'not our ref' '$TMP/err' &&
	! git -c protocol.version=0 fetch '$UP' 'file://$SRV' $SECRET 2>'$TMP/err' &&
	grep -q 'not our ref' '$TMP/err' &&
	! git cat-file -e $SECRET 2>/dev/null"
check "a blob only the removed commit reaches is not fetchable by id" bash -c "
	blob=\$(git -C '$SRV' rev-parse $SECRET:secret) &&
	cd '$TMP/thief' && ! git -c protocol.version=2 fetch '$UP' 'file://$SRV' \$blob 2>/dev/null"

check "v1: clone (GIT_PROTOCOL=version=1)" bash -c "
	git -c protocol.version=1 clone -q '$UP' 'file://$SRV' '$TMP/c1' && git -C '$TMP/c1' fsck --full"

git -C "$SRV" update-ref refs/hidden/secret "$SECRET"
for v in 0 2; do
	check "v$v: hidden refs are not advertised and their objects not served" bash -c "
		GG_GIT_SERVE_HIDE=refs/hidden/ git -c protocol.version=$v ls-remote '$UP' 'file://$SRV' >'$TMP/ls' &&
		! grep -q refs/hidden '$TMP/ls' && grep -q refs/heads/main '$TMP/ls' &&
		cd '$TMP/thief' &&
		! GG_GIT_SERVE_HIDE=refs/hidden/ git -c protocol.version=$v fetch '$UP' 'file://$SRV' $SECRET 2>'$TMP/err' &&
		grep -q 'not our ref' '$TMP/err'"
done
check "the same object is served once its ref is visible" bash -c "
	cd '$TMP/thief' && git -c protocol.version=2 fetch -q '$UP' 'file://$SRV' $SECRET"
git -C "$SRV" update-ref -d refs/hidden/secret
git -C "$TMP/thief" update-ref -d FETCH_HEAD 2>/dev/null
git -C "$TMP/thief" gc -q --prune=now 2>/dev/null

# A client that lies: a commit whose parent it never sends.
commit_file "$W" "unsent/parent" "p"
commit_file "$W" "unsent/child" "c"
BEFORE_REFS=$(refs_of "$SRV")
check "a pack missing a parent is refused (missing necessary objects)" bash -c "
	old=\$(git -C '$SRV' rev-parse topic) new=\$(git -C '$W' rev-parse HEAD) &&
	git -C '$W' pack-objects --revs --stdout >'$TMP/pack' <<<\"\$new
^\$(git -C '$W' rev-parse HEAD~1)\" &&
	{ printf '0075%s %s refs/heads/topic\\0report-status\\n' \$old \$new; printf 0000;
	  cat '$TMP/pack'; } | '$SERVE' receive-pack '$SRV' >'$TMP/report' &&
	grep -q 'ng refs/heads/topic missing necessary objects' '$TMP/report' &&
	test \"\$(git -C '$SRV' for-each-ref --format='%(objectname) %(refname)' | sort)\" = '$BEFORE_REFS' &&
	! git -C '$SRV' cat-file -e \$new 2>/dev/null &&
	git -C '$SRV' fsck --full"
check "a funny ref name is refused" bash -c "
	new=\$(git -C '$SRV' rev-parse main) &&
	{ printf '0074%s %s refs/heads/a..b\\0report-status\\n' 0000000000000000000000000000000000000000 \$new;
	  printf 0000; git -C '$W' pack-objects --stdout </dev/null; } |
		'$SERVE' receive-pack '$SRV' >'$TMP/report' &&
	grep -q 'ng refs/heads/a..b funny refname' '$TMP/report' &&
	test \"\$(git -C '$SRV' for-each-ref --format='%(objectname) %(refname)' | sort)\" = '$BEFORE_REFS'"

push_check "push a delete" bash -c "
	git -C '$W' push -q origin :refs/heads/old &&
	! git -C '$SRV' rev-parse -q --verify refs/heads/old"

commit_file "$W" "pushed/c" "c"
BEFORE_REFS=$(refs_of "$SRV")
BEFORE_OBJS=$(objects_of "$SRV")
check "--atomic push with one failing ref changes nothing" bash -c "
	! git -C '$W' push --atomic origin HEAD:refs/heads/atomic1 :refs/heads/main 2>'$TMP/err' &&
	grep -q 'deletion of the current branch prohibited' '$TMP/err' &&
	grep -q 'atomic push failure' '$TMP/err' &&
	test \"\$(git -C '$SRV' for-each-ref --format='%(objectname) %(refname)' | sort)\" = '$BEFORE_REFS' &&
	test \"\$(find '$SRV/objects' -type f | sort | xargs cat | sha1sum)\" = '$BEFORE_OBJS' &&
	git -C '$SRV' fsck --full"

check "push options (-o) are accepted and passed on" bash -c "
	GG_GIT_SERVE_ECHO_OPTIONS=1 git -C '$W' push -o ci.skip -o 'x=1' origin HEAD:refs/heads/opts 2>'$TMP/err' &&
	grep -q 'remote: push option: ci.skip' '$TMP/err' &&
	grep -q 'remote: push option: x=1' '$TMP/err' &&
	git -C '$SRV' fsck --full"

commit_file "$W" "pushed/d" "d"
BEFORE_REFS=$(refs_of "$SRV")
BEFORE_OBJS=$(objects_of "$SRV")
MSG="Git push is not allowed because this GitLab instance is currently in (read-only) maintenance mode."
check "a refused push moves nothing and shows the message" bash -c "
	! GG_GIT_SERVE_REFUSE='$MSG' git -C '$W' push origin HEAD:main HEAD:refs/heads/other 2>'$TMP/err' &&
	grep -qF 'remote: $MSG' '$TMP/err' &&
	grep -qF '[remote rejected] HEAD -> main ($MSG)' '$TMP/err' &&
	grep -qF '[remote rejected] HEAD -> other ($MSG)' '$TMP/err' &&
	test \"\$(git -C '$SRV' for-each-ref --format='%(objectname) %(refname)' | sort)\" = '$BEFORE_REFS' &&
	test \"\$(find '$SRV/objects' -type f | sort | xargs cat | sha1sum)\" = '$BEFORE_OBJS' &&
	! ls -d '$SRV'/objects/incoming-* 2>/dev/null &&
	git -C '$SRV' fsck --full"

check "an interrupted push leaves the repository as it was" bash -c "
	git -C '$W' pack-objects --revs --stdout >'$TMP/pack' <<<\"\$(git -C '$W' rev-parse HEAD)
^\$(git -C '$SRV' rev-parse main)\" &&
	old=\$(git -C '$SRV' rev-parse main) new=\$(git -C '$W' rev-parse HEAD) &&
	{ printf '0074%s %s refs/heads/main\\0report-status\\n' \$old \$new; printf 0000;
	  head -c 100 '$TMP/pack'; } |
		'$SERVE' receive-pack '$SRV' >/dev/null 2>&1;
	test \"\$(git -C '$SRV' for-each-ref --format='%(objectname) %(refname)' | sort)\" = '$BEFORE_REFS' &&
	test \"\$(find '$SRV/objects' -type f | sort | xargs cat | sha1sum)\" = '$BEFORE_OBJS' &&
	! ls -d '$SRV'/objects/incoming-* 2>/dev/null"

push_check "the same push goes through once allowed" bash -c "
	git -C '$W' push -q origin HEAD:main &&
	test \"\$(git -C '$SRV' rev-parse main)\" = \"\$(git -C '$W' rev-parse HEAD)\""

check "a fresh clone of the result is complete" bash -c "
	git -c protocol.version=2 clone -q '$UP' --mirror 'file://$SRV' '$TMP/final.git' &&
	git -C '$TMP/final.git' fsck --full --strict &&
	test \"\$(git -C '$TMP/final.git' for-each-ref | sort)\" = \"\$(git -C '$SRV' for-each-ref | sort)\""

# --- upload-archive --------------------------------------------------------
ARC=$TMP/arc.git
git init -q "$TMP/arcwork"
LONG=very/long/path/$(printf 'x%.0s' $(seq 1 60))/$(printf 'y%.0s' $(seq 1 60)).txt
commit_file "$TMP/arcwork" "$LONG" "long"
commit_file "$TMP/arcwork" "$(printf 'z%.0s' $(seq 1 120))" "a name ustar cannot split"
commit_file "$TMP/arcwork" "bin/run" "#!/bin/sh"
chmod +x "$TMP/arcwork/bin/run"
ln -s "../$LONG" "$TMP/arcwork/bin/link"
git -C "$TMP/arcwork" add -A && git -C "$TMP/arcwork" commit -qm "exec and link"
git clone -q --bare "$TMP/arcwork" "$ARC"
AR="--exec=$SERVE upload-archive"
check "archive: tar is byte-identical to git archive" bash -c "
	cd '$TMP' && git archive --remote='file://$ARC' '$AR' --prefix=p/ main >a.tar &&
	git -C '$ARC' archive --prefix=p/ main >b.tar && cmp a.tar b.tar &&
	tar tf a.tar | grep -q 'p/$LONG'"
check "archive: tar.gz of a subdirectory" bash -c "
	cd '$TMP' && git archive --remote='file://$ARC' '$AR' -o sub.tar.gz main:bin &&
	test \"\$(tar tzf sub.tar.gz | sort | tr '\n' ' ')\" = 'link run '"
check "archive: zip with paths" bash -c "
	cd '$TMP' && git archive --remote='file://$ARC' '$AR' --format=zip -o a.zip main bin &&
	unzip -l a.zip >list && grep -q 'bin/run' list && ! grep -q very/ list &&
	test \"\$(unzip -p a.zip bin/run)\" = '#!/bin/sh'"
check "archive: a commit id that is not a ref is refused" bash -c "
	cd '$TMP' && ! git archive --remote='file://$ARC' '$AR' \$(git -C '$ARC' rev-parse main~1) \
		>/dev/null 2>err && grep -q 'no such ref' err"

echo "1..$T"
exit $((FAILED > 0))
