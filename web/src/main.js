// The wangge web map: the shell (map + panel) and the features plugged into it.
//
// Each feature is a module in features/ with `install(ctx)`, where ctx is
//   map       the MapLibre map (also `window.wanggeMap`)
//   panel     the panel shell (panel.js): addSection(), show(), top
//   settings  persisted user settings (settings.js)
//   levels    the grid levels as the style describes them (names, colours, zooms)
//   bus       an EventTarget for features to talk through ('grid-selected', …)
//   session   who is logged in: `{user, capabilities}`; `may(c)` says
//             whether they hold a capability (features show only what the
//             user may do, the server refuses the rest anyway)
// A new feature is a new module added to FEATURES below, with the
// capability it needs in NEEDS.

import 'maplibre-gl/dist/maplibre-gl.css';
import './styles.css';

import * as coords from './features/coords.js';
import * as crosshair from './features/crosshair.js';
import * as editing from './features/editing.js';
import * as incidents from './features/incidents/index.js';
import * as info from './features/info.js';
import * as layers from './features/layers.js';
import * as legend from './features/legend.js';
import * as patrols from './features/patrols/index.js';
import * as search from './features/search.js';
import * as settingsFeature from './features/settings.js';
import * as stats from './features/stats/index.js';
import * as api from './api.js';
import { h } from './dom.js';
import { showLogin, userBadge } from './login.js';
import { createMap } from './map.js';
import { Panel } from './panel.js';
import { loadSettings } from './settings.js';

// Incidents, patrols and editing before info: they take the clicks on
// incidents, the clicks that pick a place and the clicks that pick grids to
// edit (see their modules).
// Layers after legend: its switches go into the legend's section.
const FEATURES = [search, incidents, stats, patrols, editing, info, legend, layers, settingsFeature, coords, crosshair];

/** A visitor of a published grid map: the map, nothing else. */
const ANONYMOUS = { user: null, capabilities: ['see_grid_map'] };

/** The capability each feature needs to be shown at all. */
const NEEDS = new Map([
  [incidents, 'see_incidents'],
  [stats, 'see_incidents'],
  [patrols, 'patrol'],
  [editing, 'edit_grids'],
]);

// Anything the Content-Security-Policy blocks is a bug of this page: said
// in the console and counted on the body (the browser tests read it).
document.addEventListener('securitypolicyviolation', (event) => {
  console.error('blocked by the Content-Security-Policy:', event.violatedDirective, event.blockedURI);
  document.body.dataset.cspViolations = String(Number(document.body.dataset.cspViolations ?? 0) + 1);
});

start();
registerServiceWorker();
showWhenOffline();

/** A banner while the server cannot be reached (the page then shows what it kept). */
function showWhenOffline() {
  const banner = h('div', { class: 'offline-banner', role: 'status', dataset: { test: 'offline-banner' }, hidden: true },
    '离线：无法连接服务器，地图为上次联网时保存的内容，暂时不能提交。');
  document.body.append(banner);
  window.addEventListener('wangge-network', (event) => {
    banner.hidden = event.detail.online;
    document.body.dataset.offline = event.detail.online ? '' : '1';
  });
}

/**
 * The service worker (sw.js) keeps the page's shell and the last grid map
 * seen, so the map opens without a network. Registered once the page has
 * loaded, so it does not compete with the first view for the connection.
 */
function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('sw.js').catch((error) => {
      console.warn('service worker not registered', error);
    });
  });
}

async function start() {
  let me;
  try {
    me = await api.session();
  } catch (error) {
    if (error.status !== 401) throw error;
    // Nobody logged in: a published grid map is shown to anyone (with a
    // way to log in), anything else asks for a login first.
    if (await api.gridMapIsPublic().catch(() => false)) {
      me = ANONYMOUS;
    } else {
      showLogin(document.getElementById('app'));
      document.body.dataset.loginReady = '1';
      return;
    }
  }
  startMap(me);
}

function startMap(me) {
  const settings = loadSettings();
  const panel = new Panel(document.getElementById('panel'));
  panel.top.before(userBadge(me));
  const map = createMap('map');
  window.wanggeMap = map;

  map.once('load', () => {
    const ctx = {
      map,
      panel,
      settings,
      levels: map.getStyle().metadata?.['wangge:levels'] ?? [],
      bus: new EventTarget(),
      session: me,
      may: (capability) => me.capabilities.includes(capability),
    };
    for (const feature of FEATURES) {
      if (NEEDS.has(feature) && !ctx.may(NEEDS.get(feature))) continue;
      try {
        // An async install (one that loads data first) fails on its own.
        Promise.resolve(feature.install(ctx)).catch((error) => {
          console.error('feature failed to install', error);
        });
      } catch (error) {
        // One broken feature must not take the map down with it.
        console.error('feature failed to install', error);
      }
    }
    panel.show(info.SECTION_ID, { expand: false });
    document.body.dataset.appReady = '1';
  });
}
