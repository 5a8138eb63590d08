import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A new size for a running VM, applied when it is next stopped (Erigones "update at next stop"). */
export class VmPendingSize1764020000000 implements MigrationInterface {
  name = 'VmPendingSize1764020000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE vms ADD COLUMN pending_cpus integer CHECK (pending_cpus > 0), ADD COLUMN pending_memory_mb integer CHECK (pending_memory_mb > 0)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE vms DROP COLUMN pending_cpus, DROP COLUMN pending_memory_mb`);
  }
}
