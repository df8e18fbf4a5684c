# Sourced by bin/serve and bin/test: a project-local virtualenv with the given requirements.
VENV="${VENV:-$PWD/.venv}"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.installed-$(cat "$@" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$1"
  touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
