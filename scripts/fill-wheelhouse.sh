#!/usr/bin/env bash
# Fill docker/wheelhouse with every wheel the images install (`make wheelhouse`), so that
# `docker build` downloads nothing. pip download fetches the distributions (torch's CPU
# build, as scripts/setup-core.sh installs it); anything that came as a source archive is
# built into a wheel here, on the host, with the same Python as the image's.
#   py311/  docker/Dockerfile (Python 3.11: gateway, billing, actions, messaging)
#   py310/  docker/Dockerfile.rasa on a local Python 3.10 base (unused with rasa/rasa:3.6.21)
set -euo pipefail
OUT=${WHEELHOUSE:-docker/wheelhouse}
TORCH_VERSION=2.13.0
RASA_VERSION=3.6.21
CPU_INDEX=${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}

fill() {  # fill <python> <dir>
  local py=$1 dir=$2
  local pip=("$py" -m pip --quiet --disable-pip-version-check)
  # torch's CPU build ("+cpu") is on local disk (find-links) or PyTorch's CPU index only.
  local torch
  torch=$(grep '^torch==' "$dir/requirements.txt" || true)
  if [ -n "$torch" ]; then
    "${pip[@]}" download --no-deps --dest "$dir" "$torch" 2>/dev/null \
      || "${pip[@]}" download --no-deps --dest "$dir" "$torch" --extra-index-url "$CPU_INDEX"
  fi
  "${pip[@]}" download --dest "$dir" --find-links "$dir" -r "$dir/requirements.txt"
  shopt -s nullglob
  local sdists=("$dir"/*.tar.gz "$dir"/*.zip)
  if [ ${#sdists[@]} -gt 0 ]; then
    "${pip[@]}" wheel --no-deps --wheel-dir "$dir" "${sdists[@]}"
    rm -f "${sdists[@]}"
  fi
  echo "fill-wheelhouse: $dir: $(ls "$dir"/*.whl | wc -l) wheels, $(du -sh "$dir" | cut -f1)" >&2
}

mkdir -p "$OUT/py311" "$OUT/py310"
.venv/bin/python - "$TORCH_VERSION" > "$OUT/py311/requirements.txt" <<'PY'
import sys
import tomllib

with open("pyproject.toml", "rb") as f:
    deps = tomllib.load(f)["project"]["dependencies"]
print(f"torch=={sys.argv[1]}+cpu")  # camel-tools needs torch: the CPU build
print("\n".join(deps))
PY
fill .venv/bin/python "$OUT/py311"

if [ "${WHEELHOUSE_RASA:-1}" = 1 ]; then
  echo "rasa==$RASA_VERSION" > "$OUT/py310/requirements.txt"
  fill .venv-rasa/bin/python "$OUT/py310"
fi
