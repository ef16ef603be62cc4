// 边界编辑: a planner redraws grids on the map. The grids of one level in
// the view are loaded as they are stored; then
//
//   移动顶点  drag a vertex: every loaded grid that has it moves with it
//             (the outlines show both sides of the border moving), and
//             the server's dry run previews what the edit does;
//   分割      pick a grid, click a line across it from border to border
//             (clicks within 12 px of its border snap onto it), 完成;
//   合并      pick two or more adjacent siblings.
//
// Each edit is previewed by POST /api/grids/edits?dry_run=true (what it
// moves, or every problem drawn on the map) and saved by 保存, with an
// optional date it takes effect and a reason. Saving refreshes the map's
// grid tiles. The server keeps every level a partition (no gap, no overlap);
// this module only draws and asks.
//
// Why not terra-draw: its editing moves a vertex of one feature, while a
// border edit moves one vertex in every grid that shares it; keeping that
// in step from outside would fight its own state. MapLibre's layers and
// mouse events are all this needs.

import * as api from '../api.js';
import { h, replaceChildren } from '../dom.js';

export const SECTION_ID = 'editing';

const SOURCE = 'edit-grids';
const VERTICES = 'edit-vertices';
const SKETCH = 'edit-sketch';
const ISSUES = 'edit-issues';
/** Clicks this close to the picked grid's border snap onto it, px. */
const SNAP_PX = 12;
/** Vertices are offered for dragging from this zoom (fewer, larger grids below). */
const VERTEX_MIN_ZOOM = 13;

