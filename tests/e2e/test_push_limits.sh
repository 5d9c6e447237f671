#!/usr/bin/env bash
# Limits on what a push may send (issue 7 item 5, SPEC §6): the pack's declared object count,
# its size in bytes ([git] max_input_size), objects that inflate to more than
# [git] max_object_size (a real compressible file, a forged object header, a delta whose
# result claims gigabytes), over-long ref names, too many or too long push options, NUL bytes
# in commands and push options, and pkt-lines longer than the protocol allows.
#
# Real git pushes over ssh where a real client can send the input; otherwise the request is
# made byte by byte (a small Python client below) and sent with a raw `ssh ...
# git-receive-pack`, as an attacker would.  The fuzz finding
# tests/fuzz/crashes/fuzz_receive_commands/pack-header-huge-object-count (a 588-byte push whose
# pack header claims 956 million objects) is replayed that way, so it stays fixed in the
# normal suite.  Every refusal is checked for its exact message (common/messages.h), a
# non-zero status, and the repository being exactly as before: refs, objects, git fsck
# --full, no quarantine directory left.
. "$(dirname "$0")/lib.sh"
. "$GG_SRC/tests/e2e/messages.sh"

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
# state REPO: refs and every file under objects/ (so a kept pack or quarantine shows).
state() {
	git -C "$1" for-each-ref --format='%(objectname) %(refname)'
	(cd "$1/objects" && find . -type f | sort)
}
# unchanged REPO BEFORE WHAT: refs and objects as before, fsck clean, no quarantine.
unchanged() {
	local out
	is "$(state "$1")" "$2" "$3: refs and objects unchanged"
	out=$(git -C "$1" fsck --full --no-dangling --no-progress 2>&1)
	is "$?:$out" "0:" "$3: git fsck --full is clean"
	ls -d "$1"/objects/incoming-* >/dev/null 2>&1
	is "$?" 2 "$3: no quarantine directory is left"
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
# raw REQUEST-FILE [--sideband]: sends the bytes to git-receive-pack of grp/lim over ssh;
# $RC is ssh's status and $GOT what came back after the ref advertisement, decoded.
raw() {
	gg_ssh alicekey "git-receive-pack 'grp/lim.git'" <"$1" >"$GG_TMP/raw.out" 2>"$GG_TMP/raw.err"
	RC=$?
	GOT=$(python3 "$GG_TMP/client.py" decode "${2:-}" <"$GG_TMP/raw.out")
}

gg_setup
# The client: "make KIND" writes a request, "decode [--sideband]" reads a response.
cat >"$GG_TMP/client.py" <<'PY'
import hashlib, struct, sys, zlib

ZERO = "0" * 40
NEW = "1" * 40

def pkt(data):
    if isinstance(data, str):
        data = data.encode()
    return b"%04x" % (len(data) + 4) + data

def command(ref, caps="report-status side-band-64k agent=e2e", old=ZERO, new=NEW):
    line = ("%s %s " % (old, new)).encode() + ref
    return pkt(line + (b"\0" + caps.encode() if caps is not None else b"") + b"\n")

def varint(n):  # a delta header's sizes
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)

def obj_header(kind, size):  # type and size of a pack entry
    out = bytearray()
    c = (kind << 4) | (size & 15)
    size >>= 4
    while size:
        out.append(c | 0x80)
        c = size & 0x7F
        size >>= 7
    out.append(c)
    return bytes(out)

def pack(entries):
    body = b"PACK" + struct.pack(">II", 2, len(entries)) + b"".join(entries)
    return body + hashlib.sha1(body).digest()

