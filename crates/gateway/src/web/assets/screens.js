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
// Case conferences (issue 13)
import * as conferences from './screens/conferences.js';

export const SCREENS = [messages, newConversation, patients, newPatient, notifications, account, directory, cpts,
  // Case conferences (issue 13)
  conferences];
