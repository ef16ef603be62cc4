// The wangge HTTP API as the web map uses it. Every call resolves to parsed
// JSON or rejects with an ApiError carrying the problem document's detail
// (errors are RFC 9457 problem documents, see /api/openapi.json).

/** A failed API call: `status` is the HTTP status (0 when offline). */
export class ApiError extends Error {
  constructor(message, status, problem) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

/**
 * The page is in Chinese whatever the browser's own language: the server
 * writes its notices and reasons in Chinese when asked (English for other
 * API clients).
 */
const LANGUAGE = 'zh-CN';

let online = true;
/**
 * Say on `window` (event `wangge-network`, detail `{online}`) when the
 * server stops or starts answering: the page shows that it is offline.
 */
function networkIs(now) {
  if (now === online) return;
  online = now;
  window.dispatchEvent(new CustomEvent('wangge-network', { detail: { online } }));
}

/** The CSRF token of the session, sent with every write (see login()). */
let csrfToken = null;

/** GET a path of this server (relative, so a reverse-proxy prefix works) with query parameters. */
async function getJson(path, params = {}, { signal } = {}) {
  const url = new URL(path, document.baseURI);
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
  }
  let response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json', 'accept-language': LANGUAGE }, signal });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    networkIs(false);
    throw new ApiError(`无法连接服务器：${error.message}`, 0, null);
  }
  // An answer the service worker kept from before (the server did not
  // answer), or a proxy's word that it cannot reach the server, is not
  // the server being back.
  networkIs(response.headers.get('x-wangge-kept') !== '1' && response.status !== 502 && response.status !== 504);
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = body?.detail ?? response.statusText;
    throw new ApiError(`请求失败（${response.status}）：${detail}`, response.status, body);
  }
  return body;
}

/** The chain of grids that own a point, with the distance to the nearest border. */
export function locate(lon, lat) {
  return getJson('api/locate', { lon, lat, boundary_distance: true });
}

/** Grids whose name contains `q` or whose id/code starts with it, best first. */
export function searchGrids(q, limit = 10, options = {}) {
  return getJson('api/grids/search', { q, limit }, options);
}

/** One grid: its GeoJSON feature, ancestors and children. */
export function grid(id) {
  return getJson(`api/grids/${encodeURIComponent(id)}`);
}

/**
 * Send a body to a path of this server with `method`; resolves to the JSON
 * answer. `body` is sent as JSON unless `contentType` says otherwise.
 */
async function sendBody(method, path, body, contentType = 'application/json') {
  let response;
  try {
    response = await fetch(new URL(path, document.baseURI), {
      method,
      headers: {
        'content-type': contentType,
        accept: 'application/json',
        'accept-language': LANGUAGE,
        ...(csrfToken ? { 'x-csrf-token': csrfToken } : {}),
      },
      body: contentType === 'application/json' ? JSON.stringify(body) : body,
    });
  } catch (error) {
    networkIs(false);
    throw new ApiError(`无法连接服务器：${error.message}`, 0, null);
  }
  networkIs(response.status !== 502 && response.status !== 504);
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = answer?.detail ?? response.statusText;
    throw new ApiError(detail, response.status, answer);
  }
  return answer;
}

/**
 * Who is logged in: `{user, capabilities, csrf_token}`; rejects with status
 * 401 when nobody is. Remembers the CSRF token for the writes.
 */
export async function session() {
  const me = await getJson('api/session');
  csrfToken = me.csrf_token ?? null;
  return me;
}

/**
 * Whether the county publishes its grid map (`--public-grid-map`): the
 * style answers without a login.
 */
export async function gridMapIsPublic() {
  const response = await fetch('style.json', { credentials: 'omit' });
  return response.ok;
}

/** Log in (the server sets the session cookie); resolves like session(). */
export async function login(name, password) {
  const me = await sendBody('POST', 'api/session', { login: name, password });
  csrfToken = me.csrf_token ?? null;
  return me;
}

/** Log out: the session ends on the server and the cookie is cleared. */
export async function logout() {
  try {
    const response = await fetch(new URL('api/session', document.baseURI), {
      method: 'DELETE',
      headers: csrfToken ? { 'x-csrf-token': csrfToken } : {},
    });
    return response.ok;
  } finally {
    csrfToken = null;
    // What the service worker kept for offline use (who this was, the map)
    // is not left behind for the next person at this device, even when
    // the server could not be told.
    await globalThis.caches?.delete('wangge-data').catch(() => false);
  }
}

/** POST JSON to a path of this server; resolves to the JSON answer. */
function postJson(path, body) {
  return sendBody('POST', path, body);
}

/** The incident categories, in the county's order. */
export function incidentCategories() {
  return getJson('api/incidents/categories');
}

