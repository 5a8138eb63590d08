import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The channel every change to an API key is announced on: the key's id, or `*` when the table was truncated. */
export const API_KEY_CHANGED_CHANNEL = 'api_key_changed';

/**
 * Every change to an API key that could make a request it authenticated answer otherwise (revoked, deleted, its role
 * or tenant changed, the table emptied) is announced, so that a process holding what keys mean (the API's key cache,
 * ApiKeyLookup) forgets that key as the change commits. A new key needs no announcement: nothing is cached about a
 * key that did not exist.
 */
export class ApiKeyChangeNotify1764130000000 implements MigrationInterface {
  name = 'ApiKeyChangeNotify1764130000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION announce_api_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'TRUNCATE' THEN
          PERFORM pg_notify('${API_KEY_CHANGED_CHANNEL}', '*');
          RETURN NULL;
        END IF;
        PERFORM pg_notify('${API_KEY_CHANGED_CHANNEL}', OLD.id::text);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER api_keys_announce_changed AFTER UPDATE OR DELETE ON api_keys
      FOR EACH ROW EXECUTE FUNCTION announce_api_key_changed()`);
    await q.query(`
      CREATE TRIGGER api_keys_announce_truncated AFTER TRUNCATE ON api_keys
      FOR EACH STATEMENT EXECUTE FUNCTION announce_api_key_changed()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER api_keys_announce_truncated ON api_keys`);
    await q.query(`DROP TRIGGER api_keys_announce_changed ON api_keys`);
    await q.query(`DROP FUNCTION announce_api_key_changed()`);
  }
}
