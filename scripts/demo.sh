#!/usr/bin/env bash
# Sets up suture, gives the bundled example its own virtualenv, and runs suture on it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
EX=examples/clinic-api
if [ ! -x "$EX/.venv/bin/python" ]; then
  python3 -m venv "$EX/.venv"
fi
"$EX/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$EX/requirements-dev.txt"
# Offline advisories: the PyPA advisory database snapshot beside the project, when present.
if [ -z "${SUTURE_ADVISORY_DB:-}" ] && [ -d ../shared/data/pypa-advisory-db ]; then
  export SUTURE_ADVISORY_DB="$PWD/../shared/data/pypa-advisory-db"
fi
exec .venv/bin/suture run --root "$EX" "$@"
