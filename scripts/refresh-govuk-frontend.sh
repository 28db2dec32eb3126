#!/usr/bin/env bash
# Refresh the vendored GOV.UK Frontend build in brokerage/static/govuk/.
#
# Compiles scripts/govuk-frontend.scss (system fonts, no crown, no GDS
# Transport) with dart-sass and copies the prebuilt ES-module JS.
# Needs node + npm and access to the npm registry. Usage:
#   scripts/refresh-govuk-frontend.sh            # latest govuk-frontend 5.x
#   GOVUK_FRONTEND_SPEC=5.14.0 scripts/refresh-govuk-frontend.sh
#   STATIC_DIR=path/to/static scripts/refresh-govuk-frontend.sh
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
spec="${GOVUK_FRONTEND_SPEC:-^5}"
static_dir="${STATIC_DIR:-$repo_root/brokerage/static}"
out="$static_dir/govuk"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "Installing govuk-frontend@$spec and sass into $tmp" >&2
(
  cd "$tmp"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --silent "govuk-frontend@$spec" sass
)

pkg="$tmp/node_modules/govuk-frontend"
version="$(node -p "require('$pkg/package.json').version")"

rm -rf "$out"
mkdir -p "$out"

"$tmp/node_modules/.bin/sass" \
  --load-path="$tmp/node_modules" \
  --style=compressed --no-source-map \
  --quiet-deps --silence-deprecation=import --silence-deprecation=global-builtin \
  "$repo_root/scripts/govuk-frontend.scss" "$out/govuk-frontend.min.css"

# Prebuilt ES module (exports initAll etc.); drop the source-map comment as the
# map is not vendored.
sed -e 's|//# sourceMappingURL=[^[:space:]]*$||' \
  "$pkg/dist/govuk/govuk-frontend.min.js" >"$out/govuk-frontend.min.js"

printf '%s\n' "$version" >"$out/VERSION"

# Drop the (unused) GOV.UK footer crown rule so nothing crown-related ships.
css="$out/govuk-frontend.min.css"
sed -i -e 's/\.govuk-footer__crown{[^}]*}//g' "$css"

# Branding checks. No images/fonts are copied: the CSS must reference none.
if grep -qi 'GDS Transport' "$css"; then
  echo "error: compiled CSS mentions GDS Transport" >&2; exit 1
fi
if grep -qiE 'crown|crest' "$css"; then
  echo "error: compiled CSS mentions a crown/crest" >&2; exit 1
fi
if grep -qE 'url\(' "$css"; then
  echo "error: compiled CSS references url()s that are not vendored:" >&2
  grep -oE 'url\([^)]*\)' "$css" | sort -u >&2
  exit 1
fi
if ! grep -q 'export{[^}]*initAll' "$out/govuk-frontend.min.js"; then
  echo "error: govuk-frontend.min.js does not export initAll" >&2; exit 1
fi

echo "govuk-frontend $version -> $out" >&2
ls -l "$out" >&2
