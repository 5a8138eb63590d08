import type { EntityManager } from 'typeorm';
import { ApiError } from '../common/api-error';

/**
 * The lowest free address of `network`'s pool (the first one is the gateway's) for an interface the caller's transaction records, or null for a
 * network with no pool. Allocations on one network wait for each other (a transaction-scoped advisory lock), so
 * two never take one address; an address is free again once its interface's record is gone. 417 when the pool
 * has none left.
 */
export async function allocateAddress(tx: EntityManager, network: string, pools: Record<string, string>): Promise<string | null> {
  const pool = pools[network];
  if (!pool) return null;
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('vmops-address-pool'), hashtext($1))`, [network]);
  const [row] = await tx.query(
    `WITH used AS (
       SELECT ip_address AS ip FROM network_interfaces WHERE network = $1 AND ip_address IS NOT NULL AND ip_address << $2::cidr
     )
     SELECT host(candidate) AS address FROM (
       SELECT set_masklen($2::cidr::inet + 2, 32) AS candidate
       UNION ALL
       SELECT u.ip + 1 FROM used u
     ) c
     WHERE candidate < set_masklen(broadcast($2::cidr), 32) AND NOT EXISTS (SELECT 1 FROM used WHERE ip = candidate)
     ORDER BY candidate LIMIT 1`,
    [network, pool],
  );
  if (!row) {
    throw new ApiError('ADDRESS_POOL_EXHAUSTED', `network ${network} has no address left in its pool ${pool}`, { network, pool });
  }
  return row.address;
}
