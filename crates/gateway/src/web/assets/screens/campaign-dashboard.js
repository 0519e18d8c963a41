// The coordinator's dashboard of a campaign: indicators with their charts, the
// participating structures (enrol one, withdraw one), a message to every
// participant, and the printable report.
import { html, useState, useLoad, useSubmit, Loading, ErrorBox, useId } from '../lib/ui.js';
import { get, post, del, clientId } from '../lib/api.js';
import { THEMES, STRUCTURES, period, fr, Progress, WeekChart, useAction } from '../lib/campaigns.js';

async function load(id) {
  const [campaign, participants, indicators] = await Promise.all([
    get(`/v1/campaigns/${id}`),
    get(`/v1/campaigns/${id}/participants?limit=200`),
    get(`/v1/campaigns/${id}/indicators`),
  ]);
  return { campaign, participants: participants.items, indicators };
}

function Enrol({ id, onDone }) {
  const [found, setFound] = useState(null);
  const qId = useId('org-q');
  const [search, busy, error] = useSubmit(async (event) => {
    const q = event.target.elements.namedItem('q').value.trim();
    setFound(q ? (await get(`/v1/organisations?q=${encodeURIComponent(q)}&limit=10`)).items : null);
  });
  const [run, enrolling, enrolError] = useAction();
  const enrol = (org) => run(async () => {
    await post(`/v1/campaigns/${id}/participants`, { organisation_id: org });
    setFound(null);
    onDone();
  });
  return html`<form onSubmit=${search} role="search">
    <label for=${qId}>Inscrire une structure</label>
    <div class="composer-row"><input id=${qId} name="q" type="search" autocomplete="off" placeholder="Nom de la structure" /><button type="submit" disabled=${busy}>Chercher</button></div>
    ${found && (found.length === 0
      ? html`<p class="muted">Aucune structure ne correspond.</p>`
      : html`<ul class="list">${found.map((o) => html`<li class="row-link" key=${o.id}>
          <span class="row-main"><span class="row-title">${o.name}</span><span class="row-sub">${STRUCTURES[o.kind] || o.kind}</span></span>
          <button type="button" disabled=${enrolling} onClick=${() => enrol(o.id)}>Inscrire</button></li>`)}</ul>`)}
    <${ErrorBox} error=${error || enrolError} />
  </form>`;
}

function Broadcast({ campaign }) {
  const [sent, setSent] = useState(false);
  const bodyId = useId('broadcast');
  const [submit, busy, error] = useSubmit(async (event) => {
    const el = event.target.elements.namedItem('body');
    const body = el.value.trim();
    if (!body) return;
    await post(`/v1/campaigns/${campaign.id}/broadcasts`, { body, client_id: clientId() });
    el.value = '';
    setSent(true);
  });
  return html`<form class="card" onSubmit=${submit} aria-labelledby=${`${bodyId}-title`}>
    <h2 id=${`${bodyId}-title`}>Message aux participants</h2>
    <label for=${bodyId} class="sr-only">Message</label>
    <textarea id=${bodyId} name="body" placeholder="Les nouveaux kits sont disponibles à la CPTS…" onInput=${() => setSent(false)}></textarea>
    <${ErrorBox} error=${error} />
    ${sent && html`<p class="notice" role="status">Message envoyé dans la discussion de la campagne.</p>`}
    <div class="actions"><button type="submit" class="primary" disabled=${busy}>Envoyer à tous</button>
      <a class="button" href=${`#/messages/${campaign.conversation_id}`}>Ouvrir la discussion</a></div>
  </form>`;
}

export function CampaignDashboard({ id }) {
  const [data, error, reload] = useLoad(() => load(id), [id]);
  const [run, busy, withdrawError] = useAction();
  const withdraw = (org) => run(async () => {
    await del(`/v1/campaigns/${id}/participants/${org}`);
    reload();
  });
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!data) return html`<${Loading} />`;
  const { campaign, participants, indicators } = data;
  const byKind = Object.entries(indicators.participants_by_kind);
  return html`<article aria-labelledby="dashboard-title">
    <div class="toolbar"><a class="button" href="#/campagnes" aria-label="Retour aux campagnes">←</a><h1 id="dashboard-title">${campaign.title}</h1>
      <a class="button" href=${`#/nouvelle-campagne/${campaign.id}`}>Modifier</a>
      <a class="button" href=${`/v1/campaigns/${campaign.id}/report`} target="_blank" rel="noopener">Rapport imprimable</a></div>
    <p class="muted">${THEMES[campaign.theme] || campaign.theme} · ${period(campaign)}</p>
    <section class="card" aria-labelledby="indicators-title">
      <h2 id="indicators-title">Indicateurs</h2>
      <p><strong>${fr(indicators.participants)}</strong> structure${indicators.participants > 1 ? 's' : ''} participante${indicators.participants > 1 ? 's' : ''}${byKind.length ? ` (${byKind.map(([k, n]) => `${STRUCTURES[k] || k} : ${n}`).join(', ')})` : ''}</p>
      <${Progress} totals=${indicators.totals} />
      <h3>Par semaine</h3>
      <${WeekChart} campaign=${campaign} weeks=${indicators.by_week} />
    </section>
    <section class="card" aria-labelledby="participants-title">
      <h2 id="participants-title">Structures</h2>
      ${indicators.by_structure.length === 0 && html`<p class="muted">Aucune structure n’a encore rejoint la campagne.</p>`}
      <ul class="list">
        ${indicators.by_structure.map((s) => html`<li class="row-link" key=${s.organisation_id} data-structure=${s.organisation_id}>
          <span class="row-main"><span class="row-title">${s.name}</span>
            <span class="row-sub">${STRUCTURES[s.kind] || s.kind} · ${fr(s.total)} action${s.total > 1 ? 's' : ''}${s.participating ? '' : ' · a quitté la campagne'}</span></span>
          ${s.participating && html`<button type="button" class="link" disabled=${busy} onClick=${() => withdraw(s.organisation_id)}>Retirer</button>`}
        </li>`)}
      </ul>
      <${ErrorBox} error=${withdrawError} />
      <${Enrol} id=${id} onDone=${reload} />
    </section>
    <${Broadcast} campaign=${campaign} />
    <p class="muted">${participants.length} inscription${participants.length > 1 ? 's' : ''} au total, départs compris.</p>
  </article>`;
}
