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

/** GET a path of this server (relative, so a reverse-proxy prefix works) with query parameters. */
async function getJson(path, params = {}, { signal } = {}) {
  const url = new URL(path, document.baseURI);
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
  }
  let response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' }, signal });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(`无法连接服务器：${error.message}`, 0, null);
  }
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
