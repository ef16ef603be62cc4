// 事件调度: incidents on the map and the dispatcher's panel.
//
// - the `incidents` tiles as a layer (clusters below zoom 14; layer.js);
// - a panel section with a live list (list.js), one incident in detail with
//   its grids, responsible person, next steps and history (detail.js), and
//   reporting by clicking the map (report.js);
// - live updates from the server's event stream (feed.js): new reports show
//   on every open map without a reload;
// - the "by open incidents" colouring of the grids (colouring.js).
//
// Installed before the grid info feature: a click on an incident, or the
// click that picks a report's place, is taken here (preventDefault) and not
// also answered with the grid chain.

import { Marker } from 'maplibre-gl';

import * as api from '../../api.js';
import { h, replaceChildren } from '../../dom.js';
import { registerIncidentColouring } from './colouring.js';
import { showIncident } from './detail.js';
import { follow } from './feed.js';
import { addIncidentLayers, CLUSTER_LAYER, POINT_LAYER } from './layer.js';
import { createList } from './list.js';
import { duplicateHint } from './names.js';
import { showReportForm } from './report.js';

export const SECTION_ID = 'incidents';

/** Zoom to show one incident at. */
const INCIDENT_ZOOM = 16;

export async function install(ctx) {
  const { map, panel, settings } = ctx;
  const body = panel.addSection({ id: SECTION_ID, title: '事件调度', order: 15 });
  const layers = addIncidentLayers(map);
  const refreshColouring = registerIncidentColouring(map, settings);

  // Who acts is the logged-in user (the server records them); only the
  // steps their role may take are offered.
  const reportButton = ctx.may('report')
    ? h('button', { type: 'button', class: 'action', dataset: { test: 'report-start' } }, '点选地图上报事件')
    : null;
  const hint = h('p', { class: 'muted pick-hint', hidden: true, dataset: { test: 'report-hint' } },
    '请在地图上点击事件发生的位置（Esc 取消）。');
  const work = h('div', { class: 'incident-work', dataset: { test: 'incident-work' } });
  const listRoot = h('div', { class: 'incident-list-root' });
  // Incidents a boundary change handed to another grid: announced as news
  // for the grid (and leader) that now has them.
  const handedOver = h('p', { class: 'notice', role: 'status', hidden: true,
    dataset: { test: 'handed-over' } });
  // New reports since the dispatcher last looked: a counter at the top of
  // the section and on its tab (the list itself may be below the fold),
  // and a short tone when they asked for one.
  const newReports = h('button', { type: 'button', class: 'action new-reports', hidden: true,
    'aria-live': 'polite', dataset: { test: 'new-reports' } });
  const soundToggle = h('input', { type: 'checkbox', dataset: { test: 'new-report-sound' } });
  soundToggle.checked = localStorage.getItem(SOUND_KEY) === '1';
  soundToggle.addEventListener('change', () => localStorage.setItem(SOUND_KEY, soundToggle.checked ? '1' : '0'));
  const tabBadge = h('span', { class: 'tab-counter', hidden: true, dataset: { test: 'tab-counter' } });
  document.getElementById(`tab-${SECTION_ID}`)?.append(tabBadge);
  const baseTitle = document.title;
  let unseen = 0;
  const showUnseen = () => {
    newReports.hidden = unseen === 0;
    tabBadge.hidden = unseen === 0;
    newReports.textContent = `新上报 ${unseen} 件`;
    tabBadge.textContent = String(unseen);
    document.title = unseen ? `(${unseen}) ${baseTitle}` : baseTitle;
  };
  const listHeading = h('h2', { class: 'section-heading', tabindex: '-1' }, '事件列表');
  newReports.addEventListener('click', () => {
    unseen = 0;
    showUnseen();
    listHeading.scrollIntoView({ block: 'start' });
    listHeading.focus();
  });
  body.append(
    h('div', { class: 'incident-bar' }, reportButton, newReports,
      h('label', { class: 'inline' }, soundToggle, ' 新事件提示音')),
    hint, work, listHeading, handedOver, listRoot);

  // Filled below; everything that reads it runs after that.
  const categories = new Map();

  const marker = new Marker({ color: '#1f6fb2', scale: 0.8 });
  // The incident in the panel, and the newest version of it shown or being
  // loaded: a change arrives twice (the action's answer and the feed) and
  // must be drawn once.
  let shown = { id: null, version: 0 };
  const detailCtx = {
    categories,
    levels: ctx.levels,
    may: ctx.may,
    onChanged: (incident) => {
      // The list and the layer follow the feed; without it, refresh here.
      if (!feedReady()) {
        layers.refresh();
        list.reload();
      }
      if (incident.id === shown.id && incident.version > shown.version) {
        open(incident.id, { version: incident.version, show: false });
      }
    },
  };

  // Each use of the work area (an incident, the report form) takes a new
  // turn; an answer for an earlier turn is not drawn.
  let turn = 0;
  const open = async (id, { fly = false, version = 0, show = true } = {}) => {
    const mine = ++turn;
    shown = { id, version: Math.max(version, shown.id === id ? shown.version : 0) };
    if (show) panel.show(SECTION_ID);
    layers.select(id);
    const incident = await showIncident(work, id, detailCtx, () => mine === turn);
    if (!incident || mine !== turn) return;
    shown.version = Math.max(shown.version, incident.version);
    marker.setLngLat([incident.location.lon, incident.location.lat]).addTo(map);
    if (fly) {
      map.flyTo({ center: [incident.location.lon, incident.location.lat],
        zoom: Math.max(map.getZoom(), INCIDENT_ZOOM), duration: 800 });
    }
  };

  const list = createList(listRoot, {
    map,
    categories,
    onPick: (incident) => open(incident.id, { fly: true }),
  });

  // Picking the place of a new report.
  let picking = false;
  const setPicking = (on) => {
    picking = on;
    hint.hidden = !on;
    reportButton?.classList.toggle('active', on);
    map.getCanvas().style.cursor = on ? 'crosshair' : '';
    document.body.dataset.reportPicking = on ? '1' : '';
  };
  reportButton?.addEventListener('click', () => {
    setPicking(!picking);
    panel.show(SECTION_ID, { expand: false });
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && picking) setPicking(false);
  });

  map.on('click', (event) => {
    if (picking) {
      event.preventDefault();
      setPicking(false);
      const { lng, lat } = event.lngLat.wrap();
      const point = [round(lng), round(lat)];
      turn += 1;
      shown = { id: null, version: 0 };
      layers.select(null);
      marker.setLngLat(point).addTo(map);
      panel.show(SECTION_ID);
      showReportForm(work, point, detailCtx, {
        onReported: ({ incident, duplicates, duplicate_rule: rule }) => {
          if (!feedReady()) {
            layers.refresh();
            list.reload();
          }
          open(incident.id).then(() => showDuplicates(work, duplicates, open, rule));
        },
        onLinked: (id) => {
          open(id, { fly: true });
        },
        onCancel: () => {
          turn += 1;
          marker.remove();
          replaceChildren(work);
        },
      });
      return;
    }
    const hits = map.queryRenderedFeatures(event.point, { layers: [POINT_LAYER, CLUSTER_LAYER] });
    if (hits.length === 0) return;
    event.preventDefault();
    const hit = hits[0];
    if (hit.properties.count !== undefined) {
      map.easeTo({ center: hit.geometry.coordinates, zoom: Math.min(map.getZoom() + 2, 14), duration: 500 });
    } else {
      open(Number(hit.properties.id));
    }
  });

  // Every map listener is registered above, synchronously, so that the
  // click handler runs before the grid info's (see the module doc).
  try {
    for (const c of await api.incidentCategories()) categories.set(c.code, c);
    list.categoriesLoaded();
  } catch (error) {
    replaceChildren(work, h('p', { class: 'error', role: 'alert' }, `无法读取事件类别：${error.message}`));
  }
  list.reload();

  follow({
    reported: (incident) => {
      unseen += 1;
      showUnseen();
      if (soundToggle.checked) chime();
      layers.refresh();
      list.reload().then(() => list.flash(incident.id));
      refreshColouring();
    },
    handedOver: (incident) => {
      layers.refresh();
      list.reload().then(() => list.flash(incident.id));
      refreshColouring();
      const grid = incident.grids.at(-1)?.name ?? '县外';
      const leader = incident.responsible?.name;
      handedOver.hidden = false;
      handedOver.textContent = `网格调整：事件 #${incident.id} 现属${grid}${leader ? `，由${leader}负责` : ''}`;
    },
    changed: (incident) => {
      layers.refresh();
      list.reload();
      refreshColouring();
      // Someone moved the incident on screen: show it as it is now, unless
      // a step is being filled in (sending it then is refused as stale,
      // which says so).
      if (incident.id === shown.id && incident.version > shown.version
          && !work.querySelector('form')) {
        open(incident.id, { version: incident.version, show: false });
      }
    },
    resync: () => {
      layers.refresh();
      list.reload();
      refreshColouring();
    },
  });
}

