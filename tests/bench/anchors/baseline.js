// The baseline page: listeners on the same events as every producer's, doing nothing, and
// nothing sent. What the trusted input itself costs the main thread (dispatch into script,
// the page's own counter): subtracted from each producer's time in the same run.
import { EVENT_TYPES } from './common.js';

export function start() {
  for (const t of EVENT_TYPES) document.addEventListener(t, () => {}, { passive: true });
  return { record: () => {}, flush: async () => {} };
}
