#!/usr/bin/env bash
# Pack reuse (issue 5, SPEC §6 and §8): clones served from an on-disk pack byte for byte, with
# what was pushed since appended, and never an object unreachable from the refs the client sees.
# Real git over ssh against sshd-gate: 'gatectl repack' records which pack may be reused; a
# clone then reuses it (the sshd-gate log names the pack, so the test fails if reuse silently
# stops), is fsck clean and equal to the origin; a push afterwards is appended; a pack recorded
# while a secret was reachable is refused once the secret is force-pushed away, and the secret
# never reaches a fresh clone; a fetch 100 commits behind sends at most 1.2x the objects stock
# git upload-pack sends from the same repository.  A full repack deletes the packs whose objects
# are all in the new one (never one holding what no ref reaches, nor one with a .keep), so the
# disk does not grow with every repack; a clone reading a pack being deleted completes; the
# records of packs a stock git gc removed are removed by the next run.
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
# REPACK_OUT: its standard output; REPACK_ERR: its log lines (each pack deleted, kept, audited).
repack() {
	local i
	for i in $(seq 1 300); do
		REPACK_OUT=$(gatectl repack "$@" 2>"$GG_TMP/repack.err")
		REPACK_RC=$?
		REPACK_ERR=$(cat "$GG_TMP/repack.err")
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
gg_git_home
gg_user_with_key alice
gatectl project create grp/reuse --visibility private >/dev/null
gatectl member add grp/reuse alice owner >/dev/null
SRV="$GG_DATA/repositories/grp/reuse.git"
gg_start_api
gg_start_sshd

# --- refusals of the command ----------------------------------------------------------------
out=$(gatectl repack grp/nope 2>&1)
is "$?:$out" "1:gatectl: project 'grp/nope' not found" "repack of an unknown project is refused"
out=$(gatectl repack 2>&1)
is "$?:$out" "2:gatectl: usage: gatectl repack (PROJECT | --all) [--full [--expire 14d]]" "repack without a project: usage"
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
P2=$(grep -o 'pack-[0-9a-f]\{40\}' <<<"$REPACK_OUT" | head -n 1)
git show-index <"$SRV/objects/pack/$P2.idx" | grep -q " $SECRET_BLOB "
is "$?" 0 "the new recorded pack holds the secret"
# The three pushed packs (the first one recorded) hold nothing the new pack lacks: deleted.
contains "$REPACK_OUT" "grp/reuse: 3 redundant packs removed (" "the full repack removed the older packs"
ok "$([ ! -e "$SRV/objects/pack/$P1.pack" ] && [ ! -e "$SRV/objects/pack/$P1.idx" ] &&
	[ ! -e "$SRV/gitgate-packs/$P1.record" ]; echo $?)" "$P1, its index and its record are gone"
is "$(ls "$SRV"/objects/pack/*.pack | wc -l)" 1 "one pack left"
contains "$REPACK_ERR" "pack maintenance: $P1 deleted (" "gatectl logs each pack it deletes"
gg_git alicekey -C "$W/dev" push -q --force "$(gg_url grp/reuse)" main:leak 2>/dev/null
is "$?" 0 "the secret branch is force-pushed away"
git -C "$SRV" cat-file -e "$SECRET_BLOB"
is "$?" 0 "the secret is still on the server's disk"
for v in 0 2; do
	before=$(reuse_lines)
	clone $v "$W/clone-after$v"
	is "$CLONE_RC" 0 "v$v: clone after the force push"
	clean_clone "$W/clone-after$v" "v$v: clone after the force push"
	git -C "$W/clone-after$v" cat-file -e "$SECRET_BLOB" 2>/dev/null
	is "$?" 1 "v$v: the secret is not in the clone"
	contains "$(grep "pack reuse: $P2.pack not usable" "$GG_TMP/sshd-gate.log" | tail -n 1)" \
		"not usable, tip" "v$v: the pack recorded with the secret is refused"
	is "$(reuse_lines)" "$before" "v$v: no other record: the pack is built as for any fetch"
done
repack grp/reuse --full
P3=$(grep -o 'pack-[0-9a-f]\{40\}' <<<"$REPACK_OUT" | head -n 1)
git show-index <"$SRV/objects/pack/$P3.idx" | grep -q " $SECRET_BLOB "
is "$?" 1 "a full repack after the force push leaves the secret out"
contains "$REPACK_OUT" ", 1 kept (objects no ref reaches), 0 kept (.keep)" \
	"the pack holding the secret, which no ref reaches, is kept"
