// 键盘选点: picking a place without a pointer. A map button (a ring with a
// cross), or the key "x" on the map, shows a crosshair at the map's centre
// and puts the focus on the map, where MapLibre's own keys move it (arrows pan, + and − zoom);
// Enter or Space then "clicks" the centre, so every feature that takes a
// click on the map (the place of a report, a patrol's start, a grid's
// info) takes this one too; Escape leaves.

import { MapMouseEvent } from 'maplibre-gl';

import { h } from '../dom.js';

export function install(ctx) {
  const { map } = ctx;
  const canvas = map.getCanvas();
  const container = map.getCanvasContainer();
  const mark = h('div', { class: 'crosshair', hidden: true, 'aria-hidden': 'true', dataset: { test: 'crosshair' } });
  container.append(mark);
  const status = h('div', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  document.body.append(status);

  const button = h('button', {
    type: 'button',
    class: 'maplibregl-ctrl-crosshair',
    title: '键盘选点：方向键移动地图，回车选定十字中心，再按此按钮退出',
    'aria-label': '键盘选点',
    'aria-pressed': 'false',
    dataset: { test: 'crosshair-toggle' },
  }, h('span', { class: 'crosshair-icon', 'aria-hidden': 'true' }));

  const on = () => !mark.hidden;
  const set = (show) => {
    mark.hidden = !show;
    button.setAttribute('aria-pressed', String(show));
    document.body.dataset.crosshair = show ? '1' : '';
    status.textContent = show ? '键盘选点：方向键移动地图，回车选定十字中心。' : '';
    if (show) canvas.focus();
  };
  button.addEventListener('click', () => set(!on()));

  canvas.addEventListener('keydown', (event) => {
    if (event.key === 'x' && !event.ctrlKey && !event.metaKey && !event.altKey) {
      set(!on());
      event.preventDefault();
      return;
    }
    if (!on()) return;
    if (event.key === 'Escape') {
      set(false);
      event.preventDefault();
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      clickCentre();
    }
  });

  /** A click at the centre, as the map's own click handlers receive one. */
  function clickCentre() {
    const rect = canvas.getBoundingClientRect();
    const original = new MouseEvent('click', {
      clientX: rect.left + rect.width / 2,
      clientY: rect.top + rect.height / 2,
      bubbles: false,
    });
    map.fire(new MapMouseEvent('click', map, original));
    const { lng, lat } = map.getCenter().wrap();
    status.textContent = `已选定 ${lng.toFixed(5)}, ${lat.toFixed(5)}`;
  }

  map.addControl({
    onAdd() {
      const group = h('div', { class: 'maplibregl-ctrl maplibregl-ctrl-group' }, button);
      return group;
    },
    onRemove() {},
  }, 'top-right');
}
