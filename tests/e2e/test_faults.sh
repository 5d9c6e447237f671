#!/usr/bin/env bash
# Faults (issue 7, item 3), against the real sshd-gate, gate-api and git: after each one the
# repository must be exactly as before (refs, git fsck --full, no quarantine left) and the
# daemons must serve again.
#   - gate-api killed, hung (accepts, never answers) and slow: sshd-gate answers "Internal API
#     unreachable" within its [api] timeout (3 s here) and recovers when gate-api is back;
#   - the client going away mid-clone and mid-push at several points of the pack;
#   - sshd-gate's connection process SIGKILLed mid-push; the disk filling up during a push
#     (a 3 MB tmpfs mounted on the repository; skipped when mount is not permitted);
#   - 50 concurrent pushes to one branch: every acknowledged push is in the history, every
#     other one was told why, none is lost;
#   - maintenance switched on and off during a mixed load of clones and pushes;
#   - gate-api restarted under load; SQLite write-locked by another process (writes wait up to
#     the busy timeout, then 503 "the database is busy"; integrity_check afterwards).
# sshd-gate reaches gate-api through tests/e2e/fault_proxy.py (its own config names the
# proxy as [api] url), which is told per connection to pass, hang or delay.
. "$(dirname "$0")/lib.sh"
. "$GG_SRC/tests/e2e/messages.sh"

