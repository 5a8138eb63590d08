import type { MigrationInterface, QueryRunner } from 'typeorm';
import { OPERATION_EVENTS_CHANNEL } from './1764060000000-event-notify-and-read-indexes';

/** The columns an operation's final announcement carries: what the API shows of a finished operation, and its owners. */
export const ANNOUNCED_OPERATION_COLUMNS = [
  'id',
  'tenant_id',
  'requested_by_tenant_id',
  'vm_id',
  'type',
  'status',
  'workflow_id',
  'steps',
  'error',
  'children',
  'created_at',
  'updated_at',
  'deadline_at',
  'finished_at',
] as const;

/** Those that are timestamps: they go as PostgreSQL's text of them, so that a listener parses them as a read of the row would. */
export const ANNOUNCED_TIMESTAMP_COLUMNS: readonly string[] = ['created_at', 'updated_at', 'deadline_at', 'finished_at'];

/**
 * The announcement of an operation's end carries its final record: `<event id> <operation id> <tenant id> <status>
 * <record as JSON>`. A /wait answers from it instead of reading the row again once it is told (a finished record is
 * final: every write to an operation is conditional on `finished_at IS NULL`). A NOTIFY payload is at most 8,000
 * bytes: a record too large for it (a drain's hundreds of steps) goes without, and its listeners read the row.
 */
export class AnnounceFinalRecord1764140000000 implements MigrationInterface {
  name = 'AnnounceFinalRecord1764140000000';

  async up(q: QueryRunner): Promise<void> {
    const fields = ANNOUNCED_OPERATION_COLUMNS.map(
      (c) => `'${c}', NEW.${c}${ANNOUNCED_TIMESTAMP_COLUMNS.includes(c) ? '::text' : ''}`,
    ).join(', ');
    await q.query(`
      CREATE OR REPLACE FUNCTION record_operation_event() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        event_id bigint;
        payload text;
        final_record text;
      BEGIN
        IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
          INSERT INTO operation_events (tenant_id, operation_id, status) VALUES (NEW.tenant_id, NEW.id, NEW.status)
            RETURNING id INTO event_id;
          payload := event_id || ' ' || NEW.id || ' ' || NEW.tenant_id || ' ' || NEW.status;
          IF NEW.finished_at IS NOT NULL THEN
            final_record := json_build_object(${fields})::text;
            IF octet_length(payload) + 1 + octet_length(final_record) < 8000 THEN
              payload := payload || ' ' || final_record;
            END IF;
          END IF;
          PERFORM pg_notify('${OPERATION_EVENTS_CHANNEL}', payload);
        END IF;
        RETURN NEW;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION record_operation_event() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        event_id bigint;
      BEGIN
        IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
          INSERT INTO operation_events (tenant_id, operation_id, status) VALUES (NEW.tenant_id, NEW.id, NEW.status)
            RETURNING id INTO event_id;
          PERFORM pg_notify('${OPERATION_EVENTS_CHANNEL}', event_id || ' ' || NEW.id || ' ' || NEW.tenant_id || ' ' || NEW.status);
        END IF;
        RETURN NEW;
      END $$`);
  }
}
