// One conversation: messages live from the stream, deduplicated by id (and a sent
// message's echo by its client_id); sending shows the message at once and retries
// with the same client_id until the API has it; replies, mentions, urgent flag, read
// receipts, edits and deletions, photos.
import { html, useEffect, useRef, useState, useCallback, ErrorBox, Loading, useId } from '../lib/ui.js';
import { get, post, patch, del, clientId } from '../lib/api.js';
import { onFrame } from '../lib/stream.js';
import { useStore, update, getState, personName, learnPerson, conversationTitle } from '../lib/store.js';
import { markedRead } from '../lib/conversations.js';
import { Attachments, PhotoInputs, upload } from '../lib/attachments.js';
import { when, dateAndTime } from '../lib/format.js';
import { errorText, CATEGORIES } from '../lib/labels.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let firstMessageMarked = false;

/** Newer versions win; a message never goes back to an older edit. */
function merge(map, m) {
  const old = map.get(m.id);
  if (!old || m.version >= old.version || m.deleted_at) map.set(m.id, m);
}

function Message({ m, mine, byId, readBy, onReply, onEdit, onDelete, meId }) {
  const quoted = m.reply_to ? byId.get(m.reply_to) : null;
  const cls = ['msg', mine && 'mine', m.urgent && !m.deleted_at && 'urgent', m.pending && 'pending', m.deleted_at && 'deleted']
    .filter(Boolean).join(' ');
  return html`<article class=${cls} data-message=${m.id || ''} data-client-id=${m.client_id}>
    <div class="msg-meta">
      <strong>${personName(m.sender_id)}</strong>
      <time datetime=${m.created_at}>${m.created_at ? when(m.created_at) : ''}</time>
      ${m.urgent && !m.deleted_at && html`<span class="tag urgent">Urgent</span>`}
      ${m.edited_at && !m.deleted_at && html`<span title=${dateAndTime(m.edited_at)}>modifié</span>`}
      ${m.mentions && m.mentions.includes(meId) && html`<span class="tag">Vous êtes mentionné·e</span>`}
    </div>
    ${m.reply_to && html`<div class="msg-quote">En réponse à ${quoted ? `${personName(quoted.sender_id)} : ${quoted.deleted_at ? 'message supprimé' : (quoted.body || 'photo').slice(0, 80)}` : 'un message précédent'}</div>`}
    ${m.deleted_at
      ? html`<p class="msg-body">Message supprimé</p>`
      : html`<p class="msg-body">${m.body}</p>
        ${m.previews ? html`<div class="thumbs">${m.previews.map((u) => html`<img class="thumb" src=${u} alt="Photo en cours d’envoi" width="120" height="120" />`)}</div>` : html`<${Attachments} ids=${m.attachments} />`}`}
    <div class="msg-meta">
      ${m.pending === 'sending' && html`<span>Envoi…</span>`}
      ${m.pending === 'retrying' && html`<span role="status">Nouvel essai d’envoi…</span>`}
      ${m.pending === 'failed' && html`<span class="error">Non envoyé : ${errorText(m.error)}</span>`}
      ${mine && !m.pending && !m.deleted_at && readBy > 0 && html`<span>Lu</span>`}
      ${!m.pending && !m.deleted_at && html`<button type="button" class="link" onClick=${() => onReply(m)}>Répondre</button>`}
      ${mine && !m.pending && !m.deleted_at && html`<button type="button" class="link" onClick=${() => onEdit(m)}>Modifier</button>
        <button type="button" class="link" onClick=${() => onDelete(m)}>Supprimer</button>`}
    </div>
  </article>`;
}

