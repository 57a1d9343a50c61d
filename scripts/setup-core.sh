#!/usr/bin/env bash
# Create the core virtual environment (.venv, Python 3.11+) and install Tasdeed into it.
# camel-tools depends on torch: install the CPU build first so pip does not pull the
# multi-gigabyte CUDA build. A wheel on local disk (pip's find-links) is preferred;
# otherwise PyTorch's CPU index is used (TORCH_CPU_INDEX overrides it).
set -euo pipefail
VENV=${VENV:-.venv}
TORCH_VERSION=2.13.0

find_python() {
  for cand in python3.11 python3.12 python3.13 python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$cand"; return 0
    fi
  done
  if command -v uv >/dev/null; then uv python install 3.11 >&2 && uv python find 3.11 && return 0; fi
  echo "setup-core: MISSING Python 3.11+ (install it, or install uv and rerun)" >&2; return 1
}

if [ ! -x "$VENV/bin/python" ]; then
  PY=$(find_python)
  echo "setup-core: creating $VENV with $PY" >&2
  "$PY" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip --quiet --disable-pip-version-check"
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  # "+cpu" is the CPU build's local version: found on local disk (find-links) or on
  # PyTorch's CPU index; PyPI itself only has the CUDA build.
  $PIP install "torch==$TORCH_VERSION+cpu" 2>/dev/null \
    || $PIP install "torch==$TORCH_VERSION+cpu" \
      --extra-index-url "${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"
fi
$PIP install -e '.[dev]'
echo "setup-core: $VENV ready" >&2
