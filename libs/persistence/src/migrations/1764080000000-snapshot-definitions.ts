import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Snapshot definitions (Erigones define/snapshot): a cron schedule and a retention per VM disk, each run by a
 * Temporal Schedule. A deleted definition — by the API, or with its VM or disk — leaves its schedule's id in
 * snapshot_schedules_to_delete until the schedule is gone from Temporal (the API deletes it at once; the
 * reconciler retries what is left).
 */
export class SnapshotDefinitions1764080000000 implements MigrationInterface {
  name = 'SnapshotDefinitions1764080000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE snapshot_definitions (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        vm_id uuid NOT NULL REFERENCES vms(id) ON DELETE CASCADE,
        disk_id uuid NOT NULL REFERENCES disks(id) ON DELETE CASCADE,
        name text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$'),
        schedule text NOT NULL,
        retention integer NOT NULL CHECK (retention BETWEEN 1 AND 1000),
        active boolean NOT NULL DEFAULT true,
        fsfreeze boolean NOT NULL DEFAULT false,
        on_busy text NOT NULL DEFAULT 'retry' CHECK (on_busy IN ('skip', 'retry')),
        description text,
        schedule_id text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_snapshot_definitions_disk_name UNIQUE (disk_id, name)
      )`);
    await q.query(`CREATE INDEX ix_snapshot_definitions_vm ON snapshot_definitions (vm_id)`);
    await q.query(`CREATE INDEX ix_snapshots_definition ON snapshots (definition_id, created_at) WHERE definition_id IS NOT NULL`);
    await q.query(`UPDATE snapshots SET definition_id = NULL WHERE definition_id IS NOT NULL`);
    await q.query(
      `ALTER TABLE snapshots ADD CONSTRAINT fk_snapshots_definition FOREIGN KEY (definition_id) REFERENCES snapshot_definitions(id) ON DELETE SET NULL`,
    );
    await q.query(`
      CREATE TABLE snapshot_schedules_to_delete (
        schedule_id text PRIMARY KEY,
        definition_id uuid NOT NULL,
        queued_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE FUNCTION queue_snapshot_schedule_deletion() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO snapshot_schedules_to_delete (schedule_id, definition_id) VALUES (OLD.schedule_id, OLD.id) ON CONFLICT DO NOTHING;
        RETURN OLD;
      END $$`);
    await q.query(`
      CREATE TRIGGER snapshot_definition_deleted AFTER DELETE ON snapshot_definitions
        FOR EACH ROW EXECUTE FUNCTION queue_snapshot_schedule_deletion()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS snapshot_definition_deleted ON snapshot_definitions`);
    await q.query(`DROP FUNCTION IF EXISTS queue_snapshot_schedule_deletion()`);
    await q.query(`DROP TABLE IF EXISTS snapshot_schedules_to_delete`);
    await q.query(`ALTER TABLE snapshots DROP CONSTRAINT IF EXISTS fk_snapshots_definition`);
    await q.query(`DROP INDEX IF EXISTS ix_snapshots_definition`);
    await q.query(`DROP TABLE IF EXISTS snapshot_definitions`);
  }
}
