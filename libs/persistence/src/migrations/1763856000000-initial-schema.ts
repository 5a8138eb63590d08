import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1763856000000 implements MigrationInterface {
  name = 'InitialSchema1763856000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        key_hash text NOT NULL UNIQUE,
        key_prefix text NOT NULL,
        role text NOT NULL CHECK (role IN ('member', 'admin')),
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE nodes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        datacenter text NOT NULL,
        status text NOT NULL CHECK (status IN ('online', 'offline', 'maintenance')),
        cpus integer NOT NULL CHECK (cpus > 0),
        memory_mb integer NOT NULL CHECK (memory_mb > 0),
        storage_gb integer NOT NULL CHECK (storage_gb > 0),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE templates (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        os_family text NOT NULL CHECK (os_family IN ('linux', 'windows')),
        disk_size_gb integer NOT NULL CHECK (disk_size_gb > 0),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE vms (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        hostname text NOT NULL,
        label text,
        note text,
        cpus integer NOT NULL CHECK (cpus > 0),
        memory_mb integer NOT NULL CHECK (memory_mb > 0),
        node_id uuid NOT NULL REFERENCES nodes(id),
        template_id uuid REFERENCES templates(id),
        status text NOT NULL CHECK (status IN ('creating', 'stopped', 'running', 'error')),
        locked boolean NOT NULL DEFAULT false,
        current_operation_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_vms_tenant_hostname UNIQUE (tenant_id, hostname)
      )`);
    await q.query(`CREATE INDEX ix_vms_node ON vms (node_id)`);
    await q.query(`
      CREATE TABLE disks (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        node_id uuid NOT NULL REFERENCES nodes(id),
        vm_id uuid REFERENCES vms(id) ON DELETE SET NULL,
        position integer CHECK (position >= 0),
        size_gb integer NOT NULL CHECK (size_gb > 0),
        template_id uuid REFERENCES templates(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_disks_vm_position UNIQUE (vm_id, position)
      )`);
    await q.query(`
      CREATE TABLE operations (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        vm_id uuid,
        type text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelling',
          'cancelled', 'compensating', 'compensated', 'stuck')),
        workflow_id text NOT NULL UNIQUE,
        request jsonb NOT NULL,
        steps jsonb NOT NULL DEFAULT '[]'::jsonb,
        error jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    await q.query(`CREATE INDEX ix_operations_tenant_created ON operations (tenant_id, created_at DESC)`);
    await q.query(`CREATE INDEX ix_operations_vm_created ON operations (vm_id, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['operations', 'disks', 'vms', 'templates', 'nodes', 'api_keys', 'tenants']) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
