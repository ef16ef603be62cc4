// 统计: the centre's statistics. A panel tab opens a full-window report
// over the map (a dialog): per grid of a level and per month, over a period
// and a category, with
//
// - the totals (上报, 办结, 办结率, 在办, 超期, 办结用时中位数);
// - the monthly trend and the per-category split as charts (Chart.js,
//   loaded only when the report opens: charts.js);
// - the per-grid table, whose grid names drill down a level (county →
//   town → village …), with a trail back up;
// - export to Excel (XLSX) and CSV with Chinese headers, written by the
//   server (GET /api/incidents/stats?format=xlsx&lang=zh), and printing
//   (the print stylesheet shows the report alone).
//
// The report's selection lives in the address (`?stats=1&stats_level=2&
// stats_grid=…`; the hash is MapLibre's view), so a link opens the same
// report; every figure is the server's (GET /api/incidents/stats), nothing
// is recounted here.

import * as api from '../../api.js';
import { formatInt, h, replaceChildren } from '../../dom.js';
import { TIER } from '../incidents/names.js';

/** Level number → its name (the tiers of the same levels). */
const LEVEL_NAMES = { 1: TIER.town, 2: TIER.village, 3: TIER.group, 4: TIER.grid, 5: TIER.patch };
/** The address key that says the report is open, and its parameters' prefix. */
const OPEN_KEY = 'stats';
const PREFIX = 'stats_';
/** The parameters the address keeps, in this order. */
const KEYS = ['level', 'from', 'to', 'category', 'grid'];

export function install(ctx) {
  const { panel } = ctx;
  const body = panel.addSection({ id: 'stats', title: '统计', order: 20 });
  const openButton = h('button', { type: 'button', class: 'action', dataset: { test: 'stats-open' } },
    '打开统计报表');
  body.append(
    h('p', { class: 'muted' }, '按网格、按月份统计事件上报、办结、超期情况，可导出 Excel 或打印。'),
    openButton);

  let view = null;
  const open = (selection) => {
    view ??= createView(ctx, () => { view = null; });
    view.load(selection);
  };
  openButton.addEventListener('click', () => open(selectionFromAddress() ?? { level: '1' }));
  // A shared link opens the report at once.
  const fromAddress = selectionFromAddress();
  if (fromAddress) open(fromAddress);
}

/** The selection in the address, or null when the report is not asked for. */
function selectionFromAddress() {
  const query = new URLSearchParams(location.search);
  if (query.get(OPEN_KEY) !== '1') return null;
  const selection = {};
  for (const key of KEYS) {
    const value = query.get(PREFIX + key);
    if (value) selection[key] = value;
  }
  selection.level ??= '1';
  return selection;
}

/** Write the report's selection into the address (null: the report is closed). */
function writeAddress(selection) {
  const query = new URLSearchParams(location.search);
  query.delete(OPEN_KEY);
  for (const key of KEYS) query.delete(PREFIX + key);
  if (selection) {
    query.set(OPEN_KEY, '1');
    for (const key of KEYS) if (selection[key]) query.set(PREFIX + key, selection[key]);
  }
  const search = query.toString();
  history.replaceState(null, '', `${location.pathname}${search ? `?${search}` : ''}${location.hash}`);
}

/** The county's day as RFC 3339 bounds: from its first moment (UTC+08:00). */
function dayStart(date) {
  return date ? `${date}T00:00:00+08:00` : undefined;
}

