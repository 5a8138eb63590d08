import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { NodeCapacity } from '../../libs/driver/src';
import { QemuDriver } from '../../libs/hypervisor/src/qemu';

/** The tiny guest scripts/install-qemu.sh builds (scripts/test.sh runs it). */
export const QEMU_GUEST = {
  kernel: resolve(__dirname, '../../.tools/qemu-guest/vmlinux'),
  initrd: resolve(__dirname, '../../.tools/qemu-guest/initramfs.gz'),
};

/** A QEMU driver over a fresh root of its own, its nodes registered, the base image and an ISO in its store. */
export async function qemuNodes(
  nodeIds: string[],
  capacity: NodeCapacity,
  options: { templateId?: string; templateGb?: number; iso?: string } = {},
): Promise<{ driver: QemuDriver; root: string; close(): Promise<void> }> {
  const root = await fs.mkdtemp(join(tmpdir(), 'vmops-qemu-'));
  const driver = new QemuDriver({ root, guestKernel: QEMU_GUEST.kernel, guestInitrd: QEMU_GUEST.initrd, powerButtonRepeatMs: 500 });
  for (const nodeId of nodeIds) await driver.registerNode(nodeId, capacity);
  await driver.ensureBaseImage(options.templateId ?? 'debian-12', options.templateGb ?? 10);
  if (options.iso) {
    await fs.mkdir(join(root, 'isos'), { recursive: true });
    await fs.writeFile(join(root, 'isos', options.iso), Buffer.alloc(2 ** 20));
  }
  return {
    driver,
    root,
    async close() {
      await driver.destroyAll();
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}
