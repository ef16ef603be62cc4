// Reporting an incident from the map: the dispatcher clicks where it is, sees
// at once which grid and leader it will go to (GET /api/locate), fills in
// what happened and sends it (POST /api/incidents). Before it is sent, the
// open incidents of the same category nearby are listed as it is typed
// (POST /api/incidents?dry_run=true, which records nothing): a second call
// about the same thing can be linked to the first as a note in its history
// (并入) instead of becoming a case of its own.

import * as api from '../../api.js';
import { h, replaceChildren } from '../../dom.js';
import { SEVERITY, SOURCE, duplicateHint, name } from './names.js';

/**
 * Show the report form for the point `[lon, lat]` in `view`.
 * `onReported({incident, duplicates, duplicate_rule})` once recorded; `onLinked(id)` once
 * linked to an existing incident instead; `onCancel()`.
 */
export function showReportForm(view, [lon, lat], ctx, { onReported, onLinked, onCancel }) {
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
  const duplicates = h('div', { class: 'report-duplicates', dataset: { test: 'report-duplicates-before' } });

  replaceChildren(view, h('form', {
    class: 'stack report-form',
    dataset: { test: 'report-form' },
    onsubmit: async (event) => {
      event.preventDefault();
      const report = currentReport();
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
  duplicates,
  h('div', { class: 'row' }, send,
    h('button', { type: 'button', class: 'action secondary', onclick: onCancel }, '取消')),
  message));
  description.focus();

  function currentReport() {
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
    return report;
  }

  // Possible duplicates, asked for again when the category changes (the
  // text does not matter to the server's rule: same category, nearby,
  // recent, open).
  let previewTurn = 0;
  const preview = async () => {
    const mine = ++previewTurn;
    const report = { ...currentReport(), description: description.value.trim() || '（预览）' };
    try {
      const answer = await api.previewIncident(report);
      if (mine !== previewTurn) return;
      showPossibleDuplicates(answer.duplicates, answer.duplicate_rule);
    } catch {
      if (mine === previewTurn) replaceChildren(duplicates);
    }
  };
  const showPossibleDuplicates = (list, rule) => {
    view.dataset.duplicatesChecked = '1';
    if (!list?.length) {
      replaceChildren(duplicates);
      return;
    }
    replaceChildren(duplicates, h('div', { class: 'notice', role: 'status' },
      h('strong', {}, `${duplicateHint(list.length, rule)}，可能是同一件事：`),
      h('ul', { class: 'duplicate-list' }, list.map((d) => h('li', {
        dataset: { test: 'report-duplicate', incidentId: String(d.id) },
      },
      h('span', {}, `#${d.id} ${d.description}`),
      ctx.may('report') ? h('button', {
        type: 'button', class: 'action secondary', dataset: { test: 'report-link-duplicate' },
        onclick: (event) => link(d, event.currentTarget),
      }, '并入此事件，不另立案') : null)))));
  };
  const link = async (original, button) => {
    const report = currentReport();
    const who = report.reporter ? `${report.reporter.name} ${report.reporter.phone}`.trim() : '';
    // A note holds at most 4,000 characters; the call's words are cut to fit.
    const words = (report.description || '（未填写内容）').slice(0, 3800);
    const note = `重复上报（${name(SOURCE, report.source)}${who ? `，${who}` : ''}）：${words}`;
    button.disabled = true;
    message.className = 'action-message';
    message.textContent = '正在并入……';
    try {
      await api.noteIncident(original.id, note);
      onLinked?.(original.id);
    } catch (error) {
      message.className = 'action-message error';
      message.textContent = `并入未成功：${error.message}`;
      button.disabled = false;
    }
  };
  category.addEventListener('change', preview);
  preview();

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
