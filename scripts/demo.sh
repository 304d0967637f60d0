#!/usr/bin/env bash
# An offline tour of deps-update: no network, no fakes; real git, real files.
#
# It builds, in a throwaway folder:
#   - upstream.git: a library with three tagged releases (v1.0.0, v1.1.0, v1.2.0);
#   - project: a repository (with a bare local `origin`) that vendors libfoo 1.0.0 under
#     deps/libfoo, next to its own build file deps/libfoo/libfoo.gyp;
# then runs `check`, `update --dry-run --diff` and `update`, and shows the branch and commit.
#
# Usage: scripts/demo.sh            (builds deps-update with cargo)
#        DEPS_UPDATE=path/to/deps-update scripts/demo.sh
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${DEPS_UPDATE:-}" ]; then
  # Ask cargo where it put the binary: `CARGO_TARGET_DIR` or a config may move it.
  DEPS_UPDATE=$(cargo build --quiet --manifest-path "$here/Cargo.toml" --bin deps-update \
    --message-format=json-render-diagnostics |
    sed -n 's/.*"executable":"\([^"]*deps-update\)".*/\1/p' | tail -n 1)
  [ -x "$DEPS_UPDATE" ] || { echo "demo.sh: cargo built no deps-update binary" >&2; exit 1; }
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/deps-update-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The throwaway repositories get their own identity; your git configuration is not touched.
export GIT_AUTHOR_NAME="Demo" GIT_AUTHOR_EMAIL="demo@example.com"
export GIT_COMMITTER_NAME="Demo" GIT_COMMITTER_EMAIL="demo@example.com"
export DEPS_UPDATE_CACHE_DIR="$work/cache" NO_COLOR=1
quiet() { "$@" >/dev/null 2>&1; }
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

# 1. Upstream: three releases of libfoo.
mkdir -p "$work/upstream/include"
cd "$work/upstream"
quiet git init -b main
release() {
  printf '#define FOO_VERSION "%s"\n' "$1" > include/foo.h
  printf 'int foo(void) { return %s; }\n' "$2" > foo.c
  [ -n "${3:-}" ] && printf '%s\n' "$3" > "$4"
  quiet git add -A
  quiet git commit -m "libfoo $1"
  quiet git tag -a "v$1" -m "libfoo $1"
}
printf 'libfoo, a demo library\n' > README
release 1.0.0 1
release 1.1.0 2 "int bar(void) { return 1; }" bar.c
git rm -q README && echo "BSD-3-Clause" > LICENSE && git add LICENSE
release 1.2.0 3
quiet git clone --bare "$work/upstream" "$work/upstream.git"

# 2. The project: vendors libfoo 1.0.0, with a build file of its own, pushed to `origin`.
mkdir -p "$work/project"
cd "$work/project"
quiet git init -b main
mkdir -p deps/libfoo
git -C "$work/upstream" archive v1.0.0 | tar -x -C deps/libfoo
printf "{ 'targets': [ { 'target_name': 'foo', 'sources': [ 'foo.c' ] } ] }\n" > deps/libfoo/libfoo.gyp
cat > deps.toml <<EOF
# Vendored dependencies of the demo project.
[deps.libfoo]
path = "deps/libfoo"
source = "git"
url = "file://$work/upstream.git"
tag = "v{version}"
version = "1.0.0"  # deps-update rewrites this line, and keeps this comment
version-file = { path = "include/foo.h", regex = '#define FOO_VERSION "([^"]+)"' }
keep = ["libfoo.gyp"]
EOF
quiet git add -A
quiet git commit -m "Vendor libfoo 1.0.0"
quiet git clone --bare . "$work/origin.git"
quiet git remote add origin "$work/origin.git"
quiet git fetch origin
quiet git branch --set-upstream-to origin/main
echo "work in progress" > notes.txt   # uncommitted work: deps-update leaves it alone

# 3. The tour.
say deps-update check
"$DEPS_UPDATE" check
say deps-update update libfoo --dry-run --diff
"$DEPS_UPDATE" update libfoo --dry-run --diff
say deps-update libfoo
"$DEPS_UPDATE" libfoo
say git log -1 --stat deps-update/libfoo
git --no-pager log -1 --stat deps-update/libfoo
say git diff main deps-update/libfoo -- deps.toml
git --no-pager diff main deps-update/libfoo -- deps.toml
say git status --short '   # your checkout: still on main, notes.txt untouched'
git status --short
git rev-parse --abbrev-ref HEAD