BLOB, OFS_DELTA = 3, 6
kind = sys.argv[2] if len(sys.argv) > 2 else ""
out = sys.stdout.buffer
if sys.argv[1] == "decode":
    data = sys.stdin.buffer.read()
    pos, lines, advert, band1 = 0, [], True, b""
    while pos + 4 <= len(data):
        n = int(data[pos:pos + 4], 16)
        if n == 0:
            pos += 4
            advert = False
            continue
        payload = data[pos + 4:pos + n]
        pos += n
        if advert:
            continue
        if payload.startswith(b"ERR "):
            lines.append(payload.decode(errors="replace").rstrip("\n"))
        elif kind == "--sideband" and payload[:1] == b"\x01":
            band1 += payload[1:]
        elif kind == "--sideband" and payload[:1] in (b"\x02", b"\x03"):
            for l in payload[1:].decode(errors="replace").splitlines():
                lines.append(("remote: " if payload[:1] == b"\x02" else "error: ") + l)
        else:
            lines.append(payload.decode(errors="replace").rstrip("\n"))
    p = 0
    while p + 4 <= len(band1):
        n = int(band1[p:p + 4], 16)
        if n:
            lines.append(band1[p + 4:p + n].decode(errors="replace").rstrip("\n"))
        p += n or 4
    print("\n".join(lines))
elif kind == "bomb-blob":  # a blob whose header claims 4 GiB, a few bytes of zlib
    out.write(command(b"refs/heads/bomb") + b"0000" + pack([obj_header(BLOB, 4 << 30) + zlib.compress(b"x")]))
elif kind == "bomb-delta":  # a 5-byte blob and a delta on it whose result claims 3 GiB
    base = obj_header(BLOB, 5) + zlib.compress(b"hello")
    delta = varint(5) + varint(3 << 30) + bytes([0x90, 5]) * 64  # copies of the whole base
    entry = obj_header(OFS_DELTA, len(delta)) + bytes([len(base)]) + zlib.compress(delta)
    out.write(command(b"refs/heads/bomb") + b"0000" + pack([base, entry]))
elif kind == "lying-blob":  # a blob declaring 10 bytes that inflates to 100,000
    out.write(command(b"refs/heads/bomb") + b"0000" + pack([obj_header(BLOB, 10) + zlib.compress(b"a" * 100000)]))
elif kind == "huge-pkt":  # ffff: longer than the 65520 bytes a pkt-line may have
    out.write(b"ffff" + b"x" * 65531)
elif kind == "nul-command":  # a NUL in the second command's ref name
    out.write(command(b"refs/heads/ok") + command(b"refs/heads/a\0b", caps=None) + b"0000" + pack([]))
elif kind == "two-tips":  # a tip we have and one we do not, no objects sent
    good = sys.argv[3].encode()
    out.write(command(b"refs/heads/good", new=good.decode()) + command(b"refs/heads/bad", caps=None)
              + b"0000" + pack([]))
elif kind == "nul-option":
    out.write(command(b"refs/heads/ok", caps="report-status side-band-64k push-options")
              + b"0000" + pkt(b"ci.skip\0evil") + b"0000" + pack([]))
PY
gg_git_home
gg_user_with_key alice
gatectl project create grp/lim --visibility private >/dev/null
gatectl member add grp/lim alice owner >/dev/null
LIM="$GG_DATA/repositories/grp/lim.git"
# Small limits, so that each can be crossed with a small push.
printf '\n[git]\nmax_input_size = 1m\nmax_pack_objects = 1000\nmax_object_size = 256k\n' >>"$GG_CONF"
gg_start_api
gg_start_sshd
URL=$(gg_url grp/lim)
MSG_PACK_TOO_LARGE=$(_gg_msg GG_MSG_PACK_TOO_LARGE)
MSG_PACK_TOO_MANY_OBJECTS=$(_gg_msg GG_MSG_PACK_TOO_MANY_OBJECTS)
MSG_OBJECT_TOO_LARGE=$(_gg_msg GG_MSG_OBJECT_TOO_LARGE)
MSG_TOO_MANY_PUSH_OPTIONS=$(_gg_msg GG_MSG_TOO_MANY_PUSH_OPTIONS)
MSG_PUSH_OPTION_TOO_LONG=$(_gg_msg GG_MSG_PUSH_OPTION_TOO_LONG)
MSG_REFNAME_TOO_LONG=$(_gg_msg GG_MSG_REFNAME_TOO_LONG)
MSG_NUL_IN_COMMAND=$(_gg_msg GG_MSG_NUL_IN_COMMAND)
MSG_NUL_IN_PUSH_OPTION=$(_gg_msg GG_MSG_NUL_IN_PUSH_OPTION)

