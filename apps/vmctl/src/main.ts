import {
  createVmopsClient,
  isDryRun,
  isFinal,
  unwrap,
  VmopsApiError,
  type DryRun,
  type Operation,
  type Schemas,
  type VmopsClient,
} from '@vmops/client';
import Table from 'cli-table3';
import { Command, CommanderError, Option } from 'commander';
import { profileFilePath, readProfiles, resolveProfile, UsageError, writeProfiles } from './config';
import { followWithProgress } from './follow';

/**
 * vmctl: the API from a terminal. Each mutating command starts an operation and prints it (with its Temporal UI
 * link); --wait follows it to its end with a progress bar and exits non-zero unless it succeeded; --dry-run prints the
 * plan; --json prints what the API answered, for scripts.
 *
 * Exit codes: 0 done (an operation that succeeded); 1 an operation that ended failed, compensated, cancelled or
 * stuck; 2 a request the API refused, or a command used wrongly; 3 the API could not be reached.
 */
export const EXIT = { ok: 0, operationFailed: 1, refused: 2, unreachable: 3 } as const;

interface Io {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
}

interface GlobalOptions {
  url?: string;
  apiKey?: string;
  profile?: string;
  json?: boolean;
  quiet?: boolean;
}

interface LaunchOptions {
  wait?: boolean;
  dryRun?: boolean;
  idempotencyKey?: string;
}

type Answer = { data?: unknown; error?: unknown; response: Response };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class Cli {
  exitCode: number = EXIT.ok;
  private clientCache: VmopsClient | null = null;

  constructor(
    readonly io: Io,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  globals(command: Command): GlobalOptions {
    return command.optsWithGlobals() as GlobalOptions;
  }

  client(command: Command): VmopsClient {
    if (this.clientCache) return this.clientCache;
    const g = this.globals(command);
    const profile = resolveProfile({ url: g.url, apiKey: g.apiKey, profile: g.profile }, this.env);
    this.clientCache = createVmopsClient({ baseUrl: profile.url, apiKey: profile.apiKey });
    return this.clientCache;
  }

  print(text: string): void {
    this.io.out.write(`${text}\n`);
  }

  json(value: unknown): void {
    this.print(JSON.stringify(value, null, 2));
  }

  table(head: string[], rows: (string | number | null | undefined)[][]): void {
    const table = new Table({ head, style: { head: [], border: [] } });
    for (const row of rows) table.push(row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))));
    this.print(rows.length ? table.toString() : '(none)');
  }

  /** A read: the body as JSON with --json, else `render`. */
  async show<T>(command: Command, answer: Promise<Answer>, render: (body: T) => void): Promise<void> {
    const body = (await unwrap(answer)) as T;
    if (this.globals(command).json) this.json(body);
    else render(body);
  }

  /**
   * A mutation: prints the plan (dry run), or the operation it started; with --wait, follows it to its end and sets the
   * exit code by how it ended: 0 when it ended as asked (`wanted`: succeeded; a cancel: cancelled or compensated).
   */
  async launch(command: Command, answer: Promise<Answer>, wanted: readonly Operation['status'][] = ['succeeded']): Promise<void> {
    const g = this.globals(command);
    const options = command.opts() as LaunchOptions;
    const body = await unwrap(answer);
    if (isDryRun(body as Operation | DryRun)) {
      if (g.json) this.json(body);
      else this.printPlan(body as DryRun);
      return;
    }
    let op = body as Operation;
    if (!g.json) this.print(`${op.type} ${op.id} ${op.status}\n  Temporal UI: ${op.links.temporalUi}`);
    if (options.wait && !isFinal(op.status)) {
      op = await followWithProgress(this.client(command), op, { output: this.io.err, quiet: g.json || g.quiet });
    }
    if (g.json) this.json(op);
    else if (options.wait) this.printEnd(op);
    if (options.wait && !wanted.includes(op.status)) this.exitCode = EXIT.operationFailed;
  }

  printPlan(plan: DryRun): void {
    this.print(`${plan.type}: the plan (dry run, nothing was started)`);
    this.table(
      ['#', 'step', 'what it does', 'undo'],
      plan.steps.map((s, i) => [
        i + 1,
        `${s.name}${s.commit ? ' (point of no return)' : ''}`,
        s.waitsFor ? `waits for ${s.waitsFor}` : s.summary,
        s.undo ?? '-',
      ]),
    );
    if (plan.afterCompensation) this.print(`after an undo: ${plan.afterCompensation}`);
  }

  printEnd(op: Operation): void {
    // The live view may call it final a moment before its record has finishedAt.
    const took = ` in ${(((op.finishedAt ? Date.parse(op.finishedAt) : Date.now()) - Date.parse(op.createdAt)) / 1000).toFixed(1)} s`;
    this.print(`${op.type} ${op.id} ${op.status}${took}`);
    if (op.error) this.print(`  ${op.error.code}: ${op.error.message}${op.error.step ? ` (step ${op.error.step})` : ''}`);
    for (const warning of op.warnings ?? []) this.print(`  warning: ${warning}`);
  }

  printOperation(op: Operation): void {
    this.print(`${op.type} ${op.id}: ${op.status}${op.overdue ? ' (overdue)' : ''}`);
    this.print(`  vm: ${op.vmId ?? '-'}   created ${op.createdAt}   finished ${op.finishedAt ?? '-'}`);
    if (op.error) this.print(`  error: ${op.error.code}: ${op.error.message}${op.error.step ? ` (step ${op.error.step})` : ''}`);
    if (op.waiting) this.print(`  waiting for ${op.waiting.for} at ${op.waiting.step} until ${op.waiting.until}`);
    this.print(`  Temporal UI: ${op.links.temporalUi}`);
    this.table(
      ['step', 'status', 'attempts', 'error'],
      op.steps.map((s) => [s.name, s.status, s.attempts, s.error]),
    );
  }

  // ---- resolving names: VMs by hostname or id, templates and nodes by name or id, disks and NICs by id or position

  async vm(command: Command, ref: string): Promise<Schemas['Vm']> {
    const api = this.client(command);
    if (UUID.test(ref)) return unwrap(api.GET('/v1/vms/{id}', { params: { path: { id: ref } } }));
    const page = await unwrap(api.GET('/v1/vms', { params: { query: { hostname: ref, limit: 500 } } }));
    const vm = page.items.find((v) => v.hostname.toLowerCase() === ref.toLowerCase());
    if (!vm) throw new UsageError(`no VM with hostname ${ref}`);
    return vm;
  }

  async vmId(command: Command, ref: string): Promise<string> {
    return UUID.test(ref) ? ref : (await this.vm(command, ref)).id;
  }

  async templateId(command: Command, ref: string): Promise<string> {
    if (UUID.test(ref)) return ref;
    const { items } = await unwrap(this.client(command).GET('/v1/templates'));
    const found = items.find((t) => t.name === ref);
    if (!found) throw new UsageError(`no template named ${ref} (vmctl template list)`);
    return found.id;
  }

  async nodeId(command: Command, ref: string): Promise<string> {
    if (UUID.test(ref)) return ref;
    const { items } = await unwrap(this.client(command).GET('/v1/nodes'));
    const found = items.find((n) => n.name === ref);
    if (!found) throw new UsageError(`no node named ${ref} (vmctl node list)`);
    return found.id;
  }

  /** A disk or interface of the VM, by id or by its position on the VM (0 is the system disk). */
  deviceId(vm: Schemas['Vm'], kind: 'disk' | 'interface', ref: string): string {
    if (UUID.test(ref)) return ref;
    if (!/^\d+$/.test(ref)) throw new UsageError(`${kind} ${ref}: give its id or its position on ${vm.hostname}`);
    const list = kind === 'disk' ? vm.disks : vm.interfaces;
    const found = list.find((d) => d.position === Number(ref));
    if (!found) throw new UsageError(`${vm.hostname} has no ${kind} at position ${ref}`);
    return found.id;
  }
}

