// The waiting list of patients without a médecin traitant: for coordinators, every
// request sorted by priority (filters by commune and group), with the GPs suggested
// for one and proposing 1 to 3 of them; for professionals, their own requests and
// the proposals made to them, which a GP accepts or declines here (on the phone too).
// Nothing of a request travels in the URL but its id.
import { html, useState, useLoad, useSubmit, Loading, ErrorBox, useId } from '../lib/ui.js';
import { get, post, patch } from '../lib/api.js';
import { useStore } from '../lib/store.js';
import { birthDate } from '../lib/format.js';
import { WAITING_STATUSES, PROPOSAL_STATUSES, WAITING_SOURCES, WAITING_GROUPS, FRAGILITY_FLAGS } from '../lib/labels.js';

const isCoordinator = (me) => (me.cpts_roles || []).some((r) => r === 'coordinator' || r === 'admin');
const isGp = (me) => me.profession && me.profession.code === '10';

function Flags({ f }) {
  const on = Object.keys(FRAGILITY_FLAGS).filter((k) => f[k]);
  if (f.precarity) on.push(f.precarity.toUpperCase());
  if (on.length === 0) return html`<span class="muted">Aucun critère de fragilité</span>`;
  return html`${on.map((k) => html`<span class="tag" key=${k}>${FRAGILITY_FLAGS[k] || k}</span> `)}`;
}