/** @param {object} ctx the app context (see main.js) */
export function install(ctx) {
  const { map, panel } = ctx;
  const body = panel.addSection({ id: SECTION_ID, title: '边界编辑', order: 60 });
  body.classList.add('edit-section');
  const state = {
    level: 4,
    /** The grids as loaded (GeoJSON features), by id. */
    grids: new Map(),
    version: null,
    mode: 'move',
    /** Vertex moves: `from` (as stored) → `to`, keyed by `from`. */
    moves: new Map(),
    /** Split: the grid picked and the line's points; merge: the grids picked. */
    picked: [],
    line: [],
    /** Split: cut the children the line crosses too, rather than refuse. */
    splitChildren: false,
    /** Ids and names typed into the split and merge fields, by field. */
    typed: new Map(),
    /** The edit the preview answered for, ready to save. */
    planned: null,
    latest: 0,
  };

  const levelSelect = h('select', { dataset: { test: 'edit-level' }, 'aria-label': '编辑级别' },
    ...(ctx.levels.length ? ctx.levels : [1, 2, 3, 4, 5].map((level) => ({ level })))
      .map((l) => h('option', { value: l.level, selected: l.level === 4 }, l.name ?? `第${l.level}级`)));
  const effective = h('input', { type: 'date', dataset: { test: 'edit-effective' }, 'aria-label': '生效日期' });
  const reason = h('input', { type: 'text', maxlength: 500, placeholder: '调整原因（可选）', dataset: { test: 'edit-reason' } });
  const modeButtons = {
    move: h('button', { type: 'button', class: 'button', dataset: { test: 'edit-mode-move' } }, '移动顶点'),
    split: h('button', { type: 'button', class: 'button', dataset: { test: 'edit-mode-split' } }, '分割'),
    merge: h('button', { type: 'button', class: 'button', dataset: { test: 'edit-mode-merge' } }, '合并'),
  };
  const options = h('div', { class: 'edit-options', dataset: { test: 'edit-options' } });
  const preview = h('div', { class: 'edit-preview', dataset: { test: 'edit-preview', state: 'idle' } });
  const save = h('button', { type: 'button', class: 'button primary', disabled: true, dataset: { test: 'edit-save' } }, '保存');
  const discard = h('button', { type: 'button', class: 'button', dataset: { test: 'edit-discard' } }, '放弃');
  const load = h('button', { type: 'button', class: 'button', dataset: { test: 'edit-load' } }, '载入视野内网格');
  const loaded = h('p', { class: 'muted', dataset: { test: 'edit-loaded', count: '0' } },
    '选择级别后载入视野内的网格，再选择编辑方式。');

  body.append(
    h('div', { class: 'row' }, levelSelect, load),
    loaded,
    h('div', { class: 'row' }, modeButtons.move, modeButtons.split, modeButtons.merge),
    options,
    h('label', { class: 'field' }, '生效日期（空为立即）', effective),
    h('label', { class: 'field' }, '原因', reason),
    preview,
    h('div', { class: 'row' }, save, discard),
  );

  addLayers(map);

  // The grids loaded are of the old level: a move would name the new level
  // with the old level's vertices. Load again.
  levelSelect.addEventListener('change', () => {
    state.level = Number(levelSelect.value);
    state.grids = new Map();
    resetEdit(state);
    renderOptions(state, options);
    redraw(map, state);
    loaded.dataset.count = '0';
    loaded.textContent = '级别已改变，请重新载入视野内网格。';
    showPreview(preview, save, 'idle', modeHint(state.mode));
  });
  load.addEventListener('click', async () => {
    try {
      await reload(ctx, state, loaded, preview, save);
      renderOptions(state, options);
    } catch (error) {
      showRefusal(map, preview, save, error);
    }
  });
  for (const [mode, button] of Object.entries(modeButtons)) {
    button.addEventListener('click', () => {
      state.mode = mode;
      for (const [m, b] of Object.entries(modeButtons)) b.classList.toggle('active', m === mode);
      resetEdit(state);
      renderOptions(state, options);
      redraw(map, state);
      showPreview(preview, save, 'idle', modeHint(mode));
    });
  }
  modeButtons.move.classList.add('active');
  discard.addEventListener('click', () => {
    resetEdit(state);
    renderOptions(state, options);
    redraw(map, state);
    showPreview(preview, save, 'idle', '已放弃，未作任何修改。');
  });
  save.addEventListener('click', async () => {
    if (!state.planned) return;
    save.disabled = true;
    showPreview(preview, save, 'saving', '正在保存……');
    try {
      const body = { ...state.planned, ...when(effective, reason) };
      const answer = await api.editGrids(body, false);
      refreshGridTiles(map, answer.version);
      showPreview(preview, save, 'saved', answer.scheduled
        ? `已保存：将于 ${answer.effective_at} 生效（版本 ${answer.version}）。`
        : `已保存（版本 ${answer.version}），${answer.changed_grids.length} 个网格已更新。`,
      { version: String(answer.version), changed: answer.changed_grids.join(',') });
      await reload(ctx, state, loaded, null, save);
      renderOptions(state, options);
    } catch (error) {
      showRefusal(map, preview, save, error);
    }
  });

  // Previews are asked after every change to the edit; only the latest draws.
  const ask = async () => {
    const edit = currentEdit(state, options);
    if (!edit) return;
    const request = ++state.latest;
    state.planned = null;
    save.disabled = true;
    setIssues(map, []);
    showPreview(preview, save, 'asking', '正在检查……');
    const body = { version: state.version, edit, ...when(effective, reason) };
    try {
      const answer = await api.editGrids(body, true);
      if (request !== state.latest) return;
      state.planned = { version: state.version, edit };
      renderImpact(preview, save, answer);
    } catch (error) {
      if (request !== state.latest) return;
      showRefusal(map, preview, save, error);
    }
  };

  // The preview is of the edit as it would be saved, date and reason included.
  effective.addEventListener('change', () => ask());
  reason.addEventListener('change', () => ask());
  const active = () => panel.active === SECTION_ID;
  installDrag(map, state, options, ask);
  installPicking(map, state, options, ask, active);
  renderOptions(state, options, ask);
  state.ask = ask;
}

function modeHint(mode) {
  return {
    move: '拖动顶点：共用该顶点的网格一起移动。',
    split: '点选要分割的网格，再从边界到边界依次点出分割线，点“完成”。',
    merge: '依次点选两个或以上相邻的同级网格。',
  }[mode];
}

