#!/usr/bin/env bash
# Connectivity of pushed refs (SPEC §6): a ref may only move to an object whose whole
# closure is in the repository, and an object that is already in the repository counts as
# complete only when a ref reaches it (git's `rev-list --objects NEW --not --all`).
#
# A push migrates its whole quarantine pack as soon as one ref is accepted, so the repository
# can hold objects no ref reaches and that are not complete: a tree made with
# `git mktree --missing` naming a blob that was never sent, the objects of a ref that was
# refused, a commit whose parent does not exist.  A later push that sends only a commit
# pointing at such an object must be refused ("missing necessary objects"), or the ref would
# name a tree with a missing blob and the repository would be corrupt.
#
# The packs are made by `git pack-objects` from exact object lists (a real client never sends
# a dangling tree) and sent with a raw `ssh ... git-receive-pack` to sshd-gate, as an attacker
# would.  For every refusal: the exact report-status line, the status git push would exit
# with, the ref not created or not moved, `git fsck --connectivity-only` clean.
. "$(dirname "$0")/lib.sh"

gg_setup
cat >"$GG_TMP/client.py" <<'PY'
import sys

def pkt(data):
    return b"%04x" % (len(data) + 4) + data

if sys.argv[1] == "make":  # make PACK OLD NEW REF [OLD NEW REF...]
    out = sys.stdout.buffer
    caps = b"\0report-status side-band-64k agent=e2e"
    args = sys.argv[3:]
    for i in range(0, len(args), 3):
        line = ("%s %s %s" % tuple(args[i:i + 3])).encode()
        out.write(pkt(line + (caps if i == 0 else b"") + b"\n"))
    out.write(b"0000" + open(sys.argv[2], "rb").read())
else:  # decode: the report after the ref advertisement; exits 1 like git push on any refusal
    data = sys.stdin.buffer.read()
    pos, advert, band1, lines = 0, True, b"", []
    while pos + 4 <= len(data):
        n = int(data[pos:pos + 4], 16)
        if n == 0:
            pos += 4
            advert = False
            continue
        payload, pos = data[pos + 4:pos + n], pos + n
        if advert:
            continue
        if payload[:1] == b"\x01":
            band1 += payload[1:]
        elif payload[:1] in (b"\x02", b"\x03"):
            lines += ["remote: " + l for l in payload[1:].decode(errors="replace").splitlines()]
    p = 0
    while p + 4 <= len(band1):
        n = int(band1[p:p + 4], 16)
        if n:
            lines.append(band1[p + 4:p + n].decode(errors="replace").rstrip("\n"))
        p += n or 4
    print("\n".join(lines))
    sys.exit(0 if lines[:1] == ["unpack ok"] and all(l.startswith("ok ") for l in lines[1:]) else 1)
PY
gg_git_home
gg_user_with_key alice
gatectl project create grp/conn --visibility private >/dev/null
gatectl member add grp/conn alice owner >/dev/null
REPO="$GG_DATA/repositories/grp/conn.git"
gg_start_api
gg_start_sshd
URL=$(gg_url grp/conn)
ZERO=0000000000000000000000000000000000000000

# push NAME OBJECTS OLD NEW REF [OLD NEW REF...]: a pack of exactly OBJECTS (space-separated
# names, possibly none) with those commands; $GOT is the report, $RC git push's status.
push() {
	local name=$1 objects=$2
	shift 2
	tr ' ' '\n' <<<"$objects" | sed '/^$/d' |
		git -C "$W" pack-objects -q --stdout >"$GG_TMP/$name.pack"
	python3 "$GG_TMP/client.py" make "$GG_TMP/$name.pack" "$@" >"$GG_TMP/$name.req"
	gg_ssh alicekey "git-receive-pack 'grp/conn.git'" <"$GG_TMP/$name.req" >"$GG_TMP/$name.out" \
		2>"$GG_TMP/$name.err"
	GOT=$(python3 "$GG_TMP/client.py" decode <"$GG_TMP/$name.out")
	RC=$?
}
refs() { git -C "$REPO" for-each-ref --format='%(objectname) %(refname)'; }
fsck_clean() { # fsck_clean WHAT: what the refs reach is complete, no quarantine left
	local out
	out=$(git -C "$REPO" fsck --connectivity-only --no-dangling --no-progress 2>&1)
	is "$?:$out" "0:" "$1: git fsck --connectivity-only is clean"
	ls -d "$REPO"/objects/incoming-* >/dev/null 2>&1
	is "$?" 2 "$1: no quarantine directory is left"
}
# refused NAME REF: the push NAME was refused for REF alone, nothing written.
refused() {
	local name=$1 ref=$2
	is "$GOT" "unpack ok
ng $ref missing necessary objects" "$name: refused with 'missing necessary objects'"
	is "$RC" 1 "$name: git push would fail"
	is "$(refs)" "$BEFORE" "$name: the refs are as before"
	fsck_clean "$name"
}

