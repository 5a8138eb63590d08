import type { ApiKeyRole } from '../entities';
import type { Db } from './vm-lock';

/** A valid (not revoked) API key, found by its hash. */
export interface ActiveApiKey {
  id: string;
  tenantId: string;
  role: ApiKeyRole;
}

/** The key with this sha256, unless it is unknown or revoked (see hashApiKey). */
export async function findActiveApiKey(db: Db, keyHash: string): Promise<ActiveApiKey | null> {
  const [row] = await db.query(`SELECT id, tenant_id, role FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, [keyHash]);
  return row ? { id: row.id, tenantId: row.tenant_id, role: row.role } : null;
}
