import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startHarness, type Harness } from './support/harness';

/**
 * The API fuzzed from its own OpenAPI document by Schemathesis (PyPI, pinned, installed by scripts/test.sh through
 * scripts/install-fuzzer.sh): every endpoint, with generated valid and invalid input, as a member and as an
 * operator. FUZZ_MAX_EXAMPLES sets the cases per endpoint and phase, FUZZ_MIN_REQUESTS the requests each key must
 * have made (CI: 10 and 1,000, about 2,500 made; the long run, `npm run test:fuzz`: 200 and 5,000).
 */
const ROOT = path.resolve(__dirname, '..');
const SCHEMATHESIS = path.join(ROOT, '.tools', 'fuzz-venv', 'bin', 'schemathesis');
const MAX_EXAMPLES = Number(process.env.FUZZ_MAX_EXAMPLES ?? 10);
const MIN_REQUESTS = Number(process.env.FUZZ_MIN_REQUESTS ?? 1000);

interface Logged {
  /** `GET /v1/vms/{id}`: the operation of the document the request was generated for. */
  endpoint: string;
  status: number;
  /** For a 202: the operation it answered with. */
  operationId?: string;
}

function fuzz(baseUrl: string, apiKey: string, log: string, exclude: string[]): Promise<{ code: number | null; output: string }> {
  const args = [
    'run',
    `${baseUrl}/docs-json`,
    '-H',
    `Authorization: Bearer ${apiKey}`,
    '--checks',
    'not_a_server_error,error_shape,logged',
    // The event stream is endless by design (a client listens as long as it likes); it has tests of its own.
    '--exclude-path',
    '/v1/events',
    ...exclude.flatMap((p) => ['--exclude-path', p]),
    '-n',
    String(MAX_EXAMPLES),
    '--seed',
    '20261130',
    '--request-timeout',
    '30',
    '--generation-database',
    'none',
  ];
  const proc = spawn(SCHEMATHESIS, args, {
    env: { ...process.env, FUZZ_LOG: log, PYTHONPATH: path.join(__dirname, 'fuzz'), SCHEMATHESIS_HOOKS: 'hooks', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, output })));
}

describe('fuzzing the API from its OpenAPI document (Schemathesis)', () => {
  let h: Harness;
  const logs: string[] = [];

  beforeAll(async () => {
    if (!existsSync(SCHEMATHESIS)) throw new Error('the fuzzer is missing: run scripts/install-fuzzer.sh (scripts/test.sh does) first');
    h = await startHarness();
  });
  afterAll(async () => {
    for (const log of logs) rmSync(log, { force: true });
    await h?.close();
  });

  it(
    'answers every generated request below 500, refuses in the error shape, writes nothing for a refusal, and is healthy after',
    async () => {
      const member = await h.newTenant();
      const operator = await h.newTenant('admin');
      // Something of the member's to find: a VM, so that generated requests also reach code past the 404s.
      await h.createVm(member.apiKey);
      const count = async (table: string) => Number((await h.dataSource.query(`SELECT count(*) AS n FROM ${table}`))[0].n);
      const operationsBefore = await count('operations');

      const runs = [
        { who: 'member', key: member.apiKey, exclude: [] as string[] },
        // The simulator's fault and latency injectors would make later operations fail on purpose.
        { who: 'operator', key: operator.apiKey, exclude: ['/v1/admin/simulator/faults', '/v1/admin/simulator/latency'] },
      ];
      const seen: Logged[] = [];
      for (const run of runs) {
        const log = path.join(os.tmpdir(), `vmops-fuzz-${run.who}-${process.pid}.ndjson`);
        logs.push(log);
        rmSync(log, { force: true });
        const { code, output } = await fuzz(h.baseUrl, run.key, log, run.exclude);
        const lines: Logged[] = readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l));
        seen.push(...lines);
        // Schemathesis exits 1 on any failed check; its report names the request and how to replay it.
        expect({ who: run.who, code, report: code === 0 ? '' : output.slice(-4000) }).toEqual({ who: run.who, code: 0, report: '' });
        expect(lines.length).toBeGreaterThanOrEqual(MIN_REQUESTS);
        console.log(
          `fuzz (${run.who}): ${lines.length} requests over ${new Set(lines.map((l) => l.endpoint)).size} endpoints; ${tally(lines)}`,
        );
      }
      expect(seen.filter((l) => l.status >= 500)).toEqual([]);

      // Every operation recorded was accepted (202; one replayed with its Idempotency-Key names the same one); no
      // refused request left one behind.
      const accepted = new Set(seen.filter((l) => l.status === 202).map((l) => l.operationId)).size;
      expect(await count('operations')).toBe(operationsBefore + accepted);
      // What was accepted runs to its end and frees its VM.
      for (let i = 0; i < 600 && (await h.dataSource.query(`SELECT 1 FROM operations WHERE finished_at IS NULL LIMIT 1`)).length; i++) {
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(await h.dataSource.query(`SELECT id, type, status FROM operations WHERE finished_at IS NULL OR status = 'stuck'`)).toEqual([]);
      expect(await h.dataSource.query(`SELECT id, hostname FROM vms WHERE current_operation_id IS NOT NULL`)).toEqual([]);
      expect((await h.call('GET', '/health')).status).toBe(200);
    },
    30 * 60_000,
  );

  it('refuses the fault id the fuzzer once found answering 500 (a float past integer range)', async () => {
    const operator = await h.newTenant('admin');
    for (const id of ['5.81178329737787e+16', '2147483648', '0', '-1', '1.5']) {
      const res = await h.call('DELETE', `/v1/admin/simulator/faults/${id}`, { key: operator.apiKey });
      expect([id, res.status, res.body.error.code]).toEqual([id, 400, 'VALIDATION_FAILED']);
    }
    expect((await h.call('DELETE', '/v1/admin/simulator/faults/2147483647', { key: operator.apiKey })).status).toBe(404);
  });
});

function tally(lines: Logged[]): string {
  const byStatus = new Map<number, number>();
  for (const l of lines) byStatus.set(l.status, (byStatus.get(l.status) ?? 0) + 1);
  return [...byStatus]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s}×${n}`)
    .join(' ');
}
