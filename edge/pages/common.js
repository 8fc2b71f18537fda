/*
 * fila — helpers shared by every page (load after i18n.js).
 *
 * Everything is exposed both as a global (api, fmtTime, …) for brevity in the
 * page scripts and under window.Fila for discoverability.
 */
(function () {
  'use strict';

  const t = window.t;

  // ---------------------------------------------------------------------------
  // HTTP

  /** Error thrown by api(): carries the server's {error, message} body. */
  class ApiError extends Error {
    constructor(message, status, code, body) {
      super(message);
      this.name = 'ApiError';
      this.status = status; // 0 when the server could not be reached
      this.error = code;    // the server's machine-readable "error" code
      this.code = code;
      this.body = body;
    }
  }

  // Difference between the server's clock and ours, learnt from the Date header,
  // so "waiting N minutes" is right even on a PC whose clock drifted.
  let clockOffsetMs = 0;

  function learnServerClock(res) {
    const header = res.headers.get('Date');
    if (!header) return;
    const server = Date.parse(header);
    if (!Number.isFinite(server)) return;
    const offset = server - Date.now();
    // The header has one-second resolution: ignore differences below that.
    clockOffsetMs = Math.abs(offset) > 2000 ? offset : 0;
  }

  /** Milliseconds since epoch according to the server's clock (best effort). */
  function serverNow() {
    return Date.now() + clockOffsetMs;
  }

  /**
   * fetch() with JSON in and out. Resolves with the parsed body (null for 204).
   * Rejects with ApiError carrying {status, error, message} on non-2xx answers
   * and with status 0 / error "network" when the server cannot be reached.
   */
  async function api(method, path, body, token) {
    const verb = String(method || 'GET').toUpperCase();
    const headers = { Accept: 'application/json' };
    const init = { method: verb, headers, cache: 'no-store', credentials: 'same-origin' };
    if (body !== undefined && body !== null) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    } else if (verb === 'POST' || verb === 'PUT' || verb === 'PATCH') {
      // An empty JSON object keeps body-less actions acceptable to handlers
      // that do declare a JSON body.
      headers['Content-Type'] = 'application/json';
      init.body = '{}';
    }
    if (token) headers.Authorization = 'Bearer ' + token;

    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError(t('error.network'), 0, 'network', null);
    }
    learnServerClock(res);

    let data = null;
    if (res.status !== 204) {
      const text = await res.text().catch(() => '');
      if (text) {
        try { data = JSON.parse(text); } catch (_) { data = text; }
      }
    }
    if (!res.ok) {
      const obj = data && typeof data === 'object' ? data : {};
      const code = obj.error || 'http_' + res.status;
      const message = obj.message || obj.error || (typeof data === 'string' && data.length < 300 ? data : '') ||
        res.statusText || t('error.generic', { code: res.status });
      throw new ApiError(message, res.status, code, data);
    }
    return data;
  }

  /**
   * Text to show for an error: the server's own message, except when the
   * server could not be reached at all (then our translated sentence).
   */
  function errorText(err) {
    if (!err) return '';
    if (err instanceof ApiError) {
      if (err.status === 0) return t('error.network');
      return err.message || t('error.generic', { code: err.status });
    }
    return err.message || String(err);
  }

  // ---------------------------------------------------------------------------
  // Time

  const pad2 = (n) => String(n).padStart(2, '0');

  /** ms since epoch → "HH:MM" in the browser's local time ('' for null). */
  function fmtTime(ms) {
    if (ms === null || ms === undefined || ms === '') return '';
    const d = new Date(Number(ms));
    if (Number.isNaN(d.getTime())) return '';
    return pad2(d.getHours()) + ':' + pad2(d.getMinutes());
  }

  /** Whole minutes elapsed since ms (never negative). */
  function minutesSince(ms) {
    if (!ms) return 0;
    return Math.max(0, Math.floor((serverNow() - Number(ms)) / 60000));
  }

  /** "2026-11-29" → long date in the page language, e.g. "domingo, 29 de noviembre de 2026". */
  function fmtDay(day) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(day || ''));
    if (!m) return String(day || '');
    const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    try {
      return new Intl.DateTimeFormat(locale(), { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }).format(d);
    } catch (_) {
      return String(day);
    }
  }

  /** BCP-47 locale for Intl and speech: Latin-American Spanish or English. */
  function locale() {
    return window.lang() === 'en' ? 'en-US' : 'es-419';
  }

  // ---------------------------------------------------------------------------
  // DOM

  /**
   * Creates an element. attrs: class, text, dataset, on<event>, or any attribute (aria-label, …).
   * Children may be nodes or strings; strings become text nodes (never HTML).
   */
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === null || value === undefined || value === false) continue;
        if (key === 'class') node.className = value;
        else if (key === 'text') node.textContent = value;
        else if (key === 'dataset') Object.assign(node.dataset, value);
        else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
        else if (key === 'value' || key === 'disabled' || key === 'selected' || key === 'checked') node[key] = value;
        else node.setAttribute(key, value === true ? '' : String(value));
      }
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  /** Fills elements marked with data-i18n* attributes from the dictionary. */
  function applyI18n(root) {
    const scope = root || document;
    scope.querySelectorAll('[data-i18n]').forEach((node) => { node.textContent = t(node.dataset.i18n); });
    scope.querySelectorAll('[data-i18n-placeholder]').forEach((node) => { node.placeholder = t(node.dataset.i18nPlaceholder); });
    scope.querySelectorAll('[data-i18n-aria-label]').forEach((node) => { node.setAttribute('aria-label', t(node.dataset.i18nAriaLabel)); });
    scope.querySelectorAll('[data-i18n-title]').forEach((node) => { node.title = t(node.dataset.i18nTitle); });
    if (!root || root === document) document.documentElement.lang = window.lang() === 'en' ? 'en' : 'es';
  }

  /**
   * Renders "ES | EN" links into container. The links keep the current query
   * string and hash. Choosing a language also stores it (fila.lang) so the other
   * pages follow, unless opts.persist is false. With opts.onChange the switch
   * happens in place (no reload) — used by the kiosk.
   */
  function langSwitcher(container, opts) {
    if (!container) return;
    const options = opts || {};
    container.replaceChildren();
    const nav = h('nav', { class: 'lang-switch', 'aria-label': t('lang.label') });
    ['es', 'en'].forEach((code, i) => {
      if (i > 0) nav.append(h('span', { class: 'lang-sep', 'aria-hidden': 'true' }, '|'));
      const url = new URL(location.href);
      url.searchParams.set('lang', code);
      const current = window.lang() === code;
      const link = h('a', {
        href: url.pathname + url.search + url.hash,
        hreflang: code,
        lang: code,
        class: current ? 'is-current' : null,
        'aria-current': current ? 'true' : null,
        'aria-label': t('lang.' + code),
      }, code.toUpperCase());
      link.addEventListener('click', (ev) => {
        if (options.persist !== false) {
          try { localStorage.setItem('fila.lang', code); } catch (_) { /* ignore */ }
        }
        if (typeof options.onChange === 'function') {
          ev.preventDefault();
          window.setLang(code);
          langSwitcher(container, options);
          options.onChange(code);
        }
      });
      nav.append(link);
    });
    container.append(nav);
  }

  /**
   * Updates a list in place, keyed by data-key, so that periodic refreshes do
   * not destroy focus or restart animations of rows that did not change.
   * render(item) must return an element; sig(item) a string that changes when
   * the row must be redrawn.
   */
  function reconcileList(list, items, key, sig, render) {
    const existing = new Map();
    for (const child of Array.from(list.children)) {
      if (child.dataset && child.dataset.key !== undefined) existing.set(child.dataset.key, child);
      else child.remove();
    }
    items.forEach((item, index) => {
      const k = String(key(item));
      const s = String(sig(item));
      let node = existing.get(k);
      if (node && node.dataset.sig === s) {
        existing.delete(k);
      } else {
        const fresh = render(item);
        fresh.dataset.key = k;
        fresh.dataset.sig = s;
        if (node) {
          node.replaceWith(fresh);
          existing.delete(k);
        }
        node = fresh;
      }
      if (list.children[index] !== node) list.insertBefore(node, list.children[index] || null);
    });
    existing.forEach((node) => node.remove());
  }

  /** Calls fn at most once per `ms`, after the last request (trailing edge). */
  function debounce(fn, ms) {
    let timer = null;
    return function debounced(...args) {
      clearTimeout(timer);
      timer = setTimeout(() => { timer = null; fn.apply(this, args); }, ms);
    };
  }

  // ---------------------------------------------------------------------------
  // Server-Sent Events

  /**
   * Subscribes to /api/v1/events. handlers: { eventName: fn(data) }.
   * opts.onStatus(connected) is told about connectivity — only after 2 s of
   * trouble, so a brief blip does not flash the "offline" badge.
   * opts.onReconnect() runs when the stream comes back after a drop, so the
   * page can reload whatever it missed. EventSource retries by itself on
   * network errors; if the server answers with an error status it gives up, so
   * we then reopen it ourselves.
   */
  function connectEvents(handlers, opts) {
    const options = opts || {};
    let source = null;
    let opened = false;
    let connected = null;
    let offlineTimer = null;
    let retryTimer = null;
    let stopped = false;

    const report = (value) => {
      if (connected === value) return;
      connected = value;
      if (options.onStatus) options.onStatus(value);
    };

    function open() {
      if (stopped) return;
      source = new EventSource('/api/v1/events');
      source.onopen = () => {
        clearTimeout(offlineTimer);
        offlineTimer = null;
        const wasOpened = opened;
        opened = true;
        report(true);
        if (wasOpened && options.onReconnect) options.onReconnect();
      };
      source.onerror = () => {
        if (!offlineTimer) offlineTimer = setTimeout(() => { offlineTimer = null; report(false); }, 2000);
        if (source.readyState === EventSource.CLOSED) {
          source.close();
          clearTimeout(retryTimer);
          retryTimer = setTimeout(open, 5000);
        }
      };
      for (const [name, fn] of Object.entries(handlers)) {
        source.addEventListener(name, (ev) => {
          let data = null;
          try { data = ev.data ? JSON.parse(ev.data) : null; } catch (_) { return; }
          try { fn(data, ev); } catch (e) { console.error('fila: handler for', name, 'failed', e); }
        });
      }
    }

    open();
    return {
      close() {
        stopped = true;
        clearTimeout(offlineTimer);
        clearTimeout(retryTimer);
        if (source) source.close();
      },
    };
  }

  // ---------------------------------------------------------------------------
  // Misc

  /** Fetches /api/v1/office, retrying every 5 s until it answers. */
  async function loadOffice(onRetry) {
    for (;;) {
      try {
        return await api('GET', '/api/v1/office');
      } catch (e) {
        if (onRetry) onRetry(e);
        await new Promise((r) => setTimeout(r, 5000));
      }
    }
  }

  /** Label of a ticket's class/category, or '' for a regular ticket. */
  function ticketBadge(ticket, office) {
    if (!ticket) return '';
    if (ticket.category) {
      const cat = office && (office.categories || []).find((c) => c.id === ticket.category);
      return cat ? cat.name : ticket.category;
    }
    if (ticket.class === 'preferential') return t('class.preferential');
    if (ticket.class === 'appointment') return t('class.appointment');
    return '';
  }

  /**
   * A ticket's estimated wait as the citizen reads it: a range ("12–20 min"), or null when the
   * ticket has none (no longer waiting).
   */
  function waitRange(ticket) {
    const low = ticket && ticket.estimated_wait_low_minutes;
    const high = ticket && ticket.estimated_wait_high_minutes;
    if (typeof low !== 'number' || typeof high !== 'number') return null;
    if (high <= 1) return t('common.lessThanMinute');
    return t('common.minutesRange', { low, high });
  }

  /**
   * Keeps `el` showing the waiting room's occupancy ("Sala 38/40") where the office sets a
   * capacity; hidden otherwise. Refreshed every 15 seconds: a count, not an event.
   */
  function watchRoom(el) {
    const refresh = async () => {
      try {
        const room = await api('GET', '/api/v1/room');
        el.hidden = typeof room.capacity !== 'number';
        if (!el.hidden) {
          el.textContent = t('room.occupancy', { present: room.present, capacity: room.capacity });
          el.classList.toggle('is-full', room.present >= room.capacity);
        }
      } catch (_) { /* offline: keep the last count */ }
    };
    refresh();
    setInterval(refresh, 15000);
  }

  /**
   * A shared device's token (kiosk, exit tablet). A token in the URL (first installation, or a
   * new token) wins and is moved to storage under `key`, so a reboot or reload keeps working
   * and nobody can read it off the address bar.
   */
  function deviceToken(key) {
    const url = new URL(location.href);
    const fromUrl = url.searchParams.get('token');
    if (fromUrl) {
      try { localStorage.setItem(key, fromUrl); } catch (_) { /* storage disabled: keep it in memory */ }
      url.searchParams.delete('token');
      history.replaceState(null, '', url.pathname + url.search + url.hash);
      return fromUrl;
    }
    try { return localStorage.getItem(key); } catch (_) { return null; }
  }

  /**
   * Shows the page's screen `screen-<name>` and hides the other `names`. Focus moves to its
   * heading, which tells screen-reader users the screen changed.
   */
  function showScreen(names, name) {
    for (const other of names) document.getElementById('screen-' + other).hidden = other !== name;
    const heading = document.getElementById('screen-' + name).querySelector('[tabindex="-1"]');
    if (heading) heading.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }

  /**
   * On-screen keys for a shared touch device, which often has no keyboard of its own: 'erase'
   * is ⌫ (named `eraseLabel` for screen readers), '' leaves a gap, longer keys are wide.
   */
  function keyButtons(keys, onKey, eraseLabel) {
    return keys.map((key) => (key
      ? h('button', {
        type: 'button',
        class: 'btn btn-ghost' + (key.length > 1 ? ' key-wide' : ''),
        dataset: { key },
        'aria-label': key === 'erase' ? eraseLabel : null,
        onclick: () => onKey(key),
      }, key === 'erase' ? '⌫' : key)
      : h('span', { 'aria-hidden': 'true' })));
  }

  /** Keeps the screen on (kiosk, display) where the browser allows it. */
  function keepAwake() {
    if (!('wakeLock' in navigator)) return;
    const request = () => navigator.wakeLock.request('screen').catch(() => {});
    request();
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') request();
    });
  }

  const Fila = {
    ApiError, api, errorText, serverNow, fmtTime, fmtDay, minutesSince, locale,
    h, applyI18n, langSwitcher, reconcileList, debounce, connectEvents, loadOffice, ticketBadge, waitRange, watchRoom, keepAwake, deviceToken,
    showScreen, keyButtons,
  };
  window.Fila = Fila;
  Object.assign(window, {
    ApiError, api, errorText, fmtTime, fmtDay, minutesSince, h, applyI18n, langSwitcher, debounce, connectEvents,
  });
})();