# --- a repository with one branch -------------------------------------------------------------
W="$GG_TMP/work"
git init -q "$W"
echo base >"$W/a.txt"
git -C "$W" add a.txt && git -C "$W" commit -q -m base
gg_git alicekey -C "$W" push -q "$URL" main 2>"$GG_TMP/err"
is "$?" 0 "a first push with real git succeeds"
BASE=$(git -C "$W" rev-parse main)

# --- push 1: a good ref, plus a dangling incomplete tree and the objects of a refused ref -----
echo one >"$W/b.txt"
git -C "$W" add b.txt && git -C "$W" commit -q -m one
C1=$(git -C "$W" rev-parse main)
NEWOBJ=$(git -C "$W" rev-list --objects "$BASE..$C1" | cut -d' ' -f1 | tr '\n' ' ')
MISSING=$(echo "never sent" | git hash-object --stdin)
MISSING2=$(echo "never sent either" | git hash-object --stdin)
TBAD=$(printf '100644 blob %s\tsecret\n' "$MISSING" | git -C "$W" mktree --missing)
TBAD2=$(printf '100644 blob %s\tother\n' "$MISSING2" | git -C "$W" mktree --missing)
CX=$(git -C "$W" commit-tree -p "$BASE" -m "refused" "$TBAD2")
# A commit whose parent does not exist (written without the checks commit-tree makes).
NOPARENT=$(echo "no such parent" | git hash-object --stdin)
CP=$(printf 'tree %s\nparent %s\nauthor E2E <e2e@example.com> 1700000000 +0000\ncommitter E2E <e2e@example.com> 1700000000 +0000\n\norphan\n' \
	"$(git -C "$W" rev-parse "$BASE^{tree}")" "$NOPARENT" | git -C "$W" hash-object -t commit -w --stdin)
push p1 "$NEWOBJ $TBAD $TBAD2 $CX $CP" "$ZERO" "$C1" refs/heads/good "$ZERO" "$CX" refs/heads/x
is "$GOT" "unpack ok
ok refs/heads/good
ng refs/heads/x missing necessary objects" "push 1: the good ref is accepted, the incomplete one refused"
is "$(git -C "$REPO" rev-parse -q --verify refs/heads/good)" "$C1" "push 1: refs/heads/good was created"
git -C "$REPO" cat-file -e "$TBAD" && git -C "$REPO" cat-file -e "$CX" && git -C "$REPO" cat-file -e "$CP"
is "$?" 0 "push 1: the dangling tree, the refused commit and the orphan are in the repository"
git -C "$REPO" cat-file -e "$MISSING" 2>/dev/null
is "$?" 1 "push 1: the blob the dangling tree names is not"
fsck_clean "push 1"
BEFORE=$(refs)

# --- a commit whose tree is the dangling tree, sent alone -------------------------------------
C2=$(git -C "$W" commit-tree -p "$C1" -m "points at the dangling tree" "$TBAD")
push p2 "$C2" "$C1" "$C2" refs/heads/good
refused "a fast-forward to a commit whose tree is incomplete (only the commit sent)" refs/heads/good
push p2b "$C2" "$ZERO" "$C2" refs/heads/evil
refused "a new branch at a commit whose tree is incomplete (only the commit sent)" refs/heads/evil

# --- a new tree whose subtree is the dangling tree --------------------------------------------
T3=$(printf '040000 tree %s\tsub\n100644 blob %s\ta.txt\n' "$TBAD" \
	"$(git -C "$W" rev-parse "$BASE:a.txt")" | git -C "$W" mktree --missing)
