#!/usr/bin/env bash
# Sets up suture and runs the whole test suite (it starts its own PostgreSQL server).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
