import { apiKeyDisplayPrefix, hashApiKey } from '@vmops/domain';
import type { DataSource, EntityManager } from 'typeorm';
import type { ApiKeyRole } from './entities';

export interface SeedResult {
  tenantId: string;
  nodeIds: string[];
  templateId: string;
}

export const DEMO_TENANT = 'demo';
/** The platform operators' tenant: its key is an admin key (nodes, templates, resets). */
export const OPERATOR_TENANT = 'operator';
/** Fixed ids, so that a deployment can name the demo nodes' agents before the seed runs (docker-compose.yml). */
export const DEMO_NODES = [
  { id: '6e6f6465-0000-4000-8000-000000000001', name: 'node-1', datacenter: 'dc1', cpus: 32, memoryMb: 131072, storageGb: 2000 },
  { id: '6e6f6465-0000-4000-8000-000000000002', name: 'node-2', datacenter: 'dc1', cpus: 32, memoryMb: 131072, storageGb: 2000 },
];
export const DEMO_TEMPLATE = { name: 'debian-12', osFamily: 'linux', diskSizeGb: 10 };

async function ensureTenantKey(tx: EntityManager, tenantName: string, key: string, role: ApiKeyRole): Promise<string> {
  const [tenant] = await tx.query(
    `INSERT INTO tenants (name) VALUES ($1)
     ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
    [tenantName],
  );
  await tx.query(
    `INSERT INTO api_keys (tenant_id, name, key_hash, key_prefix, role) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (key_hash) DO NOTHING`,
    [tenant.id, tenantName, hashApiKey(key), apiKeyDisplayPrefix(key), role],
  );
  return tenant.id;
}

/**
 * The demo world: tenant `demo` whose (member) API key is `apiKey`, two online nodes and one template; with
 * `adminKey`, also the `operator` tenant holding that admin key.
 * Idempotent: running it again changes nothing and adds a key only if it is new.
 */
export async function seedDemo(dataSource: DataSource, apiKey: string, adminKey?: string): Promise<SeedResult> {
  return dataSource.transaction(async (tx) => {
    const tenantId = await ensureTenantKey(tx, DEMO_TENANT, apiKey, 'member');
    if (adminKey) await ensureTenantKey(tx, OPERATOR_TENANT, adminKey, 'admin');
    const nodeIds: string[] = [];
    for (const node of DEMO_NODES) {
      const [row] = await tx.query(
        `INSERT INTO nodes (id, name, datacenter, status, cpus, memory_mb, storage_gb)
         VALUES ($1, $2, $3, 'online', $4, $5, $6)
         ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
        [node.id, node.name, node.datacenter, node.cpus, node.memoryMb, node.storageGb],
      );
      nodeIds.push(row.id);
    }
    const [template] = await tx.query(
      `INSERT INTO templates (name, os_family, disk_size_gb) VALUES ($1, $2, $3)
       ON CONFLICT ((coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid)), name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
      [DEMO_TEMPLATE.name, DEMO_TEMPLATE.osFamily, DEMO_TEMPLATE.diskSizeGb],
    );
    return { tenantId, nodeIds, templateId: template.id };
  });
}
