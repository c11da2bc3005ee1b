#!/usr/bin/env bash
# Local MongoDB-compatible database for development and tests:
# scripts/mongodb.sh {start|stop|status}
#
# Runs `mongod` when it is on PATH, else mongo-java-server through the launcher of
# infra/mongodb (built by install-deps.sh when missing or changed; see docs/local-database.md).
# Data, log and pid file in .data/mongodb (.data/mongodb-<port> for another MONGODB_PORT); port
# MONGODB_PORT (27017), listening on 127.0.0.1 only.
#   MONGODB_BACKEND  h2 (default: data in <dir>/h2, kept across restarts) or memory (gone at stop)
#   MONGODB_HEAP     the stand-in's Java heap, -Xmx (default 1g; the JVM would take a quarter of RAM)
#   MONGODB_JAVA_OPTS  more JVM options for the stand-in (default: the serial collector and C1
#                    only, the cheapest in CPU on a small machine; see
#                    docs/local-database.md)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

PORT=${MONGODB_PORT:-27017}
DIR="$DATA/mongodb"
[ "$PORT" = 27017 ] || DIR="$DATA/mongodb-$PORT"  # a second server beside the default one
PIDFILE="$DIR/mongodb.pid"
KINDFILE="$DIR/mongodb.kind"  # what runs: mongod, or the stand-in and its backend
LOG="$DIR/mongodb.log"
WAIT_SECONDS=${MONGODB_START_TIMEOUT:-60}
BACKEND=${MONGODB_BACKEND:-h2}
HEAP=${MONGODB_HEAP:-1g}
JAVA_OPTS=${MONGODB_JAVA_OPTS:-"-XX:+UseSerialGC -XX:TieredStopAtLevel=1"}
LAUNCHER="$ROOT/infra/mongodb/target"

running() { pid_alive "$PIDFILE"; }
kind() { cat "$KINDFILE" 2>/dev/null || echo "database"; }

# ping: a real `ping` command over the wire protocol (OP_MSG), with nothing but python3.
ping() {
  python3 - "$PORT" <<'EOF'
import socket, struct, sys

def bson(doc):
    body = b""
    for key, value in doc.items():
        name = key.encode() + b"\0"
        if isinstance(value, int):
            body += b"\x10" + name + struct.pack("<i", value)
        else:
            data = value.encode() + b"\0"
            body += b"\x02" + name + struct.pack("<i", len(data)) + data
    return struct.pack("<i", len(body) + 5) + body + b"\0"

section = b"\0" + bson({"ping": 1, "$db": "admin"})
msg = struct.pack("<iiii", 16 + 4 + len(section), 1, 0, 2013) + struct.pack("<I", 0) + section
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
        s.sendall(msg)
        header = b""
        while len(header) < 16:
            chunk = s.recv(16 - len(header))
            if not chunk:
                sys.exit(1)
            header += chunk
        size = struct.unpack("<i", header[:4])[0]
        reply = b""
        while len(reply) < size - 16:
            chunk = s.recv(size - 16 - len(reply))
            if not chunk:
                sys.exit(1)
            reply += chunk
except OSError:
    sys.exit(1)
# {ok: 1.0} as a double, or as an int32 from some servers.
ok = b"\x01ok\0" + struct.pack("<d", 1.0) in reply or b"\x10ok\0" + struct.pack("<i", 1) in reply
sys.exit(0 if ok else 1)
EOF
}

start() {
  if running; then
    say "already running: $(kind) (pid $(cat "$PIDFILE")) on mongodb://localhost:$PORT"
    return 0
  fi
  case "$BACKEND" in
    h2 | memory) ;;
    *) die "MONGODB_BACKEND is h2 or memory, not '$BACKEND'" ;;
  esac
  tcp_open "$PORT" && die "port $PORT is taken by another process; stop it or set MONGODB_PORT"
  mkdir -p "$DIR"
  local cmd kind
  if command -v mongod >/dev/null 2>&1; then
    mkdir -p "$DIR/mongod"
    cmd=(mongod --dbpath "$DIR/mongod" --port "$PORT" --bind_ip 127.0.0.1)
    kind=mongod
  else
    "$SCRIPTS/install-deps.sh" mongodb || die "no mongod, and the stand-in (Java, Maven, infra/mongodb) is not available"
    # shellcheck disable=SC2086 # MONGODB_JAVA_OPTS: several options, split on spaces
    cmd=(java "-Xmx$HEAP" -XX:+ExitOnOutOfMemoryError $JAVA_OPTS -cp "$LAUNCHER/jobrunner-mongodb.jar:$LAUNCHER/lib/*"
      jobrunner.mongodb.Launcher --backend "$BACKEND" --host 127.0.0.1 --port "$PORT")
    if [ "$BACKEND" = h2 ]; then
      mkdir -p "$DIR/h2"
      cmd+=(--file "$DIR/h2/jobrunner.mv")
    fi
    kind="mongo-java-server ($BACKEND)"
  fi
  say "starting $kind on mongodb://localhost:$PORT"
  : >"$LOG"
  setsid nohup "${cmd[@]}" >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  echo "$kind" >"$KINDFILE"
  local deadline=$((SECONDS + WAIT_SECONDS))
  until ping; do
    if ! running || ((SECONDS >= deadline)); then
      say "the database did not answer a ping within ${WAIT_SECONDS}s" >&2
      show_log "$LOG"
      stop >/dev/null 2>&1 || true
      exit 1
    fi
    sleep 0.3
  done
  say "ready"
}

stop() {
  if ! running; then
    rm -f "$PIDFILE" "$KINDFILE"
    say "not running"
    return 0
  fi
  say "stopping $(kind) (pid $(cat "$PIDFILE"))"
  stop_pid "$PIDFILE" 20
  rm -f "$PIDFILE" "$KINDFILE"
  say "stopped"
}

status() {
  if running; then
    say "running: $(kind) (pid $(cat "$PIDFILE")) on mongodb://localhost:$PORT"
  else
    say "stopped"
    return 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 {start|stop|status}" >&2; exit 2 ;;
esac
