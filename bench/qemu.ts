import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { VmDefinition } from '@vmops/driver';
import { QemuDriver, QmpClient } from '@vmops/hypervisor';
import { percentile, QUICK, report, round } from './support';

/**
 * The QEMU driver's own times (boot, graceful stop, snapshot, rollback, live and cold migration) on this machine
 * (TCG), each against the bare QEMU or qemu-img work it is made of, measured in the same run: a bare QEMU started
 * with the same command line up to its QMP greeting, a bare `qemu-img convert` of the same image. The ratio is
 * what the driver's bookkeeping (state files, checks, idempotency) costs on top. Needs scripts/install-qemu.sh.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const RUNS = QUICK ? 2 : 8;
const guest = { guestKernel: path.join(ROOT, '.tools/qemu-guest/vmlinux'), guestInitrd: path.join(ROOT, '.tools/qemu-guest/initramfs.gz') };

async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const result = await work();
  return [performance.now() - started, result];
}

async function main(): Promise<void> {
  const root = mkdtempSync(path.join(tmpdir(), 'vmops-bench-qemu-'));
  const driver = new QemuDriver({ root, ...guest, powerButtonRepeatMs: 500 });
  const samples: Record<string, number[]> = {};
  const add = (name: string, ms: number) => (samples[name] ??= []).push(ms);
  try {
    for (const node of ['bench-a', 'bench-b']) await driver.registerNode(node, { cpus: 8, memoryMb: 16384, storageGb: 1000 });
    await driver.ensureBaseImage('base', 10);
    for (let i = 0; i < RUNS; i++) {
      const vm: VmDefinition = {
        vmId: `vm-${i}`,
        hostname: 'bench',
        cpus: 1,
        memoryMb: 256,
        guestAgent: true,
        disks: [{ id: `disk-${i}`, position: 0 }],
        nics: [],
      };
      await driver.createDiskFromTemplate('bench-a', { diskId: `disk-${i}`, templateId: 'base', sizeGb: 10 });
      await driver.defineVm('bench-a', vm);
      await driver.guestWrite('bench-a', `disk-${i}`, 'v1');

      // Snapshot and rollback, offline, against qemu-img converting the same image.
      add(
        'snapshot (stopped)',
        (await timed(() => driver.createSnapshot('bench-a', { snapshotId: `s-${i}`, diskId: `disk-${i}`, name: 's', fsfreeze: false })))[0],
      );
      await driver.guestWrite('bench-a', `disk-${i}`, 'v2');
      add('rollback in place', (await timed(() => driver.rollbackSnapshot('bench-a', `s-${i}`, { discardSnapshots: false })))[0]);
      const diskFile = path.join(root, 'nodes', 'bench-a', 'disks', `disk-${i}.qcow2`);
      const bareCopy = path.join(root, `bare-${i}.qcow2`);
      add('bare qemu-img convert', (await timed(async () => execFileSync('qemu-img', ['convert', '-O', 'qcow2', diskFile, bareCopy])))[0]);
      rmSync(bareCopy);

      // Start: to QEMU running (QMP up), then to the guest's init (its serial says so).
      add('start (QMP up)', (await timed(() => driver.startVm('bench-a', vm.vmId)))[0]);
      const bootStarted = performance.now();
      while (!(await driver.serialLog('bench-a', vm.vmId)).includes('vmops-guest: up')) {
        if (performance.now() - bootStarted > 60_000) throw new Error('the guest did not come up in 60 s');
        await new Promise((r) => setTimeout(r, 20));
      }
      add('guest boot (start → init)', performance.now() - bootStarted);

      add(
        'live snapshot',
        (await timed(() => driver.createSnapshot('bench-a', { snapshotId: `l-${i}`, diskId: `disk-${i}`, name: 'l', fsfreeze: true })))[0],
      );

      // Live migration: the disk mirrored, then the memory moved.
      const migrationId = `m-${i}`;
      await driver.prepareMigrationTarget('bench-b', { migrationId, vmId: vm.vmId, sourceNodeId: 'bench-a' });
      add('live transfer (disk mirror)', (await timed(() => driver.transferVm('bench-a', migrationId)))[0]);
      add('live switch-over (memory)', (await timed(() => driver.switchOverVm('bench-a', migrationId)))[0]);
      await driver.cleanUpMigrationSource('bench-a', migrationId);

      add('graceful stop (ACPI)', (await timed(() => driver.stopVm('bench-b', vm.vmId, { timeoutSeconds: 60 })))[0]);

      // Cold migration back: the images copied.
      const back = `b-${i}`;
      await driver.prepareMigrationTarget('bench-a', { migrationId: back, vmId: vm.vmId, sourceNodeId: 'bench-b' });
      add(
        'cold migration',
        (
          await timed(async () => {
            await driver.transferVm('bench-b', back);
            await driver.switchOverVm('bench-b', back);
          })
        )[0],
      );
      await driver.cleanUpMigrationSource('bench-b', back);

      // Bare: the same QEMU command line, up to the QMP greeting, without the driver around it.
      const sock = path.join(tmpdir(), `vmops-bench-bare-${process.pid}-${i}.qmp`);
      const [bare] = await timed(async () => {
        execFileSync('qemu-system-x86_64', [
          '-machine',
          'pc,accel=tcg',
          '-m',
          '256',
          '-nodefaults',
          '-display',
          'none',
          '-daemonize',
          '-qmp',
          `unix:${sock},server=on,wait=off`,
          '-device',
          'virtio-scsi-pci,id=scsi0',
          '-blockdev',
          JSON.stringify({
            driver: 'qcow2',
            'node-name': 'd0',
            file: { driver: 'file', filename: path.join(root, 'nodes', 'bench-a', 'disks', `disk-${i}.qcow2`) },
          }),
          '-device',
          'scsi-hd,bus=scsi0.0,drive=d0',
          '-kernel',
          guest.guestKernel,
          '-initrd',
          guest.guestInitrd,
        ]);
        const q = await QmpClient.connect(sock);
        await q.execute('quit').catch(() => undefined);
        q.close();
      });
      add('bare QEMU start (QMP up)', bare);
      rmSync(sock, { force: true });
    }
  } finally {
    await driver.destroyAll();
    rmSync(root, { recursive: true, force: true });
  }
  const p50 = (name: string) => percentile(samples[name], 50);
  const baselines: Record<string, string> = {
    'start (QMP up)': 'bare QEMU start (QMP up)',
    'snapshot (stopped)': 'bare qemu-img convert',
    'rollback in place': 'bare qemu-img convert',
  };
  report(
    'qemu',
    Object.keys(samples).map((name) => ({
      step: name,
      runs: samples[name].length,
      'p50 ms': round(p50(name), 1),
      'max ms': round(Math.max(...samples[name]), 1),
      'vs bare': baselines[name] ? `${round(p50(name) / p50(baselines[name]))}× ${baselines[name]}` : '',
    })),
    { accel: 'tcg', guest: 'Debian kernel (PVH) + busybox initramfs', memoryMb: 256, diskGb: 10 },
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
