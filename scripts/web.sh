# Sourced by scripts/test: builds what the JavaScript tests run.
#
# - the device party (web/device) for wasm32-unknown-unknown, and its JavaScript bindings for
#   Node.js (web/device/pkg-node) and for browsers (web/device/pkg-web), written by
#   web/bindgen (wasm-bindgen's generator at the version Cargo.toml pins for both);
# - the TypeScript SDKs (web/sdk for devices, web/dapp for Dapps), with their locked npm
#   packages;
# - the WeChat and Alipay mini-programs' lib/ folders (the SDK, the shared page logic, the
#   bindings and the WebAssembly, vendored @noble/ciphers and fflate), their sizes printed;
# - the web signer page (web/signer/dist, which the server serves at /signer/ and /bridge), and
#   for its browser tests Playwright (npm) and Debian's Chromium (installed if missing).

echo "== building the device party for WebAssembly and its JavaScript bindings"
cargo build --quiet -p mpcw-device-wasm --target wasm32-unknown-unknown --release
mpcw_wasm=target/wasm32-unknown-unknown/release/mpcw_device_wasm.wasm
cargo build --quiet -p mpcw-web-bindgen
target/debug/mpcw-web-bindgen nodejs "$mpcw_wasm" web/device/pkg-node
target/debug/mpcw-web-bindgen web "$mpcw_wasm" web/device/pkg-web

echo "== building the TypeScript SDKs"
for mpcw_pkg in web/sdk web/dapp; do
    (cd "$mpcw_pkg" && npm ci --no-audit --no-fund --silent && npm run --silent build)
done

echo "== assembling the mini-programs"
(cd web/miniprogram && npm ci --no-audit --no-fund --silent)
for mpcw_mp in wechat alipay; do
    mpcw_lib="web/miniprogram/$mpcw_mp/lib"
    rm -rf "$mpcw_lib"
    mkdir -p "$mpcw_lib/sdk" "$mpcw_lib/wasm" "$mpcw_lib/shared" "$mpcw_lib/vendor/noble-ciphers"
    cp web/sdk/dist/*.js "$mpcw_lib/sdk/"
    cp web/miniprogram/shared/*.js "$mpcw_lib/shared/"
    for mpcw_f in chacha _arx _poly1305 utils; do
        cp "web/miniprogram/node_modules/@noble/ciphers/esm/$mpcw_f.js" "$mpcw_lib/vendor/noble-ciphers/"
    done
    # Alipay inflates the module itself (WeChat's loader takes Brotli).
    if [ "$mpcw_mp" = alipay ]; then
        cp web/miniprogram/node_modules/fflate/esm/browser.js "$mpcw_lib/vendor/fflate.js"
    fi
    # The module's path is given by the loader: the bindings must not look for it by URL.
    sed "s|new URL('mpcw_device_wasm_bg.wasm', import.meta.url)|undefined|" \
        web/device/pkg-web/mpcw_device_wasm.js > "$mpcw_lib/wasm/mpcw_device_wasm.js"
done
node web/miniprogram/pack.mjs

echo "== assembling the web signer"
rm -rf web/signer/dist
mkdir -p web/signer/dist/sdk web/signer/dist/wasm web/signer/dist/vendor
cp web/signer/index.html web/signer/app.js web/signer/i18n.js web/signer/style.css web/signer/dist/
cp web/sdk/dist/*.js web/signer/dist/sdk/
cp web/device/pkg-web/mpcw_device_wasm.js web/device/pkg-web/mpcw_device_wasm_bg.wasm web/signer/dist/wasm/
# The QR code of a recovery code is drawn in the page (the code never goes to the server), with
# the Dapp SDK's pinned qrcode-generator (MIT).
cp web/dapp/node_modules/qrcode-generator/dist/qrcode.mjs web/signer/dist/vendor/
(cd web/signer && npm ci --no-audit --no-fund --silent)
# Chromium, and a Chinese font so that the page's screenshots show its Chinese.
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "wenquanyi"; then
    echo "== installing Chromium and a Chinese font (Debian packages chromium, fonts-wqy-microhei)"
    mpcw_sudo=""
    [ "$(id -u)" -ne 0 ] && mpcw_sudo="sudo"
    $mpcw_sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $mpcw_sudo apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
fi
