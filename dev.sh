#!/usr/bin/env bash
# One entry point that sets up what it needs: ./dev.sh study|test|test-all|lint|setup [args]
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-$(command -v python3.11 || command -v python3)}"
VENV=.venv
STAMP="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"

setup() {
  if [ ! -f "$STAMP" ]; then
    echo "[setup] creating $VENV with $("$PY" --version) and installing the project (first run only)"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e '.[dev]'
    rm -f "$VENV"/.installed-*
    touch "$STAMP"
  fi
}

cmd="${1:-help}"
shift || true
case "$cmd" in
  setup) setup ;;
  study) setup; exec "$VENV/bin/python" -m study.run --space aux_kl "$@" ;;
  lint) setup; "$VENV/bin/ruff" check . && "$VENV/bin/ruff" format --check . ;;
  test) setup; "$VENV/bin/ruff" check . && "$VENV/bin/ruff" format --check . \
          && exec "$VENV/bin/python" -m pytest -m "not slow" "$@" ;;
  test-all) setup; "$VENV/bin/ruff" check . && "$VENV/bin/ruff" format --check . \
          && exec "$VENV/bin/python" -m pytest "$@" ;;
  *) echo "usage: ./dev.sh study [study.run flags] | test | test-all | lint | setup"; exit 2 ;;
esac
