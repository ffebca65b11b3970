#!/bin/sh
# The lock files: every package the project installs, pinned to one version with the hashes
# of its files, so that every machine installs what the last run of this script chose.
#   requirements-dev.txt  runtime + dev: what `make` installs into .venv (with uv, --no-deps)
#   requirements.txt      runtime only, the same versions: for a deployment
#
#   make lock                              after editing the lists in pyproject.toml: keeps
#                                          every pin that still fits, adds what is new
#   make lock LOCK_ARGS='--upgrade-package NAME'   move one package (and what it needs)
#   make lock LOCK_ARGS=--upgrade          move everything to the newest releases that fit
#   sh scripts/lock.sh --check             (run by `make`, offline) fail when pyproject.toml
#                                          asks for a package the locks lack or pin elsewhere
#
# The locks are universal (any OS, Python >= 3.11). `make lock` runs this with the Makefile's
# pinned uv (UV=...); run by hand, it takes the uv on PATH.
set -eu
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--check" ]; then
    exec "${PYTHON:-.venv/bin/python}" - requirements-dev.txt requirements.txt <<'EOF'
"""Each requirement in pyproject.toml (dev extra included) is pinned in the lock, in range."""
import sys
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def pins(path: str) -> dict[str, str]:
    found = {}
    with open(path) as lock:
        for line in lock:
            if line[:1].isalnum():  # "name==1.2 ; marker \" (hashes and comments are indented)
                name, _, version = line.split(";")[0].strip(" \\\n").partition("==")
                found[canonicalize_name(name)] = version
    return found


with open("pyproject.toml", "rb") as f:
    project = tomllib.load(f)["project"]
dev_lock, runtime_lock = sys.argv[1:3]
wanted = {
    dev_lock: project["dependencies"] + project["optional-dependencies"]["dev"],
    runtime_lock: project["dependencies"],
}
problems = []
for path, requirements in wanted.items():
    pinned = pins(path)
    for text in requirements:
        requirement = Requirement(text)
        if requirement.marker and not requirement.marker.evaluate():
            continue
        version = pinned.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{path} lacks {text}")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{path} pins {requirement.name}=={version}, pyproject wants {text}")
if problems:
    print("The locks do not match pyproject.toml; run: make lock", file=sys.stderr)
    print("\n".join(f"    {problem}" for problem in problems), file=sys.stderr)
    sys.exit(1)
EOF
fi

UV=${UV:-uv}
compile() {
    "$UV" pip compile --quiet --universal --python-version 3.11 --generate-hashes \
        --custom-compile-command "make lock" pyproject.toml "$@"
}
compile --extra dev -o requirements-dev.txt "$@"
# The runtime lock takes its versions from the dev lock, so the two never disagree.
compile -c requirements-dev.txt -o requirements.txt
