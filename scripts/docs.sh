#!/usr/bin/env bash
#
# Builds tlsx's HTML reference manual from the public headers (docs/Doxyfile) and fails if
# doxygen printed any warning (an undocumented name or parameter, a broken reference), printing
# them. Needs doxygen (scripts/install-deps.sh installs it).
#
#   bash scripts/docs.sh [OUTDIR]     HTML in OUTDIR/html (default: build/docs/html)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${1:-build/docs}"
command -v doxygen >/dev/null || {
    echo "docs: doxygen not found (install it: scripts/install-deps.sh)" >&2
    exit 1
}
mkdir -p "$out"
out="$(cd "$out" && pwd)"
log="$out/warnings.log"
rm -f "$log"
# The Doxyfile's paths are relative to the repository root; the output goes to OUTDIR.
{
    cat docs/Doxyfile
    echo "OUTPUT_DIRECTORY = \"$out\""
    echo "WARN_LOGFILE = \"$log\""
} | doxygen - >"$out/doxygen.out" 2>&1 || {
    cat "$out/doxygen.out" >&2
    echo "docs: doxygen failed" >&2
    exit 1
}
# Warnings go to the log; anything else doxygen printed to stderr is a problem too.
if [[ -s "$log" ]] || grep -qi 'warning\|error' "$out/doxygen.out"; then
    cat "$log" "$out/doxygen.out" >&2
    echo "docs: $( (cat "$log"; grep -i 'warning\|error' "$out/doxygen.out") | grep -c .) doxygen warning(s)" >&2
    exit 1
fi
echo "docs: $out/html/index.html (no warnings)"
