// The search box at the top of the panel: grids by name, id or code
// (GET /api/grids/search), best matches first. Picking one flies the map to
// it, outlines it and shows its chain (features/info.js does that on the
// `grid-selected` event).

import * as api from '../api.js';
import { h, replaceChildren } from '../dom.js';

/** Wait this long after the last keystroke before asking the server. */
const DEBOUNCE_MS = 200;
const LIMIT = 12;

export function install(ctx) {
  const { panel, bus } = ctx;
  const input = h('input', {
    type: 'search',
    class: 'search-input',
    placeholder: '搜索网格名称或编码',
    'aria-label': '搜索网格',
    autocomplete: 'off',
    enterkeyhint: 'search',
    role: 'combobox',
    'aria-expanded': 'false',
    'aria-controls': 'search-results',
    dataset: { test: 'search-input' },
  });
  const list = h('ul', { id: 'search-results', class: 'search-results', role: 'listbox', hidden: true,
    dataset: { test: 'search-results' } });
  panel.top.append(h('div', { class: 'search', role: 'search' }, input, list));

  let timer = 0;
  let controller = null;
  let results = [];
  let active = -1;

  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    active = -1;
  };

  const pick = (hit) => {
    close();
    input.value = hit.name;
    input.blur();
    bus.dispatchEvent(new CustomEvent('grid-selected', { detail: { id: hit.id, bbox: hit.bbox } }));
  };

  const render = (query) => {
    if (results.length === 0) {
      replaceChildren(list, h('li', { class: 'search-empty muted' }, `没有找到“${query}”`));
    } else {
      replaceChildren(list, results.map((hit, i) => {
        const level = ctx.levels.find((l) => l.level === hit.level);
        return h('li', {
          role: 'option',
          class: i === active ? 'search-result active' : 'search-result',
          'aria-selected': String(i === active),
          dataset: { test: 'search-result', gridId: hit.id },
          // mousedown, not click: it fires before the input's blur closes the list.
          onmousedown: (event) => {
            event.preventDefault();
            pick(hit);
          },
        },
        h('span', { class: 'level-badge', style: level ? `--level-colour: ${level.colour}` : null },
          level?.name ?? `第${hit.level}级`),
        h('span', { class: 'search-name' }, hit.name),
        h('span', { class: 'search-path muted' }, [...(hit.path ?? []), hit.code ?? hit.id].join(' · ')));
      }));
    }
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  };

  const run = async () => {
    const query = input.value.trim();
    controller?.abort();
    if (!query) {
      close();
      return;
    }
    controller = new AbortController();
    try {
      const answer = await api.searchGrids(query, LIMIT, { signal: controller.signal });
      results = answer.results;
      active = -1;
      render(query);
    } catch (error) {
      if (error.name === 'AbortError') return;
      replaceChildren(list, h('li', { class: 'error' }, error.message));
      list.hidden = false;
    }
  };

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(run, DEBOUNCE_MS);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      if (list.hidden || results.length === 0) return;
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      active = (active + step + results.length) % results.length;
      render(input.value.trim());
    } else if (event.key === 'Enter') {
      event.preventDefault();
      clearTimeout(timer);
      const hit = results[Math.max(active, 0)];
      if (!list.hidden && hit) pick(hit);
      else run();
    } else if (event.key === 'Escape') {
      close();
    }
  });
  input.addEventListener('blur', () => setTimeout(close, 150));
  input.addEventListener('focus', () => {
    if (results.length && input.value.trim()) render(input.value.trim());
  });
}
