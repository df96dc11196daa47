#!/usr/bin/env bash
#
# Runs everything CI runs (.ci/run): build, tests, install check, header check, sanitizers.
#
#   scripts/test.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$root/.ci/run" "$@"
