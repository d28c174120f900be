#!/usr/bin/env bash
# Starts, stops or reports the servers the tests and benchmarks talk to: PostgreSQL and RabbitMQ on loopback.
# On a machine without Docker they come from Debian's packages (installed here when missing); with Docker,
# `docker compose up -d` gives the same servers on the same ports instead.
#
#   build/services.sh start    install what is missing, start both, wait until they answer (idempotent)
#   build/services.sh stop     stop both
#   build/services.sh status   say what runs
#   build/services.sh env      print the environment variables the tests read (eval "$(build/services.sh env)")
set -euo pipefail

PG_PASSWORD="${INBOX_PG_PASSWORD:-postgres}"
PG_PORT="${INBOX_PG_PORT:-5432}"

say() { printf '[services] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  if [ ! -f /tmp/.inbox-apt-updated ]; then
    as_root apt-get update -qq && touch /tmp/.inbox-apt-updated
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_cluster() {
  # The newest installed cluster, e.g. "15 main".
  pg_lsclusters -h 2>/dev/null | awk '{print $1, $2}' | sort -V | tail -n 1
}

start_postgres() {
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    say "installing PostgreSQL from Debian's packages"
    apt_install postgresql
  fi
  local cluster
  cluster=$(pg_cluster)
  if [ -z "$cluster" ]; then
    say "creating a PostgreSQL cluster"
    as_root pg_createcluster "$(ls /usr/lib/postgresql | sort -V | tail -n 1)" main
    cluster=$(pg_cluster)
  fi
  # pg_stat_statements lets the benchmarks count statements per message. 300 connections instead of 100: the test
  # projects run side by side, and two classes of the HTTP tests each send 50 concurrent requests, one connection each
  # ("sorry, too many clients already" at 100). Written again, with a restart, when a setting is added here.
  local version name conf settings
  read -r version name <<<"$cluster"
  conf="/etc/postgresql/$version/$name/conf.d/inbox.conf"
  settings="shared_preload_libraries = 'pg_stat_statements'
max_connections = 300"
  if [ "$(cat "$conf" 2>/dev/null)" != "$settings" ]; then
    echo "$settings" | as_root tee "$conf" >/dev/null
    # shellcheck disable=SC2086
    if pg_lsclusters -h | grep -q " online"; then as_root pg_ctlcluster $cluster restart; fi
  fi
  # shellcheck disable=SC2086
  if ! pg_lsclusters -h | grep -q " online"; then
    say "starting PostgreSQL $cluster"
    as_root pg_ctlcluster $cluster start
  fi
  for _ in $(seq 1 60); do
    if as_root su postgres -c "psql -p $PG_PORT -qAtc 'select 1'" >/dev/null 2>&1; then break; fi
    sleep 0.5
  done
  as_root su postgres -c "psql -p $PG_PORT -qAtc \"ALTER USER postgres PASSWORD '$PG_PASSWORD'\"" >/dev/null
  say "PostgreSQL answers on 127.0.0.1:$PG_PORT"
}

start_rabbitmq() {
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    say "installing RabbitMQ from Debian's packages"
    apt_install rabbitmq-server
    # The package starts a service only under systemd; stop any half-started node so ours is the only one.
    as_root rabbitmqctl stop >/dev/null 2>&1 || true
  fi
  if ! as_root rabbitmqctl -q status >/dev/null 2>&1; then
    say "starting RabbitMQ"
    as_root rabbitmq-server -detached >/dev/null 2>&1 || true
  fi
  # await_startup answers at once with an error until the node's process is up: ask again until it is.
  local ok=""
  for _ in $(seq 1 60); do
    if as_root timeout 60 rabbitmqctl -q await_startup >/dev/null 2>&1; then ok=1; break; fi
    sleep 1
  done
  if [ -z "$ok" ]; then
    say "RabbitMQ did not start; see /var/log/rabbitmq/"
    exit 1
  fi
  say "RabbitMQ answers on 127.0.0.1:5672"
}

print_env() {
  cat <<ENV
export INBOX_POSTGRES='Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$PG_PASSWORD'
export INBOX_RABBITMQ='amqp://guest:guest@127.0.0.1:5672/'
ENV
}

case "${1:-start}" in
  start)
    start_postgres
    start_rabbitmq
    ;;
  stop)
    cluster=$(pg_cluster)
    # shellcheck disable=SC2086
    [ -n "$cluster" ] && as_root pg_ctlcluster $cluster stop 2>/dev/null || true
    as_root rabbitmqctl -q stop 2>/dev/null || true
    say "stopped"
    ;;
  status)
    pg_lsclusters 2>/dev/null || say "PostgreSQL is not installed"
    if as_root rabbitmqctl -q status >/dev/null 2>&1; then say "RabbitMQ runs"; else say "RabbitMQ does not run"; fi
    ;;
  env)
    print_env
    ;;
  *)
    echo "usage: $0 start|stop|status|env" >&2
    exit 2
    ;;
esac
