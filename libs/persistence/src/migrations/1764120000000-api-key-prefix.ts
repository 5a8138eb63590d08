import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The shown prefix of a key an operator chose used to be its first 10 characters: most of a short key, in clear.
 * Such prefixes (any that is not `vmo_` and 6 characters of a generated key) are cut to 2 characters and "…"
 * (the key's length is not known any more; new ones show at most a quarter of the key, see apiKeyDisplayPrefix).
 */
export class ApiKeyPrefix1764120000000 implements MigrationInterface {
  name = 'ApiKeyPrefix1764120000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE api_keys SET key_prefix = left(key_prefix, 2) || '…' WHERE key_prefix !~ '^vmo_[A-Za-z0-9_-]{6}$'`);
  }

  async down(): Promise<void> {
    // What was cut is not kept anywhere: nothing to restore.
  }
}
