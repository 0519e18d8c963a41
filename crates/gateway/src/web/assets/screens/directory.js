// Annuaire: the professionals of the territory (GET /v1/directory), filtered by name,
// profession and commune, and a professional's card: their organisations, whether
// they are on Cordée (then: write to them) or not yet (then: invite them, which
// gives a Pro Santé Connect login link to send them). Directory data is public
// professional identity, never patients, so the search may travel in the query.
import { html, useState, useLoad, Loading, ErrorBox, useId, useSubmit } from '../lib/ui.js';
import { get, post } from '../lib/api.js';
import { learnPerson } from '../lib/store.js';
import { loadConversations } from '../lib/conversations.js';
import { personLabel } from '../lib/format.js';


// The professions of the demo territory's import, most frequent first.
export const PROFESSIONS = [
  ['10', 'Médecin'], ['60', 'Infirmier'], ['21', 'Pharmacien'], ['70', 'Masseur-kinésithérapeute'],
  ['50', 'Sage-femme'], ['40', 'Chirurgien-dentiste'], ['91', 'Orthophoniste'], ['80', 'Pédicure-podologue'],
  ['93', 'Psychologue'], ['92', 'Orthoptiste'], ['94', 'Diététicien'], ['26', 'Audioprothésiste'],
];

function what(p) {
  const parts = [];
  if (p.profession) parts.push(p.profession.label);
  if (p.specialty) parts.push(p.specialty.label);
  return parts.join(' — ');
}

function Row({ p, selected }) {
  return html`<li><a class="row-link" href=${`#/annuaire/${encodeURIComponent(p.national_id)}`}
    aria-current=${p.national_id === selected ? 'true' : undefined} data-professional=${p.national_id}>
    <span class="row-main">
      <span class="row-title">${personLabel(p.display_name)}</span>
      <span class="row-sub">${what(p) || 'Profession non renseignée'}${p.commune_code ? ` · ${p.commune_code}` : ''}</span>
    </span>
    ${p.has_account ? html`<span class="tag">Sur Cordée</span>` : html`<span class="tag muted">Pas encore inscrit</span>`}
  </a></li>`;
}

function Search({ selected }) {
  const qId = useId('annuaire-q');
  const pId = useId('annuaire-p');
  const cId = useId('annuaire-c');
  const [query, setQuery] = useState({ q: '', profession: '', commune: '' });
  const [pages, setPages] = useState([]);
  const [page, error] = useLoad(async () => {
    const params = new URLSearchParams({ limit: '30' });
    for (const [k, v] of Object.entries(query)) if (v) params.set(k, v);
    const first = await get(`/v1/directory?${params}`);
    setPages([]);
    return first;
  }, [query.q, query.profession, query.commune]);
  const [more, moreBusy, moreError] = useSubmit(async () => {
    const last = pages.length ? pages[pages.length - 1] : page;
    const params = new URLSearchParams({ limit: '30', cursor: last.next_cursor });
    for (const [k, v] of Object.entries(query)) if (v) params.set(k, v);
    const next = await get(`/v1/directory?${params}`);
    setPages([...pages, next]);
  });
  const submit = (e) => {
    e.preventDefault();
    const f = e.target.elements;
    setQuery({
      q: f.namedItem('q').value.trim(),
      profession: f.namedItem('profession').value,
      commune: f.namedItem('commune').value.trim(),
    });
  };
  const items = page ? [page, ...pages].flatMap((p) => p.items) : [];
  const last = pages.length ? pages[pages.length - 1] : page;
  return html`<div>
    <form class="card" onSubmit=${submit} role="search">
      <label for=${qId}>Nom du professionnel</label>
      <p class="hint" id=${`${qId}-hint`}>Début du nom (accents et majuscules ignorés), ou numéro RPPS.</p>
      <input id=${qId} name="q" type="search" autocomplete="off" aria-describedby=${`${qId}-hint`} />
      <div class="two">
        <span><label for=${pId}>Profession</label>
          <select id=${pId} name="profession">
            <option value="">Toutes</option>
            ${PROFESSIONS.map(([code, label]) => html`<option value=${code}>${label}</option>`)}
          </select></span>
        <span><label for=${cId}>Commune (code INSEE)</label>
          <input id=${cId} name="commune" inputmode="numeric" maxlength="5" autocomplete="off" placeholder="59350" /></span>
      </div>
      <div class="actions"><button type="submit" class="primary">Chercher</button></div>
    </form>
    <section class="card" aria-label="Professionnels">
      <${ErrorBox} error=${error || moreError} />
      ${!page && !error && html`<${Loading} />`}
      ${page && items.length === 0 && html`<p class="muted">Personne ne correspond.</p>`}
      ${page && html`<ul class="list">${items.map((p) => html`<${Row} key=${p.national_id} p=${p} selected=${selected} />`)}</ul>`}
      ${last && last.next_cursor && html`<div class="actions"><button type="button" onClick=${more} disabled=${moreBusy}>Afficher plus</button></div>`}
    </section>
  </div>`;
}

function Organisations({ ids }) {
  const [orgs, error] = useLoad(
    () => Promise.all(ids.map((id) => get(`/v1/organisations/${id}`).catch(() => null))),
    [ids.join()],
  );
  if (ids.length === 0) return html`<p class="muted">Aucune structure connue.</p>`;
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!orgs) return html`<${Loading} />`;
  return html`<ul class="list">${orgs.filter(Boolean).map((o) => html`<li key=${o.id}>
    <strong>${o.name}</strong><br /><span class="muted">${ORG_KINDS[o.kind] || o.kind}${o.commune_code ? ` · ${o.commune_code}` : ''}${o.finess ? ` · FINESS ${o.finess}` : ''}</span>
  </li>`)}</ul>`;
}

export const ORG_KINDS = {
  officine: 'Officine', cabinet: 'Cabinet', centre_sante: 'Centre de santé', msp: 'Maison de santé',
  laboratoire: 'Laboratoire', etablissement: 'Établissement de santé', ehpad: 'EHPAD', ssiad: 'SSIAD', had: 'HAD', dac: 'DAC',
  autre: 'Autre structure',
};

const MODES = { L: 'Libéral', S: 'Salarié', B: 'Bénévole' };

function Invite({ p }) {
  const [invitation, setInvitation] = useState(null);
  const [invite, busy, error] = useSubmit(async () => {
    setInvitation(await post(`/v1/directory/${encodeURIComponent(p.national_id)}/invite`));
  });
  const linkId = useId('invite-link');
  if (invitation) {
    return html`<div class="notice" role="status">
      <p><strong>Invitation créée.</strong> Envoyez ce lien à ${personLabel(p.display_name)} : il ou elle se connectera avec Pro Santé Connect, et vous serez prévenu·e de sa première connexion.</p>
      <label for=${linkId}>Lien d’invitation</label>
      <input id=${linkId} readonly value=${invitation.link} onFocus=${(e) => e.target.select()} />
      <div class="actions"><button type="button" onClick=${() => navigator.clipboard && navigator.clipboard.writeText(invitation.link)}>Copier le lien</button></div>
    </div>`;
  }
  return html`<div>
    <p class="muted">Pas encore inscrit sur Cordée.</p>
    <${ErrorBox} error=${error} />
    <button type="button" class="primary" onClick=${invite} disabled=${busy}>Inviter sur Cordée</button>
  </div>`;
}

function Write({ p }) {
  const [write, busy, error] = useSubmit(async () => {
    learnPerson(p.account_id, p.display_name);
    const c = await post('/v1/conversations', { kind: 'direct', member_ids: [p.account_id] });
    await loadConversations();
    location.hash = `#/messages/${c.id}`;
  });
  return html`<div>
    <${ErrorBox} error=${error} />
    <button type="button" class="primary" onClick=${write} disabled=${busy}>Écrire</button>
  </div>`;
}

