// The care team: who is in it, adding a professional (from the directory) with a
// role and a reason, removing a member (the API decides who may).
import { html, useState, useLoad, Loading, ErrorBox, useId, useSubmit } from '../lib/ui.js';
import { get, post, del } from '../lib/api.js';
import { useStore, learnPerson, personName } from '../lib/store.js';
import { ROLES } from '../lib/labels.js';
import { dateAndTime, personLabel } from '../lib/format.js';
import { PersonPicker } from '../lib/directory.js';

export function CareTeam({ patient }) {
  const st = useStore();
  const [team, error, reload] = useLoad(async () => {
    const page = await get(`/v1/patients/${patient.id}/care-team`);
    for (const m of page.items) learnPerson(m.account_id, m.display_name);
    return page.items;
  }, [patient.id]);
  const [chosen, setChosen] = useState(null);
  const [removeError, setRemoveError] = useState(null);
  const roleId = useId('role');
  const reasonId = useId('reason');
  const [add, busy, addError] = useSubmit(async (event) => {
    const f = event.target.elements;
    await post(`/v1/patients/${patient.id}/care-team`, {
      account_id: chosen.account_id,
      role: f.namedItem('role').value,
      reason: f.namedItem('reason').value.trim(),
    });
    setChosen(null);
    reload();
  });
  const remove = async (m) => {
    const who = m.account_id === st.me.id ? 'Quitter l’équipe de soins de ce patient ?' : `Retirer ${personLabel(m.display_name)} de l’équipe de soins ?`;
    if (!window.confirm(who)) return;
    setRemoveError(null);
    try {
      await del(`/v1/patients/${patient.id}/care-team/${m.id}`);
      reload();
    } catch (e) {
      setRemoveError(e);
    }
  };
  return html`<div>
    <section class="card" aria-labelledby="team-title">
      <h2 id="team-title">Équipe de soins</h2>
      <${ErrorBox} error=${error || removeError} />
      ${!team && !error && html`<${Loading} />`}
      ${team && html`<ul class="list">${team.map((m) => html`<li key=${m.id} class="row-link">
        <span class="row-main">
          <span class="row-title">${personLabel(m.display_name)}${m.account_id === st.me.id ? ' (vous)' : ''}</span>
          <span class="row-sub">${ROLES[m.role] || m.role} · depuis le ${dateAndTime(m.start_at)}${m.reason ? ` · ${m.reason}` : ''}</span>
        </span>
        <button type="button" class="link" onClick=${() => remove(m)}>${m.account_id === st.me.id ? 'Quitter' : 'Retirer'}</button>
      </li>`)}</ul>`}
    </section>
    <section class="card" aria-labelledby="add-title">
      <h2 id="add-title">Ajouter un professionnel</h2>
      ${chosen
        ? html`<form onSubmit=${add}>
            <p>Ajouter <strong>${chosen.display_name || personName(chosen.account_id)}</strong>
              <button type="button" class="link" onClick=${() => setChosen(null)}>Changer</button></p>
            <label for=${roleId}>Rôle</label>
            <select id=${roleId} name="role">${Object.entries(ROLES).map(([k, v]) => html`<option value=${k}>${v}</option>`)}</select>
            <label for=${reasonId}>Motif (obligatoire)</label>
            <textarea id=${reasonId} name="reason" required></textarea>
            <${ErrorBox} error=${addError} />
            <div class="actions"><button type="submit" class="primary" disabled=${busy}>Ajouter à l’équipe</button></div>
          </form>`
        : html`<${PersonPicker} onPick=${setChosen} legend="Chercher dans l’annuaire" excluded=${(team || []).map((m) => m.account_id)} />`}
    </section>
  </div>`;
}
