#!/usr/bin/env bash
# format.sh - every C source and header of the repository is clang-format clean
# (.clang-format at the top).  TAP: one case per directory holding C files, the
# offending files and the first lines of clang-format's complaint on failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
if ! command -v clang-format >/dev/null; then
	echo "1..1"
	echo "not ok 1 - clang-format is not installed (scripts/install-deps installs it)"
	exit 1
fi
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
mapfile -t dirs < <(printf '%s\n' "${files[@]}" | xargs -n1 dirname | sort -u)
echo "1..${#dirs[@]}"
n=0
for d in "${dirs[@]}"; do
	n=$((n + 1))
	bad=()
	for f in "${files[@]}"; do
		[ "$(dirname "$f")" = "$d" ] || continue
		clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
	done
	if [ ${#bad[@]} -eq 0 ]; then
		echo "ok $n - $d: clang-format clean"
	else
		echo "not ok $n - $d: not clang-format clean: ${bad[*]}"
		clang-format --dry-run "${bad[0]}" 2>&1 | head -8 | sed 's/^/# /'
	fi
done
