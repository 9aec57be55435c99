#!/usr/bin/env bash
# Runs the demo story with many seeds and tallies, for the brand watch, the highest level
# before the trigger post and the time from the trigger to each level.
# Usage: scripts/demo-seeds.sh [FIRST_SEED] [LAST_SEED]   (after `cargo build --release`)
set -euo pipefail
first=${1:-1}; last=${2:-30}
bin="${CARGO_TARGET_DIR:-$(dirname "$0")/../target}/release/vigie"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for s in $(seq "$first" "$last"); do
  "$bin" demo --seed "$s" --database "$work/d.db" --force 2>/dev/null > "$work/s$s.out"
done
echo "seeds $first..$last"
echo "highest level before the onset:"; grep -h "highest level before" "$work"/s*.out | sed 's/.*onset: //' | sort | uniq -c
for l in "1 (vigilance)" "2 (alert)" "3 (crisis)"; do
  echo "level $l reached after the onset:"
  grep -h "level $l" "$work"/s*.out | grep -oE "(reached [0-9h]+( min)?|never reached)" | sort | uniq -c
done
