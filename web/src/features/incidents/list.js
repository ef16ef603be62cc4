// The dispatcher's list: a page of incidents at a time, filtered and sorted
// by the server (GET /api/incidents: status, grid and its subtree,
// category, tier, period, overdue, a search by number or words, newest /
// oldest / earliest deadline first), optionally only those in the map's
// view. Each row names its town and grid and how long it is overdue.
//
// The filters and the page live in the page's address (`?status=open&grid=…
// &page=2`), so a link shares the same list and a reload keeps it.
// Clicking a row flies there and opens it. New reports arrive through the
// feed (index.js reloads).

import * as api from '../../api.js';
import { h, replaceChildren, formatInt } from '../../dom.js';
import { STATUS, TIER, name, when } from './names.js';

export const PAGE = 20;

const STATUSES = [
  { id: 'open', label: '未结' },
  { id: 'resolved,follow_up,closed', label: '已办结' },
  { id: 'dismissed', label: '不予受理' },
  { id: '', label: '全部状态' },
];
const SORTS = [
  { id: 'newest', label: '最新上报' },
  { id: 'deadline', label: '期限最早' },
  { id: 'oldest', label: '最早上报' },
];
/** The keys the address keeps, with their defaults. */
const DEFAULTS = { status: 'open', grid: '', category: '', tier: '', overdue: '', q: '', sort: 'newest', from: '', to: '', page: '1' };

