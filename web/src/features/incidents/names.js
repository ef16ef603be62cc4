// How incidents are named on screen. The server speaks in codes (statuses,
// actions, tiers …, see /api/openapi.json); these are the county's words for
// them. A code missing here is shown as it is.

export const STATUS = {
  collected: '已收集',
  verified: '已核实',
  studied: '已研判',
  assigned: '已交办',
  resolved: '已办结',
  closed: '已反馈办结',
  dismissed: '不予受理',
  found: '已发现',
  reported: '已上报',
  mediating: '调解中',
  owner_named: '已包案',
  follow_up: '回访中',
};

export const ACTION = {
  verify: '核实',
  study: '研判',
  assign: '交办',
  resolve: '办结',
  record_feedback: '记录反馈并结案',
  reopen: '重新办理',
  report: '上报',
  convene: '召集调解',
  name_owner: '指定包案人',
  schedule_follow_up: '安排回访',
  record_follow_up: '记录回访',
  dismiss: '不予受理',
};

/**
 * What each action needs besides the actor, as the server's
 * `Action::requires` says: a note, a person, a due time. The server checks
 * again; this only decides which fields the form shows.
 */
export const NEEDS = {
  assign: ['person'],
  name_owner: ['person'],
  schedule_follow_up: ['due'],
  record_feedback: ['note'],
  reopen: ['note'],
  record_follow_up: ['note'],
  dismiss: ['note'],
  resolve: ['note'],
};

export const TIER = {
  county: '县级',
  town: '乡镇',
  village: '村（社区）',
  group: '组',
  grid: '网格',
  patch: '片区',
};

export const SEVERITY = { minor: '一般', major: '较大', critical: '重大' };

export const SOURCE = { grid_member: '网格员', hotline: '热线', citizen: '群众', patrol: '巡查' };

export const EVENT_KIND = {
  created: '上报',
  transition: '办理',
  reassigned: '改派',
  escalated: '上移',
  note: '备注',
};

/** `code` in `table`, or the code itself. */
export function name(table, code) {
  return table[code] ?? code ?? '—';
}

export { when } from '../../dom.js';

/**
 * The possible-duplicates hint: how many open incidents of the category lie
 * within the server's `rule` ({radius_m, window_hours}, from the report's
 * answer): 附近 200 米、3 天内有 2 件同类未结事件.
 */
export function duplicateHint(count, rule) {
  const hours = rule?.window_hours ?? 72;
  const span = hours % 24 === 0 ? `${hours / 24} 天` : `${hours} 小时`;
  const radius = Math.round(rule?.radius_m ?? 200);
  return `附近 ${radius} 米、${span}内有 ${count} 件同类未结事件`;
}
