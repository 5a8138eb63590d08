import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as workflows from '../workflows';

/**
 * Every recorded history in test/histories must replay against today's workflow code: a change that would
 * alter the commands of a running workflow (without patched()) fails here, not in production.
 * Refresh the recordings with RECORD_HISTORIES=1 when a workflow changes on purpose (behind a patch).
 */
const DIR = path.join(__dirname, 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

describe('workflow determinism: replay of recorded histories', () => {
  it('has a recording of every workflow type the worker registers, and of the compensation and cancel paths', () => {
    const recorded = new Set(
      files.map(
        (f) => JSON.parse(readFileSync(path.join(DIR, f), 'utf8')).events[0].workflowExecutionStartedEventAttributes.workflowType.name,
      ),
    );
    expect(Object.keys(workflows).filter((type) => !recorded.has(type))).toEqual([]);
    expect(files).toEqual(
      expect.arrayContaining(['create-vm.compensated.json', 'create-vm.cancelled.json', 'disk-rollback.compensated.json']),
    );
    // Histories recorded before a patch: they must keep replaying while such executions may still run.
    expect(files.filter((f) => f.endsWith('.legacy.json')).length).toBeGreaterThanOrEqual(3);
  });

  it.each(files)('%s replays without non-determinism', async (file) => {
    const history = JSON.parse(readFileSync(path.join(DIR, file), 'utf8'));
    await Worker.runReplayHistory({ workflowBundle: { codePath: process.env.VMOPS_TEST_WORKFLOW_BUNDLE! } }, history, `replay-${file}`);
  });
});
