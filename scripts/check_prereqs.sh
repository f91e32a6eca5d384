#!/usr/bin/env bash
# Stops with one actionable line when a prerequisite of the local job or the tests is missing.
# Usage: scripts/check_prereqs.sh python java [node]
set -euo pipefail

fail() { echo "error: $*" >&2; exit 1; }

for need in "$@"; do
  case "$need" in
    python)
      py="${PYTHON:-python3}"
      command -v "$py" >/dev/null 2>&1 || fail "Python 3.10 or 3.11 is required ('$py' not found): install it or run 'make PYTHON=/path/to/python3.11 ...'"
      "$py" -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 11) else 1)' \
        || fail "Python 3.10 or 3.11 is required (found $("$py" -V 2>&1)); PySpark 3.5 and EMR 7.13 run 3.11: run 'make PYTHON=python3.11 ...'"
      "$py" -c 'import venv, ensurepip' 2>/dev/null || fail "Python's venv module is missing: install it (Debian: apt-get install python3-venv)"
      ;;
    java)
      command -v java >/dev/null 2>&1 || fail "Java 17 or later is required by Spark and was not found: install it (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
      version=$(java -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')
      major=${version%%.*}
      [ "$major" = "1" ] && major=$(echo "$version" | cut -d. -f2)
      [ -n "$major" ] && [ "$major" -ge 17 ] 2>/dev/null || fail "Java 17 or later is required by Spark (found '${version:-unknown}'): install openjdk-17 and put it first on PATH"
      ;;
    node)
      command -v node >/dev/null 2>&1 || fail "Node.js 18 or later is required by the AWS CDK CLI and was not found: install it (Debian: apt-get install nodejs npm)"
      command -v npm >/dev/null 2>&1 || fail "npm is required to install the pinned AWS CDK CLI and was not found: install it (Debian: apt-get install npm)"
      major=$(node -p 'process.versions.node.split(".")[0]')
      [ "$major" -ge 18 ] || fail "Node.js 18 or later is required by the AWS CDK CLI (found $(node --version))"
      ;;
    *) fail "unknown prerequisite '$need'";;
  esac
done
