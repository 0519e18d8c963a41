// At the officine counter, on a phone: join the campaign for my structure, then
// record the day's counts — one big number field per kind of action. A second
// record for the same day corrects the first (the API keeps the history).
import { html, useState, useLoad, useSubmit, Loading, ErrorBox, useId } from '../lib/ui.js';
import { get, post, del } from '../lib/api.js';
import { todayInParis } from '../lib/format.js';
import { THEMES, STRUCTURES, period, stage, useAction } from '../lib/campaigns.js';

async function load(id) {
  const [campaign, participants, mine] = await Promise.all([
    get(`/v1/campaigns/${id}`),
    get(`/v1/campaigns/${id}/participants?limit=200`),
    get('/v1/organisations?member=me&limit=50'),
  ]);
  return { campaign, participants: participants.items, mine: mine.items };
}

/** The counts already recorded by this structure, by day and kind. */
async function recorded(id, organisation) {
  const counts = {};
  let cursor = '';
  for (let page = 0; page < 20; page += 1) {
    const p = await get(`/v1/campaigns/${id}/actions?organisation_id=${organisation}&limit=200${cursor ? `&cursor=${cursor}` : ''}`);
    for (const a of p.items) counts[`${a.on}|${a.kind}`] = a.count;
    if (!p.next_cursor) break;
    cursor = p.next_cursor;
  }
  return counts;
}

function DayForm({ campaign, organisation }) {
  const today = todayInParis();
  const last = campaign.ends_on < today ? campaign.ends_on : today;
  const [day, setDay] = useState(last);
  const [saved, setSaved] = useState(null);
  const [counts, countsError, reload] = useLoad(() => recorded(campaign.id, organisation.id), [campaign.id, organisation.id]);
  const dayId = useId('day');
  const [submit, busy, error] = useSubmit(async (event) => {
    setSaved(null);
    const f = event.target.elements;
    let n = 0;
    for (const k of campaign.action_kinds) {
      const raw = f.namedItem(`count-${k.code}`).value.trim();
      if (raw === '') continue;
      const count = Number(raw);
      if (!Number.isInteger(count) || count < 0) throw new Error(`${k.label} : un nombre entier positif ou nul.`);
      if (counts && counts[`${day}|${k.code}`] === count) continue;
      await post(`/v1/campaigns/${campaign.id}/actions`, { organisation_id: organisation.id, kind: k.code, count, on: day });
      n += 1;
    }
    setSaved(n);
    reload();
  });
  if (countsError) return html`<${ErrorBox} error=${countsError} />`;
  if (!counts) return html`<${Loading} />`;
  // Uncontrolled fields (a re-render never overwrites what is being typed).
  return html`<form class="card counter" onSubmit=${submit} noValidate>
    <h2>Saisie du jour — ${organisation.name}</h2>
    <label for=${dayId}>Jour</label>
    <input id=${dayId} type="date" value=${day} min=${campaign.starts_on} max=${last} onChange=${(e) => { setDay(e.target.value); setSaved(null); }} />
    ${campaign.action_kinds.map((k) => {
      // A new day (or a new record) gives fresh fields with what is recorded.
      const current = counts[`${day}|${k.code}`];
      return html`<label for=${`count-${k.code}`}>${k.label}</label>
        <input key=${`${day}|${current ?? ''}`} class="big-number" id=${`count-${k.code}`} name=${`count-${k.code}`} type="number" inputmode="numeric" min="0" step="1"
          placeholder="0" defaultValue=${current ?? ''} data-kind=${k.code} />
        ${current != null && html`<p class="hint">Déjà saisi : ${current}. Une nouvelle valeur corrige la saisie (l’historique est conservé).</p>`}`;
    })}
    <p class="hint">Uniquement des nombres : aucune information sur les patients n’est saisie ici.</p>
    <${ErrorBox} error=${error} />
    ${saved != null && html`<p class="notice" role="status">${saved ? 'Enregistré.' : 'Rien de nouveau à enregistrer.'}</p>`}
    <div class="actions"><button type="submit" class="primary big" disabled=${busy}>Enregistrer</button></div>
  </form>`;
}

export function CampaignCounter({ id }) {
  const [data, error, reload] = useLoad(() => load(id), [id]);
  const [act, busy, actError] = useAction();
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!data) return html`<${Loading} />`;
  const { campaign, participants, mine } = data;
  const active = new Set(participants.filter((p) => !p.left_at).map((p) => p.organisation_id));
  const joined = mine.filter((o) => active.has(o.id));
  const open = stage(campaign) !== 'terminee';
  // At the counter, the day's fields come first, then the structures.
  return html`<article aria-labelledby="campaign-title">
    <div class="toolbar"><a class="button" href="#/campagnes" aria-label="Retour aux campagnes">←</a><h1 id="campaign-title">${campaign.title}</h1></div>
    <p class="muted">${THEMES[campaign.theme] || campaign.theme} · ${period(campaign)}</p>
    ${campaign.description && html`<p class="campaign-description">${campaign.description}</p>`}
    ${stage(campaign) === 'a_venir' && html`<p class="notice">La campagne n’a pas commencé : la saisie ouvrira le ${campaign.starts_on.split('-').reverse().join('/')}.</p>`}
    ${stage(campaign) !== 'a_venir' && joined.map((o) => html`<${DayForm} key=${o.id} campaign=${campaign} organisation=${o} />`)}
    <section class="card" aria-labelledby="my-structures">
      <h2 id="my-structures">Mes structures</h2>
      ${mine.length === 0 && html`<p class="muted">Vous n’êtes rattaché·e à aucune structure.</p>`}
      <ul class="list">
        ${mine.map((o) => html`<li class="row-link" key=${o.id}>
          <span class="row-main"><span class="row-title">${o.name}</span><span class="row-sub">${STRUCTURES[o.kind] || o.kind}${active.has(o.id) ? ' · participe' : ''}</span></span>
          ${active.has(o.id)
            ? html`<button type="button" class="link" disabled=${busy} onClick=${() => act(async () => { await del(`/v1/campaigns/${id}/participants/${o.id}`); reload(); })}>Quitter</button>`
            : open && html`<button type="button" class="primary" data-join=${o.id} disabled=${busy} onClick=${() => act(async () => { await post(`/v1/campaigns/${id}/participants`, { organisation_id: o.id }); reload(); })}>Participer</button>`}
        </li>`)}
      </ul>
      <${ErrorBox} error=${actError} />
    </section>
    ${joined.length > 0 && html`<p><a href=${`#/messages/${campaign.conversation_id}`}>Discussion de la campagne</a></p>`}
  </article>`;
}
