#!/usr/bin/env bash
# Shows `suture deploy` on a copy of examples/clinic-api: a healthy release is promoted, then a
# release whose fault.json answers 5% errors is judged on a canary and rolled back automatically.
# Everything runs on 127.0.0.1 (router on port 8481); the copy lives in a temp folder.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
EX="$PWD/examples/clinic-api"
if [ ! -x "$EX/.venv/bin/python" ]; then
  python3 -m venv "$EX/.venv"
fi
"$EX/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$EX/requirements-dev.txt"
if [ -z "${SUTURE_ADVISORY_DB:-}" ] && [ -d ../shared/data/pypa-advisory-db ]; then
  export SUTURE_ADVISORY_DB="$PWD/../shared/data/pypa-advisory-db"
fi
SUTURE="$PWD/.venv/bin/suture"
SUTURE_PY="$PWD/.venv/bin/python"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/suture-deploy-demo.XXXXXX")
cleanup() {
  (cd "$WORK/clinic-api" && "$SUTURE" rollback --env staging >/dev/null 2>&1 || true)
  for state in "$WORK"/clinic-api/.suture/deploy/*/state.json; do
    [ -f "$state" ] || continue
    "$SUTURE_PY" - "$state" <<'PY'
import json, sys
from suture import proc
data = json.load(open(sys.argv[1]))
for inst in data.get("instances", []):
    proc.terminate(inst["pid"], grace_s=2)
if (data.get("router") or {}).get("pid"):
    proc.terminate(data["router"]["pid"], grace_s=2)
PY
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/clinic-api"
tar -C "$EX" --exclude=.venv --exclude=.suture --exclude=__pycache__ --exclude=.pytest_cache \
  -cf - . | tar -C "$WORK/clinic-api" -xf -
cd "$WORK/clinic-api"
# The copy runs the example's virtualenv; fast canary steps for a demo.
sed -i "s|^version: 1|version: 1\npython: $EX/.venv/bin/python|" suture.yml
sed -i 's|interval_s: 30|interval_s: 5|' suture.yml
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.test
export GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.test
git init -q -b main && git add -A && git commit -q -m "clinic-api"
echo "== 1. the gates, then the first release of the healthy version (its risk picks the strategy)"
"$SUTURE" run
"$SUTURE" deploy --env staging
echo '{"error_rate": 0.05}' > fault.json
git commit -q -am "A bad release: 5% of requests fail"
echo "== 2. a bad release on a canary, with 400 synthetic requests/s: rolled back automatically"
"$SUTURE" deploy --env staging --strategy canary --load 400 --load-path /metadata || true
echo "== 3. the history"
"$SUTURE" releases
