# Sourced by the scripts in this folder: paths and small helpers shared by the service scripts.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA="$ROOT/.data"
SCRIPTS="$ROOT/scripts"

say() { printf '%s: %s\n' "$(basename "$0" .sh)" "$*"; }
die() { printf '%s: error: %s\n' "$(basename "$0" .sh)" "$*" >&2; exit 1; }

# tcp_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid_alive FILE: true when FILE names a running process.
pid_alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(tr -dc '0-9' <"$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# show_log FILE...: the tail of each log, for error messages.
show_log() {
  local f
  for f in "$@"; do
    [ -s "$f" ] || continue
    printf -- '--- last lines of %s ---\n' "$f" >&2
    tail -n 30 "$f" >&2
  done
}

# stop_pid FILE [SECONDS]: SIGTERM the process in FILE, SIGKILL after SECONDS (default 15).
stop_pid() {
  local pid i limit=$(( ${2:-15} * 10 ))
  pid=$(tr -dc '0-9' <"$1")
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < limit; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}
