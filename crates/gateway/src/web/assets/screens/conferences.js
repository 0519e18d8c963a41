// Concertations (RCP / concertation pluriprofessionnelle): the agenda, one
// conference (participants and attendance, cases and the chair's minutes,
// validation) and its record with its corrections (rectificatifs) and a link to
// the server's printable page. Routes: #/concertations, #/concertations/ID,
// #/concertations/ID/compte-rendu.
import { html, useState, useEffect, useLoad, Loading, ErrorBox, useId, useSubmit, field } from '../lib/ui.js';
import { onFrame } from '../lib/stream.js';
import { get, post, put, patch } from '../lib/api.js';
import { useStore } from '../lib/store.js';
import { dateAndTime, birthDate, personLabel } from '../lib/format.js';
import { CATEGORIES, CONFERENCE_KINDS, CONFERENCE_STATUSES } from '../lib/labels.js';


const PROFESSIONS = {
  10: 'Médecin', 21: 'Pharmacien', 40: 'Chirurgien-dentiste', 50: 'Sage-femme', 60: 'Infirmier',
  70: 'Masseur-kinésithérapeute', 80: 'Pédicure-podologue', 91: 'Orthophoniste', 92: 'Orthoptiste',
  94: 'Ergothérapeute', 95: 'Diététicien', 96: 'Psychomotricien',
};

/** What `useSubmit` expects from an event, carrying the action's arguments. */
function act(args) {
  return { preventDefault() {}, ...args };
}

function who(p) {
  const prof = p.profession_code ? PROFESSIONS[p.profession_code] || `Profession ${p.profession_code}` : 'Coordination';
  return `${personLabel(p.display_name)} — ${prof}${p.specialty_code ? ` (${p.specialty_code})` : ''}`;
}

/** The quorum refusal's counts, in French. */
export function quorumText(error) {
  const d = (error && error.problem && error.problem.detail) || '';
  const parts = [];
  const a = /(\d+) more attending (médecin|participant)/.exec(d);
  if (a) parts.push(`${a[1]} ${a[2] === 'médecin' ? 'médecin(s) présent(s)' : 'participant(s) présent(s)'}`);
  const b = /(\d+) more distinct (specialty|profession)/.exec(d);
  if (b) parts.push(`${b[1]} ${b[2] === 'specialty' ? 'spécialité(s) distincte(s)' : 'profession(s) distincte(s)'}`);
  return parts.length ? `Quorum non atteint : il manque ${parts.join(' et ')}.` : 'Quorum non atteint.';
}

function NewConference({ onCreated }) {
  const ids = { title: useId('cc-title'), kind: useId('cc-kind'), at: useId('cc-at'), dur: useId('cc-dur'), place: useId('cc-place') };
  const [submit, busy, error] = useSubmit(async (e) => {
    const f = e.target;
    const at = new Date(field(f, 'scheduled_at'));
    const c = await post('/v1/case-conferences', {
      title: field(f, 'title'),
      kind: field(f, 'kind'),
      scheduled_at: at.toISOString(),
      duration_minutes: Number(field(f, 'duration_minutes')),
      place: field(f, 'place') || null,
    });
    onCreated(c);
  });
  return html`<form class="card" onSubmit=${submit} aria-labelledby="cc-new-title">
    <h2 id="cc-new-title">Planifier une concertation</h2>
    <label for=${ids.title}>Titre</label>
    <input id=${ids.title} name="title" required maxlength="200" />
    <div class="two">
      <span><label for=${ids.kind}>Type</label>
        <select id=${ids.kind} name="kind">${Object.entries(CONFERENCE_KINDS).map(([k, v]) => html`<option value=${k}>${v}</option>`)}</select></span>
      <span><label for=${ids.dur}>Durée (minutes)</label>
        <input id=${ids.dur} name="duration_minutes" type="number" min="5" max="480" value="60" required /></span>
    </div>
    <div class="two">
      <span><label for=${ids.at}>Date et heure</label>
        <input id=${ids.at} name="scheduled_at" type="datetime-local" required /></span>
      <span><label for=${ids.place}>Lieu ou lien de visio</label>
        <input id=${ids.place} name="place" maxlength="500" /></span>
    </div>
    <${ErrorBox} error=${error} />
    <div class="actions"><button type="submit" class="primary" disabled=${busy}>Planifier</button></div>
  </form>`;
}

