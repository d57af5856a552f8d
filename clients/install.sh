#!/usr/bin/env bash
# Installs the pinned viem and ethers from package-lock.json into
# clients/node_modules, for internal/sandbox/clients_test.go.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
