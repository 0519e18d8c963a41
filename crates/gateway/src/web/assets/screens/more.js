// "Plus": on a phone, the screens the bottom bar has no room for, as a list.
import { html } from '../lib/ui.js';
import { ICONS } from '../lib/icons.js';
import { SCREENS } from '../screens.js';

export const route = '/plus';

export function Screen() {
  // Every screen of the navigation, those on the phone bar too: one list to scan.
  const tabs = SCREENS.filter((s) => s.nav).sort((a, b) => a.nav.order - b.nav.order);
  return html`<section class="narrow" aria-labelledby="more-title">
    <h1 id="more-title">Plus</h1>
    <ul class="list card">${tabs.map((s) => {
      const base = `/${s.route.split('/')[1]}`;
      return html`<li key=${base}><a class="row-link" href=${`#${base}`}>
        <span class="row-main"><span class="row-title">${ICONS[s.nav.icon]} ${s.nav.label}</span></span></a></li>`;
    })}</ul>
  </section>`;
}
