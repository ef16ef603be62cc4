// The wangge web map: the shell (map + panel) and the features plugged into it.
//
// Each feature is a module in features/ with `install(ctx)`, where ctx is
//   map       the MapLibre map (also `window.wanggeMap`)
//   panel     the panel shell (panel.js): addSection(), show(), top
//   settings  persisted user settings (settings.js)
//   levels    the grid levels as the style describes them (names, colours, zooms)
//   bus       an EventTarget for features to talk through ('grid-selected', …)
// A new feature is a new module added to FEATURES below.

import 'maplibre-gl/dist/maplibre-gl.css';
import './styles.css';

import * as coords from './features/coords.js';
import * as editing from './features/editing.js';
import * as incidents from './features/incidents/index.js';
import * as info from './features/info.js';
import * as legend from './features/legend.js';
import * as patrols from './features/patrols/index.js';
import * as search from './features/search.js';
import * as settingsFeature from './features/settings.js';
import { createMap } from './map.js';
import { Panel } from './panel.js';
import { loadSettings } from './settings.js';

// Incidents, patrols and editing before info: they take the clicks on
// incidents, the clicks that pick a place and the clicks that pick grids to
// edit (see their modules).
const FEATURES = [search, incidents, patrols, editing, info, legend, settingsFeature, coords];

const settings = loadSettings();
const panel = new Panel(document.getElementById('panel'));
const map = createMap('map');
window.wanggeMap = map;

map.once('load', () => {
  const ctx = {
    map,
    panel,
    settings,
    levels: map.getStyle().metadata?.['wangge:levels'] ?? [],
    bus: new EventTarget(),
  };
  for (const feature of FEATURES) {
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
