import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { OPERATION_STATUSES, TERMINAL_OPERATION_STATUSES } from '@vmops/contracts';
import { createVmopsClient, FINAL_OPERATION_STATUSES, followOperation, started, VmopsApiError, type OperationStatus } from './index';

const ROOT = join(__dirname, '..', '..', '..');

describe('the typed client', () => {
  it('is generated from the committed openapi.json (npm run openapi writes both)', () => {
    try {
      execFileSync('npm', ['run', '--silent', 'openapi:client', '--', '--check'], { cwd: ROOT, stdio: 'pipe' });
    } catch (err) {
      throw new Error(
        `libs/client/src/schema.ts is stale: run npm run openapi:client and commit it\n${String((err as { stderr?: Buffer }).stderr ?? err)}`,
        { cause: err },
      );
    }
  }, 60_000);

  it('ends its waits on the statuses the engine calls final', () => {
    expect([...FINAL_OPERATION_STATUSES].sort()).toEqual([...TERMINAL_OPERATION_STATUSES].sort());
    // Every status of the engine is one the client's types know.
    const known: readonly OperationStatus[] = OPERATION_STATUSES;
    expect(known.length).toBeGreaterThan(FINAL_OPERATION_STATUSES.length);
  });

  it('reads an error answer into its code, message and details', () => {
    const response = new Response(null, { status: 409, statusText: 'Conflict' });
    const error = VmopsApiError.of(response, {
      error: { code: 'VM_BUSY', message: 'web-1 is busy with vm.stop', details: { operationId: 'x' } },
    });
    expect(error).toMatchObject({ status: 409, code: 'VM_BUSY', message: 'web-1 is busy with vm.stop', details: { operationId: 'x' } });
    // A body that is no error of the API (a proxy's page) still says what answered.
    expect(VmopsApiError.of(new Response(null, { status: 502, statusText: 'Bad Gateway' }), 'upstream down')).toMatchObject({
      status: 502,
      code: 'HTTP_502',
    });
  });
});

// The README's example, compiled with the suite (never run here: the stack tests drive the client for real).
export async function readmeExample(vmId: string): Promise<void> {
  const api = createVmopsClient({ baseUrl: 'http://localhost:3000', apiKey: process.env.VMCTL_API_KEY });
  const op = await started(api.POST('/v1/vms/{id}/stop', { params: { path: { id: vmId } }, body: { force: false } }));
  const end = await followOperation(api, op.id, { onUpdate: (view) => console.log(view.progress) });
  void end;
}
