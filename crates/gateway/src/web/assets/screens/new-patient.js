// Creating a patient: the INS traits, checked here as the API checks them (the API
// stays the judge; these checks only spare a round trip and say what is wrong in
// French).
import { html, useState, useSubmit, ErrorBox, useId } from '../lib/ui.js';
import { post } from '../lib/api.js';
import { learnPatient } from '../lib/store.js';
import { STATUSES, SEXES } from '../lib/labels.js';
import { todayInParis } from '../lib/format.js';

export const route = '/nouveau-patient';

const NAME = /^[\p{L}' -]{1,100}$/u;
const OIDS = {
  '1.2.250.1.213.1.4.8': 'NIR',
  '1.2.250.1.213.1.4.9': 'NIA',
  '1.2.250.1.213.1.4.10': 'NIR de test',
  '1.2.250.1.213.1.4.11': 'NIR de démonstration',
};

/** The INS matricule's key (97 − number mod 97, Corsica's 2A/2B read as 19/18). */
function insValid(text) {
  const m = text.replace(/\s/g, '').toUpperCase();
  if (!/^[123478][0-9AB]{12}[0-9]{2}$/.test(m)) return false;
  let body = m.slice(0, 13);
  if (body.slice(5, 7) === '2A') body = `${body.slice(0, 5)}19${body.slice(7)}`;
  else if (body.slice(5, 7) === '2B') body = `${body.slice(0, 5)}18${body.slice(7)}`;
  if (!/^\d{13}$/.test(body)) return false;
  return 97n - (BigInt(body) % 97n) === BigInt(m.slice(13));
}

function check(v) {
  const problems = [];
  if (!NAME.test(v.birth_name.trim())) problems.push('Nom de naissance : lettres, espaces, tirets ou apostrophes.');
  if (!NAME.test(v.first_names.trim())) problems.push('Prénoms : lettres, espaces, tirets ou apostrophes.');
  if (v.used_name.trim() && !NAME.test(v.used_name.trim())) problems.push('Nom utilisé : lettres, espaces, tirets ou apostrophes.');
  if (!v.birth_date || v.birth_date > todayInParis() || v.birth_date < '1890-01-01') problems.push('Date de naissance : ni future, ni avant 1890.');
  if (v.birth_place_code && !/^[0-9AB]{5}$/i.test(v.birth_place_code)) problems.push('Lieu de naissance : code INSEE à 5 caractères.');
  const needsIns = v.identity_status === 'recuperee' || v.identity_status === 'qualifiee';
  if (needsIns && !v.ins_matricule) problems.push('Le statut choisi exige le matricule INS et son OID.');
  if (v.ins_matricule && !insValid(v.ins_matricule)) problems.push('Matricule INS : 15 caractères dont la clé ; vérifiez les chiffres.');
  return problems;
}

export function Screen() {
  const [problems, setProblems] = useState([]);
  const ids = Object.fromEntries(['birth', 'first', 'used', 'date', 'place', 'status', 'ins', 'oid'].map((k) => [k, useId(k)]));
  const [submit, busy, error] = useSubmit(async (event) => {
    const f = event.target.elements;
    const v = (n) => f.namedItem(n).value.trim();
    const values = {
      birth_name: v('birth_name'), first_names: v('first_names'), used_name: v('used_name'), birth_date: v('birth_date'),
      birth_place_code: v('birth_place_code'), identity_status: v('identity_status'), ins_matricule: v('ins_matricule'),
      ins_oid: v('ins_oid'), sex: f.namedItem('sex').value,
    };
    const found = check(values);
    setProblems(found);
    if (found.length) return;
    const body = { ...values };
    for (const k of ['used_name', 'birth_place_code', 'ins_matricule']) if (!body[k]) delete body[k];
    if (!body.ins_matricule) delete body.ins_oid;
    const p = await post('/v1/patients', body);
    learnPatient(p.id, p.display_name);
    location.hash = `#/patients/${p.id}`;
  });
  return html`<section class="narrow" aria-labelledby="new-patient">
    <div class="toolbar"><h1 id="new-patient">Nouveau patient</h1><a class="button" href="#/patients">Annuler</a></div>
    <form class="card" onSubmit=${submit} noValidate>
      <p class="hint">Saisissez les traits d’identité tels qu’ils figurent sur la pièce d’identité ou l’INS. Vous rejoindrez l’équipe de soins.</p>
      <label for=${ids.birth}>Nom de naissance</label>
      <input id=${ids.birth} name="birth_name" required autocomplete="off" />
      <label for=${ids.first}>Prénoms (tous, dans l’ordre)</label>
      <input id=${ids.first} name="first_names" required autocomplete="off" />
      <label for=${ids.used}>Nom utilisé (facultatif)</label>
      <input id=${ids.used} name="used_name" autocomplete="off" />
      <label for=${ids.date}>Date de naissance</label>
      <input id=${ids.date} name="birth_date" type="date" required max=${todayInParis()} min="1890-01-01" />
      <fieldset><legend>Sexe</legend>
        ${Object.entries(SEXES).map(([k, label], i) => html`<label class="inline"><input type="radio" name="sex" value=${k} checked=${i === 0} /> ${label}</label>`)}
      </fieldset>
      <label for=${ids.place}>Lieu de naissance, code INSEE (facultatif)</label>
      <input id=${ids.place} name="birth_place_code" maxlength="5" autocomplete="off" />
      <label for=${ids.status}>Statut de l’identité</label>
      <select id=${ids.status} name="identity_status">
        ${Object.entries(STATUSES).map(([k, label]) => html`<option value=${k}>${label}</option>`)}
      </select>
      <label for=${ids.ins}>Matricule INS (obligatoire pour « Récupérée » et « Qualifiée »)</label>
      <input id=${ids.ins} name="ins_matricule" maxlength="17" autocomplete="off" inputmode="numeric" />
      <label for=${ids.oid}>OID du matricule</label>
      <select id=${ids.oid} name="ins_oid">
        ${Object.entries(OIDS).map(([k, label]) => html`<option value=${k}>${label} (${k})</option>`)}
      </select>
      ${problems.length > 0 && html`<div class="error" role="alert"><ul>${problems.map((p) => html`<li>${p}</li>`)}</ul></div>`}
      <${ErrorBox} error=${error} />
      <div class="actions"><button type="submit" class="primary" disabled=${busy}>Créer le patient</button></div>
    </form>
  </section>`;
}
