// 巡查巡更: a grid leader's patrol planning and follow-up.
//
// 1. Pick the start on the map: the basic grid there becomes the patrol's
//    grid, and its hazards are drawn (coloured by risk, ringed when due;
//    before that, the hazards in view from zoom 13).
// 2. Plan a day patrol or night watch (POST /api/patrol-plans): the route
//    along the roads and its numbered stops; adjust the order or drop stops.
// 3. Save it (POST or PUT /api/routes): the server draws the way again.
// 4. Start a patrol; on a phone its positions are sent as the live track
//    (livetrack.js, kept on the device while offline), or a GPS track is
//    uploaded (GPX or GeoJSON); see which stops were visited and missed,
//    finish it, replay it over the route.
// 5. The grid's coverage this week: inspections required and made, missed.
//
// Installed before the grid info feature: the click that picks the start is
// taken here (preventDefault).

import { Marker } from 'maplibre-gl';

import * as api from '../../api.js';
import { h, replaceChildren, when } from '../../dom.js';
import { addPatrolLayers, HAZARD_LAYER, RISK_COLOURS, RISK_NAMES } from './layers.js';
import { SECTION_ID as EDITING_SECTION } from '../editing.js';
import { createLiveTrack } from './livetrack.js';

export const SECTION_ID = 'patrols';

const HAZARD_STATUS = { open: '未整改', mitigated: '已采取措施', closed: '已销号' };
const DAY_MS = 86_400_000;
/** Where the patrol in progress on this device is remembered. */
const RUNNING_KEY = 'wangge.runningPatrol';
/** The worst position accuracy a check-in accepts, metres. */
const ACCURACY_M = 50;

/** The device's position now (high accuracy, at most 20 s), or a clear error. */
function locateDevice() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) {
      reject(new Error('此设备不支持定位。'));
      return;
    }
    navigator.geolocation.getCurrentPosition(resolve, (error) => {
      const why = { 1: '未允许使用位置', 2: '无法获取位置', 3: '定位超时' }[error.code] ?? '定位失败';
      reject(new Error(`${why}：请在浏览器中允许定位并到开阔处重试。`));
    }, { enableHighAccuracy: true, timeout: 20_000, maximumAge: 0 });
  });
}

/** A time of day as the county writes it: 24-hour, zh-CN (14:05:09). */
function clock(rfc3339) {
  return new Date(rfc3339).toLocaleTimeString('zh-CN', { hour12: false });
}