const int = (name: string) => (value: string) => {
  if (!/^\d+$/.test(value)) throw new UsageError(`${name} must be a whole number, not ${value}`);
  return Number(value);
};
const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The options every mutating command takes. */
function mutating(command: Command): Command {
  return command
    .option('-w, --wait', 'follow the operation to its end (progress bar); exit 1 unless it succeeded')
    .option('--dry-run', 'print the plan, step by step with each undo; start nothing')
    .option('--idempotency-key <key>', 'the same key and request answer the same operation (safe to retry)');
}

function query(command: Command): { dryRun?: boolean } {
  return (command.opts() as LaunchOptions).dryRun ? { dryRun: true } : {};
}

function headers(command: Command): Record<string, string> {
  const key = (command.opts() as LaunchOptions).idempotencyKey;
  return key ? { 'Idempotency-Key': key } : {};
}

export function buildProgram(cli: Cli): Command {
  const program = new Command('vmctl')
    .description('The vmops API from a terminal: VMs, disks, snapshots, templates, nodes and the operations that change them')
    .option('--url <url>', 'the API (default: $VMCTL_URL, or the profile’s)')
    .option('--api-key <key>', 'the API key (default: $VMCTL_API_KEY, or the profile’s)')
    .option('--profile <name>', 'a profile of the profile file (default: $VMCTL_PROFILE, or the current one)')
    .option('--json', 'print what the API answered, as JSON')
    .option('-q, --quiet', 'no progress output while waiting')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => cli.io.out.write(s), writeErr: (s) => cli.io.err.write(s) });

  // ---- VMs
  const vm = program.command('vm').description('virtual machines (by hostname or id)');
  vm.command('list')
    .description('list your VMs')
    .option('--status <status>', 'creating, stopped, running or error')
    .option('--node <node>', 'on this node (name or id)')
    .option('--hostname <text>', 'hostnames containing this')
    .option('--label <label>')
    .option('--limit <n>', 'at most this many', int('--limit'), 100)
    .action(async (o, c: Command) => {
      const nodeId = o.node ? await cli.nodeId(c, o.node) : undefined;
      await cli.show<Schemas['VmPage']>(
        c,
        cli
          .client(c)
          .GET('/v1/vms', { params: { query: { status: o.status, nodeId, hostname: o.hostname, label: o.label, limit: o.limit } } }),
        (page) =>
          cli.table(
            ['hostname', 'id', 'status', 'cpus', 'memory', 'disks', 'node', 'busy with'],
            page.items.map((v) => [
              v.hostname,
              v.id,
              v.status + (v.frozen ? ' (frozen)' : '') + (v.locked ? ' (locked)' : ''),
              v.cpus,
              `${v.memoryMb} MB`,
              v.disks.length,
              v.nodeId,
              v.currentOperationId,
            ]),
          ),
      );
    });
  vm.command('get <vm>')
    .description('one VM, with its disks and interfaces')
    .action(async (ref: string, _o, c: Command) => {
      const found = await cli.vm(c, ref);
      if (cli.globals(c).json) return cli.json(found);
      cli.print(`${found.hostname} ${found.id}: ${found.status}${found.frozen ? ', frozen' : ''}${found.locked ? ', locked' : ''}`);
      cli.print(`  ${found.cpus} cpus, ${found.memoryMb} MB, node ${found.nodeId}, template ${found.templateId ?? '-'}`);
      if (found.currentOperationId) cli.print(`  busy with operation ${found.currentOperationId}`);
      cli.table(
        ['disk', 'position', 'size'],
        found.disks.map((d) => [d.id, d.position, `${d.sizeGb} GB`]),
      );
      cli.table(
        ['interface', 'position', 'mac', 'network', 'address'],
        found.interfaces.map((n) => [n.id, n.position, n.mac, n.network, n.ipAddress]),
      );
    });
  vm.command('status <vm>')
    .description('the VM as its node has it now, beside the inventory')
    .option('--refresh', 'also correct the inventory from the node')
    .action(async (ref: string, o, c: Command) => {
      const id = await cli.vmId(c, ref);
      const params = { params: { path: { id } } };
      const answer = o.refresh
        ? cli.client(c).PUT('/v1/vms/{id}/status/current', params)
        : cli.client(c).GET('/v1/vms/{id}/status/current', params);
      await cli.show<Schemas['LiveStatus']>(c, answer, (s) => {
        cli.print(
          `${s.hostname}: inventory ${s.inventoryStatus}, node ${s.node.name} ${s.live ? `${s.live.powerState}${s.live.frozen ? ' (frozen)' : ''}` : 'has no such VM'}`,
        );
        cli.print(s.inSync ? '  in sync' : `  differs: ${s.differences.join('; ')}`);
      });
    });
  mutating(vm.command('create <hostname>'))
    .description('create a VM from a template (vm.create)')
    .requiredOption('-t, --template <template>', 'template name or id')
    .requiredOption('--cpus <n>', 'vCPUs', int('--cpus'))
    .requiredOption('--memory <mb>', 'memory in MB', int('--memory'))
    .option('--disk-size <gb>', 'system disk size (default: the template’s)', int('--disk-size'))
    .option('--data-disk <gb>', 'a data disk of this size (repeat for more)', collect)
    .option('--node <node>', 'place it on this node (name or id)')
    .option('--group <id>', 'an anti-affinity group (repeat for more)', collect)
    .option('--network <name>', 'the network of its first interface')
    .option('--label <label>')
    .option('--note <note>')
    .option('--no-start', 'leave it stopped')
    .action(async (hostname: string, o, c: Command) => {
      const body: Schemas['CreateVmDto'] = {
        hostname,
        templateId: await cli.templateId(c, o.template),
        cpus: o.cpus,
        memoryMb: o.memory,
        start: o.start,
        ...(o.diskSize !== undefined ? { diskSizeGb: o.diskSize } : {}),
        ...(o.dataDisk ? { dataDisks: (o.dataDisk as string[]).map((gb) => ({ sizeGb: int('--data-disk')(gb) })) } : {}),
        ...(o.node ? { nodeId: await cli.nodeId(c, o.node) } : {}),
        ...(o.group ? { antiAffinityGroupIds: o.group } : {}),
        ...(o.network ? { network: o.network } : {}),
        ...(o.label ? { label: o.label } : {}),
        ...(o.note ? { note: o.note } : {}),
      };
      await cli.launch(c, cli.client(c).POST('/v1/vms', { params: { query: query(c), header: headers(c) }, body }));
    });

  const power = (
    name: 'start' | 'stop' | 'shutdown' | 'reboot' | 'reset' | 'freeze' | 'unfreeze',
    description: string,
    extra?: (cmd: Command) => Command,
  ) => {
    const command = mutating(vm.command(`${name} <vm>`)).description(description);
    extra?.(command);
    command.action(async (ref: string, o, c: Command) => {
      const id = await cli.vmId(c, ref);
      const params = { path: { id }, query: query(c), header: headers(c) };
      const api = cli.client(c);
      const stopBody = { ...(o.force ? { force: true } : {}), ...(o.timeout !== undefined ? { timeoutSeconds: o.timeout } : {}) };
      const answers = {
        start: () => api.POST('/v1/vms/{id}/start', { params, body: o.bootIso ? { bootIso: o.bootIso } : {} }),
        stop: () => api.POST('/v1/vms/{id}/stop', { params, body: stopBody }),
        shutdown: () => api.POST('/v1/vms/{id}/shutdown', { params, body: o.timeout !== undefined ? { timeoutSeconds: o.timeout } : {} }),
        reboot: () => api.POST('/v1/vms/{id}/reboot', { params, body: stopBody }),
        reset: () => api.POST('/v1/vms/{id}/reset', { params }),
        freeze: () => api.POST('/v1/vms/{id}/freeze', { params }),
        unfreeze: () => api.POST('/v1/vms/{id}/unfreeze', { params }),
      };
      await cli.launch(c, answers[name]());
    });
  };
  power('start', 'start a stopped VM (vm.start)', (c) => c.option('--boot-iso <iso>', 'boot once from this ISO'));
  const graceful = (c: Command) =>
    c
      .option('--force', 'power off at once, no ACPI')
      .option('--timeout <seconds>', 'how long the guest gets to power off', int('--timeout'));
  power('stop', 'stop a running VM: ACPI, then power off after the timeout (vm.stop)', graceful);
  power('shutdown', 'ask the guest to power off, never forcing it (vm.shutdown)', (c) =>
    c.option('--timeout <seconds>', 'how long to wait', int('--timeout')),
  );
  power('reboot', 'stop and start again (vm.reboot)', graceful);
  power('reset', 'hard reset, like the reset button (vm.hard_reset)');
  power('freeze', 'pause the vCPUs (vm.freeze)');
  power('unfreeze', 'resume the vCPUs (vm.unfreeze)');

  mutating(vm.command('delete <vm>'))
    .description('delete a VM (vm.delete)')
    .option('--delete-all-disks', 'also its detached disks')
    .action(async (ref: string, o, c: Command) => {
      const id = await cli.vmId(c, ref);
      await cli.launch(
        c,
        cli.client(c).DELETE('/v1/vms/{id}', {
          params: { path: { id }, query: { ...query(c), ...(o.deleteAllDisks ? { deleteAllDisks: true } : {}) }, header: headers(c) },
        }),
      );
    });
  mutating(vm.command('update <vm>'))
    .description('resize (vm.update) or relabel a VM')
    .option('--cpus <n>', 'vCPUs', int('--cpus'))
    .option('--memory <mb>', 'memory in MB', int('--memory'))
    .option('--label <label>')
    .option('--note <note>')
    .addOption(new Option('--apply <when>', 'a running VM: restart now, or at its next stop').choices(['restart', 'next_stop']))
    .action(async (ref: string, o, c: Command) => {
      const id = await cli.vmId(c, ref);
      const body: Schemas['UpdateVmDto'] = { cpus: o.cpus, memoryMb: o.memory, label: o.label, note: o.note, apply: o.apply };
      const answer = await cli.client(c).PATCH('/v1/vms/{id}', { params: { path: { id }, query: query(c), header: headers(c) }, body });
      if (answer.response.status === 200 && !(answer.data as DryRun | undefined)?.dryRun) {
        return cli.show<Schemas['Vm']>(c, Promise.resolve(answer), (v) =>
          cli.print(
            `${v.hostname} updated${v.pendingSize ? ` (size applies at its next stop: ${v.pendingSize.cpus} cpus, ${v.pendingSize.memoryMb} MB)` : ''}`,
          ),
        );
      }
      await cli.launch(c, Promise.resolve(answer));
    });
  mutating(vm.command('rebuild <vm>'))
    .description('reinstall from a template; its disks are replaced (vm.rebuild)')
    .option('-t, --template <template>', 'another template (default: its own)')
    .option('--no-start', 'leave it stopped')
    .action(async (ref: string, o, c: Command) => {
      const id = await cli.vmId(c, ref);
      const body: Schemas['RebuildVmDto'] = {
        startAfter: o.start,
        ...(o.template ? { templateId: await cli.templateId(c, o.template) } : {}),
      };
      await cli.launch(
        c,
        cli.client(c).POST('/v1/vms/{id}/rebuild', { params: { path: { id }, query: query(c), header: headers(c) }, body }),
      );
    });
  mutating(vm.command('clone <vm> <hostname>'))
    .description('a new VM from this one’s disks (vm.clone)')
    .option('--node <node>', 'place it on this node (name or id)')
    .option('--cpus <n>', 'vCPUs (default: the source’s)', int('--cpus'))
    .option('--memory <mb>', 'memory in MB (default: the source’s)', int('--memory'))
    .option('--no-start', 'leave it stopped')
    .action(async (ref: string, hostname: string, o, c: Command) => {
      const id = await cli.vmId(c, ref);
      const body: Schemas['CloneVmDto'] = {
        hostname,
        start: o.start,
        cpus: o.cpus,
        memoryMb: o.memory,
        ...(o.node ? { nodeId: await cli.nodeId(c, o.node) } : {}),
      };
      await cli.launch(
        c,
        cli.client(c).POST('/v1/vms/{id}/clone', { params: { path: { id }, query: query(c), header: headers(c) }, body }),
      );
    });
  vm.command('can-migrate <vm>')
    .description('whether the VM can migrate, and to which nodes')
    .option('--to <node>', 'to this node (name or id)')
    .addOption(new Option('--mode <mode>').choices(['live', 'cold']))
    .action(async (ref: string, o, c: Command) => {
      const id = await cli.vmId(c, ref);
      const targetNodeId = o.to ? await cli.nodeId(c, o.to) : undefined;
      await cli.show<Schemas['MigrationCheck']>(
        c,
        cli.client(c).GET('/v1/vms/{id}/migration-check', { params: { path: { id }, query: { targetNodeId, mode: o.mode } } }),
        (m) => {
          cli.print(
            `${m.hostname}: ${m.canMigrate ? 'can' : 'cannot'} migrate (${m.mode})${m.busyWith ? `; busy with ${m.busyWith.type} ${m.busyWith.operationId}` : ''}`,
          );
          for (const r of m.reasons) cli.print(`  ${r.code}: ${r.message}`);
          cli.table(
            ['node', 'eligible', 'reasons'],
            m.targets.map((t) => [t.name, t.eligible ? 'yes' : 'no', t.reasons.map((r) => r.code).join(', ')]),
          );
        },
      );
    });
  mutating(vm.command('migrate <vm>'))
    .description('move the VM to another node (vm.migrate)')
    .option('--to <node>', 'target node (name or id; default: placement chooses)')
    .addOption(new Option('--mode <mode>', 'live: it keeps running; cold: stopped').choices(['live', 'cold']))
    .option('--no-finalize', 'two-phase: stop after the switch-over and wait for vmctl op finalize')
    .action(async (ref: string, o, c: Command) => {
      const id = await cli.vmId(c, ref);
      const body: Schemas['MigrateVmDto'] = {
        mode: o.mode,
        finalize: o.finalize,
        ...(o.to ? { targetNodeId: await cli.nodeId(c, o.to) } : {}),
      };
      await cli.launch(
        c,
        cli.client(c).POST('/v1/vms/{id}/migrate', { params: { path: { id }, query: query(c), header: headers(c) }, body }),
      );
    });

  // ---- disks and interfaces
  const disk = program.command('disk').description('disks (by id, or by position on their VM)');
  disk
    .command('list [vm]')
    .description('a VM’s disks, or all your disks')
    .option('--detached', 'only detached ones')
    .action(async (ref: string | undefined, o, c: Command) => {
      const api = cli.client(c);
      const answer = ref
        ? api.GET('/v1/disks', { params: { query: { vmId: await cli.vmId(c, ref), ...(o.detached ? { detached: true } : {}) } } })
        : api.GET('/v1/disks', { params: { query: o.detached ? { detached: true } : {} } });
      await cli.show<Schemas['DiskList']>(c, answer, (l) =>
        cli.table(
          ['disk', 'vm', 'position', 'size', 'node'],
          l.items.map((d) => [d.id, d.vmId, d.position, `${d.sizeGb} GB`, d.nodeId]),
        ),
      );
    });
  mutating(disk.command('create <vm>'))
    .description('add a disk (disk.create)')
    .requiredOption('--size <gb>', 'size in GB', int('--size'))
    .option('--position <n>', 'where to attach it', int('--position'))
    .action(async (ref: string, o, c: Command) => {
      const id = await cli.vmId(c, ref);
      await cli.launch(
        c,
        cli.client(c).POST('/v1/vms/{id}/disks', {
          params: { path: { id }, query: query(c), header: headers(c) },
          body: { sizeGb: o.size, position: o.position },
        }),
      );
    });
  const diskOp = (name: 'attach' | 'detach' | 'resize' | 'copy' | 'delete', description: string, extra?: (cmd: Command) => Command) => {
    const command = mutating(disk.command(`${name} <vm> <disk>`)).description(description);
    extra?.(command);
    command.action(async (ref: string, diskRef: string, o, c: Command) => {
      const owner = await cli.vm(c, ref);
      const diskId = cli.deviceId(owner, 'disk', diskRef);
      const params = { path: { id: owner.id, diskId }, query: query(c), header: headers(c) };
      const api = cli.client(c);
      const answers = {
        attach: () => api.POST('/v1/vms/{id}/disks/{diskId}/attach', { params, body: { position: o.position } }),
        detach: () => api.POST('/v1/vms/{id}/disks/{diskId}/detach', { params }),
        resize: () => api.POST('/v1/vms/{id}/disks/{diskId}/resize', { params, body: { sizeGb: o.size } }),
        copy: () =>
          api.POST('/v1/vms/{id}/disks/{diskId}/copy', {
            params,
            body: {
              position: o.position,
              sizeGb: o.size,
              ...(o.detached ? { detached: true } : {}),
              ...(o.fsfreeze ? { fsfreeze: true } : {}),
            },
          }),
        delete: () => api.DELETE('/v1/vms/{id}/disks/{diskId}', { params }),
      };
      await cli.launch(c, answers[name]());
    });
  };
  diskOp('attach', 'attach a detached disk (disk.attach)', (c) => c.option('--position <n>', 'where', int('--position')));
  diskOp('detach', 'detach a disk; it stays the VM’s (disk.detach)');
  diskOp('resize', 'grow a disk (disk.resize)', (c) => c.requiredOption('--size <gb>', 'new size in GB', int('--size')));
  diskOp('copy', 'copy a disk into a new disk of the VM (disk.copy)', (c) =>
    c
      .option('--position <n>', 'attach the copy here (default: the lowest free position)', int('--position'))
      .option('--detached', 'leave the copy detached')
      .option('--size <gb>', 'size of the copy (default: the source’s)', int('--size'))
      .option('--fsfreeze', 'freeze the running guest’s filesystems while the source is captured'),
  );
  diskOp('delete', 'delete a detached disk (disk.delete)');

  const nic = program.command('nic').description('network interfaces (by id, or by position on their VM)');
  nic
    .command('list [vm]')
    .description('a VM’s interfaces, or all of yours')
    .action(async (ref: string | undefined, _o, c: Command) => {
      const api = cli.client(c);
      const answer = ref ? api.GET('/v1/interfaces', { params: { query: { vmId: await cli.vmId(c, ref) } } }) : api.GET('/v1/interfaces');
      await cli.show<Schemas['InterfaceList']>(c, answer, (l) =>
        cli.table(
          ['interface', 'vm', 'position', 'mac', 'network', 'address'],
          l.items.map((n) => [n.id, n.vmId, n.position, n.mac, n.network, n.ipAddress]),
        ),
      );
    });
  mutating(nic.command('create <vm>'))
    .description('add an interface (nic.create)')
    .option('--network <name>')
    .option('--position <n>', 'where to attach it', int('--position'))
    .action(async (ref: string, o, c: Command) => {
      const id = await cli.vmId(c, ref);
      await cli.launch(
        c,
        cli.client(c).POST('/v1/vms/{id}/interfaces', {
          params: { path: { id }, query: query(c), header: headers(c) },
          body: { network: o.network, position: o.position },
        }),
      );
    });
  const nicOp = (name: 'attach' | 'detach' | 'delete', description: string, extra?: (cmd: Command) => Command) => {
    const command = mutating(nic.command(`${name} <vm> <interface>`)).description(description);
    extra?.(command);
    command.action(async (ref: string, nicRef: string, o, c: Command) => {
      const owner = await cli.vm(c, ref);
      const nicId = cli.deviceId(owner, 'interface', nicRef);
      const params = { path: { id: owner.id, nicId }, query: query(c), header: headers(c) };
      const api = cli.client(c);
      const answers = {
        attach: () => api.POST('/v1/vms/{id}/interfaces/{nicId}/attach', { params, body: { position: o.position } }),
        detach: () => api.POST('/v1/vms/{id}/interfaces/{nicId}/detach', { params }),
        delete: () => api.DELETE('/v1/vms/{id}/interfaces/{nicId}', { params }),
      };
      await cli.launch(c, answers[name]());
    });
  };
  nicOp('attach', 'attach a detached interface (nic.attach)', (c) => c.option('--position <n>', 'where', int('--position')));
  nicOp('detach', 'detach an interface (nic.detach)');
  nicOp('delete', 'delete an interface (nic.delete)');

  // ---- snapshots
  const snapshot = program.command('snapshot').description('snapshots of a VM’s disks (by name)');
  snapshot
    .command('list <vm>')
    .description('a VM’s snapshots, newest first')
    .option('--disk <disk>', 'of this disk (id)')
    .action(async (ref: string, o, c: Command) => {
      const id = await cli.vmId(c, ref);
      await cli.show<Schemas['SnapshotPage']>(
        c,
        cli.client(c).GET('/v1/vms/{id}/snapshots', { params: { path: { id }, query: { diskId: o.disk, limit: 500 } } }),
        (p) =>
          cli.table(
            ['name', 'status', 'type', 'disk', 'size', 'created', 'note'],
            p.items.map((s) => [s.name, s.status, s.type, s.diskId, s.sizeMb === null ? null : `${s.sizeMb} MB`, s.createdAt, s.note]),
          ),
      );
    });
  snapshot
    .command('get <vm> <name>')
    .description('one snapshot')
    .option('--disk <disk>', 'of this disk (id)')
    .action(async (ref: string, name: string, o, c: Command) => {
      const id = await cli.vmId(c, ref);
      await cli.show<Schemas['Snapshot']>(
        c,
        cli.client(c).GET('/v1/vms/{id}/snapshots/{name}', { params: { path: { id, name }, query: { diskId: o.disk } } }),
        (x) =>
          cli.print(
            `${x.name} ${x.id}: ${x.status}, ${x.type}, disk ${x.diskId}, ${x.sizeMb === null ? 'size unknown' : `${x.sizeMb} MB`}, ${x.createdAt}${x.note ? `\n  ${x.note}` : ''}`,
          ),
      );
    });
  mutating(snapshot.command('create <vm> <name>'))
    .description('snapshot a disk (snapshot.create)')
    .option('--disk <disk>', 'this disk (id; default: the system disk)')
    .option('--note <note>')
    .option('--fsfreeze', 'freeze the guest’s filesystems while it is taken')
    .action(async (ref: string, name: string, o, c: Command) => {
      const id = await cli.vmId(c, ref);
      const body: Schemas['CreateSnapshotDto'] = { name, diskId: o.disk, note: o.note, ...(o.fsfreeze ? { fsfreeze: true } : {}) };
      await cli.launch(
        c,
        cli.client(c).POST('/v1/vms/{id}/snapshots', { params: { path: { id }, query: query(c), header: headers(c) }, body }),
      );
    });
  mutating(snapshot.command('delete <vm> <names...>'))
    .description('delete snapshots (snapshot.delete)')
    .option('--disk <disk>', 'of this disk (id)')
    .action(async (ref: string, names: string[], o, c: Command) => {
      const id = await cli.vmId(c, ref);
      const api = cli.client(c);
      const answer =
        names.length === 1
          ? api.DELETE('/v1/vms/{id}/snapshots/{name}', {
              params: { path: { id, name: names[0] }, query: { ...query(c), diskId: o.disk }, header: headers(c) },
            })
          : api.DELETE('/v1/vms/{id}/snapshots', {
              params: { path: { id }, query: { ...query(c), diskId: o.disk, names }, header: headers(c) },
            });
      await cli.launch(c, answer);
    });
  mutating(snapshot.command('rollback <vm> <name>'))
    .description('roll a disk back to a snapshot: in place (snapshot.rollback) or onto a new disk (disk.rollback)')
    .option('--new-disk', 'a new disk from the snapshot replaces the disk (which is deleted, with its snapshots)')
    .option('--disk <disk>', 'the snapshot’s disk (id)')
    .option('--force', 'in place: discard the newer snapshots')
    .option('--stop-first', 'stop the VM first (and start it again after)')
    .option('--target-vm <vm>', 'restore into another VM')
    .action(async (ref: string, name: string, o, c: Command) => {
      const id = await cli.vmId(c, ref);
      const body: Schemas['RollbackSnapshotDto'] = {
        method: o.newDisk ? 'new_disk' : 'in_place',
        diskId: o.disk,
        ...(o.force ? { force: true } : {}),
        ...(o.stopFirst ? { stopFirst: true } : {}),
        ...(o.targetVm ? { targetVmId: await cli.vmId(c, o.targetVm) } : {}),
      };
      await cli.launch(
        c,
        cli
          .client(c)
          .POST('/v1/vms/{id}/snapshots/{name}/rollback', { params: { path: { id, name }, query: query(c), header: headers(c) }, body }),
      );
    });
  mutating(snapshot.command('sync <vm>'))
    .description('make the inventory’s snapshots match the node’s (snapshot.sync)')
    .action(async (ref: string, _o, c: Command) => {
      const id = await cli.vmId(c, ref);
      await cli.launch(
        c,
        cli.client(c).POST('/v1/vms/{id}/snapshots/sync', { params: { path: { id }, query: query(c), header: headers(c) } }),
      );
    });

  // ---- templates and nodes
  const template = program.command('template').description('templates VMs are created from (by name or id)');
  template
    .command('list')
    .description('the templates you can use')
    .action(async (_o, c: Command) => {
      await cli.show<Schemas['TemplateList']>(c, cli.client(c).GET('/v1/templates'), (l) =>
        cli.table(
          ['name', 'id', 'os', 'disk', 'visibility', 'status'],
          l.items.map((t) => [t.name, t.id, t.osFamily, `${t.diskSizeGb} GB`, t.visibility, t.status]),
        ),
      );
    });
  template
    .command('get <template>')
    .description('one template')
    .action(async (ref: string, _o, c: Command) => {
      const id = await cli.templateId(c, ref);
      await cli.show<Schemas['Template']>(c, cli.client(c).GET('/v1/templates/{id}', { params: { path: { id } } }), (t) =>
        cli.print(
          `${t.name} ${t.id}: ${t.status}, ${t.osFamily}, ${t.diskSizeGb} GB, ${t.visibility}${t.sourceVmId ? `, from VM ${t.sourceVmId}` : ''}${t.description ? `\n  ${t.description}` : ''}`,
        ),
      );
    });
  mutating(template.command('create <name>'))
    .description('a template from a stopped VM (template.create), or a base template (admin: --os-family and --disk-size)')
    .option('--from-vm <vm>', 'capture this VM’s system disk')
    .option('--fsfreeze', 'freeze the guest’s filesystems while it is captured')
    .option('--os-family <family>', 'a base template: its OS family')
    .option('--disk-size <gb>', 'a base template: its disk size', int('--disk-size'))
    .option('--description <text>')
    .action(async (name: string, o, c: Command) => {
      const body: Schemas['CreateTemplateDto'] = {
        name,
        description: o.description,
        ...(o.fromVm ? { vmId: await cli.vmId(c, o.fromVm) } : {}),
        ...(o.fsfreeze ? { fsfreeze: true } : {}),
        ...(o.osFamily ? { osFamily: o.osFamily } : {}),
        ...(o.diskSize !== undefined ? { diskSizeGb: o.diskSize } : {}),
      };
      const answer = await cli.client(c).POST('/v1/templates', { params: { query: query(c), header: headers(c) }, body });
      if (answer.response.status === 201)
        return cli.show<Schemas['Template']>(c, Promise.resolve(answer), (t) => cli.print(`template ${t.name} ${t.id} added`));
      await cli.launch(c, Promise.resolve(answer));
    });
  mutating(template.command('delete <template>'))
    .description('delete a template (template.delete; a base template at once)')
    .action(async (ref: string, _o, c: Command) => {
      const id = await cli.templateId(c, ref);
      const answer = await cli.client(c).DELETE('/v1/templates/{id}', { params: { path: { id }, query: query(c), header: headers(c) } });
      if (answer.response.status === 204) return cli.globals(c).json ? cli.json({ deleted: id }) : cli.print(`template ${ref} deleted`);
      await cli.launch(c, Promise.resolve(answer));
    });

  const node = program.command('node').description('hypervisor nodes (by name or id)');
  node
    .command('list')
    .description('the nodes; an admin key also sees capacity and use')
    .action(async (_o, c: Command) => {
      await cli.show<Schemas['NodeList']>(c, cli.client(c).GET('/v1/nodes'), (l) =>
        cli.table(
          ['name', 'id', 'datacenter', 'status', 'vms', 'cpus used', 'memory used', 'storage used'],
          l.items.map((n) => [
            n.name,
            n.id,
            n.datacenter,
            n.status,
            n.used?.vms,
            n.capacity && `${n.used?.cpus}/${n.capacity.cpus}`,
            n.capacity && `${n.used?.memoryMb}/${n.capacity.memoryMb} MB`,
            n.capacity && `${n.used?.storageGb}/${n.capacity.storageGb} GB`,
          ]),
        ),
      );
    });
  node
    .command('set <node>')
    .description('change a node (admin): its status (online, offline, maintenance) or capacity')
    .addOption(new Option('--status <status>').choices(['online', 'offline', 'maintenance']))
    .option('--cpus <n>', 'vCPUs it offers', int('--cpus'))
    .option('--memory <mb>', 'memory it offers, in MB', int('--memory'))
    .option('--storage <gb>', 'storage it offers, in GB', int('--storage'))
    .action(async (ref: string, o, c: Command) => {
      const id = await cli.nodeId(c, ref);
      const body: Schemas['UpdateNodeDto'] = { status: o.status, cpus: o.cpus, memoryMb: o.memory, storageGb: o.storage };
      await cli.show<Schemas['Node']>(c, cli.client(c).PATCH('/v1/nodes/{id}', { params: { path: { id } }, body }), (n) =>
        cli.print(`node ${n.name}: ${n.status}`),
      );
    });
  mutating(node.command('drain <node>'))
    .description('migrate every VM off a node (node.drain, admin)')
    .option('--concurrency <n>', 'migrations at once', int('--concurrency'))
    .action(async (ref: string, o, c: Command) => {
      const id = await cli.nodeId(c, ref);
      await cli.launch(
        c,
        cli.client(c).POST('/v1/admin/nodes/{id}/drain', {
          params: { path: { id }, query: query(c), header: headers(c) },
          body: { concurrency: o.concurrency },
        }),
      );
    });
  mutating(program.command('recover <vm>'))
    .description('re-read a VM stuck in error from its node and clear the flag (vm.reset, admin)')
    .action(async (ref: string, _o, c: Command) => {
      const id = await cli.vmId(c, ref);
      await cli.launch(
        c,
        cli.client(c).POST('/v1/admin/vms/{id}/reset', { params: { path: { id }, query: query(c), header: headers(c) } }),
      );
    });

  // ---- operations
  const op = program.command('op').description('operations: what the commands above started');
  op.command('list')
    .description('your operations, newest first')
    .option('--vm <vm>', 'of this VM')
    .option('--type <type>', 'e.g. vm.stop')
    .option('--status <status>')
    .option('--limit <n>', 'at most this many', int('--limit'), 20)
    .action(async (o, c: Command) => {
      const vmId = o.vm ? await cli.vmId(c, o.vm) : undefined;
      await cli.show<Schemas['OperationPage']>(
        c,
        cli.client(c).GET('/v1/operations', { params: { query: { vmId, type: o.type, status: o.status, limit: o.limit } } }),
        (p) =>
          cli.table(
            ['operation', 'type', 'status', 'vm', 'created', 'step'],
            p.items.map((x) => [x.id, x.type, x.status, x.vmId, x.createdAt, x.error ? `${x.error.code}` : x.progress.step]),
          ),
      );
    });
  op.command('get <id>')
    .description('one operation, step by step')
    .action(async (id: string, _o, c: Command) => {
      await cli.show<Operation>(c, cli.client(c).GET('/v1/operations/{id}', { params: { path: { id } } }), (x) => cli.printOperation(x));
    });
  op.command('watch <id>')
    .description('follow an operation to its end (progress bar); exit 1 unless it succeeded')
    .action(async (id: string, _o, c: Command) => {
      const g = cli.globals(c);
      const first = await unwrap(cli.client(c).GET('/v1/operations/{id}', { params: { path: { id } } }));
      const end = isFinal(first.status)
        ? first
        : await followWithProgress(cli.client(c), first, { output: cli.io.err, quiet: g.json || g.quiet });
      if (g.json) cli.json(end);
      else cli.printEnd(end);
      if (end.status !== 'succeeded') cli.exitCode = EXIT.operationFailed;
    });
  op.command('cancel <id>')
    .description('cancel an operation: what it did is undone (409 past its point of no return)')
    .option('-w, --wait', 'follow it to its end; exit 1 unless it ended cancelled (or compensated)')
    .action(async (id: string, _o, c: Command) => {
      await cli.launch(c, cli.client(c).POST('/v1/operations/{id}/cancel', { params: { path: { id } } }), ['cancelled', 'compensated']);
    });
  op.command('finalize <id>')
    .description('let a two-phase migration go on from its switch-over')
    .option('-w, --wait', 'follow it to its end')
    .action(async (id: string, _o, c: Command) => {
      await cli.launch(c, cli.client(c).POST('/v1/operations/{id}/finalize', { params: { path: { id } } }));
    });

  // ---- profiles
  const profile = program.command('profile').description(`API addresses and keys by name (${profileFilePath(cli.env)})`);
  profile
    .command('set <name>')
    .description('add or change a profile')
    .requiredOption('--url <url>', 'the API')
    .option('--api-key <key>', 'its key')
    .option('--temporal-ui <url>')
    .option('--use', 'make it the current profile')
    .action((name: string, o) => {
      const path = profileFilePath(cli.env);
      const file = readProfiles(path);
      file.profiles[name] = {
        url: o.url,
        ...(o.apiKey ? { apiKey: o.apiKey } : {}),
        ...(o.temporalUi ? { temporalUi: o.temporalUi } : {}),
      };
      if (o.use || !file.current) file.current = name;
      writeProfiles(path, file);
      cli.print(`profile ${name} saved in ${path}${file.current === name ? ' (current)' : ''}`);
    });
  profile
    .command('use <name>')
    .description('make a profile the current one')
    .action((name: string) => {
      const path = profileFilePath(cli.env);
      const file = readProfiles(path);
      if (!file.profiles[name]) throw new UsageError(`no profile named ${name} in ${path}`);
      writeProfiles(path, { ...file, current: name });
      cli.print(`current profile: ${name}`);
    });
  profile
    .command('list')
    .description('the profiles (keys shortened)')
    .action((_o, c: Command) => {
      const file = readProfiles(profileFilePath(cli.env));
      if (cli.globals(c).json)
        return cli.json({
          current: file.current ?? null,
          profiles: Object.fromEntries(Object.entries(file.profiles).map(([n, p]) => [n, { url: p.url }])),
        });
      cli.table(
        ['', 'profile', 'url', 'key'],
        Object.entries(file.profiles).map(([n, p]) => [
          n === file.current ? '*' : '',
          n,
          p.url,
          p.apiKey ? `${p.apiKey.slice(0, 8)}…` : null,
        ]),
      );
    });
  return program;
}

/** Runs vmctl with these arguments (process.argv shape); resolves to the exit code. */
export async function main(
  argv: string[],
  io: Io = { out: process.stdout, err: process.stderr },
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const cli = new Cli(io, env);
  const program = buildProgram(cli);
  program.exitOverride();
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(argv);
    return cli.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.refused;
    if (err instanceof VmopsApiError) {
      const details = Object.keys(err.details).length ? `\n  ${JSON.stringify(err.details)}` : '';
      io.err.write(`vmctl: ${err.status} ${err.code}: ${err.message}${details}\n`);
      return EXIT.refused;
    }
    if (err instanceof UsageError) {
      io.err.write(`vmctl: ${err.message}\n`);
      return EXIT.refused;
    }
    if (err instanceof TypeError && /fetch failed/.test(err.message)) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      io.err.write(`vmctl: the API could not be reached (${cause?.code ?? cause?.message ?? err.message}); check --url / VMCTL_URL\n`);
      return EXIT.unreachable;
    }
    throw err;
  }
}
