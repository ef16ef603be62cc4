// 按未结事件: a choropleth of the grids by their open incidents, from
// GET /api/incidents/stats per level (the figures of the whole record, so
// the map and the statistics tables agree). Registered with the legend's
// colourings; while chosen it is refreshed when incidents change.

import * as api from '../../api.js';
import { h } from '../../dom.js';
import { registerColouring } from '../legend.js';

const ID = 'incidents';
const BREAKS = [1, 3, 6, 11];
const COLOURS = ['#f4f1ea', '#fde0c5', '#f9a66c', '#e5603b', '#a8201a'];
const LABELS = ['0', '1–2', '3–5', '6–10', '> 10'];
const RELOAD_EVERY_MS = 30_000;

/** Register the colouring; returns `refresh()` to call when incidents change. */
export function registerIncidentColouring(map, settings) {
  let counts = null; // per level: Map grid id -> open count
  let loading = null;

  const load = () => {
    loading ??= Promise.all([1, 2, 3, 4, 5].map((level) => api.incidentStats({ level })))
      .then((perLevel) => {
        counts = perLevel.map((stats) => new Map(stats.grids
          .filter((g) => g.grid)
          .map((g) => [g.grid, g.open])));
      })
      .finally(() => { loading = null; });
    return loading;
  };

  const paint = () => {
    if (!counts || settings.get('colouring') !== ID) return;
    counts.forEach((byGrid, i) => {
      const layer = `grids-fill-${i + 1}`;
      if (!map.getLayer(layer)) return;
      const pairs = [...byGrid].filter(([, open]) => open > 0).flatMap(([id, open]) => [id, open]);
      const open = pairs.length ? ['match', ['get', 'id'], ...pairs, 0] : 0;
      map.setPaintProperty(layer, 'fill-color', ['step', open, COLOURS[0],
        ...BREAKS.flatMap((b, k) => [b, COLOURS[k + 1]])]);
      map.setPaintProperty(layer, 'fill-opacity', 0.7);
    });
  };

  registerColouring({
    id: ID,
    label: '按未结事件',
    order: 50,
    apply() {
      if (counts) paint();
      load().then(paint).catch((error) => console.warn('incident statistics', error));
    },
    legend() {
      return [
        h('p', { class: 'muted' }, '各网格未结事件数（当前缩放级别下最细一级）'),
        h('ul', { class: 'ramp-legend', dataset: { test: 'incident-legend' } }, COLOURS.map((colour, i) =>
          h('li', {}, h('span', { class: 'swatch-fill', style: `background: ${colour}` }), LABELS[i]))),
      ];
    },
  });

  // At most one reload of the figures every half minute, however many
  // changes arrive (each reload reads the statistics of five levels, which
  // the server computes over every stored incident); a load in flight when
  // they arrive does not count.
  let timer = 0;
  return () => {
    if (settings.get('colouring') !== ID || timer) return;
    timer = setTimeout(async () => {
      await loading?.catch(() => {});
      timer = 0;
      load().then(paint).catch(() => {});
    }, RELOAD_EVERY_MS);
  };
}
