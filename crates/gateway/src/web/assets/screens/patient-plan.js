// The patient's care plan (PPS): problems (the patient's own priorities first),
// preferences, objectives with their criteria, the alert procedure, the review date
// (overdue shown), the tasks, adding a task, recording a review; editing the plan
// (each change a new version, sent with the version read so that a concurrent
// change is refused rather than overwritten) and its history; opening a plan (from
// a pathway or not) when there is none.
import { html, useState, useLoad, Loading, ErrorBox, useId, useSubmit, field } from '../lib/ui.js';
import { get, post, patch } from '../lib/api.js';
import { learnPerson, personName } from '../lib/store.js';
import { CATEGORIES, PLAN_STATUSES, TASK_STATUSES } from '../lib/labels.js';
import { birthDate, todayInParis, dayAfter } from '../lib/format.js';

const TASK_CATEGORIES = ['soins', 'medical', 'traitements', 'resultats', 'social', 'administratif', 'synthese'];

function OpenPlan({ patient, onOpened }) {
  const [pathways] = useLoad(() => get('/v1/pathways?limit=100'), []);
  const [title, setTitle] = useState('Plan personnalisé de santé');
  const titleId = useId('plan-title');
  const pathwayId = useId('plan-pathway');
  const [open, busy, error] = useSubmit(async (event) => {
    const f = event.target;
    const chosen = field(f, 'pathway');
    await post(`/v1/patients/${patient.id}/care-plans`, { title: field(f, 'title'), pathway_id: chosen || null });
    onOpened();
  });
  return html`<form class="card" onSubmit=${open} aria-labelledby="open-plan">
    <h2 id="open-plan">Ouvrir un plan personnalisé de santé</h2>
    <label for=${titleId}>Intitulé</label>
    <input id=${titleId} name="title" required value=${title} onInput=${(e) => setTitle(e.target.value)} />
    <label for=${pathwayId}>Parcours de la CPTS (facultatif)</label>
    <select id=${pathwayId} name="pathway">
      <option value="">Sans parcours</option>
      ${(pathways ? pathways.items : []).map((p) => html`<option value=${p.id}>${p.name}</option>`)}
    </select>
    <${ErrorBox} error=${error} />
    <div class="actions"><button type="submit" class="primary" disabled=${busy}>Ouvrir le plan</button></div>
  </form>`;
}

function AddTask({ patient, plan, team, onAdded }) {
  const ids = { title: useId('t-title'), category: useId('t-cat'), assignee: useId('t-who'), due: useId('t-due') };
  const [add, busy, error] = useSubmit(async (event) => {
    const f = event.target;
    await post(`/v1/patients/${patient.id}/care-plans/${plan.id}/tasks`, {
      title: field(f, 'title'),
      category: field(f, 'category'),
      assignee_id: field(f, 'assignee') || null,
      due_on: field(f, 'due'),
    });
    f.reset();
    onAdded();
  });
  return html`<form class="card" onSubmit=${add} aria-labelledby="add-task">
    <h2 id="add-task">Ajouter une tâche</h2>
    <label for=${ids.title}>Tâche</label>
    <input id=${ids.title} name="title" required />
    <label for=${ids.category}>Catégorie</label>
    <select id=${ids.category} name="category">${TASK_CATEGORIES.map((c) => html`<option value=${c}>${CATEGORIES[c]}</option>`)}</select>
    <label for=${ids.assignee}>Confiée à</label>
    <select id=${ids.assignee} name="assignee">
      <option value="">À attribuer (référent)</option>
      ${(team || []).map((m) => html`<option value=${m.account_id}>${personName(m.account_id)}</option>`)}
    </select>
    <label for=${ids.due}>Échéance</label>
    <input id=${ids.due} name="due" type="date" required min=${todayInParis()} value=${todayInParis()} />
    <${ErrorBox} error=${error} />
    <div class="actions"><button type="submit" class="primary" disabled=${busy}>Ajouter la tâche</button></div>
  </form>`;
}

const ACHIEVEMENTS = { achieved: 'Atteint', partial: 'Partiellement atteint', not_achieved: 'Non atteint' };

/** A review: what was achieved per objective (each one the referent evaluates),
 * a synthesis, the next date. */
