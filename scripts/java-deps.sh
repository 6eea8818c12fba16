#!/usr/bin/env bash
# Installs a Java runtime for the optional Spark engine (make test-spark) when `java` is missing.
# Needs root (or sudo) and Debian/Ubuntu's apt; otherwise says what to install and fails.
set -euo pipefail
command -v java >/dev/null 2>&1 && exit 0
echo "java-deps: installing openjdk-17-jre-headless"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
else
  echo "java-deps: please install a Java 17 runtime (e.g. openjdk-17-jre-headless)" >&2
  exit 1
fi
