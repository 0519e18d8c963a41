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
// Waiting list (issue 14)
import * as waitingList from './screens/waiting-list.js';
import * as waitingRequest from './screens/waiting-request.js';
import * as gpCapacity from './screens/gp-capacity.js';

export const SCREENS = [
  messages, newConversation, patients, newPatient, notifications, account,
  // Waiting list (issue 14)
  waitingList, waitingRequest, gpCapacity,
];
