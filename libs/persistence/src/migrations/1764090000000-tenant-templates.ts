import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Templates a tenant makes from its VMs' system disks: the tenant's own (tenant_id), `creating` until the image
 * is captured and `deleting` while it goes. Base templates (no tenant) are everyone's. Names are unique per owner.
 */
export class TenantTemplates1764090000000 implements MigrationInterface {
  name = 'TenantTemplates1764090000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE templates ADD COLUMN tenant_id uuid REFERENCES tenants(id)`);
    await q.query(
      `ALTER TABLE templates ADD COLUMN status text NOT NULL DEFAULT 'ready' CHECK (status IN ('creating', 'ready', 'deleting'))`,
    );
    await q.query(`ALTER TABLE templates ADD COLUMN source_vm_id uuid`);
    await q.query(`ALTER TABLE templates ADD COLUMN node_id uuid REFERENCES nodes(id)`);
    await q.query(`ALTER TABLE templates ADD COLUMN description text`);
    await q.query(`ALTER TABLE templates DROP CONSTRAINT templates_name_key`);
    await q.query(
      `CREATE UNIQUE INDEX uq_templates_owner_name ON templates (coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), name)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM templates WHERE tenant_id IS NOT NULL`);
    await q.query(`DROP INDEX uq_templates_owner_name`);
    await q.query(`ALTER TABLE templates ADD CONSTRAINT templates_name_key UNIQUE (name)`);
    for (const column of ['description', 'node_id', 'source_vm_id', 'status', 'tenant_id'])
      await q.query(`ALTER TABLE templates DROP COLUMN ${column}`);
  }
}