MSG_UNREACHABLE=$(_gg_msg GG_MSG_API_UNREACHABLE)
MSG_STORE_BUSY=$(_gg_msg GG_MSG_STORE_BUSY)
RULER=$(printf '=%.0s' $(seq 1 72))
box() { printf 'remote: \nremote: %s\nremote: \nremote: %s\nremote: \nremote: %s\nremote: ' "$RULER" "$1" "$RULER"; }
contains() {
	local got=$1 needle=$2
	shift 2
	if [[ "$got" == *"$needle"* ]]; then ok 0 "$*"; else
		ok 1 "$*"
		printf '#   got:      %q\n#   expected to contain: %q\n' "$got" "$needle"
	fi
}
# snap REPO: refs, and whether git fsck --full is clean.
snap() {
	git -C "$1" for-each-ref --format='%(objectname) %(refname)'
	git -C "$1" fsck --full --no-dangling --no-progress >/dev/null 2>&1 && echo "fsck ok" || echo "fsck FAILED"
}
# intact REPO BEFORE WHAT: refs and fsck as before, and no quarantine directory left.
intact() {
	is "$(snap "$1")" "$2" "$3: refs as before, git fsck --full clean"
	local q
	q=$(ls -d "$1"/objects/incoming-* "$1"/objects/tmp_objdir-* 2>/dev/null | wc -l)
	is "$q" 0 "$3: no quarantine left"
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
children() { pgrep -P "$SSHD_GATE_PID" | wc -l; }
# wait_children N: until sshd-gate has at most N connection processes (bounded).
wait_children() {
	local i
	for i in $(seq 1 200); do
		[ "$(children)" -le "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
serves() { # serves WHAT: a clone through sshd-gate works and gate-api answers
	rm -rf "$W/probe"
	gg_git alicekey clone -q "$(gg_url grp/f)" "$W/probe" 2>/dev/null
	is "$?" 0 "$1: sshd-gate serves a clone"
	admin GET /api/v4/version
	is "$STATUS" 200 "$1: gate-api answers"
}

# stray_pids: processes other than this shell and the two daemons that hold a file under the
# storage root (a forked helper that hung or was orphaned would be one).
stray_pids() {
	local p pid
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		case " $$ $SSHD_GATE_PID $GATE_API_PID " in *" $pid "*) continue ;; esac
		ls -l "$p/fd" 2>/dev/null | grep -qF "$GG_DATA/repositories" && echo "$pid"
	done
}
no_stray() { # no_stray: waits (bounded) until no such process is left
	local i s
	for i in $(seq 1 120); do
		s=$(stray_pids)
		[ -z "$s" ] && break
		sleep 0.5
	done
	is "$s" "" "no process but the daemons still holds a file in the storage root${s:+ ($(for x in $s; do tr '\0' ' ' <"/proc/$x/cmdline"; echo; done | sort | uniq -c | head -3 | tr '\n' ';'))}"
}
gg_setup
gg_git_home
gg_user_with_key alice
for p in grp/f grp/race grp/mnt grp/full; do
	gatectl project create "$p" --visibility private >/dev/null
	gatectl member add "$p" alice owner >/dev/null
done
REPOS="$GG_DATA/repositories"
F="$REPOS/grp/f.git"
W="$GG_TMP/work"
mkdir -p "$W"

# sshd-gate's own config: gate-api through the fault proxy, a 3 s timeout.
PROXY_PORT=$(gg_free_port)
CTL="$GG_TMP/proxy.ctl"
echo pass >"$CTL"
python3 "$GG_SRC/tests/e2e/fault_proxy.py" "$PROXY_PORT" "$API_PORT" "$CTL" 2>"$GG_TMP/proxy.log" &
_pids+=($!)
API_CONF=$GG_CONF
SSHD_CONF="$GG_DATA/sshd-gate.conf"
cp "$GG_CONF" "$SSHD_CONF"
printf '\n[api]\nurl = http://127.0.0.1:%s\ntimeout = 3\n' "$PROXY_PORT" >>"$SSHD_CONF"
gg_start_api
GG_CONF=$SSHD_CONF
gg_start_sshd "max_sessions_per_user = 200" "max_startups = 200"
GG_CONF=$API_CONF
trap 'umount "$REPOS/grp/full.git" 2>/dev/null; gg_cleanup' EXIT

# A medium repository: three commits of 1 MB of random bytes each.
git init -q "$W/src"
for i in 1 2 3; do
	head -c 1000000 /dev/urandom >"$W/src/blob$i"
	git -C "$W/src" add "blob$i"
	git -C "$W/src" commit -qm "blob $i"
done
gg_git alicekey -C "$W/src" push -q "$(gg_url grp/f)" HEAD:main 2>/dev/null
is "$?" 0 "setup: a 3 MB history pushed"
BASE=$(snap "$F")
base_children=$(children)
# A tiny repository to seed the others.
git init -q "$W/small"
echo small >"$W/small/s" && git -C "$W/small" add s && git -C "$W/small" commit -qm small

# --- gate-api killed, hung, slow ------------------------------------------------------------
git -C "$W/src" commit -q --allow-empty -m "during faults"
api_fault() { # api_fault WHAT: clone and push both refused with the message, nothing written
	local t0 t1 err rc
	t0=$(now)
	err=$(timeout 120 bash -c "GIT_SSH_COMMAND='ssh -i $GG_TMP/alicekey $GG_SSH_OPTS' git ls-remote '$(gg_url grp/f)'" 2>&1 >/dev/null)
	rc=$?
	t1=$(now)
	is "$rc" 128 "$1: ls-remote fails"
	contains "$err" "$(box "$MSG_UNREACHABLE")" "$1: ... with '$MSG_UNREACHABLE' ($(secs "$t0" "$t1") s)"
	awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 30) }'
	ok $? "$1: ... answered within a bounded time (api timeout 3 s)"
	err=$(gg_git alicekey -C "$W/src" push "$(gg_url grp/f)" HEAD:main 2>&1)
	is "$?" 128 "$1: push fails"
	contains "$err" "$(box "$MSG_UNREACHABLE")" "$1: ... with '$MSG_UNREACHABLE'"
	intact "$F" "$BASE" "$1"
}
kill -KILL "$GATE_API_PID"
wait "$GATE_API_PID" 2>/dev/null
api_fault "gate-api killed"
gg_start_api
serves "gate-api back after SIGKILL"

echo hang >"$CTL"
api_fault "gate-api hung"
echo pass >"$CTL"
serves "gate-api answering again after the hang"

echo "delay 6" >"$CTL"
api_fault "gate-api slower than the timeout"
echo "delay 1" >"$CTL"
rm -rf "$W/slow"
gg_git alicekey clone -q "$(gg_url grp/f)" "$W/slow" 2>/dev/null
is "$?" 0 "gate-api slow but within the timeout (1 s per request): clone works"
echo pass >"$CTL"