/** The list in `root`; returns `{reload(), flash(id)}`. */
export function createList(root, { map, categories, onPick }) {
  const state = readAddress();
  const control = (tag, attrs, ...children) => h(tag, { class: 'incident-filter', ...attrs }, ...children);
  const search = control('input', {
    type: 'search', placeholder: '编号或事件内容', 'aria-label': '按编号或内容搜索',
    value: state.q, dataset: { test: 'incident-search' },
  });
  const status = control('select', { 'aria-label': '状态', dataset: { test: 'incident-filter' } },
    STATUSES.map((s) => h('option', { value: s.id }, s.label)));
  const category = control('select', { 'aria-label': '类别', dataset: { test: 'incident-category' } },
    h('option', { value: '' }, '全部类别'));
  const tier = control('select', { 'aria-label': '办理层级', dataset: { test: 'incident-tier' } },
    h('option', { value: '' }, '全部层级'),
    Object.entries(TIER).map(([code, label]) => h('option', { value: code }, label)));
  const sort = control('select', { 'aria-label': '排序', dataset: { test: 'incident-sort' } },
    SORTS.map((s) => h('option', { value: s.id }, s.label)));
  const from = control('input', { type: 'date', 'aria-label': '上报起始日', dataset: { test: 'incident-from' } });
  const to = control('input', { type: 'date', 'aria-label': '上报截止日', dataset: { test: 'incident-to' } });
  const overdue = h('input', { type: 'checkbox', dataset: { test: 'incident-overdue' } });
  const inView = h('input', { type: 'checkbox', dataset: { test: 'incident-in-view' } });
  // The grid filter: any grid, found by name through the grid search.
  const gridInput = control('input', {
    type: 'search', placeholder: '乡镇或网格名称', 'aria-label': '按网格筛选',
    autocomplete: 'off', dataset: { test: 'incident-grid-input' },
  });
  const gridChoices = h('ul', { class: 'grid-choices', dataset: { test: 'incident-grid-choices' } });
  const gridChip = h('span', { class: 'grid-chip', hidden: true, dataset: { test: 'incident-grid-chip' } });
  const count = h('span', { class: 'muted incident-count', role: 'status', dataset: { test: 'incident-count' } });
  const items = h('ol', { class: 'incident-list', dataset: { test: 'incident-list' } });
  const prev = h('button', { type: 'button', class: 'action secondary', dataset: { test: 'incident-prev' } }, '上一页');
  const next = h('button', { type: 'button', class: 'action secondary', dataset: { test: 'incident-next' } }, '下一页');
  const pageLabel = h('span', { class: 'muted', dataset: { test: 'incident-page' } });
  root.append(
    h('div', { class: 'incident-filters' },
      search,
      h('div', { class: 'row' }, status, sort),
      h('div', { class: 'row' }, category, tier),
      h('div', { class: 'grid-filter' }, gridInput, gridChip, gridChoices),
      h('div', { class: 'row' },
        h('label', { class: 'field column' }, h('span', {}, '上报自'), from),
        h('label', { class: 'field column' }, h('span', {}, '至'), to)),
      h('div', { class: 'incident-list-bar' },
        h('label', { class: 'inline' }, overdue, ' 仅超期'),
        h('label', { class: 'inline' }, inView, ' 仅当前视野'),
        count)),
    items,
    h('div', { class: 'pager' }, prev, pageLabel, next));

  for (const c of categories.values()) category.append(h('option', { value: c.code }, c.name));
  const gridNames = new Map();

  function show() {
    search.value = state.q;
    status.value = state.status;
    category.value = state.category;
    tier.value = state.tier;
    sort.value = state.sort;
    from.value = state.from;
    to.value = state.to;
    overdue.checked = state.overdue === 'true';
    gridChip.hidden = !state.grid;
    gridInput.hidden = Boolean(state.grid);
    if (state.grid) {
      replaceChildren(gridChip, gridNames.get(state.grid) ?? state.grid, ' ',
        h('button', { type: 'button', class: 'chip-clear', 'aria-label': '清除网格筛选',
          dataset: { test: 'incident-grid-clear' }, onclick: () => change({ grid: '' }) }, '×'));
      if (!gridNames.has(state.grid)) {
        api.grid(state.grid).then((d) => {
          gridNames.set(state.grid, d.grid.properties.name);
          show();
        }).catch(() => {});
      }
    }
  }

  /** Change filters (back to the first page unless the page is given). */
  function change(patch) {
    Object.assign(state, { page: '1' }, patch);
    writeAddress(state);
    show();
    reload();
  }

  // One request at a time: reloads asked for while one is in flight (a
  // burst of changes, a filter changed) run once, when it is done, with the
  // filters as they are then.
  let inFlight = null;
  let again = false;
  const load = async () => {
    const page = Math.max(1, Math.floor(Number(state.page)) || 1);
    state.page = String(page);
    const params = { limit: PAGE, offset: (page - 1) * PAGE, sort: state.sort };
    for (const key of ['status', 'grid', 'category', 'tier', 'q']) if (state[key]) params[key] = state[key];
    if (state.overdue === 'true') params.overdue = 'true';
    if (state.from) params.from = `${state.from}T00:00:00+08:00`;
    if (state.to) params.to = `${nextDay(state.to)}T00:00:00+08:00`;
    if (inView.checked) {
      const b = map.getBounds();
      params.bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(',');
    }
    root.dataset.loading = '1';
    try {
      const answer = await api.incidents(params);
      if (again) return;
      const pages = Math.max(1, Math.ceil(answer.total / PAGE));
      // Past the last page (the list shrank, or the address said so): go
      // to the last one.
      if (page > pages) {
        state.page = String(pages);
        writeAddress(state);
        again = true;
        return;
      }
      count.textContent = `共 ${formatInt(answer.total)} 件`;
      pageLabel.textContent = `第 ${page} / ${pages} 页`;
      prev.disabled = page <= 1;
      next.disabled = page >= pages;
      replaceChildren(items, answer.incidents.length === 0
        ? h('li', { class: 'muted' }, '没有符合条件的事件。')
        : answer.incidents.map((i) => item(i, categories, onPick)));
      root.dataset.loading = '0';
    } catch (error) {
      if (!again) {
        replaceChildren(items, h('li', { class: 'error', role: 'alert' }, error.message));
        root.dataset.loading = 'error';
      }
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

  let searchTimer = null;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => change({ q: search.value.trim() }), 350);
  });
  status.addEventListener('change', () => change({ status: status.value }));
  category.addEventListener('change', () => change({ category: category.value }));
  tier.addEventListener('change', () => change({ tier: tier.value }));
  sort.addEventListener('change', () => change({ sort: sort.value }));
  from.addEventListener('change', () => change({ from: from.value }));
  to.addEventListener('change', () => change({ to: to.value }));
  overdue.addEventListener('change', () => change({ overdue: overdue.checked ? 'true' : '' }));
  inView.addEventListener('change', () => change({}));
  prev.addEventListener('click', () => change({ page: String(Math.max(1, Number(state.page) - 1)) }));
  next.addEventListener('click', () => change({ page: String(Number(state.page) + 1) }));
  map.on('moveend', () => { if (inView.checked) change({}); });

  let gridTurn = 0;
  let gridTimer = null;
  gridInput.addEventListener('input', () => {
    clearTimeout(gridTimer);
    const q = gridInput.value.trim();
    gridTimer = setTimeout(async () => {
      const mine = ++gridTurn;
      if (!q) {
        replaceChildren(gridChoices);
        return;
      }
      try {
        const found = await api.searchGrids(q, 8);
        if (mine !== gridTurn) return;
        const grids = found.results;
        replaceChildren(gridChoices, grids.map((g) => h('li', {},
          h('button', {
            type: 'button', class: 'grid-choice', dataset: { test: 'incident-grid-choice', gridId: g.id },
            onclick: () => {
              gridNames.set(g.id, g.name);
              gridInput.value = '';
              replaceChildren(gridChoices);
              change({ grid: g.id });
            },
          }, g.name, h('span', { class: 'muted' },
            ` ${name(LEVEL_OF, g.level)}${g.path?.length ? ` · ${g.path.join(' › ')}` : ''}`)))));
      } catch (error) {
        replaceChildren(gridChoices, h('li', { class: 'error' }, error.message));
      }
    }, 250);
  });

  show();
  return {
    reload,
    /** Mark an item as new for a moment. */
    flash(id) {
      const li = items.querySelector(`[data-incident-id="${id}"]`);
      if (!li) return;
      li.classList.add('fresh');
      setTimeout(() => li.classList.remove('fresh'), 4000);
    },
    /** Put the categories into the category filter once they are known. */
    categoriesLoaded() {
      for (const c of categories.values()) {
        if (![...category.options].some((o) => o.value === c.code)) {
          category.append(h('option', { value: c.code }, c.name));
        }
      }
      category.value = state.category;
    },
  };
}