function ReviewForm({ patient, plan, onDone }) {
  const ids = { summary: useId('r-summary'), next: useId('r-next') };
  const [review, busy, error] = useSubmit(async (event) => {
    const f = event.target;
    const outcomes = plan.objectives
      .map((o, i) => ({ objective: o.label, achievement: field(f, `achievement-${i}`), comment: field(f, `comment-${i}`) }))
      .filter((o) => o.achievement);
    await post(`/v1/patients/${patient.id}/care-plans/${plan.id}/reviews`, { summary: field(f, 'summary'), next_review_on: field(f, 'next'), outcomes });
    f.reset();
    onDone();
  });
  return html`<form class="card" onSubmit=${review} aria-labelledby="review-title" data-review-form>
    <h2 id="review-title">Réévaluer le plan</h2>
    ${plan.objectives.map((o, i) => html`<fieldset key=${i} data-outcome-row>
      <legend>${o.label}${o.criteria ? html` <span class="hint">— critère : ${o.criteria}</span>` : ''}</legend>
      <label for=${`${ids.summary}-a${i}`}>Résultat</label>
      <select id=${`${ids.summary}-a${i}`} name=${`achievement-${i}`}>
        <option value="">Non évalué</option>
        ${Object.entries(ACHIEVEMENTS).map(([v, l]) => html`<option value=${v}>${l}</option>`)}
      </select>
      <label for=${`${ids.summary}-c${i}`}>Commentaire</label>
      <input id=${`${ids.summary}-c${i}`} name=${`comment-${i}`} maxlength="500" />
    </fieldset>`)}
    <label for=${ids.summary}>Synthèse de la revue</label>
    <textarea id=${ids.summary} name="summary" required></textarea>
    <label for=${ids.next}>Prochaine revue</label>
    <input id=${ids.next} name="next" type="date" required min=${dayAfter(todayInParis())} />
    <${ErrorBox} error=${error} />
    <div class="actions"><button type="submit" disabled=${busy} data-action="review">Enregistrer la revue</button></div>
  </form>`;
}

/** A list of rows edited in place: each row an object, `blank` the added one. */
function useRows(initial, blank) {
  const [rows, setRows] = useState(() => initial.map((r, i) => ({ ...r, key: i })));
  const [next, setNext] = useState(initial.length);
  const set = (key, name, value) => setRows(rows.map((r) => (r.key === key ? { ...r, [name]: value } : r)));
  const add = () => { setRows([...rows, { ...blank, key: next }]); setNext(next + 1); };
  const remove = (key) => setRows(rows.filter((r) => r.key !== key));
  return { rows, set, add, remove };
}

