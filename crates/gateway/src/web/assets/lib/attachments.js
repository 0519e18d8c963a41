// Photos: uploaded as raw bytes to POST /v1/attachments, fetched back with the
// session cookie and shown through blob: URLs (the bytes are decrypted by the API for
// this user only; nothing is cached beyond the open page).
import { html, useEffect, useState, useId } from './ui.js';
import { fetchBlob, request } from './api.js';

const blobs = new Map(); // attachment id → Promise<object URL>

function objectUrl(id) {
  if (!blobs.has(id)) {
    const p = fetchBlob(`/v1/attachments/${encodeURIComponent(id)}`).then((b) => URL.createObjectURL(b));
    p.catch(() => blobs.delete(id));
    blobs.set(id, p);
  }
  return blobs.get(id);
}

export async function upload(file) {
  const out = await request('POST', '/v1/attachments', file);
  return out.id;
}

function Thumb({ id, onOpen }) {
  const [src, setSrc] = useState(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    objectUrl(id).then((u) => live && setSrc(u), () => live && setFailed(true));
    return () => { live = false; };
  }, [id]);
  if (failed) return html`<span class="muted">Pièce jointe indisponible</span>`;
  if (!src) return html`<span class="muted">Photo…</span>`;
  return html`<button type="button" class="thumb" onClick=${() => onOpen(src)} aria-label="Agrandir la photo">
    <img src=${src} alt="Photo jointe (miniature)" data-attachment=${id} /></button>`;
}

/** Thumbnails of attachments; a click opens the photo full size. */
export function Attachments({ ids }) {
  const [open, setOpen] = useState(null);
  if (!ids || ids.length === 0) return null;
  return html`<div class="thumbs">
    ${ids.map((id) => html`<${Thumb} key=${id} id=${id} onOpen=${setOpen} />`)}
    ${open && html`<div class="overlay" role="dialog" aria-modal="true" aria-label="Photo en grand"
        onKeyDown=${(e) => e.key === 'Escape' && setOpen(null)}>
      <img src=${open} alt="Photo jointe en taille réelle" />
      <button type="button" autofocus onClick=${() => setOpen(null)}>Fermer</button>
    </div>`}
  </div>`;
}

/** Two ways to add a photo: the camera (on phones) and the gallery / file picker. */
export function PhotoInputs({ onPick, disabled }) {
  const cam = useId('camera');
  const pick = useId('gallery');
  const change = (e) => {
    const file = e.target.files && e.target.files[0];
    e.target.value = '';
    if (file) onPick(file);
  };
  return html`<span class="photo-inputs">
    <span class="button file-button" title="Prendre une photo">
      <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 8h3l2-3h6l2 3h3v11H4zM12 17a4 4 0 1 0 0-8 4 4 0 0 0 0 8z" /></svg>
      <label for=${cam} class="sr-only">Prendre une photo</label>
      <input id=${cam} type="file" accept="image/*" capture="environment" onChange=${change} disabled=${disabled} />
    </span>
    <span class="button file-button" title="Choisir une image">
      <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 5h16v14H4zM4 16l5-5 4 4 3-3 4 4M15.5 9.5h.01" /></svg>
      <label for=${pick} class="sr-only">Choisir une image dans la galerie</label>
      <input id=${pick} type="file" accept="image/*" onChange=${change} disabled=${disabled} data-role="gallery" />
    </span>
  </span>`;
}
