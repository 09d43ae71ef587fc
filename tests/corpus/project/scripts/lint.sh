#!/usr/bin/env bash
# Lint and type-check the project; CI runs the same.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

command -v ruff >/dev/null || die "ruff is not installed"

log "ruff"
ruff check src tests
log "format"
ruff format --check src tests
log "mypy"
python3 -m mypy src
if [ -f package.json ]; then
    log "eslint"
    npx eslint . --ext .ts
fi
log "done"
