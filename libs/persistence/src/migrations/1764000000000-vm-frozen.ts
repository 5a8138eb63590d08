import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Frozen VMs (Erigones): held stopped by their owner or an operator; they refuse to start until unfrozen. */
export class VmFrozen1764000000000 implements MigrationInterface {
  name = 'VmFrozen1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE vms ADD COLUMN frozen boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE vms DROP COLUMN frozen`);
  }
}
