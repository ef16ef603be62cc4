// 图层: what is drawn besides the grids, and what every symbol means.
//
// - 路网: the road network wangge routes over (GET /api/roads), drawn as a
//   topographic base from wangge's own data, so the map has roads with no
//   network and no tile service. The GeoJSON (1.3 MB for the demo county,
//   about 240 KB compressed) is fetched once, the first time the map is at
//   ROADS_MIN_ZOOM or closer: a county view at first load does not pay for it.
// - 隐患: hazard points are the patrol feature's; they show on the patrol
//   tab and, elsewhere (dispatch), only when this box is ticked, so a major
//   hazard's red dot is not taken for an overdue incident.
// - 底图: the configured raster base map (settings), when there is one.
//
// The switches sit at the top of the 图例 section, followed by a legend of
// every point and line symbol; both are kept in the settings.

import * as api from '../api.js';
import { h } from '../dom.js';
import { BASEMAP_LAYERS } from '../map.js';
import { HAZARD_LAYER, RISK_COLOURS, RISK_NAMES, ROUTE_COLOUR } from './patrols/layers.js';
import { SECTION_ID as PATROL_SECTION } from './patrols/index.js';
import { INCIDENT_COLOURS } from './incidents/layer.js';

/** The zoom from which the roads are fetched and drawn. */
export const ROADS_MIN_ZOOM = 11;
const ROADS_SOURCE = 'roads';
/** Road classes of the network, widest first, with how they are drawn. */
const ROAD_CLASSES = [
  { id: 'main', name: '主要道路', colour: '#e8923a', casing: '#a65e1c', width: 3.2, minzoom: ROADS_MIN_ZOOM },
  { id: 'village', name: '村道', colour: '#ffffff', casing: '#9c9c9c', width: 2.2, minzoom: 12 },
  { id: 'path', name: '小路', colour: '#8d6e4f', casing: null, width: 1.2, minzoom: 13, dashed: true },
];

export function install(ctx) {
  const { map, panel, settings } = ctx;
  const body = panel.section('legend');
  if (!body) return;

  addRoadLayers(map);
  let roadsLoaded = false;
  const loadRoads = async () => {
    if (roadsLoaded || !settings.get('showRoads') || map.getZoom() < ROADS_MIN_ZOOM) return;
    roadsLoaded = true;
    try {
      map.getSource(ROADS_SOURCE).setData(await api.roads());
    } catch (error) {
      roadsLoaded = false;
      console.warn('roads', error);
    }
  };

  const roadsBox = checkbox('layer-roads', '路网（本系统道路数据）');
  const hazardsBox = checkbox('layer-hazards', '隐患（调度时也显示）');
  const basemapBox = checkbox('layer-basemap', '在线底图');
  const apply = () => {
    roadsBox.input.checked = settings.get('showRoads');
    hazardsBox.input.checked = settings.get('showHazards');
    basemapBox.input.checked = settings.get('showBasemap');
    const roads = settings.get('showRoads') ? 'visible' : 'none';
    for (const layer of roadLayerIds()) {
      if (map.getLayer(layer)) map.setLayoutProperty(layer, 'visibility', roads);
    }
    if (map.getLayer(HAZARD_LAYER)) {
      const hazards = panel.active === PATROL_SECTION || settings.get('showHazards');
      map.setLayoutProperty(HAZARD_LAYER, 'visibility', hazards ? 'visible' : 'none');
    }
    basemapBox.label.hidden = !settings.get('basemapUrl');
    for (const id of BASEMAP_LAYERS) {
      if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', settings.get('showBasemap') ? 'visible' : 'none');
    }
    loadRoads();
  };
  roadsBox.input.addEventListener('change', () => settings.set('showRoads', roadsBox.input.checked));
  hazardsBox.input.addEventListener('change', () => settings.set('showHazards', hazardsBox.input.checked));
  basemapBox.input.addEventListener('change', () => settings.set('showBasemap', basemapBox.input.checked));
  settings.addEventListener('change', apply);
  panel.root.addEventListener('section-shown', apply);
  // The base map layer is added again whenever its address changes.
  map.on('styledata', () => {
    for (const id of BASEMAP_LAYERS) {
      if (map.getLayer(id) && !settings.get('showBasemap')
        && map.getLayoutProperty(id, 'visibility') !== 'none') {
        map.setLayoutProperty(id, 'visibility', 'none');
      }
    }
  });
  map.on('zoomend', loadRoads);

  body.prepend(
    h('h2', { class: 'section-heading' }, '图层'),
    h('div', { class: 'layer-switches', dataset: { test: 'layer-switches' } },
      roadsBox.label, hazardsBox.label, basemapBox.label),
    h('h2', { class: 'section-heading' }, '符号'),
    symbolLegend(),
  );
  apply();
}

