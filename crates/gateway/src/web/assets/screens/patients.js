// Patients: find one (the search terms travel in a POST body, never in the URL),
// the list of my patients, and — beside it on a wide screen — the patient's screen.
import { html, useState, useLoad, Loading, ErrorBox, useId } from '../lib/ui.js';
import { get, post } from '../lib/api.js';
import { learnPatient } from '../lib/store.js';
import { birthDate } from '../lib/format.js';
import { BreakGlass } from '../lib/break-glass.js';
import { PatientView } from './patient.js';

export const route = '/patients/:id?/:tab?';
export const nav = { label: 'Patients', icon: 'people', order: 2 };

function PatientRow({ p, selected }) {
  return html`<li><a class="row-link" href=${`#/patients/${p.id}`} aria-current=${p.id === selected ? 'true' : undefined} data-patient=${p.id}>
    <span class="row-main">
      <span class="row-title">${p.display_name}</span>
      <span class="row-sub">${{ F: 'Née', M: 'Né' }[p.sex] || 'Né·e'} le ${birthDate(p.birth_date)}</span>
    </span>
  </a></li>`;
}

function PatientSearch({ selected }) {
  const [found, setFound] = useState(null);
  const [error, setError] = useState(null);
  const [mine, mineError] = useLoad(async () => {
    const page = await get('/v1/patients?limit=100');
    for (const p of page.items) learnPatient(p.id, p.display_name);
    return page.items;
  }, []);
  const qId = useId('patient-q');
  const search = async (e) => {
    e.preventDefault();
    const q = e.target.elements.namedItem('q').value.trim();
    setError(null);
    if (!q) {
      setFound(null);
      return;
    }
    try {
      const page = await post('/v1/patients/search', { q, limit: 50 });
      setFound(page.items);
    } catch (err) {
      setError(err);
    }
  };
  return html`<div>
    <form class="card" onSubmit=${search} role="search">
      <label for=${qId}>Rechercher un patient</label>
      <p class="hint" id=${`${qId}-hint`}>Matricule INS, ou nom de naissance et date de naissance (DUPONT 12/03/1950).</p>
      <div class="composer-row">
        <input id=${qId} name="q" type="search" autocomplete="off" aria-describedby=${`${qId}-hint`} />
        <button type="submit">Chercher</button>
      </div>
      <${ErrorBox} error=${error} />
    </form>
    ${found && html`<section class="card" aria-label="Résultats">
      <h2>Résultats</h2>
      ${found.length === 0 ? html`<p class="muted">Aucun de vos patients ne correspond.</p>` : html`<ul class="list">${found.map((p) => html`<${PatientRow} key=${p.id} p=${p} selected=${selected} />`)}</ul>`}
    </section>`}
    <section class="card" aria-labelledby="my-patients">
      <h2 id="my-patients">Mes patients</h2>
      <${ErrorBox} error=${mineError} />
      ${mine === undefined && !mineError && html`<${Loading} />`}
      ${mine && mine.length === 0 && html`<p class="muted">Aucun patient dans vos équipes de soins.</p>`}
      ${mine && html`<ul class="list">${mine.map((p) => html`<${PatientRow} key=${p.id} p=${p} selected=${selected} />`)}</ul>`}
    </section>
    <${BreakGlass} onGranted=${(id) => { location.hash = `#/patients/${id}`; }} />
  </div>`;
}

export function Screen({ id, tab }) {
  return html`<div class=${`split${id ? ' has-detail' : ''}`}>
    <section class="pane-list" aria-labelledby="patients-title">
      <div class="toolbar">
        <h1 id="patients-title">Patients</h1>
        <a class="button primary" href="#/nouveau-patient">Nouveau patient</a>
      </div>
      <${PatientSearch} selected=${id} />
    </section>
    <section class="pane-detail">
      ${id ? html`<${PatientView} key=${id} id=${id} tab=${tab || 'dossier'} />` : html`<p class="muted">Choisissez un patient.</p>`}
    </section>
  </div>`;
}
