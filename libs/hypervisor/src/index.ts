// Driver implementations: the simulated hypervisor (with its control: faults, latency, call counts) and QEMU.
// The contract they implement is @vmops/driver.
export * from './simulated/sim-store';
export * from './simulated/simulated-hypervisor';
export * from './simulated/simulator-control';
export * from './qemu';
