#!/bin/sh
# npm run fuzz / npm run soak: build, then vitest on the given paths with the given options, inside a
# loopback-only network namespace when we can (root, `unshare`, `ip`), as test/run.sh does for npm test
# (which does not pass arguments on into its namespace). Budgets come from the environment:
# VOLLEY_FUZZ_RUNS, VOLLEY_FUZZ_SEED, VOLLEY_FUZZ_PATH, VOLLEY_SOAK_MINUTES (docs/testing.md).
set -e
if [ -z "${VOLLEY_TEST_ISOLATED:-}" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 \
  && command -v ip >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
  echo "running in a loopback-only network namespace"
  exec unshare -n sh -c 'ip link set lo up && VOLLEY_TEST_ISOLATED=1 exec sh test/fuzz/isolated.sh "$@"' sh "$@"
fi
npx tsc -b
exec npx vitest run "$@"
