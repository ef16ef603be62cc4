// 图例: what the outlines and fills mean, and how the fills are coloured.
//
// Colourings are a registry. The style document (/style.json, metadata
// `wangge:colourings`) brings "by level" and "by population", each with the
// paint of every fill layer. A later feature adds its own, e.g. by open
// incidents once the incidents API exists:
//
//   import { registerColouring } from './legend.js';
//   registerColouring({
//     id: 'incidents',
//     label: '按未结事件',
//     apply(map) { /* set fill-color from feature-state or a joined count */ },
//     legend() { return [h(...), ...]; },   // elements for the legend
//   });
//
// The chosen colouring is kept in the settings (`colouring`).

import { h, replaceChildren, formatInt } from '../dom.js';

const colourings = new Map();
let refresh = () => {};

/**
 * Add a colouring: `{id, label, apply(map), legend(map) -> Element[], order?}`
 * (choices are listed by `order`, the style's own first). Registering
 * after the legend is installed updates its choice list.
 */
export function registerColouring(colouring) {
  colourings.set(colouring.id, colouring);
  refresh();
}

export function install(ctx) {
  const { map, panel, settings, levels } = ctx;
  const body = panel.addSection({ id: 'legend', title: '图例', order: 20 });

  for (const def of map.getStyle().metadata?.['wangge:colourings'] ?? []) {
    registerColouring(styleColouring(def, levels));
  }

  const select = h('select', { class: 'colouring-select', 'aria-label': '填色方式',
    dataset: { test: 'colouring-select' } });
  const fillLegend = h('div', { class: 'fill-legend', dataset: { test: 'fill-legend' } });
  body.append(
    h('h2', { class: 'section-heading' }, '网格层级'),
    levelLegend(levels),
    h('label', { class: 'field' }, h('span', {}, '填色'), select),
    fillLegend,
  );

  const apply = () => {
    const colouring = colourings.get(settings.get('colouring')) ?? colourings.get('level');
    if (!colouring) return;
    select.value = colouring.id;
    colouring.apply(map);
    replaceChildren(fillLegend, colouring.legend(map));
  };
  refresh = () => {
    const ordered = [...colourings.values()].sort((a, b) => (a.order ?? 100) - (b.order ?? 100));
    replaceChildren(select, ordered.map((c) => h('option', { value: c.id }, c.label)));
    apply();
  };
  select.addEventListener('change', () => settings.set('colouring', select.value));
  settings.addEventListener('change', (event) => {
    if (event.detail.key === 'colouring') apply();
  });
  // The population classes differ per level: redraw when the level in view changes.
  map.on('zoomend', () => replaceChildren(fillLegend, colourings.get(select.value)?.legend(map) ?? []));
  refresh();
}

/** One row per level: its outline, name and the zoom it appears from. */
function levelLegend(levels) {
  return h('ul', { class: 'level-legend', dataset: { test: 'level-legend' } }, levels.map((l) =>
    h('li', { dataset: { level: String(l.level) } },
      h('span', {
        class: l.dashed ? 'swatch-line dashed' : 'swatch-line',
        style: `--level-colour: ${l.colour}; --line-width: ${Math.max(1, l.line_width)}px`,
      }),
      h('span', { class: 'legend-name' }, `${l.level}级 ${l.name}`),
      h('span', { class: 'legend-note muted' }, `缩放 ≥ ${l.grid_min_zoom}`))));
}

/** The levels whose fill shows at a zoom. */
function levelsFilledAt(levels, zoom) {
  return levels.filter((l) => zoom >= l.fill_min_zoom && (l.fill_max_zoom === null || zoom < l.fill_max_zoom));
}

/** A colouring described by the style: set each fill layer's paint. */
function styleColouring(def, levels) {
  return {
    id: def.id,
    label: def.label,
    order: 0,
    apply(map) {
      for (const [layer, paint] of Object.entries(def.paint)) {
        if (!map.getLayer(layer)) continue;
        for (const [property, value] of Object.entries(paint)) map.setPaintProperty(layer, property, value);
      }
    },
    legend(map) {
      if (def.id === 'population') return populationLegend(def, levelsFilledAt(levels, map.getZoom()));
      return [h('p', { class: 'muted' }, '按当前缩放级别下最细一级网格着色。')];
    },
  };
}

function populationLegend(def, shown) {
  if (shown.length === 0) return [];
  // The finest level in view: its classes are the ones the eye reads.
  const level = shown.at(-1);
  const breaks = level.population_breaks;
  const label = (i) => {
    if (i === 0) return `< ${formatInt(breaks[0])}`;
    if (i === breaks.length) return `≥ ${formatInt(breaks.at(-1))}`;
    return `${formatInt(breaks[i - 1])} – ${formatInt(breaks[i])}`;
  };
  return [
    h('p', { class: 'muted' }, `常住人口（${level.name}）`),
    h('ul', { class: 'ramp-legend' }, def.colours.map((colour, i) =>
      h('li', {}, h('span', { class: 'swatch-fill', style: `background: ${colour}` }), label(i)))),
  ];
}
