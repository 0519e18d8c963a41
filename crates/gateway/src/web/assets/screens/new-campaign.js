// Launching (or editing) a campaign: theme, title, description, period, the kinds
// of action counted with their targets. Choosing a theme proposes its usual kinds.
import { html, useState, useLoad, useSubmit, Loading, ErrorBox, useId } from '../lib/ui.js';
import { get, post, put } from '../lib/api.js';
import { THEMES, PRESETS, codeOf } from '../lib/campaigns.js';


const row = (label, code = '', target = '') => ({ key: Math.random().toString(36).slice(2), label, code, target });

function CampaignForm({ existing }) {
  const [theme, setTheme] = useState(existing ? existing.theme : 'grippe');
  const [kinds, setKinds] = useState(() => existing
    ? existing.action_kinds.map((k) => row(k.label, k.code, existing.targets[k.code] ?? ''))
    : PRESETS.grippe.map((l) => row(l)));
  const [problems, setProblems] = useState([]);
  const ids = Object.fromEntries(['theme', 'title', 'description', 'starts', 'ends'].map((k) => [k, useId(k)]));
  const pickTheme = (value) => {
    setTheme(value);
    if (!existing && kinds.every((k) => !k.code)) setKinds((PRESETS[value] || []).map((l) => row(l)));
  };
  const setKind = (key, patch) => setKinds((ks) => ks.map((k) => (k.key === key ? { ...k, ...patch } : k)));
  const [submit, busy, error] = useSubmit(async (event) => {
    const f = event.target.elements;
    const v = (n) => f.namedItem(n).value.trim();
    const found = [];
    if (v('title').length < 2) found.push('Titre : au moins 2 caractères.');
    if (!v('starts_on') || !v('ends_on') || v('ends_on') < v('starts_on')) found.push('Période : la fin ne précède pas le début.');
    const filled = kinds.filter((k) => k.label.trim());
    if (!filled.length) found.push('Au moins un type d’action à compter.');
    const taken = filled.filter((k) => k.code).map((k) => k.code);
    const action_kinds = [];
    const targets = {};
    for (const k of filled) {
      const code = k.code || codeOf(k.label.trim(), taken);
      taken.push(code);
      action_kinds.push({ code, label: k.label.trim() });
      if (String(k.target).trim() !== '') {
        const t = Number(k.target);
        if (!Number.isInteger(t) || t < 0) found.push(`Objectif de « ${k.label.trim()} » : un nombre entier.`);
        else targets[code] = t;
      }
    }
    setProblems(found);
    if (found.length) return;
    const body = { theme, title: v('title'), description: v('description'), starts_on: v('starts_on'), ends_on: v('ends_on'), action_kinds, targets };
    const saved = existing ? await put(`/v1/campaigns/${existing.id}`, body) : await post('/v1/campaigns', body);
    location.hash = `#/campagnes/${saved.id}`;
  });
  return html`<form class="card" onSubmit=${submit} noValidate>
    <label for=${ids.theme}>Thème</label>
    <select id=${ids.theme} name="theme" value=${theme} onChange=${(e) => pickTheme(e.target.value)}>
      ${Object.entries(THEMES).map(([k, label]) => html`<option value=${k}>${label}</option>`)}
    </select>
    <label for=${ids.title}>Titre</label>
    <input id=${ids.title} name="title" maxlength="200" defaultValue=${existing ? existing.title : ''} autocomplete="off" />
    <label for=${ids.description}>Description (facultatif)</label>
    <textarea id=${ids.description} name="description" maxlength="4000" defaultValue=${existing ? existing.description : ''}></textarea>
    <label for=${ids.starts}>Début</label>
    <input id=${ids.starts} name="starts_on" type="date" defaultValue=${existing ? existing.starts_on : ''} />
    <label for=${ids.ends}>Fin</label>
    <input id=${ids.ends} name="ends_on" type="date" defaultValue=${existing ? existing.ends_on : ''} />
    <fieldset><legend>Actions comptées et objectifs</legend>
      ${kinds.map((k, i) => html`<div class="kind-row" key=${k.key}>
        <label for=${`kind-${k.key}`}>Action ${i + 1}</label>
        <input id=${`kind-${k.key}`} value=${k.label} maxlength="120" onInput=${(e) => setKind(k.key, { label: e.target.value })} />
        <label for=${`target-${k.key}`}>Objectif (facultatif)</label>
        <input id=${`target-${k.key}`} type="number" inputmode="numeric" min="0" step="1" value=${k.target} onInput=${(e) => setKind(k.key, { target: e.target.value })} />
        ${!k.code && html`<button type="button" class="link" onClick=${() => setKinds((ks) => ks.filter((x) => x.key !== k.key))}>Retirer cette action</button>`}
      </div>`)}
      <button type="button" onClick=${() => setKinds((ks) => [...ks, row('')])}>Ajouter une action</button>
    </fieldset>
    ${problems.length > 0 && html`<div class="error" role="alert"><ul>${problems.map((p) => html`<li>${p}</li>`)}</ul></div>`}
    <${ErrorBox} error=${error} />
    <div class="actions"><button type="submit" class="primary" disabled=${busy}>${existing ? 'Enregistrer' : 'Lancer la campagne'}</button></div>
  </form>`;
}

export function Screen({ id }) {
  const [existing, error] = useLoad(async () => (id ? get(`/v1/campaigns/${id}`) : null), [id]);
  return html`<section class="narrow" aria-labelledby="new-campaign">
    <div class="toolbar"><h1 id="new-campaign">${id ? 'Modifier la campagne' : 'Nouvelle campagne'}</h1><a class="button" href=${id ? `#/campagnes/${id}` : '#/campagnes'}>Annuler</a></div>
    <${ErrorBox} error=${error} />
    ${existing === undefined && !error ? html`<${Loading} />` : !error && html`<${CampaignForm} key=${id || 'new'} existing=${existing} />`}
  </section>`;
}
