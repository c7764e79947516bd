#!/usr/bin/env bash
# Usage: scripts/release-flags.sh "<the Makefile's RELEASE flags>"
# SwiftPM does not compile the objects again when only compiler flags change (for example
# `-Xfrontend -function-sections`, decision record 32): a release build made with other flags would
# keep its old objects. So the flags of the last release build are kept in .build/release-flags,
# and a release build made with other flags (or before this file existed) is removed first.
set -euo pipefail
flags="$1"
stamp=.build/release-flags
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$flags" ]; then
    exit 0
fi
dir=$(${SWIFT:-swift} build $flags --show-bin-path)
case "$dir" in
    "$PWD"/.build/*/release) ;;
    *) echo "release-flags: unexpected release folder '$dir'; not touched" >&2; exit 1 ;;
esac
if [ -d "$dir" ]; then
    echo "release-flags: the release flags changed; removing $dir so that everything is compiled with them"
    rm -rf "$dir"
fi
mkdir -p .build
printf '%s' "$flags" > "$stamp"
