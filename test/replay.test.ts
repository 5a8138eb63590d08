import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Every recorded history in test/histories must replay against today's workflow code: a change that would
 * alter the commands of a running workflow (without patched()) fails here, not in production.
 * Refresh the recordings with RECORD_HISTORIES=1 when a workflow changes on purpose (behind a patch).
 */
const DIR = path.join(__dirname, 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

describe('workflow determinism: replay of recorded histories', () => {
  it('has recordings of every workflow type, and of the compensation and cancel paths', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'create-vm.succeeded.json',
        'create-vm.compensated.json',
        'create-vm.cancelled.json',
        'start-vm.succeeded.json',
        'stop-vm.succeeded.json',
        'reset-vm.succeeded.json',
      ]),
    );
  });

  it.each(files)('%s replays without non-determinism', async (file) => {
    const history = JSON.parse(readFileSync(path.join(DIR, file), 'utf8'));
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: process.env.VMOPS_TEST_WORKFLOW_BUNDLE! } },
      history,
      `replay-${file}`,
    );
  });
});
