export { createInventoryActivities } from './inventory.activities';
