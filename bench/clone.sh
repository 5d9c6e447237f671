#!/usr/bin/env bash
# clone.sh - Git over SSH: sshd-gate + gate-api against OpenSSH sshd + stock git, in one run on
# loopback, with the same client, the same key type and the same repository (SPEC §8).
#
#   bench/clone.sh [BUILD_DIR]     (env: RUNS=5 COMMITS=3000 SEED=42 FILES=300 KEX=)
#
# The repository comes from bench/gen-repo.sh and is copied byte for byte to both servers.
# OpenSSH is /usr/sbin/sshd (Debian openssh-server) with a generated config, its own host key
# and AuthorizedKeysFile, logging in as the current user; the git-upload-pack and
# git-receive-pack it runs are stock git.  Its sessions get an empty HOME (SetEnv), as a
# dedicated git account would have: bash run by sshd reads ~/.bashrc, and a developer's
# .bashrc (pyenv, nvm, ...) would otherwise be timed as part of every connection.
# The client uses its default algorithms, so OpenSSH negotiates the post-quantum
# sntrup761x25519 key exchange, which libssh 0.10 does not offer; KEX=curve25519-sha256 pins
# both servers to the same one.  Both servers accept GIT_PROTOCOL, so the client
# speaks protocol v2 to both for fetches (pushes are v0 everywhere).  Each measurement runs
# RUNS times, alternating which server goes first, and the table shows medians:
#   full clone       git clone --no-checkout of the whole repository
#   fetch 100 behind a clone of the first COMMITS-100 commits fetches the rest (time, and
#                    the bytes of the pack received, from GIT_TRACE_PACKFILE in an extra run)
#   ls-remote        git ls-remote (mostly the SSH connection itself)
#   small push       one commit changing one file, fast-forward of main
# The ratio is gitgate / OpenSSH: below 1 means gitgate is faster (or smaller).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
BUILD=$(cd "${1:-build}" && pwd)
RUNS=${RUNS:-5}
COMMITS=${COMMITS:-3000}
SEED=${SEED:-42}
FILES=${FILES:-300}
SSHD=${SSHD:-/usr/sbin/sshd}
for tool in git ssh ssh-keygen python3 "$SSHD"; do
	command -v "$tool" >/dev/null || { echo "clone.sh: $tool is missing" >&2; exit 1; }
done
[ "$COMMITS" -gt 100 ] || { echo "clone.sh: COMMITS must be more than 100" >&2; exit 1; }

