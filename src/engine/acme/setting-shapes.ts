/**
 * The shapes an ACME e-mail and directory URL may take, for `inlets http server` and for
 * `inletsctl create` (which writes them into a systemd unit's ExecStart, so nothing that systemd
 * or a shell reads specially gets through: spaces, quotes, `%`, `$`, `;`, `\`).
 */
export const ACME_EMAIL = /^[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/;
export const ACME_DIRECTORY_URL = /^https?:\/\/[A-Za-z0-9._~:/?#@!&()*+,=-]+$/;
