// Rapport ACI (coordination): the year's amounts for the CPTS's size and missions,
// each indicator against its target, the advance and the balance; links to the
// printable report and the CSV for the accountant; and the indicators' targets and
// weights, which the coordination writes into the contract.
import { html, useState, useLoad, Loading, ErrorBox, useId, useSubmit } from '../lib/ui.js';
import { get, put } from '../lib/api.js';
import { useStore } from '../lib/store.js';
import { MISSIONS } from './cpts.js';


const WARNINGS = {
  'aci.mission_without_amounts': 'Une mission choisie n’a pas de montant dans l’accord applicable : chargez les tables de l’avenant.',
  'aci.mission_without_indicators': 'Une mission a une part variable mais aucun indicateur pondéré.',
  'aci.mandatory_mission_missing': 'Une mission obligatoire n’est pas choisie dans le profil de la CPTS.',
  'aci.no_contract_date': 'La date de signature du contrat n’est pas renseignée.',
  'aci.contract_after_year': 'Le contrat est signé après l’année du rapport.',
};

const euro = new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR' });
const pct = (x) => `${Math.round(x * 100)} %`;

function Report({ year }) {
  const [report, error] = useLoad(() => get(`/v1/aci/report?year=${year}`), [year]);
  if (error) {
    if (error.code === 'aci.no_profile') return html`<p class="notice">Renseignez d’abord le profil de la CPTS (population, missions) : <a href="#/cpts">profil de la CPTS</a>.</p>`;
    return html`<${ErrorBox} error=${error} />`;
  }
  if (!report) return html`<${Loading} />`;
  return html`<div data-aci="report">
    <div class="card">
      <h2>${report.cpts_name} — ${year}</h2>
      <p class="muted">CPTS de taille ${report.size} · ${report.agreement_label}</p>
      <dl class="facts">
        <dt>Montant maximal</dt><dd data-total="maximum">${euro.format(report.maximum)}</dd>
        <dt>Montant acquis</dt><dd data-total="earned">${euro.format(report.earned)}</dd>
        <dt>Avance</dt><dd>${euro.format(report.advance)}${report.advance_due_on ? ` (le ${report.advance_due_on.split('-').reverse().join('/')})` : ''}</dd>
        <dt>Solde</dt><dd>${euro.format(report.balance)}</dd>
      </dl>
      <div class="actions">
        <a class="button primary" href=${`/v1/aci/report?year=${year}&format=html`} target="_blank" rel="noopener">Rapport imprimable</a>
        <a class="button" href=${`/v1/aci/report?year=${year}&format=csv`}>Export CSV</a>
      </div>
    </div>
    ${report.warnings.length > 0 && html`<div class="card notice" role="status"><h3>Points à vérifier</h3><ul>
      ${report.warnings.map((w) => html`<li>${WARNINGS[w.code] || w.detail}</li>`)}</ul></div>`}
    ${report.missions.map((m) => html`<section class="card" key=${m.mission}>
      <h3>${MISSIONS[m.mission] || m.mission}</h3>
      <p>Part fixe ${euro.format(m.fixed)} · part variable ${euro.format(m.variable_earned)} acquise sur ${euro.format(m.variable)}</p>
      ${m.indicators.length === 0 ? html`<p class="muted">Aucun indicateur pour cette mission.</p>` : html`<ul class="list">
        ${m.indicators.map((i) => html`<li key=${i.code}>
          <span class="row-title">${i.label}</span><br />
          <span class="row-sub">${i.value === null ? 'non mesuré' : i.value} / ${i.target} · ${pct(i.achievement)} · ${euro.format(i.earned)} sur ${euro.format(i.at_stake)}</span>
          <meter min="0" max="1" value=${i.achievement} aria-label=${`Atteinte ${pct(i.achievement)}`}></meter>
        </li>`)}</ul>`}
    </section>`)}
  </div>`;
}

function Indicators() {
  const [set, error, reload, setSet] = useLoad(() => get('/v1/aci/indicators'), []);
  const [saved, setSaved] = useState(false);
  const [submit, busy, saveError] = useSubmit(async (e) => {
    const f = e.target;
    const items = set.items.map((i) => ({
      code: i.code,
      label: f.elements.namedItem(`label-${i.code}`).value.trim(),
      target: Number(f.elements.namedItem(`target-${i.code}`).value),
      weight: Number(f.elements.namedItem(`weight-${i.code}`).value),
    }));
    try {
      setSet(await put('/v1/aci/indicators', { version: set.version, items }));
      setSaved(true);
    } catch (err) {
      if (err.code === 'aci.version_conflict') reload();
      throw err;
    }
  });
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!set) return html`<${Loading} />`;
  return html`<form class="card" onSubmit=${submit} aria-labelledby="ind-title">
    <h2 id="ind-title">Indicateurs du contrat</h2>
    <p class="hint">La cible et le poids de chaque indicateur dans la part variable de sa mission (poids 0 : suivi sans rémunération).</p>
    ${set.items.map((i) => html`<fieldset key=${`${set.version}-${i.code}`}>
      <legend>${MISSIONS[i.mission] || i.mission}</legend>
      <label for=${`label-${i.code}`}>Libellé</label>
      <input id=${`label-${i.code}`} name=${`label-${i.code}`} value=${i.label} maxlength="200" required />
      <div class="two">
        <span><label for=${`target-${i.code}`}>Cible</label>
          <input id=${`target-${i.code}`} name=${`target-${i.code}`} type="number" min="1" value=${i.target} required /></span>
        <span><label for=${`weight-${i.code}`}>Poids</label>
          <input id=${`weight-${i.code}`} name=${`weight-${i.code}`} type="number" min="0" max="1000" value=${i.weight} required /></span>
      </div>
    </fieldset>`)}
    <${ErrorBox} error=${saveError} />
    ${saved && html`<p class="notice" role="status">Indicateurs enregistrés.</p>`}
    <div class="actions"><button type="submit" class="primary" disabled=${busy}>Enregistrer les indicateurs</button></div>
  </form>`;
}

export function Screen() {
  const st = useStore();
  const yearId = useId('aci-year');
  const thisYear = new Date().getFullYear();
  const [year, setYear] = useState(thisYear);
  const staff = st.me.cpts_roles.some((r) => r === 'coordinator' || r === 'admin');
  if (!staff) return html`<p class="error">Le rapport ACI est réservé à la coordination de la CPTS.</p>`;
  const years = [];
  for (let y = thisYear + 1; y >= 2019; y -= 1) years.push(y);
  return html`<section class="narrow" aria-labelledby="aci-title">
    <div class="toolbar"><h1 id="aci-title">Rapport ACI</h1><a class="button" href="#/cpts">La CPTS</a></div>
    <div class="card">
      <label for=${yearId}>Année du contrat</label>
      <select id=${yearId} value=${year} onChange=${(e) => setYear(Number(e.target.value))}>
        ${years.map((y) => html`<option value=${y}>${y}</option>`)}
      </select>
    </div>
    <${Report} year=${year} />
    <${Indicators} />
  </section>`;
}
