// Messagerie, the home screen: the conversations (most recently active first, with
// unread counts and urgent badges) and, beside them on a wide screen or instead of
// them on a phone, the open conversation.
import { html, Loading } from '../lib/ui.js';
import { useStore, conversationTitle } from '../lib/store.js';
import { CONVERSATION_KINDS, CATEGORIES } from '../lib/labels.js';
import { shortWhen } from '../lib/format.js';
import { ConversationView } from './conversation.js';

export const route = '/messages/:id?';
export const nav = { label: 'Messagerie', icon: 'chat', order: 1 };

function kindText(c) {
  if (c.kind === 'patient') return `${CONVERSATION_KINDS.patient} · ${CATEGORIES[c.category] || ''}`;
  return CONVERSATION_KINDS[c.kind] || c.kind;
}

export function ConversationList({ conversations, selected }) {
  if (!conversations) return html`<${Loading} />`;
  if (conversations.length === 0) {
    return html`<p class="muted">Aucune conversation pour l’instant. Commencez-en une, ou ouvrez un fil depuis la fiche d’un patient.</p>`;
  }
  return html`<ul class="list card" aria-label="Conversations">
    ${conversations.map((c) => html`<li key=${c.id}>
      <a class="row-link" href=${`#/messages/${c.id}`} aria-current=${c.id === selected ? 'true' : undefined} data-conversation=${c.id}>
        <span class="row-main">
          <span class="row-title">${conversationTitle(c)}</span>
          <span class="row-sub">${c.preview || kindText(c)}</span>
        </span>
        <span class="row-side">
          ${c.last_at && html`<span class="muted">${shortWhen(c.last_at)}</span>`}
          ${c.urgent > 0 && html` <span class="badge urgent" aria-label=${`${c.urgent} urgent(s)`}>Urgent</span>`}
          ${c.unread > 0 && html` <span class="badge" aria-label=${`${c.unread} non lu(s)`}>${c.unread}</span>`}
        </span>
      </a>
    </li>`)}
  </ul>`;
}

export function Screen({ id }) {
  const st = useStore();
  return html`<div class=${`split${id ? ' has-detail' : ''}`}>
    <section class="pane-list" aria-labelledby="messages-title">
      <div class="toolbar">
        <h1 id="messages-title">Messagerie</h1>
        <a class="button primary" href="#/nouvelle-conversation">Nouvelle</a>
      </div>
      <${ConversationList} conversations=${st.conversations} selected=${id} />
    </section>
    <section class="pane-detail">
      ${id ? html`<${ConversationView} key=${id} id=${id} />` : html`<p class="muted">Choisissez une conversation.</p>`}
    </section>
  </div>`;
}
