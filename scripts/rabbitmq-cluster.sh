#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this machine, for trying a cluster out and for
# `make test-cluster`: scripts/rabbitmq-cluster.sh {start|stop|status|urls|run COMMAND...}
#   and, one node at a time: {start-node|stop-node|kill-node} N, ctl N ARGS...
#
# Each node is a scripts/rabbitmq.sh node (the distribution's RabbitMQ as the calling user,
# config from infra/rabbitmq) with its own name, ports and folder under .data/rabbitmq-cluster/:
#
#   node  name                     AMQP  management  prometheus  distribution
#   1     jobrunner-c1@localhost   5701  15701       15801       25701
#   2     jobrunner-c2@localhost   5702  15702       15802       25702
#   3     jobrunner-c3@localhost   5703  15703       15803       25703
#
# (RABBITMQ_CLUSTER_PORT moves the AMQP ports, the others follow: +10000, +10100, +20000.)
# The three share one Erlang cookie (.data/rabbitmq-cluster/cookie); nodes 2 and 3 join node 1
# (stop_app, reset, join_cluster, start_app) the first time. `start` boots the three at once:
# nodes that were clustered wait for each other at boot, so one at a time could deadlock when
# node 1 was not the last to stop. A node of the default `scripts/rabbitmq.sh` (5672) may run at
# the same time: other names, ports, folders and cookie. epmd is stopped by `stop` only if
# `start` started it. `urls` prints the RABBITMQ_URL listing the three nodes. `run COMMAND...`
# runs COMMAND with the cluster up and RABBITMQ_URL exported, then stops the cluster if it had
# to start it (like scripts/with-infra.sh), and exits with COMMAND's exit code.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

BASE=${RABBITMQ_CLUSTER_PORT:-5701}
NODES=(1 2 3)
CLUSTER="$DATA/rabbitmq-cluster"
COOKIE="$CLUSTER/cookie"
EPMD_OURS="$CLUSTER/epmd.ours"

node_name() { echo "jobrunner-c$1@localhost"; }
amqp_port() { echo $((BASE + $1 - 1)); }

# node N COMMAND...: scripts/rabbitmq.sh COMMAND for node N.
node() {
  local n=$1 port
  shift
  port=$(amqp_port "$n")
  RABBITMQ_PORT=$port RABBITMQ_MANAGEMENT_PORT=$((port + 10000)) \
    RABBITMQ_PROMETHEUS_PORT=$((port + 10100)) \
    JOBRUNNER_RABBITMQ_NODE=$(node_name "$n") JOBRUNNER_RABBITMQ_DIR="$CLUSTER/node$n" \
    "$SCRIPTS/rabbitmq.sh" "$@"
}

check_node() {
  [[ "${1:-}" =~ ^[123]$ ]] || die "no node '${1:-}': 1, 2 or 3"
}

# The one cookie of the cluster, in each node's private HOME (where scripts/rabbitmq.sh puts
# the node's and rabbitmqctl's HOME): nodes with different cookies cannot talk.
share_cookie() {
  local n
  mkdir -p "$CLUSTER"
  if [ ! -s "$COOKIE" ]; then
    (umask 077 && head -c 48 /dev/urandom | base64 | tr -dc 'A-Z' | head -c 20 >"$COOKIE")
  fi
  for n in "${NODES[@]}"; do
    mkdir -p "$CLUSTER/node$n/home"
    if ! cmp -s "$COOKIE" "$CLUSTER/node$n/home/.erlang.cookie"; then
      rm -f "$CLUSTER/node$n/home/.erlang.cookie"
      install -m 0400 "$COOKIE" "$CLUSTER/node$n/home/.erlang.cookie"
    fi
  done
}

# Start epmd ourselves (once for the three nodes) and remember it, to stop it again.
ensure_epmd() {
  epmd -names >/dev/null 2>&1 && return 0
  epmd -daemon
  touch "$EPMD_OURS"
  local i
  for ((i = 0; i < 50; i++)); do
    epmd -names >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "epmd did not start"
}

stop_epmd() {
  [ -f "$EPMD_OURS" ] || return 0
  if ! epmd -names 2>/dev/null | grep -q '^name '; then
    epmd -kill >/dev/null 2>&1 || true
  fi
  rm -f "$EPMD_OURS"
}

