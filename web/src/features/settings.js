// 设置: the raster base map (a `{z}/{x}/{y}` tile URL; none by default, so
// the map needs nothing outside this server) and the distance under which a
// located point counts as near a border. Values persist in localStorage
// (src/settings.js); `?basemap=URL` and `?border=METRES` in the page URL set
// them too.

import { h } from '../dom.js';
import { setBasemap } from '../map.js';
import { MAX_BORDER_WARNING_M, parseBasemapUrl, parseBorderWarningM } from '../settings.js';

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
    step: '5',
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
  settings.addEventListener('change', (event) => {
    if (event.detail.key.startsWith('basemap')) applyBasemap();
  });
  applyBasemap();
}
