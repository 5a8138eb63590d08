import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Operation } from '@vmops/client';
import { OPERATION_TYPES } from '@vmops/contracts';
import type { Command } from 'commander';
import { buildProgram, Cli } from './main';
import { readProfiles, resolveProfile, UsageError, writeProfiles } from './config';
import { activity } from './follow';

describe('vmctl profiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmctl-'));
  const env = { VMCTL_CONFIG: join(dir, 'nested', 'config.json') };
  writeProfiles(env.VMCTL_CONFIG, {
    current: 'lab',
    profiles: { lab: { url: 'http://lab:3000', apiKey: 'vmo_lab' }, prod: { url: 'https://prod', apiKey: 'vmo_prod' } },
  });

  it('keeps keys readable by their owner only', () => {
    expect(statSync(env.VMCTL_CONFIG).mode & 0o777).toBe(0o600);
    expect(readProfiles(env.VMCTL_CONFIG).current).toBe('lab');
  });

  it('takes flags over the environment over the profile, and the current profile when none is named', () => {
    expect(resolveProfile({}, env)).toMatchObject({ url: 'http://lab:3000', apiKey: 'vmo_lab' });
    expect(resolveProfile({ profile: 'prod' }, env)).toMatchObject({ url: 'https://prod', apiKey: 'vmo_prod' });
    expect(resolveProfile({}, { ...env, VMCTL_PROFILE: 'prod', VMCTL_API_KEY: 'vmo_env' })).toMatchObject({
      url: 'https://prod',
      apiKey: 'vmo_env',
    });
    expect(resolveProfile({ url: 'http://flag', apiKey: 'vmo_flag' }, { ...env, VMCTL_URL: 'http://env' })).toMatchObject({
      url: 'http://flag',
      apiKey: 'vmo_flag',
    });
  });

  it('says what to do when there is no address or no such profile', () => {
    const empty = { VMCTL_CONFIG: join(dir, 'none.json') };
    expect(() => resolveProfile({}, empty)).toThrow(UsageError);
    expect(() => resolveProfile({}, empty)).toThrow(/--url.*VMCTL_URL/);
    expect(() => resolveProfile({ profile: 'staging' }, env)).toThrow(/no profile named staging/);
  });
});

describe('what vmctl shows of a running operation', () => {
  const step = (name: string, status: Operation['steps'][number]['status'], attempts = 1) => ({
    name,
    status,
    attempts,
    startedAt: null,
    finishedAt: null,
    error: null,
  });
  const op = (status: Operation['status'], steps: Operation['steps']): Operation =>
    ({
      status,
      steps,
      waiting: null,
      progress: { step: null, stepsDone: 0, stepsTotal: steps.length, percent: 0, stepPercent: null, stepBytes: null, children: null },
    }) as unknown as Operation;

  it('names the step running and its attempt', () => {
    expect(
      activity(op('running', [step('stop-vm', 'succeeded'), step('attach-disk', 'running', 3), step('start-vm', 'pending', 0)])),
    ).toEqual({
      phase: '',
      step: 'attach-disk',
      attempt: 3,
    });
  });

  it('names the undo running while it compensates: the last step still done, as undos run in reverse', () => {
    const view = op('compensating', [
      step('stop-vm', 'succeeded'),
      step('detach-disk', 'succeeded'),
      step('attach-disk', 'failed', 5),
      step('start-vm', 'pending', 0),
    ]);
    expect(activity(view)).toEqual({ phase: 'undo', step: 'detach-disk', attempt: 0 });
    view.steps[1].status = 'compensated';
    expect(activity(view).step).toBe('stop-vm');
  });
});

describe('vmctl commands', () => {
  const program = buildProgram(new Cli({ out: process.stdout, err: process.stderr }, {}));
  const all = (command: Command): Command[] => [command, ...command.commands.flatMap(all)];
  const descriptions = all(program)
    .map((c) => c.description())
    .join('\n');

  it('start every type of operation of the catalogue (each command names the type it starts)', () => {
    const missing = OPERATION_TYPES.filter((type) => !new RegExp(`\\(${type.replace('.', '\\.')}\\b`).test(descriptions));
    expect(missing).toEqual([]);
  });

  it('offer --wait, --dry-run and an idempotency key on every command that starts one', () => {
    for (const command of all(program).filter((c) => /\((vm|disk|nic|snapshot|template|node)\.\w+/.test(c.description()))) {
      expect(command.options.map((o) => o.long)).toEqual(expect.arrayContaining(['--wait', '--dry-run', '--idempotency-key']));
    }
  });
});
