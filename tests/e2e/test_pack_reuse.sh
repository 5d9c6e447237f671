#!/usr/bin/env bash
# Pack reuse (issue 5, SPEC §6 and §8): clones served from an on-disk pack byte for byte, with
# what was pushed since appended, and never an object unreachable from the refs the client sees.
# Real git over ssh against sshd-gate: 'gatectl repack' records which pack may be reused; a
# clone then reuses it (the sshd-gate log names the pack, so the test fails if reuse silently
# stops), is fsck clean and equal to the origin; a push afterwards is appended; a pack recorded
# while a secret was reachable is refused once the secret is force-pushed away, and the secret
# never reaches a fresh clone; a fetch 100 commits behind sends at most 1.2x the objects stock
# git upload-pack sends from the same repository.
. "$(dirname "$0")/lib.sh"

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
# reuse_lines: the pack-reuse lines sshd-gate has logged so far.
reuse_lines() { grep -c 'pack reuse: pack-.* objects reused + ' "$GG_TMP/sshd-gate.log"; }
# last_reuse: the last one.
last_reuse() { grep 'pack reuse: pack-.*reused' "$GG_TMP/sshd-gate.log" | tail -n 1; }
# repack ARGS...: gatectl repack, retried while the background run after a push holds the lock.
repack() {
	local i
	for i in $(seq 1 300); do
		REPACK_OUT=$(gatectl repack "$@" 2>&1)
		REPACK_RC=$?
		[[ "$REPACK_OUT" == *busy* ]] || return 0
		sleep 0.1
	done
}
# clean_clone DIR WHAT: fsck --full clean, same refs and same objects as the origin.
clean_clone() {
	local out
	out=$(git -C "$1" fsck --full --no-progress 2>&1)
	is "$?:$out" "0:" "$2: git fsck --full is clean"
	is "$(git -C "$1" for-each-ref --format='%(objectname) %(refname)')" \
		"$(git -C "$SRV" for-each-ref --format='%(objectname) %(refname)')" "$2: same refs as the origin"
	is "$(git -C "$1" rev-list --objects --all | sort)" \
		"$(git -C "$SRV" rev-list --objects --all | sort)" "$2: same objects as reachable on the origin"
}
# clone V DIR [args]: a bare clone over ssh with protocol version V.
clone() {
	local v=$1 dir=$2
	shift 2
	rm -rf "$dir"
	gg_git alicekey -c protocol.version="$v" clone -q --bare "$@" "$(gg_url grp/reuse)" "$dir" \
		>"$GG_TMP/clone.out" 2>&1
	CLONE_RC=$?
}
commit() { # commit REPO FILE TEXT MSG
	mkdir -p "$(dirname "$1/$2")"
	echo "$3" >>"$1/$2"
	git -C "$1" add -A
	git -C "$1" commit -q -m "$4"
}

gg_setup
export HOME="$GG_TMP/home" GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
mkdir -p "$HOME"
git config --global user.name E2E
git config --global user.email e2e@example.com
git config --global init.defaultBranch main
git config --global advice.detachedHead false
gg_new_key alicekey
gatectl user create alice --email alice@example.com --password alice-pass-1234 >/dev/null
gatectl key add alice --file "$GG_TMP/alicekey.pub" >/dev/null
gatectl project create grp/reuse --visibility private >/dev/null
gatectl member add grp/reuse alice owner >/dev/null
SRV="$GG_DATA/repositories/grp/reuse.git"
gg_start_api
gg_start_sshd

# --- refusals of the command ----------------------------------------------------------------
out=$(gatectl repack grp/nope 2>&1)
is "$?:$out" "1:gatectl: project 'grp/nope' not found" "repack of an unknown project is refused"
out=$(gatectl repack 2>&1)
is "$?:$out" "2:gatectl: usage: gatectl repack (PROJECT | --all) [--full]" "repack without a project: usage"
repack grp/reuse
is "$REPACK_RC:$REPACK_OUT" "0:grp/reuse: no reusable pack (0 reachable objects)" "an empty repository has nothing to record"
ls "$SRV/objects/pack/"*.pack >/dev/null 2>&1
is "$?" 2 "an empty repository: no pack written"

