// The login screen: the identity providers (GET /v1/auth/providers) and, in demo
// mode, the sandbox's personas (GET /sandbox/personas), each a one-click login
// through the real OpenID Connect flow.
import { html, useLoad, ErrorBox } from '../lib/ui.js';
import { get } from '../lib/api.js';

function loginUrl(provider, hint) {
  const q = new URLSearchParams({ provider });
  if (hint) q.set('login_hint', hint);
  q.set('redirect_to', '/');
  return `/v1/auth/login?${q}`;
}

async function load() {
  const providers = await get('/v1/auth/providers');
  let personas = [];
  try {
    personas = await get('/sandbox/personas');
  } catch {
    /* not in demo mode */
  }
  return { providers, personas };
}

export function Login({ ended }) {
  const [data, error] = useLoad(load, []);
  return html`<main class="login" id="main">
    <h1>Cordée</h1>
    <p>La messagerie sécurisée et le dossier de coordination des professionnels de la CPTS.</p>
    ${ended && html`<p class="notice" role="status">Votre session a pris fin. Reconnectez-vous.</p>`}
    <${ErrorBox} error=${error} />
    ${data && html`<section aria-labelledby="providers-title">
      <h2 id="providers-title">Se connecter</h2>
      <div class="personas">
        ${data.providers.map((p) => html`<a class="button primary" href=${loginUrl(p.id)}>Se connecter avec ${p.name}</a>`)}
      </div>
    </section>`}
    ${data && data.personas.length > 0 && html`<section aria-labelledby="personas-title">
      <h2 id="personas-title">Démonstration : choisir un personnage</h2>
      <p class="notice">Mode démonstration : les données sont fictives. N’y saisissez jamais de vrai patient.</p>
      <div class="personas">
        ${data.personas.map((p) => html`<a class="persona" href=${loginUrl(p.provider, p.hint)} data-persona=${p.hint}>
          <strong>${p.name}</strong><span>${p.who}</span></a>`)}
      </div>
    </section>`}
  </main>`;
}
