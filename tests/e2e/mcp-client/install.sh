#!/usr/bin/env bash
# Installs the MCP test client's npm packages (exactly package-lock.json's,
# with `npm ci') into node_modules here, unless they are there already.
# `make deps' runs it, and so does tests/e2e/t_mcp.sh when they are not.
#
# Exit 0: ready. 3: npm cannot reach its registry (t_mcp.sh then skips,
# saying so). 1: anything else (node or npm missing, npm ci failed).
set -u
cd "$(dirname "$0")" || exit 1
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "mcp-client: node and npm are missing (make deps installs them)" >&2
	exit 1
fi
if [[ node_modules/.package-lock.json -nt package-lock.json ]] &&
	node --input-type=module -e "import '@modelcontextprotocol/sdk/client/index.js'" 2>/dev/null; then
	exit 0
fi
if ! timeout 60 npm ping >/dev/null 2>&1; then
	echo "mcp-client: npm cannot reach its registry, so the MCP SDK cannot be installed" >&2
	exit 3
fi
echo "mcp-client: npm ci (@modelcontextprotocol/sdk, from package-lock.json)" >&2
timeout 300 npm ci --no-audit --no-fund --loglevel=error >&2 || exit 1