# --- history with tags, pushed through gitgate ----------------------------------------------
W="$GG_TMP/work"
mkdir -p "$W"
git init -q "$W/seed"
for i in $(seq 1 30); do
	commit "$W/seed" "dir$((i % 4))/sub/file$((i % 7))" "line $i" "commit $i"
done
git -C "$W/seed" tag -a v1.0 -m "release 1.0" HEAD~10
git -C "$W/seed" tag light HEAD~5
git -C "$W/seed" branch side HEAD~3
gg_git alicekey -C "$W/seed" push -q "$(gg_url grp/reuse)" main side --tags 2>/dev/null
is "$?" 0 "seed: history, a branch and tags pushed"

repack grp/reuse
is "$REPACK_RC" 0 "gatectl repack records a pack"
P1=$(grep -o 'pack-[0-9a-f]\{40\}' <<<"$REPACK_OUT")
like "$P1" '^pack-[0-9a-f]{40}$' "the recorded pack is named: $REPACK_OUT"
ok "$([ -f "$SRV/objects/pack/$P1.pack" ] && [ -f "$SRV/gitgate-packs/$P1.record" ]; echo $?)" \
	"the pack and its record exist"
out=$(git -C "$SRV" count-objects -v | sed -n 's/^garbage: //p')
is "$out" 0 "the record is nothing git counts as garbage"

# --- clone: protocol v0 and v2 reuse the recorded pack --------------------------------------
for v in 0 2; do
	before=$(reuse_lines)
	clone $v "$W/clone$v"
	is "$CLONE_RC" 0 "v$v: clone"
	clean_clone "$W/clone$v" "v$v clone"
	is "$(reuse_lines)" "$((before + 1))" "v$v: the clone was served by pack reuse"
	contains "$(last_reuse)" "pack reuse: $P1.pack, " "v$v: the recorded pack was reused"
	contains "$(last_reuse)" "reused + 0 copied + 0 built" "v$v: nothing had to be added"
done

# --- a push after the record: the clone gets the recorded pack plus what was pushed ---------
git clone -q "$SRV" "$W/dev"
for i in 1 2 3; do
	commit "$W/dev" "new/file$i" "pushed $i" "pushed $i"
done
gg_git alicekey -C "$W/dev" push -q "$(gg_url grp/reuse)" main 2>/dev/null
is "$?" 0 "three commits pushed after the record"
clone 2 "$W/clone-pushed"
is "$CLONE_RC" 0 "clone after the push"
clean_clone "$W/clone-pushed" "clone after the push"
like "$(last_reuse)" "pack reuse: $P1.pack, [0-9]+ objects reused \+ ([1-9][0-9]* copied \+ [0-9]+|[0-9]+ copied \+ [1-9][0-9]*) built" \
	"the recorded pack was reused and the pushed objects appended"
is "$(git -C "$W/clone-pushed" rev-parse main)" "$(git -C "$W/dev" rev-parse main)" \
	"the clone has the pushed commits"

