// Prevention campaigns: French words for the API's codes, the campaign's state
// from its period, and the charts of the coordinator's dashboard (SVG drawn with
// attributes only: the CSP allows no inline style).
import { html, useState } from './ui.js';
import { todayInParis, birthDate } from './format.js';

export const THEMES = {
  grippe: 'Grippe',
  covid: 'Covid-19',
  hpv: 'Papillomavirus (HPV)',
  trod_angine: 'TROD angine',
  trod_cystite: 'TROD cystite',
  depistage_colorectal: 'Dépistage du cancer colorectal',
  mois_sans_tabac: 'Mois sans tabac',
  canicule: 'Canicule',
  autre: 'Autre',
};

export const STRUCTURES = {
  officine: 'Officine',
  cabinet: 'Cabinet',
  msp: 'Maison de santé',
  centre_sante: 'Centre de santé',
  laboratoire: 'Laboratoire',
  ssiad: 'SSIAD',
  had: 'HAD',
  ehpad: 'EHPAD',
  etablissement: 'Établissement',
  dac: 'DAC',
  autre: 'Autre structure',
};

/** "du 15 octobre 2026 au 31 janvier 2027". */
export function period(c) {
  return `du ${birthDate(c.starts_on)} au ${birthDate(c.ends_on)}`;
}

/** 'a_venir' | 'en_cours' | 'terminee', from today in Paris. */
export function stage(c) {
  const today = todayInParis();
  if (today < c.starts_on) return 'a_venir';
  if (today > c.ends_on) return 'terminee';
  return 'en_cours';
}

export const STAGES = { a_venir: 'À venir', en_cours: 'En cours', terminee: 'Terminée' };

export function isCoordinator(me) {
  return !!me && (me.cpts_roles || []).some((r) => r === 'coordinator' || r === 'admin');
}

const number = new Intl.NumberFormat('fr-FR');
export const fr = (n) => number.format(n);

const COLOURS = ['#1d4ed8', '#059669', '#d97706', '#7c3aed', '#dc2626', '#0891b2'];
export const colour = (i) => COLOURS[i % COLOURS.length];

/** One bar per kind: count against target. */
export function Progress({ totals }) {
  return html`<ul class="list campaign-progress">
    ${totals.map((t, i) => {
      const share = t.achievement == null ? null : Math.min(1, t.achievement);
      return html`<li>
        <div class="row-main"><span class="row-title">${t.label}</span>
          <span class="row-sub">${fr(t.count)}${t.target != null ? ` sur ${fr(t.target)} (${Math.round((t.achievement || 0) * 100)} %)` : ''}</span></div>
        ${share != null && html`<svg class="bar" viewBox="0 0 100 8" preserveAspectRatio="none" role="img" aria-label=${`${Math.round(share * 100)} % de l’objectif`}>
          <rect x="0" y="0" width="100" height="8" fill="#e5e7eb" />
          <rect x="0" y="0" width=${Math.round(share * 100)} height="8" fill=${colour(i)} />
        </svg>`}
      </li>`;
    })}
  </ul>`;
}

/** Stacked bars per ISO week, one colour per kind. */
export function WeekChart({ campaign, weeks }) {
  if (!weeks.length) return html`<p class="muted">Aucune action enregistrée pour l’instant.</p>`;
  const max = Math.max(1, ...weeks.map((w) => w.total));
  const slot = 24;
  const h = 120;
  const width = Math.max(120, slot * weeks.length);
  return html`<div class="table-wrap"><svg class="week-chart" width=${width} height=${h + 20} viewBox=${`0 0 ${width} ${h + 20}`} role="img" aria-label="Actions par semaine">
    ${weeks.map((w, i) => {
      let y = h;
      return html`<g>
        ${campaign.action_kinds.map((k, j) => {
          const count = w.counts[k.code] || 0;
          const bh = Math.round((count / max) * h);
          if (!bh) return null;
          y -= bh;
          return html`<rect x=${i * slot + 4} y=${y} width=${slot - 8} height=${bh} fill=${colour(j)}><title>${`${w.week} — ${k.label} : ${fr(count)}`}</title></rect>`;
        })}
        <text x=${i * slot + slot / 2} y=${h + 14} text-anchor="middle" font-size="9">${`S${w.week.split('W')[1]}`}</text>
      </g>`;
    })}
  </svg></div>
  <ul class="legend">${campaign.action_kinds.map((k, j) => html`<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill=${colour(j)} /></svg> ${k.label}</li>`)}</ul>`;
}

/** Runs one async action at a time: [run(fn), busy, error]. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async (fn) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return [run, busy, error];
}

/** Kinds of action a theme usually counts (the coordinator edits them). */
export const PRESETS = {
  grippe: ['Doses administrées', 'Personnes de 65 ans et plus', 'Professionnels de santé vaccinés'],
  covid: ['Doses administrées', 'Personnes de 65 ans et plus'],
  hpv: ['Doses administrées', 'Premières doses'],
  trod_angine: ['Tests réalisés', 'Tests positifs', 'Antibiotiques délivrés', 'Orientations vers le médecin'],
  trod_cystite: ['Tests réalisés', 'Tests positifs', 'Antibiotiques délivrés', 'Orientations vers le médecin'],
  depistage_colorectal: ['Kits remis', 'Tests réalisés'],
  mois_sans_tabac: ['Kits remis', 'Entretiens d’aide au sevrage'],
  canicule: ['Personnes fragiles appelées', 'Visites à domicile'],
  autre: ['Actions réalisées'],
};

/** An action code from its label: "Kits remis" → "kits_remis". */
export function codeOf(label, taken) {
  let code = label.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 36);
  if (!/^[a-z]/.test(code)) code = `k_${code}`.slice(0, 36);
  let unique = code;
  for (let n = 2; taken.includes(unique); n += 1) unique = `${code}_${n}`;
  return unique;
}
