import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An append-only log of operation state changes, written by a trigger so that no code path can change an
 * operation without a matching event. The server-sent event stream reads it in id order; the id is the
 * SSE event id, so a client resumes with Last-Event-ID. Also: the deadline of each operation.
 */
export class OperationEvents1763910000000 implements MigrationInterface {
  name = 'OperationEvents1763910000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE operations ADD COLUMN deadline_at timestamptz`);
    await q.query(`
      CREATE TABLE operation_events (
        id bigserial PRIMARY KEY,
        tenant_id uuid NOT NULL,
        operation_id uuid NOT NULL,
        status text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX ix_operation_events_tenant ON operation_events (tenant_id, id)`);
    await q.query(`
      CREATE FUNCTION record_operation_event() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
          INSERT INTO operation_events (tenant_id, operation_id, status) VALUES (NEW.tenant_id, NEW.id, NEW.status);
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER operations_record_event AFTER INSERT OR UPDATE OF status ON operations
      FOR EACH ROW EXECUTE FUNCTION record_operation_event()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS operations_record_event ON operations`);
    await q.query(`DROP FUNCTION IF EXISTS record_operation_event()`);
    await q.query(`DROP TABLE IF EXISTS operation_events`);
    await q.query(`ALTER TABLE operations DROP COLUMN IF EXISTS deadline_at`);
  }
}
