#!/usr/bin/env bash
# The one Python install step, shared by `make setup` (the venv, with the test requirements) and the
# Dockerfile (the image, runtime requirements only), so CI runs exactly the command the image build runs.
#
#   scripts/install.sh PYTHON REQUIREMENTS_FILE...
#   scripts/install.sh .venv/bin/python requirements-dev.txt     (runtime + test lock: make setup / CI)
#   scripts/install.sh /opt/venv/bin/python requirements.txt     (runtime lock: the Docker image)
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 PYTHON REQUIREMENTS_FILE..." >&2
  exit 2
fi
python=$1
shift
args=()
for file in "$@"; do
  args+=(--requirement "$file")
done
# --require-hashes: every package pinned with its sha256 (lock files compiled by `make lock`).
"$python" -m pip install --no-cache-dir --quiet --disable-pip-version-check --require-hashes "${args[@]}"
