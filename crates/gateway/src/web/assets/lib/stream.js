// The real-time stream (GET /v1/stream, a WebSocket). The cursor of the last frame
// is kept in memory; after the phone sleeps or the network drops we reconnect with
// `since=` that cursor, with a growing delay, and the server replays what we missed.
// Consumers dedupe messages by id / client_id, so a replayed frame never shows twice.
import { update } from './store.js';

let socket = null;
let cursor = null;
let attempts = 0;
let timer = null;
let stopped = false;
let hiddenSince = 0;
const listeners = new Set();

export function onFrame(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(frame) {
  for (const fn of listeners) {
    try {
      fn(frame);
    } catch (e) {
      console.error(e);
    }
  }
}

function url() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/v1/stream${cursor === null ? '' : `?since=${cursor}`}`;
}

function connect() {
  clearTimeout(timer);
  if (stopped) return;
  const ws = new WebSocket(url());
  socket = ws;
  ws.onmessage = (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (typeof frame.cursor === 'number' && (cursor === null || frame.cursor > cursor)) cursor = frame.cursor;
    if (frame.type === 'ready') {
      attempts = 0;
      update({ online: true });
    }
    if (frame.type === 'resync') {
      // The server fell behind us or restarts: come back at once from the cursor.
      attempts = 0;
      ws.close();
      return;
    }
    if (frame.type === 'session.ended') stopped = true;
    emit(frame);
  };
  ws.onclose = () => {
    if (socket !== ws) return;
    socket = null;
    if (stopped) return;
    update({ online: false });
    // 1 s, 2 s, 4 s… up to 30 s, with jitter so that a CPTS's phones do not all
    // come back in the same second after an outage.
    const delay = Math.min(30000, 1000 * 2 ** attempts) * (0.5 + Math.random() / 2);
    attempts += 1;
    timer = setTimeout(connect, attempts === 1 ? 200 : delay);
  };
}

/** Reconnects now (the network is back, or the page wakes up after a long sleep,
 *  when the old socket may be dead without knowing it). */
function reconnectNow() {
  if (stopped) return;
  attempts = 0;
  if (socket) {
    const old = socket;
    socket = null;
    old.onclose = null;
    old.close();
  }
  connect();
}

export function startStream() {
  stopped = false;
  connect();
  window.addEventListener('online', reconnectNow);
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) {
      hiddenSince = Date.now();
    } else if (!socket || (hiddenSince && Date.now() - hiddenSince > 30000)) {
      reconnectNow();
    }
  });
}

export function stopStream() {
  stopped = true;
  clearTimeout(timer);
  if (socket) socket.close();
  socket = null;
}
