// Puts the device party's WebAssembly into the mini-program packages (WeChat: Brotli, which
// WXWebAssembly loads as `.wasm.br`; Alipay: gzip, read from the package and inflated with
// fflate, since the module as it is would not fit) and prints each package's size against the
// platforms' 2 MB main-package limit.
import { readFileSync, writeFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

const here = new URL(".", import.meta.url).pathname;
const wasm = readFileSync(join(here, "../device/pkg-web/mpcw_device_wasm_bg.wasm"));
const br = brotliCompressSync(wasm, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
writeFileSync(join(here, "wechat/lib/wasm/mpcw_device_wasm_bg.wasm.br"), br);
const gz = gzipSync(wasm, { level: 9 });
writeFileSync(join(here, "alipay/lib/wasm/mpcw_device_wasm_bg.wasm.gz"), gz);

const size = (dir) =>
  readdirSync(dir).reduce((sum, name) => {
    const path = join(dir, name);
    const s = statSync(path);
    if (s.isDirectory()) return name === "node_modules" ? sum : sum + size(path);
    return name.endsWith(".map") || name.endsWith(".d.ts") ? sum : sum + s.size;
  }, 0);
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log("| package | WebAssembly | whole package | limit |");
console.log("|---|---:|---:|---:|");
console.log(`| WeChat | ${kib(br.length)} (Brotli of ${kib(wasm.length)}) | ${kib(size(join(here, "wechat")))} | 2048 KiB |`);
console.log(`| Alipay | ${kib(gz.length)} (gzip of ${kib(wasm.length)}) | ${kib(size(join(here, "alipay")))} | 2048 KiB |`);