# --- a secret, recorded, then force-pushed away ---------------------------------------------
git -C "$W/dev" checkout -q -b leak
echo "AKIA-SECRET-$RANDOM$RANDOM" >"$W/dev/secret.txt"
git -C "$W/dev" add secret.txt
git -C "$W/dev" commit -q -m "oops, a secret"
SECRET_BLOB=$(git -C "$W/dev" rev-parse HEAD:secret.txt)
gg_git alicekey -C "$W/dev" push -q "$(gg_url grp/reuse)" leak 2>/dev/null
is "$?" 0 "a branch with a secret pushed"
repack grp/reuse --full
is "$REPACK_RC" 0 "gatectl repack --full while the secret is reachable"
like "$REPACK_OUT" 'repacked' "a new pack was written: $REPACK_OUT"
P2=$(grep -o 'pack-[0-9a-f]\{40\}' <<<"$REPACK_OUT")
git show-index <"$SRV/objects/pack/$P2.idx" | grep -q " $SECRET_BLOB "
is "$?" 0 "the new recorded pack holds the secret"
gg_git alicekey -C "$W/dev" push -q --force "$(gg_url grp/reuse)" main:leak 2>/dev/null
is "$?" 0 "the secret branch is force-pushed away"
git -C "$SRV" cat-file -e "$SECRET_BLOB"
is "$?" 0 "the secret is still on the server's disk"
for v in 0 2; do
	clone $v "$W/clone-after$v"
	is "$CLONE_RC" 0 "v$v: clone after the force push"
	clean_clone "$W/clone-after$v" "v$v: clone after the force push"
	git -C "$W/clone-after$v" cat-file -e "$SECRET_BLOB" 2>/dev/null
	is "$?" 1 "v$v: the secret is not in the clone"
	contains "$(grep "pack reuse: $P2.pack not usable" "$GG_TMP/sshd-gate.log" | tail -n 1)" \
		"not usable, tip" "v$v: the pack recorded with the secret is refused"
	contains "$(last_reuse)" "pack reuse: $P1.pack, " "v$v: the older recorded pack is reused instead"
done
repack grp/reuse --full
P3=$(grep -o 'pack-[0-9a-f]\{40\}' <<<"$REPACK_OUT")
git show-index <"$SRV/objects/pack/$P3.idx" | grep -q " $SECRET_BLOB "
is "$?" 1 "a full repack after the force push leaves the secret out"
clone 0 "$W/clone-repacked"
clean_clone "$W/clone-repacked" "clone from the new full pack"
contains "$(last_reuse)" "pack reuse: $P3.pack, " "the new full pack is reused"
git -C "$W/clone-repacked" cat-file -e "$SECRET_BLOB" 2>/dev/null
is "$?" 1 "the secret is not in that clone either"

# --- not every request may reuse: a single-branch clone is built as before -------------------
before=$(reuse_lines)
clone 2 "$W/single" --single-branch --branch side
is "$CLONE_RC" 0 "single-branch clone"
out=$(git -C "$W/single" fsck --full --no-progress 2>&1)
is "$?:$out" "0:" "single-branch clone: git fsck --full is clean"
is "$(reuse_lines)" "$before" "single-branch clone: no recorded pack fits, built as before"
is "$(git -C "$W/single" for-each-ref --format='%(refname)' refs/heads)" "refs/heads/side" \
	"single-branch clone has only its branch"

