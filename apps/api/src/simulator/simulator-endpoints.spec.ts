import { loadConfig } from '@vmops/config';
import { previewOpenApiDocument } from '../bootstrap';

const paths = async (env: Record<string, string>) =>
  Object.keys((await previewOpenApiDocument(loadConfig({ DATABASE_URL: 'postgresql://spec@127.0.0.1:1/preview', ...env }))).paths);

describe("the simulator's admin endpoints", () => {
  it('are served where the nodes run the simulated driver, and absent where they run QEMU', async () => {
    expect(await paths({})).toContain('/v1/admin/simulator/faults');
    const qemu = await paths({ AGENT_DRIVER: 'qemu' });
    expect(qemu.filter((p) => p.includes('simulator'))).toEqual([]);
    expect(qemu).toContain('/v1/admin/nodes/{id}/audit');
  });
});
