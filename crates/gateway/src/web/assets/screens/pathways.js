// The CPTS's territorial pathways: every member reads them (what a plan started
// from a pathway will propose); coordinators and admins write them — each edit a
// new version, plans keep the one they started from. Reached from "Mes tâches".
import { html, useState, useLoad, Loading, ErrorBox, useId } from '../lib/ui.js';
import { get, post, put } from '../lib/api.js';
import { useStore } from '../lib/store.js';
import { CATEGORIES } from '../lib/labels.js';


const PROFESSIONS = { '': 'Toute profession', 10: 'Médecin', 21: 'Pharmacien', 60: 'Infirmier', 70: 'Masseur-kinésithérapeute', 50: 'Sage-femme', 40: 'Chirurgien-dentiste', 93: 'Psychologue', 91: 'Orthophoniste' };
const STEP_CATEGORIES = ['soins', 'medical', 'traitements', 'resultats', 'social', 'administratif', 'synthese'];
const blankStep = () => ({ title: '', category: 'soins', profession_code: '', offset_days: 0 });

function Editor({ pathway, onSaved }) {
  const [steps, setSteps] = useState(pathway ? pathway.steps.map((s) => ({ ...s, profession_code: s.profession_code || '' })) : [blankStep()]);
  const [name, setName] = useState(pathway ? pathway.name : '');
  const [description, setDescription] = useState(pathway ? pathway.description : '');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const nameId = useId('pw-name');
  const descId = useId('pw-desc');
  const set = (i, key, value) => setSteps(steps.map((s, j) => (j === i ? { ...s, [key]: value } : s)));
  const save = async (event) => {
    event.preventDefault();
    const body = {
      name: name.trim(),
      description: description.trim(),
      steps: steps.map((s) => ({ title: s.title.trim(), category: s.category, profession_code: s.profession_code || null, offset_days: Number(s.offset_days) || 0 })),
    };
    setBusy(true);
    setError(null);
    try {
      const saved = pathway ? await put(`/v1/pathways/${pathway.id}`, body) : await post('/v1/pathways', body);
      onSaved(saved);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="card" onSubmit=${save} aria-labelledby="pw-editor" data-pathway-editor>
    <h2 id="pw-editor">${pathway ? 'Modifier le parcours (nouvelle version)' : 'Nouveau parcours'}</h2>
    <label for=${nameId}>Nom</label>
    <input id=${nameId} name="name" required value=${name} onInput=${(e) => setName(e.target.value)} />
    <label for=${descId}>Description</label>
    <textarea id=${descId} name="description" value=${description} onInput=${(e) => setDescription(e.target.value)}></textarea>
    <h3>Étapes</h3>
    ${steps.map((s, i) => html`<fieldset class="card" key=${i}>
      <legend>Étape ${i + 1}</legend>
      <label>Intitulé <input name=${`step-title-${i}`} required value=${s.title} onInput=${(e) => set(i, 'title', e.target.value)} /></label>
      <label>Catégorie <select value=${s.category} onChange=${(e) => set(i, 'category', e.target.value)}>${STEP_CATEGORIES.map((c) => html`<option value=${c}>${CATEGORIES[c]}</option>`)}</select></label>
      <label>Profession attendue <select value=${s.profession_code} onChange=${(e) => set(i, 'profession_code', e.target.value)}>${Object.entries(PROFESSIONS).map(([k, v]) => html`<option value=${k}>${v}</option>`)}</select></label>
      <label>Délai (jours après le début) <input type="number" min="0" max="3650" value=${s.offset_days} onInput=${(e) => set(i, 'offset_days', e.target.value)} /></label>
      ${steps.length > 1 && html`<button type="button" class="link" onClick=${() => setSteps(steps.filter((_, j) => j !== i))}>Retirer l’étape</button>`}
    </fieldset>`)}
    <div class="actions">
      <button type="button" onClick=${() => setSteps([...steps, blankStep()])}>Ajouter une étape</button>
      <button type="submit" class="primary" disabled=${busy}>Enregistrer</button>
    </div>
    <${ErrorBox} error=${error} />
  </form>`;
}

export function Screen({ id }) {
  const st = useStore();
  const writer = st.me && (st.me.cpts_roles || []).some((r) => r === 'coordinator' || r === 'admin');
  const [page, error, reload] = useLoad(() => get('/v1/pathways?limit=200'), []);
  const [editing, setEditing] = useState(false);
  const chosen = page && id ? page.items.find((p) => p.id === id) : null;
  return html`<section class="narrow" aria-labelledby="pathways-title">
    <div class="toolbar">
      <h1 id="pathways-title">Parcours de la CPTS</h1>
      ${writer && !id && html`<button type="button" class="primary" onClick=${() => setEditing(true)} data-action="new-pathway">Nouveau parcours</button>`}
    </div>
    <${ErrorBox} error=${error} />
    ${!page && !error && html`<${Loading} />`}
    ${writer && editing && !id && html`<${Editor} onSaved=${(p) => { setEditing(false); reload(); location.hash = `#/parcours/${p.id}`; }} />`}
    ${chosen
      ? html`<article class="card" data-pathway=${chosen.id}>
          <h2>${chosen.name} <span class="muted">(version ${chosen.version})</span></h2>
          ${chosen.description && html`<p>${chosen.description}</p>`}
          <ol>${chosen.steps.map((s) => html`<li>J+${s.offset_days} · ${s.title} · ${CATEGORIES[s.category] || s.category}${s.profession_code ? ` · ${PROFESSIONS[s.profession_code] || s.profession_code}` : ''}</li>`)}</ol>
          <p><a href="#/parcours">Tous les parcours</a></p>
        </article>
        ${writer && html`<${Editor} key=${`${chosen.id}-${chosen.version}`} pathway=${chosen} onSaved=${() => reload()} />`}`
      : page && html`<ul class="list card">${page.items.map((p) => html`<li key=${p.id}><a class="row-link" href=${`#/parcours/${p.id}`} data-pathway-link=${p.id}>
          <span class="row-main"><span class="row-title">${p.name}</span><span class="row-sub">${p.steps.length} étapes · version ${p.version}</span></span>
        </a></li>`)}</ul>`}
    ${page && page.items.length === 0 && html`<p class="muted">Aucun parcours pour l’instant.</p>`}
  </section>`;
}
