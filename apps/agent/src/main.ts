import { NativeConnection } from '@temporalio/worker';
import { loadAgentConfig, type AgentConfig } from '@vmops/config';
import { QemuDriver, SimulatedHypervisor, SimulatorControl, type FaultSpec } from '@vmops/hypervisor';
import { createNodeAgent } from './agent';

/** The node agent process: AGENT_NODE_IDS names the nodes it serves, each on its own task queue. */
async function main(): Promise<void> {
  const config = loadAgentConfig();
  const driver = config.driver === 'qemu' ? await qemuDriver(config) : await simulatedDriver(config);
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  try {
    const agent = await createNodeAgent({
      connection,
      namespace: config.temporalNamespace,
      sharedTaskQueue: config.temporalTaskQueue,
      nodeIds: config.nodeIds,
      driver,
      maxCalls: config.maxCalls,
      maxLongCalls: config.maxLongCalls,
    });
    for (const [nodeId, queue] of Object.entries(agent.queues)) console.log(`agent: node ${nodeId} polls task queue "${queue}"`);
    await agent.run();
  } finally {
    await connection.close();
    await driver.close();
  }
}

/** The simulated hypervisor (the default): its nodes registered with their capacity, its configured faults in force. */
async function simulatedDriver(config: AgentConfig): Promise<SimulatedHypervisor> {
  const { simulator } = config;
  const driver = new SimulatedHypervisor({
    databaseUrl: simulator.databaseUrl,
    schema: simulator.schema,
    latencyMs: simulator.latencyMs,
    guestShutdownMs: simulator.guestShutdownMs,
    transferStepMs: simulator.transferStepMs,
  });
  const control = new SimulatorControl({ databaseUrl: simulator.databaseUrl, schema: simulator.schema, poolSize: 1 });
  try {
    for (const nodeId of config.nodeIds) await control.registerNode(nodeId, config.nodeCapacity);
    for (const fault of simulator.faults ? (JSON.parse(simulator.faults) as FaultSpec[]) : []) {
      const { id } = await control.ensureFault(fault);
      console.log(`agent: fault #${id} in force: ${JSON.stringify(fault)}`);
    }
  } finally {
    await control.close();
  }
  return driver;
}

/** QEMU (scripts/install-qemu.sh): the nodes' directories under QEMU_ROOT, the configured base images in its store. */
async function qemuDriver(config: AgentConfig): Promise<QemuDriver> {
  const { qemu } = config;
  const driver = new QemuDriver({ root: qemu.root, guestKernel: qemu.guestKernel, guestInitrd: qemu.guestInitrd, accel: qemu.accel });
  for (const nodeId of config.nodeIds) await driver.registerNode(nodeId, config.nodeCapacity);
  for (const image of qemu.baseImages) await driver.ensureBaseImage(image.templateId, image.sizeGb);
  console.log(`agent: QEMU driver (${qemu.accel}), state under ${qemu.root}`);
  return driver;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
