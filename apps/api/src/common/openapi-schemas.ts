import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { API_ERRORS, OPERATION_STATUSES, OPERATION_TYPES, STEP_STATUS_MEANINGS } from '@vmops/contracts';
import { VM_STATUSES } from '@vmops/domain';

/**
 * The schemas of what the API answers, as `openapi.json` publishes them (components/schemas). Each is held by the
 * integration suite: every answer a test receives is validated against the schema its endpoint documents
 * (test/support/openapi-check.ts), so a view that changes without its schema fails a test.
 */
const nullable = (schema: SchemaObject): SchemaObject => ({ ...schema, nullable: true });
/** An object of exactly these properties, all required; `optional` ones may be left out. */
const object = (
  properties: Record<string, SchemaObject>,
  extra: Partial<SchemaObject> = {},
  optional: Record<string, SchemaObject> = {},
): SchemaObject => ({
  type: 'object',
  required: Object.keys(properties),
  additionalProperties: false,
  properties: { ...properties, ...optional },
  ...extra,
});
const uuid: SchemaObject = { type: 'string', format: 'uuid' };
const time: SchemaObject = { type: 'string', format: 'date-time' };
const int: SchemaObject = { type: 'integer', minimum: 0 };

/** The schemas every endpoint shares: the error body and the operation a mutation answers with. */
export const SHARED_SCHEMAS: Record<string, SchemaObject> = {
  Error: object({
    error: object({
      code: {
        type: 'string',
        enum: Object.keys(API_ERRORS),
        description: 'A code of the error catalogue (the README lists each with its meaning)',
      },
      message: { type: 'string', description: 'What went wrong and what to do about it' },
      details: {
        type: 'object',
        additionalProperties: true,
        description: 'Machine-readable context: the fields, ids, statuses the message names',
      },
    }),
  }),
  OperationStep: object({
    name: { type: 'string' },
    status: { type: 'string', enum: Object.keys(STEP_STATUS_MEANINGS) },
    startedAt: nullable(time),
    finishedAt: nullable(time),
    attempts: int,
    error: nullable({ type: 'string' }),
  }),
  Operation: object(
    {
      id: uuid,
      type: { type: 'string', enum: [...OPERATION_TYPES] },
      status: { type: 'string', enum: [...OPERATION_STATUSES] },
      vmId: nullable(uuid),
      createdAt: time,
      updatedAt: time,
      finishedAt: nullable(time),
      deadline: nullable(time),
      overdue: { type: 'boolean', description: 'Still running past its deadline: someone should look at it' },
      progress: object({
        step: nullable({ type: 'string' }),
        stepsDone: int,
        stepsTotal: int,
        percent: { type: 'integer', minimum: 0, maximum: 100 },
        stepPercent: nullable({ type: 'number', minimum: 0, maximum: 100 }),
        stepBytes: nullable(object({ transferred: int, total: int })),
        children: nullable(object({ succeeded: int, failed: int, remaining: int })),
      }),
      steps: { type: 'array', items: { $ref: '#/components/schemas/OperationStep' } },
      error: nullable(
        object({
          code: { type: 'string', description: 'A code of the operation error catalogue' },
          message: { type: 'string' },
          step: nullable({ type: 'string' }),
        }),
      ),
      mayCancel: { type: 'boolean' },
      pointOfNoReturn: nullable({ type: 'string' }),
      waiting: nullable(object({ for: { type: 'string' }, step: { type: 'string' }, until: time })),
      children: {
        type: 'array',
        items: object({ step: { type: 'string' }, operationId: uuid, vmId: uuid, status: { type: 'string' }, link: { type: 'string' } }),
      },
      resources: object({ vms: { type: 'array', items: { type: 'string' } } }),
      links: object({ self: { type: 'string' }, vm: nullable({ type: 'string' }), temporalUi: { type: 'string' } }),
    },
    { description: 'An operation: a workflow run on the caller’s behalf, its steps and how it ended' },
    // An interface's detach or delete that leaves the VM without one says so (the operation still runs).
    { warnings: { type: 'array', items: { type: 'string' } } },
  ),
};

