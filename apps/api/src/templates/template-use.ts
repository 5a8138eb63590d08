import type { EntityManager } from 'typeorm';
import { ApiError, invalidParameter } from '../common/api-error';

/**
 * A template a VM is about to be built from (create, rebuild), in the caller's transaction: a base one or the
 * tenant's own (412 otherwise), ready (423 while it is made or deleted), and held against a concurrent delete.
 */
export async function lockTemplateForUse(
  tx: EntityManager,
  tenantId: string,
  templateId: string,
): Promise<{ id: string; name: string; disk_size_gb: number }> {
  const [template] = await tx.query(
    `SELECT id, name, disk_size_gb, status FROM templates WHERE id = $1 AND (tenant_id IS NULL OR tenant_id = $2) FOR SHARE`,
    [templateId, tenantId],
  );
  if (!template) throw invalidParameter('templateId', `template ${templateId} does not exist`);
  if (template.status !== 'ready') {
    throw new ApiError('TEMPLATE_NOT_READY', `template ${template.name} is ${template.status}`, { status: template.status });
  }
  return template;
}
