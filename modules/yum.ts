/**
 * yum: the dnf module's arguments and plan for hosts that have yum (RHEL/CentOS 7).
 * Its documentation is the defineModule fields (`tsplay doc yum`).
 */

import { rpmModule } from './dnf';

export default rpmModule('yum');