SHARED_SCHEMAS.Vm = object(
  {
    id: uuid,
    hostname: { type: 'string' },
    label: nullable({ type: 'string' }),
    note: nullable({ type: 'string' }),
    cpus: { type: 'integer', minimum: 1 },
    memoryMb: { type: 'integer', minimum: 1 },
    status: { type: 'string', enum: [...VM_STATUSES] },
    frozen: { type: 'boolean' },
    pendingSize: nullable(object({ cpus: { type: 'integer' }, memoryMb: { type: 'integer' } })),
    locked: { type: 'boolean' },
    currentOperationId: nullable(uuid),
    nodeId: uuid,
    templateId: nullable(uuid),
    disks: { type: 'array', items: object({ id: uuid, position: nullable(int), sizeGb: { type: 'integer', minimum: 1 } }) },
    interfaces: {
      type: 'array',
      items: object({
        id: uuid,
        position: nullable(int),
        mac: { type: 'string' },
        network: { type: 'string' },
        ipAddress: nullable({ type: 'string' }),
      }),
    },
    createdAt: time,
    updatedAt: time,
    links: object({ self: { type: 'string' }, operations: { type: 'string' } }),
  },
  { description: 'A VM as the inventory records it' },
  // With ?live=true on the list: the VM as its node has it now, or why it could not be read.
  { live: { nullable: true, type: 'object', additionalProperties: true } },
);

/** A keyset page of `item`: `nextCursor` continues it; `total` only with ?total=true. */
const pageOf = (item: string): SchemaObject =>
  object(
    {
      items: { type: 'array', items: { $ref: `#/components/schemas/${item}` } },
      limit: int,
      offset: int,
      nextCursor: nullable({ type: 'string' }),
    },
    {},
    { total: int },
  );
SHARED_SCHEMAS.VmPage = pageOf('Vm');
SHARED_SCHEMAS.OperationPage = pageOf('Operation');

const str: SchemaObject = { type: 'string' };
const bool: SchemaObject = { type: 'boolean' };
const ref = (name: string): SchemaObject => ({ $ref: `#/components/schemas/${name}` }) as SchemaObject;
const arrayOf = (item: SchemaObject): SchemaObject => ({ type: 'array', items: item });
/** A list of every item at once (no paging), with the count where the endpoint gives it. */
const listOf = (item: string, extra: Record<string, SchemaObject> = {}): SchemaObject => object({ items: arrayOf(ref(item)), ...extra });
const anyObject: SchemaObject = { type: 'object', additionalProperties: true };

SHARED_SCHEMAS.DryRun = object(
  {
    dryRun: { type: 'boolean', enum: [true] },
    type: { type: 'string', enum: [...OPERATION_TYPES] },
    vmId: nullable(uuid),
    nodeId: uuid,
    steps: arrayOf(
      object(
        {
          name: str,
          activity: nullable(str),
          summary: str,
          undo: nullable(str),
          undoActivity: nullable(str),
          commit: { type: 'boolean', description: 'The point of no return: once it has run, a failure goes forward, not back' },
        },
        {},
        { waitsFor: str, timeoutSeconds: int, childWorkflow: str },
      ),
    ),
    afterCompensation: nullable(str),
    afterCompensationActivity: nullable(str),
  },
  { description: 'With dryRun=true: the plan the operation would run, step by step with each undo; nothing was changed' },
  // An interface's detach or delete that would leave the VM without one says so.
  { warnings: arrayOf(str) },
);

SHARED_SCHEMAS.Disk = object(
  {
    id: uuid,
    vmId: nullable(uuid),
    nodeId: uuid,
    position: { ...nullable(int), description: 'Null when detached' },
    sizeGb: { type: 'integer', minimum: 1 },
    templateId: nullable(uuid),
    createdAt: time,
  },
  { description: 'A disk: attached to its VM at a position, or detached (still the VM’s, or left over)' },
);
SHARED_SCHEMAS.DiskList = listOf('Disk');

