// Reporting an incident from the map: the dispatcher clicks where it is, sees
// at once which grid and leader it will go to (GET /api/locate), fills in
// what happened and sends it (POST /api/incidents). Possible duplicates the
// server finds nearby are listed with the answer.

import * as api from '../../api.js';
import { h, replaceChildren } from '../../dom.js';
import { SEVERITY, SOURCE } from './names.js';

/**
 * Show the report form for the point `[lon, lat]` in `view`.
 * `onReported({incident, duplicates})` once recorded; `onCancel()`.
 */
export function showReportForm(view, [lon, lat], ctx, { onReported, onCancel }) {
  const where = h('div', { class: 'report-where', dataset: { test: 'report-where' } },
    h('p', { class: 'muted' }, '正在确定所属网格……'));
  const category = h('select', { required: true, dataset: { test: 'report-category' } },
    [...ctx.categories.values()].map((c) => h('option', { value: c.code }, c.name)));
  const severity = h('select', { dataset: { test: 'report-severity' } },
    Object.entries(SEVERITY).map(([code, label]) => h('option', { value: code }, label)));
  const source = h('select', { dataset: { test: 'report-source' } },
    Object.entries(SOURCE).map(([code, label]) => h('option', { value: code, selected: code === 'hotline' }, label)));
  const description = h('textarea', { rows: 3, required: true, maxlength: 4000,
    placeholder: '发生了什么（必填）', dataset: { test: 'report-description' } });
  const reporterName = h('input', { type: 'text', placeholder: '报告人姓名', dataset: { test: 'report-reporter-name' } });
  const reporterPhone = h('input', { type: 'tel', placeholder: '报告人电话', dataset: { test: 'report-reporter-phone' } });
  const message = h('p', { class: 'action-message', role: 'status', dataset: { test: 'report-message' } });
  const send = h('button', { type: 'submit', class: 'action', dataset: { test: 'report-submit' } }, '上报');

  replaceChildren(view, h('form', {
    class: 'stack report-form',
    dataset: { test: 'report-form' },
    onsubmit: async (event) => {
      event.preventDefault();
      const report = {
        category: category.value,
        description: description.value.trim(),
        lon,
        lat,
        severity: severity.value,
        source: source.value,
      };
      if (reporterName.value.trim()) {
        report.reporter = { name: reporterName.value.trim(), phone: reporterPhone.value.trim() };
      }
      send.disabled = true;
      message.className = 'action-message';
      message.textContent = '正在上报……';
      try {
        onReported(await api.reportIncident(report));
      } catch (error) {
        message.className = 'action-message error';
        message.textContent = `上报未成功：${error.message}`;
        send.disabled = false;
      }
    },
  },
  h('h2', { class: 'section-heading' }, '上报事件'),
  h('p', { class: 'point' }, `位置：${lon.toFixed(5)}, ${lat.toFixed(5)}`),
  where,
  h('label', { class: 'field' }, h('span', {}, '类别'), category),
  h('label', { class: 'field' }, h('span', {}, '严重程度'), severity),
  h('label', { class: 'field' }, h('span', {}, '来源'), source),
  description,
  h('div', { class: 'row' }, reporterName, reporterPhone),
  h('div', { class: 'row' }, send,
    h('button', { type: 'button', class: 'action secondary', onclick: onCancel }, '取消')),
  message));
  description.focus();

  // Who will handle it depends on the severity: minor stays in the deepest
  // grid, major goes to the town, critical to the county.
  let chain = null;
  const showWhere = () => {
    if (!chain) return;
    const handler = severity.value === 'critical' ? null
      : severity.value === 'major' ? chain[0] : chain.at(-1);
    if (!handler) {
      replaceChildren(where, h('p', { class: 'notice', dataset: { test: 'report-grid' } },
        chain.length ? '将由县综治中心办理。' : '该位置不在本县任何网格内，将由县综治中心办理。'));
      return;
    }
    const leader = handler.leader ? `${handler.leader.name} ${handler.leader.phone}` : '未登记';
    replaceChildren(where,
      h('p', {}, '将交由 ', h('strong', { dataset: { test: 'report-grid' } }, handler.name), ' 办理'),
      h('p', { class: 'muted', dataset: { test: 'report-leader' } }, `负责人：${leader}`));
  };
  severity.addEventListener('change', showWhere);
  api.locate(lon, lat).then((answer) => {
    chain = answer.chain;
    showWhere();
  }).catch((error) => {
    replaceChildren(where, h('p', { class: 'error' }, error.message));
  });
}
