# Sourced by scripts/demo and scripts/test: make .venv with Python >= 3.11 when absent, install the project.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ ! -x .venv/bin/python ]; then
  python=""
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      python="$candidate"
      break
    fi
  done
  if [ -z "$python" ]; then
    echo "需要 Python 3.11 或更新版本（未找到）" >&2
    exit 2
  fi
  "$python" -m venv .venv
fi
# Reinstall only when the project's requirements changed since the last install.
stamp=.venv/.installed-$1
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
  # -qq: errors only. setuptools warns on every editable install that maps schemas/ into the package
  # (pyproject.toml), which is expected and nothing a clerk setting up can act on.
  .venv/bin/python -m pip install -qq --disable-pip-version-check -e ".$2"
  touch "$stamp"
fi
