import { Client as PgClient } from 'pg';
import { SimulatedHypervisor, SimulatorControl } from '@vmops/hypervisor';
import { percentile, QUICK, report, round, withPostgres } from './support';

/**
 * The simulated hypervisor's own cost: the six driver calls of a new-disk rollback (stop, detach, a disk from the
 * snapshot, attach, start, delete the old disk), called straight, one after the other, as the agent makes them;
 * against one round trip to the same PostgreSQL (`SELECT 1` from a plain client), timed between them. The ratio is
 * what a call costs in round trips, which carries from one machine to another better than milliseconds do. The
 * other benches run on this simulator at zero latency: what is here is what the engine's figures carry of it.
 *
 * PostgreSQL: DATABASE_URL, or an embedded server of the bench's own (durable, as the stack's is).
 */
async function main(databaseUrl: string): Promise<void> {
  const rounds = QUICK ? 30 : 300;
  const schema = `bench_sim_${process.pid}`;
  const sim = new SimulatedHypervisor({ databaseUrl, schema, latencyMs: 0, guestShutdownMs: 0 });
  const control = new SimulatorControl({ databaseUrl, schema });
  const plain = new PgClient({ connectionString: databaseUrl });
  await plain.connect();
  try {
    await control.registerNode('node-1', { cpus: 64, memoryMb: 1_000_000, storageGb: 1_000_000 });
    await sim.createBlankDisk('node-1', { diskId: 'disk-0', sizeGb: 10 });
    await sim.defineVm('node-1', {
      vmId: 'vm-1',
      hostname: 'bench',
      cpus: 1,
      memoryMb: 512,
      guestAgent: true,
      disks: [{ id: 'disk-0', position: 0 }],
      nics: [],
    });
    await sim.startVm('node-1', 'vm-1');
    await sim.createSnapshot('node-1', { snapshotId: 'snap-1', diskId: 'disk-0', name: 'base', fsfreeze: false });

    const times: Record<string, number[]> = {};
    const time = async (what: string, work: () => Promise<unknown>) => {
      const t0 = performance.now();
      await work();
      (times[what] ??= []).push(performance.now() - t0);
    };
    let disk = 'disk-0';
    for (let i = 1; i <= rounds + 5; i++) {
      const warm = i <= 5;
      const at = (what: string) => (warm ? 'warm-up' : what);
      const next = `disk-${i}`;
      await time(at('round trip'), () => plain.query('SELECT 1'));
      await time(at('stopVm'), () => sim.stopVm('node-1', 'vm-1', { timeoutSeconds: 60 }));
      await time(at('round trip'), () => plain.query('SELECT 1'));
      await time(at('detachDisk'), () => sim.detachDisk('node-1', { diskId: disk, vmId: 'vm-1' }));
      await time(at('createDiskFromSnapshot'), () => sim.createDiskFromSnapshot('node-1', { diskId: next, snapshotId: 'snap-1' }));
      await time(at('round trip'), () => plain.query('SELECT 1'));
      await time(at('attachDisk'), () => sim.attachDisk('node-1', { diskId: next, vmId: 'vm-1', position: 0 }));
      await time(at('startVm'), () => sim.startVm('node-1', 'vm-1'));
      await time(at('round trip'), () => plain.query('SELECT 1'));
      // The first disk keeps the snapshot every round rolls back to.
      if (disk !== 'disk-0') await time(at('deleteDisk'), () => sim.deleteDisk('node-1', disk));
      disk = next;
    }

    const trip = times['round trip'];
    const [trip50, trip99] = [percentile(trip, 50), percentile(trip, 99)];
    const calls = ['stopVm', 'detachDisk', 'createDiskFromSnapshot', 'attachDisk', 'startVm', 'deleteDisk'];
    const rows: Record<string, string | number>[] = calls.map((call) => ({
      what: call,
      'p50 / p99 ms': `${round(percentile(times[call], 50))} / ${round(percentile(times[call], 99))}`,
      'round trip p50 / p99 ms': `${round(trip50)} / ${round(trip99)}`,
      'p50 in round trips': round(percentile(times[call], 50) / trip50, 1),
    }));
    const sum = calls.reduce((s, call) => s + percentile(times[call], 50), 0);
    rows.push({
      what: "a new-disk rollback's six calls (p50s summed)",
      'p50 / p99 ms': `${round(sum)}`,
      'round trip p50 / p99 ms': `${round(trip50)} / ${round(trip99)}`,
      'p50 in round trips': round(sum / trip50, 1),
    });
    report('simulator', rows, { rounds, database: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded' });
  } finally {
    await plain.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await plain.end();
    await sim.close();
    await control.close();
  }
}

withPostgres('sim', main).catch((err) => {
  console.error(err);
  process.exit(1);
});