/** `effective` and `reason` of the form, when given. */
function when(effective, reason) {
  const out = {};
  if (effective.value) out.effective = effective.value;
  if (reason.value.trim()) out.reason = reason.value.trim();
  return out;
}

function resetEdit(state) {
  state.moves.clear();
  state.picked = [];
  state.line = [];
  state.lineDone = false;
  state.planned = null;
  state.typed.clear();
  state.latest += 1;
}

/** Load the grids of the level in view, and the version they are at. */
async function reload(ctx, state, loaded, preview, save) {
  const { map } = ctx;
  const b = map.getBounds();
  const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
    .map((v) => Math.round(v * 1e6) / 1e6).join(',');
  // The version first: grids read after it are at least as new, so an edit
  // drawn on them is at worst refused as stale, never planned on an older set.
  const health = await api.health();
  const grids = await api.gridsIn(state.level, bbox);
  state.version = health.grid_version;
  state.grids = new Map(grids.features.map((f) => [f.properties.id, f]));
  resetEdit(state);
  redraw(map, state);
  loaded.dataset.count = String(state.grids.size);
  loaded.dataset.version = String(state.version);
  loaded.textContent = `已载入第 ${state.level} 级网格 ${state.grids.size} 个（版本 ${state.version}）。`;
  if (preview) showPreview(preview, save, 'idle', modeHint(state.mode));
}

/** The edit as the API takes it, or null while it is incomplete. */
function currentEdit(state, options) {
  if (state.mode === 'move') {
    if (!state.moves.size) return null;
    return {
      op: 'move_vertices',
      level: state.level,
      moves: [...state.moves.values()].map((m) => ({ from: m.from, to: m.to })),
    };
  }
  const field = (name) => options.querySelector(`[data-test=${name}]`)?.value.trim() ?? '';
  if (state.mode === 'split') {
    if (state.picked.length !== 1 || state.line.length < 2 || !state.lineDone) return null;
    return {
      op: 'split',
      grid: state.picked[0],
      line: state.line,
      parts: [
        { id: field('edit-part-left-id'), name: field('edit-part-left-name') },
        { id: field('edit-part-right-id'), name: field('edit-part-right-name') },
      ],
      // Children the line crosses: cut too (each keeps its id on the left,
      // the right part gets the id with "-2"), or the split is refused.
      straddling: state.splitChildren ? 'split' : 'refuse',
    };
  }
  if (state.picked.length < 2) return null;
  return {
    op: 'merge',
    grids: state.picked,
    into: { id: field('edit-into-id'), name: field('edit-into-name') },
  };
}

function renderOptions(state, options, ask = state.ask) {
  // What the planner typed survives the re-render each click causes.
  const input = (test, value, label) => h('label', { class: 'field' }, label,
    h('input', {
      type: 'text', value: state.typed.get(test) ?? value, dataset: { test },
      oninput: (e) => state.typed.set(test, e.target.value),
      onchange: () => ask?.(),
    }));
  if (state.mode === 'split') {
    const grid = state.grids.get(state.picked[0]);
    const id = grid?.properties.id ?? '';
    const name = grid?.properties.name ?? '';
    const finish = h('button', {
      type: 'button', class: 'button', dataset: { test: 'edit-split-finish' },
      disabled: !grid || state.line.length < 2,
      onclick: () => { state.lineDone = true; ask?.(); },
    }, '完成分割线');
    replaceChildren(options,
      h('p', { class: 'muted', dataset: { test: 'edit-picked', ids: state.picked.join(',') } },
        grid ? `分割：${name}（${id}），已点 ${state.line.length} 点` : '点选要分割的网格'),
      // The left part keeps the grid's id (and so its code and leader)
      // unless the planner renames it; the right part is new.
      input('edit-part-left-id', id, '左侧网格编号'),
      input('edit-part-left-name', name, '左侧名称'),
      input('edit-part-right-id', id ? `${id}-2` : '', '右侧新网格编号'),
      input('edit-part-right-name', name ? `${name}二` : '', '右侧名称'),
      h('label', { class: 'field check' },
        h('input', {
          type: 'checkbox', checked: state.splitChildren, dataset: { test: 'edit-split-children' },
          onchange: (e) => { state.splitChildren = e.target.checked; ask?.(); },
        }),
        '分割线穿过的下级网格一并分割（否则拒绝）'),
      finish);
  } else if (state.mode === 'merge') {
    const first = state.grids.get(state.picked[0]);
    replaceChildren(options,
      h('p', { class: 'muted', dataset: { test: 'edit-picked', ids: state.picked.join(',') } },
        state.picked.length ? `合并：${state.picked.join('、')}` : '依次点选要合并的网格'),
      input('edit-into-id', first?.properties.id ?? '', '合并后编号'),
      input('edit-into-name', first?.properties.name ?? '', '合并后名称'));
  } else {
    replaceChildren(options, h('p', { class: 'muted', dataset: { test: 'edit-moves', count: String(state.moves.size) } },
      state.moves.size ? `已移动 ${state.moves.size} 个顶点` : `放大到 ${VERTEX_MIN_ZOOM} 级以上可拖动顶点`));
  }
}

