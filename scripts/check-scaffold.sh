#!/usr/bin/env bash
# Proves `npm run new:operation` writes an operation that compiles, passes ESLint and Prettier, is in the OpenAPI
# document, and whose plan spec, the catalogue's spec and saga test (checkSaga on a real Temporal dev server and
# PostgreSQL) run and pass: in a copy of the working tree, so nothing here changes. CI runs it after the suite.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$root"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] && cp --parents -- "$f" "$work/"
done
for shared in node_modules apps/vmctl/node_modules .tools; do
  [ -e "$root/$shared" ] && ln -s "$root/$shared" "$work/$shared"
done

cd "$work"
type=vm.scaffold_check
echo "scaffold check: npm run new:operation -- $type (in $work)"
npm run --silent new:operation -- "$type"
npm run --silent typecheck
npm run --silent lint
npm run --silent build > /dev/null
npm run --silent openapi > /dev/null
npx jest --ci "workflows/plans/$type.plan.spec.ts" workflows/catalogue.spec.ts "test/$type.test.ts"
echo "scaffold check: passed"
