#!/usr/bin/env bash
# Local RabbitMQ node for development and tests: scripts/rabbitmq.sh {start|stop|status|ctl ...}
#
# Runs the distribution's RabbitMQ as the calling user (root included) with its config from
# infra/rabbitmq and its data, logs and pid file in .data/rabbitmq (.data/rabbitmq-<port> for
# another RABBITMQ_PORT). Ports: RABBITMQ_PORT (5672), RABBITMQ_MANAGEMENT_PORT (15672),
# RABBITMQ_PROMETHEUS_PORT (15692): a second node beside the default one needs all three.
# JOBRUNNER_RABBITMQ_NODE and JOBRUNNER_RABBITMQ_DIR name the node and its folder instead
# (scripts/rabbitmq-cluster.sh runs its three nodes so).
# `ctl` runs rabbitmqctl against this node, e.g. `scripts/rabbitmq.sh ctl list_queues`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

PORT=${RABBITMQ_PORT:-5672}
MGMT_PORT=${RABBITMQ_MANAGEMENT_PORT:-15672}
PROM_PORT=${RABBITMQ_PROMETHEUS_PORT:-15692}
NODE="jobrunner@localhost"
DIR="$DATA/rabbitmq"
if [ "$PORT" != 5672 ]; then  # a second node beside the default one: its own name and data
  NODE="jobrunner-$PORT@localhost"
  DIR="$DATA/rabbitmq-$PORT"
fi
NODE=${JOBRUNNER_RABBITMQ_NODE:-$NODE}
DIR=${JOBRUNNER_RABBITMQ_DIR:-$DIR}
PIDFILE="$DIR/rabbitmq.pid"
LOG="$DIR/log/console.log"
WAIT_SECONDS=${RABBITMQ_START_TIMEOUT:-90}

# Debian's /usr/sbin/rabbitmq* wrappers switch to the `rabbitmq` user when called as root,
# which could not write to .data nor read our cookie; the scripts behind them run as anyone.
find_bin() {
  if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
    RMQ_BIN=/usr/lib/rabbitmq/bin
  elif command -v rabbitmq-server >/dev/null 2>&1; then
    RMQ_BIN=$(dirname "$(command -v rabbitmq-server)")
  else
    return 1
  fi
}

setup_env() {
  mkdir -p "$DIR/home" "$DIR/log" "$DIR/mnesia"
  # The config from infra/rabbitmq with this run's ports (the file itself keeps the defaults,
  # because docker compose mounts it as it is).
  sed -e "s/^listeners\.tcp\.default = .*/listeners.tcp.default = $PORT/" \
      -e "s/^management\.tcp\.port = .*/management.tcp.port = $MGMT_PORT/" \
      "$ROOT/infra/rabbitmq/rabbitmq.conf" >"$DIR/rabbitmq.conf"
  echo "prometheus.tcp.port = $PROM_PORT" >>"$DIR/rabbitmq.conf"
  # A private HOME holds the Erlang cookie that the node and our rabbitmqctl calls share.
  export HOME="$DIR/home"
  export RABBITMQ_CONF_ENV_FILE=/dev/null  # ignore /etc/rabbitmq/rabbitmq-env.conf
  export RABBITMQ_NODENAME="$NODE"
  export RABBITMQ_CONFIG_FILE="$DIR/rabbitmq.conf"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$ROOT/infra/rabbitmq/enabled_plugins"
  export RABBITMQ_MNESIA_BASE="$DIR/mnesia"
  export RABBITMQ_LOG_BASE="$DIR/log"
  export RABBITMQ_PID_FILE="$PIDFILE"
  export RABBITMQ_NODE_PORT="$PORT"  # also places the distribution port at PORT + 20000
}

ctl() { "$RMQ_BIN/rabbitmqctl" -q -n "$NODE" "$@"; }

running() {
  pid_alive "$PIDFILE" && return 0
  # Our node may run with its pid file gone (removed by hand, a crash mid-start): ask it.
  tcp_open "$PORT" && find_bin && setup_env || return 1
  local pid
  pid=$(ctl eval 'os:getpid().' 2>/dev/null | tr -dc '0-9')
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid" >"$PIDFILE"
}

start() {
  if running; then
    say "already running (pid $(cat "$PIDFILE")) on amqp://localhost:$PORT"
    return 0
  fi
  find_bin || { "$SCRIPTS/install-deps.sh" rabbitmq && find_bin; } || die "rabbitmq-server not found"
  setup_env
  for p in "$PORT" "$MGMT_PORT"; do
    tcp_open "$p" && die "port $p is taken by another process (another RabbitMQ?); stop it or set RABBITMQ_PORT / RABBITMQ_MANAGEMENT_PORT"
  done
  rm -f "$PIDFILE"
  # epmd outlives the node; remember whether we are the ones starting it, to stop it again.
  if epmd -names >/dev/null 2>&1; then rm -f "$DIR/epmd.ours"; else touch "$DIR/epmd.ours"; fi
  say "starting node $NODE on amqp://localhost:$PORT (management http://localhost:$MGMT_PORT)"
  : >"$LOG"
  setsid nohup "$RMQ_BIN/rabbitmq-server" >>"$LOG" 2>&1 </dev/null &
  local launcher=$! deadline=$((SECONDS + WAIT_SECONDS))
  until [ -s "$PIDFILE" ] && tcp_open "$PORT" && tcp_open "$MGMT_PORT"; do
    if ! kill -0 "$launcher" 2>/dev/null || ((SECONDS >= deadline)); then
      say "RabbitMQ did not come up within ${WAIT_SECONDS}s" >&2
      show_log "$LOG"
      stop >/dev/null 2>&1 || true
      exit 1
    fi
    sleep 0.5
  done
  # The listeners are up; this also waits for every plugin to finish booting.
  "$RMQ_BIN/rabbitmqctl" -q -n "$NODE" wait --timeout 30 "$PIDFILE" >/dev/null
  say "ready"
}

stop() {
  if ! running; then
    rm -f "$PIDFILE"
    say "not running"
    stop_epmd
    return 0
  fi
  find_bin && setup_env
  say "stopping node $NODE"
  ctl stop "$PIDFILE" >/dev/null 2>&1 || stop_pid "$PIDFILE" 30
  running && stop_pid "$PIDFILE" 5
  rm -f "$PIDFILE"
  stop_epmd
  say "stopped"
}

# Stop epmd if this script started it and no Erlang node uses it any more.
stop_epmd() {
  [ -f "$DIR/epmd.ours" ] || return 0
  if ! epmd -names 2>/dev/null | grep -q '^name '; then
    epmd -kill >/dev/null 2>&1 || true
  fi
  rm -f "$DIR/epmd.ours"
}

status() {
  if running; then
    say "running (pid $(cat "$PIDFILE")) node $NODE, amqp://localhost:$PORT, management http://localhost:$MGMT_PORT"
  else
    say "stopped"
    return 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  ctl) shift; find_bin || die "rabbitmq-server not installed"; setup_env; ctl "$@" ;;
  *) echo "usage: $0 {start|stop|status|ctl ARGS...}" >&2; exit 2 ;;
esac
