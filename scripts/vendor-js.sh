#!/usr/bin/env bash
# Refreshes the JavaScript libraries committed under crates/vigie-web/assets/vendor/.
# Node is needed only to run this script (upgrades), never to build or test Vigie.
# Usage: scripts/vendor-js.sh [UPLOT_VERSION]
set -euo pipefail
version="${1:-1.6.32}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/crates/vigie-web/assets/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund "uplot@$version" >/dev/null
src="$work/node_modules/uplot"
mkdir -p "$dest"
cp "$src/dist/uPlot.iife.min.js" "$dest/uPlot.iife.min.js"
cp "$src/dist/uPlot.min.css" "$dest/uPlot.min.css"
cp "$src/LICENSE" "$dest/uPlot.LICENSE"
echo "uPlot $version" > "$dest/VERSIONS"
echo "vendored uPlot $version into $dest"
