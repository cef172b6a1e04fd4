# Sourced by scripts/test: builds what the JavaScript tests run.
#
# - wasm-bindgen-cli, at the version of the wasm-bindgen crate in Cargo.lock (the two must
#   match), installed from crates.io into target/tools unless it is there already;
# - the device party (web/device) for wasm32-unknown-unknown, and its JavaScript bindings for
#   Node.js (web/device/pkg-node) and for browsers (web/device/pkg-web);
# - the TypeScript SDKs (web/sdk for devices, web/dapp for Dapps), with their locked npm
#   packages.

mpcw_wb_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)"
mpcw_wb="target/tools/bin/wasm-bindgen"
if [ ! -x "$mpcw_wb" ] || [ "$("$mpcw_wb" --version | awk '{ print $2 }')" != "$mpcw_wb_version" ]; then
    echo "== installing wasm-bindgen-cli $mpcw_wb_version"
    cargo install --quiet wasm-bindgen-cli --version "=$mpcw_wb_version" --root target/tools
fi

echo "== building the device party for WebAssembly and its JavaScript bindings"
cargo build --quiet -p mpcw-device-wasm --target wasm32-unknown-unknown --release
mpcw_wasm=target/wasm32-unknown-unknown/release/mpcw_device_wasm.wasm
"$mpcw_wb" --target nodejs --out-dir web/device/pkg-node "$mpcw_wasm"
"$mpcw_wb" --target web --out-dir web/device/pkg-web "$mpcw_wasm"

echo "== building the TypeScript SDKs"
for mpcw_pkg in web/sdk web/dapp; do
    (cd "$mpcw_pkg" && npm ci --no-audit --no-fund --silent && npm run --silent build)
done