# --- a push within the limits, with deltas: the client sends OFS_DELTA and it is indexed ------
W="$GG_TMP/work"
git init -q "$W"
python3 - "$W/big.txt" <<'PY'
import random, sys
random.seed(7)
words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
open(sys.argv[1], "w").write("\n".join(" ".join(random.choice(words) for _ in range(12))
                                       for _ in range(2000)) + "\n")
PY
git -C "$W" add big.txt && git -C "$W" commit -q -m one
for i in 1 2 3; do
	echo "edit $i" >>"$W/big.txt"
	git -C "$W" commit -q -am "edit $i"
done
run alicekey -C "$W" push "$URL" main
is "$RC" 0 "a push within every limit succeeds"
is "$(git -C "$LIM" rev-parse main)" "$(git -C "$W" rev-parse main)" "the branch moved"
# The type of every entry of the pushed pack, read at the offsets its index gives.
types=$(for idx in "$LIM"/objects/pack/*.idx; do
	git show-index <"$idx" | python3 -c '
import sys
data = open(sys.argv[1], "rb").read()
for line in sys.stdin:
    print((data[int(line.split()[0])] >> 4) & 7)' "${idx%.idx}.pack"
done | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
like "$types" '(^| )6x[0-9]+' "the pushed pack holds OFS_DELTA entries (types: $types)"
unlike "$types" '(^| )7x[0-9]+' "and no REF_DELTA ones"
out=$(git -C "$LIM" fsck --full --no-dangling --no-progress 2>&1)
is "$?:$out" "0:" "git fsck --full is clean after it"
BEFORE=$(state "$LIM")
HEAD0=$(git -C "$W" rev-parse main)

# --- the fuzz finding: a pack header claiming 956,301,315 objects ----------------------------
tail -c +3 "$GG_SRC/tests/fuzz/crashes/fuzz_receive_commands/pack-header-huge-object-count" \
	>"$GG_TMP/repro"
raw "$GG_TMP/repro"
is "$RC" 1 "fuzz reproducer: ssh exits 1"
is "$GOT" "unpack $MSG_PACK_TOO_MANY_OBJECTS
ng refs/heads/main unpacker error
ng refs/heads/other unpacker error" "fuzz reproducer: refused with '$MSG_PACK_TOO_MANY_OBJECTS' in report-status"
unchanged "$LIM" "$BEFORE" "fuzz reproducer"
ok "$(kill -0 "$SSHD_GATE_PID" 2>/dev/null; echo $?)" "sshd-gate still runs"

# --- more objects than max_pack_objects, from real git ---------------------------------------
git -C "$W" checkout -q -b many
mkdir -p "$W/many"
for i in $(seq 1 1100); do echo "file $i" >"$W/many/f$i"; done
git -C "$W" add many && git -C "$W" commit -q -m many
run alicekey -C "$W" push "$URL" many
ok "$((RC == 0))" "over max_pack_objects: git push fails (status $RC)"
contains "$ERR" "remote: fatal: $MSG_PACK_TOO_MANY_OBJECTS" "over max_pack_objects: the reason on the side-band"
contains "$ERR" "error: remote unpack failed: $MSG_PACK_TOO_MANY_OBJECTS" "over max_pack_objects: the reason in report-status"
unchanged "$LIM" "$BEFORE" "over max_pack_objects"

# --- more bytes than max_input_size: 14 incompressible files of 96 KiB -------------------------
git -C "$W" checkout -q main
git -C "$W" checkout -q -b bytes
mkdir -p "$W/rnd"
for i in $(seq 1 14); do head -c 98304 /dev/urandom >"$W/rnd/r$i"; done
git -C "$W" add rnd && git -C "$W" commit -q -m random
run alicekey -C "$W" push "$URL" bytes
ok "$((RC == 0))" "over max_input_size: git push fails (status $RC)"
contains "$ERR" "remote: fatal: $MSG_PACK_TOO_LARGE" "over max_input_size: the reason on the side-band"
contains "$ERR" "error: remote unpack failed: $MSG_PACK_TOO_LARGE" "over max_input_size: the reason in report-status"
unchanged "$LIM" "$BEFORE" "over max_input_size"

# --- an object over max_object_size: 512 KiB of zeros, a 600-byte pack -------------------------
git -C "$W" checkout -q main
git -C "$W" checkout -q -b zeros
head -c 524288 /dev/zero >"$W/zeros"
git -C "$W" add zeros && git -C "$W" commit -q -m zeros
run alicekey -C "$W" push "$URL" zeros
ok "$((RC == 0))" "over max_object_size: git push fails (status $RC)"
contains "$ERR" "remote: fatal: $MSG_OBJECT_TOO_LARGE" "over max_object_size: the reason on the side-band"
contains "$ERR" "error: remote unpack failed: $MSG_OBJECT_TOO_LARGE" "over max_object_size: the reason in report-status"
unchanged "$LIM" "$BEFORE" "over max_object_size"

# --- forged packs: sizes that are claimed, not sent -------------------------------------------
for kind in bomb-blob bomb-delta; do
	python3 "$GG_TMP/client.py" make "$kind" >"$GG_TMP/req"
	raw "$GG_TMP/req" --sideband
	is "$RC" 1 "$kind: ssh exits 1"
	is "$GOT" "remote: fatal: $MSG_OBJECT_TOO_LARGE
unpack $MSG_OBJECT_TOO_LARGE
ng refs/heads/bomb unpacker error" "$kind: refused with '$MSG_OBJECT_TOO_LARGE'"
	unchanged "$LIM" "$BEFORE" "$kind"
done
python3 "$GG_TMP/client.py" make lying-blob >"$GG_TMP/req"
raw "$GG_TMP/req" --sideband
is "$RC" 1 "a blob inflating past its declared size: ssh exits 1"
is "$GOT" "unpack index-pack failed
ng refs/heads/bomb unpacker error" "a blob inflating past its declared size: refused as a broken pack"
unchanged "$LIM" "$BEFORE" "a blob inflating past its declared size"

# --- ref names, push options, NUL bytes, pkt-lines --------------------------------------------
long=$(printf 'a%.0s' $(seq 1 300))
run alicekey -C "$W" push "$URL" "main:refs/heads/$long"
ok "$((RC == 0))" "a 300-byte ref name component: git push fails (status $RC)"
contains "$ERR" "! [remote rejected] main -> $long ($MSG_REFNAME_TOO_LONG)" \
	"a 300-byte ref name component: '$MSG_REFNAME_TOO_LONG'"
unchanged "$LIM" "$BEFORE" "an over-long ref name"
long=$(for i in $(seq 1 6); do printf 'd%.0s' $(seq 1 200); printf '/'; done)x
run alicekey -C "$W" push "$URL" "main:refs/heads/$long"
ok "$((RC == 0))" "a 1,200-byte ref name: git push fails (status $RC)"
contains "$ERR" "($MSG_REFNAME_TOO_LONG)" "a 1,200-byte ref name: '$MSG_REFNAME_TOO_LONG'"
unchanged "$LIM" "$BEFORE" "an over-long ref name"

opts=()
for i in $(seq 1 101); do opts+=(-o "opt$i"); done
git -C "$W" checkout -q main
echo more >>"$W/big.txt"
git -C "$W" commit -q -am more
run alicekey -C "$W" push "${opts[@]}" "$URL" main
ok "$((RC == 0))" "101 push options: git push fails (status $RC)"
contains "$ERR" "remote: fatal: $MSG_TOO_MANY_PUSH_OPTIONS" "101 push options: the reason on the side-band"
contains "$ERR" "! [remote rejected] main -> main ($MSG_TOO_MANY_PUSH_OPTIONS)" \
	"101 push options: '$MSG_TOO_MANY_PUSH_OPTIONS'"
unchanged "$LIM" "$BEFORE" "101 push options"
run alicekey -C "$W" push -o "x=$(printf 'v%.0s' $(seq 1 5000))" "$URL" main
ok "$((RC == 0))" "a 5,000-byte push option: git push fails (status $RC)"
contains "$ERR" "! [remote rejected] main -> main ($MSG_PUSH_OPTION_TOO_LONG)" \
	"a 5,000-byte push option: '$MSG_PUSH_OPTION_TOO_LONG'"
unchanged "$LIM" "$BEFORE" "a 5,000-byte push option"
run alicekey -C "$W" push -o ci.skip -o "merge_request.title=fine" "$URL" main
is "$RC" 0 "two short push options: the push succeeds"
git -C "$W" reset -q --hard "$HEAD0"
run alicekey -C "$W" push -f "$URL" main
is "$RC" 0 "(the branch put back)"
BEFORE=$(state "$LIM")

python3 "$GG_TMP/client.py" make nul-command >"$GG_TMP/req"
raw "$GG_TMP/req" --sideband
is "$RC" 1 "a NUL in a command: ssh exits 1"
is "$GOT" "remote: fatal: $MSG_NUL_IN_COMMAND
unpack ok
ng refs/heads/ok $MSG_NUL_IN_COMMAND
ng refs/heads/a $MSG_NUL_IN_COMMAND" "a NUL in a command: '$MSG_NUL_IN_COMMAND' for every ref"
unchanged "$LIM" "$BEFORE" "a NUL in a command"
python3 "$GG_TMP/client.py" make nul-option >"$GG_TMP/req"
raw "$GG_TMP/req" --sideband
is "$RC" 1 "a NUL in a push option: ssh exits 1"
is "$GOT" "remote: fatal: $MSG_NUL_IN_PUSH_OPTION
unpack ok
ng refs/heads/ok $MSG_NUL_IN_PUSH_OPTION" "a NUL in a push option: '$MSG_NUL_IN_PUSH_OPTION'"
unchanged "$LIM" "$BEFORE" "a NUL in a push option"
python3 "$GG_TMP/client.py" make huge-pkt >"$GG_TMP/req"
raw "$GG_TMP/req"
is "$RC" 1 "a pkt-line of 65535 bytes: ssh exits 1"
is "$GOT" "ERR protocol error: bad line length 65535" "a pkt-line of 65535 bytes: ERR with the reason"
unchanged "$LIM" "$BEFORE" "a pkt-line of 65535 bytes"

# --- connectivity of several tips is checked in one walk; a failure is still told per ref ----
python3 "$GG_TMP/client.py" make two-tips "$HEAD0" >"$GG_TMP/req"
raw "$GG_TMP/req" --sideband
is "$GOT" "unpack ok
ok refs/heads/good
ng refs/heads/bad missing necessary objects" "two new tips, one missing its objects: only that one is refused"
is "$(git -C "$LIM" rev-parse -q --verify refs/heads/good):$(git -C "$LIM" rev-parse -q --verify refs/heads/bad)" \
	"$HEAD0:" "the connected tip was created, the other not"
git -C "$LIM" update-ref -d refs/heads/good

# --- and the daemon still serves ------------------------------------------------------------
run alicekey clone -q "$URL" "$GG_TMP/clone"
is "$RC:$(git -C "$GG_TMP/clone" rev-parse HEAD)" "0:$HEAD0" "a clone afterwards gets the branch"
contains "$(cat "$GG_TMP/sshd-gate.log")" "$MSG_PACK_TOO_MANY_OBJECTS" "refusals are logged"

done_testing
