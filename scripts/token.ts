/** `npm run token -- <client|creator|operator> <id>`: a dev token signed with this data folder's secret. */
import { USER_ROLES, createAuth, type UserRole } from '../api/auth.js';
import { devSecrets } from './dev.js';

const [role, id] = process.argv.slice(2);
if (!role || !id || !(USER_ROLES as readonly string[]).includes(role)) {
  console.error('usage: npm run token -- <client|creator|mcn|operator> <id>');
  process.exit(2);
}
console.log(await createAuth(devSecrets().jwtSecret).sign({ role: role as UserRole, id }));
