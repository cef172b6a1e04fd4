// Where sealed secrets are kept. Injected, like `fetch`: a browser passes `localStorage`'s
// wrapper, a mini-program one over wx.setStorageSync / my.setStorageSync, tests a `Map`.
// Only sealed secrets (Argon2id + XChaCha20-Poly1305) and public facts are stored.

/** A small key-value store of strings. */
export interface KeyValueStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  remove(key: string): Promise<void>;
}

/** A store in memory (tests, or a page that keeps nothing). */
export class MemoryStore implements KeyValueStore {
  private readonly map = new Map<string, string>();
  async get(key: string) {
    return this.map.get(key) ?? null;
  }
  async set(key: string, value: string) {
    this.map.set(key, value);
  }
  async remove(key: string) {
    this.map.delete(key);
  }
}

/** A store over the Web Storage API (`localStorage` in a browser). */
export function webStorage(storage: {
  getItem(k: string): string | null;
  setItem(k: string, v: string): void;
  removeItem(k: string): void;
}): KeyValueStore {
  return {
    get: async (k) => storage.getItem(k),
    set: async (k, v) => storage.setItem(k, v),
    remove: async (k) => storage.removeItem(k),
  };
}