function Composer({ onSend, replyTo, clearReply, people, editing, onSaveEdit, cancelEdit }) {
  const [text, setText] = useState('');
  const [urgent, setUrgent] = useState(false);
  const [mentions, setMentions] = useState([]);
  const [photos, setPhotos] = useState([]);
  const textId = useId('msg');
  const mentionId = useId('mention');
  useEffect(() => setText(editing ? editing.body : ''), [editing]);
  const submit = (e) => {
    e.preventDefault();
    if (editing) {
      if (text.trim()) onSaveEdit(editing, text);
      return;
    }
    if (!text.trim() && photos.length === 0) return;
    onSend({ body: text, urgent, mentions, photos });
    setText('');
    setUrgent(false);
    setMentions([]);
    setPhotos([]);
  };
  const mention = (e) => {
    const id = e.target.value;
    e.target.value = '';
    if (!id || mentions.includes(id)) return;
    setMentions([...mentions, id]);
    setText(`${text}${text && !text.endsWith(' ') ? ' ' : ''}@${personName(id)} `);
  };
  const keydown = (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) submit(e);
  };
  return html`<form class="composer" onSubmit=${submit}>
    ${replyTo && html`<p class="replying">En réponse à ${personName(replyTo.sender_id)} : « ${(replyTo.body || 'photo').slice(0, 60)} »
      <button type="button" class="link" onClick=${clearReply}>Annuler</button></p>`}
    ${editing && html`<p class="replying">Modification de votre message <button type="button" class="link" onClick=${cancelEdit}>Annuler</button></p>`}
    ${photos.length > 0 && html`<p class="muted">${photos.length} photo(s) jointe(s)
      <button type="button" class="link" onClick=${() => setPhotos([])}>Retirer</button></p>`}
    <div class="composer-row">
      <label for=${textId} class="sr-only">Votre message</label>
      <textarea id=${textId} name="body" value=${text} onInput=${(e) => setText(e.target.value)} onKeyDown=${keydown}
        placeholder="Votre message" rows="2"></textarea>
      <button type="submit" class="primary">${editing ? 'Enregistrer' : 'Envoyer'}</button>
    </div>
    ${!editing && html`<div class="opts">
      <label class="inline"><input type="checkbox" checked=${urgent} onChange=${(e) => setUrgent(e.target.checked)} name="urgent" /> Urgent</label>
      ${people.length > 0 && html`<span><label for=${mentionId} class="sr-only">Mentionner</label>
        <select id=${mentionId} onChange=${mention} class="mention-select">
          <option value="">Mentionner…</option>
          ${people.map((p) => html`<option value=${p}>${personName(p)}</option>`)}
        </select></span>`}
      <${PhotoInputs} onPick=${(f) => setPhotos([...photos, f])} />
    </div>`}
  </form>`;
}

