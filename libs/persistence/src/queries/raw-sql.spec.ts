import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..', '..');

/**
 * Raw SQL in the apps, file by file, as it stood when the query layer (libs/persistence/src/queries) was made. A
 * statement the API and the worker share, a lock, a reservation or a write that must hold together with others is
 * a function in queries/; a simple read goes through the entity's repository. The counts only go down: moving a
 * statement into queries/ lowers its file's number here, and a new raw `.query(` in the apps fails this test.
 */
const ALLOWED: Record<string, number> = {
  'apps/api/src/admin/admin.service.ts': 7,
  'apps/api/src/anti-affinity/anti-affinity.service.ts': 9,
  'apps/api/src/disks/disks.service.ts': 5,
  'apps/api/src/events/operation-events.service.ts': 4,
  'apps/api/src/interfaces/address-pool.ts': 2,
  'apps/api/src/interfaces/interfaces.service.ts': 8,
  'apps/api/src/metrics/metrics.service.ts': 1,
  'apps/api/src/nodes/node-audit.service.ts': 2,
  'apps/api/src/operations/operations.service.ts': 6,
  'apps/api/src/snapshot-definitions/snapshot-definitions.service.ts': 9,
  'apps/api/src/snapshots/snapshots.service.ts': 15,
  'apps/api/src/templates/template-use.ts': 1,
  'apps/api/src/templates/templates.service.ts': 11,
  'apps/api/src/vms/migration.service.ts': 1,
  'apps/api/src/vms/vm-lifecycle.service.ts': 7,
  'apps/api/src/vms/vms.service.ts': 11,
  'apps/worker/src/activities/drain.activities.ts': 2,
  'apps/worker/src/activities/inventory.activities.ts': 34,
  'apps/worker/src/activities/reconciler.activities.ts': 1,
  'apps/worker/src/activities/snapshot-schedule.activities.ts': 13,
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('raw SQL in the apps', () => {
  it('never grows: new statements go into libs/persistence/src/queries', () => {
    const grown: string[] = [];
    for (const app of ['api', 'worker', 'agent']) {
      for (const path of sources(join(ROOT, 'apps', app, 'src'))) {
        const file = relative(ROOT, path);
        const count = (readFileSync(path, 'utf8').match(/\.query\(/g) ?? []).length;
        if (count > (ALLOWED[file] ?? 0)) grown.push(`${file}: ${count} raw .query( calls, ${ALLOWED[file] ?? 0} allowed`);
      }
    }
    expect(grown).toEqual([]);
  });
});
