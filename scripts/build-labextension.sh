#!/usr/bin/env bash
# Build JupyterLab's "Share a copy" (classbox/labextension) into
# classbox/labextension/built, which is committed: neither the box nor the
# teacher's laptop needs Node.js. Needs Node.js, npm (the npm registry) and
# .venv-hub (jupyter-builder, from the hub's lock). Run after a change to
# index.js or package.json (after a change of a dependency: `npm install` in a
# copy of the folder, and keep its package-lock.json); `make lint` checks that
# built/ is from this source.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source_dir=classbox/labextension
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$source_dir/package.json" "$source_dir/package-lock.json" "$source_dir/index.js" "$work/"
# The lock pins every npm package with its integrity hash (npm install keeps to it;
# `npm ci` refuses a lock without the optional packages of other platforms).
(cd "$work" && npm install --no-audit --no-fund --ignore-scripts && PATH="$root/.venv-hub/bin:$PATH" jupyter-builder build .)
rm -rf "$source_dir/built"
cp -r "$work/built" "$source_dir/built"
.venv-hub/bin/python -m classbox.labextension_check --write
