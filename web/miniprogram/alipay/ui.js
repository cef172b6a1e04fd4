// What the shared pages need of Alipay's interface.
export const ui = {
  navigate: (url) => my.navigateTo({ url }),
  toast: (text) => my.showToast({ content: String(text).slice(0, 40), type: "none" }),
};
