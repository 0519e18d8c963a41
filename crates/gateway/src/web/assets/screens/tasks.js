// "Mes tâches": the tasks assigned to me across my patients, overdue first (the API
// orders them), and a task's screen: accept, decline with a reason, start, done
// with a note; the plan's referent reassigns it or moves its date. Ids only in the
// URL; the words come from the API.
import { html, useState, useEffect, useLoad, Loading, ErrorBox, useId, useSubmit, field } from '../lib/ui.js';
import { onFrame } from '../lib/stream.js';
import { get, patch } from '../lib/api.js';
import { learnPerson, personName } from '../lib/store.js';
import { todayInParis } from '../lib/format.js';
import { CATEGORIES, TASK_STATUSES, TASK_SOURCES } from '../lib/labels.js';
import { birthDate } from '../lib/format.js';
import { useStore } from '../lib/store.js';


function patientLabel(st, id) {
  return (st.patients && st.patients.get && st.patients.get(id)) || 'Patient';
}

function TaskRow({ t, selected }) {
  const st = useStore();
  return html`<li><a class="row-link" href=${`#/taches/${t.id}`} data-task=${t.id} aria-current=${t.id === selected ? 'true' : undefined}>
    <span class="row-main">
      <span class="row-title">${t.overdue && html`<span class="tag urgent">En retard</span> `}${t.title}</span>
      <span class="row-sub">${patientLabel(st, t.patient_id)} · ${CATEGORIES[t.category] || t.category} · pour le ${birthDate(t.due_on)} · ${TASK_STATUSES[t.status] || t.status}</span>
    </span>
  </a></li>`;
}

const FINISHED = ['done', 'declined', 'cancelled'];

/** The referent's card: another team member (or nobody: back to "à attribuer") and
 * the due date, sent with the version read. Shown to the plan's referent and to
 * the team's coordinators; the server decides in the end. */
function Reassign({ task, me, onChanged }) {
  const [ctx, error] = useLoad(async () => {
    const plan = await get(`/v1/patients/${task.patient_id}/care-plans/${task.plan_id}`);
    const team = (await get(`/v1/patients/${task.patient_id}/care-team?limit=200`)).items;
    for (const m of team) learnPerson(m.account_id, m.display_name);
    return { plan, team };
  }, [task.plan_id]);
  const ids = { who: useId('task-who'), due: useId('task-due') };
  const [save, busy, saveError] = useSubmit(async (event) => {
    const f = event.target;
    const body = { version: task.version };
    const who = field(f, 'assignee') || null;
    if (who !== (task.assignee_id || null)) body.assignee_id = who;
    const due = field(f, 'due_on');
    if (due && due !== task.due_on) body.due_on = due;
    onChanged(await patch(`/v1/tasks/${encodeURIComponent(task.id)}`, body));
  });
  if (error || !ctx) return null;
  const { plan, team } = ctx;
  const coordinates = team.some((m) => m.account_id === me.id && m.role === 'coordinateur');
  if (plan.coordinator_id !== me.id && !coordinates) return null;
  return html`<form class="card" onSubmit=${save} aria-labelledby="reassign-title" data-reassign>
    <h2 id="reassign-title">Réattribuer (référent·e du plan)</h2>
    <label for=${ids.who}>Confiée à</label>
    <select id=${ids.who} name="assignee">
      <option value="" selected=${!task.assignee_id}>À attribuer</option>
      ${team.map((m) => html`<option value=${m.account_id} selected=${m.account_id === task.assignee_id}>${personName(m.account_id)}</option>`)}
    </select>
    <label for=${ids.due}>Échéance</label>
    <input id=${ids.due} name="due_on" type="date" min=${todayInParis()} defaultValue=${task.due_on >= todayInParis() ? task.due_on : ''} />
    <p class="hint">La personne choisie doit faire partie de l’équipe de soins et pouvoir lire la catégorie de la tâche ; elle la reçoit comme proposée.</p>
    <${ErrorBox} error=${saveError} />
    <div class="actions"><button type="submit" disabled=${busy} data-action="reassign">Enregistrer</button></div>
  </form>`;
}

export function TaskView({ id, onChanged }) {
  const st = useStore();
  const [task, error, , setTask] = useLoad(() => get(`/v1/tasks/${encodeURIComponent(id)}`), [id]);
  const [declining, setDeclining] = useState(false);
  const noteId = useId('task-note');
  const [busy, setBusy] = useState(false);
  const [changeError, setChangeError] = useState(null);
  const change = async (status, note) => {
    setBusy(true);
    setChangeError(null);
    try {
      const updated = await patch(`/v1/tasks/${encodeURIComponent(id)}`, { status, note: note || null, version: task.version });
      setTask(updated);
      setDeclining(false);
      if (onChanged) onChanged();
    } catch (e) {
      setChangeError(e);
    } finally {
      setBusy(false);
    }
  };
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!task) return html`<${Loading} />`;
  const mine = st.me && task.assignee_id === st.me.id;
  const noteValue = () => (document.getElementById(noteId) || {}).value || '';
  const act = (status) => (e) => { e.preventDefault(); change(status, noteValue().trim()); };
  return html`<article class="card" aria-labelledby="task-title" data-task-view=${task.id} data-task-version=${task.version}>
    <h1 id="task-title">${task.title}</h1>
    <p class="identity-line">
      <span>État : <strong data-task-status>${TASK_STATUSES[task.status] || task.status}</strong></span>
      <span>Échéance : <strong>${birthDate(task.due_on)}</strong>${task.overdue ? html` <span class="tag urgent">En retard</span>` : ''}</span>
      <span>Catégorie : ${CATEGORIES[task.category] || task.category}</span>
      <span>Origine : ${TASK_SOURCES[task.source] || task.source}</span>
    </p>
    ${task.detail && html`<p>${task.detail}</p>`}
    ${task.note && html`<p class="notice">Note : ${task.note}</p>`}
    <p><a href=${`#/patients/${task.patient_id}/plan`}>Voir le plan de soins du patient</a></p>
    ${mine && ['proposed', 'accepted', 'in_progress'].includes(task.status) && html`<form onSubmit=${act(declining ? 'declined' : 'done')}>
      <label for=${noteId}>${declining ? 'Motif du refus (obligatoire)' : 'Note (facultative, versée au dossier une fois réalisée)'}</label>
      <textarea id=${noteId} name="note" required=${declining}></textarea>
      <${ErrorBox} error=${changeError} />
      <div class="actions">
        ${declining
          ? html`<button type="submit" class="primary" disabled=${busy} data-action="confirm-decline">Confirmer le refus</button>
              <button type="button" onClick=${() => setDeclining(false)}>Annuler</button>`
          : html`
            ${task.status === 'proposed' && html`<button type="button" onClick=${act('accepted')} disabled=${busy} data-action="accept">Accepter</button>`}
            ${task.status !== 'in_progress' && html`<button type="button" onClick=${act('in_progress')} disabled=${busy} data-action="start">Commencer</button>`}
            <button type="submit" class="primary" disabled=${busy} data-action="done">Marquer réalisée</button>
            ${task.status !== 'in_progress' && html`<button type="button" class="link" onClick=${() => setDeclining(true)} data-action="decline">Refuser…</button>`}`}
      </div>
    </form>`}
    ${st.me && !FINISHED.includes(task.status) && html`<${Reassign} key=${task.version} task=${task} me=${st.me}
      onChanged=${(updated) => { setTask(updated); if (onChanged) onChanged(); }} />`}
  </article>`;
}

export function Screen({ id }) {
  // Pages of 50, overdue first; "show more" asks for one page more, reloading
  // from the start so that a change elsewhere never leaves a gap or a duplicate.
  const [pages, setPages] = useState(1);
  const [page, error, reload] = useLoad(async () => {
    let items = [];
    let cursor = null;
    for (let i = 0; i < pages; i += 1) {
      const p = await get(`/v1/tasks?assignee=me&status=open&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      items = items.concat(p.items);
      cursor = p.next_cursor;
      if (!cursor) break;
    }
    return { items, next: cursor };
  }, [pages]);
  // A task given to me, taken back or changed elsewhere: the list follows at once.
  useEffect(() => onFrame((frame) => {
    if (frame.type === 'task.assigned' || frame.type === 'task.updated') reload();
  }), [reload]);
  return html`<div class=${`split${id ? ' has-detail' : ''}`}>
    <section class="pane-list" aria-labelledby="tasks-title">
      <div class="toolbar"><h1 id="tasks-title">Mes tâches</h1><a class="button" href="#/parcours">Parcours</a></div>
      <${ErrorBox} error=${error} />
      ${!page && !error && html`<${Loading} />`}
      ${page && page.items.length === 0 && html`<p class="muted">Aucune tâche en cours.</p>`}
      ${page && html`<ul class="list card">${page.items.map((t) => html`<${TaskRow} key=${t.id} t=${t} selected=${id} />`)}</ul>`}
      ${page && page.next && html`<div class="actions"><button type="button" onClick=${() => setPages(pages + 1)} data-action="more-tasks">Afficher les tâches suivantes</button></div>`}
    </section>
    <section class="pane-detail">
      ${id ? html`<${TaskView} key=${id} id=${id} onChanged=${reload} />` : html`<p class="muted">Choisissez une tâche.</p>`}
    </section>
  </div>`;
}