# --- a repository imported with stock git: its pack is audited on the first clone -------------
gatectl project create grp/imported --visibility private >/dev/null
gatectl member add grp/imported alice owner >/dev/null
IMP="$GG_DATA/repositories/grp/imported.git"
git -C "$IMP" fetch -q "$W/seed" '+refs/heads/*:refs/heads/*' '+refs/tags/*:refs/tags/*'
git -C "$IMP" repack -q -a -d -f
git -C "$IMP" prune-packed
is "$(ls "$IMP"/objects/pack/*.pack | wc -l)" 1 "imported: one pack written by stock git"
ok "$([ ! -e "$IMP/gitgate-packs" ]; echo $?)" "imported: never maintained"
imported_clone() {
	rm -rf "$2"
	gg_git alicekey -c protocol.version="$1" clone -q --bare "$(gg_url grp/imported)" "$2" 2>/dev/null
}
before=$(reuse_lines)
imported_clone 2 "$W/imported1"
is "$?" 0 "imported: first clone"
is "$(reuse_lines)" "$before" "imported: the first clone has no record to reuse"
for i in $(seq 1 300); do
	ls "$IMP"/gitgate-packs/*.record >/dev/null 2>&1 && break
	sleep 0.1
done
IMP_PACK=$(basename "$(ls "$IMP"/objects/pack/*.pack)" .pack)
ok "$([ -f "$IMP/gitgate-packs/$IMP_PACK.record" ]; echo $?)" \
	"imported: the first clone started the audit, which recorded stock git's pack"
# The audit is a fresh program (exec'd, not a fork of the session) that ends by itself.
for i in $(seq 1 300); do
	pgrep -f "gg-pack-maintain --background $IMP" >/dev/null || break
	sleep 0.1
done
pgrep -f "gg-pack-maintain --background $IMP" >/dev/null
is "$?" 1 "imported: the background gg-pack-maintain has exited"
ok "$(grep -q "gg-pack-maintain\[[0-9]*\] info .*pack maintenance $IMP" "$GG_TMP/sshd-gate.log"; echo $?)" \
	"imported: the exec'd gg-pack-maintain logged its run"
imported_clone 0 "$W/imported2"
is "$?" 0 "imported: second clone"
contains "$(last_reuse)" "pack reuse: $IMP_PACK.pack, " "imported: stock git's pack is reused byte for byte"
out=$(git -C "$W/imported2" fsck --full --no-progress 2>&1)
is "$?:$out" "0:" "imported: the clone is fsck clean"
is "$(git -C "$W/imported2" rev-list --objects --all | sort)" \
	"$(git -C "$IMP" rev-list --objects --all | sort)" "imported: same objects as the origin"

# --- a fetch 100 commits behind: no more objects than stock git sends -----------------------
git clone -q --bare --no-local "$SRV" "$W/behind-gg"
git clone -q --bare --no-local "$SRV" "$W/behind-git"
git -C "$W/dev" checkout -q main
for i in $(seq 1 100); do
	commit "$W/dev" "dir$((i % 4))/sub/file$((i % 7))" "more $i" "more $i"
done
gg_git alicekey -C "$W/dev" push -q "$(gg_url grp/reuse)" main 2>/dev/null
is "$?" 0 "100 more commits pushed"
# received objects: the "Receiving objects: 100% (N/N)" line of the client.
received() { tr '\r' '\n' <"$1" | sed -n 's/^Receiving objects: 100% (\([0-9]*\)\/.*/\1/p' | tail -n 1; }
received_bytes() { tr '\r' '\n' <"$1" | sed -n 's/^Receiving objects: 100% ([0-9/]*), \([^|]*\).*/\1/p' | tail -n 1; }
gg_git alicekey -C "$W/behind-gg" fetch --progress "$(gg_url grp/reuse)" main:main \
	>"$GG_TMP/fetch-gg" 2>&1
is "$?" 0 "fetch 100 commits behind from gitgate"
git -C "$W/behind-git" fetch --progress "file://$SRV" main:main >"$GG_TMP/fetch-git" 2>&1
is "$?" 0 "the same fetch from stock git upload-pack"
N_GG=$(received "$GG_TMP/fetch-gg")
N_GIT=$(received "$GG_TMP/fetch-git")
diag "objects received: gitgate $N_GG, stock git $N_GIT"
diag "bytes received: gitgate $(received_bytes "$GG_TMP/fetch-gg"), stock git $(received_bytes "$GG_TMP/fetch-git")"
ok "$([ -n "$N_GG" ] && [ -n "$N_GIT" ] && [ "$N_GIT" -gt 0 ] && [ $((N_GG * 10)) -le $((N_GIT * 12)) ]; echo $?)" \
	"gitgate sends at most 1.2x the objects stock git sends ($N_GG vs $N_GIT)"
out=$(git -C "$W/behind-gg" fsck --full --no-progress 2>&1)
is "$?:$out" "0:" "the fetched repository is fsck clean"
is "$(git -C "$W/behind-gg" rev-parse main)" "$(git -C "$SRV" rev-parse main)" "the fetch is complete"

