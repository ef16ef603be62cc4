// 设置: the online base map and the distance under which a located point
// counts as near a border. The base map is none by default (the map needs
// nothing outside this server), Tianditu (天地图, CGCS2000, no offset: the
// documented choice) given its key, or any `{z}/{x}/{y}` tile URL. Values
// persist in localStorage (src/settings.js); `?basemap=URL`,
// `?tianditu=KEY` and `?border=METRES` in the page URL set them too. A
// GCJ-02 or BD-09 service (高德, 腾讯, 百度) is refused with the reason and
// Tianditu offered instead; a base map that cannot be loaded is reported.

import { h } from '../dom.js';
import { setBasemap } from '../map.js';
import {
  MAX_BORDER_WARNING_M, TIANDITU, TIANDITU_ATTRIBUTION, labelsUrlFor, offsetProvider, parseBasemapUrl,
  parseBorderWarningM, parseTiandituKey, tiandituOf, tiandituUrl,
} from '../settings.js';

export function install(ctx) {
  const { map, panel, settings } = ctx;
  const body = panel.addSection({ id: 'settings', title: '设置', order: 90 });

  // Which base map: none, one of Tianditu's (with its key) or an address.
  const stored = settings.get('basemapUrl');
  const storedTianditu = tiandituOf(stored);
  const sourceSelect = h('select', { class: 'text-input', dataset: { test: 'basemap-source' } },
    h('option', { value: '' }, '不加载底图（离线可用）'),
    ...Object.entries(TIANDITU).map(([kind, { name }]) => h('option', { value: kind }, name)),
    h('option', { value: 'custom' }, '其他瓦片地址'));
  sourceSelect.value = storedTianditu ? storedTianditu.kind : stored ? 'custom' : '';
  const keyInput = h('input', {
    type: 'text',
    class: 'text-input',
    placeholder: '32 位字母和数字',
    autocomplete: 'off',
    spellcheck: false,
    value: storedTianditu?.key ?? '',
    dataset: { test: 'tianditu-key' },
  });
  const basemapInput = h('input', {
    type: 'url',
    class: 'text-input',
    placeholder: 'https://…/{z}/{x}/{y}.png',
    value: storedTianditu ? '' : stored,
    dataset: { test: 'basemap-url' },
  });
  const attributionInput = h('input', {
    type: 'text',
    class: 'text-input',
    placeholder: '底图版权说明（可选）',
    value: storedTianditu ? '' : settings.get('basemapAttribution'),
  });
  const keyField = h('label', { class: 'field column' }, h('span', {}, '天地图密钥'), keyInput,
    h('span', { class: 'muted small' },
      '请在天地图官网的开发者控制台申请“浏览器端”密钥。天地图采用 2000 国家大地坐标系，与网格无偏移。'));
  const customFields = [
    h('label', { class: 'field column' }, h('span', {}, '底图瓦片地址'), basemapInput),
    h('label', { class: 'field column' }, h('span', {}, '底图版权'), attributionInput),
    h('p', { class: 'muted small' }, '地址中用 {z}、{x}、{y} 表示瓦片编号。'),
  ];
  const showFields = () => {
    keyField.hidden = !Object.hasOwn(TIANDITU, sourceSelect.value);
    for (const field of customFields) field.hidden = sourceSelect.value !== 'custom';
  };
  sourceSelect.addEventListener('change', showFields);
  showFields();
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
    h('label', { class: 'field column' }, h('span', {}, '在线底图'), sourceSelect),
    keyField,
    ...customFields,
    h('label', { class: 'field' }, h('span', {}, '边界提醒距离（米）'), borderInput),
    h('div', { class: 'buttons' },
      h('button', { type: 'submit', class: 'button primary' }, '保存'),
      h('button', {
        type: 'button',
        class: 'button',
        onclick: () => {
          sourceSelect.value = '';
          showFields();
          form.requestSubmit();
        },
      }, '清除底图')),
    status);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const source = sourceSelect.value;
    let url = '';
    let attribution = '';
    if (Object.hasOwn(TIANDITU, source)) {
      const key = parseTiandituKey(keyInput.value);
      if (key === undefined) {
        status.textContent = '天地图密钥应为 32 位字母和数字，请从天地图开发者平台复制。';
        keyInput.focus();
        return;
      }
      url = tiandituUrl(source, key);
      attribution = TIANDITU_ATTRIBUTION;
    } else if (source === 'custom') {
      const offset = offsetProvider(basemapInput.value);
      if (offset) {
        status.textContent = `${offset.name}的瓦片采用 ${offset.crs} 偏移坐标，道路会与网格相差数百米，不能用作底图。`
          + '请在“在线底图”中改选天地图（CGCS2000，无偏移；需天地图密钥）。';
        return;
      }
      url = parseBasemapUrl(basemapInput.value);
      if (!url) {
        status.textContent = '底图地址需以 http:// 或 https:// 开头，并包含 {z}、{x}、{y}。';
        basemapInput.focus();
        return;
      }
      attribution = attributionInput.value.trim();
    }
    const metres = parseBorderWarningM(borderInput.value);
    if (metres === undefined) {
      status.textContent = `边界提醒距离应为 1 到 ${MAX_BORDER_WARNING_M} 米。`;
      return;
    }
    settings.set('basemapAttribution', attribution);
    settings.set('basemapUrl', url);
    settings.set('borderWarningM', metres);
    status.textContent = '已保存。';
  });
  body.append(form);

  // Tianditu is always credited as Tianditu, and its credit never goes on
  // another service's tiles (a link's ?basemap= or ?tianditu= changes the
  // address alone).
  const applyBasemap = () => {
    const url = settings.get('basemapUrl');
    const tianditu = tiandituOf(url);
    const stored = settings.get('basemapAttribution');
    const credit = tianditu ? TIANDITU_ATTRIBUTION : stored === TIANDITU_ATTRIBUTION ? '' : stored;
    setBasemap(map, url, credit, labelsUrlFor(url), tianditu ? TIANDITU[tianditu.kind].maxzoom : 18);
  };
  // A base map that cannot be reached says so once, instead of failing
  // silently behind the grids.
  let reported = '';
  map.on('error', (event) => {
    const url = settings.get('basemapUrl');
    if (!event.sourceId?.startsWith('basemap') || !url || reported === url) return;
    reported = url;
    status.textContent = `底图无法加载（${url}）：请检查地址、密钥和网络。网格照常显示。`;
    status.dataset.test = 'basemap-error';
  });
  settings.addEventListener('change', (event) => {
    if (event.detail.key.startsWith('basemap')) applyBasemap();
  });
  applyBasemap();
}
