// Boot: who am I (GET /v1/me)? Nobody → the login screen. Someone → open the stream,
// load the conversation list, and show the screen the URL's hash names.
import { html, render, useEffect, useState } from './lib/ui.js';
import { get, whenUnauthorized } from './lib/api.js';
import { startStream, stopStream, onFrame } from './lib/stream.js';
import { getState, update, useStore, learnPatient } from './lib/store.js';
import { loadConversations, applyFrame } from './lib/conversations.js';
import { SCREENS } from './screens.js';
import { Login } from './screens/login.js';
import { ICONS } from './lib/icons.js';
import { personLabel } from './lib/format.js';

function compile(route) {
  const names = [];
  const source = route
    .split('/')
    .filter(Boolean)
    .map((part) => {
      if (!part.startsWith(':')) return `/${part}`;
      const optional = part.endsWith('?');
      names.push(part.slice(1, optional ? -1 : undefined));
      return optional ? '(?:/([^/]+))?' : '/([^/]+)';
    })
    .join('');
  return { re: new RegExp(`^${source}/?$`), names };
}
// "Plus" is the navigation's own screen (below), routed like the others.
const ROUTES = [...SCREENS, { route: '/plus', Screen: More }].map((s) => ({ screen: s, ...compile(s.route) }));

function currentPath() {
  return location.hash.replace(/^#/, '') || '/messages';
}

function match(path) {
  for (const r of ROUTES) {
    const m = r.re.exec(path);
    if (m) {
      const params = {};
      r.names.forEach((n, i) => {
        if (m[i + 1] !== undefined) params[n] = decodeURIComponent(m[i + 1]);
      });
      return { screen: r.screen, params };
    }
  }
  return null;
}

// On a phone the bar holds PHONE_TABS screens and "Plus", which lists the others;
// a wide screen shows them all in the side bar. A module's `nav.for(me)` says whom
// it serves daily: only those get it on the phone bar, the others find it in "Plus".
const PHONE_TABS = 4;

/** Every navigation screen in order, and those on this person's phone bar. */
function navScreens(me) {
  const all = SCREENS.filter((s) => s.nav).sort((a, b) => a.nav.order - b.nav.order);
  if (all.length <= PHONE_TABS + 1) return { all, bar: all };
  const bar = all.filter((s) => !s.nav.for || s.nav.for(me)).slice(0, PHONE_TABS);
  return { all, bar };
}

/** "Plus": on a phone, the screens the bottom bar has no room for, as a list — every
 *  screen of the navigation, those on the bar too: one list to scan. */
function More() {
  const { all: tabs } = navScreens(useStore().me);
  return html`<section class="narrow" aria-labelledby="more-title">
    <h1 id="more-title">Plus</h1>
    <ul class="list card">${tabs.map((s) => {
      const base = `/${s.route.split('/')[1]}`;
      return html`<li key=${base}><a class="row-link" href=${`#${base}`}>
        <span class="row-main"><span class="row-title">${ICONS[s.nav.icon]} ${s.nav.label}</span></span></a></li>`;
    })}</ul>
  </section>`;
}

function Nav({ path }) {
  const st = useStore();
  const unread = (st.conversations || []).reduce((n, c) => n + (c.muted ? 0 : c.unread), 0);
  const badges = { '/messages': unread, '/notifications': st.unreadNotifications };
  const { all: tabs, bar } = navScreens(st.me);
  const overflow = bar.length < tabs.length;
  return html`<nav class="nav" aria-label="Navigation principale">
    ${tabs.map((s) => {
      const base = `/${s.route.split('/')[1]}`;
      const count = badges[base] || 0;
      return html`<a href=${`#${base}`} class=${bar.includes(s) ? undefined : 'extra'} aria-current=${path.startsWith(base) ? 'page' : undefined}>
        ${ICONS[s.nav.icon]}<span>${s.nav.label}</span>
        ${count > 0 && html`<span class="badge" aria-label=${`${count} non lus`}>${count}</span>`}
      </a>`;
    })}
    ${overflow && html`<a href="#/plus" class="more" aria-current=${path.startsWith('/plus') ? 'page' : undefined}>${ICONS.more}<span>Plus</span></a>`}
  </nav>`;
}

function App() {
  const st = useStore();
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const onHash = () => setPath(currentPath());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    document.querySelector('main')?.focus?.();
  }, [path]);
  if (st.loggedOut) return html`<${Login} ended=${st.loggedOut === 'ended'} />`;
  if (!st.me) return html`<p class="boot">Chargement de Cordée…</p>`;
  const found = match(path);
  const me = st.me;
  return html`<div class="layout">
    <header class="topbar">
      <span class="brand">Cordée</span>
      <span class="who">${personLabel(me.display_name)}${me.profession ? html`<br /><span>${me.profession.label}</span>` : ''}</span>
    </header>
    <${Nav} path=${path} />
    <main id="main" tabindex="-1">
      ${!st.online && html`<p class="offline" role="status">Hors ligne : reconnexion en cours…</p>`}
      ${found ? html`<${found.screen.Screen} ...${found.params} path=${path} />` : html`<p class="error">Page inconnue.</p>`}
    </main>
  </div>`;
}

async function countNotifications() {
  try {
    const page = await get('/v1/notifications?limit=100');
    update({ unreadNotifications: page.items.filter((n) => !n.read_at).length });
  } catch {
    /* the badge is a nicety */
  }
}

async function learnMyPatients() {
  try {
    const page = await get('/v1/patients?limit=200');
    for (const p of page.items) learnPatient(p.id, p.display_name);
  } catch {
    /* titles fall back to "Fil patient" */
  }
}

async function boot() {
  whenUnauthorized(() => {
    stopStream();
    update({ loggedOut: getState().me ? 'ended' : true, me: null });
  });
  render(html`<${App} />`, document.getElementById('app'));
  let me;
  try {
    me = await get('/v1/me');
  } catch {
    update({ loggedOut: true });
    return;
  }
  update({ me, loggedOut: false });
  onFrame((frame) => {
    if (frame.type === 'ready') {
      // First connection, or back after a drop: the backlog has been replayed;
      // the list's unread counts are refreshed from the API.
      loadConversations().catch(() => {});
    } else if (frame.type === 'notification') {
      update({ unreadNotifications: getState().unreadNotifications + 1 });
    } else if (frame.type === 'session.ended') {
      update({ loggedOut: 'ended', me: null });
    } else {
      applyFrame(frame);
    }
  });
  startStream();
  learnMyPatients();
  countNotifications();
}

boot();
