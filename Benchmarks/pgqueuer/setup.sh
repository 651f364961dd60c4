#!/usr/bin/env bash
# Prepares pgqueuer 1.6.0 for `orderly bench jobs --pgqueuer DIR`: its source distribution (which ships
# tools/benchmark.py; the wheel does not) unpacked into DIR, and a venv at DIR/venv with pgqueuer,
# asyncpg and what the benchmark tool imports. Needs python3 with venv and PyPI access.
set -euo pipefail
dir=${1:-.orderly/pgqueuer}
version=1.6.0
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ ! -f "$dir/tools/benchmark.py" ]; then
    tmp=$(mktemp -d)
    python3 -m pip download -q --no-deps --no-binary :all: "pgqueuer==$version" -d "$tmp"
    tar -xzf "$tmp/pgqueuer-$version.tar.gz" -C "$tmp"
    cp -R "$tmp/pgqueuer-$version/." "$dir/"
    rm -rf "$tmp"
fi
if [ ! -x "$dir/venv/bin/python" ]; then
    python3 -m venv "$dir/venv"
fi
"$dir/venv/bin/pip" install -q "$dir" asyncpg tqdm
"$dir/venv/bin/python" -c 'import pgqueuer, asyncpg, typer, uvloop, tabulate, tqdm' 
echo "pgqueuer $version ready in $dir (orderly bench jobs --pgqueuer $dir)"
