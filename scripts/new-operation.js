#!/usr/bin/env node
// npm run new:operation -- <resource>.<verb>   (e.g. disk.copy, vm.reset_password)
//
// Writes a new operation type wired end to end, ready to fill in (docs/writing-an-operation.md walks through it):
//   workflows/plans/<type>.plan.ts        its input and its plan, with one skeleton step
//   workflows/plans/<type>.plan.spec.ts   the plan's unit test
//   apps/api/src/<dir>/<type>.endpoint.ts its prepare (the VM's lock) and POST /v1/vms/{id}/<verb>
//   test/<type>.test.ts                    its saga test (checkSaga) and its recorded history
// and one line each where the compiler and the catalogue's unit test hold them together: the type in
// OPERATION_TYPES, the catalogue entry, the workflow's export, the endpoint's module in the app.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const type = process.argv[2];

function fail(message) {
  console.error(`new:operation: ${message}`);
  process.exit(1);
}

if (!type || !/^[a-z]+\.[a-z][a-z_]*$/.test(type)) fail('give the operation type as <resource>.<verb>, lower case, e.g. disk.copy');
const operations = readFileSync(join(ROOT, 'libs/contracts/src/operations.ts'), 'utf8');
if (operations.includes(`'${type}',`)) fail(`${type} exists already`);

const [resource, verb] = type.split('.');
const pascal = (s) => s.replace(/(^|_)([a-z])/g, (_, __, c) => c.toUpperCase());
const camel = (s) => s.charAt(0).toLowerCase() + s.slice(1);
const name = `${pascal(verb)}${pascal(resource)}`; // disk.copy → CopyDisk
const plan = `${camel(name)}Plan`;
const workflow = `${camel(name)}Workflow`;
const input = `${name}Input`;
const kebab = verb.replace(/_/g, '-');
const dir =
  { vm: 'vms', disk: 'disks', nic: 'interfaces', snapshot: 'snapshots', template: 'templates', node: 'nodes' }[resource] ?? `${resource}s`;
const files = {
  plan: `workflows/plans/${type}.plan.ts`,
  spec: `workflows/plans/${type}.plan.spec.ts`,
  endpoint: `apps/api/src/${dir}/${type}.endpoint.ts`,
  test: `test/${type}.test.ts`,
};
for (const file of Object.values(files)) if (existsSync(join(ROOT, file))) fail(`${file} exists already`);

/** Inserts `insert` just before `anchor` in the file. */
function edit(file, anchor, insert) {
  const path = join(ROOT, file);
  const text = readFileSync(path, 'utf8');
  const at = text.indexOf(anchor);
  if (at < 0) fail(`${file}: cannot find "${anchor}" to add ${type} to`);
  writeFileSync(path, text.slice(0, at) + insert + text.slice(at));
}

/** Adds an import after the file's last one (a multi-line import ends at its `from '…';` line). */
function addImport(file, line) {
  const path = join(ROOT, file);
  const lines = readFileSync(path, 'utf8').split('\n');
  let last = -1;
  for (let i = 0; i < lines.length && !/^(export |@|const |function |\/\*\*)/.test(lines[i]); i++)
    if (/ from '[^']+';$/.test(lines[i])) last = i;
  if (last < 0) fail(`${file}: no import to add ${type}'s after`);
  lines.splice(last + 1, 0, line);
  writeFileSync(path, lines.join('\n'));
}

function write(file, text) {
  writeFileSync(join(ROOT, file), text);
}

write(
  files.plan,
  `import type { OperationPlan, VmOperationInput } from '../../libs/contracts/src';

/** ${type}: what the API decided before the workflow starts (ids, sizes, positions), for the plan to act on. */
export type ${input} = VmOperationInput;

/**
 * ${type}: <the steps, top to bottom, and what undoes each>.
 * Replace the skeleton step: each step names its activity, its arguments, a summary for the Temporal UI and the
 * activity that undoes it (see workflows/plans/steps.ts for the shared ones, docs/writing-an-operation.md).
 */
export function ${plan}({ nodeId, vmId, hostname }: ${input}): OperationPlan {
  return {
    steps: [{ name: 'inspectVm', do: { activity: 'getVm', args: { nodeId, vmId }, summary: \`Read \${hostname} as its node has it\` } }],
  };
}
`,
);

write(
  files.spec,
  `import { activities, expectSound, vm } from '../../test/support/plan-kit';
import { ${plan} } from './${type}.plan';

describe('${type} plan', () => {
  it('runs its steps in order, each with the undo that reverses it', () => {
    const plan = ${plan}(vm);
    expectSound(plan);
    expect(activities(plan)).toEqual([['getVm', null]]);
  });
});
`,
);

