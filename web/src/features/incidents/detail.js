// One incident, as a dispatcher works on it: what and where, the grids it
// belongs to and who is responsible now, the next steps its process allows
// (one button each; a step that needs a note, a person or a date asks for it
// first), escalation (上移) and reassignment (改派), each with the reason the
// server requires, a note for the history (备注), and the history of every
// change, saying from whom to whom.

import * as api from '../../api.js';
import { h, replaceChildren } from '../../dom.js';
import { ACTION, EVENT_KIND, NEEDS, SEVERITY, SOURCE, STATUS, TIER, name, when } from './names.js';

/**
 * Show incident `id` in `view`; `may(capability)` says which steps to offer,
 * `levels` names the grid levels, `onChanged(incident)` is told of every
 * change made here (and shows it again). `stillWanted()` says whether the
 * answer should still be drawn when it comes. Returns a promise of the
 * incident shown (null when not shown).
 */
export async function showIncident(view, id, ctx, stillWanted = () => true) {
  replaceChildren(view, h('p', { class: 'muted' }, '正在读取……'));
  try {
    const { incident, history } = await api.incident(id);
    // Another incident (or the report form) took the view meanwhile.
    if (!stillWanted()) return null;
    render(view, incident, history, ctx);
    return incident;
  } catch (error) {
    if (!stillWanted()) return null;
    replaceChildren(view, h('p', { class: 'error', role: 'alert', dataset: { test: 'incident-error' } },
      error.message));
    return null;
  }
}

function render(view, incident, history, ctx) {
  const category = ctx.categories.get(incident.category)?.name ?? incident.category;
  const message = h('p', { class: 'action-message', role: 'status', dataset: { test: 'action-message' } });
  const form = h('div', { class: 'action-form', dataset: { test: 'action-form' } });

  const act = async (label, call) => {
    message.className = 'action-message';
    message.textContent = `${label}……`;
    try {
      // The owner of the view shows the changed incident again.
      ctx.onChanged(await call());
    } catch (error) {
      message.className = 'action-message error';
      message.textContent = `${label}未成功：${error.message}`;
    }
  };

  const dispatches = ctx.may('dispatch');
  const buttons = (dispatches ? incident.allowed_actions : []).map((action) => h('button', {
    type: 'button',
    class: action === 'dismiss' ? 'action secondary' : 'action',
    dataset: { test: `action-${action}` },
    onclick: () => openForm(form, action, incident, ctx, act),
  }, name(ACTION, action)));
  if (dispatches && incident.can_escalate) {
    buttons.push(h('button', {
      type: 'button',
      class: 'action secondary',
      dataset: { test: 'action-escalate' },
      onclick: () => openForm(form, 'escalate', incident, ctx, act),
    }, '上移一级'));
  }
  const finished = ['closed', 'dismissed'].includes(incident.status);
  if (dispatches && !finished) {
    buttons.push(h('button', {
      type: 'button',
      class: 'action secondary',
      dataset: { test: 'action-reassign' },
      onclick: () => openForm(form, 'reassign', incident, ctx, act),
    }, '改派'));
  }
  // Steps of the process (and 上移, 改派) come first; a note can always
  // be added, also once the process has ended.
  const processSteps = buttons.length;
  if (ctx.may('report')) {
    buttons.push(h('button', {
      type: 'button',
      class: 'action secondary',
      dataset: { test: 'action-note-add' },
      onclick: () => openForm(form, 'note', incident, ctx, act),
    }, '添加备注'));
  }

  replaceChildren(view,
    h('div', { class: 'incident-title' },
      h('h2', { class: 'section-heading', dataset: { test: 'incident-title' } }, `#${incident.id} ${category}`),
      h('span', { class: `status-badge status-${incident.status}`, dataset: { test: 'incident-status',
        status: incident.status } }, name(STATUS, incident.status)),
      incident.overdue ? h('span', { class: 'overdue-badge', dataset: { test: 'incident-overdue' } }, '超期') : null),
    h('p', { class: 'incident-desc' }, incident.description),
    h('dl', { class: 'facts' },
      fact('严重程度', name(SEVERITY, incident.severity)),
      fact('来源', name(SOURCE, incident.source)),
      incident.reporter ? fact('报告人', `${incident.reporter.name} ${incident.reporter.phone}`.trim()) : null,
      fact('上报时间', when(incident.reported_at)),
      fact('位置', `${incident.location.lon.toFixed(5)}, ${incident.location.lat.toFixed(5)}`),
      fact('办理层级', name(TIER, incident.tier), 'incident-tier'),
      fact('负责人', incident.responsible
        ? [incident.responsible.name, ' ', phoneLink(incident.responsible.phone)]
        : '未指定', 'incident-responsible'),
      incident.owner ? fact('包案人', `${incident.owner.name} ${incident.owner.phone}`.trim()) : null,
      incident.follow_up_due ? fact('回访时间', when(incident.follow_up_due)) : null,
      fact('办理时限', when(incident.deadline))),
    h('h3', { class: 'subheading' }, '所属网格'),
    h('ol', { class: 'chain compact', dataset: { test: 'incident-chain' } }, incident.grids.map((g) => {
      const level = ctx.levels.find((l) => l.level === g.level);
      const finished = incident.status === 'closed' || incident.status === 'dismissed';
      const handling = !finished && g.id === incident.handling_grid;
      return h('li', {
        class: handling ? 'chain-item handling' : 'chain-item',
        style: level ? `--level-colour: ${level.colour}` : null,
        dataset: { test: `incident-grid-${g.level}`, gridId: g.id },
      },
      h('span', { class: 'level-badge' }, level?.name ?? `第${g.level}级`),
      h('strong', {}, g.name ?? g.id),
      handling ? h('span', { class: 'muted' }, '（办理中）') : null);
    })),
    dispatches && processSteps === 0
      ? h('p', { class: 'muted', dataset: { test: 'incident-finished' } }, '流程已结束。')
      : null,
    buttons.length
      ? h('div', { class: 'actions', dataset: { test: 'incident-actions' } }, buttons)
      : null,
    form,
    message,
    h('h3', { class: 'subheading' }, '办理记录'),
    h('ol', { class: 'history', dataset: { test: 'incident-history' } }, history.map((entry) =>
      h('li', { class: 'history-entry', dataset: { test: 'history-entry', kind: entry.kind,
        action: entry.action ?? '' } },
      h('div', { class: 'history-head' },
        h('strong', {}, entry.action ? name(ACTION, entry.action) : name(EVENT_KIND, entry.kind)),
        h('span', { class: 'muted' }, ` ${when(entry.at)} · ${entry.actor}`)),
      entry.status_from !== entry.status_to
        ? h('div', { class: 'muted' }, `${name(STATUS, entry.status_from)} → ${name(STATUS, entry.status_to)}`)
        : null,
      entry.tier_from !== entry.tier_to
        ? h('div', { class: 'muted' }, `${name(TIER, entry.tier_from)} → ${name(TIER, entry.tier_to)}`)
        : null,
      entry.person_to
        ? h('div', { class: 'muted', dataset: { test: 'history-people' } },
          `${entry.person_from?.name ?? '无'} → ${entry.person_to.name}`)
        : null,
      entry.note ? h('div', { class: 'history-note' }, entry.note) : null))));
}

