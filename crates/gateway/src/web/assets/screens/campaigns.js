// Campagnes de prévention: the list (current ones first) and, beside it on a wide
// screen or instead of it on a phone, one campaign — the counter screen for a
// professional (join for my structure, record the day's counts), the dashboard for
// a coordinator.
import { html, useLoad, Loading, ErrorBox } from '../lib/ui.js';
import { get } from '../lib/api.js';
import { useStore } from '../lib/store.js';
import { THEMES, STAGES, period, stage, isCoordinator } from '../lib/campaigns.js';
import { CampaignCounter } from './campaign-counter.js';
import { CampaignDashboard } from './campaign-dashboard.js';

const ORDER = { en_cours: 0, a_venir: 1, terminee: 2 };

function CampaignList({ selected }) {
  const [campaigns, error] = useLoad(async () => (await get('/v1/campaigns?limit=200')).items, []);
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!campaigns) return html`<${Loading} />`;
  if (!campaigns.length) return html`<p class="muted">Aucune campagne pour l’instant.</p>`;
  const sorted = [...campaigns].sort((a, b) => ORDER[stage(a)] - ORDER[stage(b)]);
  return html`<ul class="list card">
    ${sorted.map((c) => html`<li key=${c.id}><a class="row-link" href=${`#/campagnes/${c.id}`} data-campaign=${c.id} aria-current=${c.id === selected ? 'true' : undefined}>
      <span class="row-main">
        <span class="row-title">${c.title}</span>
        <span class="row-sub">${THEMES[c.theme] || c.theme} · ${period(c)}</span>
      </span>
      <span class=${`tag stage-${stage(c)}`}>${STAGES[stage(c)]}</span>
    </a></li>`)}
  </ul>`;
}

export function Screen({ id }) {
  const st = useStore();
  const coordinator = isCoordinator(st.me);
  return html`<div class=${`split${id ? ' has-detail' : ''}`}>
    <section class="pane-list" aria-labelledby="campaigns-title">
      <div class="toolbar">
        <h1 id="campaigns-title">Campagnes</h1>
        ${coordinator && html`<a class="button primary" href="#/nouvelle-campagne">Nouvelle campagne</a>`}
      </div>
      <${CampaignList} selected=${id} />
    </section>
    <section class="pane-detail">
      ${id
        ? coordinator
          ? html`<${CampaignDashboard} key=${id} id=${id} />`
          : html`<${CampaignCounter} key=${id} id=${id} />`
        : html`<p class="muted">Choisissez une campagne.</p>`}
    </section>
  </div>`;
}