export function Card({ nid }) {
  const [p, error] = useLoad(() => get(`/v1/directory/${encodeURIComponent(nid)}`), [nid]);
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!p) return html`<${Loading} />`;
  return html`<article class="card" aria-labelledby="pro-name" data-card=${p.national_id}>
    <div class="toolbar"><a class="button back" href="#/annuaire">Retour</a></div>
    <h2 id="pro-name">${personLabel(p.display_name)}</h2>
    <p>${what(p) || 'Profession non renseignée'}</p>
    <dl class="facts">
      <dt>Identifiant national</dt><dd>${p.national_id}</dd>
      ${p.mode_exercice && html`<dt>Mode d’exercice</dt><dd>${MODES[p.mode_exercice.code] || p.mode_exercice.label}</dd>`}
      ${p.commune_code && html`<dt>Commune</dt><dd>${p.commune_code}</dd>`}
      <dt>Membre de la CPTS</dt><dd>${p.cpts_member ? 'Oui' : 'Non'}</dd>
      <dt>Source</dt><dd>${p.source === 'rpps' ? 'Annuaire national (RPPS)' : 'Connexion Pro Santé Connect'}</dd>
    </dl>
    <h3>Structures</h3>
    <${Organisations} ids=${p.organisation_ids} />
    <h3>Contact</h3>
    ${p.has_account ? html`<${Write} p=${p} />` : html`<${Invite} p=${p} />`}
  </article>`;
}

export function Screen({ nid }) {
  return html`<div class=${`split${nid ? ' has-detail' : ''}`}>
    <section class="pane-list" aria-labelledby="annuaire-title">
      <div class="toolbar">
        <h1 id="annuaire-title">Annuaire</h1>
        <a class="button" href="#/cpts">La CPTS</a>
      </div>
      <${Search} selected=${nid} />
    </section>
    <section class="pane-detail">
      ${nid ? html`<${Card} key=${nid} nid=${nid} />` : html`<p class="muted">Choisissez un professionnel.</p>`}
    </section>
  </div>`;
}
