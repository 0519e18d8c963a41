// The patient's threads: conversations about this patient I may read, and starting
// one in a category my profession may read.
import { html, useState, useSubmit, ErrorBox, useId, useLoad } from '../lib/ui.js';
import { get, post } from '../lib/api.js';
import { useStore, conversationTitle } from '../lib/store.js';
import { loadConversations } from '../lib/conversations.js';
import { CATEGORIES, professionGroup } from '../lib/labels.js';

export function PatientThreads({ patient }) {
  const st = useStore();
  const [matrix] = useLoad(() => get('/v1/access-matrix'), []);
  const [category, setCategory] = useState('soins');
  const [title, setTitle] = useState('');
  const catId = useId('thread-cat');
  const titleId = useId('thread-title');
  const group = professionGroup(st.me);
  const readable = matrix
    ? matrix.items.filter((c) => c.profession_group === group && c.access !== 'none' && c.category !== 'rcp').map((c) => c.category)
    : [];
  // The thread's category: the one chosen if my profession reads it, else the first I read.
  const chosen = readable.includes(category) ? category : readable[0];
  const threads = (st.conversations || []).filter((c) => c.kind === 'patient' && c.patient_id === patient.id);
  const [submit, busy, error] = useSubmit(async () => {
    const c = await post('/v1/conversations', { kind: 'patient', patient_id: patient.id, category: chosen, title: title.trim() || undefined });
    await loadConversations();
    location.hash = `#/messages/${c.id}`;
  });
  return html`<div>
    <section class="card" aria-labelledby="threads-title">
      <h2 id="threads-title">Fils sur ce patient</h2>
      ${threads.length === 0 ? html`<p class="muted">Aucun fil pour l’instant.</p>` : html`<ul class="list">
        ${threads.map((c) => html`<li key=${c.id}><a class="row-link" href=${`#/messages/${c.id}`}>
          <span class="row-main"><span class="row-title">${conversationTitle(c)}</span>
          <span class="row-sub">${CATEGORIES[c.category] || c.category}</span></span>
          ${c.unread > 0 && html`<span class="badge">${c.unread}</span>`}</a></li>`)}
      </ul>`}
    </section>
    <form class="card" onSubmit=${submit}>
      <h2>Ouvrir un fil</h2>
      <p class="hint">Le fil suit la règle du dossier : seuls les membres de l’équipe dont la profession peut lire la catégorie y participent.</p>
      <label for=${catId}>Catégorie</label>
      <select id=${catId} value=${chosen} onChange=${(e) => setCategory(e.target.value)}>
        ${readable.map((c) => html`<option value=${c}>${CATEGORIES[c]}</option>`)}
      </select>
      <label for=${titleId}>Titre (facultatif)</label>
      <input id=${titleId} value=${title} onInput=${(e) => setTitle(e.target.value)} maxlength="200" />
      <${ErrorBox} error=${error} />
      <div class="actions"><button type="submit" class="primary" disabled=${busy}>Ouvrir le fil</button></div>
    </form>
  </div>`;
}
