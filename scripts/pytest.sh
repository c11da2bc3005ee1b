#!/usr/bin/env bash
# The Python suite (`make test-python`), against the services scripts/with-infra.sh started:
#   1. every test but the cluster and node-wide ones, on PYTEST_WORKERS pytest-xdist workers
#      (default 2; 0 runs them in this process), each with its own RabbitMQ vhost and MongoDB
#      database; a test module stays on one worker (--dist loadfile: its fixtures are shared);
#   2. then the node-wide tests alone (marker `node_wide`: they stop or reconfigure the shared
#      RabbitMQ node, which would fail what the other workers run meanwhile).
# Arguments go to both runs (select with -k or paths, not -m). A run that selects no test
# (exit code 5) is not a failure unless neither selected one.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PY:-.venv/bin/python}

"$PY" -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadfile -m "not cluster and not node_wide" "$@"
first=$?
if (( first == 2 )); then exit 2; fi  # interrupted (Ctrl-C): not on to the second run
"$PY" -m pytest -m "node_wide and not cluster" "$@"
second=$?

if (( first == 5 && second == 5 )); then exit 5; fi
for code in "$first" "$second"; do
    if (( code != 0 && code != 5 )); then exit "$code"; fi
done
exit 0
