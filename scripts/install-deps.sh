#!/usr/bin/env bash
# Installs the system services jobrunner runs against locally, when they are missing:
#   rabbitmq  RabbitMQ from the distribution (apt-get)
#   mongodb   nothing if `mongod` is on PATH, else FerretDB v1.24.2 (SQLite backend) built with Go
#   chromium  Debian's chromium (apt-get), for the dashboard's Playwright specs
# scripts/install-deps.sh [rabbitmq] [mongodb] [chromium]   (no argument: rabbitmq and mongodb).
# Idempotent; silent when there is nothing to do. `scripts/install-deps.sh --ferretdb-path` prints the FerretDB binary.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

FERRETDB_VERSION=v1.24.2
FERRETDB_HOME="${JOBRUNNER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jobrunner}/ferretdb-$FERRETDB_VERSION"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root to run: $*"
  fi
}

install_rabbitmq() {
  if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || command -v rabbitmq-server >/dev/null 2>&1; then
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || die "install RabbitMQ 3.10+ with your package manager"
  say "installing rabbitmq-server with apt-get"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
  # The package starts a system-wide node on 5672; scripts/rabbitmq.sh runs its own instead.
  if [ -d /run/systemd/system ]; then
    as_root systemctl disable --now rabbitmq-server >/dev/null 2>&1 || true
  elif command -v service >/dev/null 2>&1; then
    as_root service rabbitmq-server stop >/dev/null 2>&1 || true
  fi
}

install_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "install chromium at /usr/bin/chromium with your package manager"
  say "installing chromium with apt-get"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
}

# Prints the path of a working FerretDB v1 binary, or fails.
ferretdb_path() {
  local candidate
  for candidate in "${FERRETDB_BIN:-}" "$(command -v ferretdb || true)" "$FERRETDB_HOME/ferretdb"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    # v1 only: v2 dropped the SQLite backend. A plain `go install` build panics here (below).
    if [[ "$("$candidate" --version 2>/dev/null)" == "version: v1."* ]]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

install_ferretdb() {
  command -v mongod >/dev/null 2>&1 && return 0
  ferretdb_path >/dev/null && return 0
  command -v go >/dev/null 2>&1 || die "neither mongod nor FerretDB found, and Go (1.22+) is needed to build FerretDB"
  say "building FerretDB $FERRETDB_VERSION into $FERRETDB_HOME (a minute or two)"
  # Not `go install ...@version`: that binary panics at start because FerretDB reads its
  # version from build/version/version.txt, which is generated and not in the module.
  local src
  src=$(mktemp -d)
  trap 'rm -rf "$src"' RETURN
  local moddir
  moddir=$(cd "$src" && GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$moddir" ] || die "go mod download github.com/FerretDB/FerretDB@$FERRETDB_VERSION failed"
  cp -r "$moddir/." "$src/"
  chmod -R u+w "$src"
  echo "$FERRETDB_VERSION" >"$src/build/version/version.txt"
  mkdir -p "$FERRETDB_HOME"
  (cd "$src" && go build -buildvcs=false -o "$FERRETDB_HOME/ferretdb.tmp" ./cmd/ferretdb)
  mv "$FERRETDB_HOME/ferretdb.tmp" "$FERRETDB_HOME/ferretdb"
  ferretdb_path >/dev/null || die "the FerretDB build in $FERRETDB_HOME does not run"
}

[ "${1:-}" = --ferretdb-path ] && { ferretdb_path; exit; }
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(rabbitmq mongodb)
for t in "${targets[@]}"; do
  case "$t" in
    rabbitmq) install_rabbitmq ;;
    mongodb) install_ferretdb ;;
    chromium) install_chromium ;;
    *) die "unknown target $t (rabbitmq, mongodb, chromium)" ;;
  esac
done
