// A patient's screen: the identity as the INS rules want it (NOM DE NAISSANCE in
// capitals, first names, birth date, sex, identity status; the used name second),
// then the file, the care team, the threads, consent and the access log. A patient
// the API will not show answers one sentence that never says whether they exist.
import { html, useLoad, Loading, ErrorBox, lazy } from '../lib/ui.js';
import { get } from '../lib/api.js';
import { learnPatient } from '../lib/store.js';
import { STATUSES, SEXES } from '../lib/labels.js';
import { birthDate } from '../lib/format.js';
import { BreakGlass } from '../lib/break-glass.js';
import { PatientFile } from './patient-file.js';
import { CareTeam } from './patient-team.js';
import { PatientThreads } from './patient-threads.js';
import { Consent, AccessLog } from './patient-rights.js';
// Pathways, care plans and tasks (issue 12): the plan tab is fetched when opened.
const CarePlan = lazy(() => import('./patient-plan.js'), 'CarePlan');

const TABS = [
  ['dossier', 'Dossier', PatientFile],
  ['equipe', 'Équipe de soins', CareTeam],
  ['fils', 'Fils', PatientThreads],
  ['consentement', 'Consentement', Consent],
  ['journal', 'Journal d’accès', AccessLog],
  // Pathways, care plans and tasks (issue 12)
  ['plan', 'Plan de soins', CarePlan],
];

function Identity({ p }) {
  return html`<div class="card" aria-labelledby="patient-name">
    <h1 id="patient-name"><span class="birth-name">${p.birth_name.toUpperCase()}</span> ${p.first_names}</h1>
    <p class="identity-line">
      <span>${{ F: 'Née', M: 'Né' }[p.sex] || 'Né·e'} le <strong>${birthDate(p.birth_date)}</strong></span>
      <span>Sexe : <strong>${SEXES[p.sex] || p.sex}</strong></span>
      <span>Identité <strong>${(STATUSES[p.identity_status] || p.identity_status).toLowerCase()}</strong></span>
    </p>
    <p class="muted identity-line">
      ${p.used_name && html`<span>Nom utilisé : ${p.used_name}</span>`}
      ${p.ins_matricule && html`<span>INS ${p.ins_matricule}</span>`}
      ${p.birth_place_code && html`<span>Lieu de naissance (INSEE) ${p.birth_place_code}</span>`}
    </p>
    ${p.possible_duplicate && html`<p class="notice">Un autre dossier décrit peut-être la même personne : à vérifier (identitovigilance).</p>`}
  </div>`;
}

export function PatientView({ id, tab }) {
  const [p, error] = useLoad(async () => {
    const patient = await get(`/v1/patients/${encodeURIComponent(id)}`);
    learnPatient(patient.id, patient.display_name);
    return patient;
  }, [id]);
  if (error && (error.status === 404 || error.status === 410)) {
    return html`<div>
      <p class="error" role="alert" data-not-found>Patient introuvable ou accès non autorisé</p>
      <${BreakGlass} patientId=${id} onGranted=${() => location.reload()} />
    </div>`;
  }
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!p) return html`<${Loading} />`;
  const current = TABS.find(([key]) => key === tab) || TABS[0];
  const View = current[2];
  return html`<div>
    <${Identity} p=${p} />
    <nav class="tabs" aria-label="Sections du patient">
      ${TABS.map(([key, label]) => html`<a href=${`#/patients/${id}/${key}`} aria-current=${key === current[0] ? 'page' : undefined}>${label}</a>`)}
    </nav>
    <${View} patient=${p} />
  </div>`;
}
