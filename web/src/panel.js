// The panel shell that every feature puts its user interface into: a fixed
// top area (the search box), a row of tabs and one section per tab. On wide
// screens it is a side panel; on phones (see styles.css) a bottom sheet with
// three heights (peek: top area only, half, full) that the handle cycles.
//
// A feature adds a section and fills it:
//
//   const body = panel.addSection({ id: 'incidents', title: '事件', order: 30 });
//   body.append(...);
//   panel.show('incidents');       // e.g. when the user clicks an incident
//
// Ids become `data-test="tab-<id>"` and `data-test="section-<id>"` for tests.

import { h } from './dom.js';

const SHEET_STATES = ['peek', 'half', 'full'];

export class Panel {
  /** @param {HTMLElement} root the `#panel` element of index.html */
  constructor(root) {
    this.root = root;
    this.top = root.querySelector('#panel-top');
    this.tabs = root.querySelector('#panel-tabs');
    this.sectionsEl = root.querySelector('#panel-sections');
    this.sections = new Map();
    root.querySelector('#sheet-handle').addEventListener('click', () => this.cycleSheet());
  }

  /**
   * Add a tabbed section; returns its (empty) body element. Sections are
   * ordered by `order`, then by the order they were added.
   */
  addSection({ id, title, order = 100 }) {
    if (this.sections.has(id)) throw new Error(`panel section ${id} exists already`);
    const tab = h('button', {
      type: 'button',
      role: 'tab',
      id: `tab-${id}`,
      'aria-controls': `section-${id}`,
      'aria-selected': 'false',
      class: 'panel-tab',
      dataset: { test: `tab-${id}` },
      onclick: () => this.show(id),
    }, title);
    const body = h('section', {
      role: 'tabpanel',
      id: `section-${id}`,
      'aria-labelledby': `tab-${id}`,
      class: 'panel-section',
      hidden: true,
      dataset: { test: `section-${id}` },
    });
    const entry = { id, order, tab, body, seq: this.sections.size };
    this.sections.set(id, entry);
    // Insert both in order.
    const sorted = [...this.sections.values()].sort((a, b) => a.order - b.order || a.seq - b.seq);
    this.tabs.replaceChildren(...sorted.map((s) => s.tab));
    this.sectionsEl.replaceChildren(...sorted.map((s) => s.body));
    if (this.sections.size === 1) this.show(id, { expand: false });
    return body;
  }

  /** The body of section `id`, or undefined when it was not added. */
  section(id) {
    return this.sections.get(id)?.body;
  }

  /** Bring a section to the front (a `section-shown` event on the root says which); on a phone, raise the sheet so it shows. */
  show(id, { expand = true } = {}) {
    for (const s of this.sections.values()) {
      const active = s.id === id;
      s.tab.setAttribute('aria-selected', String(active));
      s.tab.classList.toggle('active', active);
      s.body.hidden = !active;
    }
    this.active = id;
    this.root.dispatchEvent(new CustomEvent('section-shown', { detail: { id } }));
    if (expand && this.root.dataset.sheet === 'peek') this.setSheet('half');
  }

  /** Set the bottom sheet's height: 'peek', 'half' or 'full' (no effect on wide screens). */
  setSheet(state) {
    this.root.dataset.sheet = state;
  }

  cycleSheet() {
    const i = SHEET_STATES.indexOf(this.root.dataset.sheet);
    this.setSheet(SHEET_STATES[(i + 1) % SHEET_STATES.length]);
  }
}
