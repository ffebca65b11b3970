#!/bin/sh
# get-uv.sh VERSION DEST: puts the uv binary of that version (from PyPI, with pip) at DEST,
# one file that every checkout of this user shares, so a fresh clone makes its .venv with uv
# at once. The interpreter's own pip does it when it has one (--target: a plain download,
# allowed where the system Python is externally managed), else a throwaway venv's pip (its
# ensurepip costs ~10 s of CPU, once). Built aside and renamed into place, so two builds at
# once cannot leave half a binary.
set -eu
version=$1 dest=$2
python=${PYTHON:-python3}
[ -x "$dest" ] && exit 0
mkdir -p "$(dirname "$dest")"
tmp=$(mktemp -d "$dest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export PIP_ROOT_USER_ACTION=ignore  # as root, pip writes only into our temporary directory
pip_install="install --quiet --disable-pip-version-check --no-compile --no-deps uv==$version"
if "$python" -m pip --version >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    "$python" -m pip $pip_install --target "$tmp/lib"
    built="$tmp/lib/bin/uv"
else
    "$python" -m venv "$tmp/venv"
    # shellcheck disable=SC2086
    "$tmp/venv/bin/pip" $pip_install
    built="$tmp/venv/bin/uv"
fi
"$built" --version >/dev/null
mv -f "$built" "$dest"
