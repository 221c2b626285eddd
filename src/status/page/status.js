// The status page's script: plain browser JavaScript, no build step, no
// framework. Everything it shows is set with textContent (never HTML built
// from data). Figures come from the page's event stream (/api/stream);
// tables are fetched from the JSON API, links one page at a time.
'use strict';

(function () {
  const LINKS_PER_PAGE = 50;
  let csrfToken = null;
  let stream = null;
  let chart = null;
  let chartData = [[], [], []];
  let linkOffset = 0;
  let refreshing = false;
  let refreshAgain = false;
  let keysStale = true;
  let pendingAction = null;

  const $ = (id) => document.getElementById(id);

  // ---- formatting ----
  function bytes(n) {
    if (n === null || n === undefined) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    let v = n;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 ? String(Math.round(v)) : v.toFixed(v >= 100 ? 0 : 1)) + ' ' + units[i];
  }
  function rate(n) { return n === null || n === undefined ? '–' : bytes(n) + '/s'; }
  function age(ms) {
    const s = Math.floor(ms / 1000);
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' d';
  }
  function when(iso) { return iso ? new Date(iso).toLocaleString() : '–'; }

  function cell(tr, text, className) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    tr.appendChild(td);
    return td;
  }
  function actionButton(td, label, action, id, description) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'row-action';
    b.textContent = label;
    b.dataset.action = action;
    b.dataset.id = id;
    b.dataset.description = description;
    td.appendChild(b);
  }
  /** A row with data attributes (what tests and actions find it by) and its cells: text, or [text, class]. */
  function row(data, cells) {
    const tr = document.createElement('tr');
    Object.assign(tr.dataset, data);
    for (const c of cells) {
      if (Array.isArray(c)) cell(tr, c[0], c[1]);
      else cell(tr, c);
    }
    return tr;
  }
  function replaceRows(tbody, rows) {
    const fragment = document.createDocumentFragment();
    for (const row of rows) fragment.appendChild(row);
    tbody.replaceChildren(fragment);
  }

  // ---- API ----
  async function api(path, options) {
    const init = Object.assign({ credentials: 'same-origin', headers: {} }, options || {});
    if (init.method === 'POST' && csrfToken) init.headers['X-CSRF-Token'] = csrfToken;
    const res = await fetch(path, init);
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    if (res.status === 401) { showLogin(); throw new Error((body && body.error) || 'logged out'); }
    if (!res.ok) throw new Error((body && body.error) || ('HTTP ' + res.status));
    return body;
  }

  // ---- login ----
  function showLogin(message) {
    stopStream();
    csrfToken = null;
    $('app').hidden = true;
    $('logout').hidden = true;
    $('live').hidden = true;
    $('login').hidden = false;
    const error = $('login-error');
    error.hidden = !message;
    error.textContent = message || '';
  }

  async function login(event) {
    event.preventDefault();
    const key = $('key').value;
    const res = await fetch('/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ key: key }).toString(),
    });
    $('key').value = '';
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    if (!res.ok) { showLogin((body && body.error) || ('HTTP ' + res.status)); return; }
    start(body.csrfToken);
  }

  async function logout() {
    try { await api('/api/logout', { method: 'POST' }); } catch (e) { /* logged out either way */ }
    showLogin();
  }

  // ---- the app ----
  function start(token) {
    csrfToken = token;
    $('login').hidden = true;
    $('app').hidden = false;
    $('logout').hidden = false;
    keysStale = true;
    openStream();
    refresh();
  }

  function openStream() {
    stopStream();
    stream = new EventSource('/api/stream');
    stream.addEventListener('hello', (e) => {
      const hello = JSON.parse(e.data);
      chartData = [[], [], []];
      for (const t of hello.history) pushFigures(t);
      if (hello.history.length > 0) showFigures(hello.history[hello.history.length - 1]);
      drawChart();
      $('events').replaceChildren();
      addEvents(hello.events);
      setLive(true);
    });
    stream.addEventListener('tick', (e) => {
      const t = JSON.parse(e.data);
      // How many ticks this page has drawn: something a test (or a curious admin) can wait for.
      document.body.dataset.ticks = String(Number(document.body.dataset.ticks || 0) + 1);
      showFigures(t);
      pushFigures(t);
      drawChart();
      refresh();
    });
    stream.addEventListener('events', (e) => {
      const batch = JSON.parse(e.data);
      addEvents(batch.events);
      if (batch.dropped > 0) $('events-dropped').textContent = '(' + batch.dropped + ' not shown: too many at once)';
      if (batch.events.some((ev) => ev.kind === 'keyCreated' || ev.kind === 'keyRevoked')) keysStale = true;
    });
    stream.onerror = () => {
      setLive(false);
      // A stream refused or ended because the session ended: the API says so.
      api('/api/session').catch(() => {});
    };
  }

  function stopStream() {
    if (stream) stream.close();
    stream = null;
  }

  function setLive(on) {
    const live = $('live');
    live.hidden = false;
    live.textContent = on ? 'live' : 'reconnecting';
    live.classList.toggle('down', !on);
  }

  function showFigures(t) {
    $('fig-routes').textContent = String(t.routes);
    $('fig-links').textContent = String(t.links);
    $('fig-waiting').textContent = String(t.waitingDialers);
    $('fig-dials').textContent = t.dialsPerSecond.toFixed(1);
    $('fig-in').textContent = rate(t.inPerSecond);
    $('fig-out').textContent = rate(t.outPerSecond);
    const codes = Object.keys(t.refusals);
    const items = codes.length === 0 ? [chip('none', true)] : codes.map((code) => chip(code + ': ' + t.refusals[code]));
    $('refusals').replaceChildren(...items);
  }
  function chip(text, muted) {
    const li = document.createElement('li');
    li.textContent = text;
    if (muted) li.className = 'muted';
    return li;
  }

  function pushFigures(t) {
    chartData[0].push(t.time);
    chartData[1].push(t.inPerSecond);
    chartData[2].push(t.outPerSecond);
    const max = 600;
    if (chartData[0].length > max) for (const series of chartData) series.shift();
  }

  function drawChart() {
    const box = $('chart');
    const width = Math.max(200, box.clientWidth);
    if (!chart) {
      const css = getComputedStyle(document.documentElement);
      const color = (name) => css.getPropertyValue(name).trim();
      const axis = { stroke: color('--muted'), grid: { stroke: color('--line') }, ticks: { stroke: color('--line') } };
      chart = new window.uPlot({
        width: width,
        height: 220,
        series: [
          {},
          { label: 'in', stroke: color('--in'), width: 2, value: (u, v) => rate(v) },
          { label: 'out', stroke: color('--out'), width: 2, value: (u, v) => rate(v) },
        ],
        axes: [
          // Whole seconds and up: the samples are 1 s apart, so sub-second ticks say nothing.
          Object.assign({ incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600], values: (u, vals) => vals.map((v) => new Date(v * 1000).toLocaleTimeString()), space: 90 }, axis),
          Object.assign({ values: (u, vals) => vals.map((v) => rate(v)), size: 80 }, axis),
        ],
        scales: { y: { range: (u, min, max) => [0, Math.max(1024, max)] } },
      }, chartData, box);
    } else {
      if (Math.abs(chart.width - width) > 4) chart.setSize({ width: width, height: 220 });
      chart.setData(chartData);
    }
  }

  function addEvents(events) {
    const list = $('events');
    for (const ev of events) {
      const li = document.createElement('li');
      li.dataset.kind = ev.kind;
      const time = document.createElement('time');
      time.dateTime = ev.time;
      time.textContent = new Date(ev.time).toLocaleTimeString();
      li.appendChild(time);
      li.appendChild(document.createTextNode(ev.kind + ' ' + (ev.subject || '') + ' ' + ev.name + (ev.reason ? ' (' + ev.reason + ')' : '')));
      list.prepend(li);
    }
    while (list.children.length > 200) list.lastElementChild.remove();
  }

  // ---- tables: at most one refresh in flight, one more queued ----
  async function refresh() {
    if (refreshing) { refreshAgain = true; return; }
    refreshing = true;
    try {
      const [routes, links] = await Promise.all([api('/api/routes?limit=200'), api('/api/links?offset=' + linkOffset + '&limit=' + LINKS_PER_PAGE)]);
      showRoutes(routes);
      showLinks(links);
      if (keysStale) {
        keysStale = false;
        showKeys(await api('/api/keys?limit=200'));
      }
    } catch (e) {
      // Shown by the next tick, or by the login form when the session ended.
    } finally {
      refreshing = false;
      if (refreshAgain) { refreshAgain = false; refresh(); }
    }
  }

  function showRoutes(page) {
    $('routes-count').textContent = '(' + page.total + ')';
    replaceRows($('routes').tBodies[0], page.items.map((r) => {
      const tr = row({ routeId: r.id, path: r.path }, [
        r.path, r.state, r.policy, [String(r.spares), 'num'], [String(r.waitingDialers), 'num'], [String(r.activeLinks), 'num'],
        r.keyLabel || r.keyId, r.address, age(r.ageMs),
      ]);
      const actions = cell(tr, '');
      if (r.state !== 'draining') actionButton(actions, 'Drain', 'drain-route', r.id, 'Drain route ' + r.path + '? New dials will not reach it; open links run on.');
      actionButton(actions, 'Close', 'close-route', r.id, 'Close route ' + r.path + '? Its listener is disconnected (it may reconnect).');
      return tr;
    }));
  }

  function showLinks(page) {
    linkOffset = page.offset;
    $('links-count').textContent = '(' + page.total + ')';
    const first = page.total === 0 ? 0 : page.offset + 1;
    $('links-page').textContent = first + '–' + (page.offset + page.items.length) + ' of ' + page.total;
    $('links-prev').disabled = page.offset === 0;
    $('links-next').disabled = page.offset + page.limit >= page.total;
    replaceRows($('links').tBodies[0], page.items.map((l) => {
      const tr = row({ linkId: l.id, path: l.path }, [
        l.path, l.dialerAddress, l.listenerAddress || '–', age(l.ageMs),
        [bytes(l.bytesToListener), 'num bytes-in'], [bytes(l.bytesToDialer), 'num bytes-out'],
        [rate(l.rateToListener), 'num'], [rate(l.rateToDialer), 'num'],
      ]);
      // The exact counts, for whoever reads the DOM (the browser test waits on them).
      tr.querySelector('.bytes-in').dataset.bytes = String(l.bytesToListener);
      tr.querySelector('.bytes-out').dataset.bytes = String(l.bytesToDialer);
      actionButton(cell(tr, ''), 'Disconnect', 'close-link', l.id, 'Disconnect link ' + l.id + ' on ' + l.path + '? Both sides are closed at once.');
      return tr;
    }));
  }

  function showKeys(page) {
    replaceRows($('keys').tBodies[0], page.items.map((k) => {
      const tr = row({ keyId: k.id }, [
        k.label || '–', k.id, k.role, k.scopes.length === 0 ? 'every path' : k.scopes.join(' '), when(k.expiresAt), when(k.revokedAt),
      ]);
      if (k.revokedAt) tr.className = 'revoked';
      const actions = cell(tr, '');
      if (!k.revokedAt) actionButton(actions, 'Revoke', 'revoke-key', k.id, 'Revoke key ' + (k.label || k.id) + '? What it holds is closed now, and it can never be used again.');
      return tr;
    }));
  }

  // ---- actions, each confirmed in a dialog ----
  const ACTION_PATHS = {
    'close-link': (id) => '/api/links/' + encodeURIComponent(id) + '/close',
    'close-route': (id) => '/api/routes/' + encodeURIComponent(id) + '/close',
    'drain-route': (id) => '/api/routes/' + encodeURIComponent(id) + '/drain',
    'revoke-key': (id) => '/api/keys/' + encodeURIComponent(id) + '/revoke',
  };

  function askToConfirm(button) {
    pendingAction = { action: button.dataset.action, id: button.dataset.id };
    $('confirm-text').textContent = button.dataset.description;
    $('confirm-option').hidden = pendingAction.action !== 'close-route';
    $('confirm-links').checked = false;
    $('confirm').showModal();
  }

  async function confirmed() {
    if ($('confirm').returnValue !== 'ok' || !pendingAction) return;
    const { action, id } = pendingAction;
    pendingAction = null;
    const body = action === 'close-route' ? JSON.stringify({ closeLinks: $('confirm-links').checked }) : '';
    const result = $('result');
    try {
      const answer = await api(ACTION_PATHS[action](id), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body });
      result.textContent = answer.message;
      result.classList.remove('failed');
    } catch (e) {
      result.textContent = e.message;
      result.classList.add('failed');
    }
    result.hidden = false;
    if (action === 'revoke-key') keysStale = true;
    refresh();
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', (e) => { login(e).catch((err) => showLogin(err.message)); });
    $('logout').addEventListener('click', () => { logout(); });
    $('links-prev').addEventListener('click', () => { linkOffset = Math.max(0, linkOffset - LINKS_PER_PAGE); refresh(); });
    $('links-next').addEventListener('click', () => { linkOffset += LINKS_PER_PAGE; refresh(); });
    $('app').addEventListener('click', (e) => {
      const button = e.target.closest('button[data-action]');
      if (button) askToConfirm(button);
    });
    $('confirm').addEventListener('close', () => { confirmed(); });
    window.addEventListener('resize', () => { if (chart) drawChart(); });
    fetch('/api/session', { credentials: 'same-origin' }).then(async (res) => {
      if (!res.ok) { showLogin(); return; }
      const session = await res.json();
      start(session.csrfToken);
    }, () => showLogin('the relay did not answer'));
  });
})();
