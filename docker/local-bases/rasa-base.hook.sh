#!/bin/sh
# mmdebstrap customize hook of tasdeed-rasa-base:py3.10 (scripts/docker-bases.sh): the machine's
# Python 3.10 (PY310, a pyenv build) copied into the root filesystem ($1) as /opt/python3.10,
# without its tests, Tk, headers or site-packages. Its RUNPATH names the pyenv folder, so
# libpython is found through ld.so.conf; the standard library is found relative to the binary.
set -eu
root=$1
: "${PY310:?PY310 is not set}"
mkdir -p "$root/opt/python3.10/bin"
cp -a "$PY310/bin/python3.10" "$root/opt/python3.10/bin/"
tar -C "$PY310" -cf - \
  --exclude=./lib/python3.10/test --exclude=./lib/python3.10/idlelib \
  --exclude=./lib/python3.10/tkinter --exclude='./lib/python3.10/config-3.10-*' \
  --exclude='./lib/python3.10/lib-dynload/_tkinter*' \
  --exclude='./lib/python3.10/site-packages/*' --exclude=./lib/pkgconfig ./lib \
  | tar -C "$root/opt/python3.10" -xf -
echo /opt/python3.10/lib > "$root/etc/ld.so.conf.d/python3.10.conf"
chroot "$root" ldconfig
for name in python3 python3.10 python; do
  ln -sf /opt/python3.10/bin/python3.10 "$root/usr/local/bin/$name"
done
# Every extension module a server needs loads on the libraries installed.
chroot "$root" python3 -c '
import bz2, ctypes, ensurepip, lzma, readline, sqlite3, ssl, sys, uuid, venv
print("python", sys.version.split()[0], "in the image; its extension modules load")'
