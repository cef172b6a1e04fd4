// The signing server this mini-program talks to (a request domain configured for the app in
// WeChat's console).
export const SERVER = "https://wallet.example.cn";
