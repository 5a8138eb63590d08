import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Disk snapshots (manual or made by a definition) and VM network interfaces. */
export class SnapshotsAndInterfaces1763920000000 implements MigrationInterface {
  name = 'SnapshotsAndInterfaces1763920000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE snapshots (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        vm_id uuid REFERENCES vms(id) ON DELETE SET NULL,
        disk_id uuid NOT NULL REFERENCES disks(id),
        name text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
        type text NOT NULL CHECK (type IN ('manual', 'automatic')),
        note text,
        status text NOT NULL CHECK (status IN ('pending', 'ok', 'deleting', 'failed')),
        size_mb integer CHECK (size_mb >= 0),
        definition_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_snapshots_disk_name UNIQUE (disk_id, name)
      )`);
    await q.query(`CREATE INDEX ix_snapshots_vm ON snapshots (vm_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE network_interfaces (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        node_id uuid NOT NULL REFERENCES nodes(id),
        vm_id uuid REFERENCES vms(id) ON DELETE SET NULL,
        position integer CHECK (position >= 0),
        mac text NOT NULL UNIQUE CHECK (mac ~ '^([0-9a-f]{2}:){5}[0-9a-f]{2}$'),
        ip_address inet,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_network_interfaces_vm_position UNIQUE (vm_id, position)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS network_interfaces`);
    await q.query(`DROP TABLE IF EXISTS snapshots`);
  }
}