# --- the client going away mid-clone and mid-push -------------------------------------------
CUT_PORT=$(gg_free_port)
CUT_CTL="$GG_TMP/cut.ctl"
python3 "$GG_SRC/tests/e2e/fault_proxy.py" "$CUT_PORT" "$SSH_PORT" "$CUT_CTL" 2>"$GG_TMP/cut.log" &
_pids+=($!)
cut_url() { printf 'ssh://git@127.0.0.1:%s/%s.git' "$CUT_PORT" "$1"; }
for n in 6000 200000 1500000 2900000; do
	echo "cut down $n" >"$CUT_CTL"
	rm -rf "$W/cut"
	gg_git alicekey clone -q "$(cut_url grp/f)" "$W/cut" >/dev/null 2>&1
	rc=$?
	[ "$rc" -ne 0 ]
	ok $? "clone cut after $n bytes from the server fails (status $rc)"
	wait_children "$base_children"
	ok $? "... sshd-gate's connection process ends"
	intact "$F" "$BASE" "clone cut after $n bytes"
done
git -C "$W/src" reset -q --hard main
for i in 4 5 6; do
	head -c 1000000 /dev/urandom >"$W/src/blob$i"
	git -C "$W/src" add "blob$i"
	git -C "$W/src" commit -qm "blob $i"
done
for n in 6000 300000 1500000 2900000; do
	echo "cut up $n" >"$CUT_CTL"
	gg_git alicekey -C "$W/src" push "$(cut_url grp/f)" HEAD:main >/dev/null 2>&1
	rc=$?
	[ "$rc" -ne 0 ]
	ok $? "push cut after $n bytes from the client fails (status $rc)"
	wait_children "$base_children"
	ok $? "... sshd-gate's connection process ends"
	intact "$F" "$BASE" "push cut after $n bytes"
done
echo pass >"$CUT_CTL"
serves "after the cut connections"

# --- sshd-gate's connection process SIGKILLed mid-push ---------------------------------------
echo "slow 400000" >"$CUT_CTL"
gg_git alicekey -C "$W/src" push "$(cut_url grp/f)" HEAD:main >/dev/null 2>"$GG_TMP/killed.err" &
pusher=$!
killed=""
for i in $(seq 1 300); do
	if ls -d "$F"/objects/incoming-* >/dev/null 2>&1; then
		killed=$(pgrep -P "$SSHD_GATE_PID")
		kill -KILL $killed 2>/dev/null
		break
	fi
	sleep 0.05
done
wait "$pusher"
rc=$?
echo pass >"$CUT_CTL"
[ -n "$killed" ] && [ "$rc" -ne 0 ]
ok $? "SIGKILL of the connection process (pid ${killed:-none found}) mid-push: the push fails (status $rc)"
is "$(snap "$F")" "$BASE" "SIGKILL mid-push: refs as before, git fsck --full clean"
# A process killed outright cannot remove its quarantine; the next push into the
# repository removes every quarantine whose receiver is dead (its flock is gone).
left=$(ls -d "$F"/objects/incoming-* 2>/dev/null | wc -l)
diag "SIGKILL mid-push left $left quarantine directory(ies) behind"
wait_children "$base_children"
gg_git alicekey -C "$W/src" push -q "$(gg_url grp/f)" HEAD:main 2>/dev/null
is "$?" 0 "after the SIGKILL, the same push goes through"
is "$(ls -d "$F"/objects/incoming-* 2>/dev/null | wc -l)" 0 \
	"... and the dead receiver's quarantine was removed by it"
is "$(git -C "$F" rev-parse main)" "$(git -C "$W/src" rev-parse HEAD)" "... and main moved"
BASE=$(snap "$F")
intact "$F" "$BASE" "the push after the SIGKILL"

# --- the disk filling up during a push ------------------------------------------------------
FULL="$REPOS/grp/full.git"
cp -a "$FULL" "$GG_TMP/full-copy"
if mount -t tmpfs -o size=3m,mode=0750 tmpfs "$FULL" 2>/dev/null; then
	cp -a "$GG_TMP/full-copy/." "$FULL/"
	gg_git alicekey -C "$W/small" push -q "$(gg_url grp/full)" HEAD:refs/heads/main 2>/dev/null
	before_full=$(snap "$FULL")
	err=$(gg_git alicekey -C "$W/src" push "$(gg_url grp/full)" HEAD:refs/heads/big 2>&1)
	rc=$?
	[ "$rc" -ne 0 ]
	ok $? "disk full: a 6 MB push onto a 3 MB file system fails (status $rc)"
	diag "disk full: the client saw: $(echo "$err" | grep -iE 'error|fatal|remote' | head -3 | tr '\n' '|')"
	intact "$FULL" "$before_full" "disk full"
	echo more >"$W/small/s" && git -C "$W/small" commit -qam more
	gg_git alicekey -C "$W/small" push -q "$(gg_url grp/full)" HEAD:refs/heads/main 2>/dev/null
	is "$?" 0 "disk full: a small push afterwards goes through (the failed one freed its space)"
	git -C "$FULL" fsck --full --no-dangling --no-progress >/dev/null 2>&1
	is "$?" 0 "disk full: git fsck --full clean after the small push"
	umount "$FULL"