function Agenda() {
  const [mine, setMine] = useState(false);
  const [page, error, reload] = useLoad(() => get(`/v1/case-conferences?limit=200${mine ? '&mine=true' : ''}`), [mine]);
  // An invitation arrives as a notification: the agenda takes it in at once.
  useEffect(() => onFrame((frame) => {
    if (frame.type === 'notification' && frame.data && String(frame.data.kind).startsWith('case_conference.')) reload();
  }), [reload]);
  const [creating, setCreating] = useState(false);
  const st = useStore();
  const now = new Date().toISOString();
  const items = page ? page.items : [];
  const upcoming = items.filter((c) => c.status === 'planned' && c.scheduled_at >= now.slice(0, 10));
  const others = items.filter((c) => !upcoming.includes(c));
  const row = (c) => html`<li><a class="agenda-item" href=${`#/concertations/${c.id}`} data-conference=${c.id}>
      <strong>${c.title}</strong><br />
      <span class="muted">${CONFERENCE_KINDS[c.kind]} · ${dateAndTime(c.scheduled_at)} · ${c.participants.length} participant(s) · ${c.case_count} cas · ${CONFERENCE_STATUSES[c.status]}</span>
    </a></li>`;
  return html`<section class="narrow" aria-labelledby="cc-title">
    <div class="toolbar"><h1 id="cc-title">Concertations</h1>
      <label class="inline"><input type="checkbox" checked=${mine} onChange=${(e) => setMine(e.target.checked)} /> Mes concertations</label>
      ${st.me && html`<button type="button" onClick=${() => setCreating(!creating)}>Planifier</button>`}
    </div>
    ${creating && html`<${NewConference} onCreated=${(c) => { location.hash = `#/concertations/${c.id}`; reload(); }} />`}
    <${ErrorBox} error=${error} />
    ${!page && !error && html`<${Loading} />`}
    ${page && html`<h2>À venir</h2>
      ${upcoming.length === 0 ? html`<p class="muted">Aucune concertation à venir.</p>` : html`<ul class="list card">${upcoming.map(row)}</ul>`}
      <h2>Passées, validées ou annulées</h2>
      ${others.length === 0 ? html`<p class="muted">Aucune.</p>` : html`<ul class="list card">${others.map(row)}</ul>`}`}
  </section>`;
}

function Invite({ conference, onChanged }) {
  const [q, setQ] = useState('');
  const [found, setFound] = useState(null);
  const [search, searching, searchError] = useSubmit(async () => {
    const page = await get(`/v1/directory?q=${encodeURIComponent(q)}&limit=10`);
    setFound(page.items.filter((d) => d.account_id));
  });
  const [invite, , inviteError] = useSubmit(async (e) => {
    onChanged(await post(`/v1/case-conferences/${conference.id}/participants`, { account_id: e.accountId }));
  });
  const id = useId('cc-q');
  return html`<form onSubmit=${search} class="invite">
    <label for=${id}>Inviter un professionnel (annuaire)</label>
    <div class="toolbar"><input id=${id} value=${q} onInput=${(e) => setQ(e.target.value)} placeholder="Nom" />
      <button type="submit" disabled=${searching || !q.trim()}>Chercher</button></div>
    <${ErrorBox} error=${searchError || inviteError} />
    ${found && (found.length === 0 ? html`<p class="muted">Aucun professionnel inscrit sur Cordée ne correspond.</p>`
      : html`<ul class="list">${found.map((d) => html`<li class="row">${personLabel(d.display_name)} — ${d.profession ? d.profession.label : ''}
          <button type="button" onClick=${() => invite(act({ accountId: d.account_id }))}>Inviter</button></li>`)}</ul>`)}
  </form>`;
}

function Participants({ conference, manager, onChanged }) {
  const [mark, busy, error] = useSubmit(async (e) => {
    onChanged(await put(`/v1/case-conferences/${conference.id}/participants/${e.accountId}/attendance`, { attended: e.attended }));
  });
  const planned = conference.status === 'planned';
  const present = conference.participants.filter((p) => p.attended).length;
  return html`<section class="card" aria-labelledby="cc-participants">
    <h2 id="cc-participants">Participants (${present} présent·e·s sur ${conference.participants.length})</h2>
    <p class="muted">Quorum : ${conference.quorum.min_participants} ${conference.kind === 'rcp' ? 'médecins présents' : 'participants présents'},
      ${conference.quorum.min_professions} ${conference.kind === 'rcp' ? 'spécialités distinctes' : 'professions distinctes'}.</p>
    <ul class="list">${conference.participants.map((p) => html`<li class="row" data-participant=${p.account_id}>
      <span>${who(p)}${p.account_id === conference.chair_id ? ' · préside' : ''}</span>
      ${manager && planned ? html`<label class="inline"><input type="checkbox" checked=${!!p.attended} disabled=${busy}
          onChange=${(e) => mark(act({ accountId: p.account_id, attended: e.target.checked }))} /> Présent·e</label>`
        : html`<span class="muted">${p.attended ? 'Présent·e' : p.attended === false ? 'Absent·e' : ''}</span>`}
    </li>`)}</ul>
    <${ErrorBox} error=${error} />
    ${manager && planned && html`<${Invite} conference=${conference} onChanged=${onChanged} />`}
  </section>`;
}

function AddCase({ conference, onAdded }) {
  const [patients] = useLoad(() => get('/v1/patients?limit=200'), []);
  const ids = { p: useId('cc-p'), q: useId('cc-question') };
  const [submit, busy, error] = useSubmit(async (e) => {
    const f = e.target;
    await post(`/v1/case-conferences/${conference.id}/cases`, { patient_id: field(f, 'patient_id'), question: field(f, 'question') });
    f.reset();
    onAdded();
  });
  return html`<form class="card" onSubmit=${submit} aria-labelledby="cc-add-case">
    <h3 id="cc-add-case">Inscrire un patient à l’ordre du jour</h3>
    <label for=${ids.p}>Patient (de vos patients)</label>
    <select id=${ids.p} name="patient_id" required>
      ${(patients ? patients.items : []).map((p) => html`<option value=${p.id}>${p.display_name}</option>`)}
    </select>
    <label for=${ids.q}>Question posée</label>
    <textarea id=${ids.q} name="question" rows="2" maxlength="1000" required></textarea>
    <${ErrorBox} error=${error} />
    <div class="actions"><button type="submit" class="primary" disabled=${busy}>Inscrire</button></div>
  </form>`;
}

function Minutes({ conference, item, onSaved }) {
  const ids = { s: useId('m-s'), p: useId('m-p'), d: useId('m-d'), f: useId('m-f'), tt: useId('t-t'), tc: useId('t-c'), ta: useId('t-a'), td: useId('t-d') };
  const [submit, busy, error] = useSubmit(async (e) => {
    const f = e.target;
    const tasks = item.tasks.slice();
    if (field(f, 'task_title')) {
      tasks.push({ title: field(f, 'task_title'), category: field(f, 'task_category'), assignee_id: field(f, 'task_assignee'), due_on: field(f, 'task_due') });
    }
    onSaved(await put(`/v1/case-conferences/${conference.id}/cases/${item.id}`, {
      summary: field(f, 'summary') || null,
      proposal: field(f, 'proposal') || null,
      decision: field(f, 'decision') || null,
      follow_up_id: field(f, 'follow_up_id') || null,
      tasks,
    }));
  });
  const people = conference.participants;
  return html`<form onSubmit=${submit} class="minutes">
    <label for=${ids.s}>Synthèse de la discussion</label>
    <textarea id=${ids.s} name="summary" rows="3" maxlength="3000">${item.summary || ''}</textarea>
    <label for=${ids.p}>Proposition</label>
    <textarea id=${ids.p} name="proposal" rows="2" maxlength="3000">${item.proposal || ''}</textarea>
    <label for=${ids.d}>Décision</label>
    <textarea id=${ids.d} name="decision" rows="2" maxlength="3000">${item.decision || ''}</textarea>
    <label for=${ids.f}>Professionnel chargé du suivi</label>
    <select id=${ids.f} name="follow_up_id">
      <option value="">—</option>
      ${people.map((p) => html`<option value=${p.account_id} selected=${item.follow_up_id === p.account_id}>${who(p)}</option>`)}
    </select>
    <fieldset><legend>Ajouter une action</legend>
      <label for=${ids.tt}>Action</label><input id=${ids.tt} name="task_title" maxlength="200" />
      <div class="two">
        <span><label for=${ids.tc}>Catégorie</label><select id=${ids.tc} name="task_category">
          ${Object.entries(CATEGORIES).filter(([k]) => k !== 'rcp').map(([k, v]) => html`<option value=${k} selected=${k === 'soins'}>${v}</option>`)}</select></span>
        <span><label for=${ids.td}>Échéance</label><input id=${ids.td} name="task_due" type="date" /></span>
      </div>
      <label for=${ids.ta}>Confiée à</label><select id=${ids.ta} name="task_assignee">
        ${people.map((p) => html`<option value=${p.account_id}>${who(p)}</option>`)}</select>
    </fieldset>
    <${ErrorBox} error=${error} />
    <div class="actions"><button type="submit" class="primary" disabled=${busy}>Enregistrer le compte rendu</button></div>
  </form>`;
}

function CaseCard({ conference, item, manager, onSaved }) {
  const editable = manager && conference.status === 'planned';
  return html`<article class="card" data-case=${item.id}>
    <h3>${item.patient_name} <span class="muted">né·e le ${birthDate(item.patient_birth_date)}</span></h3>
    <p><strong>Question :</strong> ${item.question}</p>
    ${!editable && html`<dl class="facts">
      <dt>Synthèse</dt><dd>${item.summary || '—'}</dd>
      <dt>Proposition</dt><dd>${item.proposal || '—'}</dd>
      <dt>Décision</dt><dd>${item.decision || '—'}</dd>
    </dl>`}
    ${item.tasks.length > 0 && html`<h4>Actions</h4><ul>${item.tasks.map((t) => html`<li>${t.title} — ${CATEGORIES[t.category] || t.category}, échéance ${birthDate(t.due_on)}</li>`)}</ul>`}
    ${editable && html`<${Minutes} conference=${conference} item=${item} onSaved=${onSaved} />`}
  </article>`;
}

function Conference({ id }) {
  const st = useStore();
  const [conference, error, , setConference] = useLoad(() => get(`/v1/case-conferences/${id}`), [id]);
  const [cases, casesError, reloadCases] = useLoad(() => get(`/v1/case-conferences/${id}/cases?limit=200`), [id]);
  const [validate, validating, validateError] = useSubmit(async () => {
    if (!window.confirm('Valider la concertation ? Le compte rendu sera figé et versé aux dossiers des patients.')) return;
    setConference(await post(`/v1/case-conferences/${id}/validate`));
    reloadCases();
  });
  if (error) return html`<section class="narrow"><${ErrorBox} error=${error} /></section>`;
  if (!conference) return html`<${Loading} />`;
  const me = st.me;
  const manager = me.id === conference.created_by || me.id === conference.chair_id
    || me.cpts_roles.includes('coordinator') || me.cpts_roles.includes('admin');
  const planned = conference.status === 'planned';
  return html`<section class="narrow" aria-labelledby="conf-title" data-conference-view=${conference.id}>
    <div class="toolbar"><h1 id="conf-title">${conference.title}</h1>
      <a class="button" href="#/concertations">Agenda</a>
      ${conference.status === 'validated' && html`<a class="button primary" href=${`#/concertations/${conference.id}/compte-rendu`}>Compte rendu</a>`}
    </div>
    <dl class="facts card">
      <dt>Type</dt><dd>${CONFERENCE_KINDS[conference.kind]}</dd>
      <dt>Date</dt><dd>${dateAndTime(conference.scheduled_at)} (${conference.duration_minutes} min)</dd>
      <dt>Lieu</dt><dd>${conference.place || '—'}</dd>
      <dt>Statut</dt><dd data-status=${conference.status}>${CONFERENCE_STATUSES[conference.status]}</dd>
    </dl>
    <${Participants} conference=${conference} manager=${manager} onChanged=${setConference} />
    <h2>Cas (${conference.case_count})</h2>
    <${ErrorBox} error=${casesError} />
    ${cases && cases.items.length < conference.case_count && html`<p class="muted">Les cas s’ouvrent aux participants à l’heure de la concertation, jusqu’à sa validation.</p>`}
    ${cases && cases.items.map((item) => html`<${CaseCard} conference=${conference} item=${item} manager=${manager} onSaved=${reloadCases} />`)}
    ${planned && me.kind === 'health_professional' && html`<${AddCase} conference=${conference} onAdded=${() => { reloadCases(); get(`/v1/case-conferences/${id}`).then(setConference); }} />`}
    ${planned && manager && html`<div class="card">
      ${validateError && html`<p class="error" role="alert">${validateError.code === 'case_conference.quorum_not_met' ? quorumText(validateError) : ''}</p>`}
      ${validateError && validateError.code !== 'case_conference.quorum_not_met' && html`<${ErrorBox} error=${validateError} />`}
      <button type="button" class="primary" data-validate onClick=${validate} disabled=${validating}>Valider la concertation</button>
    </div>`}
  </section>`;
}

/** Who may add a correction (the server decides; this only hides a form that
 * would be refused): about a case, a health professional who chaired or attended;
 * about the conference, those and its organisers. */
function mayCorrect(me, conference, record) {
  const attended = record.participants.some((p) => p.account_id === me.id && p.attended);
  const chair = record.chair_id === me.id;
  const cases = me.kind === 'health_professional' && (chair || attended);
  const organiser = conference && (conference.created_by === me.id
    || me.cpts_roles.includes('coordinator') || me.cpts_roles.includes('admin'));
  return { cases, general: cases || chair || attended || !!organiser };
}

function AddAddendum({ id, record, may, onAdded }) {
  const ids = { about: useId('ad-about'), text: useId('ad-text') };
  const [submit, busy, error] = useSubmit(async (e) => {
    const f = e.target;
    const about = field(f, 'about');
    await post(`/v1/case-conferences/${id}/addenda`, { text: field(f, 'text'), case_id: about || null });
    f.reset();
    onAdded();
  });
  return html`<form class="card no-print" onSubmit=${submit} aria-labelledby="ad-title" data-addendum-form>
    <h2 id="ad-title">Ajouter un rectificatif</h2>
    <p class="muted">Le compte rendu validé ne change pas : le rectificatif s’ajoute à la suite, avec sa propre empreinte.</p>
    <label for=${ids.about}>Concerne</label>
    <select id=${ids.about} name="about">
      ${may.general && html`<option value="">La concertation (rectificatif général)</option>`}
      ${may.cases && record.cases.map((c) => html`<option value=${c.case_id}>Le cas de ${c.patient_name}</option>`)}
    </select>
    <label for=${ids.text}>Rectificatif</label>
    <textarea id=${ids.text} name="text" rows="3" maxlength="3000" required></textarea>
    <${ErrorBox} error=${error} />
    <div class="actions"><button type="submit" class="primary" disabled=${busy}>Ajouter le rectificatif</button></div>
  </form>`;
}

function Addenda({ record, addenda }) {
  const about = (a) => {
    if (!a.case_id) return 'la concertation';
    const c = record.cases.find((x) => x.case_id === a.case_id);
    return c ? `le cas de ${c.patient_name}` : 'un cas';
  };
  return html`<section aria-labelledby="ad-list">
    <h2 id="ad-list">Rectificatifs</h2>
    ${addenda.length === 0 ? html`<p class="muted">Aucun rectificatif.</p>` : html`<ol class="list card">
      ${addenda.map((a) => html`<li data-addendum=${a.position}>
        <span class="muted">N° ${a.position} — ${dateAndTime(a.created_at)} — ${personLabel(a.author_name)} — concerne ${about(a)}</span>
        <p class="msg-body">${a.text === null ? html`<em>Texte effacé avec le dossier du patient.</em>` : a.text}</p>
        <span class="muted">Empreinte <code class="hash">${a.hash}</code></span>
      </li>`)}</ol>`}
  </section>`;
}

function Record({ id }) {
  const st = useStore();
  const [data, error, reload] = useLoad(() => get(`/v1/case-conferences/${id}/record`), [id]);
  const [conference] = useLoad(() => get(`/v1/case-conferences/${id}`), [id]);
  if (error) return html`<section class="narrow"><${ErrorBox} error=${error} /></section>`;
  if (!data) return html`<${Loading} />`;
  const r = data.record;
  const may = st.me ? mayCorrect(st.me, conference, r) : { cases: false, general: false };
  return html`<article class="narrow record" aria-labelledby="rec-title">
    <div class="toolbar no-print"><a class="button" href=${`#/concertations/${id}`}>Retour</a>
      <a class="button" href=${`/v1/case-conferences/${id}/record?format=html`} target="_blank" rel="noopener" data-printable>Version imprimable</a>
      <button type="button" class="primary" onClick=${() => window.print()}>Imprimer / PDF</button></div>
    <h1 id="rec-title">Compte rendu — ${r.title}</h1>
    <dl class="facts">
      <dt>Type</dt><dd>${CONFERENCE_KINDS[r.kind]}</dd>
      <dt>Date</dt><dd>${dateAndTime(r.scheduled_at)} (${r.duration_minutes} min)</dd>
      <dt>Lieu</dt><dd>${r.place || '—'}</dd>
      <dt>Validé le</dt><dd>${dateAndTime(r.validated_at)}</dd>
    </dl>
    <h2>Participants</h2>
    <ul>${r.participants.map((p) => html`<li>${who(p)} : ${p.attended ? 'présent·e' : 'absent·e'}</li>`)}</ul>
    ${r.cases.map((c) => html`<section class="card">
      <h2>${c.patient_name} <span class="muted">né·e le ${birthDate(c.patient_birth_date)}</span></h2>
      <p><strong>Question :</strong> ${c.question}</p>
      <dl class="facts">
        <dt>Synthèse</dt><dd>${c.summary || '—'}</dd>
        <dt>Proposition</dt><dd>${c.proposal || '—'}</dd>
        <dt>Décision</dt><dd>${c.decision || '—'}</dd>
      </dl>
      ${c.actions.length > 0 && html`<h3>Actions</h3><ul>${c.actions.map((t) => html`<li>${t.title} — échéance ${birthDate(t.due_on)}</li>`)}</ul>`}
    </section>`)}
    <p class="muted">Empreinte SHA-256 du compte rendu : <code class="hash" data-hash>${data.hash}</code></p>
    <${Addenda} record=${r} addenda=${data.addenda} />
    ${(may.cases || may.general) && html`<${AddAddendum} id=${id} record=${r} may=${may} onAdded=${reload} />`}
  </article>`;
}

export function Screen({ id, view }) {
  if (!id) return html`<${Agenda} />`;
  if (view === 'compte-rendu') return html`<${Record} id=${id} />`;
  return html`<${Conference} id=${id} />`;
}
