# messages.sh - the user-visible texts of common/messages.h, read from the
# header itself so the shell tests cannot drift from what the programs print.
_gg_msg() {
	python3 - "$1" "$GG_SRC/common/messages.h" <<'PY'
import re, sys
name, path = sys.argv[1], sys.argv[2]
src = open(path).read().replace("\\\n", " ")
m = re.search(r"^#define\s+" + re.escape(name) + r"\s+(.*)$", src, re.M)
print("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))))
PY
}
MSG_MAINTENANCE_PUSH=$(_gg_msg GG_MSG_MAINTENANCE_PUSH)
MSG_READ_ONLY=$(_gg_msg GG_MSG_READ_ONLY)
MSG_BANNER=$(_gg_msg GG_MSG_MAINTENANCE_BANNER)
MSG_PROJECT_NOT_FOUND=$(_gg_msg GG_MSG_PROJECT_NOT_FOUND)
MSG_ACCOUNT_BLOCKED=$(_gg_msg GG_MSG_ACCOUNT_BLOCKED)
MSG_PROJECT_READ_ONLY=$(_gg_msg GG_MSG_PROJECT_READ_ONLY)
MSG_NO_DOWNLOAD_ACCESS=$(_gg_msg GG_MSG_NO_DOWNLOAD_ACCESS)
MSG_NO_PUSH_ACCESS=$(_gg_msg GG_MSG_NO_PUSH_ACCESS)
MSG_PROTECTED_BRANCH=$(_gg_msg GG_MSG_PROTECTED_BRANCH)
