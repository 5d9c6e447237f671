# pg.sh - a throwaway PostgreSQL server for the tests (sourced, bash).
#
# gg_pg_start DIR starts a new cluster in DIR/pgdata, listening on a free
# port of 127.0.0.1 and on a unix socket in DIR only, and sets GG_PG_PORT,
# GG_PG_URL (a superuser URL to the database "gitgate") and GG_PG_BIN.
# gg_pg_stop stops it (call it from the EXIT trap).  PostgreSQL refuses to
# run as root, so as root the server runs as the "postgres" system user,
# with DIR handed over to it.

GG_PG_BIN=${GG_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
GG_PG_DIR=

_gg_pg_as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

gg_pg_start() {
	local dir=$1 i
	if [ ! -x "$GG_PG_BIN/initdb" ]; then
		echo "# PostgreSQL is not installed (no initdb in $GG_PG_BIN)" >&2
		return 1
	fi
	GG_PG_DIR=$dir
	GG_PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	mkdir -p "$dir/pgdata" "$dir/pgsock"
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$dir" "$dir/pgdata" "$dir/pgsock"
		chmod 755 "$dir"
	fi
	_gg_pg_as "$GG_PG_BIN/initdb" -D "$dir/pgdata" -U postgres -A trust --no-locale -E UTF8 \
		>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
	_gg_pg_as "$GG_PG_BIN/pg_ctl" -D "$dir/pgdata" -l "$dir/pgdata/server.log" -w -t 30 \
		-o "-c listen_addresses=127.0.0.1 -p $GG_PG_PORT -k $dir/pgsock -c fsync=off -c max_connections=200" \
		start >"$dir/pg_ctl.log" 2>&1 || { cat "$dir/pg_ctl.log" "$dir/pgdata/server.log" >&2; return 1; }
	for i in $(seq 1 100); do
		_gg_pg_as "$GG_PG_BIN/psql" -h "$dir/pgsock" -p "$GG_PG_PORT" -U postgres -d postgres \
			-qAtc 'CREATE DATABASE gitgate' >/dev/null 2>&1 && break
		sleep 0.1
	done
	GG_PG_URL="postgresql://postgres@127.0.0.1:$GG_PG_PORT/gitgate"
	export GG_PG_URL GG_PG_PORT GG_PG_BIN
}

gg_pg_stop() {
	[ -n "$GG_PG_DIR" ] && [ -d "$GG_PG_DIR/pgdata" ] || return 0
	_gg_pg_as "$GG_PG_BIN/pg_ctl" -D "$GG_PG_DIR/pgdata" -m immediate -w stop >/dev/null 2>&1
	GG_PG_DIR=
}

# gg_psql SQL: run SQL on the test database, print unaligned rows.
gg_psql() {
	"$GG_PG_BIN/psql" "$GG_PG_URL" -qAtX -c "$1"
}
