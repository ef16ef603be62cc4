// The patrol feature's map layers: the picked grid's hazards (coloured by
// risk class, ringed when due), the planned or saved route along the roads
// with its numbered stops, and a patrol's track with a marker for replay.
// All are GeoJSON sources the panel fills with setData.

const HAZARD_LAYER = 'patrol-hazards';
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

const EMPTY = { type: 'FeatureCollection', features: [] };

/** Add the sources and layers; returns setters for each. */
export function addPatrolLayers(map) {
  const font = map.getStyle().layers.find((l) => l.layout?.['text-font'])?.layout['text-font']
    ?? ['Noto Sans Bold'];
  for (const id of ['patrol-hazards', 'patrol-route', 'patrol-stops', 'patrol-track']) {
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
  return {
    hazards: (fc) => set('patrol-hazards', fc),
    route: (line) => set('patrol-route', line ? { type: 'FeatureCollection', features: [line] } : null),
    stops: (points) => set('patrol-stops', { type: 'FeatureCollection', features: points ?? [] }),
    track: (feature) => set('patrol-track', feature ? { type: 'FeatureCollection', features: [feature] } : null),
  };
}
