#!/usr/bin/env bash
# Fails if the committed artifacts or bindings differ from a fresh build of
# contracts/src, i.e. if someone edited a contract without running build.sh,
# or edited generated files by hand.
set -euo pipefail
cd "$(dirname "$0")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Start from the committed tree so hand-written files (bindings/doc.go) are
# present on both sides and only generated content can differ.
cp -R artifacts bindings "$tmp"/
./build.sh --out "$tmp" >/dev/null

status=0
for dir in artifacts bindings; do
	if ! diff -rq "$dir" "$tmp/$dir" >"$tmp/summary.txt"; then
		status=1
		echo "contracts/$dir is out of date with contracts/src:" >&2
		sed 's/^/  /' "$tmp/summary.txt" >&2
		diff -ru "$dir" "$tmp/$dir" | cut -c1-200 | head -n 40 >&2 || true
	fi
done
if [ "$status" -ne 0 ]; then
	echo "run contracts/build.sh and commit the result" >&2
	exit 1
fi
echo "contracts: artifacts and bindings match a fresh build"
