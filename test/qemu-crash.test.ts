import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, promises as fs, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { VmDefinition } from '../libs/driver/src';
import { QemuDriver } from '../libs/hypervisor/src/qemu';
import { QEMU_GUEST, qemuNodes } from './support/qemu';

/** The compiled driver (npm run build; scripts/test.sh builds before the tests). */
const COMPILED_DRIVER = resolve(__dirname, '../dist/libs/hypervisor/src/qemu/index.js');
const CALL = resolve(__dirname, 'support/qemu-call.js');
/** When the agent dies, counted from the call's start: at once, and during or after the call's effect. */
const KILL_AFTER_MS = [0, 20, 80, 250];
/** A live migration's calls have more steps, each a window of its own (CI found one at 80 ms, a sweep more at 30 and 55). */
const MIGRATION_KILL_AFTER_MS = [0, 20, 30, 40, 55, 65, 80, 120, 250];

const capacity = { cpus: 8, memoryMb: 16384, storageGb: 500 };
const id = (kind: string) => `${kind}-${randomUUID().slice(0, 8)}`;

/** How many live processes (not zombies) have a command line that `matches`. */
function processes(matches: (cmdline: string) => boolean): number {
  let n = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (matches(cmdline) && !/\) [ZX] /.test(stat)) n++;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

/** How many QEMU processes run this VM (`-name guest=<vmId>,…`): a call that converged leaves one, or none. */
const qemuProcesses = (vmId: string) => processes((cmdline) => cmdline.includes(`guest=${vmId},`));

/**
 * The QEMU driver under an agent that dies mid-call: each call runs in a process of its own, killed with SIGKILL
 * after a delay; the call is then made again by a fresh driver (a restarted agent), which must converge: the state
 * the call promises, its QEMU processes found again, nothing doubled.
 */