function addLayers(map) {
  const empty = { type: 'FeatureCollection', features: [] };
  for (const id of [SOURCE, VERTICES, SKETCH, ISSUES]) map.addSource(id, { type: 'geojson', data: empty });
  map.addLayer({ id: 'edit-issues-fill', type: 'fill', source: ISSUES,
    paint: { 'fill-color': '#d7263d', 'fill-opacity': 0.45 } });
  map.addLayer({ id: 'edit-fill', type: 'fill', source: SOURCE,
    paint: { 'fill-color': ['case', ['boolean', ['get', 'picked'], false], '#f4a259', '#5b8e7d'],
      'fill-opacity': ['case', ['boolean', ['get', 'picked'], false], 0.35, 0.05] } });
  map.addLayer({ id: 'edit-outline', type: 'line', source: SOURCE,
    paint: { 'line-color': '#1d3557', 'line-width': 2.5 } });
  map.addLayer({ id: 'edit-sketch-line', type: 'line', source: SKETCH,
    paint: { 'line-color': '#e63946', 'line-width': 3, 'line-dasharray': [2, 1] } });
  map.addLayer({ id: 'edit-vertex', type: 'circle', source: VERTICES, minzoom: VERTEX_MIN_ZOOM,
    paint: { 'circle-radius': 6, 'circle-color': '#ffffff', 'circle-stroke-color': '#1d3557',
      'circle-stroke-width': 2 } });
}

/** The grids with the vertex moves applied. */
function working(state) {
  const move = (c) => state.moves.get(key(c))?.to ?? c;
  return [...state.grids.values()].map((f) => ({
    ...f,
    properties: { ...f.properties, picked: state.picked.includes(f.properties.id) },
    geometry: {
      type: f.geometry.type,
      coordinates: mapRings(f.geometry, (ring) => ring.map(move)),
    },
  }));
}

function mapRings(geometry, fn) {
  return geometry.type === 'Polygon'
    ? geometry.coordinates.map(fn)
    : geometry.coordinates.map((polygon) => polygon.map(fn));
}

function rings(geometry) {
  return geometry.type === 'Polygon' ? geometry.coordinates : geometry.coordinates.flat();
}

/** A coordinate as a map key: exactly as stored. */
function key([lon, lat]) {
  return `${lon},${lat}`;
}

function redraw(map, state) {
  const features = working(state);
  map.getSource(SOURCE).setData({ type: 'FeatureCollection', features });
  const vertices = new Map();
  if (state.mode === 'move') {
    for (const f of state.grids.values()) {
      for (const ring of rings(f.geometry)) {
        for (const c of ring) vertices.set(key(c), c);
      }
    }
  }
  map.getSource(VERTICES).setData({
    type: 'FeatureCollection',
    features: [...vertices.values()].map((c) => ({
      type: 'Feature',
      properties: { from: key(c) },
      geometry: { type: 'Point', coordinates: state.moves.get(key(c))?.to ?? c },
    })),
  });
  map.getSource(SKETCH).setData({
    type: 'FeatureCollection',
    features: state.line.length >= 2
      ? [{ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: state.line } }]
      : [],
  });
}