ok "$([ -f "$SRV/objects/pack/$P2.pack" ]; echo $?)" "$P2 is still on disk"
git -C "$SRV" cat-file -e "$SECRET_BLOB"
is "$?" 0 "the secret is still on the server's disk (a push in flight may need what no ref reaches)"
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

# idle REPO: waits until no maintenance run holds the repository's lock.
idle() {
	local i
	for i in $(seq 1 300); do
		[ -d "$1/gitgate-packs" ] || return 0
		flock -n "$1/gitgate-packs/maintain.lock" true 2>/dev/null && return 0
		sleep 0.1
	done
}
npacks() { ls "$1"/objects/pack/*.pack 2>/dev/null | wc -l; }
packsize() { find "$1/objects/pack" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }
# refs_resolve REPO: the number of refs naming an object the repository lacks.
refs_resolve() {
	git -C "$1" for-each-ref --format='%(objectname)' | git -C "$1" cat-file --batch-check |
		grep -c missing
}

# --- a stock git gc removes the recorded packs: the next run removes their records ----------
idle "$SRV"
git -C "$SRV" gc -q
stale=0
for r in "$SRV"/gitgate-packs/*.record; do
	[ -e "$SRV/objects/pack/$(basename "$r" .record).pack" ] || stale=$((stale + 1))
done
ok "$([ "$stale" -ge 1 ]; echo $?)" "git gc left $stale records whose pack is gone"
before=$(reuse_lines)
clone 2 "$W/clone-gc"
is "$CLONE_RC" 0 "clone with only stale records"
clean_clone "$W/clone-gc" "clone with only stale records"
is "$(reuse_lines)" "$before" "a stale record is never reused"
# The background run after the last push has finished once the lock is free again.
repack grp/reuse
is "$REPACK_RC" 0 "gatectl repack after the fetch and git gc"
contains "$REPACK_OUT" "grp/reuse: $stale stale records removed (their pack was gone)" \
	"the next run removes the stale records"
left=0
for r in "$SRV"/gitgate-packs/*.record; do
	[ -e "$r" ] && [ ! -e "$SRV/objects/pack/$(basename "$r" .record).pack" ] && left=$((left + 1))
done
is "$left" 0 "no record names a missing pack"
clone 0 "$W/clone-gc2"
is "$CLONE_RC" 0 "clone after the stale records are removed"
clean_clone "$W/clone-gc2" "clone after the stale records are removed"
git -C "$W/clone-gc2" cat-file -e "$SECRET_BLOB" 2>/dev/null
is "$?" 1 "the secret is still not in a clone"

# --- full repacks delete redundant packs: the disk does not grow with every repack ----------
gatectl project create grp/prune --visibility private >/dev/null
gatectl member add grp/prune alice owner >/dev/null
PR="$GG_DATA/repositories/grp/prune.git"
git init -q "$W/prune"
push_prune() { # push_prune N WHAT: N commits, one push
	local k
	for k in $(seq 1 "$1"); do
		commit "$W/prune" "p$((RANDOM % 5))/f$k" "$2 $k $RANDOM" "$2 $k"
	done
	gg_git alicekey -C "$W/prune" push -q "$(gg_url grp/prune)" main 2>/dev/null
}
clone_prune() { # clone_prune V DIR
	rm -rf "$2"
	gg_git alicekey -c protocol.version="$1" clone -q --bare "$(gg_url grp/prune)" "$2" \
		>"$GG_TMP/clone.out" 2>&1
	CLONE_RC=$?
}
for n in 1 2 3; do
	push_prune 5 "round $n"
	is "$?" 0 "prune: push $n"
done
idle "$PR"
is "$(npacks "$PR")" 3 "prune: one pack per push"
repack grp/prune --full
is "$REPACK_RC" 0 "prune: first full repack"
contains "$REPACK_OUT" "grp/prune: 3 redundant packs removed (" "prune: the three pushed packs are removed"
is "$(npacks "$PR")" 1 "prune: one pack after the first full repack"
SIZE1=$(packsize "$PR")
for n in 4 5; do
	push_prune 5 "round $n"
	is "$?" 0 "prune: push $n"
done
idle "$PR"
is "$(npacks "$PR")" 3 "prune: the full pack and two pushed packs"
SIZE_BEFORE=$(packsize "$PR")
repack grp/prune --full
is "$REPACK_RC" 0 "prune: second full repack"
contains "$REPACK_OUT" "grp/prune: 3 redundant packs removed (" \
	"prune: the previous full pack and the pushed ones are removed"
PF=$(head -n 1 <<<"$REPACK_OUT" | grep -o 'pack-[0-9a-f]\{40\}')
is "$(ls "$PR/objects/pack" | sort | tr '\n' ' ')" "$PF.idx $PF.pack " \
	"prune: objects/pack holds the new pack and its index, nothing else"
SIZE2=$(packsize "$PR")
diag "objects/pack bytes: $SIZE1 after the first full repack, $SIZE_BEFORE before the second, $SIZE2 after it ($((SIZE_BEFORE + SIZE2)) without deletion)"
ok "$([ "$SIZE2" -lt "$SIZE_BEFORE" ] && [ "$SIZE2" -lt $((SIZE1 * 2)) ]; echo $?)" \
	"prune: objects/pack shrinks with the second full repack ($SIZE_BEFORE -> $SIZE2 bytes)"
is "$(ls "$PR/gitgate-packs" | grep '\.record$')" "$PF.record" "prune: only the new pack's record is left"
is "$(refs_resolve "$PR")" 0 "prune: every ref resolves"
out=$(git -C "$PR" fsck --full --no-progress --no-dangling 2>&1)
is "$?:$out" "0:" "prune: git fsck --full on the server is clean"
clone_prune 2 "$W/prune-c1"
is "$CLONE_RC" 0 "prune: fresh clone"
SRV="$PR" clean_clone "$W/prune-c1" "prune: fresh clone"
contains "$(last_reuse)" "pack reuse: $PF.pack, " "prune: the new pack is reused"

# A commit force-pushed away: its pack holds what no ref reaches and is kept.
git -C "$W/prune" checkout -q -b tmp
commit "$W/prune" "tmp.txt" "gone $RANDOM$RANDOM" "to be force-pushed away"
TMPC=$(git -C "$W/prune" rev-parse HEAD)
gg_git alicekey -C "$W/prune" push -q "$(gg_url grp/prune)" tmp 2>/dev/null
is "$?" 0 "prune: a branch pushed"
TMPPACK=
for idx in "$PR"/objects/pack/*.idx; do
	git show-index <"$idx" | grep -q " $TMPC " && TMPPACK=$(basename "$idx" .idx)
done
like "$TMPPACK" '^pack-[0-9a-f]{40}$' "prune: the branch's commit is in its pushed pack"
gg_git alicekey -C "$W/prune" push -q "$(gg_url grp/prune)" :tmp 2>/dev/null
is "$?" 0 "prune: the branch is deleted"
git -C "$W/prune" checkout -q main
# A pushed pack with a .keep file: kept though redundant.
push_prune 2 "kept"
is "$?" 0 "prune: a push whose pack gets a .keep"
idle "$PR"
KEEPPACK=
for idx in "$PR"/objects/pack/*.idx; do
	git show-index <"$idx" | grep -q " $(git -C "$W/prune" rev-parse main) " &&
		[ "$(git show-index <"$idx" | wc -l)" -lt 20 ] && KEEPPACK=$(basename "$idx" .idx)
done
like "$KEEPPACK" '^pack-[0-9a-f]{40}$' "prune: the last push's pack"
touch "$PR/objects/pack/$KEEPPACK.keep"
repack grp/prune --full
is "$REPACK_RC" 0 "prune: third full repack"
contains "$REPACK_OUT" "grp/prune: 1 redundant packs removed (" "prune: the previous full pack is removed"
contains "$REPACK_OUT" ", 1 kept (objects no ref reaches), 1 kept (.keep)" "prune: the other two are kept"
PF=$(head -n 1 <<<"$REPACK_OUT" | grep -o 'pack-[0-9a-f]\{40\}')
ok "$([ -f "$PR/objects/pack/$TMPPACK.pack" ] && [ -f "$PR/objects/pack/$TMPPACK.idx" ]; echo $?)" \
	"prune: the pack holding the force-pushed-away commit is kept"
ok "$([ -f "$PR/objects/pack/$KEEPPACK.pack" ] && [ -f "$PR/objects/pack/$KEEPPACK.keep" ]; echo $?)" \
	"prune: the pack with a .keep is kept"
is "$(npacks "$PR")" 3 "prune: three packs: the new one and the two kept"
git show-index <"$PR/objects/pack/$PF.idx" | grep -q " $TMPC "
is "$?" 1 "prune: the new pack leaves the force-pushed-away commit out"
clone_prune 0 "$W/prune-c2"
is "$CLONE_RC" 0 "prune: clone after the third repack"
SRV="$PR" clean_clone "$W/prune-c2" "prune: clone after the third repack"
git -C "$W/prune-c2" cat-file -e "$TMPC" 2>/dev/null
is "$?" 1 "prune: the force-pushed-away commit is not in the clone"
out=$(git -C "$PR" fsck --full --no-progress --no-dangling 2>&1)
is "$?:$out" "0:" "prune: git fsck --full on the server is clean after the third repack"

# --- what no ref reaches expires: packs and loose objects older than --expire are deleted -----
# Loose objects, as stock git's receive-pack (behind gate-hook) leaves a small push: a push
# straight into the repository, which refs then reach, and two objects no ref reaches.
commit "$W/prune" "direct.txt" "direct $RANDOM$RANDOM" "pushed by stock git"
git -C "$W/prune" push -q "$PR" HEAD:refs/heads/direct 2>/dev/null
is "$?" 0 "expire: a push by stock git straight into the repository"
DIRECT=$(git -C "$PR" rev-parse refs/heads/direct)
ok "$([ -f "$PR/objects/${DIRECT:0:2}/${DIRECT:2}" ]; echo $?)" "expire: its commit is a loose object"
OLDLOOSE=$(echo "old unreachable $RANDOM$RANDOM" | git -C "$PR" hash-object -w --stdin)
NEWLOOSE=$(echo "new unreachable $RANDOM$RANDOM" | git -C "$PR" hash-object -w --stdin)
touch -d '15 days ago' "$PR/objects/${OLDLOOSE:0:2}/${OLDLOOSE:2}"
# The pack of the force-pushed-away commit, written 15 days ago.
touch -d '15 days ago' "$PR/objects/pack/$TMPPACK.pack"
REFS_BEFORE=$(git -C "$PR" for-each-ref)
out=$(gatectl repack grp/prune --full --expire 2w 2>&1)
is "$?" 0 "expire: full repack with --expire 2w"
contains "$out" "grp/prune: 1 packs of objects no ref reaches deleted (" \
	"expire: the pack of the force-pushed-away commit, 15 days old, is deleted"
contains "$out" "older than 2w), 3 loose objects removed (in the new pack), 1 loose objects removed (no ref reaches them, older than 2w)" \
	"expire: the pushed loose objects (now packed) and the old unreachable one are removed"
contains "$out" ", 0 kept (objects no ref reaches), 1 kept (.keep)" "expire: the .keep pack is still kept"
ok "$([ ! -e "$PR/objects/pack/$TMPPACK.pack" ] && [ ! -e "$PR/objects/pack/$TMPPACK.idx" ]; echo $?)" \
	"expire: its .pack and .idx are gone"
git -C "$PR" cat-file -e "$TMPC" 2>/dev/null
is "$?" 1 "expire: the force-pushed-away commit is gone from the repository"
ok "$([ ! -e "$PR/objects/${OLDLOOSE:0:2}/${OLDLOOSE:2}" ]; echo $?)" "expire: the old unreachable loose object is gone"
ok "$([ -f "$PR/objects/${NEWLOOSE:0:2}/${NEWLOOSE:2}" ]; echo $?)" \
	"expire: the young unreachable loose object is kept (it could be a push in flight)"
ok "$([ ! -e "$PR/objects/${DIRECT:0:2}/${DIRECT:2}" ]; echo $?)" "expire: the pushed commit is no longer loose"
git -C "$PR" cat-file -e "$DIRECT"
is "$?" 0 "expire: ... and still in the repository (packed)"
is "$(git -C "$PR" for-each-ref)" "$REFS_BEFORE" "expire: the refs are unchanged"
out=$(git -C "$PR" fsck --full --no-progress --no-dangling 2>&1)
is "$?:$out" "0:" "expire: git fsck --full is clean"
clone_prune 0 "$W/prune-c3"
is "$CLONE_RC" 0 "expire: a clone afterwards"
SRV="$PR" clean_clone "$W/prune-c3" "expire: a clone afterwards"
out=$(gatectl repack grp/prune --full --expire now 2>&1)
contains "$out" "1 loose objects removed (no ref reaches them, older than now)" \
	"expire: --expire now removes the young unreachable object too"
ok "$([ ! -e "$PR/objects/${NEWLOOSE:0:2}/${NEWLOOSE:2}" ]; echo $?)" "expire: ... it is gone"
out=$(gatectl repack grp/prune --full --expire 3x 2>&1)
is "$?:$out" "2:gatectl: --expire: expected a duration such as 14d, 2w or now, not '3x'" \
	"expire: a bad duration is refused"

# --- a clone reading a recorded pack while a full repack deletes it -------------------------
# 24 MiB of random data, more than the pipe, socket and ssh window buffers hold: the clone's
# input stalls after 64 KiB (dd, then nothing until $GG_TMP/go exists) while sshd-gate sends
# the recorded pack.
head -c 24M /dev/urandom >"$W/prune/big.bin"
git -C "$W/prune" add big.bin
git -C "$W/prune" commit -q -m "big"
gg_git alicekey -C "$W/prune" push -q "$(gg_url grp/prune)" main 2>/dev/null
is "$?" 0 "prune: 24 MiB pushed"
repack grp/prune --full
BIGPACK=$(head -n 1 <<<"$REPACK_OUT" | grep -o 'pack-[0-9a-f]\{40\}')
like "$BIGPACK" '^pack-[0-9a-f]{40}$' "prune: the big pack is recorded: $REPACK_OUT"
push_prune 2 "after big"
is "$?" 0 "prune: a push after the big pack's record"
idle "$PR"
printf '#!/usr/bin/env bash\nssh -i %q %s "$@" | {\n\tdd bs=1 count=65536 status=none\n\twhile [ ! -e %q ]; do sleep 0.1; done\n\texec cat\n}\n' \
	"$GG_TMP/alicekey" "$GG_SSH_OPTS" "$GG_TMP/go" >"$GG_TMP/slow-ssh"
chmod +x "$GG_TMP/slow-ssh"
rm -rf "$W/prune-slow" "$GG_TMP/go"
before=$(reuse_lines)
# (ssh.variant: else git first runs the wrapper with -G to find out what it is)
GIT_SSH_COMMAND="$GG_TMP/slow-ssh" git -c ssh.variant=ssh clone -q --bare "$(gg_url grp/prune)" "$W/prune-slow" \
	>"$GG_TMP/slow.out" 2>&1 &
SLOW=$!
for i in $(seq 1 600); do
	[ "$(reuse_lines)" -gt "$before" ] && break
	sleep 0.1
done
contains "$(last_reuse)" "pack reuse: $BIGPACK.pack, " "slow clone: sshd-gate is sending the big pack"
repack grp/prune --full
is "$REPACK_RC" 0 "slow clone: a full repack meanwhile"
contains "$REPACK_OUT" "grp/prune: 2 redundant packs removed (" \
	"slow clone: the big pack and the last push's are removed"
ok "$([ ! -e "$PR/objects/pack/$BIGPACK.pack" ]; echo $?)" "slow clone: the big pack is deleted"
held=0
for fd in /proc/[0-9]*/fd/*; do
	[[ "$(readlink "$fd" 2>/dev/null)" == "$PR/objects/pack/$BIGPACK.pack (deleted)" ]] && held=1
done
is "$held" 1 "slow clone: sshd-gate still reads the deleted pack (the clone is mid-transfer)"
touch "$GG_TMP/go"
wait "$SLOW"
is "$?:$(cat "$GG_TMP/slow.out")" "0:" "slow clone: completes"
SRV="$PR" clean_clone "$W/prune-slow" "slow clone"
is "$(npacks "$PR")" 2 "prune: still two packs: the new one and the one with a .keep (the other expired above)"

is "$(grep -cE 'AddressSanitizer|LeakSanitizer|runtime error:' "$GG_TMP/sshd-gate.log")" 0 \
	"no sanitizer report in the sshd-gate log (sessions and background maintenance)"

done_testing
