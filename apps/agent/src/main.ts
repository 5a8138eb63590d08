import { NativeConnection } from '@temporalio/worker';
import { loadAgentConfig } from '@vmops/config';
import { SimulatedHypervisor, SimulatorControl, type FaultSpec } from '@vmops/hypervisor';
import { createNodeAgent } from './agent';

/** The node agent process: AGENT_NODE_IDS names the nodes it serves, each on its own task queue. */
async function main(): Promise<void> {
  const config = loadAgentConfig();
  const { simulator } = config;
  const driver = new SimulatedHypervisor({
    databaseUrl: simulator.databaseUrl,
    schema: simulator.schema,
    latencyMs: simulator.latencyMs,
    guestShutdownMs: simulator.guestShutdownMs,
    transferStepMs: simulator.transferStepMs,
  });
  const control = new SimulatorControl({ databaseUrl: simulator.databaseUrl, schema: simulator.schema, poolSize: 1 });
  for (const nodeId of config.nodeIds) await control.registerNode(nodeId, config.nodeCapacity);
  for (const fault of simulator.faults ? (JSON.parse(simulator.faults) as FaultSpec[]) : []) {
    const { id } = await control.ensureFault(fault);
    console.log(`agent: fault #${id} in force: ${JSON.stringify(fault)}`);
  }
  await control.close();

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

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