else
	ok 0 "# SKIP disk full: mount -t tmpfs is not permitted here"
fi

# --- 50 concurrent pushes to the same branch ------------------------------------------------
RACE="$REPOS/grp/race.git"
git -C "$W/small" push -q "$RACE" HEAD:refs/heads/main 2>/dev/null # seeded directly
rm -rf "$W/race0"
gg_git alicekey clone -q "$(gg_url grp/race)" "$W/race0" 2>/dev/null
for i in $(seq 1 50); do
	cp -a "$W/race0" "$W/race$i"
	echo "$i" >"$W/race$i/racer"
	git -C "$W/race$i" add racer
	git -C "$W/race$i" commit -qm "racer $i"
done
for i in $(seq 1 50); do
	(
		gg_git alicekey -C "$W/race$i" push origin HEAD:main >"$W/race$i.out" 2>&1
		echo $? >"$W/race$i.rc"
	) &
done
wait_all() { local p; for p in $(jobs -p); do case " ${_pids[*]} " in *" $p "*) ;; *) wait "$p" ;; esac; done; }
wait_all
acked=0 refused=0 untold=0 lost=0
history=$(git -C "$RACE" rev-list main)
for i in $(seq 1 50); do
	c=$(git -C "$W/race$i" rev-parse HEAD)
	if [ "$(cat "$W/race$i.rc")" = 0 ]; then
		acked=$((acked + 1))
		grep -q "$c" <<<"$history" || lost=$((lost + 1))
	else
		refused=$((refused + 1))
		grep -qE '\[(remote )?rejected\]|failed to lock|non-fast-forward|fetch first|cannot lock ref|Too many' "$W/race$i.out" ||
			{ untold=$((untold + 1)); diag "racer $i: $(tr '\n' '|' <"$W/race$i.out")"; }
	fi
done
[ "$acked" -ge 1 ]
ok $? "50 concurrent pushes: $acked acknowledged, $refused refused"
is "$lost" 0 "... every acknowledged push is in main's history (no lost update)"
is "$untold" 0 "... every refused push was told why (rejected / non-fast-forward / lock)"
is "$(git -C "$RACE" fsck --full --no-dangling --no-progress 2>&1; echo $?)" 0 "... git fsck --full clean"

# --- maintenance switched on and off during clones and pushes --------------------------------
MNT="$REPOS/grp/mnt.git"
git -C "$W/small" push -q "$MNT" HEAD:refs/heads/main 2>/dev/null
SW="$GG_TMP/switches"
: >"$SW"
(
	for k in $(seq 1 6); do
		t0=$(now)
		gatectl maintenance on >/dev/null
		echo "on $t0 $(now)" >>"$SW"
		sleep 1.5
		t0=$(now)
		gatectl maintenance off >/dev/null
		echo "off $t0 $(now)" >>"$SW"
		sleep 1.5
	done
) &
switcher=$!
for wk in 1 2 3 4; do
	(
		rm -rf "$W/m$wk"
		gg_git alicekey clone -q "$(gg_url grp/mnt)" "$W/m$wk" 2>/dev/null
		git -C "$W/m$wk" checkout -q -b "w$wk"
		j=0
		while kill -0 "$switcher" 2>/dev/null; do
			j=$((j + 1))
			git -C "$W/m$wk" commit -q --allow-empty -m "w$wk-$j"
			c=$(git -C "$W/m$wk" rev-parse HEAD)
			t0=$(now)
			gg_git alicekey -C "$W/m$wk" push origin "w$wk" >"$W/m$wk.$j.out" 2>&1
			rc=$?
			echo "push $wk $j $rc $t0 $(now) $c" >>"$W/mlog.$wk"
			[ "$rc" = 0 ] || git -C "$W/m$wk" reset -q --hard "origin/w$wk" 2>/dev/null ||
				git -C "$W/m$wk" reset -q --hard origin/main
		done
	) &
