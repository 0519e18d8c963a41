// Break-glass: exceptional access to a patient outside my care teams. It must look
// exceptional (red), require a reason, and ask for confirmation before the request,
// which is audited and notifies the care team.
import { html, useState, useId, ErrorBox } from './ui.js';
import { post } from './api.js';

/** `patientId` for a known id, or none to find the patient by identity. */
export function BreakGlass({ patientId, onGranted }) {
  const [step, setStep] = useState('closed');
  const [reason, setReason] = useState('');
  const [query, setQuery] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const reasonId = useId('bg-reason');
  const queryId = useId('bg-query');
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      const grant = patientId
        ? await post(`/v1/patients/${patientId}/break-glass`, { reason: reason.trim() })
        : await post('/v1/break-glass', { query: query.trim(), reason: reason.trim() });
      onGranted(grant.patient_id);
    } catch (e) {
      setError(e);
      setStep('form');
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="break-glass" aria-labelledby=${`${reasonId}-title`}>
    <h2 id=${`${reasonId}-title`}>Accès en urgence (bris de glace)</h2>
    <p>Réservé à l’urgence, quand le patient est devant vous et que vous n’êtes pas dans son équipe de soins.
      L’accès est exceptionnel, limité dans le temps, tracé dans le journal du patient, et son équipe de soins est prévenue.</p>
    ${step === 'closed' && html`<button type="button" class="danger" onClick=${() => setStep('form')}>Demander un accès en urgence</button>`}
    ${step === 'form' && html`<form onSubmit=${(e) => { e.preventDefault(); setStep('confirm'); }}>
      ${!patientId && html`<label for=${queryId}>Patient : matricule INS, ou nom de naissance et date de naissance</label>
        <input id=${queryId} name="query" value=${query} onInput=${(e) => setQuery(e.target.value)} required
          placeholder="DUPONT 12/03/1950" autocomplete="off" />`}
      <label for=${reasonId}>Motif (obligatoire)</label>
      <textarea id=${reasonId} name="reason" value=${reason} onInput=${(e) => setReason(e.target.value)}
        required minlength="10" maxlength="2000" aria-describedby=${`${reasonId}-hint`}></textarea>
      <p class="hint" id=${`${reasonId}-hint`}>10 caractères au moins. Le motif est montré à l’équipe de soins.</p>
      <${ErrorBox} error=${error} />
      <div class="actions">
        <button type="submit" class="danger" disabled=${reason.trim().length < 10}>Continuer</button>
        <button type="button" onClick=${() => setStep('closed')}>Annuler</button>
      </div>
    </form>`}
    ${step === 'confirm' && html`<div role="alertdialog" aria-labelledby=${`${reasonId}-confirm`}>
      <p id=${`${reasonId}-confirm`}><strong>Confirmez-vous l’accès exceptionnel à ce dossier ?</strong></p>
      <p>Motif : « ${reason.trim()} »</p>
      <div class="actions">
        <button type="button" class="danger primary" onClick=${confirm} disabled=${busy}>Confirmer l’accès en urgence</button>
        <button type="button" onClick=${() => setStep('form')}>Revenir</button>
      </div>
    </div>`}
  </section>`;
}
