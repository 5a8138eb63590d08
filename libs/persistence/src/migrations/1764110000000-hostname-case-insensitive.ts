import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Hostnames are unique per tenant case-insensitively, as DNS names are: `web-1` and `WEB-1` are one name. A database
 * that already holds such a pair is not changed behind anyone's back: the migration stops and names them.
 */
export class HostnameCaseInsensitive1764110000000 implements MigrationInterface {
  name = 'HostnameCaseInsensitive1764110000000';

  async up(q: QueryRunner): Promise<void> {
    const clashes: { tenant_id: string; hostnames: string[] }[] = await q.query(
      `SELECT tenant_id, array_agg(hostname ORDER BY hostname) AS hostnames FROM vms GROUP BY tenant_id, lower(hostname) HAVING count(*) > 1`,
    );
    if (clashes.length) {
      const list = clashes.map((c) => `tenant ${c.tenant_id}: ${c.hostnames.join(' / ')}`).join('; ');
      throw new Error(`hostnames that differ only in case must be renamed before this migration (${list})`);
    }
    await q.query(`CREATE UNIQUE INDEX uq_vms_tenant_hostname_ci ON vms (tenant_id, lower(hostname))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS uq_vms_tenant_hostname_ci`);
  }
}