function Row({ r, selected, me }) {
  const mine = r.proposals.find((p) => p.gp_id === me.id && p.status === 'pending');
  return html`<li><a class="row-link" href=${`#/attente/${r.id}`} aria-current=${r.id === selected ? 'true' : undefined} data-request=${r.id}>
    <span class="row-main">
      <span class="row-title">${r.display_name}</span>
      <span class="row-sub">Commune ${r.commune_code} · ${WAITING_STATUSES[r.status]}${mine ? ' · proposé à vous' : ''}</span>
      <span class="row-sub"><${Flags} f=${r.fragility} /></span>
    </span>
    <span class="row-side"><span class="badge" aria-label=${`Priorité ${r.priority}`} data-priority=${r.priority}>${r.priority}</span></span>
  </a></li>`;
}

function Filters({ value, onChange }) {
  const ids = { group: useId('wl-group'), commune: useId('wl-commune') };
  const apply = (e) => {
    e.preventDefault();
    const f = e.target.elements;
    onChange({ group: f.namedItem('group').value, commune: f.namedItem('commune').value.trim() });
  };
  return html`<form class="card" onSubmit=${apply} role="search" aria-label="Filtres">
    <label for=${ids.group}>Groupe</label>
    <select id=${ids.group} name="group" value=${value.group}>
      <option value="">Tous</option>
      ${Object.entries(WAITING_GROUPS).map(([k, label]) => html`<option value=${k}>${label}</option>`)}
    </select>
    <label for=${ids.commune}>Commune (code INSEE)</label>
    <div class="composer-row">
      <input id=${ids.commune} name="commune" maxlength="5" inputmode="numeric" autocomplete="off" value=${value.commune} />
      <button type="submit">Filtrer</button>
    </div>
  </form>`;
}

function RequestList({ selected, me }) {
  const [filters, setFilters] = useState({ group: '', commune: '' });
  const [page, error] = useLoad(() => {
    const q = new URLSearchParams({ limit: '100' });
    if (filters.group) q.set('group', filters.group);
    if (filters.commune) q.set('commune', filters.commune);
    return get(`/v1/waiting-list?${q}`);
  }, [filters.group, filters.commune, selected]);
  return html`<div>
    ${isCoordinator(me) && html`<${Filters} value=${filters} onChange=${setFilters} />`}
    <section class="card" aria-labelledby="wl-list">
      <h2 id="wl-list">${isCoordinator(me) ? 'Demandes par priorité' : 'Mes demandes et propositions'}</h2>
      <${ErrorBox} error=${error} />
      ${!page && !error && html`<${Loading} />`}
      ${page && page.items.length === 0 && html`<p class="muted">Aucune demande en cours.</p>`}
      ${page && html`<ul class="list">${page.items.map((r) => html`<${Row} key=${r.id} r=${r} selected=${selected} me=${me} />`)}</ul>`}
    </section>
  </div>`;
}

function Suggestions({ request, onProposed }) {
  const [picked, setPicked] = useState([]);
  const [page, error] = useLoad(() => get(`/v1/waiting-list/${request.id}/suggestions?limit=10`), [request.id, request.updated_at]);
  const pending = request.proposals.filter((p) => p.status === 'pending').length;
  const [submit, busy, sendError] = useSubmit(async () => {
    await post(`/v1/waiting-list/${request.id}/proposals`, { gp_ids: picked });
    setPicked([]);
    onProposed();
  });
  const toggle = (id) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : p.length + pending < 3 ? [...p, id] : p));
  return html`<section class="card" aria-labelledby="wl-suggest">
    <h2 id="wl-suggest">Médecins suggérés</h2>
    <p class="hint">Cochez 1 à 3 médecins (${pending} proposition(s) en attente).</p>
    <${ErrorBox} error=${error || sendError} />
    ${!page && !error && html`<${Loading} />`}
    ${page && page.items.length === 0 && html`<p class="muted">Aucun médecin disponible ne correspond (commune, ALD, visites à domicile).</p>`}
    ${page && html`<form onSubmit=${submit}><ul class="list">${page.items.map((g) => html`<li key=${g.account_id}>
      <label class="inline" data-suggestion=${g.account_id}>
        <input type="checkbox" checked=${picked.includes(g.account_id)} onChange=${() => toggle(g.account_id)} />
        ${' '}<strong>${g.display_name}</strong> — ${g.remaining_this_month} place(s) ce mois-ci${g.commune_match ? ' · commune déclarée' : ' · tout le territoire'}${g.pending_proposals ? ` · ${g.pending_proposals} en attente` : ''}
      </label>
    </li>`)}</ul>
    <div class="actions"><button type="submit" class="primary" disabled=${busy || picked.length === 0}>Proposer</button></div></form>`}
  </section>`;
}

function Answer({ request, proposal, onDone }) {
  const reasonId = useId('wl-reason');
  const [accept, accepting, acceptError] = useSubmit(async () => {
    await post(`/v1/waiting-list/${request.id}/proposals/${proposal.id}/accept`, {});
    onDone();
  });
  const [decline, declining, declineError] = useSubmit(async (e) => {
    const reason = e.target.elements.namedItem('reason').value.trim();
    await post(`/v1/waiting-list/${request.id}/proposals/${proposal.id}/decline`, reason ? { reason } : {});
    onDone();
  });
  return html`<section class="card" aria-labelledby="wl-answer">
    <h2 id="wl-answer">Proposition pour vous</h2>
    <p>En acceptant, vous devenez le médecin traitant de ce patient et rejoignez son équipe de soins ; une place de votre mois est utilisée.</p>
    <${ErrorBox} error=${acceptError || declineError} />
    <div class="actions"><button type="button" class="primary" id="wl-accept" disabled=${accepting} onClick=${accept}>Accepter</button></div>
    <form onSubmit=${decline}>
      <label for=${reasonId}>Motif du refus (facultatif)</label>
      <input id=${reasonId} name="reason" maxlength="500" autocomplete="off" />
      <div class="actions"><button type="submit" id="wl-decline" disabled=${declining}>Décliner</button></div>
    </form>
  </section>`;
}

function Detail({ id, me }) {
  const [r, error, reload] = useLoad(() => get(`/v1/waiting-list/${id}`), [id]);
  const [withdraw, withdrawing, withdrawError] = useSubmit(async () => {
    await patch(`/v1/waiting-list/${id}`, { status: 'withdrawn' });
    reload();
  });
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!r) return html`<${Loading} />`;
  const open = r.status === 'waiting' || r.status === 'proposed';
  const mine = r.proposals.find((p) => p.gp_id === me.id && p.status === 'pending');
  return html`<article aria-labelledby="wl-title">
    <div class="toolbar"><h1 id="wl-title">${r.display_name}</h1><span class="badge" data-priority=${r.priority}>Priorité ${r.priority}</span></div>
    <section class="card">
      <p>${{ F: 'Née', M: 'Né' }[r.identity.sex] || 'Né·e'} le ${birthDate(r.identity.birth_date)} · commune ${r.commune_code}</p>
      <p><${Flags} f=${r.fragility} /></p>
      <p class="muted">Demande du ${birthDate(r.requested_on)} (${WAITING_SOURCES[r.source]}) · ${WAITING_STATUSES[r.status]}${r.placed_on ? ` le ${birthDate(r.placed_on)}` : ''}</p>
      ${(r.contact.phone || r.contact.email || r.contact.address) && html`<p>Contact : ${[r.contact.phone, r.contact.email, r.contact.address].filter(Boolean).join(' · ')}</p>`}
      ${r.notes && html`<p class="notice">${r.notes}</p>`}
    </section>
    ${mine && open && html`<${Answer} request=${r} proposal=${mine} onDone=${reload} />`}
    ${r.proposals.length > 0 && html`<section class="card" aria-labelledby="wl-proposals"><h2 id="wl-proposals">Propositions</h2>
      <ul class="list">${r.proposals.map((p) => html`<li key=${p.id} class="row-link" data-proposal=${p.id}><span class="row-main">
        <span class="row-title">${p.gp_name}</span><span class="row-sub">${PROPOSAL_STATUSES[p.status]}</span></span></li>`)}</ul></section>`}
    ${open && isCoordinator(me) && html`<${Suggestions} request=${r} onProposed=${reload} />`}
    <${ErrorBox} error=${withdrawError} />
    ${open && (isCoordinator(me) || r.requested_by === me.id) && html`<div class="actions"><button type="button" disabled=${withdrawing} onClick=${withdraw}>Retirer la demande</button></div>`}
  </article>`;
}

export function Screen({ id }) {
  const { me } = useStore();
  return html`<div class=${`split${id ? ' has-detail' : ''}`}>
    <section class="pane-list" aria-labelledby="waiting-title">
      <div class="toolbar">
        <h1 id="waiting-title">Liste d’attente</h1>
        <a class="button primary" href="#/nouvelle-demande">Nouvelle demande</a>
      </div>
      ${isGp(me) && html`<p><a class="button" href="#/disponibilites">Mes disponibilités</a></p>`}
      <${RequestList} selected=${id} me=${me} />
    </section>
    <section class="pane-detail">
      ${id ? html`<${Detail} key=${id} id=${id} me=${me} />` : html`<p class="muted">Choisissez une demande.</p>`}
    </section>
  </div>`;
}
