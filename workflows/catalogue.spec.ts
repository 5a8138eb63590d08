import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPERATION_TYPES } from '../libs/contracts/src';
import { OPERATIONS } from './catalogue';

/** The workflow functions the worker registers: the named exports of the bundle's entry point. */
function exportedWorkflows(): string[] {
  const index = readFileSync(join(__dirname, 'index.ts'), 'utf8');
  return [...index.matchAll(/export \{([^}]+)\} from/g)].flatMap(([, names]) =>
    names
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean),
  );
}

/** Workflows that are no operation of a consumer's: a node read, a schedule's run, the reconciler. */
const NOT_OPERATIONS = ['readNodeWorkflow', 'scheduledSnapshotWorkflow', 'reconcileOperationsWorkflow'];

describe('the operation catalogue', () => {
  it('has an entry for every operation type, under its own name', () => {
    expect(Object.keys(OPERATIONS).sort()).toEqual([...OPERATION_TYPES].sort());
    for (const [type, entry] of Object.entries(OPERATIONS)) expect(entry.type).toBe(type);
  });

  it('names workflows the worker registers, one operation type each, and every operation workflow has its entry', () => {
    const exported = exportedWorkflows();
    const named = Object.values(OPERATIONS).map((entry) => entry.workflowType);
    expect(named.filter((name) => !exported.includes(name))).toEqual([]);
    expect(new Set(named).size).toBe(named.length);
    expect(exported.filter((name) => !named.includes(name) && !NOT_OPERATIONS.includes(name))).toEqual([]);
  });

  it('gives every type a deadline and a plan, except a drain, which runs child operations', () => {
    for (const entry of Object.values(OPERATIONS)) {
      expect(entry.deadlineSeconds).toBeGreaterThanOrEqual(5 * 60);
      expect(typeof entry.plan).toBe(entry.type === 'node.drain' ? 'undefined' : 'function');
    }
  });

  it('has one plan file per planned type, workflows/plans/<type>.plan.ts, with its spec beside it, and no other', () => {
    const dir = join(__dirname, 'plans');
    const planned = Object.values(OPERATIONS)
      .filter((entry) => entry.plan)
      .map((entry) => entry.type);
    for (const type of planned) {
      expect(`${type}: ${existsSync(join(dir, `${type}.plan.ts`))}`).toBe(`${type}: true`);
      expect(`${type} spec: ${existsSync(join(dir, `${type}.plan.spec.ts`))}`).toBe(`${type} spec: true`);
    }
    const files = readdirSync(dir).filter((f) => f.endsWith('.plan.ts'));
    expect(files.map((f) => f.replace(/\.plan\.ts$/, '')).sort()).toEqual([...planned].sort());
  });
});
