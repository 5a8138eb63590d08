import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

/** With RECORD_HISTORIES=1, saves a workflow's history where test/replay.test.ts replays it. */
export async function recordHistory(temporal: Client, workflowId: string, name: string): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
  await writeFile(path.join(__dirname, '..', 'histories', `${name}.json`), historyToJSON(history));
}
