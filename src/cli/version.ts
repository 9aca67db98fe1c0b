/** cairn's version, as reported by `cairn --version` and in the User-Agent of registry requests. */
export const VERSION = '0.1.0';
