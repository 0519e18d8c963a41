// A request for the waiting list: who (identity traits as on an ID card; age 70+ is
// computed by the server from the birth date), where they live, how to reach them,
// where the request came from, the fragility criteria, and notes for the GP (never
// shown to the coordination).
import { html, useState, useSubmit, ErrorBox, useId } from '../lib/ui.js';
import { post } from '../lib/api.js';
import { SEXES, WAITING_SOURCES, FRAGILITY_FLAGS } from '../lib/labels.js';
import { todayInParis } from '../lib/format.js';


const NAME = /^[\p{L}' -]{1,100}$/u;
const COMMUNE = /^([0-9]{5}|2[AB][0-9]{3})$/i;
const FLAGS = ['ald', 'complex_situation', 'lost_gp', 'needs_home_visits'];

function check(v) {
  const problems = [];
  if (!NAME.test(v.birth_name)) problems.push('Nom de naissance : lettres, espaces, tirets ou apostrophes.');
  if (!NAME.test(v.first_names)) problems.push('Prénoms : lettres, espaces, tirets ou apostrophes.');
  if (!v.birth_date || v.birth_date > todayInParis() || v.birth_date < '1890-01-01') problems.push('Date de naissance : ni future, ni avant 1890.');
  if (!COMMUNE.test(v.commune_code)) problems.push('Commune : code INSEE à 5 caractères (par exemple 59350).');
  if (v.phone && (v.phone.replace(/[^0-9]/g, '').length < 6 || /[^0-9 +.()-]/.test(v.phone))) problems.push('Téléphone : au moins 6 chiffres.');
  if (v.email && !v.email.includes('@')) problems.push('Courriel : une adresse avec @.');
  return problems;
}

export function Screen() {
  const [problems, setProblems] = useState([]);
  const ids = Object.fromEntries(['birth', 'first', 'date', 'commune', 'source', 'precarity', 'phone', 'email', 'address', 'notes'].map((k) => [k, useId(`wr-${k}`)]));
  const [submit, busy, error] = useSubmit(async (event) => {
    const f = event.target.elements;
    const v = (n) => f.namedItem(n).value.trim();
    const values = {
      birth_name: v('birth_name'), first_names: v('first_names'), birth_date: v('birth_date'), commune_code: v('commune_code').toUpperCase(),
      phone: v('phone'), email: v('email'),
    };
    const found = check(values);
    setProblems(found);
    if (found.length) return;
    const fragility = Object.fromEntries(FLAGS.map((k) => [k, f.namedItem(k).checked]));
    fragility.precarity = v('precarity') || null;
    const contact = {};
    for (const k of ['phone', 'email', 'address']) if (v(k)) contact[k] = v(k);
    const body = {
      identity: { birth_name: values.birth_name, first_names: values.first_names, birth_date: values.birth_date, sex: f.namedItem('sex').value },
      commune_code: values.commune_code,
      source: v('source'),
      fragility,
      contact,
    };
    if (v('notes')) body.notes = v('notes');
    const r = await post('/v1/waiting-list', body);
    location.hash = `#/attente/${r.id}`;
  });
  return html`<section class="narrow" aria-labelledby="wr-title">
    <div class="toolbar"><h1 id="wr-title">Nouvelle demande</h1><a class="button" href="#/attente">Annuler</a></div>
    <form class="card" onSubmit=${submit} noValidate>
      <p class="hint">Un patient sans médecin traitant. Les 70 ans et plus sont repérés d’après la date de naissance.</p>
      <label for=${ids.birth}>Nom de naissance</label>
      <input id=${ids.birth} name="birth_name" required autocomplete="off" />
      <label for=${ids.first}>Prénoms</label>
      <input id=${ids.first} name="first_names" required autocomplete="off" />
      <label for=${ids.date}>Date de naissance</label>
      <input id=${ids.date} name="birth_date" type="date" required max=${todayInParis()} min="1890-01-01" />
      <fieldset><legend>Sexe</legend>
        ${Object.entries(SEXES).map(([k, label], i) => html`<label class="inline"><input type="radio" name="sex" value=${k} checked=${i === 0} /> ${label}</label>`)}
      </fieldset>
      <label for=${ids.commune}>Commune de résidence (code INSEE)</label>
      <input id=${ids.commune} name="commune_code" maxlength="5" required autocomplete="off" />
      <label for=${ids.source}>Origine de la demande</label>
      <select id=${ids.source} name="source">
        ${Object.entries(WAITING_SOURCES).map(([k, label]) => html`<option value=${k}>${label}</option>`)}
      </select>
      <fieldset><legend>Critères de fragilité</legend>
        ${FLAGS.map((k) => html`<label class="inline"><input type="checkbox" name=${k} /> ${FRAGILITY_FLAGS[k]}</label>`)}
        <label for=${ids.precarity}>Précarité</label>
        <select id=${ids.precarity} name="precarity">
          <option value="">Aucune</option><option value="css">CSS (complémentaire santé solidaire)</option><option value="ame">AME</option>
        </select>
      </fieldset>
      <label for=${ids.phone}>Téléphone</label>
      <input id=${ids.phone} name="phone" type="tel" autocomplete="off" />
      <label for=${ids.email}>Courriel</label>
      <input id=${ids.email} name="email" type="email" autocomplete="off" />
      <label for=${ids.address}>Adresse</label>
      <input id=${ids.address} name="address" maxlength="200" autocomplete="off" />
      <label for=${ids.notes}>Notes pour le médecin (jamais montrées à la coordination)</label>
      <textarea id=${ids.notes} name="notes" maxlength="2000" rows="3"></textarea>
      ${problems.length > 0 && html`<div class="error" role="alert"><ul>${problems.map((p) => html`<li>${p}</li>`)}</ul></div>`}
      <${ErrorBox} error=${error} />
      <div class="actions"><button type="submit" class="primary" disabled=${busy}>Inscrire sur la liste</button></div>
    </form>
  </section>`;
}
