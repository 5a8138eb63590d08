import { randomUUID } from 'node:crypto';
import { SimulatedHypervisor, SimulatorControl } from '../libs/hypervisor/src';
import { describeDriverContract } from './contract/driver-contract';

const capacity = { cpus: 16, memoryMb: 32768, storageGb: 2000 };

describeDriverContract('simulated hypervisor', async () => {
  const databaseUrl = process.env.VMOPS_TEST_DATABASE_URL!;
  const schema = `sim_contract_${randomUUID().slice(0, 8)}`;
  const driver = new SimulatedHypervisor({ databaseUrl, schema, guestShutdownMs: 200, transferStepMs: 10 });
  const control = new SimulatorControl({ databaseUrl, schema });
  const [nodeId, otherNodeId] = ['contract-node-a', 'contract-node-b'];
  await control.registerNode(nodeId, capacity);
  await control.registerNode(otherNodeId, capacity);
  return {
    driver,
    nodeId,
    otherNodeId,
    capacity,
    templateId: 'debian-12',
    writeToDisk: (diskId, content) => control.writeToDisk(diskId, content),
    async close() {
      await driver.close();
      await control.close();
    },
  };
});
