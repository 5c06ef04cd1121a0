# Sourced by .ci/run: starts a throwaway PostgreSQL cluster for the
# PostgreSQL store's suites and end-to-end tests, as the unprivileged
# postgres user, on a free port with its socket in a temporary directory,
# and exports TRUCE_TEST_POSTGRES naming a database on it. The cluster is
# stopped and removed when the shell exits (pg_stop, called from the
# caller's trap).

pg_bin() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && echo "$d"
	done | sort -V | tail -n 1
}

# pg_free_port prints a port on 127.0.0.1 that nothing listens on.
pg_free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
}

pg_start() {
	if [ -z "$(pg_bin)" ]; then
		if [ "${CI:-}" = "true" ] || [ "$(id -u)" = "0" ]; then
			echo "== installing postgresql"
			export DEBIAN_FRONTEND=noninteractive
			apt-get update -qq
			apt-get install -y -qq postgresql >/dev/null
		fi
	fi
	local bin
	bin=$(pg_bin)
	if [ -z "$bin" ]; then
		echo "no PostgreSQL here: the PostgreSQL store's tests will skip"
		return 0
	fi
	# initdb refuses root: the cluster runs as postgres (Debian's package
	# creates the user) or, when not root, as whoever runs this.
	local as=()
	if [ "$(id -u)" = "0" ]; then
		id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
		as=(runuser -u postgres --)
	fi
	PG_DIR=$(mktemp -d /tmp/truce-pg.XXXXXX)
	chmod 755 "$PG_DIR"
	if [ "$(id -u)" = "0" ]; then chown postgres "$PG_DIR"; fi
	"${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -U truce --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 ||
		{ cat "$PG_DIR/initdb.log"; return 1; }
	# Known before it starts, so that pg_stop stops a server that came up
	# after a start gave up waiting.
	PG_CTL=("${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data")
	local try
	for try in 1 2 3; do # another process may take the free port first
		PG_PORT=$(pg_free_port)
		echo "== starting PostgreSQL ($bin) on port $PG_PORT in $PG_DIR"
		if "${PG_CTL[@]}" -l "$PG_DIR/server.log" -w -t 60 \
			-o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null; then
			break
		fi
		"${PG_CTL[@]}" -m immediate stop >/dev/null 2>&1 || true
		[ "$try" = 3 ] && { cat "$PG_DIR/server.log"; return 1; }
	done
	"$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U truce truce_test
	export TRUCE_TEST_POSTGRES="postgres://truce@127.0.0.1:$PG_PORT/truce_test?sslmode=disable"
}

pg_stop() {
	if [ -n "${PG_DIR:-}" ]; then
		"${PG_CTL[@]}" -m immediate stop >/dev/null 2>&1 || true
		rm -rf "$PG_DIR"
		PG_DIR=
	fi
}
