# Sourced by scripts/test: a throwaway PostgreSQL server for the tests, on 127.0.0.1:5433.
#
# Installs Debian's `postgresql` package if its server binaries are missing, makes a cluster in
# /tmp/mpcw-test-postgres (trust authentication, loopback only, no fsync: test data only), starts
# it unless it runs already, recreates the database `mpcw_test`, and exports its URL as
# MPCW_TEST_POSTGRES_URL.

mpcw_pg_port=5433
mpcw_pg_data=/tmp/mpcw-test-postgres

mpcw_pg_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(mpcw_pg_bin)" ] || [ ! -x "$(mpcw_pg_bin)/initdb" ]; then
    echo "== installing PostgreSQL (Debian package postgresql)"
    mpcw_sudo=""
    [ "$(id -u)" -ne 0 ] && mpcw_sudo="sudo"
    $mpcw_sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $mpcw_sudo apt-get install -y -qq postgresql >/dev/null
fi
mpcw_pg="$(mpcw_pg_bin)"

# The server refuses to run as root; as root, run it as the package's `postgres` user.
mpcw_as=()
if [ "$(id -u)" -eq 0 ]; then
    mpcw_as=(runuser -u postgres --)
fi

if [ ! -f "$mpcw_pg_data/PG_VERSION" ]; then
    rm -rf "$mpcw_pg_data"
    mkdir -p "$mpcw_pg_data"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$mpcw_pg_data"
    "${mpcw_as[@]}" "$mpcw_pg/initdb" -D "$mpcw_pg_data" -U mpcw -A trust --no-sync >/dev/null
fi
if ! "${mpcw_as[@]}" "$mpcw_pg/pg_ctl" -D "$mpcw_pg_data" status >/dev/null 2>&1; then
    echo "== starting PostgreSQL on 127.0.0.1:$mpcw_pg_port"
    "${mpcw_as[@]}" "$mpcw_pg/pg_ctl" -D "$mpcw_pg_data" -l "$mpcw_pg_data/server.log" -w \
        -o "-h 127.0.0.1 -p $mpcw_pg_port -k $mpcw_pg_data -F" start >/dev/null
fi
"$mpcw_pg/psql" -q -h 127.0.0.1 -p "$mpcw_pg_port" -U mpcw -d postgres \
    -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS mpcw_test" -c "CREATE DATABASE mpcw_test" >/dev/null
export MPCW_TEST_POSTGRES_URL="postgres://mpcw@127.0.0.1:$mpcw_pg_port/mpcw_test"
