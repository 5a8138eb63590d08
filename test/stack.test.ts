import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../scripts/net';

/**
 * The README's stack, as a user runs it (after scripts/install.sh built dist/): embedded PostgreSQL, the
 * Temporal dev server with its UI, migrations, seed, worker and API. A VM created before a restart is
 * still there after it.
 */
const ROOT = path.resolve(__dirname, '..');
const STACK = path.join(ROOT, 'dist', 'scripts', 'stack.js');
const DEMO_API_KEY = 'vmo_stack-test-key-0000000000000000';

interface Stack {
  proc: ChildProcess;
  output: () => string;
}

function startStack(env: NodeJS.ProcessEnv): Promise<Stack> {
  const proc = spawn(process.execPath, ['-r', path.join(ROOT, 'scripts', 'register-paths.js'), STACK], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the stack did not come up in time:\n${out.slice(-3000)}`)), 90_000);
    proc.stdout!.on('data', () => {
      if (out.includes('vmops is running')) {
        clearTimeout(timer);
        resolve({ proc, output: () => out });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the stack exited with ${code}:\n${out.slice(-3000)}`));
    });
  });
}

function stopStack(stack: Stack): Promise<number | null> {
  if (stack.proc.exitCode !== null) return Promise.resolve(stack.proc.exitCode);
  return new Promise((resolve) => {
    stack.proc.once('exit', (code) => resolve(code));
    stack.proc.kill('SIGINT');
  });
}

describe('scripts/stack.sh: the whole stack on one machine', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vmops-stack-'));
  let env: NodeJS.ProcessEnv;
  let stack: Stack | null = null;

  beforeAll(async () => {
    if (!existsSync(STACK)) throw new Error('dist/ is missing: run scripts/install.sh (scripts/test.sh does) first');
    env = {
      VMOPS_DATA_DIR: dataDir,
      DEMO_API_KEY,
      PORT: String(await freePort()),
      TEMPORAL_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      PGLITE_PORT: String(await freePort()),
      SIM_LATENCY_MS: '0',
      DATABASE_URL: '',
      TEMPORAL_ADDRESS: '',
    };
  });
  afterAll(async () => {
    if (stack) await stopStack(stack);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${env.PORT}${p}`, {
      method,
      headers: { authorization: `Bearer ${DEMO_API_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('starts, serves the tour, and keeps its state across a restart', async () => {
    stack = await startStack(env);
    expect(stack.output()).toContain(`Demo API key ${DEMO_API_KEY}`);
    expect(stack.output()).toContain('(embedded PGlite)');
    const adminKey = /Admin key\s+(\S+)/.exec(stack.output())?.[1];
    const nodes = await fetch(`http://127.0.0.1:${env.PORT}/v1/nodes`, { headers: { authorization: `Bearer ${adminKey}` } });
    expect(((await nodes.json()) as any).items[0]).toMatchObject({ name: 'node-1', capacity: expect.any(Object) });

    expect((await fetch(`http://127.0.0.1:${env.PORT}/health`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${env.TEMPORAL_UI_PORT}/`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${env.PORT}/docs`)).status).toBe(200);

    const templates = await api('GET', '/v1/templates');
    expect(templates.body.items).toEqual([expect.objectContaining({ name: 'debian-12' })]);
    const created = await api('POST', '/v1/vms', { hostname: 'tour-1', templateId: templates.body.items[0].id, cpus: 1, memoryMb: 1024 });
    expect(created.status).toBe(202);

    let op = created.body;
    for (let i = 0; i < 150 && !['succeeded', 'failed', 'compensated', 'stuck'].includes(op.status); i++) {
      await new Promise((r) => setTimeout(r, 200));
      op = (await api('GET', `/v1/operations/${created.body.id}`)).body;
    }
    expect(op.status).toBe('succeeded');

    expect(await stopStack(stack)).toBe(0);
    stack = await startStack(env);
    const vms = await api('GET', '/v1/vms');
    expect(vms.body.items).toEqual([expect.objectContaining({ hostname: 'tour-1', status: 'running' })]);
    expect((await api('GET', `/v1/operations/${created.body.id}`)).body.status).toBe('succeeded');
  });
});
