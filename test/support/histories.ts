import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * With RECORD_HISTORIES=1, saves a workflow's history where test/replay.test.ts replays it — once the workflow
 * has closed, so the recording ends with its last task (a history cut at a scheduled task never replays it).
 */
export async function recordHistory(temporal: Client, workflowId: string, name: string): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  const handle = temporal.workflow.getHandle(workflowId);
  await handle.result().catch(() => undefined);
  const history = await handle.fetchHistory();
  await writeFile(path.join(__dirname, '..', 'histories', `${name}.json`), historyToJSON(history));
}

/** recordHistory for an operation, by its id. */
export async function recordOperationHistory(
  h: { temporal: Client; dataSource: { query(sql: string, params: unknown[]): Promise<{ workflow_id: string }[]> } },
  operationId: string,
  name: string,
): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  const [op] = await h.dataSource.query(`SELECT workflow_id FROM operations WHERE id = $1`, [operationId]);
  await recordHistory(h.temporal, op.workflow_id, name);
}
