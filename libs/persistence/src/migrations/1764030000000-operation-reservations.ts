import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What an operation's launch reserved in the inventory before its workflow started (a VM record being created,
 * disk and snapshot records, snapshots marked deleting, a lock taken over): data, so that whoever finds the
 * operation never started (the API on a failed start or a cancel, the reconciler) can give it all back.
 */
export class OperationReservations1764030000000 implements MigrationInterface {
  name = 'OperationReservations1764030000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE operations ADD COLUMN reservations jsonb NOT NULL DEFAULT '{}'::jsonb`);
    // The reconciler looks for unfinished operations, oldest first.
    await q.query(`CREATE INDEX idx_operations_unfinished ON operations (created_at) WHERE finished_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX idx_operations_unfinished`);
    await q.query(`ALTER TABLE operations DROP COLUMN reservations`);
  }
}