const networkInterface = {
  id: uuid,
  vmId: nullable(uuid),
  nodeId: uuid,
  position: { ...nullable(int), description: 'Null when detached' },
  mac: str,
  network: str,
  ipAddress: nullable(str),
  createdAt: time,
};
SHARED_SCHEMAS.Interface = object(networkInterface, { description: 'A network interface: its MAC, network and address' });
SHARED_SCHEMAS.InterfaceList = listOf('Interface');
SHARED_SCHEMAS.VmInterfaceList = listOf('Interface', { warnings: arrayOf(str) });

SHARED_SCHEMAS.Snapshot = object(
  {
    id: uuid,
    name: str,
    vmId: nullable(uuid),
    diskId: uuid,
    type: { type: 'string', enum: ['manual', 'automatic'] },
    note: nullable(str),
    status: { type: 'string', enum: ['pending', 'ok', 'deleting', 'failed'] },
    sizeMb: nullable(int),
    definitionId: nullable(uuid),
    createdAt: time,
  },
  { description: 'A snapshot of one disk: manual, or taken by a snapshot definition' },
);
SHARED_SCHEMAS.SnapshotPage = listOf('Snapshot', { total: int, limit: int, offset: int });

SHARED_SCHEMAS.SnapshotDefinition = object(
  {
    id: uuid,
    name: str,
    vmId: uuid,
    diskId: uuid,
    schedule: { type: 'string', description: 'Five-field cron, UTC' },
    retention: { type: 'integer', minimum: 1, description: 'The most automatic snapshots of this definition kept' },
    active: bool,
    fsfreeze: bool,
    onBusy: { type: 'string', enum: ['skip', 'retry'] },
    description: nullable(str),
    scheduleId: { type: 'string', description: 'The Temporal Schedule that runs it (Temporal UI → Schedules)' },
    nextRunAt: { ...nullable(time), description: 'Null while inactive' },
    createdAt: time,
    updatedAt: time,
  },
  { description: 'A snapshot definition: a schedule that snapshots a disk and keeps the newest `retention`' },
);
SHARED_SCHEMAS.SnapshotDefinitionList = listOf('SnapshotDefinition');
SHARED_SCHEMAS.ScheduleTriggered = object(
  { scheduleId: str, triggered: { type: 'boolean', enum: [true] } },
  { description: 'The schedule was triggered: its run shows among the schedule’s actions' },
);

SHARED_SCHEMAS.Template = object(
  {
    id: uuid,
    name: str,
    osFamily: str,
    diskSizeGb: { type: 'integer', minimum: 1 },
    visibility: {
      type: 'string',
      enum: ['public', 'tenant'],
      description: 'public: a base template, everyone’s; tenant: made by your tenant from one of its VMs',
    },
    status: { type: 'string', enum: ['creating', 'ready', 'deleting'] },
    sourceVmId: nullable(uuid),
    description: nullable(str),
    createdAt: time,
  },
  { description: 'A template a VM is created or rebuilt from' },
);
SHARED_SCHEMAS.TemplateList = listOf('Template', { total: int });

const resources = { cpus: int, memoryMb: int, storageGb: int };
SHARED_SCHEMAS.Node = object(
  { id: uuid, name: str, datacenter: str, status: { type: 'string', enum: ['online', 'offline', 'maintenance'] } },
  { description: 'A hypervisor node; with an admin key also its capacity and what is used of it' },
  { capacity: object(resources), used: object({ vms: int, ...resources }) },
);
SHARED_SCHEMAS.NodeList = listOf('Node', { total: int });

const apiKey = {
  id: uuid,
  name: str,
  role: { type: 'string', enum: ['member', 'admin'] },
  prefix: { type: 'string', description: 'The start of the key, to tell keys apart' },
  createdAt: time,
  revokedAt: nullable(time),
};
SHARED_SCHEMAS.ApiKey = object(apiKey, { description: 'An API key of your tenant (never the key itself)' });
SHARED_SCHEMAS.NewApiKey = object({ ...apiKey, key: { type: 'string', description: 'The key: shown this once, only its hash is kept' } });
SHARED_SCHEMAS.ApiKeyList = listOf('ApiKey', { total: int });

