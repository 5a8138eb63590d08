// The workflow bundle's entry point: every workflow type the worker registers.
export { createVmWorkflow } from './create-vm.workflow';
export { startVmWorkflow, stopVmWorkflow } from './power.workflow';
export { resetVmWorkflow } from './reset-vm.workflow';
export { readNodeWorkflow } from './read-node.workflow';
