import { InitialSchema1763856000000 } from './1763856000000-initial-schema';

/** Every migration, oldest first. A new one is added here and committed with its entity change. */
export const MIGRATIONS = [InitialSchema1763856000000];
