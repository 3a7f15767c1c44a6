import { timestamp } from 'drizzle-orm/pg-core';

/** Every point in time is a timestamptz, read as a Date. */
export const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
