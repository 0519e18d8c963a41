// Preact + htm, re-exported so that screens import one module, and a few small
// components every screen uses. htm turns tagged templates into h() calls without
// eval, which the CSP forbids.
import { h, render, Fragment } from '../vendor/preact.js';
import { useState, useEffect, useRef, useMemo, useCallback } from '../vendor/hooks.js';
import htm from '../vendor/htm.js';
import { errorText } from './labels.js';

export const html = htm.bind(h);
export { h, render, Fragment, useState, useEffect, useRef, useMemo, useCallback };

export function Loading({ text = 'Chargement…' }) {
  return html`<p class="muted" role="status">${text}</p>`;
}

/** A component whose module is fetched the first time it is shown (once; a failed
 * fetch, say offline, is tried again next time): `load` is a dynamic import, `name`
 * the export to render. */
export function lazy(load, name = 'Screen') {
  let pending = null;
  let loaded = null;
  return function Lazy(props) {
    const [component, setComponent] = useState(() => loaded);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (loaded) return undefined;
      let live = true;
      pending = pending || load().then((m) => { loaded = m[name]; return loaded; });
      pending.then(
        (c) => live && setComponent(() => c),
        () => { pending = null; if (live) setFailed(true); },
      );
      return () => { live = false; };
    }, []);
    if (failed) return html`<p class="error" role="alert">Cet écran n’a pas pu être chargé : vérifiez la connexion, puis rouvrez-le.</p>`;
    if (!component) return html`<${Loading} />`;
    return h(component, props);
  };
}

export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${errorText(error)}</p>`;
}

/** Loads `load()` when `deps` change; returns [data, error, reload, setData]. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: undefined, error: null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ data: s.data, error: null }));
    load().then(
      (data) => live && setState({ data, error: null }),
      (error) => live && setState({ data: undefined, error }),
    );
    return () => { live = false; };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback((f) => setState((s) => ({ ...s, data: typeof f === 'function' ? f(s.data) : f })), []);
  return [state.data, state.error, reload, setData];
}

/** A form's submit handler that shows "busy" and the error, in French. */
export function useSubmit(action) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (event) => {
    if (event) event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action(event);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return [submit, busy, error, setError];
}

/** The value of a form field by name. */
export function field(form, name) {
  const el = form.elements.namedItem(name);
  return el ? el.value.trim() : '';
}

let idCounter = 0;
/** A unique id for label/input pairs. */
export function useId(prefix = 'f') {
  const ref = useRef(null);
  if (ref.current === null) ref.current = `${prefix}-${++idCounter}`;
  return ref.current;
}
