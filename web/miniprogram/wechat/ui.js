// What the shared pages need of WeChat's interface.
export const ui = {
  navigate: (url) => wx.navigateTo({ url }),
  toast: (text) => wx.showToast({ title: String(text).slice(0, 40), icon: "none" }),
};
