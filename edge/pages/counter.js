/*
 * fila — counter console (/counter) for agents and supervisors.
 *
 * Views: sign-in → choose a counter → console. The server is the source of
 * truth: after every action, and whenever the event stream says something
 * changed, the whole picture is reloaded from GET /api/v1/queue. Action
 * answers are applied immediately too so the agent never waits for that
 * round trip to see the result of a click.
 */
(function () {
  'use strict';
  const F = window.Fila;
  const { api, ApiError, applyI18n, langSwitcher, fmtTime, minutesSince, h, reconcileList, debounce, ticketBadge } = F;
  const t = window.t;
  const $ = (id) => document.getElementById(id);

  const SS = { token: 'fila.staffToken', role: 'fila.staffRole', name: 'fila.staffName', user: 'fila.staffUser', supervising: 'fila.supervising', parked: 'fila.parked' };
  const COUNTER_KEY = 'fila.counterId';
  const ACTIVE_STATUSES = ['called', 'serving'];
  const FEEDBACK_MS = 15000;   // notices and survey comments: how stale they may be
  const NOTICES_SHOWN = 50;
  const COMMENTS_SHOWN = 30;

  const S = {
    token: null, role: null, name: null, user: null,
    office: null,
    view: null,            // 'login' | 'select' | 'console'
    counterId: null,
    supervising: false,
    queue: null,           // last GET /queue answer (patched by action answers)
    parked: new Map(),     // number → TicketDto, see rememberParked()
    busy: false,
    actionSeq: 0,          // bumps after every action so stale queue answers are dropped
    officeReady: null,     // promise of the office data
    events: null,
    pollTimer: null,
    noticeTimer: null,
    devices: null,
    notices: null,         // GET /notices (supervisors)
    comments: null,        // GET /surveys/comments (supervisors)
    appointments: null,    // GET /appointments: today's bookings (supervisors; agents at an appointment's call)
    appointmentsAskedFor: null, // the appointment ticket the list was last asked again for
    feedbackAt: 0,
  };

  // -------------------------------------------------------------- storage

  function ssGet(key) { try { return sessionStorage.getItem(key); } catch (_) { return null; } }
  function ssSet(key, value) {
    try {
      if (value === null || value === undefined) sessionStorage.removeItem(key);
      else sessionStorage.setItem(key, value);
    } catch (_) { /* private mode: the session just won't survive a reload */ }
  }
  function lsGet(key) { try { return localStorage.getItem(key); } catch (_) { return null; } }
  function lsSet(key, value) { try { localStorage.setItem(key, value); } catch (_) { /* ignore */ } }

  const isSupervisor = () => S.role === 'supervisor' || S.role === 'admin';

  // -------------------------------------------------------------- messages

  function showError(err) {
    const text = err instanceof ApiError
      ? (err.status === 0 ? t('error.network') : err.message)
      : (typeof err === 'string' ? err : (err && err.message) || String(err));
    $('error-text').textContent = text;
    $('error').hidden = false;
  }
  function clearError() {
    $('error').hidden = true;
    $('error-text').textContent = '';
  }

  /** kind: 'notice' (auto-hides) or 'warning' (stays until dismissed). */
  function showNotice(text, kind) {
    const box = $('notice');
    box.className = 'message ' + (kind === 'warning' ? 'message-warning' : 'message-notice');
    $('notice-text').textContent = text;
    box.hidden = false;
    clearTimeout(S.noticeTimer);
    if (kind !== 'warning') S.noticeTimer = setTimeout(() => { box.hidden = true; }, 8000);
  }
  function clearNotice() {
    clearTimeout(S.noticeTimer);
    $('notice').hidden = true;
  }

  // -------------------------------------------------------------- views

  function showView(name) {
    S.view = name;
    $('view-login').hidden = name !== 'login';
    $('view-select').hidden = name !== 'select';
    $('view-console').hidden = name !== 'console';
    const loggedIn = name !== 'login';
    $('logout').hidden = !loggedIn;
    $('user-info').hidden = !loggedIn;
    $('change-counter').hidden = !(name === 'console' && S.supervising);
    if (loggedIn) {
      $('user-info').textContent = t('counter.loggedAs', { name: S.name || S.user || '', role: t('role.' + S.role) });
    }
  }

  function showLogin() {
    showView('login');
    $('login-password').value = '';
    $('login-user').focus();
  }

  function showSelect() {
    showView('select');
    renderSelect();
    $('select-title').focus();
  }

  function showConsole() {
    showView('console');
    render();
    const heading = $('counter-name');
    if (heading) heading.focus({ preventScroll: true });
  }

  // -------------------------------------------------------------- session

  function saveSession() {
    ssSet(SS.token, S.token);
    ssSet(SS.role, S.role);
    ssSet(SS.name, S.name);
    ssSet(SS.user, S.user);
    ssSet(SS.supervising, S.supervising ? '1' : null);
  }

  function loadSession() {
    S.token = ssGet(SS.token);
    S.role = ssGet(SS.role) || 'agent';
    S.name = ssGet(SS.name);
    S.user = ssGet(SS.user);
    S.supervising = ssGet(SS.supervising) === '1';
    try {
      const saved = JSON.parse(ssGet(SS.parked) || '[]');
      for (const tk of saved) if (tk && tk.number) S.parked.set(tk.number, tk);
    } catch (_) { /* ignore corrupt data */ }
  }

  function dropSession() {
    stopLive();
    S.token = null;
    S.queue = null;
    S.supervising = false;
    for (const key of Object.values(SS)) ssSet(key, null);
    S.parked.clear();
  }

  async function login(ev) {
    ev.preventDefault();
    clearError();
    const username = $('login-user').value.trim();
    const password = $('login-password').value;
    if (!username || !password) { showError(t('counter.loginMissing')); return; }
    $('login-submit').disabled = true;
    try {
      const res = await api('POST', '/api/v1/login', { username, password });
      S.token = res.token;
      S.role = res.role || 'agent';
      S.user = res.user || username;
      S.name = res.name || S.user;
      S.supervising = false;
      saveSession();
      $('login-password').value = '';
      await S.officeReady;
      await enter();
    } catch (err) {
      // 429: locked out after repeated wrong passwords, or too many sign-ins at once.
      showError(err instanceof ApiError && err.status === 429 ? t('counter.loginLocked') : err);
      $('login-password').select();
    } finally {
      $('login-submit').disabled = false;
    }
  }

  async function logout() {
    const token = S.token;
    dropSession();
    clearNotice();
    clearError();
    showLogin();
    if (token) api('POST', '/api/v1/logout', null, token).catch(() => { /* the session is gone locally anyway */ });
  }

  /** A 401 anywhere means the token is dead: back to the sign-in form. */
  function sessionExpired() {
    dropSession();
    showLogin();
    showError(t('error.sessionExpired'));
  }

  /** After sign-in, or on reload with a stored session: pick the right view. */
  async function enter() {
    try {
      await loadQueue();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) { sessionExpired(); return; }
      showError(err);
    }
    startLive();
    const remembered = lsGet(COUNTER_KEY);
    const counter = findCounter(remembered);
    if (S.supervising && isSupervisor()) {
      S.counterId = null;
      showConsole();
    } else if (counter && counter.agent === S.user && counter.status !== 'closed') {
      // Reload while working: go straight back to the console.
      S.counterId = counter.id;
      showConsole();
    } else {
      S.supervising = false;
      saveSession();
      showSelect();
    }
  }

  // -------------------------------------------------------------- data

  function findCounter(id) {
    if (!id) return null;
    const live = S.queue && (S.queue.counters || []).find((c) => c.id === id);
    if (live) return live;
    const conf = S.office && (S.office.counters || []).find((c) => c.id === id);
    return conf ? Object.assign({ status: 'closed', agent: null, current: null }, conf) : null;
  }
  const myCounter = () => findCounter(S.counterId);

  function serviceName(id) {
    const s = S.office && (S.office.services || []).find((x) => x.id === id);
    return s ? s.name : id;
  }

  let loading = null;
  let loadAgain = false;

  /** GET /queue, never two at once; answers older than the last action are discarded. */
  async function loadQueue() {
    if (!S.token) return;
    if (loading) { loadAgain = true; return loading; }
    loading = (async () => {
      try {
        do {
          loadAgain = false;
          const seq = S.actionSeq;
          const q = await api('GET', '/api/v1/queue', null, S.token);
          if (seq !== S.actionSeq) { loadAgain = true; continue; }
          S.queue = q;
          absorbParked(q);
          if (isSupervisor()) {
            // Device health is secondary: a failure here must not hide the queue.
            S.devices = await api('GET', '/api/v1/devices', null, S.token).catch(() => S.devices);
            await loadFeedback();
          }
          render();
        } while (loadAgain && S.token);
      } finally {
        loading = null;
      }
    })();
    return loading;
  }

  /**
   * Notices and survey comments change slowly and are read by a person: every event would
   * refetch them, so they are asked at most every FEEDBACK_MS.
   */
  async function loadFeedback() {
    if (Date.now() - S.feedbackAt < FEEDBACK_MS) return;
    S.feedbackAt = Date.now();
    const [notices, comments, appointments, signage] = await Promise.all([
      api('GET', '/api/v1/notices', null, S.token).catch(() => S.notices),
      api('GET', '/api/v1/surveys/comments', null, S.token).catch(() => S.comments),
      api('GET', '/api/v1/appointments', null, S.token).catch(() => S.appointments),
      api('GET', '/api/v1/signage/status', null, S.token).catch(() => S.signage),
    ]);
    S.signage = signage || null;
    S.notices = notices || [];
    S.comments = comments || [];
    S.appointments = appointments || [];
  }

  const refreshSoon = debounce(() => {
    loadQueue().catch((err) => {
      if (err instanceof ApiError && err.status === 401) sessionExpired();
      // Other failures: the next event or poll will try again; the offline
      // state is visible through the error of the next action.
    });
  }, 200);

  /**
   * Parked tickets are not guaranteed to be part of /queue, so we also keep
   * the ones we learn about (our own park action, "ticket" events) and forget
   * them as soon as they leave the parked state.
   */
  function rememberParked(ticket) {
    if (!ticket || !ticket.number) return;
    if (ticket.status === 'parked') S.parked.set(ticket.number, ticket);
    else S.parked.delete(ticket.number);
    ssSet(SS.parked, JSON.stringify(Array.from(S.parked.values())));
  }

  function absorbParked(q) {
    const fromServer = [].concat(q.parked || [], (q.waiting || []).filter((tk) => tk.status === 'parked'));
    if (Array.isArray(q.parked)) {
      // The server lists them: it is authoritative.
      S.parked.clear();
    }
    for (const tk of fromServer) S.parked.set(tk.number, tk);
    // A parked ticket currently at a counter or waiting again is not parked any more.
    for (const c of q.counters || []) if (c.current) S.parked.delete(c.current.number);
    for (const tk of q.waiting || []) if (tk.status !== 'parked') S.parked.delete(tk.number);
    ssSet(SS.parked, JSON.stringify(Array.from(S.parked.values())));
  }

  function patchCounter(dto) {
    if (!dto || !dto.id) return;
    if (!S.queue) S.queue = { waiting: [], counters: [], recent_calls: [], alerts: [] };
    const list = S.queue.counters || (S.queue.counters = []);
    const i = list.findIndex((c) => c.id === dto.id);
    if (i >= 0) list[i] = dto; else list.push(dto);
  }

  function patchCurrent(ticket) {
    const c = myCounter();
    if (!c || !S.queue) return;
    const copy = Object.assign({}, c, { current: ACTIVE_STATUSES.includes(ticket.status) ? ticket : null });
    patchCounter(copy);
    if (S.queue.waiting) S.queue.waiting = S.queue.waiting.filter((w) => w.number !== ticket.number);
  }

  // -------------------------------------------------------------- live updates

  function startLive() {
    stopLive();
    S.events = F.connectEvents({
      issued: refreshSoon,
      counter: refreshSoon,
      called: refreshSoon,
      ticket: (tk) => { rememberParked(tk); refreshSoon(); },
      alarm: (tk) => {
        showNotice(t('counter.alarm', { number: tk && tk.number }), 'warning');
        const panel = $('alerts-panel');
        panel.classList.remove('flash');
        void panel.offsetWidth;
        panel.classList.add('flash');
        refreshSoon();
      },
      day: () => {
        S.parked.clear();
        ssSet(SS.parked, null);
        api('GET', '/api/v1/office').then((o) => { S.office = o; render(); }).catch(() => {});
        refreshSoon();
      },
    }, { onReconnect: refreshSoon });
    // Belt and braces: a periodic reload also keeps the "waiting N min" fresh.
    S.pollTimer = setInterval(refreshSoon, 30000);
  }

  function stopLive() {
    if (S.events) S.events.close();
    S.events = null;
    clearInterval(S.pollTimer);
    S.pollTimer = null;
  }

  // -------------------------------------------------------------- actions

  /** Runs one server action; returns its answer, or undefined after showing the error. */
  async function run(fn) {
    if (S.busy) return undefined;
    S.busy = true;
    document.body.setAttribute('aria-busy', 'true');
    clearError();
    try {
      const result = await fn();
      S.actionSeq += 1;
      return result;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) { sessionExpired(); return undefined; }
      showError(err);
      return undefined;
    } finally {
      S.busy = false;
      document.body.removeAttribute('aria-busy');
      render();
      refreshSoon();
    }
  }

  function counterAction(action, body) {
    const id = S.counterId;
    return run(() => api('POST', '/api/v1/counters/' + encodeURIComponent(id) + '/' + action, body, S.token));
  }

  /** Keeps keyboard users in the flow when the button they pressed gets disabled. */
  function focusNext(id) {
    const el = $(id);
    const active = document.activeElement;
    if (el && !el.disabled && (!active || active === document.body || active.disabled)) el.focus();
  }

  function reasonLabel(reason) {
    return window.FilaI18n.has('reason.' + reason) ? t('reason.' + reason) : (reason || '');
  }

  function announceCall(call) {
    if (!call || !call.ticket) return;
    patchCurrent(call.ticket);
    rememberParked(call.ticket);
    if (call.out_of_order) {
      let text = t('counter.outOfOrder', { number: call.number || call.ticket.number, reason: call.note || reasonLabel(call.reason) });
      if (call.skipped && call.skipped.length) text += ' ' + t('counter.skipped', { list: call.skipped.join(', ') });
      showNotice(text, 'warning');
    } else {
      showNotice(t('counter.called', { number: call.number || call.ticket.number, reason: reasonLabel(call.reason) }));
    }
  }

  async function signIn() {
    const id = $('counter-select').value;
    if (!id) return;
    S.counterId = id;
    const dto = await counterAction('sign-in');
    if (!dto) return;
    lsSet(COUNTER_KEY, id);
    S.supervising = false;
    saveSession();
    patchCounter(dto);
    clearNotice();
    showConsole();
    focusNext('call-next');
  }

  function supervise() {
    S.supervising = true;
    S.counterId = null;
    saveSession();
    showConsole();
  }

  async function callNext() {
    const call = await counterAction('call-next');
    if (call) { announceCall(call); render(); focusNext('start'); }
  }

  async function ticketAction(action, body, noticeKey) {
    const ticket = await counterAction(action, body);
    if (!ticket) return null;
    patchCurrent(ticket);
    rememberParked(ticket);
    if (noticeKey) showNotice(t(noticeKey, { number: ticket.number, service: serviceName(ticket.service) }));
    render();
    return ticket;
  }

  async function counterStateAction(action) {
    const dto = await counterAction(action);
    if (!dto) return;
    patchCounter(dto);
    render();
    if (action === 'close') {
      showNotice(t('counter.closedGoodbye'));
      showSelect();
    } else if (action === 'reopen') {
      focusNext('call-next');
    } else if (action === 'pause') {
      focusNext('reopen');
    }
  }

  /** "a7", "A 7", "a-007" → "A-007" (width taken from the numbers we know). */
  function normalizeNumber(input) {
    const raw = input.trim().toUpperCase();
    const m = /^([A-Z]+)\s*-?\s*(\d+)$/.exec(raw);
    if (!m) return raw;
    const known = [];
    if (S.queue) {
      for (const tk of S.queue.waiting || []) known.push(tk.number);
      for (const c of S.queue.recent_calls || []) known.push(c.number);
    }
    for (const n of known) if (n === m[1] + '-' + m[2]) return n;
    const sample = known.map((n) => /-(\d+)$/.exec(String(n))).find(Boolean);
    const width = sample ? sample[1].length : 3;
    return m[1] + '-' + m[2].padStart(width, '0');
  }

  async function callSpecific(ev) {
    ev.preventDefault();
    const numberEl = $('specific-number');
    const reasonEl = $('specific-reason');
    numberEl.removeAttribute('aria-invalid');
    reasonEl.removeAttribute('aria-invalid');
    const number = normalizeNumber(numberEl.value);
    const reason = reasonEl.value.trim();
    if (!number) {
      numberEl.setAttribute('aria-invalid', 'true');
      showError(t('counter.specificMissingNumber'));
      numberEl.focus();
      return;
    }
    if (!reason) {
      reasonEl.setAttribute('aria-invalid', 'true');
      showError(t('counter.specificMissingReason'));
      reasonEl.focus();
      return;
    }
    const call = await counterAction('call', { number, reason });
    if (!call) return;
    numberEl.value = '';
    reasonEl.value = '';
    announceCall(call);
    render();
    focusNext('start');
  }

  async function resume(number) {
    const call = await counterAction('resume', { number });
    if (call) {
      S.parked.delete(number);
      announceCall(call);
      render();
      focusNext('start');
    }
  }

  function pick(number) {
    $('specific-number').value = number;
    $('specific-reason').focus();
  }

  // ---- supervisor: cancel a waiting ticket

  let cancelNumber = null;

  function openCancel(number) {
    cancelNumber = number;
    $('cancel-title').textContent = t('counter.cancelTitle', { number });
    $('cancel-reason').value = '';
    $('cancel-reason').removeAttribute('aria-invalid');
    $('cancel-error').hidden = true;
    $('cancel-dialog').showModal();
    $('cancel-reason').focus();
  }

  async function confirmCancel(ev) {
    ev.preventDefault();
    const reason = $('cancel-reason').value.trim();
    if (!reason) {
      $('cancel-reason').setAttribute('aria-invalid', 'true');
      $('cancel-error').textContent = t('counter.cancelMissing');
      $('cancel-error').hidden = false;
      $('cancel-reason').focus();
      return;
    }
    const number = cancelNumber;
    $('cancel-dialog').close();
    const ticket = await run(() => api('POST', '/api/v1/tickets/' + encodeURIComponent(number) + '/cancel', { reason }, S.token));
    if (ticket) {
      if (S.queue && S.queue.waiting) S.queue.waiting = S.queue.waiting.filter((w) => w.number !== number);
      rememberParked(ticket);
      showNotice(t('counter.cancelled', { number }));
      render();
    }
  }

  // -------------------------------------------------------------- rendering

  function statusBadgeClass(status) {
    return 'badge badge-' + (status === 'open' ? 'open' : status === 'paused' ? 'paused' : 'closed');
  }

  function badgeFor(ticket) {
    const label = ticketBadge(ticket, S.office);
    if (!label) return null;
    return h('span', { class: 'badge ' + (ticket.class === 'appointment' ? 'badge-appt' : 'badge-pref') }, label);
  }

  function render() {
    if (S.office) {
      $('office-name').textContent = S.office.name || t('app.name');
      document.title = (S.office.name ? S.office.name + ' — ' : '') + t('counter.title');
    }
    if (S.view === 'select') renderSelect();
    if (S.view !== 'console') return;

    const grid = $('console-grid');
    grid.classList.toggle('is-supervising', S.supervising);
    $('current-panel').hidden = S.supervising;
    $('specific-panel').hidden = S.supervising;
    $('overview-panel').hidden = !isSupervisor();

    if (!S.supervising) {
      const c = myCounter();
      if (!c) {
        showError(t('counter.counterMissing'));
        showSelect();
        return;
      }
      if (c.status === 'closed' && !S.busy) {
        // Closed elsewhere (e.g. by a supervisor): nothing to do here any more.
        showNotice(t('counter.closedGoodbye'));
        showSelect();
        return;
      }
      renderCounter(c);
    }
    renderWaiting();
    renderParked();
    renderAlerts();
    renderRecent();
    if (isSupervisor()) {
      renderOverview();
      renderDevices();
      renderNotices();
      renderSignage();
      renderComments();
      renderAppointments();
    }
  }

  function renderCounter(c) {
    $('counter-name').textContent = c.name || c.id;
    const status = $('counter-status');
    status.className = statusBadgeClass(c.status);
    status.textContent = t('counterStatus.' + c.status);
    const warn = $('counter-agent-warning');
    const other = c.agent && S.user && c.agent !== S.user;
    warn.hidden = !other;
    warn.textContent = other ? t('counter.openBy', { status: t('counterStatus.' + c.status), agent: c.agent }) : '';

    const cur = c.current;
    const box = $('current-box');
    box.classList.toggle('has-ticket', !!cur);
    box.classList.toggle('is-serving', !!cur && cur.status === 'serving');
    const numberText = cur ? cur.number : '';
    if ($('current-number').textContent !== numberText) {
      $('current-number').textContent = numberText;
      $('current-live').textContent = cur ? t('counter.current') + ': ' + cur.number + ', ' + t('status.' + cur.status) : t('counter.idle');
    }
    $('current-idle').hidden = !!cur;
    $('current-service').textContent = cur ? (cur.service_name || serviceName(cur.service)) : '';
    const meta = $('current-meta');
    meta.replaceChildren();
    if (cur) {
      meta.append(h('span', { class: 'badge ' + (cur.status === 'serving' ? 'badge-open' : 'badge-warn') }, t('status.' + cur.status)));
      const b = badgeFor(cur);
      if (b) meta.append(b);
      if (cur.called_at) meta.append(h('span', null, t('counter.calledAt', { time: fmtTime(cur.called_at) })));
      if (cur.recalls) meta.append(h('span', null, t('counter.recalls', { n: cur.recalls })));
      if (cur.transfers) meta.append(h('span', null, t('counter.transfers', { n: cur.transfers })));
    }
    const appointment = $('current-appointment');
    const lines = cur && cur.class === 'appointment' ? appointmentLines(cur) : [];
    appointment.replaceChildren(...lines.map((line) => h('span', null, line)));
    appointment.hidden = lines.length === 0;

    renderTransferOptions(cur);

    const open = c.status === 'open';
    const idle = !cur;
    const called = !!cur && cur.status === 'called';
    const active = !!cur && ACTIVE_STATUSES.includes(cur.status);
    const enable = (id, on) => { $(id).disabled = !on; };
    enable('call-next', open && idle);
    enable('recall', called);
    enable('start', called);
    enable('no-show', called);
    enable('park', active);
    enable('finish', active);
    enable('outcome', active);
    enable('transfer', active && $('transfer-service').options.length > 0);
    enable('transfer-service', active);
    enable('pause', open && idle);
    enable('reopen', c.status === 'paused');
    enable('close', c.status !== 'closed' && idle);
    enable('specific-call', open && idle);
  }

  function renderTransferOptions(cur) {
    const select = $('transfer-service');
    const previous = select.value;
    const services = ((S.office && S.office.services) || []).filter((s) => !cur || s.id !== cur.service);
    const signature = services.map((s) => s.id + ':' + s.name).join('|');
    if (select.dataset.sig !== signature) {
      select.replaceChildren(...services.map((s) => h('option', { value: s.id }, s.name)));
      select.dataset.sig = signature;
      if (services.some((s) => s.id === previous)) select.value = previous;
    }
  }

  function waitClass(ticket, minutes, alerted) {
    if (alerted) return ' is-critical';
    const cat = ticket.category && S.office && (S.office.categories || []).find((c) => c.id === ticket.category);
    if (cat && cat.max_wait_minutes && minutes >= cat.max_wait_minutes) return ' is-critical';
    const svc = S.office && (S.office.services || []).find((s) => s.id === ticket.service);
    if (svc && svc.target_wait_minutes && minutes > svc.target_wait_minutes) return ' is-late';
    return '';
  }

  function renderWaiting() {
    const waiting = ((S.queue && S.queue.waiting) || []).filter((tk) => tk.status === undefined || tk.status === 'waiting');
    const c = S.supervising ? null : myCounter();
    const mine = new Set(c ? c.services || [] : []);
    const alerted = new Set(((S.queue && S.queue.alerts) || []).map((a) => a.ticket));
    const canPick = !!c && c.status === 'open' && !c.current;
    const supervisor = isSupervisor();
    $('waiting-count').textContent = t('counter.waitingCount', { n: waiting.length });
    // Supervisors see who is in the room and who waits outside (or joined from home).
    const room = S.queue && S.queue.room;
    $('room-count').hidden = !room || (!room.away && typeof room.capacity !== 'number');
    if (room) $('room-count').textContent = t('counter.roomCount', { present: room.present, capacity: room.capacity ?? '–', away: room.away });
    $('waiting-empty').hidden = waiting.length > 0;

    reconcileList($('waiting'), waiting, (tk) => tk.number,
      (tk) => [tk.service, tk.class, tk.category, minutesSince(tk.issued_at), mine.has(tk.service), alerted.has(tk.number), canPick, supervisor].join('|'),
      (tk) => {
        const minutes = minutesSince(tk.issued_at);
        const other = !!c && !mine.has(tk.service);
        let cls = 'ticket-row';
        if (tk.class === 'preferential' || tk.category) cls += ' is-pref';
        else if (tk.class === 'appointment') cls += ' is-appt';
        if (other) cls += ' is-other';
        cls += waitClass(tk, minutes, alerted.has(tk.number));
        const actions = h('div', { class: 'row-actions' });
        if (c) {
          actions.append(h('button', {
            type: 'button', class: 'btn btn-sm btn-ghost pick-ticket', dataset: { number: tk.number },
            disabled: !canPick, 'aria-label': t('counter.pickLabel', { number: tk.number }),
            onclick: () => pick(tk.number),
          }, t('counter.pick')));
        }
        if (supervisor) {
          actions.append(h('button', {
            type: 'button', class: 'btn btn-sm btn-danger cancel-ticket', dataset: { number: tk.number },
            'aria-label': t('counter.cancelTicketLabel', { number: tk.number }),
            onclick: () => openCancel(tk.number),
          }, t('counter.cancelTicket')));
        }
        return h('li', { class: cls, 'data-number': tk.number },
          h('span', { class: 'row-number' }, tk.number),
          h('span', { class: 'row-body' },
            h('span', { class: 'row-title' }, tk.service_name || serviceName(tk.service)),
            h('span', { class: 'row-meta' },
              badgeFor(tk),
              other ? h('span', null, t('counter.notMine')) : null,
              h('span', { class: 'wait-minutes' }, t('counter.waited', { n: minutes })))),
          actions);
      });
  }

  function renderParked() {
    const c = myCounter();
    const canResume = !!c && c.status === 'open' && !c.current;
    // Our own counter's parked tickets first: those are the ones we will resume.
    const list = Array.from(S.parked.values()).sort((a, b) =>
      ((b.counter === S.counterId) - (a.counter === S.counterId)) || String(a.number).localeCompare(String(b.number)));
    $('parked-empty').hidden = list.length > 0;
    reconcileList($('parked'), list, (tk) => tk.number,
      (tk) => [tk.counter, tk.service, canResume].join('|'),
      (tk) => h('li', { class: 'ticket-row', 'data-number': tk.number },
        h('span', { class: 'row-number' }, tk.number),
        h('span', { class: 'row-body' },
          h('span', { class: 'row-title' }, tk.service_name || serviceName(tk.service)),
          h('span', { class: 'row-meta' }, badgeFor(tk),
            tk.counter ? h('span', null, t('counter.parkedAt', { counter: tk.counter_name || tk.counter })) : null)),
        h('span', { class: 'row-actions' },
          h('button', {
            type: 'button', class: 'btn btn-sm btn-primary resume-ticket', dataset: { number: tk.number },
            disabled: !canResume, onclick: () => resume(tk.number),
          }, t('counter.resume')))));
  }

  function renderAlerts() {
    const alerts = (S.queue && S.queue.alerts) || [];
    $('alerts-empty').hidden = alerts.length > 0;
    $('alerts-panel').classList.toggle('has-alerts', alerts.length > 0);
    reconcileList($('alerts'), alerts, (a) => a.kind + ':' + (a.ticket || a.device || a.subject), (a) => a.message || '',
      (a) => {
        const key = 'counter.alert.' + a.kind;
        // Security alerts (supervisors only) name a username, address or kiosk as `subject`.
        const subject = a.ticket || a.subject || deviceName(a.device);
        const known = window.FilaI18n.has(key);
        // The server's message is English: shown only for kinds the page cannot phrase itself.
        const headline = known ? t(key, { ticket: a.ticket, device: subject, subject }) : (subject + ': ' + (a.kind || ''));
        return h('li', { class: 'alert-item', 'data-number': a.ticket || null, 'data-device': a.device || null },
          h('span', null, headline, a.message && !known ? h('small', null, a.message) : null));
      });
  }

  function renderRecent() {
    const calls = (S.queue && S.queue.recent_calls) || [];
    $('recent-empty').hidden = calls.length > 0;
    // Calls carry the agent's username only; a display name is known just for
    // the signed-in user, so other agents' calls show the counter alone.
    const ownName = S.name && S.name !== S.user ? S.name : '';
    const callTitle = (c) => {
      const counter = c.counter_name || c.counter;
      return ownName && c.agent && c.agent === S.user ? t('counter.recentLine', { counter, agent: ownName }) : counter;
    };
    reconcileList($('recent-calls'), calls, (c) => c.seq, (c) => [c.number, callTitle(c), c.at, c.reason, c.out_of_order, c.note].join('|'),
      (c) => h('li', { class: 'ticket-row', 'data-number': c.number },
        h('span', { class: 'row-number' }, c.number),
        h('span', { class: 'row-body' },
          h('span', { class: 'row-title' }, callTitle(c)),
          h('span', { class: 'row-meta' },
            h('span', null, reasonLabel(c.reason)),
            c.out_of_order ? h('span', { class: 'badge badge-danger' }, t('counter.outOfOrderBadge')) : null,
            c.note ? h('span', null, '«' + c.note + '»') : null)),
        h('span', { class: 'muted num' }, fmtTime(c.at))));
  }

  function renderOverview() {
    const counters = (S.queue && S.queue.counters) || [];
    const body = $('counters-overview');
    body.replaceChildren(...counters.map((c) => h('tr', { class: c.id === S.counterId ? 'is-mine' : null, 'data-counter': c.id },
      h('td', null, h('strong', null, c.name || c.id)),
      h('td', null, h('span', { class: statusBadgeClass(c.status) }, t('counterStatus.' + c.status))),
      h('td', null, c.agent || t('common.none')),
      h('td', { class: 'num' }, c.current ? c.current.number + ' · ' + t('status.' + c.current.status) : t('common.none')))));
  }

  /** A device as staff know it: "Display of Puesto 4", "Printer entrada". */
  function deviceName(id) {
    const d = (S.devices || []).find((x) => x.id === id);
    if (!d) return id || '';
    if (d.counter) {
      const c = findCounter(d.counter);
      const name = t('counter.deviceDisplay', { counter: (c && c.name) || d.counter });
      return d.kind === 'mqtt_display' ? name + ' (MQTT)' : name;
    }
    return t('counter.deviceKind.' + d.kind, { id: d.id });
  }

  function renderDevices() {
    const devices = S.devices || [];
    $('devices-empty').hidden = devices.length > 0;
    $('devices-overview').replaceChildren(...devices.map((d) => {
      const state = d.online === true ? 'online' : d.online === false ? 'offline' : 'unknown';
      const detail = [d.paper ? t('counter.paper.' + d.paper) : null, d.last_error].filter(Boolean).join(' · ');
      return h('tr', { 'data-device': d.id },
        h('td', null, h('strong', null, deviceName(d.id))),
        h('td', null, h('span', { class: 'badge ' + (state === 'online' ? 'badge-open' : state === 'offline' ? 'badge-danger' : '') }, t('counter.device.' + state))),
        h('td', null, detail || t('common.none')));
    }));
  }

  /** What was sent to citizens and what failed, and why; never to whom. */
  function renderNotices() {
    const notices = S.notices || [];
    const count = (state) => notices.filter((n) => n.state === state).length;
    $('notices-counts').textContent = notices.length
      ? t('counter.noticeCounts', { sent: count('sent'), queued: count('queued') + count('sending'), failed: count('failed') })
      : '';
    $('notices-empty').hidden = notices.length > 0;
    // Failed ones first: they are what a supervisor has to act on.
    const shown = notices.slice().sort((a, b) => (b.state === 'failed') - (a.state === 'failed')).slice(0, NOTICES_SHOWN);
    $('notices-overview').replaceChildren(...shown.map((n) => {
      const kind = 'counter.noticeKind.' + n.kind;
      const state = 'counter.noticeState.' + n.state;
      return h('tr', { class: n.state === 'failed' ? 'notice-failed' : null, dataset: { ticket: n.ticket || '', state: n.state } },
        h('td', null, h('strong', null, n.ticket || n.day)),
        h('td', null, window.FilaI18n.has(kind) ? t(kind) : n.kind),
        h('td', null, n.medium === 'sms' ? 'SMS' : 'e-mail'),
        h('td', null, h('span', { class: 'badge ' + (n.state === 'failed' ? 'badge-danger' : n.state === 'sent' ? 'badge-open' : 'badge-warn') },
          window.FilaI18n.has(state) ? t(state) : n.state)),
        h('td', null, n.reason || t('common.none')));
    }));
  }

  /** The room's screens: media still missing on the box, and the urgent messages on them. */
  function renderSignage() {
    const status = S.signage;
    if (!status) return;
    $('signage-media').textContent = t('counter.signageMedia', { total: status.media.length, missing: status.missing });
    $('urgent-list').replaceChildren(...status.urgent.map((u) => {
      const text = (u.texts.find((x) => x.lang === window.lang()) || u.texts[0] || {}).text || '';
      // The office's own messages may be ended here; headquarters' wider ones only there.
      const ours = u.target.startsWith('office:');
      return h('li', { dataset: { urgent: u.id } },
        h('strong', null, text), ' ',
        h('span', { class: 'muted' }, t('counter.urgentUntil', { time: fmtTime(u.until_ms), by: u.by })), ' ',
        ours ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => endUrgent(u.id) }, t('counter.urgentEnd')) : null);
    }));
  }

  async function sendUrgent(event) {
    event.preventDefault();
    $('urgent-error').hidden = true;
    try {
      await api('POST', '/api/v1/signage/urgent',
        { text: $('urgent-text').value, minutes: Number($('urgent-minutes').value), lang: window.lang() }, S.token);
      $('urgent-text').value = '';
    } catch (err) {
      showUrgentError(err);
    }
    await reloadSignage();
  }

  async function endUrgent(id) {
    try {
      await api('DELETE', '/api/v1/signage/urgent/' + encodeURIComponent(id), null, S.token);
    } catch (err) {
      showUrgentError(err);
    }
    await reloadSignage();
  }

  function showUrgentError(err) {
    $('urgent-error').textContent = F.errorText(err);
    $('urgent-error').hidden = false;
  }

  async function reloadSignage() {
    S.feedbackAt = 0;
    await loadFeedback();
    renderSignage();
  }

  /** Today's bookings by slot: booked, checked in (with its ticket), cancelled, missed. */
  function renderAppointments() {
    const list = S.appointments || [];
    $('appointments-empty').hidden = list.length > 0;
    $('appointments-overview').replaceChildren(...list.map((a) => {
      const state = 'counter.appointmentState.' + a.state;
      return h('tr', { dataset: { booking: a.booking, state: a.state } },
        h('td', null, h('strong', { class: 'num' }, a.start)),
        h('td', null, serviceName(a.service)),
        h('td', null, window.FilaI18n.has(state) ? t(state) : a.state),
        h('td', null, a.ticket || t('common.none')),
        h('td', { class: 'num' }, a.last4 ? '…' + a.last4 : t('common.none')),
        h('td', null, a.note || ''));
    }));
  }

  /**
   * An appointment ticket at this counter: its slot, the document's last four characters to
   * compare, and the citizen's note. The list is asked again once for a ticket it lacks (it
   * was checked in after the last read).
   */
  function appointmentLines(cur) {
    const lines = [];
    const booking = (S.appointments || []).find((a) => a.ticket === cur.number);
    // The slot as booked, in the office's time; the ticket's instant only while the list is asked.
    const slot = booking ? booking.start : cur.appointment_at ? fmtTime(cur.appointment_at) : null;
    if (slot) lines.push(t('counter.appointmentAt', { time: slot }));
    if (!booking && S.appointmentsAskedFor !== cur.number) {
      S.appointmentsAskedFor = cur.number;
      api('GET', '/api/v1/appointments', null, S.token)
        .then((list) => { S.appointments = list || []; render(); })
        .catch(() => {});
    }
    if (booking && booking.last4) lines.push(t('counter.documentEnds', { last4: booking.last4 }));
    if (booking && booking.note) lines.push(t('counter.appointmentNote', { note: booking.note }));
    return lines;
  }

  /** A supervisor checks a booking in for a citizen (a phone's QR read aloud, a lost code). */
  async function checkInAtConsole(event) {
    event.preventDefault();
    const result = $('checkin-result');
    const code = $('checkin-code').value.trim();
    if (!code) return;
    $('checkin-submit').disabled = true;
    try {
      const ticket = await api('POST', '/api/v1/checkins', { code }, S.token);
      result.textContent = t('counter.checkinDone', { number: ticket.number });
      result.className = 'message message-notice';
      $('checkin-code').value = '';
      S.feedbackAt = 0;
      refreshSoon();
    } catch (err) {
      result.textContent = F.errorText(err);
      result.className = 'message message-error';
    } finally {
      result.hidden = false;
      $('checkin-submit').disabled = false;
    }
  }

  /** What citizens wrote; a low score with a comment stands out. */
  function renderComments() {
    const comments = S.comments || [];
    $('comments-empty').hidden = comments.length > 0;
    $('survey-comments').replaceChildren(...comments.slice(0, COMMENTS_SHOWN).map((c) =>
      h('li', { class: 'ticket-row' + (c.low ? ' comment-low' : ''), dataset: { ticket: c.ticket, low: String(!!c.low) } },
        h('span', { class: 'ticket-row-main' },
          h('strong', null, c.ticket), ' ',
          c.satisfaction ? h('span', { class: 'badge ' + (c.low ? 'badge-danger' : '') }, t('counter.commentScore', { n: c.satisfaction })) : null,
          c.low ? h('span', { class: 'visually-hidden' }, ' ' + t('counter.commentLow')) : null,
          h('span', { class: 'muted' }, ' ' + c.day + ' ' + fmtTime(c.at))),
        h('p', { class: 'comment-text' }, c.text))));
  }

  function renderSelect() {
    const select = $('counter-select');
    const counters = (S.office && S.office.counters) || [];
    const previous = select.value || lsGet(COUNTER_KEY);
    select.replaceChildren(...counters.map((conf) => {
      const live = findCounter(conf.id);
      let label = conf.name || conf.id;
      if (live && live.status && live.status !== 'closed') {
        label += ' — ' + (live.agent ? t('counter.openBy', { status: t('counterStatus.' + live.status), agent: live.agent }) : t('counterStatus.' + live.status));
      }
      return h('option', { value: conf.id }, label);
    }));
    if (counters.some((c) => c.id === previous)) select.value = previous;
    renderSelectHint();
    $('supervise').hidden = !isSupervisor();
    $('sign-in').disabled = counters.length === 0;
  }

  function renderSelectHint() {
    const conf = findCounter($('counter-select').value);
    $('counter-select-hint').textContent = conf
      ? t('counter.services', { list: (conf.services || []).map(serviceName).join(', ') })
      : '';
    const warning = $('counter-select-warning');
    const taken = conf && conf.agent && conf.agent !== S.user && conf.status !== 'closed';
    warning.hidden = !taken;
    warning.textContent = taken ? t('counter.takenWarning', { agent: conf.agent }) : '';
  }

  // -------------------------------------------------------------- start

  function bind() {
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    $('error-close').addEventListener('click', clearError);
    $('notice-close').addEventListener('click', clearNotice);
    $('counter-select').addEventListener('change', renderSelectHint);
    $('sign-in').addEventListener('click', signIn);
    $('supervise').addEventListener('click', supervise);
    $('change-counter').addEventListener('click', () => {
      S.supervising = false;
      saveSession();
      showSelect();
    });

    $('call-next').addEventListener('click', callNext);
    $('recall').addEventListener('click', () => ticketAction('recall'));
    $('start').addEventListener('click', async () => { if (await ticketAction('start')) focusNext('finish'); });
    $('finish').addEventListener('click', async () => {
      const outcome = $('outcome').value.trim();
      if (await ticketAction('finish', { outcome }, 'counter.finished')) {
        $('outcome').value = '';
        focusNext('call-next');
      }
    });
    $('outcome').addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); $('finish').click(); } });
    $('no-show').addEventListener('click', async () => { if (await ticketAction('no-show', null, 'counter.noShowDone')) focusNext('call-next'); });
    $('park').addEventListener('click', async () => { if (await ticketAction('park', null, 'counter.parked')) focusNext('call-next'); });
    $('transfer').addEventListener('click', async () => {
      const service = $('transfer-service').value;
      if (!service) return;
      const ticket = await counterAction('transfer', { service });
      if (!ticket) return;
      patchCurrent(ticket);
      showNotice(t('counter.transferred', { number: ticket.number, service: serviceName(service) }));
      render();
      focusNext('call-next');
    });
    $('pause').addEventListener('click', () => counterStateAction('pause'));
    $('reopen').addEventListener('click', () => counterStateAction('reopen'));
    $('close').addEventListener('click', () => counterStateAction('close'));
    $('specific-form').addEventListener('submit', callSpecific);

    $('cancel-form').addEventListener('submit', confirmCancel);
    $('urgent-form').addEventListener('submit', sendUrgent);
    $('checkin-form').addEventListener('submit', checkInAtConsole);
    $('cancel-back').addEventListener('click', () => $('cancel-dialog').close());

    // Keep "waiting N min" honest between refreshes.
    setInterval(() => { if (S.view === 'console') renderWaiting(); }, 30000);
  }

  async function init() {
    applyI18n();
    langSwitcher($('lang-switch'));
    bind();
    loadSession();
    // Sign-in does not need the office data, so the form shows right away;
    // everything after it waits for the office to load.
    S.officeReady = F.loadOffice(() => showNotice(t('common.retrying'), 'warning')).then((office) => {
      S.office = office;
      clearNotice();
      render();
      return office;
    });
    if (S.token) {
      await S.officeReady;
      await enter();
    } else {
      showLogin();
    }
  }

  init();
})();