function EditPlan({ patient, plan, team, onSaved, onCancel, onReload }) {
  const problems = useRows(plan.problems, { label: '', priority: plan.problems.length + 1, patient_priority: false });
  const objectives = useRows(plan.objectives, { label: '', criteria: '' });
  const ids = { title: useId('p-title'), prefs: useId('p-prefs'), alert: useId('p-alert'), review: useId('p-review'), referent: useId('p-ref'), status: useId('p-status') };
  const [save, busy, error] = useSubmit(async (event) => {
    const f = event.target;
    const updated = await patch(`/v1/patients/${patient.id}/care-plans/${plan.id}`, {
      version: plan.version,
      title: field(f, 'title'),
      problems: problems.rows.filter((r) => r.label.trim()).map((r) => ({ label: r.label.trim(), priority: Number(r.priority) || 1, patient_priority: !!r.patient_priority })),
      preferences: field(f, 'preferences'),
      objectives: objectives.rows.filter((r) => r.label.trim()).map((r) => ({ label: r.label.trim(), criteria: r.criteria.trim() })),
      alert_plan: field(f, 'alert_plan'),
      // Sent only when changed: an overdue plan can be edited without moving its date.
      ...(field(f, 'review_on') !== plan.review_on ? { review_on: field(f, 'review_on') } : {}),
      coordinator_id: field(f, 'coordinator_id'),
      status: field(f, 'status'),
    });
    onSaved(updated);
  });
  const pros = (team || []).filter((m) => m.account_id);
  return html`<form class="card" onSubmit=${save} aria-labelledby="edit-plan" data-plan-edit>
    <h2 id="edit-plan">Modifier le plan</h2>
    <label for=${ids.title}>Intitulé</label>
    <input id=${ids.title} name="title" required maxlength="200" defaultValue=${plan.title} />
    <fieldset>
      <legend>Problèmes (1 = le plus important)</legend>
      ${problems.rows.map((r, i) => html`<div class="row-edit" key=${r.key} data-problem-row>
        <input aria-label=${`Problème ${i + 1}`} name="problem" value=${r.label} maxlength="500" onInput=${(e) => problems.set(r.key, 'label', e.target.value)} />
        <input aria-label=${`Priorité du problème ${i + 1}`} name="priority" type="number" min="1" max="99" class="num" value=${r.priority} onInput=${(e) => problems.set(r.key, 'priority', e.target.value)} />
        <label class="inline"><input type="checkbox" name="patient_priority" checked=${r.patient_priority} onChange=${(e) => problems.set(r.key, 'patient_priority', e.target.checked)} /> Priorité du patient</label>
        <button type="button" class="link" onClick=${() => problems.remove(r.key)}>Retirer</button>
      </div>`)}
      <button type="button" onClick=${problems.add} data-action="add-problem">Ajouter un problème</button>
    </fieldset>
    <fieldset>
      <legend>Objectifs et critères d’évaluation</legend>
      ${objectives.rows.map((r, i) => html`<div class="row-edit" key=${r.key} data-objective-row>
        <input aria-label=${`Objectif ${i + 1}`} name="objective" value=${r.label} maxlength="500" onInput=${(e) => objectives.set(r.key, 'label', e.target.value)} />
        <input aria-label=${`Critère de l’objectif ${i + 1}`} name="criteria" placeholder="Critère" value=${r.criteria} maxlength="500" onInput=${(e) => objectives.set(r.key, 'criteria', e.target.value)} />
        <button type="button" class="link" onClick=${() => objectives.remove(r.key)}>Retirer</button>
      </div>`)}
      <button type="button" onClick=${objectives.add} data-action="add-objective">Ajouter un objectif</button>
    </fieldset>
    <label for=${ids.prefs}>Souhaits du patient</label>
    <textarea id=${ids.prefs} name="preferences" maxlength="4000" defaultValue=${plan.preferences}></textarea>
    <label for=${ids.alert}>En cas d’alerte</label>
    <textarea id=${ids.alert} name="alert_plan" maxlength="4000" defaultValue=${plan.alert_plan}></textarea>
    <label for=${ids.review}>Date de revue</label>
    <input id=${ids.review} name="review_on" type="date" required defaultValue=${plan.review_on} />
    <label for=${ids.referent}>Référent</label>
    <select id=${ids.referent} name="coordinator_id">
      ${pros.map((m) => html`<option value=${m.account_id} selected=${m.account_id === plan.coordinator_id}>${personName(m.account_id)}</option>`)}
    </select>
    <label for=${ids.status}>Statut</label>
    <select id=${ids.status} name="status">
      ${['active', 'suspended', 'closed'].map((s) => html`<option value=${s} selected=${s === plan.status}>${PLAN_STATUSES[s] || s}</option>`)}
    </select>
    <${ErrorBox} error=${error} />
    ${error && error.code === 'care_plan.version_conflict' && html`<p class="hint">Vos modifications n’ont pas été enregistrées. Rechargez le plan pour repartir de la version actuelle.</p>
      <div class="actions"><button type="button" onClick=${onReload} data-action="reload-plan">Recharger le plan</button></div>`}
    <div class="actions">
      <button type="submit" class="primary" disabled=${busy} data-action="save-plan">Enregistrer une nouvelle version</button>
      <button type="button" onClick=${onCancel} data-action="cancel-edit">Annuler</button>
    </div>
  </form>`;
}

function Versions({ patient, plan }) {
  const [page, error] = useLoad(() => get(`/v1/patients/${patient.id}/care-plans/${plan.id}/versions`), [plan.id, plan.version]);
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!page) return html`<${Loading} />`;
  return html`<ol class="versions" data-plan-versions>${page.items.map((v) => html`<li key=${v.version}>
    Version ${v.version} — ${birthDate(v.created_at.slice(0, 10))}, ${personName(v.author_id)} : « ${v.title} », ${v.problems.length} problème(s), ${v.objectives.length} objectif(s), revue le ${birthDate(v.review_on)}
  </li>`)}</ol>`;
}

