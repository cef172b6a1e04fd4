// The mini-programs' words, Chinese (the default) and English.
export const strings = {
  zh: {
    title: "我的钱包", create: "创建我的钱包", password: "密码(保护本机的密钥份额)", creating: "正在创建密钥…",
    code_title: "恢复码", code_note: "请抄写这 12 个词并妥善保管,只显示这一次。换手机时凭它找回钱包。",
    recover: "我换了手机", settings: "设置", request: "签名请求", from: "来自", approve: "同意并签名", reject: "拒绝",
    approved: "已签名", rejected: "已拒绝", sender: "付款方", recipient: "收款方", amount: "金额", fee: "手续费",
    code: "恢复码(12 个词)", new_password: "本机新密码", recovered: "已找回", language: "English",
    first_request: "这是该应用的第一个请求:为它创建钱包(密钥分别保管,应用之间互不可见)。",
    send: "转账", review: "检查", to: "收款地址", balance: "余额", sent: "已发送", signed_only: "已签名(未广播)",
    recent: "最近交易", refresh: "刷新密钥份额", refreshed: "已刷新", receive: "收款",
    connections: "已连接的应用", revoke: "断开", none: "无", logged_in: "已登录", networks: "网络",
  },
  en: {
    title: "My wallet", create: "Create my wallet", password: "Password (protects this phone's key share)", creating: "Creating keys…",
    code_title: "Recovery code", code_note: "Write these 12 words down and keep them safe; they are shown once. On a new phone they bring the wallet back.",
    recover: "I have a new phone", settings: "Settings", request: "Signature request", from: "From", approve: "Approve and sign", reject: "Reject",
    approved: "Signed", rejected: "Rejected", sender: "Sender", recipient: "Recipient", amount: "Amount", fee: "Fee",
    code: "Recovery code (12 words)", new_password: "A new password for this phone", recovered: "Recovered", language: "中文",
    first_request: "This app's first request: make a wallet for it (each app's keys are kept apart).",
    send: "Send", review: "Review", to: "Recipient's address", balance: "Balance", sent: "Sent", signed_only: "Signed (not sent)",
    recent: "Recent", refresh: "Refresh the key shares", refreshed: "Refreshed", receive: "Receive",
    connections: "Connected apps", revoke: "Disconnect", none: "None", logged_in: "Logged in", networks: "Networks",
  },
};

/** The language kept in the platform's storage (Chinese unless the user chose English). */
export async function language(storage) {
  return (await storage.get("mpcw/lang")) === "en" ? "en" : "zh";
}
