// The signer's words, in Chinese (the default) and English.
export const strings = {
  zh: {
    title: "mpcw 钱包", lang: "English", login: "登录", subject: "用户名", login_dev: "开发登录",
    login_note: "开发模式:以任意用户名登录。正式环境使用微信、支付宝或 OpenID Connect 登录。",
    wallet: "钱包", password: "密码", recovery_password: "恢复密码", scheme: "签名算法",
    create: "创建 2-of-3 钱包", wallet_id: "钱包", recovery_secret: "恢复密钥(请另行保存)",
    recovery_note: "设备丢失时,用它和恢复密码找回钱包。它已用恢复密码加密。",
    addresses: "地址", copy: "复制", copied: "已复制", request: "签名请求", from: "来自",
    approve: "批准并签名", reject: "拒绝", rejected: "已拒绝", signed: "已签名",
    logged_in: "已登录:", creating: "正在创建钱包…", keygen: "正在分布式生成密钥…",
    messages: "协议消息:", done: "完成", preparing: "正在准备…", signing: "正在签名…",
    opening: "正在打开请求…", need_password: "请输入密码",
    sender: "付款方", recipient: "收款方", amount: "金额", fee: "手续费",
  },
  en: {
    title: "mpcw wallet", lang: "中文", login: "Log in", subject: "User name", login_dev: "Dev login",
    login_note: "Development mode: log in as any user. Production logs in with WeChat, Alipay or OpenID Connect.",
    wallet: "Wallet", password: "Password", recovery_password: "Recovery password", scheme: "Signature scheme",
    create: "Create a 2-of-3 wallet", wallet_id: "Wallet", recovery_secret: "Recovery secret (keep it elsewhere)",
    recovery_note: "With it and the recovery password you get the wallet back if this device is lost. It is encrypted under the recovery password.",
    addresses: "Addresses", copy: "Copy", copied: "Copied", request: "Signature request", from: "From",
    approve: "Approve and sign", reject: "Reject", rejected: "Rejected", signed: "Signed",
    logged_in: "Logged in as ", creating: "Creating the wallet…", keygen: "Generating the key together…",
    messages: "Protocol messages: ", done: "Done", preparing: "Preparing…", signing: "Signing…",
    opening: "Opening the request…", need_password: "Enter the password",
    sender: "From", recipient: "To", amount: "Amount", fee: "Fee",
  },
};
