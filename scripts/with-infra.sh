#!/usr/bin/env bash
# scripts/with-infra.sh COMMAND...: runs COMMAND with the local RabbitMQ and MongoDB up and
# RABBITMQ_URL / MONGODB_URL exported; afterwards stops the services it had to start (and only
# those). A service whose URL is already set in the environment is left to that URL. The database
# it starts itself runs the in-memory backend unless MONGODB_BACKEND says otherwise.
# Exits with COMMAND's exit code.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

started=()
cleanup() {
  local s
  for s in "${started[@]}"; do "$SCRIPTS/$s.sh" stop || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure() {  # ensure NAME [VAR=VALUE...]: start scripts/NAME.sh (with VARs) unless it runs, remembering that we did
  if ! "$SCRIPTS/$1.sh" status >/dev/null 2>&1; then
    started+=("$1")
    env "${@:2}" "$SCRIPTS/$1.sh" start
  fi
}

if [ -z "${RABBITMQ_URL:-}" ]; then
  ensure rabbitmq
  export RABBITMQ_URL="amqp://guest:guest@localhost:${RABBITMQ_PORT:-5672}/"
fi
if [ -z "${MONGODB_URL:-}" ]; then
  # Tests and benchmarks keep no data, and the stand-in's in-memory backend is the faster one
  # (`mongod` on PATH still wins; an already running database is used as it is).
  ensure mongodb "MONGODB_BACKEND=${MONGODB_BACKEND:-memory}"
  export MONGODB_URL="mongodb://localhost:${MONGODB_PORT:-27017}"
fi

set +e
"$@"
rc=$?
set -e
exit "$rc"
