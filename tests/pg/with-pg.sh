#!/bin/bash
# with-pg.sh PROGRAM [ARG...] - run PROGRAM on a fresh PostgreSQL started for it
# (tests/e2e/pg.sh) and stopped afterwards.  The database's URL is in
# GG_TEST_DATABASE_URL (for test_store) and GITGATE_DATABASE_URL (for
# 'gatectl init' in the end-to-end tests).  The program's output (TAP) passes
# through untouched; its exit status is ours.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/pg.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/gitgate-pg.XXXXXX")
trap 'gg_pg_stop; rm -rf "$dir"' EXIT
if ! gg_pg_start "$dir" >&2; then
	echo "Bail out! cannot start PostgreSQL"
	exit 1
fi
GG_TEST_DATABASE_URL=$GG_PG_URL GITGATE_DATABASE_URL=$GG_PG_URL "$@"
