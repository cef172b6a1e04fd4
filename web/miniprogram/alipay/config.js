// The signing server this mini-program talks to (a request domain configured for the app in
// Alipay open platform).
export const SERVER = "https://wallet.example.cn";