export function ConversationView({ id }) {
  const st = useStore();
  const me = st.me;
  const [conv, setConv] = useState(null);
  const [error, setError] = useState(null);
  const [messages, setMessages] = useState(() => new Map());
  const [pending, setPending] = useState(() => new Map()); // client_id → message being sent
  const [receipts, setReceipts] = useState(() => new Map()); // account id → up_to_seq
  const [older, setOlder] = useState(null); // cursor for earlier messages
  const [replyTo, setReplyTo] = useState(null);
  const [editing, setEditing] = useState(null);
  const [actionError, setActionError] = useState(null);
  const [people, setPeople] = useState([]);
  const box = useRef(null);
  const lastRead = useRef(0);

  const upsert = useCallback((list) => {
    setMessages((prev) => {
      const next = new Map(prev);
      for (const m of list) merge(next, m);
      return next;
    });
    setPending((prev) => {
      if (!list.some((m) => prev.has(m.client_id))) return prev;
      const next = new Map(prev);
      for (const m of list) if (m.sender_id === getState().me.id) next.delete(m.client_id);
      return next;
    });
  }, []);

  useEffect(() => {
    update({ openConversation: id });
    return () => update({ openConversation: null });
  }, [id]);

  // Frames first, then the page: whatever arrives in between is merged, not lost.
  useEffect(
    () =>
      onFrame((frame) => {
        const d = frame.data || {};
        if (d.conversation_id !== id) return;
        if (frame.type.startsWith('message.')) upsert([d]);
        else if (frame.type === 'receipt') setReceipts((r) => new Map(r).set(d.account_id, d.up_to_seq));
      }),
    [id],
  );

  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const c = await get(`/v1/conversations/${id}`);
        if (!live) return;
        setConv(c);
        lastRead.current = c.last_read_seq;
        const page = await get(`/v1/conversations/${id}/messages?limit=50`);
        if (!live) return;
        upsert(page.items);
        setOlder(page.next_cursor);
        if (c.kind === 'patient') {
          // Names of the care team, for senders and mentions.
          const team = await get(`/v1/patients/${c.patient_id}/care-team`).catch(() => ({ items: [] }));
          for (const mbr of team.items) learnPerson(mbr.account_id, mbr.display_name);
          if (live) setPeople(team.items.map((mbr) => mbr.account_id).filter((a) => a !== me.id));
        }
      } catch (e) {
        if (live) setError(e);
      }
    })();
    return () => { live = false; };
  }, [id]);

  const sorted = [...messages.values()].sort((a, b) => a.seq - b.seq);
  const shown = [...sorted, ...[...pending.values()].filter((p) => !sorted.some((m) => m.client_id === p.client_id && m.sender_id === me.id))];
  const last = sorted[sorted.length - 1];

  // People seen in the conversation can be mentioned too.
  useEffect(() => {
    const seen = new Set(people);
    let changed = false;
    for (const m of sorted) if (m.sender_id !== me.id && !seen.has(m.sender_id)) { seen.add(m.sender_id); changed = true; }
    if (changed) setPeople([...seen]);
  }, [messages]);

  // Scroll to the newest message; mark it read while the page is visible.
  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
    if (sorted.length > 0 && !firstMessageMarked) {
      firstMessageMarked = true;
      performance.mark('cordee:first-message');
    }
    if (last && last.seq > lastRead.current && !document.hidden) {
      lastRead.current = last.seq;
      post(`/v1/conversations/${id}/read`, { up_to: last.id })
        .then(() => markedRead(id, last.seq))
        .catch(() => { lastRead.current = 0; });
    }
  }, [messages.size, pending.size, last && last.id]);

  useEffect(() => {
    const onVisible = () => {
      if (!document.hidden && last && last.seq > lastRead.current) {
        lastRead.current = last.seq;
        post(`/v1/conversations/${id}/read`, { up_to: last.id }).then(() => markedRead(id, last.seq)).catch(() => {});
      }
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [last && last.id]);

  const setOne = (cid, patchFields) =>
    setPending((prev) => {
      if (!prev.has(cid)) return prev;
      return new Map(prev).set(cid, { ...prev.get(cid), ...patchFields });
    });

  /** Sends (or resends) a pending message until the API has it. Retries reuse the
   *  same client_id, so the API stores it once whatever happens to the answers. */
  const deliver = async (item) => {
    let attempt = 0;
    let attachments = item.attachments;
    for (;;) {
      try {
        if (!attachments) attachments = await Promise.all(item.photos.map(upload));
        const sent = await post(`/v1/conversations/${id}/messages`, {
          client_id: item.client_id,
          body: item.body,
          attachments,
          reply_to: item.reply_to || undefined,
          mentions: item.mentions,
          urgent: item.urgent,
        });
        upsert([sent]);
        return;
      } catch (e) {
        const transient = e.status === 0 || e.status >= 500 || e.status === 429;
        if (!transient || attempt >= 6) {
          setOne(item.client_id, { pending: 'failed', error: e });
          return;
        }
        attempt += 1;
        setOne(item.client_id, { pending: 'retrying' });
        await sleep(Math.min(30000, 1000 * 2 ** attempt));
      }
    }
  };

  const send = ({ body, urgent, mentions, photos }) => {
    const item = {
      client_id: clientId(),
      sender_id: me.id,
      body,
      urgent,
      mentions,
      photos,
      previews: photos.length ? photos.map((f) => URL.createObjectURL(f)) : null,
      reply_to: replyTo ? replyTo.id : null,
      created_at: new Date().toISOString(),
      pending: 'sending',
    };
    setReplyTo(null);
    setPending((prev) => new Map(prev).set(item.client_id, item));
    deliver(item);
  };

  const retry = (m) => {
    setOne(m.client_id, { pending: 'sending', error: null });
    deliver(m);
  };

  const saveEdit = async (m, body) => {
    setActionError(null);
    try {
      upsert([await patch(`/v1/conversations/${id}/messages/${m.id}`, { body })]);
      setEditing(null);
    } catch (e) {
      setActionError(e);
    }
  };

  const remove = async (m) => {
    if (!window.confirm('Supprimer ce message ? Les autres membres verront « message supprimé ».')) return;
    setActionError(null);
    try {
      upsert([await del(`/v1/conversations/${id}/messages/${m.id}`)]);
    } catch (e) {
      setActionError(e);
    }
  };

  const loadOlder = async () => {
    try {
      const page = await get(`/v1/conversations/${id}/messages?before=${older}&limit=50`);
      upsert(page.items);
      setOlder(page.next_cursor);
    } catch (e) {
      setActionError(e);
    }
  };

  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!conv) return html`<${Loading} />`;
  const byId = new Map(sorted.map((m) => [m.id, m]));
  const readers = (m) => [...receipts.entries()].filter(([a, s]) => a !== me.id && s >= m.seq).length;
  return html`<section class="conversation" aria-labelledby="conv-title">
    <div class="conv-head">
      <a href="#/messages" class="button link back" aria-label="Retour à la liste">‹</a>
      <h1 id="conv-title">${conversationTitle(conv)}</h1>
      ${conv.kind === 'patient' && html`<a class="button link" href=${`#/patients/${conv.patient_id}`}>Fiche</a>`}
    </div>
    ${conv.kind === 'patient' && html`<p class="muted">Fil patient · ${CATEGORIES[conv.category] || conv.category}</p>`}
    <${ErrorBox} error=${actionError} />
    <div class="messages" ref=${box} role="log" aria-live="polite" aria-label="Messages">
      ${older && html`<button type="button" class="link" onClick=${loadOlder}>Messages précédents</button>`}
      ${shown.length === 0 && html`<p class="muted">Aucun message : écrivez le premier.</p>`}
      ${shown.map((m) => html`<div class="msg-wrap" key=${m.id || m.client_id}>
        <${Message} m=${m} mine=${m.sender_id === me.id} byId=${byId} readBy=${m.seq ? readers(m) : 0} meId=${me.id}
          onReply=${setReplyTo} onEdit=${setEditing} onDelete=${remove} />
        ${m.pending === 'failed' && html`<button type="button" class="link" onClick=${() => retry(m)}>Réessayer</button>`}
      </div>`)}
    </div>
    <${Composer} onSend=${send} replyTo=${replyTo} clearReply=${() => setReplyTo(null)} people=${people}
      editing=${editing} onSaveEdit=${saveEdit} cancelEdit=${() => setEditing(null)} />
  </section>`;
}
