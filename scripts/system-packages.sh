#!/bin/sh
# The Debian packages the project needs, installed without questions when we are root;
# otherwise the one command to run is printed and the build stops.
set -eu

missing=""
"${PYTHON:-python3}" -c "import ensurepip, venv" 2>/dev/null || missing="$missing python3-venv"
if [ -z "${DATABASE_URL:-}" ] && ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
    missing="$missing postgresql-15-postgis-3"
fi
[ -x /usr/bin/chromium ] || missing="$missing chromium"
# The map's vector tiles are cut from the OSM extract by tilemaker (README, "Maps and tiles").
command -v tilemaker >/dev/null 2>&1 || missing="$missing tilemaker"
# `make bench` drives the API with wrk, a load generator light enough to leave the CPU to us.
if [ -n "${WITH_BENCH_TOOLS:-}" ]; then
    command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
fi

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "Missing system packages. Run this once, then try again:" >&2
    echo "    sudo apt-get install -y$missing" >&2
    exit 1
fi

echo "Installing system packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing </dev/null >/dev/null
