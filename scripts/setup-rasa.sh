#!/usr/bin/env bash
# Create the Rasa environment (.venv-rasa): Rasa 3.6.21 needs Python 3.10, which is kept
# confined to this venv (the rest of Tasdeed runs on 3.11+). Finds python3.10 on PATH, in
# pyenv, or installs it with uv.
set -euo pipefail
VENV=${RASA_VENV:-.venv-rasa}
RASA_VERSION=3.6.21

find_python310() {
  if command -v python3.10 >/dev/null && python3.10 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
    command -v python3.10; return 0
  fi
  if command -v pyenv >/dev/null; then
    for v in $(pyenv versions --bare 2>/dev/null | grep '^3\.10\.' | sort -V -r); do
      echo "$(pyenv root)/versions/$v/bin/python3.10"; return 0
    done
  fi
  if command -v uv >/dev/null; then uv python install 3.10 >&2 && uv python find 3.10 && return 0; fi
  echo "setup-rasa: MISSING Python 3.10 (pyenv install 3.10, or install uv and rerun)" >&2
  return 1
}

if [ ! -x "$VENV/bin/rasa" ]; then
  PY=$(find_python310)
  echo "setup-rasa: creating $VENV with $PY" >&2
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pip<25" "setuptools<70" wheel
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "rasa==$RASA_VERSION"
fi
echo "setup-rasa: $VENV ready ($("$VENV/bin/rasa" --version 2>/dev/null | head -1))" >&2