SHARED_SCHEMAS.AntiAffinityGroup = object(
  {
    id: uuid,
    name: str,
    description: nullable(str),
    members: arrayOf(object({ vmId: uuid, hostname: str, nodeId: uuid })),
    createdAt: time,
  },
  { description: 'VMs that must run on different nodes' },
);
SHARED_SCHEMAS.AntiAffinityGroupList = listOf('AntiAffinityGroup');

SHARED_SCHEMAS.VmCount = object({ count: int });

const refusal = object(
  { code: str, message: str },
  {},
  { group: object({ id: uuid, name: str }), vm: object({ id: uuid, hostname: str }) },
);
SHARED_SCHEMAS.MigrationCheck = object(
  {
    vmId: uuid,
    hostname: str,
    nodeId: uuid,
    mode: { type: 'string', enum: ['live', 'cold'] },
    canMigrate: { type: 'boolean', description: 'Whether a migration in this mode would be accepted now' },
    reasons: { ...arrayOf(refusal), description: 'The VM’s own reasons not to migrate, wherever to' },
    busyWith: nullable(object({ operationId: uuid, type: str })),
    targets: arrayOf(object({ nodeId: uuid, name: str, eligible: bool, reasons: arrayOf(refusal) })),
    placementChoice: { ...nullable(uuid), description: 'The node a migration without targetNodeId would go to' },
  },
  { description: 'Whether the VM can migrate, and where to (Gandi’s can_migrate)' },
);

SHARED_SCHEMAS.LiveStatus = object(
  {
    vmId: uuid,
    hostname: str,
    node: object({ id: uuid, name: str }),
    inventoryStatus: { type: 'string', enum: [...VM_STATUSES] },
    live: nullable(
      object({
        powerState: { type: 'string', enum: ['running', 'stopping', 'stopped'] },
        frozen: bool,
        cpus: int,
        memoryMb: int,
        bootIso: nullable(str),
        startedAt: nullable(time),
      }),
    ),
    inSync: bool,
    differences: arrayOf(str),
  },
  { description: 'The VM as its node has it now, beside the inventory; null `live` when the node has no such VM' },
);

SHARED_SCHEMAS.OperationEvent = object(
  {
    operationId: uuid,
    type: { type: 'string', enum: [...OPERATION_TYPES] },
    vmId: nullable(uuid),
    status: { type: 'string', enum: [...OPERATION_STATUSES] },
    at: time,
  },
  { description: 'The data of one `operation` event of GET /v1/events (the event’s id resumes the stream through Last-Event-ID)' },
);

const auditedKind: SchemaObject = { type: 'string', enum: ['vm', 'disk', 'nic', 'snapshot', 'migration'] };
const audited = object({ kind: auditedKind, id: str });
SHARED_SCHEMAS.NodeAudit = object(
  {
    node: object({ id: uuid, name: str }),
    diff: object({
      clean: bool,
      orphans: arrayOf(audited),
      missing: arrayOf(audited),
      mismatches: arrayOf(object({ kind: auditedKind, id: str, field: str, inventory: {}, node: {} })),
      skipped: arrayOf(uuid),
    }),
    audit: { ...anyObject, description: 'What the node’s driver reported: capacity, used, vms, disks, snapshots, nics, migrations' },
  },
  { description: 'A node’s hypervisor diffed against the inventory' },
);

const fault = object({
  id: { type: 'integer', minimum: 1 },
  method: str,
  nodeId: nullable(str),
  error: { type: 'string', enum: ['unavailable', 'invalid_state', 'not_found', 'capacity'] },
  message: nullable(str),
  skipCalls: int,
  failCalls: nullable(int),
  probability: { type: 'number', minimum: 0, maximum: 1 },
  lands: bool,
  seen: int,
  failed: int,
});
SHARED_SCHEMAS.SimulatorFault = fault;
SHARED_SCHEMAS.SimulatorFaultList = listOf('SimulatorFault');
SHARED_SCHEMAS.SimulatorLatencyList = object({ items: arrayOf(object({ method: str, nodeId: nullable(str), ms: int })) });
SHARED_SCHEMAS.SimulatorCallCount = object({ method: nullable(str), nodeId: nullable(str), count: int });

