#!/usr/bin/env bash
# Makes a copy of this checkout with proposal patches applied, to measure them without touching
# the working tree: sources are copied, node_modules are hard-linked (never written to).
#   bash bench/scripts/patched-tree.sh /tmp/mailroom-patched bench/proposals/0001-*.patch ...
#   BENCH_SERVER_ROOT=/tmp/mailroom-patched BENCH_ONLY=tail pnpm --filter @mailroom/bench bench
set -euo pipefail
target=${1:?usage: patched-tree.sh <target dir> <patch>...}
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
case "$target" in /|"$root"|"$root"/*) echo "refusing to write into $target" >&2; exit 1 ;; esac
rm -rf "$target"
mkdir -p "$target"
rsync -a --exclude node_modules --exclude .git --exclude .cache --exclude dist --exclude 'bench/results' "$root"/ "$target"/
cd "$root"
while IFS= read -r dir; do
  mkdir -p "$target/$(dirname "$dir")"
  cp -al "$dir" "$target/$dir"
done < <(find . -maxdepth 3 -name node_modules -type d -not -path './node_modules/*')
for patch in "$@"; do
  patch -d "$target" -p1 --quiet < "$(cd "$root" && realpath "$patch")"
  echo "applied $patch"
done
echo "patched tree: $target"
