#!/usr/bin/env bash
# The pipeline's signing key: created once per checkout (never committed), trusted in a local keyring.
# Maintainers publish official releases with their own key: ddr registry publish ... --key keys/<you>.key
set -euo pipefail
key=$1 keyring=$2
[ -f "$key" ] || ddr registry keygen --out "$key" --keyring "$keyring" --name "pipeline ($(hostname))"
