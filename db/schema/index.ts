/** The database schema: one file per area. Migrations: drizzle-kit generate (db/migrations). */
export * from './accounts.js';
export * from './creators.js';
export * from './credit.js';
export * from './creditEvents.js';
export * from './notifications.js';
export * from './taskEvents.js';
export * from './taskMetrics.js';
export * from './tasks.js';
export * from './ledger.js';
