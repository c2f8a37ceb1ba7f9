#!/usr/bin/env bash
# Runs every Parley test on a fresh Debian/Ubuntu machine with the .NET 10 SDK and Node.js:
# installs what is missing (Debian's Chromium, coturn, nginx, zbar-tools, iproute2), restores packages, type-checks the web client,
# builds, then runs each test project in turn inside a loopback-only network namespace, so browser and
# network tests see only 127.0.0.1 and cannot clash with anything else on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
command -v turnserver >/dev/null 2>&1 || missing+=(coturn)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
command -v zbarimg >/dev/null 2>&1 || missing+=(zbar-tools)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

echo "==> web client: type check (tsc --noEmit --checkJs) and unit tests (node --test)"
if [ ! -d web/node_modules/typescript ]; then npm ci --prefix web --no-audit --no-fund; fi
(cd web && npx --no-install tsc -p tsconfig.json && npm test --silent)

echo "==> restoring and building"
# Parley.Server always restores linux-x64 too (RuntimeIdentifiers), so the test of the published single-file
# executable can publish inside the namespace with --no-restore.
dotnet restore Parley.slnx
dotnet build Parley.slnx --no-restore -warnaserror

# Inside the namespace only loopback exists; root may create it directly, others map themselves to root.
ns=(unshare --net)
[ "$(id -u)" -eq 0 ] || ns=(unshare --user --map-root-user --net)

# One project at a time: browser tests need both cores to themselves.
status=0
for project in $(find tests -name '*Tests.csproj' | sort); do
  echo "==> $project"
  "${ns[@]}" -- sh -c 'ip link set lo up && exec dotnet test "$0" --no-build --logger "console;verbosity=normal"' "$project" || status=1
done
exit $status
