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
    close: () => nodes.close(),
  };
});
