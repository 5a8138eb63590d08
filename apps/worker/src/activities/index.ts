export { createInventoryActivities } from './inventory.activities';
export { createReconcilerActivities } from './reconciler.activities';
export { createDrainActivities } from './drain.activities';
export { createSnapshotScheduleActivities } from './snapshot-schedule.activities';
