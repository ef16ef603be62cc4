// User settings of the web map, kept in localStorage. URL parameters win over
// stored values and are stored in turn, so a link such as
// `/?basemap=https://tiles.example/{z}/{x}/{y}.png` configures a workstation once.
//
//   basemap   raster tile URL template ({z}/{x}/{y}); empty = no base map
//   tianditu  a Tianditu key: its vector base map with place names
//   border    metres under which a located point is "near a border"
//   colouring the fill colouring id (see features/legend.js)
// and, not settable by URL, `dispatcherName` (who acts on incidents here)
// and the layer switches `showRoads`, `showHazards`, `showBasemap`.

const STORAGE_KEY = 'wangge.settings.v1';

/** Defaults: no base map (the map works offline), 50 m border warning. */
export const DEFAULTS = Object.freeze({
  basemapUrl: '',
  basemapAttribution: '',
  borderWarningM: 50,
  colouring: 'level',
  dispatcherName: '',
  // Layers (features/layers.js): the roads, hazards outside the patrol
  // tab, and the online base map when one is set.
  showRoads: true,
  showHazards: false,
  showBasemap: true,
});

/** The largest border warning distance accepted, metres. */
export const MAX_BORDER_WARNING_M = 1000;

/**
 * A base map URL template, or undefined when it is not one: empty (no base
 * map), or http(s) with {z}, {x} and {y}. Anything else (a typo, a
 * `javascript:` URL in a shared link) is ignored rather than stored.
 */
