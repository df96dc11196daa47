#!/usr/bin/env bash
#
# Runs everything CI runs (.ci/run): build and tests on mbedTLS 3.6 (the default) and on the
# system's 2.28, install check, header check, sanitizers on 3.6.
#
#   scripts/test.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$root/.ci/run" "$@"
