// La CPTS: its profile (name, population and the ACI size it gives, contract date,
// missions, communes), its members by profession, my own adhesion (join or leave),
// and, for admins, the form that writes the profile (PUT /v1/cpts).
import { html, useState, useLoad, Loading, ErrorBox, useId, useSubmit, field } from '../lib/ui.js';
import { get, put, post, del } from '../lib/api.js';
import { useStore } from '../lib/store.js';
import { birthDate } from '../lib/format.js';


export const MISSIONS = {
  acces_soins: 'Accès aux soins (médecin traitant, soins non programmés)',
  parcours: 'Parcours pluriprofessionnels',
  prevention: 'Prévention',
  crise_sanitaire: 'Crises sanitaires',
  qualite: 'Qualité et pertinence des soins',
  accompagnement: 'Accompagnement des professionnels',
};

function Membership({ me, onChanged }) {
  const [membership, error, reload] = useLoad(
    () => get('/v1/cpts/membership').catch((e) => (e.code === 'cpts.not_member' ? null : Promise.reject(e))),
    [],
  );
  const [join, joining, joinError] = useSubmit(async () => {
    await post('/v1/cpts/membership');
    reload();
    onChanged();
  });
  const [leave, leaving, leaveError] = useSubmit(async () => {
    if (!window.confirm('Quitter la CPTS ? Votre adhésion sera close à la date du jour.')) return;
    await del('/v1/cpts/membership');
    reload();
    onChanged();
  });
  if (me.kind !== 'health_professional') return null;
  return html`<section class="card" aria-labelledby="adhesion-title">
    <h2 id="adhesion-title">Mon adhésion</h2>
    <${ErrorBox} error=${error || joinError || leaveError} />
    ${membership === undefined && !error && html`<${Loading} />`}
    ${membership === null && html`<p>Vous n’êtes pas adhérent·e de la CPTS.</p>
      <button type="button" class="primary" onClick=${join} disabled=${joining}>Adhérer à la CPTS</button>`}
    ${membership && html`<p>Adhérent·e depuis le ${birthDate(membership.joined_at.slice(0, 10))}${membership.profession ? ` (${membership.profession.label})` : ''}.</p>
      <button type="button" class="link" onClick=${leave} disabled=${leaving}>Quitter la CPTS</button>`}
  </section>`;
}

function ProfileForm({ cpts, onSaved }) {
  const ids = { name: useId('cpts-name'), pop: useId('cpts-pop'), date: useId('cpts-date'), communes: useId('cpts-communes') };
  const [submit, busy, error] = useSubmit(async (e) => {
    const f = e.target;
    const missions = Object.keys(MISSIONS).filter((m) => f.elements.namedItem(`m-${m}`).checked);
    const communes = field(f, 'communes').split(/[\s,;]+/).filter(Boolean);
    const date = field(f, 'contract_signed_on');
    onSaved(await put('/v1/cpts', {
      name: field(f, 'name'),
      population: Number(field(f, 'population')),
      contract_signed_on: date || null,
      missions,
      communes,
    }));
  });
  return html`<form class="card" onSubmit=${submit} aria-labelledby="cpts-edit-title">
    <h2 id="cpts-edit-title">Modifier le profil</h2>
    <label for=${ids.name}>Nom de la CPTS</label>
    <input id=${ids.name} name="name" required maxlength="200" value=${cpts.name || ''} />
    <div class="two">
      <span><label for=${ids.pop}>Population du territoire</label>
        <input id=${ids.pop} name="population" type="number" min="1" max="10000000" required value=${cpts.population || ''} /></span>
      <span><label for=${ids.date}>Date de signature du contrat ACI</label>
        <input id=${ids.date} name="contract_signed_on" type="date" value=${cpts.contract_signed_on || ''} /></span>
    </div>
    <fieldset><legend>Missions choisies</legend>
      ${Object.entries(MISSIONS).map(([code, label]) => html`<label class="inline">
        <input type="checkbox" name=${`m-${code}`} checked=${cpts.missions.includes(code)} /> ${label}</label><br />`)}
    </fieldset>
    <label for=${ids.communes}>Communes (codes INSEE, séparés par des espaces)</label>
    <textarea id=${ids.communes} name="communes" rows="3">${cpts.communes.join(' ')}</textarea>
    <${ErrorBox} error=${error} />
    <div class="actions"><button type="submit" class="primary" disabled=${busy}>Enregistrer</button></div>
  </form>`;
}

export function Screen() {
  const st = useStore();
  const me = st.me;
  const [cpts, error, reloadCpts, setCpts] = useLoad(() => get('/v1/cpts'), []);
  const [saved, setSaved] = useState(false);
  const admin = me.cpts_roles.includes('admin');
  return html`<section class="narrow" aria-labelledby="cpts-title">
    <div class="toolbar"><h1 id="cpts-title">La CPTS</h1>
      ${(admin || me.cpts_roles.includes('coordinator')) && html`<a class="button" href="#/aci">Rapport ACI</a>`}
      <a class="button" href="#/annuaire">Annuaire</a></div>
    <${ErrorBox} error=${error} />
    ${!cpts && !error && html`<${Loading} />`}
    ${cpts && html`<div class="card" data-cpts="profile">
      <h2>${cpts.name || 'Profil non renseigné'}</h2>
      <dl class="facts">
        <dt>Population</dt><dd>${cpts.population ? cpts.population.toLocaleString('fr-FR') : '—'}</dd>
        <dt>Taille (ACI)</dt><dd>${cpts.size ? `Taille ${cpts.size}` : '—'}</dd>
        <dt>Contrat signé le</dt><dd>${cpts.contract_signed_on ? birthDate(cpts.contract_signed_on) : '—'}</dd>
        <dt>Communes</dt><dd>${cpts.communes.length}</dd>
      </dl>
      <h3>Missions</h3>
      ${cpts.missions.length === 0 ? html`<p class="muted">Aucune mission choisie.</p>` : html`<ul>${cpts.missions.map((m) => html`<li>${MISSIONS[m] || m}</li>`)}</ul>`}
      <h3>Adhérents : ${cpts.members.total}</h3>
      <ul class="list">${cpts.members.by_profession.map((c) => html`<li>${c.profession ? c.profession.label : 'Profession non précisée'} : ${c.count}</li>`)}</ul>
    </div>`}
    ${saved && html`<p class="notice" role="status">Profil enregistré.</p>`}
    ${cpts && admin && html`<${ProfileForm} cpts=${cpts} onSaved=${(c) => { setCpts(c); setSaved(true); }} />`}
    <${Membership} me=${me} onChanged=${reloadCpts} />
  </section>`;
}
