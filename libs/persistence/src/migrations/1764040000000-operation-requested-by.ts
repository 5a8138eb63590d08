import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The tenant whose key asked for an operation, when it is not the tenant the operation belongs to (an
 * operator's reset of another tenant's VM): that tenant may read, wait on and cancel the operation too.
 */
export class OperationRequestedBy1764040000000 implements MigrationInterface {
  name = 'OperationRequestedBy1764040000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE operations ADD COLUMN requested_by_tenant_id uuid REFERENCES tenants(id)`);
    await q.query(
      `CREATE INDEX idx_operations_requested_by ON operations (requested_by_tenant_id, created_at) WHERE requested_by_tenant_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE operations DROP COLUMN requested_by_tenant_id`);
  }
}
