import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Anti-affinity groups (Gigas segregation): VMs of one group never share a node. A VM may be in several. */
export class AntiAffinityGroups1764070000000 implements MigrationInterface {
  name = 'AntiAffinityGroups1764070000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE anti_affinity_groups (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        name text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
        description text,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_anti_affinity_groups_tenant_name UNIQUE (tenant_id, name)
      )`);
    await q.query(`
      CREATE TABLE anti_affinity_members (
        group_id uuid NOT NULL REFERENCES anti_affinity_groups(id) ON DELETE CASCADE,
        vm_id uuid NOT NULL REFERENCES vms(id) ON DELETE CASCADE,
        added_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (group_id, vm_id)
      )`);
    await q.query(`CREATE INDEX ix_anti_affinity_members_vm ON anti_affinity_members (vm_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS anti_affinity_members`);
    await q.query(`DROP TABLE IF EXISTS anti_affinity_groups`);
  }
}
