// The MapLibre map: created from the server's /style.json, with the layers the
// app adds at run time (an optional raster base map under the grids, and the
// selected grid on top), and the readiness flag the browser test waits for.

import { tileUrls } from './settings.js';
import {
  AttributionControl,
  Map as MapLibreMap,
  NavigationControl,
  ScaleControl,
  setWorkerUrl,
} from 'maplibre-gl';

// MapLibre GL JS 6 loads its worker from `maplibre-gl-worker.mjs` beside its
// own module; bundled, that module is our app file, so point it at the hashed
// copy that web/build.mjs puts next to the app (its name is injected there).
// eslint-disable-next-line no-undef
setWorkerUrl(new URL(`./${__MAPLIBRE_WORKER__}`, import.meta.url).href);

/** Qingshui County, for the first view before the tiles say where the grids are. */
const COUNTY_BOUNDS = [[105.85, 34.5], [106.45, 34.95]];

/** Chinese fonts for MapLibre's local ideograph rendering (the style names its own too). */
const CJK_FONTS = "'Noto Sans CJK SC', 'Microsoft YaHei', 'PingFang SC', sans-serif";

/** Space kept clear around a fitted box, px. */
const FIT_MARGIN = 24;

/**
 * Padding for fitting boxes into the part of the map the panel leaves free:
 * left of a side panel on wide screens, above the bottom sheet on phones.
 */
export function viewPadding() {
  const panel = document.getElementById('panel')?.getBoundingClientRect();
  const padding = { top: FIT_MARGIN, right: FIT_MARGIN, bottom: FIT_MARGIN, left: FIT_MARGIN };
  if (!panel) return padding;
  if (window.matchMedia('(max-width: 640px)').matches) {
    padding.bottom += Math.min(panel.height, window.innerHeight / 2);
  } else {
    padding.left += panel.right;
  }
  return padding;
}

/**
 * MapLibre's own texts in Chinese (its `locale` option; the keys are those
 * of MapLibre's default_locale.ts). The scale bar keeps m / km: units, as
 * Chinese maps write them.
 */
const MAPLIBRE_ZH = {
  'AttributionControl.ToggleAttribution': '显示或隐藏数据来源',
  'AttributionControl.MapFeedback': '地图反馈',
  'FullscreenControl.Enter': '全屏',
  'FullscreenControl.Exit': '退出全屏',
  'GeolocateControl.FindMyLocation': '定位到我的位置',
  'GeolocateControl.LocationNotAvailable': '无法获取位置',
  'LogoControl.Title': 'MapLibre 标志',
  'Map.Title': '地图',
  'Marker.Title': '地图标记',
  'NavigationControl.ResetBearing': '拖动旋转地图，点击恢复正北',
  'NavigationControl.ZoomIn': '放大',
  'NavigationControl.ZoomOut': '缩小',
  'Popup.Close': '关闭',
  'ScaleControl.Meters': 'm',
  'ScaleControl.Kilometers': 'km',
  'GlobeControl.Enable': '切换为地球视图',
  'GlobeControl.Disable': '切换为平面视图',
  'TerrainControl.Enable': '显示地形',
  'TerrainControl.Disable': '隐藏地形',
  'CooperativeGesturesHandler.WindowsHelpText': '按住 Ctrl 并滚动鼠标缩放地图',
  'CooperativeGesturesHandler.MacHelpText': '按住 ⌘ 并滚动鼠标缩放地图',
  'CooperativeGesturesHandler.MobileHelpText': '请用两根手指移动地图',
};

/** The layer the app's own layers go under: the deepest level's labels, so that names stay on top. */
const FIRST_LABEL_LAYER = 'labels-5';

/**
 * Create the map in `container`. Resolves nothing: listen for `load` on the
 * returned map. Sets `document.body.dataset.mapReady = "1"` once the first
 * view has rendered with both tilesets loaded, and `dataset.mapError` to the
 * last error MapLibre reported.
 */
