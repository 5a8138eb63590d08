import { describeDriverContract } from './contract/driver-contract';
import { qemuNodes } from './support/qemu';

const capacity = { cpus: 16, memoryMb: 32768, storageGb: 2000 };

// The same contract as the simulated hypervisor's, on real QEMU processes (TCG) and qcow2 images.
describeDriverContract('QEMU', async () => {
  const [nodeId, otherNodeId] = ['qemu-node-a', 'qemu-node-b'];
  const nodes = await qemuNodes([nodeId, otherNodeId], capacity, { templateId: 'debian-12', iso: 'debian-12-netinst.iso' });
  return {
    driver: nodes.driver,
    nodeId,
    otherNodeId,
    capacity,
    templateId: 'debian-12',
    writeToDisk: (diskId, content) => nodes.driver.guestWrite(nodeId, diskId, content),
    async guestUp(vmId) {
      for (const deadline = Date.now() + 60_000; !(await nodes.driver.serialLog(nodeId, vmId)).includes('vmops-guest: up');) {
        if (Date.now() > deadline) throw new Error(`the guest of ${vmId} did not come up in 60 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    close: () => nodes.close(),
  };
});
