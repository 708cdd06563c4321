// Shared by the anchor producers: the same record per mouse event as ours (schema v1 fields),
// and the capture listeners a developer would add.
export const EVENT_TYPES = ['mousemove', 'mousedown', 'mouseup', 'click', 'wheel'];

export function session() {
  return crypto.randomUUID();
}

export function captureMouse(onEvent) {
  const sid = session();
  let seq = 0;
  const handler = (e) => onEvent({
    v: 1, sid, seq: seq++, t: Date.now(), type: e.type, path: location.pathname, vw: innerWidth, vh: innerHeight,
    x: e.clientX, y: e.clientY, px: e.pageX, py: e.pageY, buttons: e.buttons,
  }, sid);
  for (const t of EVENT_TYPES) document.addEventListener(t, handler, { passive: true });
  return sid;
}