/** A page of incidents, newest first (`params` as GET /api/incidents takes them). */
export function incidents(params, options = {}) {
  return getJson('api/incidents', params, options);
}

/** One incident with its history: `{incident, history}`. */
export function incident(id) {
  return getJson(`api/incidents/${encodeURIComponent(id)}`);
}

/** Report an incident: `{incident, duplicates}`. */
export function reportIncident(report) {
  return postJson('api/incidents', report);
}

/** Check a report without recording it: `{duplicates}` (POST /api/incidents?dry_run=true). */
export function previewIncident(report) {
  return postJson('api/incidents?dry_run=true', report);
}

/** Add a note to an incident's history. */
export function noteIncident(id, note) {
  return postJson(`api/incidents/${encodeURIComponent(id)}/notes`, { note });
}

/** Make someone else responsible: `{person: {name, phone}, note, version}`. */
export function reassignIncident(id, body) {
  return postJson(`api/incidents/${encodeURIComponent(id)}/assign`, body);
}

/** Apply an action of the incident's process. */
export function incidentAction(id, body) {
  return postJson(`api/incidents/${encodeURIComponent(id)}/actions`, body);
}

/** Escalate an incident to the next tier up. */
export function escalateIncident(id, body) {
  return postJson(`api/incidents/${encodeURIComponent(id)}/escalate`, body);
}

/** Statistics per grid of a level (`params`: level, from, to, category, grid). */
export function incidentStats(params) {
  return getJson('api/incidents/stats', params);
}

/** Hazards as GeoJSON (`params`: grid, status, risk, category, bbox, due). */
export function hazards(params) {
  return getJson('api/hazards', params);
}

/** The road network as GeoJSON LineStrings (`class`: main, village, path). */
export function roads() {
  return getJson('api/roads');
}

/** One hazard as a GeoJSON Feature (its due date and last inspection as of now). */
export function hazard(id) {
  return getJson(`api/hazards/${encodeURIComponent(id)}`);
}

/** A hazard's inspections (`params`: from, to), newest first. */
export function hazardInspections(id, params) {
  return getJson(`api/hazards/${encodeURIComponent(id)}/inspections`, params);
}

/** Plan a route (not saved): a GeoJSON FeatureCollection, the way then the stops. */
export function planRoute(body) {
  return postJson('api/patrol-plans', body);
}

/** Save a route (`id` null) or replace one (`body.version` the one read). */
export function saveRoute(id, body) {
  return id == null
    ? postJson('api/routes', body)
    : sendBody('PUT', `api/routes/${encodeURIComponent(id)}`, body);
}

/** Start a patrol of a saved route. */
export function startPatrol(routeId, body) {
  return postJson(`api/routes/${encodeURIComponent(routeId)}/patrols`, body);
}

/** Saved routes passing through a grid (GeoJSON: each route's way). */
export function routes(grid) {
  return getJson('api/routes', { grid });
}

/** Upload a photo (a File from the camera or the gallery): `{id, url, thumbnail_url, width, height}`. */
export function uploadPhoto(file) {
  return sendBody('POST', 'api/photos', file, file.type || 'image/jpeg');
}

/** Check in on a patrol: `{point: [lon, lat], time, note}`; answers the patrol. */
export function checkIn(id, body) {
  return postJson(`api/patrols/${encodeURIComponent(id)}/checkins`, body);
}

/** One patrol with its visits, check-ins and track. */
/** Patrols started in a period (`params`: route, from, to), newest last, without tracks. */
export function patrols(params) {
  return getJson('api/patrols', params);
}

export function patrol(id) {
  return getJson(`api/patrols/${encodeURIComponent(id)}`);
}

/** Upload a GPS track (GPX or GeoJSON text) to a patrol. */
export function uploadTrack(id, text) {
  const gpx = text.trimStart().startsWith('<');
  return sendBody('POST', `api/patrols/${encodeURIComponent(id)}/track`, text,
    gpx ? 'application/gpx+xml' : 'application/geo+json');
}

/** Finish a patrol: unvisited stops become missed. */
export function finishPatrol(id) {
  return postJson(`api/patrols/${encodeURIComponent(id)}/finish`, {});
}

/** Coverage of a grid over a period (`params`: grid, from, to). */
export function coverage(params) {
  return getJson('api/coverage', params);
}

/** The server's health: `grid_version` is the version edits are planned on. */
export function health() {
  return getJson('healthz');
}

/** The grids of a level whose boundary meets `bbox` (`minLon,minLat,maxLon,maxLat`). */
export function gridsIn(level, bbox) {
  return getJson('api/grids', { level, bbox });
}

/** A boundary edit: checked and answered with its impact (`dryRun`), or saved. */
export function editGrids(body, dryRun) {
  return postJson(dryRun ? 'api/grids/edits?dry_run=true' : 'api/grids/edits', body);
}
