// Notifications (ids and codes only, never health data): the list, marked read once
// seen. The stream's `notification` frames bump the badge (see app.js).
import { html, useEffect, useLoad, Loading, ErrorBox } from '../lib/ui.js';
import { get, post } from '../lib/api.js';
import { update } from '../lib/store.js';
import { NOTIFICATIONS } from '../lib/labels.js';
import { dateAndTime } from '../lib/format.js';

export const route = '/notifications';
export const nav = { label: 'Notifications', icon: 'bell', order: 3 };

export function Screen() {
  const [page, error] = useLoad(() => get('/v1/notifications?limit=100'), []);
  useEffect(() => {
    const newest = page && page.items[0];
    if (newest && page.items.some((n) => !n.read_at)) {
      post('/v1/notifications/read', { up_to: newest.id }).then(() => update({ unreadNotifications: 0 })).catch(() => {});
    } else if (page) {
      update({ unreadNotifications: 0 });
    }
  }, [page]);
  return html`<section class="narrow" aria-labelledby="notif-title">
    <h1 id="notif-title">Notifications</h1>
    <${ErrorBox} error=${error} />
    ${!page && !error && html`<${Loading} />`}
    ${page && page.items.length === 0 && html`<p class="muted">Aucune notification.</p>`}
    ${page && html`<ul class="list card">${page.items.map((n) => html`<li key=${n.id} class="row-link">
      <span class="row-main">
        <span class="row-title">${!n.read_at && html`<span class="badge">Nouveau</span> `}${NOTIFICATIONS[n.kind] || n.kind}</span>
        <span class="row-sub">${dateAndTime(n.created_at)}</span>
      </span>
      ${n.patient_id && html`<a class="button link" href=${`#/patients/${n.patient_id}`}>Voir le patient</a>`}
    </li>`)}</ul>`}
  </section>`;
}
