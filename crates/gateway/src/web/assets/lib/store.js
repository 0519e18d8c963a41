// What the open page knows, in memory only: who I am, my conversations, the names
// of the people and patients I have seen. Nothing goes to the browser's storage (web
// storage, databases): a reload asks the API again.

import { useEffect, useState } from './ui.js';
import { personLabel } from './format.js';

const state = {
  me: null,
  conversations: null, // [{...ConversationOut, urgent, preview, last_at}]
  unreadNotifications: 0,
  online: true,
  people: new Map(), // account id → display name
  patients: new Map(), // patient id → display name
};
const subscribers = new Set();

export function getState() {
  return state;
}

export function update(patch) {
  Object.assign(state, typeof patch === 'function' ? patch(state) : patch);
  for (const fn of subscribers) fn();
}

/** Re-renders the calling component whenever the state changes. */
export function useStore() {
  const [, setTick] = useState(0);
  useEffect(() => {
    const fn = () => setTick((t) => t + 1);
    subscribers.add(fn);
    return () => subscribers.delete(fn);
  }, []);
  return state;
}

export function learnPerson(id, name) {
  const label = personLabel(name);
  if (id && label && state.people.get(id) !== label) {
    state.people.set(id, label);
    update({});
  }
}

export function learnPatient(id, name) {
  if (id && name && state.patients.get(id) !== name) {
    state.patients.set(id, name);
    update({});
  }
}

/** A person's name, "vous" for me, or a neutral word when the API has not told us. */
export function personName(id) {
  if (state.me && id === state.me.id) return 'Vous';
  return state.people.get(id) || 'Membre de la CPTS';
}

export function conversationTitle(c) {
  if (!c) return '';
  if (c.title) return c.title;
  if (c.kind === 'patient') return state.patients.get(c.patient_id) || 'Fil patient';
  if (c.kind === 'direct') return 'Conversation directe';
  return 'Groupe';
}
