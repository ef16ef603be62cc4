// The login page: shown instead of the map when nobody is logged in (or the
// session has ended). A login sets the session cookie (HTTP-only, so no
// script here ever sees it) and reloads the page, which then starts as the
// user: the map shows only what their role and grid allow.

import * as api from './api.js';
import { h } from './dom.js';

/** Replace the page with the login form. */
export function showLogin(root, reason) {
  const name = h('input', { type: 'text', name: 'login', autocomplete: 'username', required: true,
    autocapitalize: 'off', spellcheck: 'false', dataset: { test: 'login-name' } });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password',
    required: true, dataset: { test: 'login-password' } });
  const message = h('p', { class: 'error', role: 'alert', dataset: { test: 'login-message' } }, reason ?? '');
  const send = h('button', { type: 'submit', class: 'action', dataset: { test: 'login-submit' } }, '登录');
  const form = h('form', {
    class: 'login-form stack',
    dataset: { test: 'login-form' },
    onsubmit: async (event) => {
      event.preventDefault();
      send.disabled = true;
      message.textContent = '';
      try {
        await api.login(name.value.trim(), password.value);
        window.location.reload();
      } catch (error) {
        message.textContent = error.status === 401 ? '用户名或密码错误。' : `登录失败：${error.message}`;
        send.disabled = false;
        password.select();
      }
    },
  },
  h('h1', { class: 'login-title' }, '网格地图 ', h('small', {}, '清水县')),
  h('label', { class: 'field' }, h('span', {}, '用户名'), name),
  h('label', { class: 'field' }, h('span', {}, '密码'), password),
  send,
  message);
  root.replaceChildren(h('main', { class: 'login-page', dataset: { test: 'login-page' } }, form));
  name.focus();
}

/** Who the user is, and a logout button, for the panel's header; for a
 * visitor of a published map, a login button. */
export function userBadge(me) {
  if (!me.user) {
    const login = h('button', {
      type: 'button',
      class: 'action secondary small',
      dataset: { test: 'login-open' },
      onclick: () => showLogin(document.getElementById('app')),
    }, '登录');
    return h('div', { class: 'user-badge', dataset: { test: 'user-badge', role: 'anonymous' } },
      h('span', { class: 'muted' }, '公开网格地图'), ' ', login);
  }
  const out = h('button', {
    type: 'button',
    class: 'action secondary small',
    dataset: { test: 'logout' },
    onclick: async () => {
      await api.logout();
      window.location.reload();
    },
  }, '退出');
  return h('div', { class: 'user-badge', dataset: { test: 'user-badge', role: me.user.role, login: me.user.login } },
    h('span', {}, me.user.display_name), ' ', h('span', { class: 'muted' }, ROLE_NAMES[me.user.role] ?? me.user.role),
    ' ', out);
}

/** The roles in Chinese. */
const ROLE_NAMES = {
  admin: '管理员',
  planner: '规划员',
  dispatcher: '调度员',
  grid_leader: '网格长',
  grid_member: '网格员',
  department: '部门联络员',
  viewer: '只读用户',
};