/**
 * What each endpoint's 2xx answers, by `METHOD path` and status (the operation a 202 starts and a dry run's plan are
 * found from the response's description instead; a list: one of them). Every 2xx of the document must be covered: describeResponses
 * refuses to start the API with one that is not, so a new endpoint comes with its schema.
 */
export const RESPONSE_SCHEMAS: Record<string, Record<string, string | string[]>> = {
  'GET /v1/vms': { 200: 'VmPage' },
  'GET /v1/vms/{id}': { 200: 'Vm' },
  'PATCH /v1/vms/{id}': { 200: ['Vm', 'DryRun'] },
  'GET /v1/vms/count': { 200: 'VmCount' },
  'GET /v1/vms/{id}/status/current': { 200: 'LiveStatus' },
  'PUT /v1/vms/{id}/status/current': { 200: 'LiveStatus' },
  'GET /v1/vms/{id}/migration-check': { 200: 'MigrationCheck' },
  'GET /v1/operations': { 200: 'OperationPage' },
  'GET /v1/operations/{id}': { 200: 'Operation' },
  'GET /v1/operations/{id}/wait': { 200: 'Operation' },
  'POST /v1/operations/{id}/cancel': { 202: 'Operation' },
  'POST /v1/operations/{id}/finalize': { 200: 'Operation' },
  'GET /v1/vms/{id}/operations': { 200: 'OperationPage' },
  'GET /v1/disks': { 200: 'DiskList' },
  'GET /v1/vms/{id}/disks': { 200: 'DiskList' },
  'GET /v1/interfaces': { 200: 'InterfaceList' },
  'GET /v1/vms/{id}/interfaces': { 200: 'VmInterfaceList' },
  'GET /v1/vms/{id}/snapshots': { 200: 'SnapshotPage' },
  'GET /v1/vms/{id}/snapshots/{name}': { 200: 'Snapshot' },
  'PATCH /v1/vms/{id}/snapshots/{name}': { 200: 'Snapshot' },
  'GET /v1/vms/{id}/snapshot-definitions': { 200: 'SnapshotDefinitionList' },
  'POST /v1/vms/{id}/snapshot-definitions': { 201: 'SnapshotDefinition' },
  'GET /v1/vms/{id}/snapshot-definitions/{name}': { 200: 'SnapshotDefinition' },
  'PATCH /v1/vms/{id}/snapshot-definitions/{name}': { 200: 'SnapshotDefinition' },
  'POST /v1/vms/{id}/snapshot-definitions/{name}/run': { 202: 'ScheduleTriggered' },
  'GET /v1/anti-affinity-groups': { 200: 'AntiAffinityGroupList' },
  'POST /v1/anti-affinity-groups': { 201: 'AntiAffinityGroup' },
  'GET /v1/anti-affinity-groups/{id}': { 200: 'AntiAffinityGroup' },
  'PATCH /v1/anti-affinity-groups/{id}': { 200: 'AntiAffinityGroup' },
  'POST /v1/anti-affinity-groups/{id}/members': { 200: 'AntiAffinityGroup' },
  'DELETE /v1/anti-affinity-groups/{id}/members/{vmId}': { 200: 'AntiAffinityGroup' },
  'GET /v1/nodes': { 200: 'NodeList' },
  'POST /v1/nodes': { 201: 'Node' },
  'PATCH /v1/nodes/{id}': { 200: 'Node' },
  'GET /v1/templates': { 200: 'TemplateList' },
  'POST /v1/templates': { 201: 'Template' },
  'GET /v1/templates/{id}': { 200: 'Template' },
  'POST /v1/api-keys': { 201: 'NewApiKey' },
  'GET /v1/api-keys': { 200: 'ApiKeyList' },
  'GET /v1/admin/nodes/{id}/audit': { 200: 'NodeAudit' },
  'GET /v1/admin/simulator/faults': { 200: 'SimulatorFaultList' },
  'POST /v1/admin/simulator/faults': { 201: 'SimulatorFault' },
  'GET /v1/admin/simulator/latency': { 200: 'SimulatorLatencyList' },
  'PUT /v1/admin/simulator/latency': { 200: 'SimulatorLatencyList' },
  'GET /v1/admin/simulator/calls': { 200: 'SimulatorCallCount' },
};