function setIssues(map, geometries) {
  map.getSource(ISSUES).setData({
    type: 'FeatureCollection',
    features: geometries.filter(Boolean).map((geometry) => ({ type: 'Feature', properties: {}, geometry })),
  });
}

/** Dragging a vertex: press on it, move, release; then the preview. */
function installDrag(map, state, options, ask) {
  let dragging = null;
  map.on('mousedown', 'edit-vertex', (event) => {
    if (state.mode !== 'move' || !event.features?.length) return;
    event.preventDefault();
    const from = event.features[0].properties.from;
    const stored = findVertex(state, from);
    if (!stored) return;
    dragging = { from: stored };
    map.dragPan.disable();
    map.getCanvas().style.cursor = 'grabbing';
  });
  map.on('mousemove', (event) => {
    if (!dragging) return;
    const { lng, lat } = event.lngLat;
    state.moves.set(key(dragging.from), { from: dragging.from, to: [round(lng), round(lat)] });
    redraw(map, state);
  });
  // On the window: a release outside the map still ends the drag.
  window.addEventListener('mouseup', () => {
    if (!dragging) return;
    dragging = null;
    map.dragPan.enable();
    map.getCanvas().style.cursor = '';
    renderOptions(state, options, ask);
    ask();
  });
  map.on('mouseenter', 'edit-vertex', () => { if (state.mode === 'move') map.getCanvas().style.cursor = 'grab'; });
  map.on('mouseleave', 'edit-vertex', () => { if (!dragging) map.getCanvas().style.cursor = ''; });
}

function findVertex(state, from) {
  for (const f of state.grids.values()) {
    for (const ring of rings(f.geometry)) {
      for (const c of ring) if (key(c) === from) return c;
    }
  }
  return null;
}

/** Clicks that pick grids (split, merge) and draw the split line. */
function installPicking(map, state, options, ask, active) {
  map.on('click', (event) => {
    // Only while the editing tab is open: elsewhere the click is the grid info's.
    if (!active() || state.mode === 'move' || !state.grids.size || event.defaultPrevented) return;
    // The other features (the grid info) leave this click alone.
    event.preventDefault();
    const { lng, lat } = event.lngLat;
    if (state.mode === 'split' && state.picked.length === 1) {
      if (state.lineDone) return;
      state.line.push(snap(map, state.grids.get(state.picked[0]), event.point, [round(lng), round(lat)]));
      renderOptions(state, options, ask);
      redraw(map, state);
      return;
    }
    const hit = map.queryRenderedFeatures(event.point, { layers: ['edit-fill'] })[0];
    if (!hit) return;
    const id = hit.properties.id;
    if (state.mode === 'split') {
      // Another grid: its own ids and names, not those typed for the last.
      if (state.picked[0] !== id) state.typed.clear();
      state.picked = [id];
    } else if (!state.picked.includes(id)) {
      state.picked = [...state.picked, id];
    }
    renderOptions(state, options, ask);
    redraw(map, state);
    if (state.mode === 'merge') ask();
  });
}

/** The click's point, or the nearest point of the grid's border within SNAP_PX. */
function snap(map, grid, pixel, lonLat) {
  let best = null;
  for (const ring of rings(grid.geometry)) {
    for (let i = 0; i + 1 < ring.length; i += 1) {
      const a = map.project(ring[i]);
      const b = map.project(ring[i + 1]);
      const dx = b.x - a.x;
      const dy = b.y - a.y;
      const len2 = dx * dx + dy * dy;
      const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((pixel.x - a.x) * dx + (pixel.y - a.y) * dy) / len2));
      const px = a.x + t * dx;
      const py = a.y + t * dy;
      const d = Math.hypot(pixel.x - px, pixel.y - py);
      if (d <= SNAP_PX && (!best || d < best.d)) {
        // A vertex when the nearest point is one; else the point on the edge.
        const at = t === 0 ? ring[i] : t === 1 ? ring[i + 1] : map.unproject([px, py]).toArray();
        best = { d, at };
      }
    }
  }
  return best ? best.at : lonLat;
}