export function CarePlan({ patient }) {
  const [editing, setEditing] = useState(false);
  const [history, setHistory] = useState(false);
  const [data, error, reload] = useLoad(async () => {
    const plans = await get(`/v1/patients/${patient.id}/care-plans?limit=20`);
    const team = (await get(`/v1/patients/${patient.id}/care-team?limit=200`)).items;
    for (const m of team) learnPerson(m.account_id, m.display_name);
    const current = plans.items.find((p) => p.status !== 'closed') || plans.items[0];
    if (!current) return { plan: null, team };
    const plan = await get(`/v1/patients/${patient.id}/care-plans/${current.id}`);
    const tasks = (await get(`/v1/patients/${patient.id}/care-plans/${current.id}/tasks?limit=200`)).items;
    return { plan, tasks, team };
  }, [patient.id]);
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!data) return html`<${Loading} />`;
  const { plan, tasks, team } = data;
  if (!plan || plan.status === 'closed') return html`<${OpenPlan} patient=${patient} onOpened=${reload} />`;
  if (editing) {
    return html`<div data-plan=${plan.id}><${EditPlan} key=${plan.version} patient=${patient} plan=${plan} team=${team}
      onSaved=${() => { setEditing(false); reload(); }} onCancel=${() => setEditing(false)} onReload=${reload} /></div>`;
  }
  return html`<div data-plan=${plan.id}>
    <section class="card" aria-labelledby="plan-title">
      <h2 id="plan-title">${plan.title}</h2>
      <p class="identity-line">
        <span>Statut : <strong>${PLAN_STATUSES[plan.status] || plan.status}</strong></span>
        <span>Référent : <strong>${personName(plan.coordinator_id)}</strong></span>
        <span>Revue le <strong>${birthDate(plan.review_on)}</strong></span>
      </p>
      ${plan.review_overdue && html`<p class="notice" data-review-overdue>La date de revue est dépassée : réévaluez le plan.</p>`}
      <h3>Problèmes</h3>
      ${plan.problems.length === 0 ? html`<p class="muted">Aucun problème noté.</p>` : html`<ol>${plan.problems.map((p) => html`<li>${p.label}${p.patient_priority ? html` <span class="tag">Priorité du patient</span>` : ''}</li>`)}</ol>`}
      <h3>Objectifs</h3>
      ${plan.objectives.length === 0 ? html`<p class="muted">Aucun objectif noté.</p>` : html`<ul>${plan.objectives.map((o) => html`<li><strong>${o.label}</strong>${o.criteria ? ` — critère : ${o.criteria}` : ''}</li>`)}</ul>`}
      ${plan.preferences && html`<p><strong>Souhaits du patient :</strong> ${plan.preferences}</p>`}
      ${plan.alert_plan && html`<p><strong>En cas d’alerte :</strong> ${plan.alert_plan}</p>`}
      <div class="actions">
        <button type="button" onClick=${() => setEditing(true)} data-action="edit-plan">Modifier le plan</button>
        <button type="button" class="link" onClick=${() => setHistory(!history)} aria-expanded=${history} data-action="plan-history">Version ${plan.version} · historique</button>
      </div>
      ${history && html`<${Versions} patient=${patient} plan=${plan} />`}
    </section>
    <section class="card" aria-labelledby="plan-tasks">
      <h2 id="plan-tasks">Tâches</h2>
      ${tasks.length === 0 ? html`<p class="muted">Aucune tâche visible.</p>` : html`<ul class="list">${tasks.map((t) => html`<li key=${t.id}><a class="row-link" href=${`#/taches/${t.id}`} data-plan-task=${t.id}>
        <span class="row-main">
          <span class="row-title">${t.overdue && html`<span class="tag urgent">En retard</span> `}${t.title}</span>
          <span class="row-sub">${t.assignee_id ? personName(t.assignee_id) : 'À attribuer'} · ${birthDate(t.due_on)} · ${TASK_STATUSES[t.status] || t.status}</span>
        </span>
      </a></li>`)}</ul>`}
    </section>
    ${plan.status !== 'closed' && html`<${AddTask} patient=${patient} plan=${plan} team=${team} onAdded=${reload} />`}
    ${plan.status !== 'closed' && html`<${ReviewForm} patient=${patient} plan=${plan} onDone=${reload} />`}
    ${plan.reviews && plan.reviews.length > 0 && html`<section class="card" aria-labelledby="plan-reviews">
      <h2 id="plan-reviews">Revues</h2>
      <ul data-plan-reviews>${plan.reviews.map((r) => html`<li>${birthDate(r.created_at.slice(0, 10))}, ${personName(r.author_id)} : ${r.summary}
        ${r.outcomes && r.outcomes.length > 0 && html`<ul>${r.outcomes.map((o) => html`<li><strong>${o.objective}</strong> : ${ACHIEVEMENTS[o.achievement] || o.achievement}${o.comment ? ` — ${o.comment}` : ''}</li>`)}</ul>`}
      </li>`)}</ul>
    </section>`}
  </div>`;
}
