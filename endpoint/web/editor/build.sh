#!/usr/bin/env bash
# Builds the query page's editor bundle (../static/editor.js and its licences) from the npm
# packages in package-lock.json. Needs Node and npm; without them the page keeps its plain text box.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
  echo "editor: npm not found; the query page will use its plain text box" >&2
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
node build.mjs
