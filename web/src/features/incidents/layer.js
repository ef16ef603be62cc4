// The incidents on the map: the `incidents` vector tiles (open incidents,
// clustered below zoom 14 by the server), drawn above the grids. Tiles are
// cut per request from the live incidents, so `refresh()` only has to make
// MapLibre ask again: a version number in the tile URL.

export const SOURCE_ID = 'incidents';
export const CLUSTER_LAYER = 'incidents-cluster';
export const POINT_LAYER = 'incidents-point';
const COUNT_LAYER = 'incidents-count';
const SELECTED_LAYER = 'incidents-selected';

/** How long changes are gathered before the tiles are asked for again. */
const REFRESH_DELAY_MS = 150;

const OVERDUE = '#c0392b';
const OPEN = '#1f6fb2';
const DISPUTE = '#8e44ad';
/** The incident colours, for the legend (features/layers.js). */
export const INCIDENT_COLOURS = Object.freeze({ open: OPEN, dispute: DISPUTE, overdue: OVERDUE });

/** Add the source and layers; returns `{refresh(), select(id)}`. */
export function addIncidentLayers(map) {
  // The tile URL must be absolute, and `{z}` must not be percent-encoded.
  const base = new URL('.', document.baseURI).href;
  let version = 0;
  const tiles = () => [`${base}tiles/incidents/{z}/{x}/{y}.mvt?v=${version}`];
  map.addSource(SOURCE_ID, { type: 'vector', tiles: tiles(), minzoom: 5, maxzoom: 14 });

  // The fonts the grid labels use (the style brings digits for them).
  const font = map.getLayer('labels-1')?.layout?.['text-font']
    ?? map.getStyle().layers.find((l) => l.layout?.['text-font'])?.layout['text-font']
    ?? ['Noto Sans Bold'];

  map.addLayer({
    id: CLUSTER_LAYER,
    type: 'circle',
    source: SOURCE_ID,
    'source-layer': 'incidents',
    filter: ['has', 'count'],
    paint: {
      'circle-color': ['case', ['>', ['get', 'overdue'], 0], OVERDUE, OPEN],
      'circle-opacity': 0.85,
      'circle-radius': ['step', ['get', 'count'], 12, 10, 15, 100, 19, 1000, 24],
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': 2,
    },
  });
  map.addLayer({
    id: COUNT_LAYER,
    type: 'symbol',
    source: SOURCE_ID,
    'source-layer': 'incidents',
    filter: ['has', 'count'],
    layout: {
      'text-field': ['to-string', ['get', 'count']],
      'text-font': font,
      'text-size': 12,
      'text-allow-overlap': true,
    },
    paint: { 'text-color': '#ffffff' },
  });
  map.addLayer({
    id: POINT_LAYER,
    type: 'circle',
    source: SOURCE_ID,
    'source-layer': 'incidents',
    filter: ['!', ['has', 'count']],
    paint: {
      'circle-color': ['case',
        ['==', ['get', 'overdue'], true], OVERDUE,
        ['==', ['get', 'category'], 'dispute'], DISPUTE,
        OPEN],
      'circle-radius': ['match', ['get', 'severity'], 'critical', 9, 'major', 8, 6.5],
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': 2,
    },
  });
  map.addLayer({
    id: SELECTED_LAYER,
    type: 'circle',
    source: SOURCE_ID,
    'source-layer': 'incidents',
    filter: ['==', ['get', 'id'], -1],
    paint: {
      'circle-color': 'rgba(0,0,0,0)',
      'circle-radius': 13,
      'circle-stroke-color': '#ffd400',
      'circle-stroke-width': 3.5,
    },
  });

  for (const layer of [CLUSTER_LAYER, POINT_LAYER]) {
    map.on('mouseenter', layer, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', layer, () => { map.getCanvas().style.cursor = ''; });
  }

  // A change usually arrives twice (the answer to the dispatcher's own
  // request, and the feed) and reports come in bursts: one reload of the
  // tiles for all the changes of a moment, and at most one a moment however
  // many keep coming.
  // Nor while tiles are still loading: MapLibre then re-parses the tile it
  // had instead of fetching it again, and a tile that was empty stays empty.
  let pending = 0;
  const reload = () => {
    if (!map.isSourceLoaded(SOURCE_ID)) {
      pending = setTimeout(reload, REFRESH_DELAY_MS);
      return;
    }
    pending = 0;
    version += 1;
    map.getSource(SOURCE_ID)?.setTiles(tiles());
    document.body.dataset.incidentTiles = String(version);
  };
  return {
    refresh() {
      if (!pending) pending = setTimeout(reload, REFRESH_DELAY_MS);
    },
    select(id) {
      map.setFilter(SELECTED_LAYER, ['==', ['get', 'id'], id ?? -1]);
    },
  };
}