describe('QEMU driver: the agent killed mid-call, the call retried', () => {
  let nodes: Awaited<ReturnType<typeof qemuNodes>>;
  let root: string;
  let d: QemuDriver;
  const [node, other] = ['crash-node-a', 'crash-node-b'];

  beforeAll(async () => {
    nodes = await qemuNodes([node, other], capacity);
    root = nodes.root;
    d = nodes.driver;
  });
  afterAll(() => nodes?.close());

  /** Runs the call in an agent process (below) and kills it after `ms`; says whether it was killed or had finished. */
  async function callKilledAfter(ms: number, method: keyof QemuDriver, ...args: unknown[]): Promise<'killed' | 'finished'> {
    const { child, stderr } = await agent(method, args);
    let timer: NodeJS.Timeout | undefined;
    child.stdout.once('data', () => (timer = setTimeout(() => child.kill('SIGKILL'), ms)));
    return new Promise((resolvePromise, reject) =>
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (signal === 'SIGKILL') resolvePromise('killed');
        else if (ms === 0) reject(new Error(`${method} finished although its agent was killed as the call began`));
        else if (code === 0) resolvePromise('finished');
        else reject(new Error(`${method} failed in the agent process: ${stderr()}`));
      }),
    );
  }

  /**
   * Starts the call in a process of its own, as an agent makes it, with driver options of its own when given. The
   * drivers of this process let go of their QMP connections first: one agent at a time holds a node.
   */
  async function agent(method: keyof QemuDriver, args: unknown[], extra: { options?: object } = {}) {
    for (const driver of [d, ...live]) await driver.close();
    const options = { root, guestKernel: QEMU_GUEST.kernel, guestInitrd: QEMU_GUEST.initrd, powerButtonRepeatMs: 500, ...extra.options };
    const child = spawn(process.execPath, [CALL, COMPILED_DRIVER, JSON.stringify({ options, method, args })], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    return { child, stderr: () => stderr };
  }

  /** A restarted agent: a new driver over the same root, knowing nothing but what the node's files and QEMU hold. */
  const live: QemuDriver[] = [];
  const restarted = () => {
    const driver = new QemuDriver({ root, guestKernel: QEMU_GUEST.kernel, guestInitrd: QEMU_GUEST.initrd, powerButtonRepeatMs: 500 });
    live.push(driver);
    return driver;
  };

  async function newVm(overrides: Partial<VmDefinition> = {}, onNode = node): Promise<VmDefinition> {
    const diskId = id('disk');
    await d.createDiskFromTemplate(onNode, { diskId, templateId: 'debian-12', sizeGb: 10 });
    const def: VmDefinition = {
      vmId: id('vm'),
      hostname: 'crash',
      cpus: 1,
      memoryMb: 256,
      guestAgent: false,
      disks: [{ id: diskId, position: 0 }],
      nics: [],
      ...overrides,
    };
    await d.defineVm(onNode, def);
    return def;
  }

  it.each(KILL_AFTER_MS)('startVm killed after %i ms, then retried: the VM runs, in one QEMU', async (ms) => {
    const vm = await newVm();
    await callKilledAfter(ms, 'startVm', node, vm.vmId, {});
    const again = restarted();
    await again.startVm(node, vm.vmId);
    expect(await again.getVm(node, vm.vmId)).toMatchObject({ powerState: 'running', startedAt: expect.any(String) });
    expect(qemuProcesses(vm.vmId)).toBe(1);
    await again.forceStopVm(node, vm.vmId);
    expect(qemuProcesses(vm.vmId)).toBe(0);
    await again.close();
  });

  it.each(KILL_AFTER_MS)(
    'a live snapshot killed after %i ms, then retried: one snapshot, holding what the disk held, the guest running',
    async (ms) => {
      const vm = await newVm();
      await d.startVm(node, vm.vmId);
      await d.guestWrite(node, vm.disks[0].id, `before-${ms}`);
      const snapshotId = id('snap');
      await callKilledAfter(ms, 'createSnapshot', node, { snapshotId, diskId: vm.disks[0].id, name: 's', fsfreeze: false });
      const again = restarted();
      await again.createSnapshot(node, { snapshotId, diskId: vm.disks[0].id, name: 's', fsfreeze: false });
      expect((await again.listSnapshots(node, { diskId: vm.disks[0].id })).map((s) => s.snapshotId)).toEqual([snapshotId]);
      const copy = id('disk');
      await again.createDiskFromSnapshot(node, { diskId: copy, snapshotId });
      expect((await again.getDisk(node, copy))?.content).toBe(`before-${ms}`);
      expect(await again.getVm(node, vm.vmId)).toMatchObject({ powerState: 'running' });
      // The guest still writes: no copy job or frozen vCPU was left behind.
      await again.guestWrite(node, vm.disks[0].id, 'after');
      expect((await again.getDisk(node, vm.disks[0].id))?.content).toBe('after');
      await again.forceStopVm(node, vm.vmId);
      await again.close();
    },
  );

  it.each(KILL_AFTER_MS)('an in-place rollback killed after %i ms, then retried: the disk holds the snapshot', async (ms) => {
    const vm = await newVm();
    await d.guestWrite(node, vm.disks[0].id, 'v1');
    const snapshotId = id('snap');
    await d.createSnapshot(node, { snapshotId, diskId: vm.disks[0].id, name: 's', fsfreeze: false });
    await d.guestWrite(node, vm.disks[0].id, 'v2');
    await callKilledAfter(ms, 'rollbackSnapshot', node, snapshotId, { discardSnapshots: false });
    const again = restarted();
    await again.rollbackSnapshot(node, snapshotId, { discardSnapshots: false });
    expect(await again.getDisk(node, vm.disks[0].id)).toMatchObject({ content: 'v1', sizeGb: 10 });
    await again.close();
  });

  it.each(MIGRATION_KILL_AFTER_MS)(
    'a live migration whose transfer and switch-over are each killed after %i ms, then retried: the VM runs on the target alone',
    async (ms) => {
      const vm = await newVm();
      await d.startVm(node, vm.vmId);
      await d.guestWrite(node, vm.disks[0].id, 'moving');
      const startedAt = (await d.getVm(node, vm.vmId))?.startedAt;
      const migrationId = id('mig');
      await d.prepareMigrationTarget(other, { migrationId, vmId: vm.vmId, sourceNodeId: node });
      await callKilledAfter(ms, 'transferVm', node, migrationId);
      const again = restarted();
      await again.transferVm(node, migrationId);
      expect(await again.getMigration(node, migrationId)).toMatchObject({ state: 'transferred', progress: 100 });
      // Until the switch-over the VM runs on the source; the target's QEMU only waits for it.
      expect(await again.getVm(node, vm.vmId)).toMatchObject({ powerState: 'running' });
      await callKilledAfter(ms, 'switchOverVm', node, migrationId);
      const third = restarted();
      await third.switchOverVm(node, migrationId);
      await third.cleanUpMigrationSource(node, migrationId);
      expect(await third.getVm(node, vm.vmId)).toBeNull();
      expect(await third.getVm(other, vm.vmId)).toMatchObject({ powerState: 'running', startedAt });
      expect(qemuProcesses(vm.vmId)).toBe(1);
      expect((await third.getDisk(other, vm.disks[0].id))?.content).toBe('moving');
      expect((await third.audit(node)).migrations).toEqual([]);
      await third.forceStopVm(other, vm.vmId);
      await again.close();
      await third.close();
    },
  );

  /**
   * A QEMU binary for an agent that dies while it spawns QEMU: the process hides its arguments (as a forked child
   * that has not exec'd yet: no command line names the VM), says so in `marker`, and runs QEMU `delayMs` later.
   */
  async function forkedQemu(tools: string, delayMs: number): Promise<{ binary: string; marker: string }> {
    const binary = join(tools, 'forked-qemu');
    const marker = join(tools, 'forked');
    await fs.writeFile(
      binary,
      `#!${process.execPath}\n` +
        `process.title = 'vmops-test-forked';\n` +
        `require('node:fs').writeFileSync(${JSON.stringify(marker)}, '');\n` +
        `setTimeout(() => process.exit(require('node:child_process').spawnSync('qemu-system-x86_64', process.argv.slice(2), { stdio: 'inherit' }).status ?? 1), ${delayMs});\n`,
      { mode: 0o755 },
    );
    return { binary, marker };
  }

  /**
   * A running VM holding `moving`, a migration of it prepared, and its transfer started by an agent killed while it
   * spawned the target's QEMU, which execs `delayMs` after (see forkedQemu). `tools` is the test's scratch directory.
   */
  async function transferKilledWhileSpawning(tools: string, delayMs: number) {
    const { binary, marker } = await forkedQemu(tools, delayMs);
    const vm = await newVm();
    await d.startVm(node, vm.vmId);
    await d.guestWrite(node, vm.disks[0].id, 'moving');
    const migrationId = id('mig');
    await d.prepareMigrationTarget(other, { migrationId, vmId: vm.vmId, sourceNodeId: node });
    const first = await agent('transferVm', [node, migrationId], { options: { qemuBinary: binary } });
    const exited = new Promise((r) => first.child.on('exit', r));
    while (!existsSync(marker)) await sleep(10);
    first.child.kill('SIGKILL');
    await exited;
    return { vm, migrationId };
  }

  /** Switches the transferred VM over and cleans the source up: it runs on the target, in one QEMU, its data there. */
  async function switchOverToOneQemu(driver: QemuDriver, vm: VmDefinition, migrationId: string) {
    await driver.switchOverVm(node, migrationId);
    await driver.cleanUpMigrationSource(node, migrationId);
    expect(await driver.getVm(other, vm.vmId)).toMatchObject({ powerState: 'running' });
    expect(qemuProcesses(vm.vmId)).toBe(1);
    expect((await driver.getDisk(other, vm.disks[0].id))?.content).toBe('moving');
    await driver.forceStopVm(other, vm.vmId);
    expect(qemuProcesses(vm.vmId)).toBe(0);
  }

  it('a transfer whose agent died before the target QEMU it forked was QEMU, then retried: the VM ends in that one QEMU', async () => {
    // The window CI found: the agent forks the target's QEMU and dies before the child execs it. The retry finds no
    // QEMU by its command line and spawns its own, while the first comes up beside it. Here the first agent's QEMU
    // execs 1.5 s after that agent's death, and the retry's 3 s after its spawn: the first is up by then, and the
    // VM must end in it alone, its disk mirrored into.
    const tools = await fs.mkdtemp(join(tmpdir(), 'vmops-forked-'));
    const slow = join(tools, 'slow-qemu');
    await fs.writeFile(slow, '#!/bin/sh\nsleep 3\nexec qemu-system-x86_64 "$@"\n', { mode: 0o755 });
    const { vm, migrationId } = await transferKilledWhileSpawning(tools, 1500);

    const retry = await agent('transferVm', [node, migrationId], { options: { qemuBinary: slow } });
    const code = await new Promise((r) => retry.child.on('exit', r));
    expect({ code, stderr: retry.stderr() }).toEqual({ code: 0, stderr: '' });
    const again = restarted();
    await switchOverToOneQemu(again, vm, migrationId);
    await again.close();
    await fs.rm(tools, { recursive: true, force: true });
  });

  it('a transfer retried when the target QEMU no longer writes the image under its name: that QEMU is stopped, the next attempt moves the data', async () => {
    // The switch-over moves the files under the target's names into place. Whatever replaced one under a running
    // target QEMU (here, the test; in the field, what a dead attempt left running), the retry must not mirror into a
    // file no name reaches any more: the VM would then run on the target from an empty disk.
    const tools = await fs.mkdtemp(join(tmpdir(), 'vmops-forked-'));
    const { vm, migrationId } = await transferKilledWhileSpawning(tools, 0);
    // Up once the process that started it is gone (QEMU's daemonizing parent leaves when its setup is done).
    for (let i = 0; processes((cmdline) => cmdline.startsWith('vmops-test-forked')) > 0 || qemuProcesses(vm.vmId) !== 2; i++) {
      if (i > 500) throw new Error('the target QEMU did not come up');
      await sleep(20);
    }
    const image = join(root, 'nodes', other, 'incoming', migrationId, `${vm.disks[0].id}.qcow2`);
    await fs.rm(image);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '10G']);

    const again = restarted();
    await expect(again.transferVm(node, migrationId)).rejects.toThrow(/was not writing the disk images the switch-over moves/);
    expect(qemuProcesses(vm.vmId)).toBe(1);
    await again.transferVm(node, migrationId);
    await switchOverToOneQemu(again, vm, migrationId);
    await again.close();
    await fs.rm(tools, { recursive: true, force: true });
  });

  it.each(KILL_AFTER_MS)('a graceful stop killed after %i ms, then retried: the guest powers off', async (ms) => {
    const vm = await newVm({ guestAgent: true });
    await d.startVm(node, vm.vmId);
    await callKilledAfter(ms, 'stopVm', node, vm.vmId, { timeoutSeconds: 30 });
    const again = restarted();
    expect(await again.stopVm(node, vm.vmId, { timeoutSeconds: 30 })).toBe('stopped');
    expect(await again.getVm(node, vm.vmId)).toMatchObject({ powerState: 'stopped', startedAt: null });
    expect(qemuProcesses(vm.vmId)).toBe(0);
    await again.close();
  });
});
