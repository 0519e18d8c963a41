// "Mes disponibilités": what a médecin généraliste can take for the waiting list
// (new patients a month, communes, ALD, home visits, until when), and this month's
// places. Coordinators see every declaration and the territory's total here.
import { html, useLoad, useSubmit, useState, Loading, ErrorBox, useId } from '../lib/ui.js';
import { get, put } from '../lib/api.js';
import { useStore } from '../lib/store.js';
import { todayInParis, birthDate } from '../lib/format.js';


const isCoordinator = (me) => (me.cpts_roles || []).some((r) => r === 'coordinator' || r === 'admin');

function Territory() {
  const [page, error] = useLoad(() => get('/v1/gp-capacity?limit=200'), []);
  return html`<section class="card" aria-labelledby="cap-all">
    <h2 id="cap-all">Disponibilités des médecins</h2>
    <${ErrorBox} error=${error} />
    ${!page && !error && html`<${Loading} />`}
    ${page && html`<p><strong>${page.total_new_patients_per_month}</strong> nouveaux patients par mois déclarés sur le territoire.</p>
      <ul class="list">${page.items.map((c) => html`<li key=${c.account_id} class="row-link"><span class="row-main">
        <span class="row-title">${c.display_name}</span>
        <span class="row-sub">${c.accepting ? `${c.remaining_this_month} / ${c.new_patients_per_month} place(s) ce mois-ci` : 'N’accepte pas de nouveaux patients'}${c.until ? ` · jusqu’au ${birthDate(c.until)}` : ''}</span>
      </span></li>`)}</ul>`}
  </section>`;
}

function MyCapacity() {
  const [cap, error, reload] = useLoad(() => get('/v1/gp-capacity/me'), []);
  const [saved, setSaved] = useState(false);
  const ids = Object.fromEntries(['count', 'communes', 'until'].map((k) => [k, useId(`cap-${k}`)]));
  const [submit, busy, saveError] = useSubmit(async (event) => {
    const f = event.target.elements;
    const communes = f.namedItem('communes').value.split(/[\s,;]+/).map((c) => c.trim().toUpperCase()).filter(Boolean);
    const until = f.namedItem('until').value;
    await put('/v1/gp-capacity/me', {
      accepting: f.namedItem('accepting').checked,
      new_patients_per_month: Number(f.namedItem('count').value || 0),
      communes,
      accepts_ald: f.namedItem('accepts_ald').checked,
      home_visits: f.namedItem('home_visits').checked,
      until: until || null,
    });
    setSaved(true);
    reload();
  });
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!cap) return html`<${Loading} />`;
  return html`<form class="card" onSubmit=${submit} id="capacity-form">
    ${cap.declared && html`<p role="status" id="cap-month">Ce mois-ci : ${cap.used_this_month} place(s) utilisée(s), ${cap.remaining_this_month} restante(s).</p>`}
    <label class="inline"><input type="checkbox" name="accepting" checked=${cap.accepting} /> J’accepte de nouveaux patients</label>
    <label for=${ids.count}>Nouveaux patients par mois</label>
    <input id=${ids.count} name="count" type="number" min="0" max="100" inputmode="numeric" value=${cap.new_patients_per_month} />
    <label for=${ids.communes}>Communes (codes INSEE, séparés par des virgules ; vide : tout le territoire)</label>
    <input id=${ids.communes} name="communes" autocomplete="off" value=${cap.communes.join(', ')} />
    <label class="inline"><input type="checkbox" name="accepts_ald" checked=${cap.accepts_ald} /> Patients en ALD</label>
    <label class="inline"><input type="checkbox" name="home_visits" checked=${cap.home_visits} /> Visites à domicile</label>
    <label for=${ids.until}>Jusqu’au (facultatif)</label>
    <input id=${ids.until} name="until" type="date" min=${todayInParis()} value=${cap.until || ''} />
    <${ErrorBox} error=${saveError} />
    ${saved && !busy && !saveError && html`<p role="status" class="muted">Disponibilités enregistrées.</p>`}
    <div class="actions"><button type="submit" class="primary" disabled=${busy}>Enregistrer</button></div>
  </form>`;
}

export function Screen() {
  const { me } = useStore();
  return html`<section class="narrow" aria-labelledby="cap-title">
    <div class="toolbar"><h1 id="cap-title">Mes disponibilités</h1><a class="button" href="#/attente">Liste d’attente</a></div>
    ${me.profession && me.profession.code === '10' ? html`<${MyCapacity} />` : html`<p class="muted">Les médecins généralistes déclarent ici les nouveaux patients qu’ils peuvent accueillir.</p>`}
    ${isCoordinator(me) && html`<${Territory} />`}
  </section>`;
}
