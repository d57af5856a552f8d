#!/usr/bin/env bash
# Installs the pinned solc from package-lock.json and regenerates
# contracts/artifacts and contracts/bindings. Pass --out DIR to write
# elsewhere (check.sh does).
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
node build.mjs "$@"
