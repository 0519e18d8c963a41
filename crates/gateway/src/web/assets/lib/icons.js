// Navigation icons as inline SVG (no icon font to fetch; emoji differ by device).
import { html } from './ui.js';

const svg = (d) => html`<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d=${d} /></svg>`;

export const ICONS = {
  chat: svg('M4 5h16v11H8l-4 4z'),
  people: svg('M9 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm-6 9c0-3.3 2.7-6 6-6s6 2.7 6 6M16 5a3 3 0 0 1 0 6m2 9c0-2.6-1.2-4.6-3-5.5'),
  bell: svg('M6 16V11a6 6 0 0 1 12 0v5l2 2H4zm4 4h4'),
  book: svg('M5 4h11a3 3 0 0 1 3 3v13H8a3 3 0 0 1-3-3zm0 13a3 3 0 0 1 3-3h11'),
  more: svg('M4 6h16M4 12h16M4 18h16'),
  user: svg('M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-8 9c0-4.4 3.6-7 8-7s8 2.6 8 7'),
  // Campaigns (issue 15): a megaphone.
  campaign: svg('M3 10v4h3l7 4V6L6 10zm13-1a4 4 0 0 1 0 6m2-9a8 8 0 0 1 0 12'),
  // Waiting list (issue 14)
  list: svg('M8 6h12M8 12h12M8 18h12M4 6h.01M4 12h.01M4 18h.01'),
  // Pathways, care plans and tasks (issue 12)
  check: svg('M4 5h16v14H4zm4 7 3 3 5-6'),
};
