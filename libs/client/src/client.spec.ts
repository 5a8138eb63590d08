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

  it('follows an operation in order: an older read that answers late is not shown, nothing after the final view', async () => {
    // The first read (running) answers only after the second (succeeded): as a read of a running operation, which asks
    // its workflow for progress, can be slower than the read that sees it finished.
    let reads = 0;
    let releaseFirst: () => void = () => undefined;
    const view = (status: string) => ({ id: 'op-1', type: 'vm.start', status, progress: { stepsDone: 0, stepsTotal: 1 } });
    const fetch = async (input: Request | string | URL, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.pathname === '/v1/events') {
        // One event for the operation, then the stream stays open until the follower aborts it.
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('id: 1\nevent: operation\ndata: {"operationId":"op-1","status":"succeeded"}\n\n'));
            init?.signal?.addEventListener('abort', () => controller.error(new Error('aborted')));
          },
        });
        return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
      }
      reads += 1;
      if (reads === 1) {
        await new Promise<void>((r) => (releaseFirst = r));
        return Response.json(view('running'));
      }
      setTimeout(() => releaseFirst(), 20);
      return Response.json(view('succeeded'));
    };
    const api = createVmopsClient({ baseUrl: 'http://api.test', fetch: fetch as typeof globalThis.fetch });
    const seen: string[] = [];
    const end = await followOperation(api, 'op-1', { onUpdate: (op) => seen.push(op.status), refreshMs: 60_000 });
    await new Promise((r) => setTimeout(r, 50));
    expect(end.status).toBe('succeeded');
    expect(seen).toEqual(['succeeded']);
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
