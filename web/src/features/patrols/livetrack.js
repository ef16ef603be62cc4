// 实时轨迹: while a member's patrol runs on this phone, its positions are
// recorded and sent to the patrol (POST /api/patrols/{id}/track, GeoJSON
// Points with their times), so the stops walked past are marked visited
// without anyone uploading a file.
//
// - Positions come from `navigator.geolocation.watchPosition` (high
//   accuracy). A fix worse than MAX_ACCURACY_M is dropped, and so is one
//   within MIN_STEP_M of the last kept (standing still is not a track).
// - Kept fixes wait in localStorage (`wangge.track.<patrol>`) until the
//   server has them: a reload, a dead battery's restart or a valley without
//   signal loses nothing. They are sent at most every SEND_EVERY_MS, and at
//   once when the server answers again after being unreachable.
// - A send the server refuses for its content (400, 404, 409, 413, 422) is
//   dropped with a message rather than retried for ever; one that did not
//   reach it, or that the server could not take then (a restart, an expired
//   login), stays for the next try.

import * as api from '../../api.js';

const MAX_ACCURACY_M = 50;
const MIN_STEP_M = 10;
const SEND_EVERY_MS = 10_000;
/** The most fixes one request carries (the rest go in the next). */
const MAX_BATCH = 500;

const storageKey = (patrol) => `wangge.track.${patrol}`;

function load(patrol) {
  try {
    const stored = JSON.parse(localStorage.getItem(storageKey(patrol)) ?? '[]');
    return Array.isArray(stored) ? stored : [];
  } catch {
    return [];
  }
}

function save(patrol, fixes) {
  try {
    if (fixes.length === 0) localStorage.removeItem(storageKey(patrol));
    else localStorage.setItem(storageKey(patrol), JSON.stringify(fixes));
  } catch {
    // A full quota: the fixes still wait in memory for this page.
  }
}

/** Metres between two [lon, lat] (equirectangular: fine for metres apart). */
function metres(a, b) {
  const k = Math.PI / 180;
  const x = (b[0] - a[0]) * k * Math.cos(((a[1] + b[1]) / 2) * k);
  const y = (b[1] - a[1]) * k;
  return Math.hypot(x, y) * 6_371_008.8;
}

/**
 * A live track: `start(patrolId)` begins watching, `stop()` ends it,
 * `flush()` sends what waits now, `latest(ms)` is the last position seen. `onSent(patrol)` gets the server's patrol
 * after each send; `onState({kept, waiting, error})` says where it stands.
 */
export function createLiveTrack({ onSent, onState }) {
  let patrol = null;
  let watch = null;
  let waiting = [];
  let kept = 0;
  let lastSent = 0;
  let timer = null;
  let error = '';

  const report = () => onState({ patrol, kept, waiting: waiting.length, error });

  let latest = null;
  function onFix(position) {
    latest = position;
    const { longitude, latitude, accuracy } = position.coords;
    if (!(accuracy <= MAX_ACCURACY_M)) return;
    const at = [Math.round(longitude * 1e6) / 1e6, Math.round(latitude * 1e6) / 1e6];
    const last = waiting.at(-1)?.at ?? lastPoint;
    if (last && metres(last, at) < MIN_STEP_M) return;
    lastPoint = at;
    waiting.push({ at, time: new Date(position.timestamp).toISOString() });
    kept += 1;
    save(patrol, waiting);
    report();
    schedule();
  }
  let lastPoint = null;

  function schedule() {
    if (timer || waiting.length === 0) return;
    const wait = Math.max(0, lastSent + SEND_EVERY_MS - Date.now());
    timer = setTimeout(() => {
      timer = null;
      flush();
    }, wait);
  }

  /** Statuses that refuse a batch for what it holds: resending cannot help. */
  const REFUSED = new Set([400, 404, 409, 413, 422]);

  /** Send one batch; true when the server took it (or refused it for good). */
  async function sendBatch(id) {
    const queue = id === patrol ? waiting : load(id);
    const batch = queue.slice(0, MAX_BATCH);
    if (batch.length === 0) return true;
    const body = {
      type: 'FeatureCollection',
      features: batch.map((f) => ({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: f.at },
        properties: { time: f.time },
      })),
    };
    let done = false;
    try {
      const answer = await api.uploadTrack(id, JSON.stringify(body));
      error = '';
      done = true;
      if (id === patrol) onSent(answer);
    } catch (failure) {
      if (REFUSED.has(failure.status)) {
        // Refused for what it holds: retrying would be refused again.
        error = `轨迹上传被拒绝：${failure.message}`;
        done = true;
      } else {
        // Not reached, or the server could not take it now (a restart, an
        // expired login): kept for the next try.
        error = failure.status === 0 ? '网络中断，轨迹已保存在本机，恢复后自动上传。'
          : `轨迹暂未上传（${failure.message}），稍后重试。`;
      }
    }
    if (done) {
      // Only what was sent leaves the queue, of the patrol it was sent for.
      if (id === patrol) waiting = waiting.slice(batch.length);
      else save(id, load(id).slice(batch.length));
    }
    if (id === patrol) save(patrol, waiting);
    return done;
  }

  let inFlight = null;
  /**
   * Send what waits, batch after batch, until nothing is left or a send
   * fails; waits for a send already under way. Resolves to how many fixes
   * are still waiting.
   */
  function flush() {
    if (!patrol) return Promise.resolve(0);
    if (!inFlight) {
      const id = patrol;
      const drain = async () => {
        while (id === patrol && waiting.length > 0 && await sendBatch(id)) { /* next batch */ }
        return id === patrol ? waiting.length : load(id).length;
      };
      // `finally` runs after this assignment even when there was nothing to
      // send (an async body with no await would finish before it).
      inFlight = drain().finally(() => {
        lastSent = Date.now();
        inFlight = null;
        if (id === patrol) {
          report();
          schedule();
        }
      });
    }
    return inFlight;
  }

  // The server answers again: send what waited.
  window.addEventListener('wangge-network', (event) => {
    if (event.detail.online) flush();
  });

  return {
    start(id) {
      if (patrol === id) return;
      this.stop();
      patrol = id;
      waiting = load(id);
      kept = waiting.length;
      error = '';
      lastPoint = null;
      if (navigator.geolocation) {
        watch = navigator.geolocation.watchPosition(onFix, () => {
          error = '无法获取位置，轨迹暂停记录。';
          report();
        }, { enableHighAccuracy: true, maximumAge: 5_000, timeout: 60_000 });
      }
      report();
      flush();
    },
    /** Fixes of `id` still on this device. */
    waitingFor(id) {
      return id === patrol ? waiting.length : load(id).length;
    },
    stop() {
      if (watch !== null) navigator.geolocation.clearWatch(watch);
      clearTimeout(timer);
      watch = null;
      timer = null;
      patrol = null;
      onState({ patrol: null, kept: 0, waiting: 0, error: '' });
    },
    flush,
    /**
     * The watch's last position when it is at most `maxAgeMs` old, else
     * null: a check-in uses it rather than asking the device again (a
     * second request while a watch runs can wait for the next fix).
     */
    latest(maxAgeMs) {
      return latest && watch !== null && Date.now() - latest.timestamp <= maxAgeMs ? latest : null;
    },
  };
}
