import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Idempotency-Key support: a key names one operation per tenant; the request hash tells a replay from a misuse. */
export class OperationIdempotency1763900000000 implements MigrationInterface {
  name = 'OperationIdempotency1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE operations ADD COLUMN idempotency_key text, ADD COLUMN request_hash text`);
    await q.query(
      `CREATE UNIQUE INDEX uq_operations_tenant_idempotency_key ON operations (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS uq_operations_tenant_idempotency_key`);
    await q.query(`ALTER TABLE operations DROP COLUMN IF EXISTS request_hash, DROP COLUMN IF EXISTS idempotency_key`);
  }
}
