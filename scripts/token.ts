/**
 * `npm run token -- <client|creator|mcn|operator> <account id>`: a dev token
 * signed with this data folder's secret. The API honours it only for an
 * existing, enabled account with that role (sign in with POST /v1/sessions
 * otherwise; `npm start` prints tokens for the demo accounts).
 */
import { USER_ROLES, createAuth, type UserRole } from '../api/auth.js';
import { devSecrets } from './dev.js';

const [role, id] = process.argv.slice(2);
if (!role || !id || !(USER_ROLES as readonly string[]).includes(role)) {
  console.error('usage: npm run token -- <client|creator|mcn|operator> <account id>');
  process.exit(2);
}
console.log(await createAuth(devSecrets().jwtSecret).sign({ role: role as UserRole, id }));
