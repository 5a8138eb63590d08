import type { MigrationInterface, QueryRunner } from 'typeorm';

/** One interface per address on a network: the address pools hand out each address once. */
export class InterfaceAddresses1764100000000 implements MigrationInterface {
  name = 'InterfaceAddresses1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE UNIQUE INDEX uq_network_interfaces_address ON network_interfaces (network, ip_address) WHERE ip_address IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS uq_network_interfaces_address`);
  }
}