/** Seven decimals: about 1 cm. */
function round(degrees) {
  return Math.round(degrees * 1e7) / 1e7;
}

function showPreview(preview, save, state, text, data = {}) {
  preview.dataset.state = state;
  for (const k of ['changed', 'incidents', 'hazards', 'routes', 'version', 'problems']) delete preview.dataset[k];
  Object.assign(preview.dataset, data);
  preview.classList.toggle('error', state === 'refused');
  replaceChildren(preview, h('p', {}, text));
  if (state !== 'ok') save.disabled = true;
}

function renderImpact(preview, save, answer) {
  const { impact } = answer;
  const lines = [
    `涉及网格：${answer.changed_grids.join('、')}`,
    `迁移事件 ${impact.incidents.length} 件、隐患 ${impact.hazards.length} 处、巡查路线 ${impact.routes.length} 条`,
    ...impact.grids.map((g) => `${g.id}：面积 ${fmtArea(g.area_m2_before)} → ${fmtArea(g.area_m2_after)}${fmtChange(g)}，人口 ${g.population_before ?? '—'} → ${g.population_after ?? '—'}`),
    ...impact.leaders.map((l) => `${l.leader ?? l.grid}：在办事件 ${l.gains ? `+${l.gains}` : ''}${l.loses ? ` −${l.loses}` : ''}`),
  ];
  if (answer.scheduled) lines.push(`定于 ${answer.effective_at} 生效`);
  showPreview(preview, save, 'ok', '', {
    changed: answer.changed_grids.join(','),
    incidents: String(impact.incidents.length),
    hazards: String(impact.hazards.length),
    routes: String(impact.routes.length),
  });
  replaceChildren(preview, h('p', { class: 'edit-ok' }, '检查通过，可以保存：'),
    h('ul', {}, ...lines.map((l) => h('li', {}, l))));
  save.disabled = false;
}

/** The area a grid gains or loses, m² (small moves vanish in km²). */
function fmtChange(g) {
  if (g.area_m2_before == null || g.area_m2_after == null) return '';
  const d = Math.round(g.area_m2_after - g.area_m2_before);
  return d === 0 ? '' : `（${d > 0 ? '+' : '−'}${Math.abs(d).toLocaleString('zh-CN')} m²）`;
}

function fmtArea(m2) {
  return m2 == null ? '—' : `${(m2 / 1e6).toFixed(3)} km²`;
}

/** A refused edit: the reason, and every problem drawn on the map. */
function showRefusal(map, preview, save, error) {
  const problem = error.problem ?? {};
  const geometries = [
    ...(problem.issues ?? []).map((i) => i.geometry),
    ...(problem.gaps ?? []).map((g) => g.uncovered),
    ...(problem.slivers ?? []).map((s) => s.part),
  ];
  setIssues(map, geometries);
  showPreview(preview, save, 'refused', error.message, { problems: String(geometries.filter(Boolean).length) });
  const issues = (problem.issues ?? []).map((i) => `${i.feature}：${i.message}`);
  if (issues.length) preview.append(h('ul', {}, ...issues.map((t) => h('li', {}, t))));
}

/** Make MapLibre fetch the grid and label tiles again after a change. */
function refreshGridTiles(map, version) {
  for (const id of ['grids', 'labels']) {
    const source = map.getSource(id);
    if (!source?.setUrl) continue;
    const url = new URL(`tiles/${id}.json`, document.baseURI);
    url.searchParams.set('v', String(version));
    source.setUrl(url.href);
  }
}
