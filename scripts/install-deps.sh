#!/usr/bin/env bash
# Installs the system services jobrunner runs against locally, when they are missing:
#   rabbitmq  RabbitMQ from the distribution (apt-get)
#   mongodb   nothing if `mongod` is on PATH, else a JDK 17+ and Maven (apt-get, when missing) and the
#             mongo-java-server launcher of infra/mongodb, built when its sources changed
#   chromium  Debian's chromium (apt-get), for the dashboard's Playwright specs
# scripts/install-deps.sh [rabbitmq] [mongodb] [chromium]   (no argument: rabbitmq and mongodb).
# Idempotent; silent when there is nothing to do. See docs/local-database.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

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

java_major() {  # the major version of `java` on PATH (17 for "17.0.15"), or nothing
  java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}

# apt_install PACKAGE WHAT: installs a Debian package, or explains what to install instead.
apt_install() {
  command -v apt-get >/dev/null 2>&1 ||
    die "$2 is needed for the local MongoDB stand-in: install it (or put mongod on PATH, or set MONGODB_URL)"
  say "installing $1 with apt-get"
  as_root apt-get update -qq || die "apt-get update failed: install $2 yourself (or put mongod on PATH, or set MONGODB_URL)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null ||
    die "apt-get install $1 failed: install $2 yourself (or put mongod on PATH, or set MONGODB_URL)"
}

# The local MongoDB-compatible database: mongod when on PATH (nothing to do), else
# mongo-java-server with the launcher of infra/mongodb, built with Maven into
# infra/mongodb/target only when its sources or pom changed (a stamp holds their hash).
install_mongodb() {
  command -v mongod >/dev/null 2>&1 && return 0
  # A JDK, not only a JRE (default-jre-headless): Maven compiles the launcher with javac.
  command -v javac >/dev/null 2>&1 || apt_install default-jdk-headless "a Java 17+ JDK (java, javac)"
  command -v mvn >/dev/null 2>&1 || apt_install maven "Maven 3"
  local major
  major=$(java_major)
  [ "${major:-0}" -ge 17 ] 2>/dev/null || die "Java 17+ is needed for the local MongoDB stand-in; \`java\` is version ${major:-unknown}"
  build_mongodb_launcher
}

MONGODB_PROJECT="$ROOT/infra/mongodb"
MONGODB_STAMP="$MONGODB_PROJECT/target/.jobrunner-built"

mongodb_sources_hash() {
  (cd "$MONGODB_PROJECT" && find pom.xml src -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

build_mongodb_launcher() {
  mkdir -p "$MONGODB_PROJECT/target"
  # One build at a time: two scripts/mongodb.sh start at once share infra/mongodb/target.
  exec 9>"$MONGODB_PROJECT/target/.build.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  local hash
  hash=$(mongodb_sources_hash)
  if [ -f "$MONGODB_PROJECT/target/jobrunner-mongodb.jar" ] && [ "$(cat "$MONGODB_STAMP" 2>/dev/null)" = "$hash" ]; then
    exec 9>&-
    return 0
  fi
  say "building the MongoDB stand-in (infra/mongodb, mongo-java-server) with Maven"
  rm -f "$MONGODB_STAMP"
  (cd "$MONGODB_PROJECT" && mvn -q -B -Dstyle.color=never package) || die "the build of infra/mongodb failed (output above)"
  echo "$hash" >"$MONGODB_STAMP"
  exec 9>&-
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(rabbitmq mongodb)
for t in "${targets[@]}"; do
  case "$t" in
    rabbitmq) install_rabbitmq ;;
    mongodb) install_mongodb ;;
    chromium) install_chromium ;;
    *) die "unknown target $t (rabbitmq, mongodb, chromium)" ;;
  esac
done
