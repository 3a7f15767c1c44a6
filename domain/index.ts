/** Pure domain rules shared by workflow code and the API: no I/O, no clock. */
export * from './calendar.js';
export * from './creators.js';
export * from './credit.js';
export * from './errors.js';
export * from './metrics.js';
export * from './order.js';
export * from './ratings.js';
export * from './rules.js';
export * from './task.js';
export * from './taskTypes.js';
export * from './time.js';
