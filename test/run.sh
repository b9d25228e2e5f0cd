#!/bin/sh
# npm test: type-check everything, then run every test. The network parts only ever use loopback; when we
# can (root, `unshare`, `ip`), the whole run happens in a fresh network namespace that has nothing but
# loopback, so no test can reach any other address even by mistake.
set -e
if [ -z "${VOLLEY_TEST_ISOLATED:-}" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 \
  && command -v ip >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
  echo "npm test: running in a loopback-only network namespace"
  exec unshare -n sh -c 'ip link set lo up && VOLLEY_TEST_ISOLATED=1 exec sh test/run.sh'
fi
[ -n "${VOLLEY_TEST_ISOLATED:-}" ] || echo "npm test: no private network namespace here; tests still use loopback only"
tsc -b
tsc -p tsconfig.test.json
exec vitest run "$@"
