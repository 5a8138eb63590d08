import { DefaultLogger, Runtime } from '@temporalio/worker';

// Workflows that fail on purpose would flood the test output with the SDK's warnings.
Runtime.install({ logger: new DefaultLogger('ERROR') });
