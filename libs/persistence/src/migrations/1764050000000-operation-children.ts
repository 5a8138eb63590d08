import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The operations an operation started, each with the step that stands for it (a drain's migrations), as its
 * workflow reported them last; and the index that finds a drain's migrations from their side.
 */
export class OperationChildren1764050000000 implements MigrationInterface {
  name = 'OperationChildren1764050000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE operations ADD COLUMN children jsonb NOT NULL DEFAULT '[]'::jsonb`);
    await q.query(
      `CREATE INDEX idx_operations_unfinished_drain ON operations ((request->>'nodeId')) WHERE type = 'node.drain' AND finished_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX idx_operations_unfinished_drain`);
    await q.query(`ALTER TABLE operations DROP COLUMN children`);
  }
}