# --- regression: many small packs, loose objects, empty commits sharing one tree -------------
# A record naming a one-commit pack (a push of an empty commit) while listing tips whose
# closure lies in other packs and loose objects made every clone leave those objects out
# ("did not receive expected object").  Such a record must be ignored, never trusted.
gatectl project create grp/shape --visibility private >/dev/null
gatectl member add grp/shape alice owner >/dev/null
SHAPE="$GG_DATA/repositories/grp/shape.git"
# The first commit as loose objects, written in the repository itself.
blob=$(echo "shape" | git -C "$SHAPE" hash-object -w --stdin)
tree=$(printf '100644 blob %s\tREADME\n' "$blob" | git -C "$SHAPE" mktree)
c1=$(git -C "$SHAPE" commit-tree "$tree" -m "first")
git -C "$SHAPE" update-ref refs/heads/main "$c1"
git clone -q "$SHAPE" "$W/shape" 2>/dev/null
for b in w1 w2 w3 w4; do
	git -C "$W/shape" branch "$b" main
done
# One small pack per push: empty commits on several branches, all sharing the one tree.
for k in 1 2 3; do
	for b in w1 w2 w3 w4; do
		git -C "$W/shape" checkout -q "$b"
		git -C "$W/shape" commit -q --allow-empty -m "$b-$k"
		gg_git alicekey -C "$W/shape" push -q "$(gg_url grp/shape)" "$b" 2>/dev/null ||
			diag "push $b-$k failed"
	done
done
git -C "$W/shape" checkout -q main
git -C "$W/shape" commit -q --allow-empty -m "main-2"
gg_git alicekey -C "$W/shape" push -q "$(gg_url grp/shape)" main 2>/dev/null
is "$?" 0 "shape: empty commits pushed on five branches"
is "$(git -C "$SHAPE" count-objects -v | sed -n 's/^count: //p')" 3 "shape: three loose objects"
npacks=$(ls "$SHAPE"/objects/pack/*.pack | wc -l)
ok "$([ "$npacks" -ge 10 ]; echo $?)" "shape: many small packs ($npacks)"
# Let the background runs after the pushes end, then plant the record the tester found: the
# pack of w3's last push (one commit) with main and w3 as tips.
for i in $(seq 1 300); do
	flock -n "$SHAPE/gitgate-packs/maintain.lock" true 2>/dev/null && break
	[ -d "$SHAPE/gitgate-packs" ] || break
	sleep 0.1
done
tip=$(git -C "$SHAPE" rev-parse w3)
onepack=
for idx in "$SHAPE"/objects/pack/*.idx; do
	if git show-index <"$idx" | grep -q "$tip"; then onepack=$(basename "$idx" .idx); fi
done
mkdir -p "$SHAPE/gitgate-packs"
rm -f "$SHAPE"/gitgate-packs/*.record
printf 'gitgate-pack-record 1\npack %s\nobjects %s\ntip %s\ntip %s\n' "${onepack#pack-}" \
	"$(git show-index <"$SHAPE/objects/pack/$onepack.idx" | wc -l)" \
	"$(git -C "$SHAPE" rev-parse main)" "$tip" >"$SHAPE/gitgate-packs/$onepack.record"
for v in 0 2; do
	rm -rf "$W/shape-v$v"
	gg_git alicekey -c protocol.version="$v" clone -q --bare "$(gg_url grp/shape)" \
		"$W/shape-v$v" >"$GG_TMP/clone.out" 2>&1
	is "$?:$(cat "$GG_TMP/clone.out")" "0:" "shape v$v: the clone succeeds"
	SRV="$SHAPE" clean_clone "$W/shape-v$v" "shape v$v"
done
ok "$(grep -q "ignoring invalid pack record .*/grp/shape.git/gitgate-packs/$onepack.record" \
	"$GG_TMP/sshd-gate.log"; echo $?)" "shape: the record whose pack lacks its tips is ignored"

# The background run after the last push has finished once the lock is free again.
repack grp/reuse
is "$REPACK_RC" 0 "gatectl repack after the fetch"
is "$(grep -cE 'AddressSanitizer|LeakSanitizer|runtime error:' "$GG_TMP/sshd-gate.log")" 0 \
	"no sanitizer report in the sshd-gate log (sessions and background maintenance)"

done_testing
