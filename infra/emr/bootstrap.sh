#!/bin/bash
# EMR bootstrap action: install the job's pinned runtime dependencies for the Python that runs it.
# Args: <s3 URI of requirements.txt> <python, e.g. /usr/bin/python3.11>
set -euo pipefail
REQUIREMENTS_URI="$1"
PYTHON="${2:-/usr/bin/python3.11}"
REQUIREMENTS=/tmp/flight-kpis-requirements.txt

aws s3 cp "$REQUIREMENTS_URI" "$REQUIREMENTS"
if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
  # emr-7 (Amazon Linux 2023) ships python3.11 without pip; its own package brings it.
  sudo dnf install -y -q python3.11-pip || sudo "$PYTHON" -m ensurepip
fi
sudo "$PYTHON" -m pip install --quiet --no-cache-dir --disable-pip-version-check -r "$REQUIREMENTS"
echo "job dependencies installed for $PYTHON"