T=$(mktemp -d /tmp/gitgate-bench-clone.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	[ "${KEEP:-0}" = 1 ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
	local i
	for i in $(seq 1 200); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "clone.sh: nothing listens on port $1" >&2
	exit 1
}
export HOME="$T/home" GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
mkdir -p "$HOME"
git config --global user.name Bench
git config --global user.email bench@example.com
git config --global init.defaultBranch main
ssh-keygen -q -t ed25519 -N '' -C bench -f "$T/key"
export GIT_SSH_COMMAND="ssh -i $T/key ${KEX:+-o KexAlgorithms=$KEX} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes -o ControlMaster=no -o ControlPath=none"

echo "== generating the repository (seed $SEED, $COMMITS commits, $FILES files)"
"$SRC/bench/gen-repo.sh" "$SEED" "$COMMITS" "$T/repo.git" "$FILES"
"$SRC/bench/gen-repo.sh" "$SEED" $((COMMITS - 100)) "$T/behind.git" "$FILES"
git clone -q --no-checkout "$T/behind.git" "$T/behind"
objects=$(git -C "$T/repo.git" count-objects -v | sed -n 's/^in-pack: //p')
packkb=$(git -C "$T/repo.git" count-objects -v | sed -n 's/^size-pack: //p')

# gitgate: gate-api + sshd-gate with their defaults, the repository in place of the project's.
GATECTL="$BUILD/internal-api/gatectl --config $T/var/gitgate.conf"
$GATECTL init --data-dir "$T/var" --token-file "$T/var/admin.token" >/dev/null
API_PORT=$(port)
GG_PORT=$(port)
printf '\n[api]\nport = %s\n\n[ssh]\nport = %s\n' "$API_PORT" "$GG_PORT" >>"$T/var/gitgate.conf"
$GATECTL user create bench --email bench@example.com >/dev/null
$GATECTL key add bench --file "$T/key.pub" >/dev/null
$GATECTL project create bench/repo --visibility private >/dev/null
$GATECTL member add bench/repo bench owner >/dev/null
GG_REPO="$T/var/repositories/bench/repo.git"
rm -rf "$GG_REPO"
cp -a "$T/repo.git" "$GG_REPO"
"$BUILD/internal-api/gate-api" --config "$T/var/gitgate.conf" 2>"$T/gate-api.log" &
pids+=($!)
"$BUILD/sshd-gate/sshd-gate" --config "$T/var/gitgate.conf" --print-host-keys >/dev/null 2>>"$T/sshd-gate.log"
"$BUILD/sshd-gate/sshd-gate" --config "$T/var/gitgate.conf" 2>>"$T/sshd-gate.log" &
pids+=($!)

# OpenSSH: its own host key, config and authorized_keys; the same repository.
O="$T/openssh"
mkdir -p "$O"
ssh-keygen -q -t ed25519 -N '' -f "$O/ssh_host_ed25519_key"
cp "$T/key.pub" "$O/authorized_keys"
OS_PORT=$(port)
cat >"$O/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $OS_PORT
HostKey $O/ssh_host_ed25519_key
AuthorizedKeysFile $O/authorized_keys
StrictModes no
UsePAM no
PidFile $O/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AcceptEnv GIT_PROTOCOL
SetEnv HOME=$O/home
LogLevel ERROR
CONF
mkdir -p "$O/home"
[ "$(id -u)" = 0 ] && mkdir -p /run/sshd
cp -a "$T/repo.git" "$O/repo.git"
"$SSHD" -D -e -f "$O/sshd_config" 2>>"$O/sshd.log" &
pids+=($!)
wait_port "$API_PORT"
wait_port "$GG_PORT"
wait_port "$OS_PORT"

GG_URL="ssh://git@127.0.0.1:$GG_PORT/bench/repo.git"
OS_URL="ssh://$(id -un)@127.0.0.1:$OS_PORT$O/repo.git"
git ls-remote "$GG_URL" >/dev/null || { cat "$T/sshd-gate.log" >&2; exit 1; }
git ls-remote "$OS_URL" >/dev/null || { cat "$O/sshd.log" >&2; exit 1; }

now_ms() { date +%s%3N; }
# time_ms COMMAND...: runs it, prints its wall time in milliseconds.
time_ms() {
	local t0 t1
	t0=$(now_ms)
	"$@" >/dev/null 2>"$T/last.err" || { cat "$T/last.err" >&2; echo "clone.sh: failed: $*" >&2; exit 1; }
	t1=$(now_ms)
	echo $((t1 - t0))
}
median() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

declare -A times
record() { times[$1]="${times[$1]:-} $2"; }

# clone_run NAME URL
clone_run() {
	rm -rf "$T/c-$1"
	record "clone-$1" "$(time_ms git clone -q --no-checkout "$2" "$T/c-$1")"
	rm -rf "$T/c-$1"
}
fetch_prepare() {
	rm -rf "$T/f-$1"
	cp -a "$T/behind" "$T/f-$1"
	git -C "$T/f-$1" remote set-url origin "$2"
}
fetch_run() {
	fetch_prepare "$1" "$2"
	record "fetch-$1" "$(time_ms git -C "$T/f-$1" fetch -q origin)"
	rm -rf "$T/f-$1"
}
lsremote_run() { record "ls-$1" "$(time_ms git ls-remote "$2")"; }
push_run() { record "push-$1" "$(time_ms git -C "$T/pusher" push -q "$2" HEAD:main)"; }

order() { # order RUN-NUMBER: gitgate first on odd runs, OpenSSH first on even ones
	if [ $(($1 % 2)) = 1 ]; then echo "gg os"; else echo "os gg"; fi
}
url() { if [ "$1" = gg ]; then echo "$GG_URL"; else echo "$OS_URL"; fi; }

echo "== $RUNS runs of each: full clone, fetch 100 commits behind, ls-remote, small push"
for i in $(seq 1 "$RUNS"); do
	for s in $(order "$i"); do clone_run "$s" "$(url "$s")"; done
done
for i in $(seq 1 "$RUNS"); do
	for s in $(order "$i"); do fetch_run "$s" "$(url "$s")"; done
done
declare -A bytes
for s in gg os; do
	fetch_prepare "$s" "$(url "$s")"
	GIT_TRACE_PACKFILE="$T/pack-$s" git -C "$T/f-$s" fetch -q origin
	bytes[$s]=$(stat -c %s "$T/pack-$s")
	rm -rf "$T/f-$s" "$T/pack-$s"
done
for i in $(seq 1 "$RUNS"); do
	for s in $(order "$i"); do lsremote_run "$s" "$(url "$s")"; done
done
git clone -q "$T/repo.git" "$T/pusher"
for i in $(seq 1 "$RUNS"); do
	f=$(printf 'src/d%02d/file%03d.txt' $((i % 20)) "$i")
	echo "pushed line $i" >>"$T/pusher/$f"
	git -C "$T/pusher" commit -q -a -m "bench push $i"
	for s in $(order "$i"); do push_run "$s" "$(url "$s")"; done
done
for s in gg os; do
	r=$([ $s = gg ] && echo "$GG_REPO" || echo "$O/repo.git")
	[ "$(git -C "$r" rev-parse main)" = "$(git -C "$T/pusher" rev-parse HEAD)" ] ||
		{ echo "clone.sh: the pushes did not arrive at $s" >&2; exit 1; }
done

row() { # row LABEL GG OS UNIT
	printf '| %-26s | %10s %-2s | %10s %-2s | %6s |\n' "$1" "$2" "$4" "$3" "$4" \
		"$(python3 -c "print('%.2f' % ($2 / $3))")"
}
echo
echo "repository: $objects objects, ${packkb} KiB packed; $COMMITS commits, $FILES files (seed $SEED)"
echo "medians of $RUNS runs; $(nproc) CPUs; $(git --version), $(ssh -V 2>&1 | cut -d, -f1); key exchange: ${KEX:-client default}"
echo
printf '| %-26s | %13s | %13s | %6s |\n' "what" "gitgate" "OpenSSH+git" "ratio"
printf '|%s|%s|%s|%s|\n' "----------------------------" "---------------" "---------------" "--------"
row "full clone" "$(median ${times[clone-gg]})" "$(median ${times[clone-os]})" ms
row "fetch, 100 commits behind" "$(median ${times[fetch-gg]})" "$(median ${times[fetch-os]})" ms
row "  pack bytes received" "${bytes[gg]}" "${bytes[os]}" B
row "ls-remote" "$(median ${times[ls-gg]})" "$(median ${times[ls-os]})" ms
row "small push (1 commit)" "$(median ${times[push-gg]})" "$(median ${times[push-os]})" ms
