// Starting a direct conversation (one other person) or a group (a title and
// members), choosing people from the directory. Patient threads start from the
// patient's screen.
import { html, useState, useSubmit, ErrorBox, useId } from '../lib/ui.js';
import { post } from '../lib/api.js';
import { PersonPicker } from '../lib/directory.js';
import { personName, learnPerson } from '../lib/store.js';
import { loadConversations } from '../lib/conversations.js';

export const route = '/nouvelle-conversation';

export function Screen() {
  const [kind, setKind] = useState('direct');
  const [members, setMembers] = useState([]);
  const [title, setTitle] = useState('');
  const titleId = useId('title');
  const [submit, busy, error] = useSubmit(async () => {
    const body = { kind, member_ids: members.map((m) => m.account_id) };
    if (kind === 'group') body.title = title.trim();
    const c = await post('/v1/conversations', body);
    await loadConversations();
    location.hash = `#/messages/${c.id}`;
  });
  const pick = (p) => {
    if (p.display_name) learnPerson(p.account_id, p.display_name);
    if (members.some((m) => m.account_id === p.account_id)) return;
    setMembers(kind === 'direct' ? [p] : [...members, p]);
  };
  const ready = members.length > 0 && (kind === 'direct' ? members.length === 1 : title.trim().length > 0);
  return html`<section class="narrow" aria-labelledby="new-conv">
    <div class="toolbar"><h1 id="new-conv">Nouvelle conversation</h1><a class="button" href="#/messages">Annuler</a></div>
    <form class="card" onSubmit=${submit}>
      <fieldset>
        <legend>Type</legend>
        <label class="inline"><input type="radio" name="kind" value="direct" checked=${kind === 'direct'}
          onChange=${() => { setKind('direct'); setMembers(members.slice(0, 1)); }} /> Directe (à deux)</label>
        <label class="inline"><input type="radio" name="kind" value="group" checked=${kind === 'group'}
          onChange=${() => setKind('group')} /> Groupe</label>
      </fieldset>
      ${kind === 'group' && html`<label for=${titleId}>Titre du groupe</label>
        <input id=${titleId} name="title" value=${title} onInput=${(e) => setTitle(e.target.value)} maxlength="200" required />`}
      <h2>${kind === 'direct' ? 'Avec' : 'Membres'}</h2>
      ${members.length === 0 ? html`<p class="muted">Personne pour l’instant.</p>` : html`<ul class="list">
        ${members.map((m) => html`<li key=${m.account_id}>${m.display_name || personName(m.account_id)}
          <button type="button" class="link" onClick=${() => setMembers(members.filter((x) => x !== m))}>Retirer</button></li>`)}
      </ul>`}
      <${ErrorBox} error=${error} />
      <div class="actions"><button type="submit" class="primary" disabled=${!ready || busy}>Commencer</button></div>
    </form>
    <div class="card">
      <${PersonPicker} onPick=${pick} legend="Chercher un professionnel dans l’annuaire" excluded=${members.map((m) => m.account_id)} />
    </div>
  </section>`;
}