export function createMap(container) {
  const hasHashView = /(^|&|#)map=/.test(window.location.hash);
  const map = new MapLibreMap({
    container,
    style: new URL('style.json', document.baseURI).href,
    bounds: COUNTY_BOUNDS,
    fitBoundsOptions: { padding: viewPadding() },
    // The view in the URL (#map=zoom/lat/lon), so a dispatcher can send a link.
    hash: 'map',
    maxZoom: 19,
    attributionControl: false,
    localIdeographFontFamily: CJK_FONTS,
    locale: MAPLIBRE_ZH,
  });
  map.addControl(new NavigationControl({ visualizePitch: false }), 'top-right');
  map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-right');
  map.addControl(new AttributionControl({ compact: true }), 'bottom-right');
  map.touchZoomRotate.disableRotation();
  map.dragRotate.disable();

  map.on('error', (event) => {
    const message = event.error?.message ?? String(event.error ?? 'unknown error');
    document.body.dataset.mapError = message;
    console.error('map error:', message);
  });

  map.on('load', () => {
    addSelectionLayers(map);
  });

  // Fit the first view to the grids' real extent (TileJSON `bounds`) unless
  // the URL asked for a view.
  let fitted = hasHashView;
  map.on('sourcedata', (event) => {
    if (fitted || event.sourceId !== 'grids' || !event.isSourceLoaded) return;
    const bounds = map.getSource('grids')?.bounds;
    if (Array.isArray(bounds) && bounds.length === 4) {
      fitted = true;
      map.fitBounds([[bounds[0], bounds[1]], [bounds[2], bounds[3]]], { padding: viewPadding(), animate: false });
    }
  });

  // Ready for the test (and for anyone scripting the page): the first idle
  // after both tilesets have loaded the tiles of the view.
  const onIdle = () => {
    const loaded = ['grids', 'labels'].every((id) => map.getSource(id) && map.isSourceLoaded(id));
    if (!loaded) return;
    map.off('idle', onIdle);
    clearInterval(nudge);
    document.body.dataset.mapReady = '1';
  };
  map.on('idle', onIdle);
  // MapLibre does not render again when the last pending tile fails (a base
  // map answering 404, say), so the idle that should follow never comes.
  // Until ready, ask for a frame now and then once everything has settled.
  const nudge = setInterval(() => {
    if (map.loaded()) map.triggerRepaint();
  }, 1000);

  return map;
}

/** The base map's layers: the tiles, and an optional place-name overlay. */
export const BASEMAP_LAYERS = ['basemap', 'basemap-labels'];

/**
 * Show a raster base map from a `{z}/{x}/{y}` URL template under the grids,
 * or none for an empty URL, with `labelsUrl` (e.g. Tianditu's 注记 layer of
 * place names) drawn over it when given; `maxzoom` is the service's last
 * zoom (beyond it the tiles are enlarged). Call after the style has loaded.
 */
export function setBasemap(map, url, attribution = '', labelsUrl = '', maxzoom = 18) {
  for (const id of [...BASEMAP_LAYERS].reverse()) {
    if (map.getLayer(id)) map.removeLayer(id);
    if (map.getSource(id)) map.removeSource(id);
  }
  if (!url) return;
  // Right above the background, under every grid layer.
  const firstGridLayer = map.getStyle().layers.find((l) => l.type !== 'background')?.id;
  const add = (id, template, credit) => {
    map.addSource(id, {
      type: 'raster',
      tiles: tileUrls(template),
      tileSize: 256,
      maxzoom,
      attribution: credit || undefined,
    });
    map.addLayer({ id, type: 'raster', source: id }, firstGridLayer);
  };
  add('basemap', url, attribution);
  if (labelsUrl) add('basemap-labels', labelsUrl, '');
}

const EMPTY = { type: 'FeatureCollection', features: [] };

function addSelectionLayers(map) {
  map.addSource('selection', { type: 'geojson', data: EMPTY });
  const before = map.getLayer(FIRST_LABEL_LAYER) ? FIRST_LABEL_LAYER : undefined;
  map.addLayer({
    id: 'selection-fill',
    type: 'fill',
    source: 'selection',
    paint: { 'fill-color': '#ffd400', 'fill-opacity': 0.22 },
  }, before);
  map.addLayer({
    id: 'selection-casing',
    type: 'line',
    source: 'selection',
    paint: { 'line-color': '#ffffff', 'line-width': 7, 'line-opacity': 0.85 },
  }, before);
  map.addLayer({
    id: 'selection-line',
    type: 'line',
    source: 'selection',
    paint: { 'line-color': '#e0a800', 'line-width': 3.5 },
  }, before);
}

/** Outline one grid (a GeoJSON Feature) as the selection, or clear it with `null`. */
export function setSelection(map, feature) {
  const source = map.getSource('selection');
  if (!source) return;
  source.setData(feature ? { type: 'FeatureCollection', features: [feature] } : EMPTY);
}

/** Fly to a `[minLon, minLat, maxLon, maxLat]` box. */
export function flyToBbox(map, bbox, { maxZoom = 16 } = {}) {
  const [w, s, e, n] = bbox;
  map.fitBounds([[w, s], [e, n]], { padding: viewPadding(), maxZoom, duration: 800 });
}