export function parseBasemapUrl(text) {
  const url = text.trim();
  if (url === '') return '';
  if (!/^https?:\/\//i.test(url)) return undefined;
  if (offsetProvider(url)) return undefined;
  return ['{z}', '{x}', '{y}'].every((p) => url.includes(p)) ? url : undefined;
}

/**
 * Tile services drawn in GCJ-02 or BD-09, the offset coordinates Chinese
 * law requires of commercial maps: their streets sit 300–700 m off the
 * grids (which are WGS84 / CGCS2000), so they are refused as base maps.
 * Tianditu (天地图) is CGCS2000 with no offset.
 */
const OFFSET_SERVICES = [
  { pattern: /(^|\.)(amap\.com|autonavi\.com)$/i, name: '高德地图', crs: 'GCJ-02' },
  { pattern: /(^|\.)(map\.qq\.com|gtimg\.com|maps\.qq\.com)$/i, name: '腾讯地图', crs: 'GCJ-02' },
  { pattern: /(^|\.)(baidu\.com|bdimg\.com|bdstatic\.com)$/i, name: '百度地图', crs: 'BD-09' },
  { pattern: /(^|\.)(google\.cn|gstatic\.cn)$/i, name: '谷歌地图（中国）', crs: 'GCJ-02' },
];

/** `{name, crs}` of an offset tile service the URL points at, else null. */
export function offsetProvider(text) {
  let host;
  try {
    host = new URL(text.trim().replace(/[{}]/g, '')).hostname;
  } catch {
    return null;
  }
  return OFFSET_SERVICES.find((s) => s.pattern.test(host)) ?? null;
}

/**
 * Tianditu (天地图), the national service the grids can sit on: CGCS2000,
 * which matches WGS84 to centimetres, so no offset. Each base comes with
 * its overlay of place names (注记). Tiles need a browser key (密钥,
 * 32 letters and digits) from console.tianditu.gov.cn.
 */
export const TIANDITU = Object.freeze({
  vec: { name: '天地图·矢量', labels: 'cva', maxzoom: 18 },
  img: { name: '天地图·影像', labels: 'cia', maxzoom: 18 },
  // The terrain base and its names stop at zoom 14; MapLibre enlarges them beyond.
  ter: { name: '天地图·地形', labels: 'cta', maxzoom: 14 },
});

/** Tianditu's Web Mercator (`_w`) tile template of `layer` with `key`. */
export function tiandituUrl(layer, key) {
  return `https://t0.tianditu.gov.cn/${layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0`
    + `&LAYER=${layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles`
    + `&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=${encodeURIComponent(key)}`;
}

/** A Tianditu key (32 hex digits), lower-cased, or undefined. */
export function parseTiandituKey(text) {
  const key = text.trim();
  return /^[0-9a-f]{32}$/i.test(key) ? key.toLowerCase() : undefined;
}

/** `{kind, key}` when `url` is one of TIANDITU's bases, else null. */
export function tiandituOf(url) {
  let parsed;
  try {
    parsed = new URL(url.trim().replace(/[{}]/g, ''));
  } catch {
    return null;
  }
  if (!/(^|\.)tianditu\.gov\.cn$/i.test(parsed.hostname)) return null;
  const kind = (parsed.searchParams.get('LAYER') ?? '').toLowerCase();
  return Object.hasOwn(TIANDITU, kind) ? { kind, key: parsed.searchParams.get('tk') ?? '' } : null;
}

/**
 * The overlay drawn over a base map: Tianditu's place names (注记) for a
 * Tianditu base, none ('') for any other.
 */
export function labelsUrlFor(url) {
  const tianditu = tiandituOf(url);
  return tianditu ? tiandituUrl(TIANDITU[tianditu.kind].labels, tianditu.key) : '';
}

/** The credit a Tianditu base map must show. */
export const TIANDITU_ATTRIBUTION = '© 天地图（国家地理信息公共服务平台）';

/**
 * The addresses MapLibre may fetch a template's tiles from: Tianditu's
 * eight hosts t0–t7 for a template on t0 (browsers open only a few
 * connections per host), any other template as it is.
 */
export function tileUrls(url) {
  if (!/^https:\/\/t0\.tianditu\.gov\.cn\//i.test(url)) return [url];
  return [0, 1, 2, 3, 4, 5, 6, 7].map((i) => url.replace('//t0.', `//t${i}.`));
}

/** A border warning distance in metres, 1 to MAX_BORDER_WARNING_M, else undefined. */
export function parseBorderWarningM(text) {
  const metres = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(metres) && metres >= 1 && metres <= MAX_BORDER_WARNING_M
    ? metres
    : undefined;
}

/**
 * Which URL parameter sets which setting, and how its text is read; a
 * reader returns undefined for text it refuses, and the parameter is then
 * ignored.
 */
const URL_PARAMS = {
  basemap: ['basemapUrl', parseBasemapUrl],
  tianditu: ['basemapUrl', (text) => {
    const key = parseTiandituKey(text);
    return key && tiandituUrl('vec', key);
  }],
  border: ['borderWarningM', parseBorderWarningM],
  colouring: ['colouring', (text) => text.trim() || undefined],
};

/**
 * Settings with change notifications: `settings.get(key)`,
 * `settings.set(key, value)`, and a `change` event whose `detail` is
 * `{key, value}`.
 */
export class Settings extends EventTarget {
  constructor(values) {
    super();
    this.values = { ...DEFAULTS, ...values };
  }

  get(key) {
    return this.values[key];
  }

  set(key, value) {
    if (this.values[key] === value) return;
    this.values[key] = value;
    save(this.values);
    this.dispatchEvent(new CustomEvent('change', { detail: { key, value } }));
  }
}

/** Load stored settings, apply URL parameters (and store them). */
export function loadSettings(search = window.location.search) {
  const values = { ...DEFAULTS, ...read() };
  const params = new URLSearchParams(search);
  let changed = false;
  for (const [param, [key, parse]] of Object.entries(URL_PARAMS)) {
    if (!params.has(param)) continue;
    const value = parse(params.get(param));
    if (value === undefined) {
      console.warn(`wangge: ignoring URL parameter ${param}=${params.get(param)}`);
      continue;
    }
    values[key] = value;
    changed = true;
  }
  if (changed) save(values);
  return new Settings(values);
}

function read() {
  try {
    const stored = JSON.parse(window.localStorage.getItem(STORAGE_KEY) ?? '{}');
    // Only known keys, so an old or foreign entry cannot inject others.
    return Object.fromEntries(Object.entries(stored).filter(([k]) => k in DEFAULTS));
  } catch {
    return {};
  }
}

function save(values) {
  try {
    window.localStorage.setItem(STORAGE_KEY, JSON.stringify(values));
  } catch {
    // Private windows and full quotas refuse: the settings then last for this page only.
  }
}
