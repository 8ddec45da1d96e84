#!/usr/bin/env bash
# The pipeline's signing key: created once per checkout under .ddr/keys (never committed) and trusted in the
# project's keyring (keys/keyring.json: public keys only, committed so that a clone verifies the releases).
# Maintainers publish official releases with their own key: ddr registry publish ... --key keys/<you>.key
set -euo pipefail
key=$1 keyring=$2
if [ ! -f "$key" ]; then
  ddr registry keygen --out "$key" --keyring "$keyring" --name "pipeline ($(hostname))"
elif [ ! -f "$keyring" ]; then  # a key made before the keyring moved, or a keyring deleted by hand
  ddr registry trust "$key.pub" --keyring "$keyring" --name "pipeline ($(hostname))"
fi
