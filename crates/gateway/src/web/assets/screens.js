// The screens of the client. Each is one module under screens/ exporting `route`
// (a path like '/patients/:id?/:tab?'), `Screen` (a component receiving the route's
// params) and, when it has a tab in the navigation, `nav` ({ label, icon, order }).
// Adding a screen: write its module, add it to this list.
import * as messages from './screens/messages.js';
import * as newConversation from './screens/new-conversation.js';
import * as patients from './screens/patients.js';
import * as newPatient from './screens/new-patient.js';
import * as notifications from './screens/notifications.js';
import * as account from './screens/account.js';
import * as directory from './screens/directory.js';
import * as cpts from './screens/cpts.js';
import * as aci from './screens/aci.js';
import * as more from './screens/more.js';
// Campaigns (issue 15)
import * as campaigns from './screens/campaigns.js';
import * as newCampaign from './screens/new-campaign.js';
// Waiting list (issue 14)
import * as waitingList from './screens/waiting-list.js';
import * as waitingRequest from './screens/waiting-request.js';
import * as gpCapacity from './screens/gp-capacity.js';
// Pathways, care plans and tasks (issue 12)
import * as tasks from './screens/tasks.js';
import * as pathways from './screens/pathways.js';
// Case conferences (issue 13)
import * as conferences from './screens/conferences.js';

export const SCREENS = [
  messages, newConversation, patients, newPatient, notifications, account, directory, cpts, aci, more,
  campaigns, newCampaign,
  // Waiting list (issue 14)
  waitingList, waitingRequest, gpCapacity,
  // Pathways, care plans and tasks (issue 12)
  tasks, pathways,
  // Case conferences (issue 13)
  conferences,
];