C3=$(git -C "$W" commit-tree -p "$C1" -m "a subtree is the dangling tree" "$T3")
push p3 "$C3 $T3" "$C1" "$C3" refs/heads/good
refused "a new tree with the dangling tree as a subtree" refs/heads/good
# The same one level deeper, under a parent whose tree has a different subtree at that path.
T4=$(printf '040000 tree %s\tdeep\n' "$T3" | git -C "$W" mktree --missing)
C4=$(git -C "$W" commit-tree -p "$C1" -m "deeper" "$T4")
push p4 "$C4 $T4" "$C1" "$C4" refs/heads/good
refused "the dangling tree two levels down" refs/heads/good

# --- objects already in the repository that no ref reaches ------------------------------------
push p5 "" "$ZERO" "$CX" refs/heads/evil
refused "a branch at the commit of a refused ref (no objects sent)" refs/heads/evil
push p6 "" "$ZERO" "$CP" refs/heads/evil
refused "a branch at a stored commit whose parent is missing" refs/heads/evil
C5=$(git -C "$W" commit-tree -p "$CP" -m "child of the orphan" "$(git -C "$W" rev-parse "$BASE^{tree}")")
push p7 "$C5" "$ZERO" "$C5" refs/heads/evil
refused "a new commit on a stored commit whose parent is missing" refs/heads/evil
C6=$(git -C "$W" commit-tree -p "$C1" -p "$CX" -m "merge of the refused commit" "$(git -C "$W" rev-parse "$C1^{tree}")")
push p8 "$C6" "$C1" "$C6" refs/heads/good
refused "a merge whose second parent is the refused commit" refs/heads/good

# --- tags: annotated, and pointing straight at the tree ---------------------------------------
TAG=$(printf 'object %s\ntype commit\ntag evil\ntagger E2E <e2e@example.com> 1700000000 +0000\n\nevil\n' \
	"$C2" | git -C "$W" hash-object -t tag -w --stdin)
push p9 "$TAG $C2" "$ZERO" "$TAG" refs/tags/evil
refused "an annotated tag of a commit whose tree is incomplete" refs/tags/evil
TTAG=$(printf 'object %s\ntype tree\ntag tree\ntagger E2E <e2e@example.com> 1700000000 +0000\n\ntree\n' \
	"$TBAD" | git -C "$W" hash-object -t tag -w --stdin)
push p10 "$TTAG" "$ZERO" "$TTAG" refs/tags/tree
refused "an annotated tag of the dangling tree" refs/tags/tree
push p11 "" "$ZERO" "$TBAD" refs/tags/bare-tree
refused "a tag ref naming the dangling tree (no objects sent)" refs/tags/bare-tree

# --- what is complete is still accepted -------------------------------------------------------
# A commit reusing the good tree of a stored commit no ref reaches, and a merge of history the
# refs reach.
C7=$(git -C "$W" commit-tree -p "$C1" -m "reuses the orphan's tree" "$(git -C "$W" rev-parse "$CP^{tree}")")
push p12 "$C7" "$C1" "$C7" refs/heads/good
is "$GOT:$RC" "unpack ok
ok refs/heads/good:0" "a commit whose tree is complete (sent alone) is accepted"
echo two >"$W/c.txt"
git -C "$W" add c.txt && git -C "$W" commit -q -m two
gg_git alicekey -C "$W" push -q "$URL" main 2>"$GG_TMP/err"
is "$?" 0 "a push with real git still succeeds"
gg_git alicekey -C "$W" push -q "$URL" main:refs/heads/copy 2>"$GG_TMP/err"
is "$?" 0 "a new branch at a pushed commit (no objects) succeeds"
fsck_clean "after the accepted pushes"
gg_git alicekey clone -q "$URL" "$GG_TMP/clone" 2>"$GG_TMP/err"
is "$?:$(git -C "$GG_TMP/clone" rev-parse HEAD)" "0:$(git -C "$W" rev-parse main)" "a clone gets main"
ok "$(kill -0 "$SSHD_GATE_PID" 2>/dev/null; echo $?)" "sshd-gate still runs"

done_testing
