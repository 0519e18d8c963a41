// The patient's rights: when they were informed of the sharing, their objections
// (to a professional or a category), the entries they asked to mask; and the access
// log (who opened the file, when, under which grant).
import { html, useState, useLoad, Loading, ErrorBox, useId } from '../lib/ui.js';
import { get, put } from '../lib/api.js';
import { personName, learnPerson } from '../lib/store.js';
import { CATEGORIES, PURPOSES, OUTCOMES, actionText } from '../lib/labels.js';
import { dateAndTime, todayInParis, personLabel } from '../lib/format.js';

export function Consent({ patient }) {
  const [consent, error, , setConsent] = useLoad(() => get(`/v1/patients/${patient.id}/consent`), [patient.id]);
  const [team] = useLoad(async () => {
    const page = await get(`/v1/patients/${patient.id}/care-team`);
    for (const m of page.items) learnPerson(m.account_id, m.display_name);
    return page.items;
  }, [patient.id]);
  const [entries] = useLoad(() => get(`/v1/patients/${patient.id}/entries?limit=100`), [patient.id]);
  const [saveError, setSaveError] = useState(null);
  const [saved, setSaved] = useState(false);
  const ids = { date: useId('informed'), cat: useId('obj-cat'), pro: useId('obj-pro') };

  const save = async (next) => {
    setSaveError(null);
    setSaved(false);
    try {
      setConsent(await put(`/v1/patients/${patient.id}/consent`, next));
      setSaved(true);
    } catch (e) {
      setSaveError(e);
    }
  };
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!consent) return html`<${Loading} />`;
  // Each change is explicit (the API refuses blind replacements): one objection added
  // or lifted, one entry masked or unmasked, the information date.
  const recordInformed = (e) => {
    e.preventDefault();
    const day = e.target.elements.namedItem('informed').value;
    // Today: now (never in the future). Another day: noon in Paris, the same calendar
    // day whatever the offset.
    const at = day === todayInParis() ? new Date() : new Date(`${day}T12:00:00+01:00`);
    save({ informed_at: at.toISOString() });
  };
  const addObjection = (objection) => save({ add_objections: [objection] });
  const liftObjection = (id) => save({ lift_objections: [id] });
  const toggleMask = (id, on) => save(on ? { mask: [id] } : { unmask: [id] });
  return html`<div>
    <${ErrorBox} error=${saveError} />
    ${saved && html`<p class="notice" role="status">Enregistré.</p>`}
    <form class="card" onSubmit=${recordInformed}>
      <h2>Information du patient</h2>
      <p>${consent.informed_at
        ? `Informé·e du partage le ${dateAndTime(consent.informed_at)}${consent.informed_by ? ` par ${personName(consent.informed_by)}` : ''}.`
        : 'Information du patient non encore enregistrée.'}</p>
      <label for=${ids.date}>Date de l’information</label>
      <input id=${ids.date} name="informed" type="date" max=${todayInParis()} value=${todayInParis()} required />
      <div class="actions"><button type="submit">Enregistrer la date</button></div>
    </form>
    <section class="card" aria-labelledby="objections-title">
      <h2 id="objections-title">Oppositions</h2>
      ${consent.objections.length === 0 ? html`<p class="muted">Aucune opposition.</p>` : html`<ul class="list">
        ${consent.objections.map((o) => html`<li class="row-link" key=${o.id}><span class="row-main">
          ${o.kind === 'category' ? `Catégorie : ${CATEGORIES[o.category] || o.category}` : `Professionnel : ${personName(o.account_id)}`}</span>
          <button type="button" class="link" onClick=${() => liftObjection(o.id)}>Lever</button></li>`)}
      </ul>`}
      <form onSubmit=${(e) => { e.preventDefault(); addObjection({ kind: 'category', category: e.target.elements.namedItem('category').value }); }}>
        <label for=${ids.cat}>Opposition au partage d’une catégorie</label>
        <div class="composer-row">
          <select id=${ids.cat} name="category">${Object.entries(CATEGORIES).filter(([k]) => k !== 'rcp').map(([k, v]) => html`<option value=${k}>${v}</option>`)}</select>
          <button type="submit">Ajouter</button>
        </div>
      </form>
      ${team && team.length > 0 && html`<form onSubmit=${(e) => { e.preventDefault(); addObjection({ kind: 'professional', account_id: e.target.elements.namedItem('account').value }); }}>
        <label for=${ids.pro}>Opposition à un professionnel</label>
        <div class="composer-row">
          <select id=${ids.pro} name="account">${team.map((m) => html`<option value=${m.account_id}>${personLabel(m.display_name)}</option>`)}</select>
          <button type="submit">Ajouter</button>
        </div>
      </form>`}
    </section>
    <section class="card" aria-labelledby="mask-title">
      <h2 id="mask-title">Entrées masquées</h2>
      <p class="hint">Une entrée masquée n’est visible que de son auteur et du médecin traitant, qui seuls peuvent la démasquer. Le médecin traitant est prévenu de chaque changement.</p>
      ${!entries ? html`<${Loading} />` : entries.items.length === 0 ? html`<p class="muted">Aucune entrée.</p>` : entries.items.map((e) => html`
        <label class="inline" key=${e.id}><input type="checkbox" checked=${consent.masked_entries.includes(e.id)}
          onChange=${(ev) => toggleMask(e.id, ev.target.checked)} /> ${e.title} <span class="muted">(${CATEGORIES[e.category]})</span></label><br />`)}
    </section>
  </div>`;
}

export function AccessLog({ patient }) {
  const [page, error] = useLoad(() => get(`/v1/patients/${patient.id}/access-log?limit=100`), [patient.id]);
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!page) return html`<${Loading} />`;
  return html`<section class="card" aria-labelledby="log-title">
    <h2 id="log-title">Journal d’accès</h2>
    <p class="hint">Qui a consulté ou modifié le dossier, quand, et à quel titre.</p>
    <div class="table-wrap"><table class="stack">
      <thead><tr><th scope="col">Date</th><th scope="col">Qui</th><th scope="col">Action</th><th scope="col">À quel titre</th><th scope="col">Résultat</th></tr></thead>
      <tbody>${page.items.map((i, n) => html`<tr key=${n}>
        <td data-label="Date">${dateAndTime(i.at)}</td>
        <td data-label="Qui">${personLabel(i.actor_name) || (i.actor_id ? personName(i.actor_id) : '—')}</td>
        <td data-label="Action">${actionText(i.action)}</td>
        <td data-label="À quel titre">${PURPOSES[i.purpose] || i.purpose}</td>
        <td data-label="Résultat">${OUTCOMES[i.outcome] || i.outcome}</td>
      </tr>`)}</tbody>
    </table></div>
  </section>`;
}
