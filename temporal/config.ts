/** Where Starmap's workers listen and its clients connect; environment first, dev defaults second. */
export const TASK_QUEUE = 'starmap-tasks';

export const temporalAddress = (): string => process.env['TEMPORAL_ADDRESS'] ?? '127.0.0.1:7233';
export const temporalNamespace = (): string => process.env['TEMPORAL_NAMESPACE'] ?? 'default';
