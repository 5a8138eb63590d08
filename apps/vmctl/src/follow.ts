import { followOperation, type Operation, type VmopsClient } from '@vmops/client';
import { SingleBar } from 'cli-progress';

/** What the operation is doing now, in words: the step (or the undo) running, and its attempt when it retries. */
export function activity(op: Operation): { phase: string; step: string; attempt: number } {
  const running = op.steps.find((s) => s.status === 'running');
  if (op.status === 'compensating' || op.status === 'cancelling') {
    // Undos run in reverse: the next to undo is the last step still done.
    const undoing = [...op.steps].reverse().find((s) => s.status === 'succeeded');
    return { phase: 'undo', step: undoing?.name ?? op.progress.step ?? '', attempt: 0 };
  }
  if (op.waiting) return { phase: 'waiting for', step: op.waiting.for, attempt: 0 };
  return { phase: '', step: running?.name ?? op.progress.step ?? '', attempt: running?.attempts ?? 0 };
}

function describe(op: Operation): string {
  const { phase, step, attempt } = activity(op);
  const where = [phase, step].filter(Boolean).join(' ');
  const retry = attempt > 1 ? ` (attempt ${attempt})` : '';
  return `${op.status}${where ? `: ${where}` : ''}${retry}`;
}

export interface FollowOptions {
  /** A bar redrawn in place on a terminal; otherwise one line per change. */
  output: NodeJS.WriteStream;
  quiet?: boolean;
  refreshMs?: number;
}

/**
 * Follows an operation to its end over the event stream, showing its steps: on a terminal a progress bar (steps
 * done of all, the step running or being undone, its attempt), elsewhere a line each time that changes.
 */
export async function followWithProgress(client: VmopsClient, op: Operation, options: FollowOptions): Promise<Operation> {
  if (options.quiet) return followOperation(client, op.id, { refreshMs: options.refreshMs });
  const label = op.type;
  if (options.output.isTTY) {
    const bar = new SingleBar({
      stream: options.output,
      format: `${label} [{bar}] {stepsDone}/{stepsTotal} steps | {activity}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      fps: 10,
    });
    bar.start(op.progress.stepsTotal || 1, op.progress.stepsDone, {
      stepsDone: op.progress.stepsDone,
      stepsTotal: op.progress.stepsTotal,
      activity: describe(op),
    });
    try {
      return await followOperation(client, op.id, {
        refreshMs: options.refreshMs,
        onUpdate: (view) => {
          bar.setTotal(view.progress.stepsTotal || 1);
          bar.update(view.progress.stepsDone, {
            stepsDone: view.progress.stepsDone,
            stepsTotal: view.progress.stepsTotal,
            activity: describe(view),
          });
        },
      });
    } finally {
      bar.stop();
    }
  }
  let last = '';
  const line = (view: Operation) => {
    const text = `${label} ${view.progress.stepsDone}/${view.progress.stepsTotal} steps | ${describe(view)}`;
    if (text !== last) options.output.write(`${text}\n`);
    last = text;
  };
  line(op);
  return followOperation(client, op.id, { refreshMs: options.refreshMs, onUpdate: line });
}