/** A labelled checkbox with a 44 px target. */
function checkbox(test, text) {
  const input = h('input', { type: 'checkbox', dataset: { test } });
  const label = h('label', { class: 'layer-switch' }, input, h('span', {}, text));
  return { input, label };
}

function roadLayerIds() {
  return ROAD_CLASSES.flatMap((c) => [`roads-${c.id}-casing`, `roads-${c.id}`]);
}

/**
 * The roads source (empty until fetched) and a casing and a line per
 * class, above the grid fills and under the grid outlines.
 */
function addRoadLayers(map) {
  map.addSource(ROADS_SOURCE, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  const before = map.getStyle().layers.find((l) => l.type === 'line')?.id;
  // Narrowest first, so the main roads are drawn over the lanes they cross.
  for (const c of [...ROAD_CLASSES].reverse()) {
    const filter = ['==', ['get', 'class'], c.id];
    if (c.casing) {
      map.addLayer({
        id: `roads-${c.id}-casing`,
        type: 'line',
        source: ROADS_SOURCE,
        minzoom: c.minzoom,
        filter,
        layout: { 'line-join': 'round', 'line-cap': 'round' },
        paint: { 'line-color': c.casing, 'line-width': c.width + 1.6 },
      }, before);
    }
    map.addLayer({
      id: `roads-${c.id}`,
      type: 'line',
      source: ROADS_SOURCE,
      minzoom: c.minzoom,
      filter,
      layout: { 'line-join': 'round', 'line-cap': c.dashed ? 'butt' : 'round' },
      paint: {
        'line-color': c.colour,
        'line-width': c.width,
        ...(c.dashed ? { 'line-dasharray': [2, 1.5] } : {}),
      },
    }, before);
  }
}

/** Every point and line symbol of the map, with what it means. */
function symbolLegend() {
  const dot = (colour, { ring = '#ffffff', size = 14 } = {}) => h('span', {
    class: 'swatch-dot',
    style: `background: ${colour}; border-color: ${ring}; width: ${size}px; height: ${size}px`,
  });
  const line = (colour, { dashed = false, width = 4, casing = null } = {}) => h('span', {
    class: dashed ? 'swatch-line dashed' : 'swatch-line',
    style: `--level-colour: ${colour}; --line-width: ${width}px${casing ? `; outline: 1px solid ${casing}` : ''}`,
  });
  const row = (swatch, text) => h('li', {}, swatch, h('span', { class: 'legend-name' }, text));
  return h('div', { dataset: { test: 'symbol-legend' } },
    h('p', { class: 'muted' }, '事件（圆点，带白边）'),
    h('ul', { class: 'level-legend' },
      row(dot(INCIDENT_COLOURS.open), '办理中'),
      row(dot(INCIDENT_COLOURS.dispute), '矛盾纠纷'),
      row(dot(INCIDENT_COLOURS.overdue), '已超期'),
      row(dot(INCIDENT_COLOURS.open, { size: 20 }), '多起事件（数字为起数，有超期时为红色）')),
    h('p', { class: 'muted' }, '隐患（小圆点，按风险等级；黑圈为今日到期）'),
    h('ul', { class: 'level-legend' },
      Object.entries(RISK_COLOURS).map(([risk, colour]) => row(dot(colour, { size: 11 }), `${RISK_NAMES[risk]}风险`)),
      row(dot('#ffffff', { ring: '#000000', size: 12 }), '今日到期')),
    h('p', { class: 'muted' }, '巡查'),
    h('ul', { class: 'level-legend' },
      row(line(ROUTE_COLOUR), '巡查路线（沿道路）'),
      row(line(ROUTE_COLOUR, { dashed: true }), '离开道路的路段（步行穿过田地、小巷）'),
      row(line('#2ca02c', { dashed: true, width: 3 }), '实际轨迹'),
      row(dot('#6a3d9a', { size: 16 }), '待到点位'),
      row(dot('#2ca02c', { size: 16 }), '已到点位'),
      row(dot('#7f7f7f', { size: 16 }), '未到点位')),
    h('p', { class: 'muted' }, `道路（缩放 ≥ ${ROADS_MIN_ZOOM}）`),
    h('ul', { class: 'level-legend' },
      ROAD_CLASSES.map((c) => row(line(c.colour, { dashed: c.dashed, width: c.width, casing: c.casing }), c.name))));
}
