/**
 * systemd_service: the name ansible-core 2.15+ gives the systemd module; the same module under
 * that name, so roles written for either load. Its documentation is the systemd module's
 * fields (`tsplay doc systemd_service`).
 */

import { defineModule } from '../runner/module-api';
import systemd from './systemd';

export default defineModule({
  ...systemd,
  name: 'systemd_service',
  description: 'Same as systemd (its newer Ansible name)',
  example: systemd.example.replace(/^( {2}|- )systemd:/gm, '$1systemd_service:'),
});
