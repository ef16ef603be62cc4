// The patrol feature's map layers: the picked grid's hazards (coloured by
// risk class, ringed when due), the planned or saved route along the roads
// with its numbered stops, and a patrol's track with a marker for replay.
// All are GeoJSON sources the panel fills with setData.

/** The hazards' layer (shown on the patrol tab, elsewhere when asked for: features/layers.js). */
export const HAZARD_LAYER = 'patrol-hazards';
const STOP_LAYER = 'patrol-stops';

/** The route's own colour (teal). */
export const ROUTE_COLOUR = '#00838f';

/** The four-colour risk scheme (红橙黄蓝). */
export const RISK_COLOURS = {
  major: '#d62728',
  significant: '#ff7f0e',
  general: '#e0c000',
  low: '#1f77b4',
};

/** The risk classes' names (重大 较大 一般 低). */
export const RISK_NAMES = { major: '重大', significant: '较大', general: '一般', low: '低' };

const EMPTY = { type: 'FeatureCollection', features: [] };

/** Add the sources and layers; returns setters for each. */
export function addPatrolLayers(map) {
  const font = map.getStyle().layers.find((l) => l.layout?.['text-font'])?.layout['text-font']
    ?? ['Noto Sans Bold'];
  for (const id of ['patrol-hazards', 'patrol-route', 'patrol-offroad', 'patrol-stops', 'patrol-track']) {
    map.addSource(id, { type: 'geojson', data: EMPTY });
  }
  // The route in a colour of its own (teal on a white casing): not the
  // grids' navy and purple outlines, not a risk colour, not the track's green.
  map.addLayer({
    id: 'patrol-route-casing',
    type: 'line',
    source: 'patrol-route',
    layout: { 'line-join': 'round', 'line-cap': 'round' },
    paint: { 'line-color': '#ffffff', 'line-width': 8, 'line-opacity': 0.9 },
  });
  map.addLayer({
    id: 'patrol-route-line',
    type: 'line',
    source: 'patrol-route',
    layout: { 'line-join': 'round', 'line-cap': 'round' },
    paint: { 'line-color': ROUTE_COLOUR, 'line-width': 4.5, 'line-opacity': 0.95 },
  });
  // Legs that leave the roads (on foot, across fields and lanes) are drawn
  // straight and dashed: a white casing first hides the solid line under them.
  map.addLayer({
    id: 'patrol-offroad-casing',
    type: 'line',
    source: 'patrol-offroad',
    paint: { 'line-color': '#ffffff', 'line-width': 8 },
  });
  map.addLayer({
    id: 'patrol-offroad-line',
    type: 'line',
    source: 'patrol-offroad',
    paint: { 'line-color': ROUTE_COLOUR, 'line-width': 4, 'line-dasharray': [1.2, 1] },
  });
  map.addLayer({
    id: 'patrol-track-line',
    type: 'line',
    source: 'patrol-track',
    paint: { 'line-color': '#2ca02c', 'line-width': 3, 'line-dasharray': [2, 1] },
  });
  map.addLayer({
    id: HAZARD_LAYER,
    type: 'circle',
    source: 'patrol-hazards',
    paint: {
      'circle-color': ['match', ['get', 'risk'],
        'major', RISK_COLOURS.major, 'significant', RISK_COLOURS.significant,
        'general', RISK_COLOURS.general, RISK_COLOURS.low],
      'circle-radius': ['case', ['get', 'due'], 7, 5],
      'circle-stroke-color': ['case', ['get', 'due'], '#000000', '#ffffff'],
      'circle-stroke-width': ['case', ['get', 'due'], 2, 1],
    },
  });
  map.addLayer({
    id: STOP_LAYER,
    type: 'circle',
    source: 'patrol-stops',
    paint: {
      'circle-color': ['case', ['==', ['get', 'visit'], 'visited'], '#2ca02c',
        ['==', ['get', 'visit'], 'missed'], '#7f7f7f', '#6a3d9a'],
      'circle-radius': 10,
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': 2,
    },
  });
  map.addLayer({
    id: 'patrol-stop-numbers',
    type: 'symbol',
    source: 'patrol-stops',
    layout: {
      'text-field': ['to-string', ['get', 'order']],
      'text-font': font,
      'text-size': 11,
      'text-allow-overlap': true,
    },
    paint: { 'text-color': '#ffffff' },
  });

  const set = (id, data) => map.getSource(id).setData(data ?? EMPTY);
  // The off-road legs need the route and its stops, which come separately.
  let shown = { route: null, stops: [] };
  const drawOffRoad = () => set('patrol-offroad', {
    type: 'FeatureCollection',
    features: offRoadLegs(shown.route, shown.stops),
  });
  return {
    hazards: (fc) => set('patrol-hazards', fc),
    route: (line) => {
      set('patrol-route', line ? { type: 'FeatureCollection', features: [line] } : null);
      shown = { ...shown, route: line ?? null };
      drawOffRoad();
    },
    stops: (points) => {
      set('patrol-stops', { type: 'FeatureCollection', features: points ?? [] });
      shown = { ...shown, stops: points ?? [] };
      drawOffRoad();
    },
    track: (feature) => set('patrol-track', feature ? { type: 'FeatureCollection', features: [feature] } : null),
  };
}

/**
 * The legs of a planned or saved route that leave the roads, as straight
 * LineStrings: leg k runs from point k to point k + 1 of start, stops in
 * order, start (the route's `legs_off_road` says which). Nothing when the
 * route has no such list or the stops shown are not the route's.
 */
export function offRoadLegs(route, stops) {
  const flags = route?.properties?.legs_off_road;
  const start = route?.properties?.start;
  if (!Array.isArray(flags) || !Array.isArray(start)) return [];
  const ordered = [...stops]
    .filter((s) => Number.isInteger(s.properties?.order))
    .sort((a, b) => a.properties.order - b.properties.order)
    .map((s) => s.geometry.coordinates);
  const points = [start, ...ordered];
  if (flags.length !== points.length) return [];
  return flags.flatMap((offRoad, k) => (offRoad
    ? [{
      type: 'Feature',
      properties: { leg: k },
      geometry: { type: 'LineString', coordinates: [points[k], points[(k + 1) % points.length]] },
    }]
    : []));
}