/** The fields `action` needs, then a confirm button that sends it. */
function openForm(form, action, incident, ctx, act) {
  const own = { escalate: ['note'], reassign: ['person', 'note'], note: ['note'] };
  const needs = own[action] ?? NEEDS[action] ?? [];
  const label = { escalate: '上移一级', reassign: '改派', note: '添加备注' }[action] ?? name(ACTION, action);
  const required = needs.includes('note');
  const note = h('textarea', { rows: 2, required, placeholder: required ? '办理说明（必填）' : '办理说明（可选）',
    'aria-label': required ? '办理说明（必填）' : '办理说明（可选）', dataset: { test: 'action-note' } });
  // The browser's own "fill out this field" would be in its language.
  note.addEventListener('invalid', () => note.setCustomValidity('请填写办理说明'));
  note.addEventListener('input', () => note.setCustomValidity(''));
  const personName = h('input', { type: 'text', placeholder: '姓名', dataset: { test: 'action-person-name' } });
  const personPhone = h('input', { type: 'tel', placeholder: '电话', dataset: { test: 'action-person-phone' } });
  const due = h('input', { type: 'datetime-local', dataset: { test: 'action-due' } });
  const send = h('button', { type: 'submit', class: 'action', dataset: { test: 'action-confirm' } }, `确认${label}`);
  const cancel = h('button', { type: 'button', class: 'action secondary', onclick: () => replaceChildren(form) }, '取消');
  replaceChildren(form, h('form', {
    class: 'stack',
    dataset: { test: `action-form-${action}` },
    onsubmit: (event) => {
      event.preventDefault();
      // Spaces alone are no reason (the server would refuse them too).
      if (required && !note.value.trim()) {
        note.setCustomValidity('请填写办理说明');
        note.reportValidity();
        return;
      }
      const body = { version: incident.version };
      if (note.value.trim()) body.note = note.value.trim();
      const person = { name: personName.value.trim(), phone: personPhone.value.trim() };
      if (action === 'escalate') {
        act(label, () => api.escalateIncident(incident.id, body));
        return;
      }
      if (action === 'reassign') {
        act(label, () => api.reassignIncident(incident.id, { ...body, person }));
        return;
      }
      if (action === 'note') {
        act(label, () => api.noteIncident(incident.id, note.value.trim()));
        return;
      }
      body.action = action;
      if (needs.includes('person')) body.person = person;
      if (needs.includes('due') && due.value) body.due = new Date(due.value).toISOString();
      act(label, () => api.incidentAction(incident.id, body));
    },
  },
  h('strong', {}, label),
  needs.includes('person') ? h('div', { class: 'row' }, personName, personPhone) : null,
  needs.includes('due') ? h('label', { class: 'field' }, h('span', {}, '时间'), due) : null,
  note,
  h('div', { class: 'row' }, send, cancel)));
  note.focus();
}

function fact(label, value, test) {
  return [h('dt', {}, label), h('dd', { dataset: test ? { test } : undefined }, value)];
}

function phoneLink(phone) {
  if (!phone) return null;
  return h('a', { class: 'phone', href: `tel:${phone.replace(/[^\d+]/g, '')}` }, phone);
}
