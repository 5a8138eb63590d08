import { createHash, randomBytes } from 'node:crypto';

const API_KEY_PREFIX = 'vmo_';

/** A new secret API key; shown once, stored only as its hash. */
export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(24).toString('base64url');
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A key this API generated: `vmo_` and 32 random characters (192 bits). */
const GENERATED_KEY = /^vmo_[A-Za-z0-9_-]{32}$/;

/**
 * The first characters of a key, safe to store and show, so a user can tell their keys apart: of a generated key,
 * `vmo_` and 6 of its 32 random characters; of a key an operator chose (any length), at most a quarter of it and
 * never more than 4 characters, then "…".
 */
export function apiKeyDisplayPrefix(key: string): string {
  if (GENERATED_KEY.test(key)) return key.slice(0, API_KEY_PREFIX.length + 6);
  return `${key.slice(0, Math.min(4, Math.floor(key.length / 4)))}…`;
}