write(
  files.endpoint,
  `import { OPERATIONS } from '@vmops/catalogue';
import { Controller, Injectable, Module, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '../auth/auth';
import { Mutation } from '../common/mutation-options';
import { uuidParam } from '../common/params';
import { OperationsService, type LaunchResult, type MutationOptions } from '../operations/operations.service';
import { VmLockService, vmOperationInput } from '../operations/vm-lock.service';
import { MutatingEndpoint } from '../vms/vms.controller';

@Injectable()
export class ${name}Service {
  constructor(
    private readonly operations: OperationsService,
    private readonly locks: VmLockService,
  ) {}

  // A request with fields gets a DTO (a class whose every field has its class-validator and @ApiProperty decorators),
  // taken here and by the endpoint with @Body(): docs/writing-an-operation.md, "The request".
  launch(principal: Principal, vmId: string, options: MutationOptions): Promise<LaunchResult> {
    return this.operations.launch(
      {
        principal,
        operation: OPERATIONS['${type}'],
        request: { vmId },
        // In the transaction that records the operation: take the VM, check the request against the inventory (throw
        // the ApiError that applies), reserve what the operation needs and choose every id the plan will use.
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquireSettled(tx, principal.tenantId, vmId, operationId, '${verb.replace(/_/g, ' ')}');
          return { vm, input: vmOperationInput(operationId, vm) };
        },
      },
      options,
    );
  }
}

@ApiTags('${dir}')
@ApiBearerAuth()
@Controller('v1/vms')
export class ${name}Controller {
  constructor(private readonly service: ${name}Service) {}

  @Post(':id/${kebab}')
  @MutatingEndpoint('${type}: <what it does, in one line>', 'Starts a ${type} operation. <Its 4xx answers.>')
  ${camel(name)}(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string, @Mutation() o: MutationOptions) {
    return this.service.launch(p, id, o);
  }
}

@Module({ controllers: [${name}Controller], providers: [${name}Service] })
export class ${name}Module {}
`,
);

write(
  files.test,
  `import { startHarness, type Harness } from './support/harness';
import { recordOperationHistory } from './support/histories';
import { checkSaga } from './support/saga-kit';

describe('${type}', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness();
    ({ apiKey: key } = await h.newTenant());
  });
  afterAll(() => h?.close());
  afterEach(() => h.resetFaults());

  it('runs its driver calls in order, and is undone at every one of them', async () => {
    const calls = await checkSaga(h, key, {
      setup: async () => {
        const vm = await h.createVm(key);
        return { vmId: vm.id, nodeId: vm.nodeId, request: { method: 'POST', path: \`/v1/vms/\${vm.id}/${kebab}\` } };
      },
    });
    expect(calls).toEqual(['getVm']);
  });

  it('succeeds as a user sees it, and its history is recorded for the replay suite', async () => {
    const vm = await h.createVm(key);
    const op = await h.runOperation(key, 'POST', \`/v1/vms/\${vm.id}/${kebab}\`);
    await recordOperationHistory(h, op.id, '${type.replace(/[._]/g, '-')}.succeeded');
    expect(op.status).toBe('succeeded');
  });
});
`,
);

edit('libs/contracts/src/operations.ts', '] as const;\nexport type OperationType', `  '${type}',\n`);
addImport('workflows/catalogue.ts', `import { ${plan}, type ${input} } from './plans/${type}.plan';`);
edit(
  'workflows/catalogue.ts',
  '} satisfies Record<OperationType, unknown>;',
  `  '${type}': entry<${input}>()('${workflow}', 15 * MINUTES, ${plan}),\n`,
);
write(
  'workflows/operations.workflow.ts',
  readFileSync(join(ROOT, 'workflows/operations.workflow.ts'), 'utf8') +
    `export const ${workflow} = operationWorkflow(OPERATIONS['${type}']);\n`,
);
edit('workflows/index.ts', "} from './operations.workflow';", `  ${workflow},\n`);
addImport('apps/api/src/app.module.ts', `import { ${name}Module } from './${dir}/${type}.endpoint';`);
edit('apps/api/src/app.module.ts', '        // Operations added by `npm run new:operation`', `        ${name}Module,\n`);

const touched = [
  ...Object.values(files),
  'libs/contracts/src/operations.ts',
  'workflows/catalogue.ts',
  'workflows/operations.workflow.ts',
  'workflows/index.ts',
  'apps/api/src/app.module.ts',
];
execFileSync('npx', ['prettier', '--log-level', 'warn', '--write', ...touched], { cwd: ROOT, stdio: 'inherit' });
execFileSync('npx', ['eslint', '--fix', ...touched], { cwd: ROOT, stdio: 'inherit' });
console.log(`${type}: written and wired\n${touched.map((f) => `  ${f}`).join('\n')}`);
console.log(`next: fill in the plan, its spec, the DTO and prepare, the saga test (docs/writing-an-operation.md); then
  npm run build && npm run openapi      # the endpoint in openapi.json and the typed client
  RECORD_HISTORIES=1 ./scripts/test.sh ${files.test} ${files.spec}`);
