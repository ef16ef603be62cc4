// The web map's service worker: the page opens without a network.
//
// build.mjs writes this file as sw.js beside index.html, with VERSION (a
// hash of the shell's file names) and SHELL (the page, its script, its
// stylesheet and MapLibre's worker) filled in. It is served with
// `Cache-Control: no-cache`, so a new build is picked up on the next visit:
// a new VERSION is a new shell cache, and the old one is deleted.
//
//   navigation           network first; offline (or a proxy's 5xx), the cached page
//   assets/, fonts/      cache first (named by content, or stable)
//   style.json, tiles/grids*, tiles/labels*, api/session,
//   api/incidents/categories
//                        network first, the last answer kept for offline
//                        (served marked `X-Wangge-Kept: 1`)
//   everything else      not touched: the network, as without a worker
//
// Data answers are kept in DATA_CACHE, which the page empties at logout.
// Nothing is written offline here: a write fails as it would without the
// worker, and the page says so.

const VERSION = '%VERSION%';
const SHELL = '%SHELL%';
const SHELL_CACHE = `wangge-shell-${VERSION}`;
const DATA_CACHE = 'wangge-data';
/** The most data answers (mostly grid tiles) kept; the oldest go first. */
const MAX_DATA_ENTRIES = 4000;

const scopePath = () => new URL(self.registration.scope).pathname;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL_CACHE)
    .then((cache) => cache.addAll(JSON.parse(SHELL)))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys
      .filter((k) => k.startsWith('wangge-shell-') && k !== SHELL_CACHE)
      .map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith(scopePath())) return;
  const path = url.pathname.slice(scopePath().length);
  if (request.mode === 'navigate') {
    // A proxy in front of a stopped server answers 502 or 504: as good as
    // no network when a copy is kept.
    const kept = () => caches.match('./', { cacheName: SHELL_CACHE });
    event.respondWith(fetch(request)
      .then(async (answer) => (answer.status >= 500 ? (await kept()) ?? answer : answer))
      .catch(async () => (await kept()) ?? Response.error()));
  } else if (path.startsWith('assets/') || path.startsWith('fonts/')) {
    event.respondWith(cacheFirst(request));
  } else if (path === 'style.json' || path.startsWith('tiles/grids') || path.startsWith('tiles/labels')
    || path === 'api/session' || path === 'api/incidents/categories') {
    event.respondWith(networkFirst(request));
  }
});

async function cacheFirst(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const answer = await fetch(request);
  if (answer.ok) {
    const copy = answer.clone();
    caches.open(SHELL_CACHE).then((cache) => cache.put(request, copy));
  }
  return answer;
}

async function networkFirst(request) {
  try {
    const answer = await fetch(request);
    if (answer.ok) {
      const copy = answer.clone();
      caches.open(DATA_CACHE).then((cache) => cache.put(request, copy)).then(trim);
    } else if (answer.status === 401 || answer.status === 403) {
      // Logged out or no longer allowed: nothing of it is kept for offline.
      caches.open(DATA_CACHE).then((cache) => cache.delete(request));
    } else if (answer.status >= 500) {
      // A proxy's 502 for a stopped server: the kept copy, if any.
      return (await kept(request)) ?? answer;
    }
    return answer;
  } catch (offline) {
    const cached = await kept(request);
    if (cached) return cached;
    throw offline;
  }
}

/**
 * The kept copy of a data answer, marked `X-Wangge-Kept: 1` so that the
 * page knows the server did not answer (and keeps its offline banner up).
 */
async function kept(request) {
  const cached = await caches.match(request, { cacheName: DATA_CACHE });
  if (!cached) return null;
  const headers = new Headers(cached.headers);
  headers.set('x-wangge-kept', '1');
  return new Response(cached.body, { status: cached.status, statusText: cached.statusText, headers });
}

let puts = 0;
/** Every hundredth write, drop the oldest answers beyond MAX_DATA_ENTRIES. */
async function trim() {
  puts += 1;
  if (puts % 100 !== 0) return;
  const cache = await caches.open(DATA_CACHE);
  const keys = await cache.keys();
  await Promise.all(keys.slice(0, Math.max(0, keys.length - MAX_DATA_ENTRIES)).map((k) => cache.delete(k)));
}
