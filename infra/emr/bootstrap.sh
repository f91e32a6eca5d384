#!/bin/bash
# EMR bootstrap action: install the job's locked dependencies for the Python that runs it, from the wheels shipped
# beside this script, never from PyPI: every package is pinned and hash-checked (requirements/cluster.txt).
# Args: <s3 URI of the locked requirements> <s3 URI of the wheels zip> <python, e.g. /usr/bin/python3.11>
set -euo pipefail
REQUIREMENTS_URI="$1"
WHEELS_URI="$2"
PYTHON="${3:-/usr/bin/python3.11}"
WORK=$(mktemp -d /tmp/flight-kpis-bootstrap.XXXXXX)

aws s3 cp --quiet "$REQUIREMENTS_URI" "$WORK/requirements.txt"
aws s3 cp --quiet "$WHEELS_URI" "$WORK/wheels.zip"
"$PYTHON" -m zipfile -e "$WORK/wheels.zip" "$WORK/wheels"
# emr-7's python3.11 comes without pip: pip runs from its own locked wheel, which the lock ships for this purpose.
PIP_WHEEL=$(ls "$WORK"/wheels/pip-*-py3-none-any.whl)
sudo "$PYTHON" "$PIP_WHEEL/pip" install --quiet --no-cache-dir --disable-pip-version-check \
  --no-index --find-links "$WORK/wheels" --require-hashes -r "$WORK/requirements.txt"
rm -rf "$WORK"
echo "job dependencies installed for $PYTHON from the shipped wheels"
