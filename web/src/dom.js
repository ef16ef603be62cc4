// A tiny element builder. Text always goes in as text nodes, never as HTML,
// so grid names and leaders' names from the server cannot inject markup.

/**
 * Create an element: `h('a', {href: 'tel:1', class: 'phone', dataset: {test: 'x'}}, 'text', child)`.
 * Attributes named `on…` with a function value become event listeners;
 * `null`, `undefined` and `false` attributes and children are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      el.className = value;
    } else if (name === 'style') {
      // Through the CSSOM: the page's Content-Security-Policy refuses
      // inline style attributes, not styles set from its own script.
      el.style.cssText = String(value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's children. */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** A number with thousands separators, as Chinese users write them (12,345). */
export function formatInt(n) {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('zh-CN') : '—';
}

/** An RFC 3339 time as local date and minutes, 24-hour: 2026-11-29 09:41. */
export function when(rfc3339) {
  if (!rfc3339) return '—';
  const t = new Date(rfc3339);
  if (Number.isNaN(t.getTime())) return rfc3339;
  const pad = (n) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${pad(t.getHours())}:${pad(t.getMinutes())}`;
}