export function install(ctx) {
  const { map, panel } = ctx;
  const body = panel.addSection({ id: SECTION_ID, title: '巡查巡更', order: 20 });
  const layers = addPatrolLayers(map);
  const startMarker = new Marker({ color: '#6a3d9a', scale: 0.8 });
  const replayMarker = new Marker({ color: '#2ca02c', scale: 0.6 });
  replayMarker.getElement().dataset.test = 'replay-marker';

  // What the panel is working on.
  const state = { grid: null, start: null, plan: null, stops: [], route: null, patrol: null };

  const field = (label, input) => h('label', { class: 'field' }, h('span', {}, label), input);
  const pickButton = h('button', { type: 'button', class: 'action', dataset: { test: 'patrol-pick' } },
    '点选起点（确定网格）');
  const gridLine = h('p', { class: 'muted', dataset: { test: 'patrol-grid' } }, '尚未选择网格。');
  const shift = h('select', { dataset: { test: 'patrol-shift' } },
    h('option', { value: 'day' }, '白天巡查'), h('option', { value: 'night' }, '夜间巡更'));
  const mode = h('select', { dataset: { test: 'patrol-mode' } },
    h('option', { value: 'walk' }, '步行'), h('option', { value: 'drive' }, '驾车'));
  const maxMinutes = h('input', { type: 'number', min: '10', step: '10', placeholder: '不限',
    dataset: { test: 'patrol-max-minutes' } });
  const planButton = h('button', { type: 'button', class: 'action', disabled: true,
    dataset: { test: 'patrol-plan' } }, '生成路线');
  const hazardsView = h('div', { dataset: { test: 'patrol-hazards' } });
  const hazardPanel = h('section', { class: 'hazard-panel', hidden: true, 'aria-label': '隐患详情',
    dataset: { test: 'hazard-panel' } });
  const routeView = h('div', { dataset: { test: 'patrol-route' } });
  const nameInput = h('input', { type: 'text', placeholder: '路线名称', dataset: { test: 'route-name' } });
  const assignees = h('input', { type: 'text', placeholder: '网格员，逗号分隔', dataset: { test: 'route-assignees' } });
  const saveButton = h('button', { type: 'button', class: 'action', disabled: true,
    dataset: { test: 'route-save' } }, '保存路线');
  // A patrol is walked by whoever starts it: the server records the
  // logged-in user, so the form shows who that is rather than asking.
  const user = ctx.session.user;
  const member = h('span', { dataset: { test: 'patrol-member', login: user.login } },
    user.display_name ? `${user.display_name}（${user.login}）` : user.login);
  const startButton = h('button', { type: 'button', class: 'action', disabled: true,
    dataset: { test: 'patrol-start' } }, '开始巡查');
  const trackFile = h('input', { type: 'file', accept: '.gpx,.geojson,.json', disabled: true,
    dataset: { test: 'patrol-track-file' } });
  const refreshButton = h('button', { type: 'button', disabled: true, dataset: { test: 'patrol-refresh' } }, '刷新');
  const finishButton = h('button', { type: 'button', disabled: true, dataset: { test: 'patrol-finish' } }, '结束巡查');
  const replayButton = h('button', { type: 'button', disabled: true, dataset: { test: 'patrol-replay' } }, '回放');
  const checkInButton = h('button', { type: 'button', class: 'action big', disabled: true,
    dataset: { test: 'patrol-checkin' } }, '到点打卡');
  const liveView = h('p', { class: 'muted live-track', hidden: true, role: 'status', dataset: { test: 'live-track' } });
  const checkInView = h('div', { class: 'checkin', role: 'status', dataset: { test: 'patrol-checkin-status' } });
  // A photo for the next check-in: the phone's camera, or its gallery.
  const photoInput = h('input', { type: 'file', accept: 'image/jpeg,image/png,image/webp',
    capture: 'environment', disabled: true, dataset: { test: 'patrol-photo' } });
  const confirmView = h('div', { class: 'confirm', dataset: { test: 'patrol-confirm' } });
  const myRoutes = h('div', { dataset: { test: 'patrol-my-routes' } });
  const patrolView = h('div', { dataset: { test: 'patrol-view' } });
  const coverageView = h('div', { class: 'coverage', dataset: { test: 'patrol-coverage' } });
  const message = h('p', { class: 'message', dataset: { test: 'patrol-message' } });

  body.append(
    hazardPanel,
    pickButton, gridLine,
    h('div', { class: 'patrol-options' }, field('班次', shift), field('方式', mode), field('最长（分钟）', maxMinutes)),
    planButton, message, hazardsView, routeView,
    h('h2', { class: 'section-heading' }, '保存'), field('名称', nameInput), field('分配给', assignees), saveButton,
    h('h2', { class: 'section-heading' }, '巡查执行'), field('巡查人', member), myRoutes,
    h('div', { class: 'patrol-actions' }, startButton, checkInButton, refreshButton, finishButton, replayButton),
    liveView, field('打卡照片（可选）', photoInput), checkInView, confirmView,
    field('上传轨迹（GPX / GeoJSON）', trackFile), patrolView,
    h('h2', { class: 'section-heading' }, '本周覆盖'), coverageView);

  const say = (text, error = false) => {
    message.textContent = text ?? '';
    message.classList.toggle('error', error);
  };
  // Run a user's action: errors are shown, and `button` (if any) is
  // disabled while it runs so a double click does not do it twice.
  const guard = (work, button = null) => async (...args) => {
    if (button) button.disabled = true;
    try {
      say('');
      await work(...args);
    } catch (error) {
      say(error.message, true);
    } finally {
      // Back on unless the work itself switched it off (see `enable`).
      if (button) button.disabled = switchedOff.has(button);
    }
  };
  const patrolButtons = [trackFile, checkInButton, photoInput, refreshButton, finishButton, replayButton];
  const switchedOff = new Set();
  const enable = (buttons, on) => {
    for (const b of buttons) {
      b.disabled = !on;
      if (on) switchedOff.delete(b);
      else switchedOff.add(b);
    }
  };

  enable([planButton, saveButton, startButton, ...patrolButtons], false);

  // 1. Picking the start and the grid.
  let picking = false;
  const setPicking = (on) => {
    picking = on;
    pickButton.classList.toggle('active', on);
    map.getCanvas().style.cursor = on ? 'crosshair' : '';
  };
  pickButton.addEventListener('click', () => setPicking(!picking));
  map.on('click', (event) => {
    // A feature installed before this one (incidents) took the click.
    if (event.defaultPrevented) return;
    if (!picking) {
      // A hazard's own panel (when hazards are drawn), except while
      // boundaries are edited: there every click belongs to the edit.
      const shown = map.getLayoutProperty(HAZARD_LAYER, 'visibility') !== 'none'
        && panel.active !== EDITING_SECTION;
      const hit = shown && map.queryRenderedFeatures(event.point, { layers: [HAZARD_LAYER] })[0];
      if (!hit) return;
      event.preventDefault();
      panel.show(SECTION_ID);
      guard(() => showHazard(hit))();
      return;
    }
    event.preventDefault();
    setPicking(false);
    const { lng, lat } = event.lngLat.wrap();
    guard(() => pickStart(round(lng), round(lat)))();
  });

  // Each pick starts a new piece of work; answers for an older pick or
  // plan are not drawn.
  let turn = 0;
  async function pickStart(lon, lat) {
    const mine = ++turn;
    const answer = await api.locate(lon, lat);
    if (mine !== turn) return;
    const grid = answer.chain.find((g) => g.level === 4) ?? answer.chain.at(-1);
    if (!grid) throw new Error('该位置不在本县任何网格内。');
    reset();
    state.grid = grid;
    state.start = [lon, lat];
    startMarker.setLngLat(state.start).addTo(map);
    gridLine.textContent = `${grid.name}（${grid.id}）`;
    gridLine.dataset.gridId = grid.id;
    enable([planButton], true);
    await loadHazards();
    await loadCoverage();
  }

  /** Forget the plan, route and patrol of an earlier pick. */
  function reset() {
    Object.assign(state, { grid: null, start: null, plan: null, stops: [], route: null, patrol: null });
    clearInterval(replayTimer);
    replayMarker.remove();
    layers.route(null);
    layers.stops(null);
    layers.track(null);
    for (const view of [hazardsView, routeView, patrolView, coverageView]) replaceChildren(view);
    delete routeView.dataset.routeId;
    enable([saveButton, startButton, ...patrolButtons], false);
  }

  async function loadHazards() {
    const mine = turn;
    const fc = await api.hazards({ grid: state.grid.id, status: 'open,mitigated' });
    if (mine !== turn) return;
    layers.hazards(fc);
    const due = fc.features.filter((f) => f.properties.due);
    replaceChildren(hazardsView,
      h('p', { dataset: { test: 'patrol-due-count', due: String(due.length) } },
        `本网格隐患 ${fc.features.length} 处，今日到期 ${due.length} 处。`),
      h('ul', { class: 'hazard-list' }, due.map((f) => h('li', {},
        h('span', { class: 'risk-dot', style: `background:${RISK_COLOURS[f.properties.risk]}` }),
        `${f.properties.name}（${RISK_NAMES[f.properties.risk]}）`))));
  }

  // Before a grid is picked, the hazards in view are drawn from zoom 13
  // (the whole register is a few thousand points: too many for a county view).
  const VISIBLE_ZOOM = 13;
  let visibleRequest = 0;
  map.on('moveend', async () => {
    if (state.grid) return;
    const mine = ++visibleRequest;
    if (map.getZoom() < VISIBLE_ZOOM) {
      layers.hazards(null);
      return;
    }
    const b = map.getBounds();
    try {
      const fc = await api.hazards({
        bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(round).join(','),
      });
      if (mine === visibleRequest && !state.grid) layers.hazards(fc);
    } catch (error) {
      console.warn('hazards in view', error);
    }
  });

  // 2. Planning and adjusting.
  planButton.addEventListener('click', guard(async () => {
    const mine = turn;
    const minutes = Number(maxMinutes.value);
    const doc = await api.planRoute({
      grid: state.grid.id, shift: shift.value, mode: mode.value, start: state.start,
      max_duration_min: minutes > 0 ? minutes : undefined,
    });
    if (mine !== turn) return;
    // A new plan is a new route: what was saved or walked before stays as it was.
    state.plan = doc;
    state.route = null;
    state.patrol = null;
    delete routeView.dataset.routeId;
    enable([startButton, ...patrolButtons], false);
    takeStops(doc);
    nameInput.value = doc.features[0].properties.name;
    showRoute(doc);
    enable([saveButton], state.stops.length > 0);
  }, planButton));

  function showRoute(doc, { adjusted = false } = {}) {
    const props = doc.features[0].properties;
    layers.route(adjusted ? null : doc.features[0]);
    if (!adjusted) zoomTo(doc.features[0].geometry.coordinates);
    layers.stops(doc.features.slice(1));
    const km = (props.length_m / 1000).toFixed(1);
    const minutes = Math.round(props.duration_s / 60);
    const offRoad = adjusted ? 0 : (props.legs_off_road ?? []).filter(Boolean).length;
    replaceChildren(routeView,
      h('p', { dataset: { test: 'route-summary', stops: String(state.stops.length), offRoad: String(offRoad) } },
        adjusted ? `已调整：${state.stops.length} 个点位（保存后重新规划路径）`
          : `${state.stops.length} 个点位，${km} 公里，约 ${minutes} 分钟${props.on_roads ? '' : '（直线距离）'}`
            + (offRoad > 0 ? `，其中 ${offRoad} 段离开道路（图上虚线）` : '')),
      (doc.notices ?? []).map((n) => h('p', { class: 'muted notice' }, n)),
      h('ol', { class: 'stop-list', dataset: { test: 'route-stops' } }, state.stops.map((s, k) => h('li', {
        dataset: { hazard: String(s.hazard ?? '') } },
      `${s.name}${s.risk ? `（${RISK_NAMES[s.risk]}）` : ''}`,
      h('button', { type: 'button', title: '上移', disabled: k === 0, onclick: () => move(k, -1) }, '↑'),
      h('button', { type: 'button', title: '下移', disabled: k === state.stops.length - 1, onclick: () => move(k, 1) }, '↓'),
      h('button', { type: 'button', title: '移除', onclick: () => drop(k) }, '✕')))));
  }

  function adjusted() {
    const features = state.stops.map((s, k) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: s.location },
      properties: { ...s, order: k + 1 },
    }));
    showRoute({ features: [state.plan.features[0], ...features], notices: [] }, { adjusted: true });
  }
  function move(k, by) {
    const [stop] = state.stops.splice(k, 1);
    state.stops.splice(k + by, 0, stop);
    adjusted();
  }
  function drop(k) {
    state.stops.splice(k, 1);
    adjusted();
    enable([saveButton], state.stops.length > 0);
  }

  // The stops of a planned or saved route, with their places (for
  // redrawing while adjusting, and for saving key points).
  function takeStops(doc) {
    state.stops = doc.features.slice(1)
      .map((f) => ({ ...f.properties, location: f.geometry.coordinates }));
  }

  // 3. Saving.
  saveButton.addEventListener('click', guard(async () => {
    const props = state.plan.features[0].properties;
    const doc = await api.saveRoute(state.route?.id ?? null, {
      version: state.route?.version,
      name: nameInput.value.trim() || props.name,
      grid: props.grid,
      shift: props.shift,
      mode: props.mode,
      start: props.start,
      stops: state.stops.map((s) => (s.hazard != null ? { hazard: s.hazard }
        : { name: s.name, location: s.location })),
      assignees: assignees.value.split(/[,，]/).map((a) => a.trim()).filter(Boolean),
    });
    state.plan = doc;
    const saved = doc.features[0];
    state.route = { id: saved.id, version: saved.properties.version };
    takeStops(doc);
    showRoute(doc);
    routeView.dataset.routeId = String(saved.id);
    say(`路线已保存（编号 ${saved.id}）。`);
    enable([startButton], true);
  }, saveButton));

  // 4. Patrols. The patrol in progress is remembered on this device, so a
  // reload (or a phone that dropped the page) comes back to it.
  // While the member's own patrol runs here, the phone's positions are its
  // track (livetrack.js: kept on the device until the server has them).
  const live = createLiveTrack({
    onSent: (patrol) => {
      if (state.patrol?.id === patrol.id) showPatrol(patrol);
    },
    onState: ({ patrol, kept, waiting, error }) => {
      liveView.hidden = patrol === null;
      Object.assign(liveView.dataset, { kept: String(kept), waiting: String(waiting) });
      replaceChildren(liveView, `实时轨迹：已记录 ${kept} 个位置，${waiting ? `${waiting} 个待上传` : '均已上传'}。`,
        error ? h('span', { class: 'error' }, ` ${error}`) : null);
    },
  });
  const begin = async (routeId) => {
    const patrol = await api.startPatrol(routeId, {});
    localStorage.setItem(RUNNING_KEY, String(patrol.id));
    showPatrol(patrol);
    enable(patrolButtons, true);
    live.start(patrol.id);
  };
  startButton.addEventListener('click', guard(() => begin(state.route.id), startButton));
  restoreRunning();
  listMyRoutes();

  async function restoreRunning() {
    const id = Number(localStorage.getItem(RUNNING_KEY));
    if (!id) return;
    let patrol;
    try {
      patrol = await api.patrol(id);
    } catch (error) {
      // Gone or not ours: forget it. Offline or a server error: keep it,
      // the next load will try again.
      if (error.status === 404 || error.status === 403) {
        localStorage.removeItem(RUNNING_KEY);
      } else {
        // Offline (or the server is down): keep recording the track on the
        // device, and show the patrol once the server answers again.
        say(`无法恢复进行中的巡查 #${id}：${error.message}；轨迹仍在本机记录。`, true);
        live.start(id);
        window.addEventListener('wangge-network', (event) => {
          if (event.detail.online && !state.patrol) restoreRunning();
        }, { once: true });
      }
      return;
    }
    {
      if (patrol.status !== 'active' || patrol.member !== user.login) {
        localStorage.removeItem(RUNNING_KEY);
        return;
      }
      showPatrol(patrol);
      enable(patrolButtons, true);
      live.start(patrol.id);
      say(`已恢复进行中的巡查 #${patrol.id}。`);
      // Straight back to it (on a phone the sheet comes up).
      panel.show(SECTION_ID);
    }
  }

  // A member or leader bound to a grid sees its saved routes, to start one.
  async function listMyRoutes() {
    const grid = user.scope?.startsWith('grid:') ? user.scope.slice('grid:'.length) : null;
    if (!grid || !ctx.may('patrol')) return;
    try {
      const doc = await api.routes(grid);
      const saved = doc.features.filter((f) => f.properties.kind === 'route' || f.geometry?.type === 'LineString');
      replaceChildren(myRoutes, saved.length === 0 ? h('p', { class: 'muted' }, '本网格暂无已保存的路线。')
        : h('ul', { class: 'my-routes' }, saved.map((f) => h('li', { dataset: { test: 'my-route', routeId: String(f.id) } },
          h('span', {}, `${f.properties.name}（${(f.properties.length_m / 1000).toFixed(1)} 公里，${f.properties.stops} 个点位）`),
          h('div', { class: 'row' },
            h('button', {
              type: 'button', class: 'action', dataset: { test: 'my-route-start' },
              onclick: guard(async () => {
                state.route = { id: f.id, version: f.properties.version };
                layers.route(f);
                zoomTo(f.geometry.coordinates);
                await begin(f.id);
              }),
            }, '开始巡查'),
            h('button', {
              type: 'button', class: 'action secondary', dataset: { test: 'my-route-history' },
              onclick: guard(() => listPastPatrols(f)),
            }, '历次巡查')),
          h('div', { class: 'past-patrols', dataset: { test: 'past-patrols', routeId: String(f.id) } })))));
    } catch (error) {
      replaceChildren(myRoutes, h('p', { class: 'error' }, error.message));
    }
  }

  // A hazard's panel: what it is, when it is due, and its inspections of
  // the last 90 days (who, when, how close, the check-in's photo).
  async function showHazard(feature) {
    const id = feature.id ?? feature.properties.id;
    const from = new Date(Date.now() - 90 * DAY_MS).toISOString();
    replaceChildren(hazardPanel, h('p', { class: 'muted' }, '正在读取隐患……'));
    hazardPanel.hidden = false;
    // Read again: the map's copy may predate the last inspection.
    const [fresh, inspections] = await Promise.all([api.hazard(id), api.hazardInspections(id, { from })]);
    const p = fresh.properties;
    const shifts = { day: '白天巡查', night: '夜间巡更' };
    replaceChildren(hazardPanel,
      h('div', { class: 'row hazard-title' },
        h('h3', {}, h('span', { class: 'risk-dot', style: `background:${RISK_COLOURS[p.risk]}` }), p.name),
        h('button', { type: 'button', class: 'action secondary', onclick: () => { hazardPanel.hidden = true; } }, '关闭')),
      h('dl', { class: 'hazard-facts' },
        h('dt', {}, '风险等级'), h('dd', {}, `${RISK_NAMES[p.risk] ?? p.risk}风险`),
        h('dt', {}, '类别'), h('dd', {}, p.category_name ?? p.category),
        h('dt', {}, '状态'), h('dd', {}, HAZARD_STATUS[p.status] ?? p.status),
        h('dt', {}, '检查周期'), h('dd', {}, `每 ${p.interval_days} 天`),
        h('dt', {}, '上次检查'), h('dd', {}, p.last_inspected_at ? when(p.last_inspected_at) : '从未检查'),
        h('dt', {}, '下次到期'), h('dd', { dataset: { due: String(Boolean(p.due)) } },
          `${when(p.due_at)}${p.due ? '（已到期）' : ''}`)),
      h('h4', {}, `近 90 天检查 ${inspections.length} 次`),
      inspections.length === 0 ? h('p', { class: 'muted' }, '近 90 天没有巡查到过这里。')
        : h('ol', { class: 'inspection-list', dataset: { test: 'hazard-inspections' } }, inspections.map((i) => h('li', {
          dataset: { patrolId: String(i.patrol) } },
        `${when(i.visited_at)} ${i.member}（${shifts[i.shift] ?? i.shift}，巡查 #${i.patrol}`
          + `${i.closest_m === null ? '' : `，距点位 ${Math.round(i.closest_m)} 米`}）`,
        i.photo_url ? h('a', { href: i.photo_url, target: '_blank', rel: 'noopener' }, '照片') : null))));
    hazardPanel.dataset.hazardId = String(id);
    hazardPanel.scrollIntoView?.({ block: 'nearest' });
  }

  // A saved route's patrols of the last 90 days, newest first: who walked
  // it, when, how many stops were reached; one opens for replay.
  async function listPastPatrols(route) {
    const view = myRoutes.querySelector(`[data-test=past-patrols][data-route-id="${route.id}"]`);
    const from = new Date(Date.now() - 90 * DAY_MS).toISOString();
    const { patrols } = await api.patrols({ route: route.id, from });
    const newest = [...patrols].sort((a, b) => b.started_at.localeCompare(a.started_at));
    replaceChildren(view, newest.length === 0 ? h('p', { class: 'muted' }, '近 90 天没有巡查记录。')
      : h('ul', { class: 'past-list' }, newest.map((p) => h('li', {
        dataset: { test: 'past-patrol', patrolId: String(p.id), status: p.status, visited: String(p.visited) },
      },
      h('span', {}, `${when(p.started_at)} ${p.member}：${p.status === 'finished' ? '已结束' : '进行中'}，`
        + `到 ${p.visited}/${p.stops} 个点位，轨迹 ${(p.track_m / 1000).toFixed(2)} 公里`),
      h('button', {
        type: 'button', class: 'action secondary', dataset: { test: 'past-patrol-open' },
        onclick: guard(async () => {
          const patrol = await api.patrol(p.id);
          state.route = { id: route.id, version: route.properties.version };
          layers.route(route);
          zoomTo(route.geometry.coordinates);
          showPatrol(patrol);
          // Someone else's or a finished patrol is for looking back only.
          const mine = patrol.status === 'active' && patrol.member === user.login;
          enable([trackFile, checkInButton, photoInput, refreshButton, finishButton], mine);
          enable([replayButton], true);
          replay(patrol);
        }),
      }, '查看回放')))));
  }

  // Check-in where the phone is: its position must be good to ACCURACY_M
  // metres, or the check-in is refused here (a stop is visited within 30 m).
  checkInButton.addEventListener('click', guard(async () => {
    try {
      await checkIn();
    } catch (error) {
      replaceChildren(checkInView, h('p', { class: 'error', role: 'alert', dataset: { test: 'checkin-error' } },
        `打卡未成功：${error.message}`));
    }
  }, checkInButton));

  async function checkIn() {
    replaceChildren(checkInView, h('p', { class: 'muted' }, '正在定位……'));
    // The live track's own fix when it is fresh (at most 5 s old).
    const position = live.latest(5_000) ?? await locateDevice();
    const accuracy = Math.round(position.coords.accuracy);
    if (!(accuracy <= ACCURACY_M)) {
      replaceChildren(checkInView, h('p', { class: 'error', dataset: { test: 'checkin-refused' } },
        `定位精度 ±${accuracy} 米，需在 ±${ACCURACY_M} 米以内才能打卡；请到开阔处稍候再试。`));
      return;
    }
    const point = [round(position.coords.longitude), round(position.coords.latitude)];
    const body = { point, time: new Date(position.timestamp).toISOString() };
    // The photo goes first: the check-in names it by its address.
    let photo = null;
    const file = photoInput.files?.[0];
    if (file) {
      replaceChildren(checkInView, h('p', { class: 'muted' }, '正在上传照片……'));
      photo = await api.uploadPhoto(file);
      body.photo_url = new URL(photo.url, document.baseURI).href;
    }
    const patrol = await api.checkIn(state.patrol.id, body);
    photoInput.value = '';
    showPatrol(patrol);
    replaceChildren(checkInView,
      h('p', { dataset: { test: 'checkin-done', accuracy: String(accuracy) } },
        `已打卡：${point[0].toFixed(5)}, ${point[1].toFixed(5)}（定位精度 ±${accuracy} 米）`),
      photo ? h('img', { class: 'checkin-photo', src: photo.thumbnail_url, alt: '打卡照片',
        width: 160, dataset: { test: 'checkin-photo', photoToken: photo.token } }) : null);
  }

  trackFile.addEventListener('change', guard(async () => {
    const file = trackFile.files?.[0];
    if (!file) return;
    try {
      showPatrol(await api.uploadTrack(state.patrol.id, await file.text()));
    } finally {
      // Choosing the same file again (after an error) must fire again.
      trackFile.value = '';
    }
    await Promise.all([loadHazards(), loadCoverage()]);
  }));
  refreshButton.addEventListener('click', guard(async () => {
    showPatrol(await api.patrol(state.patrol.id));
    await Promise.all([loadHazards(), loadCoverage()]);
  }, refreshButton));
  // Finishing cannot be undone (stops not reached become missed): ask first.
  finishButton.addEventListener('click', () => {
    const pending = state.patrol.visits.filter((v) => !v.visited_at).length;
    const yes = h('button', { type: 'button', class: 'action', dataset: { test: 'patrol-finish-confirm' } }, '确认结束');
    const no = h('button', { type: 'button', class: 'action secondary', onclick: () => replaceChildren(confirmView) }, '继续巡查');
    yes.addEventListener('click', guard(async () => {
      replaceChildren(confirmView);
      // What the phone recorded goes first: the finished patrol takes no more.
      const left = await live.flush();
      if (left > 0) {
        throw new Error(`还有 ${left} 个轨迹位置未上传，请联网后再结束巡查。`);
      }
      showPatrol(await api.finishPatrol(state.patrol.id));
      live.stop();
      localStorage.removeItem(RUNNING_KEY);
      localStorage.removeItem(`wangge.track.${state.patrol.id}`);
      await Promise.all([loadHazards(), loadCoverage()]);
      // A finished patrol takes nothing more; replay stays.
      enable([trackFile, checkInButton, photoInput, finishButton], false);
    }, yes));
    replaceChildren(confirmView, h('div', { class: 'notice', role: 'alertdialog', 'aria-label': '确认结束巡查' },
      h('p', {}, pending ? `还有 ${pending} 个点位未到，结束后将记为漏巡，且不能撤销。确定结束巡查吗？`
        : '确定结束巡查吗？结束后不能撤销。'),
      h('div', { class: 'row' }, yes, no)));
    yes.focus();
  });
  replayButton.addEventListener('click', () => replay(state.patrol));

  function showPatrol(patrol) {
    state.patrol = patrol;
    layers.track(patrol.track.geometry?.type === 'LineString' ? patrol.track : null);
    const visitOf = (v) => (v.visited_at ? 'visited' : v.missed ? 'missed' : 'pending');
    layers.stops(patrol.visits.map((v) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: v.location },
      properties: { order: v.stop + 1, visit: visitOf(v) },
    })));
    replaceChildren(patrolView,
      h('p', { dataset: { test: 'patrol-id', patrolId: String(patrol.id), status: patrol.status,
        visited: String(patrol.visited), missed: String(patrol.missed) } },
      `巡查 #${patrol.id}（${patrol.status === 'finished' ? '已结束' : '进行中'}）：已到 ${patrol.visited}，`
        + `${patrol.status === 'finished' ? '漏巡' : '未到'} ${patrol.missed}，轨迹 ${(patrol.track_m / 1000).toFixed(2)} 公里`),
      h('ol', { class: 'visit-list' }, patrol.visits.map((v) => h('li', { dataset: { visit: visitOf(v) } },
        `${v.name ?? '点位'}：${v.visited_at ? `已到 ${clock(v.visited_at)}`
          : v.missed ? '漏巡' : '未到'}`))));
  }

  /** Fit the map to a line's coordinates (the route, with the panel's room). */
  function zoomTo(coords) {
    if (!coords?.length) return;
    const lons = coords.map((c) => c[0]);
    const lats = coords.map((c) => c[1]);
    map.fitBounds([[Math.min(...lons), Math.min(...lats)], [Math.max(...lons), Math.max(...lats)]],
      { padding: 60, maxZoom: 17, duration: 600 });
  }

  let replayTimer = null;
  /**
   * Move a marker along the patrol's track; a patrol checked in by the
   * phone's position alone has no track, so then from check-in to check-in
   * in the order they were made.
   */
  function replay(patrol) {
    clearInterval(replayTimer);
    const geometry = patrol?.track.geometry;
    const coords = geometry?.type === 'LineString' ? geometry.coordinates
      : (patrol?.visits ?? []).filter((v) => v.visited_at)
        .sort((a, b) => a.visited_at.localeCompare(b.visited_at))
        .map((v) => v.location);
    if (coords.length === 0) return;
    let k = 0;
    replayMarker.setLngLat(coords[0]).addTo(map);
    replayTimer = setInterval(() => {
      k += 1;
      if (k >= coords.length) {
        clearInterval(replayTimer);
        return;
      }
      replayMarker.setLngLat(coords[k]);
    }, 300);
  }

  // 5. Coverage this week (to tomorrow, so tracks timed today all count).
  async function loadCoverage() {
    if (!state.grid) return;
    const mine = turn;
    const now = Date.now();
    const c = await api.coverage({
      grid: state.grid.id,
      from: new Date(now - 7 * DAY_MS).toISOString(),
      to: new Date(now + DAY_MS).toISOString(),
    });
    if (mine !== turn) return;
    const night = c.night;
    replaceChildren(coverageView, h('dl', { dataset: { test: 'coverage-figures',
      inspections: String(c.inspections), hazardsInspected: String(c.hazards_inspected),
      missed: String(c.day.missed + night.missed), patrols: String(c.day.patrols + night.patrols) } },
    h('dt', {}, '隐患'), h('dd', {}, String(c.hazards)),
    h('dt', {}, '应检 / 已检'), h('dd', {}, `${c.inspections_required} / ${c.inspections}`),
    h('dt', {}, '已检隐患'), h('dd', {}, String(c.hazards_inspected)),
    h('dt', {}, '仍到期'), h('dd', {}, String(c.due_at_end)),
    h('dt', {}, '巡查 / 巡更'), h('dd', {}, `${c.day.patrols} / ${night.patrols}`),
    h('dt', {}, '漏巡'), h('dd', {}, String(c.day.missed + night.missed))));
  }
}

function round(x) {
  return Math.round(x * 1e6) / 1e6;
}
