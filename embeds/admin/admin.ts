/** The admin console; `/embed/hummdesk-admin.js`, its own bundle, so the agent desk loads without it. */
import { defineElement } from '../shared/define.js';
import { HummdeskAdmin } from './admin.component.js';
import { HummdeskAdminChannels } from './channels.component.js';
import { HummdeskAdminPeople } from './people.component.js';
import { HummdeskAdminKb } from './kb.component.js';
import { HummdeskAdminSecurity } from './security.component.js';
import { HummdeskAdminAi } from './ai.component.js';

export { HummdeskAdmin } from './admin.component.js';
export { HummdeskAdminChannels } from './channels.component.js';
export { HummdeskAdminPeople } from './people.component.js';
export { HummdeskAdminKb } from './kb.component.js';
export { HummdeskAdminSecurity } from './security.component.js';
export { HummdeskAdminAi } from './ai.component.js';

defineElement('hummdesk-admin-channels', HummdeskAdminChannels);
defineElement('hummdesk-admin-people', HummdeskAdminPeople);
defineElement('hummdesk-admin-kb', HummdeskAdminKb);
defineElement('hummdesk-admin-security', HummdeskAdminSecurity);
defineElement('hummdesk-admin-ai', HummdeskAdminAi);
defineElement('hummdesk-admin', HummdeskAdmin);

declare global {
  interface HTMLElementTagNameMap {
    'hummdesk-admin': HummdeskAdmin;
    'hummdesk-admin-channels': HummdeskAdminChannels;
    'hummdesk-admin-people': HummdeskAdminPeople;
    'hummdesk-admin-kb': HummdeskAdminKb;
    'hummdesk-admin-security': HummdeskAdminSecurity;
    'hummdesk-admin-ai': HummdeskAdminAi;
  }
}