# The nodes node 1 counts as members (running or not), one per line.
members() {
  node 1 ctl eval 'io:format("~s~n", [string:join([atom_to_list(N) || N <- rabbit_nodes:all()], "\n")]).' \
    2>/dev/null | grep '@' || true
}

running_members() {
  node 1 ctl eval 'io:format("~s~n", [string:join([atom_to_list(N) || N <- rabbit_nodes:all_running()], "\n")]).' \
    2>/dev/null | grep '@' || true
}

join() {
  local n=$1 log="$CLUSTER/node$1/join.log"
  say "node $n joins $(node_name 1)"
  {
    node "$n" ctl stop_app &&
      node "$n" ctl reset &&
      node "$n" ctl join_cluster "$(node_name 1)" &&
      node "$n" ctl start_app &&
      node "$n" ctl await_startup --timeout 60
  } >"$log" 2>&1 || { show_log "$log"; die "node $n could not join the cluster"; }
}

start() {
  local n pids=() failed=0
  "$SCRIPTS/install-deps.sh" rabbitmq  # once, not by each of the three starts below
  share_cookie
  ensure_epmd
  for n in "${NODES[@]}"; do
    node "$n" start >"$CLUSTER/node$n.start.log" 2>&1 &
    pids+=($!)
  done
  for n in "${!pids[@]}"; do
    if ! wait "${pids[$n]}"; then
      failed=1
      cat "$CLUSTER/node${NODES[$n]}.start.log" >&2
    fi
  done
  ((failed == 0)) || { stop >/dev/null 2>&1 || true; die "a node did not start"; }
  for n in 2 3; do
    members | grep -qx "$(node_name "$n")" || join "$n"
  done
  local deadline=$((SECONDS + 60))
  until [ "$(running_members | wc -l)" -eq 3 ]; do
    ((SECONDS < deadline)) || die "the cluster has not 3 running nodes: $(running_members | tr '\n' ' ')"
    sleep 0.5
  done
  say "cluster of $(running_members | tr '\n' ' ')ready"
  say "RABBITMQ_URL=$(urls)"
}

stop() {
  local n pids=()
  for n in "${NODES[@]}"; do
    node "$n" stop &
    pids+=($!)
  done
  for n in "${pids[@]}"; do wait "$n" || true; done
  stop_epmd
}

status() {
  local n rc=0
  for n in "${NODES[@]}"; do
    printf 'node %s: ' "$n"
    node "$n" status || rc=3
  done
  if ((rc == 0)); then
    say "cluster members running: $(running_members | tr '\n' ' ')"
    [ "$(running_members | wc -l)" -eq 3 ] || rc=3
  fi
  return "$rc"
}

urls() {
  local n out=()
  for n in "${NODES[@]}"; do out+=("amqp://guest:guest@localhost:$(amqp_port "$n")/"); done
  (IFS=,; echo "${out[*]}")
}

run() {
  local started=0 rc
  if ! status >/dev/null 2>&1; then
    started=1
    trap 'stop' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    start
  fi
  RABBITMQ_URL=$(urls)
  export RABBITMQ_URL
  set +e
  "$@"
  rc=$?
  set -e
  ((started == 0)) || say "stopping the cluster it started"
  exit "$rc"
}

# A node lost rather than stopped: SIGKILL, no goodbye to its peers or clients.
kill_node() {
  local pidfile="$CLUSTER/node$1/rabbitmq.pid"
  pid_alive "$pidfile" || { say "node $1 not running"; return 0; }
  kill -KILL "$(tr -dc '0-9' <"$pidfile")"
  while pid_alive "$pidfile"; do sleep 0.1; done
  rm -f "$pidfile"
  say "node $1 killed"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  urls) urls ;;
  run) shift; (($#)) || die "run: no command"; run "$@" ;;
  start-node) check_node "${2:-}"; share_cookie; node "$2" start ;;
  stop-node) check_node "${2:-}"; node "$2" stop ;;
  kill-node) check_node "${2:-}"; kill_node "$2" ;;
  ctl) check_node "${2:-}"; n=$2; shift 2; node "$n" ctl "$@" ;;
  *) echo "usage: $0 {start|stop|status|urls|run COMMAND...|start-node N|stop-node N|kill-node N|ctl N ARGS...}" >&2
     exit 2 ;;
esac
