#!/usr/bin/env bash
# Packs the npm package (building it first, via prepack) to target/pack/d1-session-manager.tgz.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target/pack
tarball=$(npm pack --silent --pack-destination target/pack | tail -n 1)
mv "target/pack/$tarball" target/pack/d1-session-manager.tgz
