#!/usr/bin/env bash
# Fill docker/wheelhouse with every wheel the images install (`make wheelhouse`), so that
# `docker build` downloads nothing. pip download fetches the distributions (torch's CPU
# build, as scripts/setup-core.sh installs it); anything that came as a source archive is
# built into a wheel here, on the host, with the same Python as the image's.
#   py311/  docker/Dockerfile (Python 3.11: gateway, billing, actions, messaging)
#   py310/  docker/Dockerfile.rasa on a local Python 3.10 base (unused with rasa/rasa:3.6.21)
#   fonts/  DejaVu Sans for docker/Dockerfile (the chat receipt image)
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
# Markers such as python_full_version < "3.11.3" are decided by the interpreter that
# downloads: also fill with Debian bookworm's own python3 (3.11.2, the Python of the local
# base image that scripts/docker-bases.sh makes) when it is another 3.11 than .venv's.
for py in ${WHEELHOUSE_ALSO_PY311-/usr/bin/python3}; do
  if "$py" -c 'import sys, pip; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null \
    && [ "$("$py" -V)" != "$(.venv/bin/python -V)" ]; then
    fill "$py" "$OUT/py311"
  fi
done

# The chat receipt's font (chat/receipt_image.py draws Arabic with DejaVu Sans): slim base
# images have no fonts, and the image build must not download, so it comes from here too
# (Debian's fonts-dejavu-core on the host; its licence with it).
mkdir -p "$OUT/fonts"
font=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
if [ ! -f "$font" ]; then
  echo "fill-wheelhouse: MISSING $font: apt-get install fonts-dejavu-core" >&2
  exit 1
fi
cp "$font" "$OUT/fonts/"
cp /usr/share/doc/fonts-dejavu-core/copyright "$OUT/fonts/DejaVuSans.copyright" 2>/dev/null || true

if [ "${WHEELHOUSE_RASA:-1}" = 1 ]; then
  echo "rasa==$RASA_VERSION" > "$OUT/py310/requirements.txt"
  fill .venv-rasa/bin/python "$OUT/py310"
fi
