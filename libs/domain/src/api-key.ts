import { createHash, randomBytes } from 'node:crypto';

const API_KEY_PREFIX = 'vmo_';

/** A new secret API key; shown once, stored only as its hash. */
export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(24).toString('base64url');
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The first characters of a key, safe to store and show, so a user can tell their keys apart. */
export function apiKeyDisplayPrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + 6);
}
