// 设置: the raster base map (a `{z}/{x}/{y}` tile URL; none by default, so
// the map needs nothing outside this server) and the distance under which a
// located point counts as near a border. Values persist in localStorage
// (src/settings.js); `?basemap=URL` and `?border=METRES` in the page URL set
// them too. A GCJ-02 or BD-09 service (高德, 腾讯, 百度) is refused with the
// reason and Tianditu (CGCS2000, no offset) offered instead; a base map that
// cannot be loaded is reported.

import { h } from '../dom.js';
import { setBasemap } from '../map.js';
import { MAX_BORDER_WARNING_M, offsetProvider, parseBasemapUrl, parseBorderWarningM } from '../settings.js';

export function install(ctx) {
  const { map, panel, settings } = ctx;
  const body = panel.addSection({ id: 'settings', title: '设置', order: 90 });

  const basemapInput = h('input', {
    type: 'url',
    class: 'text-input',
    placeholder: 'https://…/{z}/{x}/{y}.png',
    value: settings.get('basemapUrl'),
    dataset: { test: 'basemap-url' },
  });
  const attributionInput = h('input', {
    type: 'text',
    class: 'text-input',
    placeholder: '底图版权说明（可选）',
    value: settings.get('basemapAttribution'),
  });
  const borderInput = h('input', {
    type: 'number',
    class: 'text-input narrow',
    min: '1',
    max: String(MAX_BORDER_WARNING_M),
    step: '1',
    value: String(settings.get('borderWarningM')),
    dataset: { test: 'border-warning-m' },
  });
  const status = h('p', { class: 'muted', role: 'status' });

  const form = h('form', { class: 'settings-form', dataset: { test: 'settings-form' } },
    h('label', { class: 'field column' }, h('span', {}, '底图瓦片地址'), basemapInput),
    h('label', { class: 'field column' }, h('span', {}, '底图版权'), attributionInput),
    h('p', { class: 'muted small' }, '留空则不加载底图（离线可用）。地址中用 {z}、{x}、{y} 表示瓦片编号。'),
    h('label', { class: 'field' }, h('span', {}, '边界提醒距离（米）'), borderInput),
    h('div', { class: 'buttons' },
      h('button', { type: 'submit', class: 'button primary' }, '保存'),
      h('button', {
        type: 'button',
        class: 'button',
        onclick: () => {
          basemapInput.value = '';
          attributionInput.value = '';
          form.requestSubmit();
        },
      }, '清除底图')),
    status);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const offset = offsetProvider(basemapInput.value);
    if (offset) {
      status.textContent = `${offset.name}的瓦片采用 ${offset.crs} 偏移坐标，道路会与网格相差数百米，不能用作底图。`
        + '请改用天地图（CGCS2000，无偏移；需天地图密钥），例如 '
        + 'https://t0.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default'
        + '&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=密钥';
      return;
    }
    const url = parseBasemapUrl(basemapInput.value);
    if (url === undefined) {
      status.textContent = '底图地址需以 http:// 或 https:// 开头，并包含 {z}、{x}、{y}。';
      return;
    }
    const metres = parseBorderWarningM(borderInput.value);
    if (metres === undefined) {
      status.textContent = `边界提醒距离应为 1 到 ${MAX_BORDER_WARNING_M} 米。`;
      return;
    }
    settings.set('basemapUrl', url);
    settings.set('basemapAttribution', attributionInput.value.trim());
    settings.set('borderWarningM', metres);
    status.textContent = '已保存。';
  });
  body.append(form);

  const applyBasemap = () => setBasemap(map, settings.get('basemapUrl'), settings.get('basemapAttribution'));
  // A base map that cannot be reached says so once, instead of failing
  // silently behind the grids.
  let reported = '';
  map.on('error', (event) => {
    const url = settings.get('basemapUrl');
    if (event.sourceId !== 'basemap' || !url || reported === url) return;
    reported = url;
    status.textContent = `底图无法加载（${url}）：请检查地址、密钥和网络。网格照常显示。`;
    status.dataset.test = 'basemap-error';
  });
  settings.addEventListener('change', (event) => {
    if (event.detail.key.startsWith('basemap')) applyBasemap();
  });
  applyBasemap();
}
