#!/usr/bin/env bash
# make lock: pins every Python dependency, with hashes, from the packages' pyprojects.
#   requirements/dev.lock     what `make install` puts into .venv (requirements/dev.in)
#   requirements/<image>.lock what services/<image>/Dockerfile installs, for api, master and
#                             worker, with the versions of dev.lock: dev and the images match
# One resolution for every platform and Python >= 3.11 (--universal), so the images build on
# amd64 and arm64 alike. A version already in a lock stays unless a pyproject now excludes it;
# `make lock LOCK_ARGS=--upgrade` takes the newest of everything, `LOCK_ARGS="-P NAME"` of one.
# The jobrunner packages themselves are not in the locks: they are installed from the checkout
# (`pip install --no-deps`). tests/test_lock.py fails while a lock is stale.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
cd "$ROOT"

UV=${UV:-$ROOT/.venv/bin/uv}
[ -x "$UV" ] || die "no uv at $UV: make install puts it into .venv"
LOCAL=(jobrunner-shared jobrunner-worker jobrunner-cli jobrunner-api jobrunner-master)

compile() {  # compile IN [uv options...]
  local input=$1
  shift
  "$UV" pip compile "$input" --output-file "${input%.in}.lock" --quiet \
    --universal --python-version 3.11 --generate-hashes \
    --custom-compile-command "make lock" \
    "${LOCAL[@]/#/--no-emit-package=}" "$@"
}

compile requirements/dev.in "$@"
for image in api master worker; do
  compile "requirements/$image.in" --constraints requirements/dev.lock
done
say "requirements/{dev,api,master,worker}.lock written"
