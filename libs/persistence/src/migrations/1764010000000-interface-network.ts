import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The network an interface is on (Gandi ifaces, Gigas network configuration). */
export class InterfaceNetwork1764010000000 implements MigrationInterface {
  name = 'InterfaceNetwork1764010000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE network_interfaces ADD COLUMN network text NOT NULL DEFAULT 'public' CHECK (network ~ '^[a-z][a-z0-9-]{0,31}$')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE network_interfaces DROP COLUMN network`);
  }
}
