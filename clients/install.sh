#!/usr/bin/env bash
# Installs the pinned viem and ethers (for internal/sandbox/clients_test.go),
# the MCP TypeScript SDK (for internal/mcp/clients_test.go)
# and Uniswap V2's published build artifacts (for
# internal/cli/uniswap_geth_test.go) from package-lock.json into
# clients/node_modules.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
