// The screens of the client. Each is one module under screens/ exporting `Screen` (a
// component receiving the route's params). This list gives each its `route` (a path
// like '/patients/:id?/:tab?') and, when it has a tab in the navigation, its `nav`
// ({ label, icon, order, for(me) }).
//
// The messagerie and the patients are loaded at boot: they are where a professional
// lands. Every other module is fetched the first time it is opened (`lazy`), so
// that each new module costs the first screen nothing; their route and navigation
// live here because the navigation needs them before the module is loaded.
// Adding a screen: write its module, add it to this list.
import { lazy } from './lib/ui.js';
import * as messages from './screens/messages.js';
import * as newConversation from './screens/new-conversation.js';
import * as patients from './screens/patients.js';
import * as newPatient from './screens/new-patient.js';
import * as notifications from './screens/notifications.js';
import * as account from './screens/account.js';

const isStaff = (me) => me.kind === 'staff';
const hasProfession = (me, code) => !!me.profession && me.profession.code === code;

export const SCREENS = [
  messages, newConversation, patients, newPatient, notifications, account,
  // The directory and the CPTS (issue 11), the ACI report (issue 15)
  { route: '/annuaire/:nid?', nav: { label: 'Annuaire', icon: 'book', order: 3.5 }, Screen: lazy(() => import('./screens/directory.js')) },
  { route: '/cpts', Screen: lazy(() => import('./screens/cpts.js')) },
  { route: '/aci', Screen: lazy(() => import('./screens/aci.js')) },
  // Campaigns (issue 15): on the phone bar of the coordination and of pharmacists
  // (the counter's campaigns).
  {
    route: '/campagnes/:id?',
    nav: { label: 'Campagnes', icon: 'campaign', order: 2.8, for: (me) => isStaff(me) || hasProfession(me, '21') },
    Screen: lazy(() => import('./screens/campaigns.js')),
  },
  { route: '/nouvelle-campagne/:id?', Screen: lazy(() => import('./screens/new-campaign.js')) },
  // Waiting list (issue 14): on the phone bar of those who work the list, the
  // coordination and the médecins.
  {
    route: '/attente/:id?',
    nav: { label: 'Attente', icon: 'list', order: 2.7, for: (me) => isStaff(me) || hasProfession(me, '10') },
    Screen: lazy(() => import('./screens/waiting-list.js')),
  },
  { route: '/nouvelle-demande', Screen: lazy(() => import('./screens/waiting-request.js')) },
  { route: '/disponibilites', Screen: lazy(() => import('./screens/gp-capacity.js')) },
  // Pathways, care plans and tasks (issue 12)
  { route: '/taches/:id?', nav: { label: 'Tâches', icon: 'check', order: 2.1 }, Screen: lazy(() => import('./screens/tasks.js')) },
  { route: '/parcours/:id?', Screen: lazy(() => import('./screens/pathways.js')) },
  // Case conferences (issue 13); a short label: the phone's bottom bar is 360 px.
  { route: '/concertations/:id?/:view?', nav: { label: 'RCP', icon: 'people', order: 3.6 }, Screen: lazy(() => import('./screens/conferences.js')) },
];
