#!/bin/bash
# usage: [RAW=1] build.sh NAME [cargo feature args...]
# RAW=1: the module has no wasm-bindgen (variant C, `--no-default-features --features raw`).
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
name=$1; shift
cd "$HERE/binding"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/thin-binding}"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort"
export CARGO_PROFILE_RELEASE_OPT_LEVEL=z CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_PANIC=abort CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
cargo +nightly-2026-05-20 build -q --target wasm32-unknown-unknown --release -Zbuild-std=std,panic_abort \
  --config profile.release.package.curve25519-dalek.opt-level=3 --config profile.release.package.ed25519-dalek.opt-level=3 --config profile.release.package.sha2.opt-level=3 "$@"
out="$CARGO_TARGET_DIR/out/$name"; rm -rf $out; mkdir -p $out/web $out/named
cp $CARGO_TARGET_DIR/wasm32-unknown-unknown/release/thin_binding.wasm $out/raw.wasm
WB="$ROOT/.tools/bin/wasm-bindgen"; WO="$ROOT/bindings-wasm/node_modules/.bin/wasm-opt"
if [ -n "$RAW" ]; then
  cp $out/raw.wasm $out/web/index_bg.wasm
  cp $out/raw.wasm $out/named/index_bg.wasm
else
  $WB $out/raw.wasm --target web --out-dir $out/web --out-name index
  $WB $out/raw.wasm --target web --keep-debug --out-dir $out/named --out-name index
fi
$WO -Oz --strip-debug --strip-producers $out/web/index_bg.wasm -o $out/web/index_bg.wasm
$WO -Oz -g $out/named/index_bg.wasm -o $out/named/index_bg.wasm
echo "$name: $(wc -c < $out/web/index_bg.wasm) bytes, $(gzip -9 -c $out/web/index_bg.wasm | wc -c) gzipped"
