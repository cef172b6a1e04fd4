# Sourced by scripts/test: a throwaway Redis server for the bridge tests, on 127.0.0.1:6380.
#
# Installs Debian's `redis-server` package if the server is missing, starts it unless it runs
# already (loopback only, no persistence: test data only, files in /tmp/mpcw-test-redis), and
# exports its URL as MPCW_TEST_REDIS_URL.

mpcw_redis_port=6380
mpcw_redis_dir=/tmp/mpcw-test-redis

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    echo "== installing Redis (Debian package redis-server)"
    mpcw_sudo=""
    [ "$(id -u)" -ne 0 ] && mpcw_sudo="sudo"
    $mpcw_sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $mpcw_sudo apt-get install -y -qq redis-server >/dev/null
fi

if ! redis-cli -h 127.0.0.1 -p "$mpcw_redis_port" ping >/dev/null 2>&1; then
    echo "== starting Redis on 127.0.0.1:$mpcw_redis_port"
    mkdir -p "$mpcw_redis_dir"
    redis-server --bind 127.0.0.1 --port "$mpcw_redis_port" --dir "$mpcw_redis_dir" \
        --save "" --appendonly no --daemonize yes \
        --pidfile "$mpcw_redis_dir/redis.pid" --logfile "$mpcw_redis_dir/redis.log"
    for _ in $(seq 1 50); do
        redis-cli -h 127.0.0.1 -p "$mpcw_redis_port" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
fi
redis-cli -h 127.0.0.1 -p "$mpcw_redis_port" ping >/dev/null
export MPCW_TEST_REDIS_URL="redis://127.0.0.1:$mpcw_redis_port/"