function percent(rate) {
  return rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(1)}%`;
}

function hoursText(hours) {
  return hours === null || hours === undefined ? '—' : hours.toFixed(1);
}

function createView(ctx, onClosed) {
  const titleId = 'stats-title';
  const level = h('select', { class: 'text-input', dataset: { test: 'stats-level' } },
    Object.entries(LEVEL_NAMES).map(([n, name]) => h('option', { value: n }, `按${name}`)));
  const from = h('input', { type: 'date', class: 'text-input', dataset: { test: 'stats-from' } });
  const to = h('input', { type: 'date', class: 'text-input', dataset: { test: 'stats-to' } });
  const category = h('select', { class: 'text-input', dataset: { test: 'stats-category' } },
    h('option', { value: '' }, '全部类别'));
  const trail = h('nav', { class: 'stats-trail', 'aria-label': '统计范围', dataset: { test: 'stats-trail' } });
  const status = h('p', { class: 'muted', role: 'status', dataset: { test: 'stats-status' } });
  const exportXlsx = h('a', { class: 'action', download: 'incident-stats.xlsx', dataset: { test: 'stats-export-xlsx' } },
    '导出 Excel');
  const exportCsv = h('a', { class: 'action secondary', download: 'incident-stats.csv', dataset: { test: 'stats-export-csv' } },
    '导出 CSV');
  const print = h('button', { type: 'button', class: 'action secondary', onclick: () => window.print() }, '打印');
  const close = h('button', { type: 'button', class: 'close', 'aria-label': '关闭统计报表',
    dataset: { test: 'stats-close' }, onclick: () => closeView() }, '×');
  const cards = h('div', { class: 'stats-cards', dataset: { test: 'stats-totals' } });
  const trendCanvas = h('canvas', { role: 'img', 'aria-label': '按月上报与办结趋势图' });
  const categoryCanvas = h('canvas', { role: 'img', 'aria-label': '按类别上报与办结图' });
  const table = h('table', { class: 'stats-table', dataset: { test: 'stats-table' } });
  const root = h('div', {
    id: 'stats-view', class: 'stats-view', role: 'dialog', 'aria-modal': 'true',
    'aria-labelledby': titleId, dataset: { test: 'stats-view' },
  },
  h('header', { class: 'stats-head' },
    h('h1', { id: titleId }, '事件统计'), close),
  h('form', { class: 'stats-controls no-print', onsubmit: (e) => { e.preventDefault(); apply(); } },
    h('label', { class: 'field' }, h('span', {}, '分组'), level),
    h('label', { class: 'field' }, h('span', {}, '起'), from),
    h('label', { class: 'field' }, h('span', {}, '止'), to),
    h('label', { class: 'field' }, h('span', {}, '类别'), category),
    h('button', { type: 'submit', class: 'action', dataset: { test: 'stats-apply' } }, '查询'),
    exportXlsx, exportCsv, print),
  trail, status, cards,
  h('div', { class: 'stats-charts' },
    h('figure', {}, h('figcaption', {}, '按月趋势'), h('div', { class: 'chart-box' }, trendCanvas)),
    h('figure', {}, h('figcaption', {}, '按类别'), h('div', { class: 'chart-box' }, categoryCanvas))),
  h('div', { class: 'stats-table-wrap' }, table));
  document.body.append(root);
  document.body.classList.add('stats-open');
  const onKey = (event) => { if (event.key === 'Escape') closeView(); };
  document.addEventListener('keydown', onKey);
  close.focus();

  const categoryNames = new Map();
  api.incidentCategories().then((list) => {
    for (const c of list) {
      categoryNames.set(c.code, c.name);
      category.append(h('option', { value: c.code }, c.name));
    }
    category.value = current.category ?? '';
  }).catch(() => {});

  let current = {};
  let turn = 0;
  let charts = null;

  function closeView() {
    document.removeEventListener('keydown', onKey);
    charts?.destroy();
    root.remove();
    document.body.classList.remove('stats-open');
    writeAddress(null);
    onClosed();
  }

  /** Read the form into a selection (the drill-down grid is kept). */
  function apply() {
    load({
      level: level.value,
      from: from.value || undefined,
      to: to.value || undefined,
      category: category.value || undefined,
      grid: current.grid,
    });
  }

  async function load(selection) {
    current = { ...selection };
    const myTurn = ++turn;
    level.value = current.level ?? '1';
    from.value = current.from ?? '';
    to.value = current.to ?? '';
    category.value = current.category ?? '';
    writeAddress(current);
    const params = {
      level: current.level,
      from: dayStart(current.from),
      // `to` is the last day included: the stats take the moment before.
      to: current.to ? dayStart(nextDay(current.to)) : undefined,
      category: current.category,
      grid: current.grid,
    };
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v) query.set(k, v);
    exportXlsx.href = `api/incidents/stats?${query}&format=xlsx&lang=zh`;
    exportCsv.href = `api/incidents/stats?${query}&format=csv&lang=zh`;
    status.textContent = '正在统计…';
    root.dataset.ready = '0';
    try {
      const [stats, trailGrids] = await Promise.all([
        api.incidentStats(params),
        current.grid ? api.grid(current.grid).catch(() => null) : null,
      ]);
      if (myTurn !== turn) return;
      drawTrail(trailGrids);
      drawCards(stats.total);
      drawTable(stats);
      status.textContent = stats.total.reported === 0 ? '所选范围内没有事件。' : '';
      const module = await import('./charts.js');
      if (myTurn !== turn) return;
      charts?.destroy();
      charts = module.drawCharts(trendCanvas, categoryCanvas, stats, categoryNames);
      root.dataset.ready = '1';
    } catch (error) {
      if (myTurn !== turn) return;
      status.textContent = error.message;
      root.dataset.ready = 'error';
    }
  }

  function drawTrail(detail) {
    const items = [h('button', { type: 'button', class: 'link', onclick: () => load({ ...current, grid: undefined, level: '1' }) }, '全县')];
    if (detail) {
      const self = {
        id: detail.grid.id ?? detail.grid.properties.id,
        name: detail.grid.properties.name,
        level: detail.grid.properties.level,
      };
      for (const g of [...(detail.ancestors ?? []), self]) {
        items.push(' › ', h('button', {
          type: 'button', class: 'link', dataset: { gridId: g.id },
          onclick: () => load({ ...current, grid: g.id, level: String(Math.min(5, g.level + 1)) }),
        }, g.name));
      }
    }
    replaceChildren(trail, items);
  }

  function drawCards(total) {
    const card = (label, value, key) => h('div', { class: 'stats-card', dataset: { test: `stats-total-${key}` } },
      h('span', { class: 'stats-card-value' }, value), h('span', { class: 'stats-card-label' }, label));
    replaceChildren(cards,
      card('上报', formatInt(total.reported), 'reported'),
      card('办结', formatInt(total.resolved), 'resolved'),
      card('办结率', percent(total.resolution_rate), 'rate'),
      card('在办', formatInt(total.open), 'open'),
      card('超期', formatInt(total.overdue), 'overdue'),
      card('办结用时中位数（小时）', hoursText(total.median_hours_to_resolve), 'median'));
  }

  function drawTable(stats) {
    const lvl = Number(stats.level);
    const head = h('thead', {}, h('tr', {},
      ['网格', '上报', '办结', '办结率', '在办', '超期', '用时中位数（小时）'].map((t) => h('th', { scope: 'col' }, t))));
    const row = (g, { total = false } = {}) => {
      const name = total ? '合计' : (g.name ?? '不在任何网格');
      const drill = !total && g.grid && lvl < 5;
      const nameCell = drill
        ? h('button', {
          type: 'button', class: 'link', title: `查看${name}下一级`,
          dataset: { test: 'stats-drill', gridId: g.grid },
          onclick: () => load({ ...current, grid: g.grid, level: String(lvl + 1) }),
        }, name)
        : name;
      return h('tr', { class: total ? 'total' : null, dataset: { gridId: g.grid ?? '' } },
        h('th', { scope: 'row' }, nameCell),
        h('td', {}, formatInt(g.reported)), h('td', {}, formatInt(g.resolved)),
        h('td', {}, percent(g.resolution_rate)), h('td', {}, formatInt(g.open)),
        h('td', { class: g.overdue > 0 ? 'overdue' : null }, formatInt(g.overdue)),
        h('td', {}, hoursText(g.median_hours_to_resolve)));
    };
    replaceChildren(table,
      h('caption', {}, `按${LEVEL_NAMES[lvl] ?? `第${lvl}级`}统计`),
      head,
      h('tbody', {}, stats.grids.map((g) => row(g))),
      h('tfoot', {}, row(stats.total, { total: true })));
  }

  return { load, close: closeView };
}

/** The day after `YYYY-MM-DD`. */
function nextDay(date) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}
