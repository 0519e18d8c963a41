// Compte: who I am, the exercice this session acts under (when I have several),
// my sessions and devices (revoke a lost phone), and logout — which also ends the
// Pro Santé Connect session by following its end_session_url.
import { html, useLoad, useState, Loading, ErrorBox } from '../lib/ui.js';
import { get, put, post, del } from '../lib/api.js';
import { useStore, update } from '../lib/store.js';
import { stopStream } from '../lib/stream.js';
import { dateAndTime, personLabel } from '../lib/format.js';

export const route = '/compte';
export const nav = { label: 'Compte', icon: 'user', order: 4 };

function device(ua) {
  if (!ua) return 'Appareil inconnu';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Windows/.test(ua) ? 'Windows' : /Mac OS/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom/.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'client';
  return os ? `${browser} sur ${os}` : browser;
}

function Exercices({ me }) {
  const [error, setError] = useState(null);
  if (!me.exercices || me.exercices.length === 0) return null;
  const choose = async (index, activity) => {
    setError(null);
    try {
      update({ me: await put('/v1/me/exercice', { index, activity }) });
    } catch (e) {
      setError(e);
    }
  };
  return html`<section class="card" aria-labelledby="ex-title">
    <h2 id="ex-title">Exercice actif</h2>
    <p class="hint">Vos droits sur les dossiers suivent la profession de l’exercice choisi.</p>
    <${ErrorBox} error=${error} />
    <fieldset><legend class="sr-only">Exercice et lieu d’activité</legend>
      ${me.exercices.map((e) => (e.activities.length ? e.activities : [{ index: 0 }]).map((a) => html`<label class="inline">
        <input type="radio" name="exercice" checked=${me.active_exercice === e.index && (me.active_activity ?? 0) === a.index}
          onChange=${() => choose(e.index, a.index)} />
        ${e.profession ? e.profession.label : 'Profession inconnue'}${e.specialty ? ` (${e.specialty.label})` : ''}${a.structure_name ? ` — ${a.structure_name}` : ''}${a.mode ? `, ${a.mode.label}` : ''}
      </label><br />`))}
    </fieldset>
  </section>`;
}

export function Screen() {
  const st = useStore();
  const me = st.me;
  const [sessions, error, reload] = useLoad(() => get('/v1/auth/sessions'), []);
  const [actionError, setActionError] = useState(null);
  const revoke = async (s) => {
    if (!window.confirm('Déconnecter cet appareil ?')) return;
    try {
      await del(`/v1/auth/sessions/${s.id}`);
      reload();
    } catch (e) {
      setActionError(e);
    }
  };
  const logout = async () => {
    setActionError(null);
    try {
      const out = await post('/v1/auth/logout');
      stopStream();
      if (out && out.end_session_url) {
        location.assign(out.end_session_url);
      } else {
        update({ me: null, loggedOut: true });
      }
    } catch (e) {
      setActionError(e);
    }
  };
  return html`<section class="narrow" aria-labelledby="account-title">
    <h1 id="account-title">Compte</h1>
    <div class="card">
      <p><strong>${personLabel(me.display_name)}</strong>${me.profession ? ` — ${me.profession.label}` : ''}</p>
      ${me.national_id && html`<p class="muted">Identifiant national : ${me.national_id}</p>`}
      <p class="muted">Identifiant de compte Cordée : <code>${me.id}</code></p>
      ${me.cpts_roles.length > 0 && html`<p class="muted">Rôles CPTS : ${me.cpts_roles.map((r) => ({ member: 'membre', coordinator: 'coordination', admin: 'administration' })[r] || r).join(', ')}</p>`}
    </div>
    <${Exercices} me=${me} />
    <section class="card" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions et appareils</h2>
      <${ErrorBox} error=${error || actionError} />
      ${!sessions && !error && html`<${Loading} />`}
      ${sessions && html`<ul class="list">${sessions.items.map((s) => html`<li key=${s.id} class="row-link">
        <span class="row-main">
          <span class="row-title">${s.kind === 'bearer' ? 'Application ou script' : device(s.user_agent)}${s.current ? ' (cet appareil)' : ''}</span>
          <span class="row-sub">Ouverte le ${dateAndTime(s.created_at)} · vue le ${dateAndTime(s.last_seen_at)}</span>
        </span>
        ${!s.current && html`<button type="button" class="link" onClick=${() => revoke(s)}>Déconnecter</button>`}
      </li>`)}</ul>`}
    </section>
    <button type="button" class="danger" onClick=${logout}>Se déconnecter</button>
  </section>`;
}