const LEVEL_OF = { 1: TIER.town, 2: TIER.village, 3: TIER.group, 4: TIER.grid, 5: TIER.patch };

/** The list's state from the address (unknown keys left alone). */
function readAddress() {
  const query = new URLSearchParams(location.search);
  const state = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS)) {
    if (query.has(key)) state[key] = query.get(key);
  }
  return state;
}

/** Write the list's state into the address, keeping other keys and the hash. */
function writeAddress(state) {
  const query = new URLSearchParams(location.search);
  for (const [key, fallback] of Object.entries(DEFAULTS)) {
    if (state[key] && state[key] !== fallback) query.set(key, state[key]);
    else query.delete(key);
  }
  const search = query.toString();
  history.replaceState(null, '', `${location.pathname}${search ? `?${search}` : ''}${location.hash}`);
}

/** How long past the deadline, in days and hours: 超期 3 天 4 小时. */
export function overdueFor(deadline, now = Date.now()) {
  const ms = now - new Date(deadline).getTime();
  if (!(ms > 0)) return null;
  const hours = Math.floor(ms / 3_600_000);
  const days = Math.floor(hours / 24);
  if (days > 0) return `超期 ${days} 天${hours % 24 ? ` ${hours % 24} 小时` : ''}`;
  return hours > 0 ? `超期 ${hours} 小时` : '超期不足 1 小时';
}

function item(incident, categories, onPick) {
  const category = categories.get(incident.category)?.name ?? incident.category;
  const town = incident.grids[0]?.name;
  const deepest = incident.grids.at(-1)?.name;
  const place = town ? (deepest && deepest !== town ? `${town} · ${deepest}` : town) : '县外';
  const late = incident.overdue ? overdueFor(incident.deadline) : null;
  return h('li', {
    class: incident.overdue ? 'incident-item overdue' : 'incident-item',
    dataset: { test: 'incident-item', incidentId: String(incident.id) },
  },
  h('button', { type: 'button', class: 'incident-pick', onclick: () => onPick(incident) },
    h('span', { class: 'incident-head' },
      h('strong', {}, `#${incident.id} ${category}`),
      h('span', { class: `status-badge status-${incident.status}` }, name(STATUS, incident.status)),
      late ? h('span', { class: 'overdue-badge', dataset: { test: 'incident-overdue-for' } }, late) : null),
    h('span', { class: 'incident-desc' }, incident.description),
    h('span', { class: 'muted incident-meta', dataset: { test: 'incident-place' } },
      `${place} · ${when(incident.reported_at)}`)));
}

/** The day after `YYYY-MM-DD`. */
function nextDay(date) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}
