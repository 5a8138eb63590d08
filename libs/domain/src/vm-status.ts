/** The lifecycle of a VM as the inventory records it. */
export const VM_STATUSES = ['creating', 'stopped', 'running', 'error'] as const;
export type VmStatus = (typeof VM_STATUSES)[number];

const TRANSITIONS: Record<VmStatus, readonly VmStatus[]> = {
  creating: ['running', 'stopped', 'error'],
  stopped: ['running', 'error'],
  running: ['stopped', 'error'],
  error: ['stopped', 'running'],
};

export function canTransition(from: VmStatus, to: VmStatus): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}
