// 网格信息: who is responsible here? Clicking the map asks the server which
// grid at every level owns the point (GET /api/locate) and lists the chain,
// town first, with names, codes, leaders and their phones (tel: links), and a
// warning when the point is within the configured distance of a grid border,
// where the owner should be checked on the ground. A grid picked elsewhere
// (the search) is shown the same way, with its ancestors.

import { Marker } from 'maplibre-gl';

import * as api from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { flyToBbox, setSelection } from '../map.js';

export const SECTION_ID = 'info';

/** @param {object} ctx the app context (see main.js) */
export function install(ctx) {
  const { map, panel, settings, bus } = ctx;
  const body = panel.addSection({ id: SECTION_ID, title: '网格信息', order: 10 });
  const view = h('div', { class: 'info', dataset: { test: 'info' } });
  body.append(view);
  showHint(view);

  const marker = new Marker({ color: '#c8553d', scale: 0.8 });
  // Answers can arrive out of order when the user clicks quickly: only the
  // latest request may draw.
  let latest = 0;

  map.on('click', async (event) => {
    // A feature installed before this one took the click (an incident was
    // clicked, or a point picked for a report).
    if (event.defaultPrevented) return;
    // A world copy east or west of the first gives longitudes beyond ±180.
    const { lng, lat } = event.lngLat.wrap();
    const request = ++latest;
    marker.setLngLat([lng, lat]).addTo(map);
    panel.show(SECTION_ID);
    replaceChildren(view, h('p', { class: 'muted', dataset: { test: 'locate-loading' } }, '正在查询……'));
    try {
      const answer = await api.locate(round(lng), round(lat));
      if (request !== latest) return;
      renderLocate(ctx, view, answer, settings.get('borderWarningM'));
      const deepest = answer.chain.at(-1);
      selectOutline(map, deepest?.id, () => request === latest);
    } catch (error) {
      if (request !== latest) return;
      renderError(view, error);
    }
  });

  // A grid chosen in the search: fly there, outline it, show its chain.
  bus.addEventListener('grid-selected', async (event) => {
    const { id, bbox } = event.detail;
    const request = ++latest;
    marker.remove();
    if (bbox) flyToBbox(map, bbox);
    panel.show(SECTION_ID);
    try {
      const detail = await api.grid(id);
      if (request !== latest) return;
      setSelection(map, detail.grid);
      const self = {
        id: detail.grid.properties.id,
        level: detail.grid.properties.level,
        name: detail.grid.properties.name,
        code: detail.grid.properties.code ?? null,
        leader: detail.grid.properties.leader ?? null,
      };
      renderChain(ctx, view, [...detail.ancestors, self], { heading: '所选网格' });
    } catch (error) {
      if (request !== latest) return;
      renderError(view, error);
    }
  });
}

/** Seven decimals (about 1 cm) are plenty, and keep the URL readable. */
function round(degrees) {
  return Math.round(degrees * 1e7) / 1e7;
}

function showHint(view) {
  replaceChildren(view, h('p', { class: 'muted', dataset: { test: 'info-hint' } },
    '点击地图上任意位置，查看该处所属的各级网格及负责人。'));
}

/** Outline a grid by id (its geometry from the API), if `stillWanted()`. */
async function selectOutline(map, id, stillWanted) {
  if (!id) {
    setSelection(map, null);
    return;
  }
  try {
    const detail = await api.grid(id);
    if (stillWanted()) setSelection(map, detail.grid);
  } catch (error) {
    console.warn('could not outline grid', id, error);
  }
}

function renderLocate(ctx, view, answer, warnBelowM) {
  const { lon, lat } = answer.point;
  const where = h('p', { class: 'point', dataset: { test: 'locate-point' } },
    `位置：${lon.toFixed(5)}, ${lat.toFixed(5)}`);
  if (answer.chain.length === 0) {
    replaceChildren(view, where, h('p', { class: 'notice', dataset: { test: 'locate-outside' } },
      '该位置不在本县任何网格内。'));
    return;
  }
  const distance = answer.boundary_distance_m;
  const near = Number.isFinite(distance) && distance < warnBelowM;
  const warning = near
    ? h('p', { class: 'border-warning', role: 'alert', dataset: { test: 'border-warning' } },
        `⚠ 距网格边界约 ${Math.round(distance)} 米（小于 ${warnBelowM} 米），归属请现场核实。`)
    : null;
  const distanceNote = Number.isFinite(distance)
    ? h('p', { class: 'muted', dataset: { test: 'boundary-distance' } },
        `距最近网格边界约 ${Math.round(distance)} 米`)
    : null;
  renderChain(ctx, view, answer.chain, { heading: '所属网格', before: [where, warning], after: [distanceNote] });
}

/** The chain of grids, level 1 first, each with its leader. */
function renderChain(ctx, view, chain, { heading, before = [], after = [] }) {
  const items = chain.map((grid) => chainItem(ctx, grid));
  replaceChildren(view,
    ...before,
    h('h2', { class: 'section-heading' }, heading),
    h('ol', { class: 'chain', dataset: { test: 'locate-chain' } }, items),
    ...after);
}

function chainItem(ctx, grid) {
  const level = ctx.levels.find((l) => l.level === grid.level);
  const leader = grid.leader
    ? h('div', { class: 'leader' },
        h('span', { class: 'leader-name' }, `负责人：${grid.leader.name}`),
        ' ',
        h('a', { class: 'phone', href: `tel:${grid.leader.phone.replace(/[^\d+]/g, '')}`,
          dataset: { test: 'leader-phone' } }, formatPhone(grid.leader.phone)))
    : h('div', { class: 'leader muted' }, '负责人未登记');
  return h('li', {
    class: 'chain-item',
    style: level ? `--level-colour: ${level.colour}` : null,
    dataset: { test: `chain-level-${grid.level}`, gridId: grid.id, level: String(grid.level) },
  },
  h('div', { class: 'chain-head' },
    h('span', { class: 'level-badge' }, level?.name ?? `第${grid.level}级`),
    h('strong', { class: 'grid-name', dataset: { test: 'grid-name' } }, grid.name),
    grid.code ? h('code', { class: 'grid-code' }, grid.code) : null),
  leader);
}

/** 13800001234 → 138 0000 1234; anything else as given. */
function formatPhone(phone) {
  const digits = phone.replace(/\D/g, '');
  return digits.length === 11 ? `${digits.slice(0, 3)} ${digits.slice(3, 7)} ${digits.slice(7)}` : phone;
}

function renderError(view, error) {
  replaceChildren(view, h('p', { class: 'error', role: 'alert', dataset: { test: 'info-error' } },
    error.message ?? String(error)));
}
