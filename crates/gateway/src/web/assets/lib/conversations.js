// The conversation list as the page knows it: loaded from GET /v1/conversations
// (most recently active first, with unread counts), then kept current by the
// stream's frames.
import { get } from './api.js';
import { getState, update } from './store.js';

let loading = null;

function patchConversation(id, patch) {
  const list = getState().conversations;
  if (!list) return;
  update({ conversations: list.map((c) => (c.id === id ? { ...c, ...patch } : c)) });
}

/** Reloads the list, keeping what the stream taught us (previews, urgent counts). */
export function loadConversations() {
  if (loading) return loading;
  loading = (async () => {
    try {
      const page = await get('/v1/conversations');
      const before = new Map((getState().conversations || []).map((c) => [c.id, c]));
      const items = page.items.map((c) => {
        const old = before.get(c.id) || {};
        return { ...c, urgent: c.unread > 0 ? old.urgent || 0 : 0, preview: old.preview || '', last_at: old.last_at || null };
      });
      update({ conversations: items });
      await previews(items.filter((c) => c.unread > 0 && !before.get(c.id)?.preview).slice(0, 20));
    } finally {
      loading = null;
    }
  })();
  return loading;
}

/** For unread conversations: the newest message as a preview, and how many of the
 *  unread ones are urgent (the list API does not say). */
async function previews(items) {
  const me = getState().me;
  await Promise.all(
    items.map(async (c) => {
      try {
        const page = await get(`/v1/conversations/${c.id}/messages?limit=${Math.min(Math.max(c.unread, 1), 50)}`);
        const unread = page.items.filter((m) => m.seq > c.last_read_seq && m.sender_id !== me.id);
        const last = page.items[page.items.length - 1];
        patchConversation(c.id, {
          urgent: unread.filter((m) => m.urgent && !m.deleted_at).length,
          preview: last ? previewOf(last) : '',
          last_at: last ? last.created_at : null,
        });
      } catch {
        /* a preview is a nicety */
      }
    }),
  );
}

export function previewOf(m) {
  if (m.deleted_at) return 'Message supprimé';
  if (m.body) return m.body.slice(0, 120);
  return m.attachments && m.attachments.length ? 'Photo' : '';
}

/** Applies a stream frame to the list. */
export function applyFrame(frame) {
  const st = getState();
  if (!st.conversations) return;
  const data = frame.data || {};
  if (frame.type === 'message.created') {
    const c = st.conversations.find((x) => x.id === data.conversation_id);
    if (!c) {
      loadConversations();
      return;
    }
    const mine = data.sender_id === st.me.id;
    const watching = st.openConversation === c.id && !document.hidden;
    const moved = {
      ...c,
      last_seq: Math.max(c.last_seq, data.seq),
      preview: previewOf(data),
      last_at: data.created_at,
      unread: mine || watching ? c.unread : c.unread + 1,
      urgent: mine || watching ? c.urgent : c.urgent + (data.urgent ? 1 : 0),
    };
    update({ conversations: [moved, ...st.conversations.filter((x) => x.id !== c.id)] });
  } else if (frame.type === 'message.updated' || frame.type === 'message.deleted') {
    const c = st.conversations.find((x) => x.id === data.conversation_id);
    if (c && c.last_seq === data.seq) patchConversation(c.id, { preview: previewOf(data) });
  } else if (frame.type === 'receipt') {
    if (data.account_id === st.me.id) {
      const c = st.conversations.find((x) => x.id === data.conversation_id);
      if (c && data.up_to_seq >= c.last_seq) patchConversation(c.id, { unread: 0, urgent: 0, last_read_seq: data.up_to_seq });
    }
  } else if (frame.type === 'conversation.updated') {
    loadConversations();
  }
}

/** After reading up to `seq` in the open conversation. */
export function markedRead(id, seq) {
  const c = (getState().conversations || []).find((x) => x.id === id);
  if (c) patchConversation(id, { unread: 0, urgent: 0, last_read_seq: Math.max(c.last_read_seq, seq) });
}
