import type { MigrationInterface, QueryRunner } from 'typeorm';

/** vms.locked only ever mirrored `current_operation_id IS NOT NULL`; the API derives it from that. */
export class DropVmsLocked1763930000000 implements MigrationInterface {
  name = 'DropVmsLocked1763930000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE vms DROP COLUMN locked`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE vms ADD COLUMN locked boolean NOT NULL DEFAULT false`);
    await q.query(`UPDATE vms SET locked = current_operation_id IS NOT NULL`);
  }
}