done
for wk in 1 2; do
	(
		j=0
		while kill -0 "$switcher" 2>/dev/null; do
			j=$((j + 1))
			rm -rf "$W/mc$wk"
			t0=$(now)
			gg_git alicekey clone -q "$(gg_url grp/mnt)" "$W/mc$wk" >/dev/null 2>"$W/mc$wk.$j.err"
			echo "clone $wk $j $? $t0 $(now)" >>"$W/mlog.c$wk"
		done
	) &
done
wait "$switcher"
wait_all
gatectl maintenance off >/dev/null
cat "$W"/mlog.* >"$W/mlog"
python3 - "$SW" "$W/mlog" "$MNT" "$W" "$MSG_MAINTENANCE_PUSH" >"$W/mcheck" <<'PY'
import subprocess, sys
sw, log, repo, work, msg = sys.argv[1:6]
# Intervals in which maintenance may have been on: from the start of an "on" command to the
# end of the next "off" command (conservative: a switch takes effect somewhere inside).
ons = []
cur = None
for line in open(sw):
    kind, t0, t1 = line.split()
    if kind == "on" and cur is None:
        cur = float(t0)
    elif kind == "off" and cur is not None:
        ons.append((cur, float(t1)))
        cur = None
if cur is not None:
    ons.append((cur, float("inf")))
def maybe_on(a, b):
    return any(a <= e and s <= b for s, e in ons)
pushes = clones = acked = refused = bad = 0
for line in open(log):
    f = line.split()
    if f[0] == "clone":
        clones += 1
        if f[3] != "0":
            bad += 1
            print("# clone %s.%s failed" % (f[1], f[2]))
        continue
    pushes += 1
    wk, j, rc, a, b, c = f[1], f[2], f[3], float(f[4]), float(f[5]), f[6]
    out = open("%s/m%s.%s.out" % (work, wk, j)).read()
    if rc == "0":
        acked += 1
        r = subprocess.run(["git", "-C", repo, "merge-base", "--is-ancestor", c, "refs/heads/w" + wk])
        if r.returncode != 0:
            bad += 1
            print("# acknowledged push w%s-%s is missing" % (wk, j))
    else:
        refused += 1
        if msg not in out:
            bad += 1
            print("# push w%s-%s refused without the maintenance message: %r" % (wk, j, out[-300:]))
        elif not maybe_on(a, b):
            bad += 1
            print("# push w%s-%s refused although maintenance was off all along" % (wk, j))
print("pushes=%d acked=%d refused=%d clones=%d bad=%d switches=%d" % (pushes, acked, refused, clones, bad, len(ons)))
PY
mres=$(tail -1 "$W/mcheck")
grep '^#' "$W/mcheck"
like "$mres" 'bad=0 ' "maintenance switched 6 times under load: $mres"
like "$mres" 'refused=[1-9]' "... some pushes met maintenance (the switch was exercised)"
like "$mres" 'acked=[1-9]' "... some pushes went through between the switches"
is "$(git -C "$MNT" fsck --full --no-dangling --no-progress 2>&1; echo $?)" 0 "... git fsck --full clean"

# --- gate-api restarted under load ----------------------------------------------------------
BASE=$(snap "$F")
for wk in 1 2 3; do
	(
		rm -rf "$W/r$wk"
		gg_git alicekey clone -q "$(gg_url grp/f)" "$W/r$wk" 2>/dev/null
		git -C "$W/r$wk" checkout -q -b "r$wk"
		for j in $(seq 1 8); do
			git -C "$W/r$wk" commit -q --allow-empty -m "r$wk-$j"
			c=$(git -C "$W/r$wk" rev-parse HEAD)
			gg_git alicekey -C "$W/r$wk" push origin "r$wk" >"$W/r$wk.$j.out" 2>&1
			echo "$? $c $wk $j" >>"$W/rlog"
			[ -f "$W/r$wk.$j.out" ] && grep -q "$MSG_UNREACHABLE" "$W/r$wk.$j.out" &&
				git -C "$W/r$wk" reset -q --hard HEAD~1
			gg_git alicekey ls-remote "$(gg_url grp/f)" >/dev/null 2>"$W/r$wk.$j.ls"
			echo "ls $? $wk $j" >>"$W/rlog"
		done
	) &
done
for k in 1 2; do
	sleep 1
	gg_stop_api
	sleep 0.5
	gg_start_api
