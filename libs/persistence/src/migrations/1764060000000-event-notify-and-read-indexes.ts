import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The channel each operation event is announced on: `<event id> <operation id> <tenant id> <status>`. */
export const OPERATION_EVENTS_CHANNEL = 'operation_events';
/** The channel a revoked API key is announced on: its id. */
export const API_KEY_REVOKED_CHANNEL = 'api_key_revoked';

/**
 * Waits without polling, and reads that stay fast at a million rows.
 * - The operation-event trigger also announces each event (NOTIFY, delivered when its transaction commits), so
 *   the event stream and /wait answer as soon as an operation changes instead of at their next poll; a revoked
 *   key is announced the same way, so its open streams end at once.
 * - Indexes for the lists' filters and orders, with the id as the keyset tie-breaker; the hostname search
 *   (`contains`, case-insensitive) uses a trigram index where the server has pg_trgm (PostgreSQL's contrib,
 *   shipped with the embedded server and Debian's), and scans where it has not.
 */
export class EventNotifyAndReadIndexes1764060000000 implements MigrationInterface {
  name = 'EventNotifyAndReadIndexes1764060000000';

  async up(q: QueryRunner): Promise<void> {
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
    await q.query(`
      CREATE FUNCTION announce_api_key_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL THEN
          PERFORM pg_notify('${API_KEY_REVOKED_CHANNEL}', NEW.id::text);
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER api_keys_announce_revoked AFTER UPDATE OF revoked_at ON api_keys
      FOR EACH ROW EXECUTE FUNCTION announce_api_key_revoked()`);

    // Operations: newest first, per tenant and per filter, the id breaking ties (keyset pages).
    await q.query(`DROP INDEX ix_operations_tenant_created`);
    await q.query(`CREATE INDEX ix_operations_tenant_created ON operations (tenant_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX ix_operations_tenant_type_created ON operations (tenant_id, type, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX ix_operations_tenant_status_created ON operations (tenant_id, status, created_at DESC, id DESC)`);
    await q.query(`DROP INDEX ix_operations_vm_created`);
    await q.query(`CREATE INDEX ix_operations_vm_created ON operations (vm_id, created_at DESC, id DESC)`);
    await q.query(`DROP INDEX idx_operations_requested_by`);
    await q.query(
      `CREATE INDEX idx_operations_requested_by ON operations (requested_by_tenant_id, created_at DESC, id DESC) WHERE requested_by_tenant_id IS NOT NULL`,
    );

    // VMs: every order the list offers, alone and under each equality filter it offers (hostname is the default).
    await q.query(`CREATE INDEX ix_vms_tenant_created ON vms (tenant_id, created_at, id)`);
    await q.query(`CREATE INDEX ix_vms_tenant_status ON vms (tenant_id, status, hostname, id)`);
    await q.query(`CREATE INDEX ix_vms_tenant_memory ON vms (tenant_id, memory_mb, id)`);
    await q.query(`CREATE INDEX ix_vms_tenant_cpus ON vms (tenant_id, cpus, id)`);
    await q.query(`CREATE INDEX ix_vms_tenant_node ON vms (tenant_id, node_id, hostname, id)`);
    await q.query(`CREATE INDEX ix_vms_tenant_label ON vms (tenant_id, label, hostname, id) WHERE label IS NOT NULL`);
    await q.query(`CREATE INDEX ix_disks_vm ON disks (vm_id) WHERE vm_id IS NOT NULL`);
    const [trgm] = await q.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'`);
    if (trgm) {
      await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
      await q.query(`CREATE INDEX ix_vms_hostname_trgm ON vms USING gin (hostname gin_trgm_ops)`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const index of [
      'ix_vms_hostname_trgm',
      'ix_disks_vm',
      'ix_vms_tenant_label',
      'ix_vms_tenant_node',
      'ix_vms_tenant_cpus',
      'ix_vms_tenant_memory',
      'ix_vms_tenant_status',
      'ix_vms_tenant_created',
      'ix_operations_tenant_status_created',
      'ix_operations_tenant_type_created',
    ]) {
      await q.query(`DROP INDEX IF EXISTS ${index}`);
    }
    await q.query(`DROP INDEX idx_operations_requested_by`);
    await q.query(
      `CREATE INDEX idx_operations_requested_by ON operations (requested_by_tenant_id, created_at) WHERE requested_by_tenant_id IS NOT NULL`,
    );
    await q.query(`DROP INDEX ix_operations_vm_created`);
    await q.query(`CREATE INDEX ix_operations_vm_created ON operations (vm_id, created_at DESC)`);
    await q.query(`DROP INDEX ix_operations_tenant_created`);
    await q.query(`CREATE INDEX ix_operations_tenant_created ON operations (tenant_id, created_at DESC)`);
    await q.query(`DROP TRIGGER api_keys_announce_revoked ON api_keys`);
    await q.query(`DROP FUNCTION announce_api_key_revoked()`);
    await q.query(`
      CREATE OR REPLACE FUNCTION record_operation_event() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
          INSERT INTO operation_events (tenant_id, operation_id, status) VALUES (NEW.tenant_id, NEW.id, NEW.status);
        END IF;
        RETURN NEW;
      END $$`);
  }
}
