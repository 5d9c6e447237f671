#!/usr/bin/env bash
# gen-repo.sh - a deterministic, medium-sized Git history for the benchmarks.
#
#   bench/gen-repo.sh SEED COMMITS DIR [FILES]
#
# Writes COMMITS commits on refs/heads/main of the bare repository DIR (created when missing)
# with git fast-import, then repacks it as a server would (git repack -adf; a bare repository
# also gets a bitmap index).  The first commit adds FILES (default 300) text files in 20
# directories; every later commit edits one to four of them (a line changed, lines added) and
# every 250th is tagged (annotated).  The same SEED gives the same commit ids, and the first K
# commits of a longer history are exactly those of a K-commit one, so a client "100 commits
# behind" is gen-repo.sh SEED $((COMMITS - 100)).  3000 commits take a few seconds.
set -euo pipefail
SEED=${1:?usage: gen-repo.sh SEED COMMITS DIR [FILES]}
COMMITS=${2:?usage: gen-repo.sh SEED COMMITS DIR [FILES]}
DIR=${3:?usage: gen-repo.sh SEED COMMITS DIR [FILES]}
FILES=${4:-300}

[ -d "$DIR" ] || git init -q --bare "$DIR"
git -C "$DIR" symbolic-ref HEAD refs/heads/main

python3 - "$SEED" "$COMMITS" "$FILES" <<'PY' | git -C "$DIR" fast-import --quiet --done
import random, sys

seed, commits, nfiles = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
out = sys.stdout.buffer
WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron "
         "pi rho sigma tau upsilon phi chi psi omega gate ssh pack tree blob commit ref tag "
         "push fetch clone maintenance").split()

def line():
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12)))

def data(b):
    out.write(b"data %d\n" % len(b))
    out.write(b)
    out.write(b"\n")

paths = ["src/d%02d/file%03d.txt" % (i % 20, i) for i in range(nfiles)]
files = {p: [line() for _ in range(rng.randint(20, 80))] for p in paths}
T0 = 1500000000
for n in range(1, commits + 1):
    if n == 1:
        changed = paths
        msg = "initial import of %d files" % nfiles
    else:
        changed = rng.sample(paths, rng.randint(1, 4))
        for p in changed:
            lines = files[p]
            lines[rng.randrange(len(lines))] = line()
            for _ in range(rng.randint(0, 3)):
                lines.insert(rng.randrange(len(lines) + 1), line())
        msg = "commit %d: %s" % (n, line())
    when = T0 + n * 3600
    out.write(b"commit refs/heads/main\nmark :%d\n" % n)
    out.write(b"author Bench Author <author@example.com> %d +0000\n" % when)
    out.write(b"committer Bench Committer <committer@example.com> %d +0000\n" % when)
    data(msg.encode() + b"\n")
    if n > 1:
        out.write(b"from :%d\n" % (n - 1))
    for p in sorted(changed):
        out.write(b"M 100644 inline %s\n" % p.encode())
        data(("\n".join(files[p]) + "\n").encode())
    out.write(b"\n")
    if n % 250 == 0:
        out.write(b"tag v%d\nfrom :%d\n" % (n // 250, n))
        out.write(b"tagger Bench Tagger <tagger@example.com> %d +0000\n" % when)
        data(b"release %d\n" % (n // 250))
out.write(b"done\n")
PY
git -C "$DIR" repack -adf -q