done
wait_all
bad=0 acked=0 unreachable=0
while read -r rc c wk j; do
	if [ "$rc" = ls ]; then # here c is the status, wk and j name the output
		if [ "$c" != 0 ]; then
			if [ "$c" = 128 ] && grep -q "$MSG_UNREACHABLE" "$W/r$wk.$j.ls"; then
				unreachable=$((unreachable + 1))
			else
				bad=$((bad + 1))
				diag "ls-remote r$wk-$j: status $c: $(tr '\n' '|' <"$W/r$wk.$j.ls")"
			fi
		fi
		continue
	fi
	if [ "$rc" = 0 ]; then
		acked=$((acked + 1))
		git -C "$F" merge-base --is-ancestor "$c" "refs/heads/r$wk" || { bad=$((bad + 1)); diag "lost r$wk-$j"; }
	elif grep -q "$MSG_UNREACHABLE" "$W/r$wk.$j.out"; then
		unreachable=$((unreachable + 1))
	else
		bad=$((bad + 1))
		diag "r$wk-$j: $(tr '\n' '|' <"$W/r$wk.$j.out")"
	fi
done <"$W/rlog"
is "$bad" 0 "gate-api restarted twice under load: $acked pushes acknowledged and kept, $unreachable pushes and ls-remotes told '$MSG_UNREACHABLE', nothing else"
git -C "$F" fsck --full --no-dangling --no-progress >/dev/null 2>&1
is "$?" 0 "... git fsck --full clean"
serves "after the restarts"

# --- SQLite write-locked by another process -------------------------------------------------
DB="$GG_DATA/gitgate.db"
settings_put() { admin PUT /api/v4/application/settings -d "maintenance_mode_message=$1"; }
(
	echo 'BEGIN IMMEDIATE;'
	sleep 3
	echo 'COMMIT;'
) | sqlite3 "$DB" 2>"$GG_TMP/sqlite.err" &
locker=$!
sleep 0.5
t0=$(now)
settings_put "locked-for-a-while"
t1=$(now)
is "$STATUS" 200 "SQLite write-locked for 3 s: an API write waits and succeeds ($(secs "$t0" "$t1") s)"
rm -rf "$W/locked"
gg_git alicekey clone -q "$(gg_url grp/f)" "$W/locked" 2>/dev/null
is "$?" 0 "... a clone meanwhile works"
wait "$locker"
(
	echo 'BEGIN IMMEDIATE;'
	sleep 12
	echo 'ROLLBACK;'
) | sqlite3 "$DB" 2>>"$GG_TMP/sqlite.err" &
locker=$!
sleep 0.5
settings_put "locked-too-long"
diag "SQLite locked longer than busy_timeout: PUT answered $STATUS $BODY"
if [ "$STATUS" = 200 ]; then
	ok 0 "SQLite locked for 12 s: the write waited it out"
else
	is "$STATUS $BODY" "503 {\"message\":\"$MSG_STORE_BUSY\"}" "SQLite locked for 12 s: the write is refused with '$MSG_STORE_BUSY'"
fi
git -C "$W/src" commit -q --allow-empty -m "while locked"
gg_git alicekey -C "$W/src" push -q "$(gg_url grp/f)" HEAD:refs/heads/locked 2>"$GG_TMP/locked.err"
rc=$?
diag "push while SQLite is locked: status $rc $(tr '\n' '|' <"$GG_TMP/locked.err")"
if [ "$rc" = 0 ]; then
	is "$(git -C "$F" rev-parse refs/heads/locked)" "$(git -C "$W/src" rev-parse HEAD)" "... a push meanwhile is acknowledged and kept"
else
	contains "$(cat "$GG_TMP/locked.err")" "remote:" "... a push meanwhile is refused with a message"
fi
wait "$locker"
is "$(sqlite3 "$DB" 'PRAGMA integrity_check;')" "ok" "SQLite integrity_check after the locks"
admin GET /api/v4/application/settings
like "$(json maintenance_mode_message)" '^locked-' "... the settings read back"
serves "after the SQLite locks"

# --- in the end -----------------------------------------------------------------------------
no_stray
wait_children "$base_children"
ok $? "sshd-gate has no connection process left ($(children))"
kill -0 "$SSHD_GATE_PID" && kill -0 "$GATE_API_PID"
ok $? "both daemons are still running"
done_testing
