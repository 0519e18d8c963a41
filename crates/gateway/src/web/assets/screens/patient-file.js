// The coordination file, by category. The API already returns only what my
// profession may read; the matrix (GET /v1/access-matrix) tells which categories to
// offer as filters and which ones I may write in.
import { html, useState, useLoad, Loading, ErrorBox, useId, useSubmit } from '../lib/ui.js';
import { get, post } from '../lib/api.js';
import { useStore, personName, learnPerson } from '../lib/store.js';
import { CATEGORIES, KINDS, professionGroup } from '../lib/labels.js';
import { dateAndTime } from '../lib/format.js';
import { Attachments, PhotoInputs, upload } from '../lib/attachments.js';

function Entry({ e }) {
  return html`<article class=${`card entry${e.status === 'entered_in_error' ? ' in-error' : ''}`} data-entry=${e.id} data-category=${e.category}>
    <h3>${e.title}</h3>
    <p class="muted">${CATEGORIES[e.category] || e.category} · ${KINDS[e.kind] || e.kind} · ${personName(e.author_id)} · ${dateAndTime(e.created_at)}
      ${e.version > 1 ? ' · corrigée' : ''}${e.status === 'entered_in_error' ? ' · marquée erronée' : ''}${e.masked ? ' · masquée à la demande du patient' : ''}</p>
    ${e.body && html`<p class="msg-body">${e.body}</p>`}
    <${Attachments} ids=${e.attachments} />
  </article>`;
}

function NewEntry({ patient, writable, onCreated }) {
  const [open, setOpen] = useState(false);
  const [photos, setPhotos] = useState([]);
  const ids = { cat: useId('e-cat'), kind: useId('e-kind'), title: useId('e-title'), body: useId('e-body') };
  const [submit, busy, error] = useSubmit(async (event) => {
    const f = event.target.elements;
    const attachments = await Promise.all(photos.map(upload));
    const entry = await post(`/v1/patients/${patient.id}/entries`, {
      category: f.namedItem('category').value,
      kind: photos.length && f.namedItem('kind').value === 'note' ? 'photo' : f.namedItem('kind').value,
      title: f.namedItem('title').value.trim(),
      body: f.namedItem('body').value,
      attachments,
    });
    setPhotos([]);
    setOpen(false);
    onCreated(entry);
  });
  if (writable.length === 0) return html`<p class="muted">Votre profession ne peut écrire dans aucune catégorie de ce dossier.</p>`;
  if (!open) return html`<button type="button" class="primary" onClick=${() => setOpen(true)}>Nouvelle entrée</button>`;
  return html`<form class="card" onSubmit=${submit} aria-labelledby="new-entry-title">
    <h2 id="new-entry-title">Nouvelle entrée</h2>
    <label for=${ids.cat}>Catégorie</label>
    <select id=${ids.cat} name="category">${writable.map((c) => html`<option value=${c}>${CATEGORIES[c]}</option>`)}</select>
    <label for=${ids.kind}>Type</label>
    <select id=${ids.kind} name="kind">${Object.entries(KINDS).map(([k, v]) => html`<option value=${k}>${v}</option>`)}</select>
    <label for=${ids.title}>Titre</label>
    <input id=${ids.title} name="title" required maxlength="200" />
    <label for=${ids.body}>Texte</label>
    <textarea id=${ids.body} name="body"></textarea>
    <p>${photos.length ? `${photos.length} photo(s) jointe(s) ` : ''}<${PhotoInputs} onPick=${(f) => setPhotos([...photos, f])} /></p>
    <${ErrorBox} error=${error} />
    <div class="actions">
      <button type="submit" class="primary" disabled=${busy}>Enregistrer</button>
      <button type="button" onClick=${() => setOpen(false)}>Annuler</button>
    </div>
  </form>`;
}

export function PatientFile({ patient }) {
  const st = useStore();
  const [category, setCategory] = useState('');
  const filterId = useId('filter');
  const [matrix] = useLoad(() => get('/v1/access-matrix'), []);
  useLoad(async () => {
    const team = await get(`/v1/patients/${patient.id}/care-team`);
    for (const m of team.items) learnPerson(m.account_id, m.display_name);
  }, [patient.id]);
  const [page, error, , setPage] = useLoad(
    () => get(`/v1/patients/${patient.id}/entries?limit=50&include_entered_in_error=true${category ? `&category=${category}` : ''}`),
    [patient.id, category],
  );
  const group = professionGroup(st.me);
  const mine = matrix ? matrix.items.filter((c) => c.profession_group === group) : [];
  const readable = mine.filter((c) => c.access !== 'none').map((c) => c.category);
  const writable = mine.filter((c) => c.access === 'write' && c.category !== 'rcp').map((c) => c.category);
  const more = async () => {
    const next = await get(`/v1/patients/${patient.id}/entries?limit=50&include_entered_in_error=true&cursor=${page.next_cursor}${category ? `&category=${category}` : ''}`);
    setPage({ ...next, items: [...page.items, ...next.items] });
  };
  const byCategory = new Map();
  for (const e of page ? page.items : []) {
    if (!byCategory.has(e.category)) byCategory.set(e.category, []);
    byCategory.get(e.category).push(e);
  }
  const order = Object.keys(CATEGORIES).filter((c) => byCategory.has(c));
  return html`<div>
    <div class="toolbar">
      <span>
        <label for=${filterId} class="sr-only">Catégorie</label>
        <select id=${filterId} value=${category} onChange=${(e) => setCategory(e.target.value)} name="category-filter">
          <option value="">Toutes les catégories</option>
          ${readable.map((c) => html`<option value=${c}>${CATEGORIES[c]}</option>`)}
        </select>
      </span>
      <${NewEntry} patient=${patient} writable=${writable} onCreated=${(entry) => setPage((p) => ({ ...p, items: [entry, ...p.items], total: p.total + 1 }))} />
    </div>
    <${ErrorBox} error=${error} />
    ${!page && !error && html`<${Loading} />`}
    ${page && html`<p class="muted">${page.total} entrée(s) que vous pouvez lire.</p>`}
    ${order.map((c) => html`<section key=${c} aria-labelledby=${`cat-${c}`}>
      <h2 id=${`cat-${c}`}>${CATEGORIES[c]}</h2>
      ${byCategory.get(c).map((e) => html`<${Entry} key=${e.id} e=${e} />`)}
    </section>`)}
    ${page && page.next_cursor && html`<button type="button" onClick=${more}>Entrées plus anciennes</button>`}
  </div>`;
}
