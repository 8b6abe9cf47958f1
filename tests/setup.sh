#!/usr/bin/env bash
# Everything the tests need on a fresh machine: headless Chromium (Debian's package: no browser
# download), the project with its test extra in .venv, and the npm packages under tests/node.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
fi
# nginx, for the proxy-and-replicas test (tests/system/test_topology.py runs it as the current user
# in a temporary prefix; the package's own service is not needed).
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx
fi
python3 -m venv .venv
.venv/bin/pip install -q -e '.[test]'
if [ -f tests/node/package.json ]; then
  if [ -f tests/node/package-lock.json ]; then npm_install=ci; else npm_install=install; fi
  (cd tests/node && npm "$npm_install" --no-audit --no-fund --loglevel=error)
fi
# The query page's editor bundle (CodeMirror from npm, bundled by esbuild); skipped without npm.
bash endpoint/web/editor/build.sh
