#!/usr/bin/env bash
# numpy_ae's Gradescope autograder, setup.sh: Gradescope runs it once, as root, when it builds the image,
# with this zip unpacked in /autograder/source (see numpy_ae/course/gradescope.py).
#
#   1. a Python >= 3.11: the image's, or python3.11 from apt (Ubuntu 22.04's python3 is 3.10);
#   2. a virtual environment $SRC/venv with numpy_ae's dependencies from PyPI (requirements.txt),
#      readable by every user: the student's code runs as `nobody` and imports numpy and scipy from it;
#   3. the grader, $SRC/trusted/numpy_ae (in this zip), made readable by root only: the student's process
#      must not read the reference solution (the grader checks it, as nobody, before it runs any student
#      code, and refuses to grade when it can); every folder of it is root's alone;
#   4. a check that the grader starts.
#
# Environment, for trying the zip outside Gradescope:
#   AUTOGRADER_ROOT           instead of /autograder
#   NUMPY_AE_PYTHON           use this interpreter, which already has numpy and scipy: no venv, no download
#   NUMPY_AE_SETUP_DRY_RUN=1  check the files, print the commands, change nothing
set -euo pipefail

ROOT="${AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source"
DRY="${NUMPY_AE_SETUP_DRY_RUN:-0}"

run() {
    echo "+ $*"
    if [ "$DRY" != 1 ]; then
        "$@"
    fi
}

recent() {  # is $1 a Python >= 3.11?
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

for f in requirements.txt run_autograder assignment/assignment.json trusted/numpy_ae/__main__.py; do
    if [ ! -f "$SRC/$f" ]; then
        echo "setup.sh: $SRC/$f is missing: unpack the whole zip that 'python -m numpy_ae assignment create" \
             "NAME --out DIR --gradescope' wrote into $SRC" >&2
        exit 1
    fi
done

if [ -n "${NUMPY_AE_PYTHON:-}" ]; then
    PY="$NUMPY_AE_PYTHON"
    if ! recent "$PY" || ! "$PY" -c 'import numpy, scipy' 2>/dev/null; then
        echo "setup.sh: NUMPY_AE_PYTHON=$PY must be a Python >= 3.11 with numpy and scipy installed" >&2
        exit 1
    fi
else
    BASE=""
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null && recent "$(command -v "$candidate")"; then
            BASE="$(command -v "$candidate")"
            break
        fi
    done
    if [ -z "$BASE" ]; then
        run apt-get update
        run apt-get install -y python3.11 python3.11-venv
        BASE=/usr/bin/python3.11
    fi
    VERSION="$("$BASE" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo 3.11)"
    if ! "$BASE" -c 'import ensurepip' 2>/dev/null; then  # Ubuntu ships venv's pip apart
        run apt-get update
        run apt-get install -y "python$VERSION-venv"
    fi
    run "$BASE" -m venv "$SRC/venv"
    run "$SRC/venv/bin/python" -m pip install --no-cache-dir -r "$SRC/requirements.txt"
    run chmod -R a+rX "$SRC/venv"
    PY="$SRC/venv/bin/python"
fi

run chmod a+rx "$ROOT" "$SRC"
if [ "$(id -u)" = 0 ]; then
    run chown -R 0:0 "$SRC/trusted"
fi
run chmod -R go-rwx "$SRC/trusted"
run chmod 0755 "$SRC/run_autograder"
run env PYTHONPATH="$SRC/trusted" "$PY" -P -s -m numpy_ae assignment list
echo "setup.sh: the grader is in $SRC/trusted (readable by root only); it runs with $PY"
