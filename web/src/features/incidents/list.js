// The dispatcher's live list: open (or overdue, or all) incidents, newest
// first, optionally only those in the map's view. Clicking one flies there
// and opens it. New reports arrive through the feed (index.js reloads).

import * as api from '../../api.js';
import { h, replaceChildren, formatInt } from '../../dom.js';
import { STATUS, name, when } from './names.js';

const PAGE = 50;

const FILTERS = [
  { id: 'open', label: '未结', params: { status: 'open' } },
  { id: 'overdue', label: '超期', params: { overdue: 'true' } },
  { id: 'all', label: '全部', params: {} },
];

/** The list in `root`; returns `{reload(), flash(id)}`. */
export function createList(root, { map, categories, onPick }) {
  const filter = h('select', { class: 'incident-filter', 'aria-label': '事件筛选',
    dataset: { test: 'incident-filter' } },
  FILTERS.map((f) => h('option', { value: f.id }, f.label)));
  const inView = h('input', { type: 'checkbox', dataset: { test: 'incident-in-view' } });
  const count = h('span', { class: 'muted incident-count', dataset: { test: 'incident-count' } });
  const items = h('ol', { class: 'incident-list', dataset: { test: 'incident-list' } });
  root.append(
    h('div', { class: 'incident-list-bar' },
      filter,
      h('label', { class: 'inline' }, inView, ' 仅当前视野'),
      count),
    items);

  // One request at a time: reloads asked for while one is in flight (a
  // burst of changes, a filter changed) run once, when it is done, with the
  // filters as they are then.
  let inFlight = null;
  let again = false;
  const load = async () => {
    const params = { ...FILTERS.find((f) => f.id === filter.value).params, limit: PAGE };
    if (inView.checked) {
      const b = map.getBounds();
      params.bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(',');
    }
    try {
      const page = await api.incidents(params);
      if (again) return;
      count.textContent = `共 ${formatInt(page.total)} 件`;
      replaceChildren(items, page.incidents.length === 0
        ? h('li', { class: 'muted' }, '没有符合条件的事件。')
        : page.incidents.map((i) => item(i, categories, onPick)));
    } catch (error) {
      if (!again) replaceChildren(items, h('li', { class: 'error', role: 'alert' }, error.message));
    }
  };
  const reload = () => {
    if (inFlight) {
      again = true;
      return inFlight;
    }
    inFlight = (async () => {
      do {
        again = false;
        await load();
      } while (again);
      inFlight = null;
    })();
    return inFlight;
  };
  filter.addEventListener('change', reload);
  inView.addEventListener('change', reload);
  map.on('moveend', () => { if (inView.checked) reload(); });

  return {
    reload,
    /** Mark an item as new for a moment. */
    flash(id) {
      const li = items.querySelector(`[data-incident-id="${id}"]`);
      if (!li) return;
      li.classList.add('fresh');
      setTimeout(() => li.classList.remove('fresh'), 4000);
    },
  };
}

function item(incident, categories, onPick) {
  const category = categories.get(incident.category)?.name ?? incident.category;
  const place = incident.grids.at(-1)?.name ?? '县外';
  return h('li', {
    class: incident.overdue ? 'incident-item overdue' : 'incident-item',
    dataset: { test: 'incident-item', incidentId: String(incident.id) },
  },
  h('button', { type: 'button', class: 'incident-pick', onclick: () => onPick(incident) },
    h('span', { class: 'incident-head' },
      h('strong', {}, `#${incident.id} ${category}`),
      h('span', { class: `status-badge status-${incident.status}` }, name(STATUS, incident.status)),
      incident.overdue ? h('span', { class: 'overdue-badge' }, '超期') : null),
    h('span', { class: 'incident-desc' }, incident.description),
    h('span', { class: 'muted incident-meta' }, `${place} · ${when(incident.reported_at)}`)));
}
