import { Connection } from '@temporalio/client';
import { loadConfig } from '@vmops/config';
import { SEARCH_ATTRIBUTE_NAMES } from '@vmops/contracts';
import { temporal } from '@temporalio/proto';

/**
 * Registers the custom search attributes (VmId, TenantId, NodeId, OperationType: Keyword) on a Temporal
 * server that was not started by scripts/stack.sh (docker-compose, production). Idempotent.
 */
async function main(): Promise<void> {
  const { temporalAddress, temporalNamespace } = loadConfig({ DATABASE_URL: 'postgres://unused', ...process.env });
  const connection = await Connection.connect({ address: temporalAddress, connectTimeout: '30 seconds' });
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace: temporalNamespace });
    const missing = SEARCH_ATTRIBUTE_NAMES.filter((name) => !(name in (existing.customAttributes ?? {})));
    if (missing.length) {
      await connection.operatorService.addSearchAttributes({
        namespace: temporalNamespace,
        searchAttributes: Object.fromEntries(
          missing.map((name) => [name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
        ),
      });
    }
    console.log(missing.length ? `registered search attributes: ${missing.join(', ')}` : 'search attributes already registered');
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