function showDuplicates(work, duplicates, open, rule) {
  if (!duplicates?.length) return;
  work.prepend(h('div', { class: 'notice', role: 'alert', dataset: { test: 'report-duplicates' } },
    h('strong', {}, `${duplicateHint(duplicates.length, rule)}，可能重复：`),
    h('ul', {}, duplicates.map((d) => h('li', {},
      h('button', { type: 'button', class: 'link', onclick: () => open(d.id, { fly: true }) },
        `#${d.id} ${d.description}`))))));
}

/** Where the dispatcher's choice of a tone for new reports is kept. */
const SOUND_KEY = 'wangge.newReportSound';

/** A short two-note tone (Web Audio: no sound file to load). */
function chime() {
  try {
    const audio = new AudioContext();
    const gain = audio.createGain();
    gain.gain.value = 0.15;
    gain.connect(audio.destination);
    [880, 1175].forEach((frequency, k) => {
      const tone = audio.createOscillator();
      tone.frequency.value = frequency;
      tone.connect(gain);
      tone.start(audio.currentTime + k * 0.18);
      tone.stop(audio.currentTime + k * 0.18 + 0.15);
    });
    setTimeout(() => audio.close(), 600);
  } catch {
    // No audio on this device: the counter is enough.
  }
}

/** Whether the event stream is connected (feed.js), so changes arrive through it. */
function feedReady() {
  return document.body.dataset.incidentFeed === 'ready';
}

/** Seven decimals (about 1 cm). */
function round(degrees) {
  return Math.round(degrees * 1e7) / 1e7;
}
