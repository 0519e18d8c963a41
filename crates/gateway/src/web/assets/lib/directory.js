// Choosing a professional: searches GET /v1/directory (its documented shape:
// { items: [{ national_id, account_id | null, display_name, profession, specialty,
// organisation_ids, commune_code, cpts_member }], next_cursor }). Where the route does
// not exist yet (404 route.not_found), the person is entered by account id.
import { html, useEffect, useState, useId } from './ui.js';
import { get } from './api.js';
import { learnPerson } from './store.js';
import { errorText } from './labels.js';
import { personLabel } from './format.js';

const ACCOUNT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
let available = null; // null: not probed yet

async function probe() {
  if (available !== null) return available;
  try {
    await get('/v1/directory?limit=1');
    available = true;
  } catch (e) {
    available = !(e.status === 404 && e.code === 'route.not_found');
  }
  return available;
}

function label(p) {
  const what = p.profession && (p.profession.label || p.profession);
  const name = personLabel(p.display_name);
  return what && typeof what === 'string' ? `${name} — ${what}` : name;
}

/** `onPick({ account_id, display_name })`. */
export function PersonPicker({ onPick, legend = 'Choisir un professionnel', excluded = [] }) {
  const [mode, setMode] = useState(available === null ? 'probing' : available ? 'search' : 'manual');
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const [manual, setManual] = useState('');
  const qId = useId('dir-q');
  const mId = useId('dir-id');
  useEffect(() => {
    probe().then((ok) => setMode(ok ? 'search' : 'manual'));
  }, []);

  const search = async (e) => {
    e.preventDefault();
    const q = e.target.elements.namedItem('q').value.trim();
    setError(null);
    try {
      const page = await get(`/v1/directory?q=${encodeURIComponent(q)}&limit=20`);
      setItems(page.items || []);
    } catch (err) {
      if (err.status === 404 && err.code === 'route.not_found') {
        available = false;
        setMode('manual');
      } else setError(err);
    }
  };
  const pickManual = (e) => {
    e.preventDefault();
    const id = manual.trim();
    if (!ACCOUNT_ID.test(id)) {
      setError({ code: 'local', message: '' , status: 0, text: true });
      return;
    }
    setError(null);
    onPick({ account_id: id, display_name: null });
    setManual('');
  };

  if (mode === 'probing') return html`<p class="muted">Annuaire…</p>`;
  if (mode === 'manual') {
    return html`<form onSubmit=${pickManual} class="picker">
      <label for=${mId}>Identifiant du compte Cordée</label>
      <p class="hint">L’annuaire n’est pas encore disponible : saisissez l’identifiant du compte
        (affiché dans l’onglet « Compte » de la personne).</p>
      <input id=${mId} name="account_id" value=${manual} onInput=${(e) => setManual(e.target.value)}
        autocomplete="off" spellcheck="false" placeholder="0190…-…" />
      ${error && html`<p class="error" role="alert">Ce n’est pas un identifiant de compte valide.</p>`}
      <div class="actions"><button type="submit">Ajouter</button></div>
    </form>`;
  }
  return html`<div class="picker">
    <form onSubmit=${search} role="search">
      <label for=${qId}>${legend}</label>
      <div class="composer-row">
        <input id=${qId} name="q" type="search" autocomplete="off" placeholder="Nom, profession…" />
        <button type="submit">Chercher</button>
      </div>
    </form>
    ${error && html`<p class="error" role="alert">${errorText(error)}</p>`}
    ${items && items.length === 0 && html`<p class="muted">Personne ne correspond.</p>`}
    ${items && html`<ul class="list">
      ${items.map((p) => html`<li key=${p.national_id}>
        ${p.account_id && !excluded.includes(p.account_id)
          ? html`<button type="button" class="link" onClick=${() => { learnPerson(p.account_id, p.display_name); onPick({ account_id: p.account_id, display_name: p.display_name }); }}>${label(p)}</button>`
          : html`<span class="muted">${label(p)} ${p.account_id ? '(déjà choisi)' : '(pas encore de compte Cordée)'}</span>`}
      </li>`)}
    </ul>`}
  </div>`;
}
