/*
 * fila — ticket kiosk (/kiosk?token=<device token>).
 *
 * Flow: services → "preferential?" → an optional contact for notices (when the office
 * sends any) → ticket shown for 10 s → back to services.
 * The kiosk is a shared public device, so every path leads back to the start
 * screen on its own, and a language chosen by one citizen is forgotten when
 * the next one arrives.
 */
(function () {
  'use strict';
  const { api, ApiError, applyI18n, langSwitcher, fmtTime, h, ticketBadge, waitRange, keepAwake, loadOffice, deviceToken, showScreen, keyButtons } = window.Fila;
  const t = window.t;

  const TOKEN_KEY = 'fila.kioskToken';
  const TICKET_SECONDS = 10;       // how long the issued ticket stays on screen
  const UNPRINTED_SECONDS = 45;    // longer when the screen is the only ticket (printer out of paper)
  const ERROR_SECONDS = 20;        // how long an error stays before resetting
  const IDLE_SECONDS = 45;         // a citizen who walks away mid-flow
  const OFFICE_MAX_AGE_MS = 5 * 60 * 1000;

  const $ = (id) => document.getElementById(id);
  const SCREENS = ['loading', 'setup', 'services', 'checkin', 'priority', 'contact', 'issuing', 'ticket', 'error'];
  // A booking's short code: letters and digits nobody confuses.
  const CODE_KEYS = '23456789ABCDEFGHJKMNPQRSTUVWXYZ'.split('').concat(['erase']);
  // On-screen keys: touch kiosks often have no keyboard of their own. Numbers get a phone pad;
  // e-mail addresses a keyboard of the characters addresses use.
  const PHONE_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '+', '0', 'erase'];
  const EMAIL_KEYS = [
    '1', '2', '3', '4', '5', '6', '7', '8', '9', '0',
    'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p',
    'a', 's', 'd', 'f', 'g', 'h', 'j', 'k', 'l', '@',
    'z', 'x', 'c', 'v', 'b', 'n', 'm', '.', '-', '_',
    '+', '.com', 'erase',
  ];

  const state = {
    token: null,
    office: null,
    officeLoadedAt: 0,
    screen: 'loading',
    service: null,   // chosen service object
    category: null,  // chosen preferential category id, or null
    ticket: null,    // last issued TicketDto
    error: null,     // {text, detail}
    busy: false,
  };
  const kioskLang = window.lang(); // the language the kiosk returns to after each citizen
  let screenTimer = null;
  let countdownTimer = null;

  // -------------------------------------------------------------- screens

  function show(name) {
    state.screen = name;
    clearTimeout(screenTimer);
    screenTimer = null;
    showScreen(SCREENS, name);
  }

  /** A key of the screen's own keyboard typed into `input`; any touch keeps the screen alive. */
  function typeKey(input, key) {
    input.value = key === 'erase' ? input.value.slice(0, -1) : input.value + key;
    armTimeout(IDLE_SECONDS);
  }

  function armTimeout(seconds) {
    clearTimeout(screenTimer);
    screenTimer = setTimeout(reset, seconds * 1000);
  }

  /** Back to the first screen, in the kiosk's own language. */
  function reset() {
    stopCountdown();
    state.service = null;
    state.category = null;
    state.ticket = null;
    // A shared screen: the last citizen's contact must not be there for the next one.
    $('contact-input').value = '';
    $('contact-error').hidden = true;
    state.error = null;
    state.busy = false;
    if (window.lang() !== kioskLang) {
      window.setLang(kioskLang);
      renderAll();
    }
    if (!state.token) { show('setup'); return; }
    renderServices();
    show('services');
    if (Date.now() - state.officeLoadedAt > OFFICE_MAX_AGE_MS) refreshOffice();
  }

  // -------------------------------------------------------------- rendering

  function renderAll() {
    applyI18n();
    langSwitcher($('lang-switch'), { persist: false, onChange: renderAll });
    if (state.office) {
      $('office-name').textContent = state.office.name || '';
      document.title = (state.office.name ? state.office.name + ' — ' : '') + t('kiosk.title');
    }
    renderServices();
    renderPriority();
    renderContact();
    if (state.ticket) renderTicket();
    if (state.error) renderError();
  }

  function renderServices() {
    const grid = $('service-grid');
    const services = (state.office && state.office.services) || [];
    grid.replaceChildren(...services.map((s) => h('button', {
      type: 'button',
      class: 'service-btn',
      dataset: { service: s.id },
      disabled: state.busy,
      onclick: () => chooseService(s),
    },
    h('span', { class: 'service-letter', 'aria-hidden': 'true' }, s.prefix || ''),
    h('span', null,
      h('span', { class: 'service-name' }, s.name || s.id),
      h('span', { class: 'service-meta' }, t('kiosk.servicePrefix', { prefix: s.prefix || '' }))))));
    $('no-services').hidden = services.length > 0 || !state.office;
    $('checkin-open').hidden = !services.some((s) => s.bookable);
  }

  // -------------------------------------------------------------- check-in

  function openCheckin() {
    $('checkin-input').value = '';
    $('checkin-error').hidden = true;
    $('checkin-keypad').replaceChildren(...keyButtons(CODE_KEYS, (key) => typeKey($('checkin-input'), key), t('contact.erase')));
    show('checkin');
    // A QR scanner types into the focused field and presses Enter.
    $('checkin-input').focus();
    armTimeout(IDLE_SECONDS);
  }

  /** The citizen's sentence for a refusal; the server's English is for the staff. */
  function checkinRefusal(err) {
    const code = err instanceof ApiError ? err.error : '';
    if (code === 'already_checked_in') {
      const number = /[A-Z]-\d{3}/.exec(err.message || '');
      return t('checkin.already', { number: number ? number[0] : '' });
    }
    const known = ['too_early', 'too_late', 'booking_cancelled', 'booking_missed', 'other_day', 'other_office'];
    if (known.includes(code)) return t('checkin.' + code);
    if (err instanceof ApiError && err.status === 0) return t('error.network');
    return t('checkin.unknown');
  }

  async function sendCheckin(event) {
    event.preventDefault();
    if (state.busy) return;
    const code = $('checkin-input').value.trim();
    if (!code) {
      $('checkin-error').textContent = t('checkin.unknown');
      $('checkin-error').hidden = false;
      return;
    }
    state.busy = true;
    try {
      // A ticket's own QR code (its tracking address on paper, its bare token on a remote join's
      // page at central) is a citizen waiting outside who is here; anything else is a booking's
      // code, which never looks like 32 lowercase hex digits.
      const here = /\/t\/[A-Za-z0-9_-]+\/?$/.test(code) || /^[0-9a-f]{32}$/.test(code);
      showIssued(await api('POST', here ? '/api/v1/tickets/here' : '/api/v1/checkins', here ? { token: code } : { code }, state.token));
    } catch (err) {
      state.busy = false;
      $('checkin-input').value = '';
      $('checkin-error').textContent = checkinRefusal(err);
      $('checkin-error').hidden = false;
      $('checkin-input').focus();
      armTimeout(IDLE_SECONDS);
    }
  }

  function renderPriority() {
    const categories = (state.office && state.office.categories) || [];
    $('chosen-service').textContent = state.service ? t('kiosk.chosenService', { service: state.service.name }) : '';
    $('category-grid').replaceChildren(...categories.map((c) => h('button', {
      type: 'button',
      class: 'category-btn',
      dataset: { category: c.id },
      onclick: () => afterPriority(c.id),
    }, priorityIcon(), h('span', null, c.name || c.id))));
  }

  function priorityIcon() {
    // Accessibility symbol (static markup, no data involved).
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('class', 'icon');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('fill', 'none');
    svg.setAttribute('stroke', 'currentColor');
    svg.setAttribute('stroke-width', '2');
    svg.setAttribute('stroke-linecap', 'round');
    svg.setAttribute('stroke-linejoin', 'round');
    for (const d of ['M12 4.5a1.5 1.5 0 1 0 0-.01', 'M7 8.5l5 1 5-1', 'M12 9.5v5l-3.5 6', 'M12 14.5l3.5 6']) {
      const p = document.createElementNS(ns, 'path');
      p.setAttribute('d', d);
      svg.append(p);
    }
    return svg;
  }

  /**
   * Full tracking link. The office may publish the pages under another address
   * (office.public_url, e.g. "https://turnos.example.gob") than the one this
   * kiosk uses on the LAN; a citizen's phone must use that one.
   */
  function trackingLink(tk) {
    const path = tk.tracking_url || (tk.token ? '/t/' + tk.token : '');
    if (!path) return '';
    if (/^https?:\/\//i.test(path)) return path;
    const configured = state.office && typeof state.office.public_url === 'string' ? state.office.public_url.trim() : '';
    const base = (configured || location.origin).replace(/\/+$/, '');
    return base + (path.charAt(0) === '/' ? path : '/' + path);
  }

  function renderTicket() {
    const tk = state.ticket;
    $('ticket-number').textContent = tk.number || '';
    $('ticket-service').textContent = tk.service_name || (state.service && state.service.name) || '';
    const badge = ticketBadge(tk, state.office);
    $('ticket-badge').replaceChildren(...(badge
      ? [h('span', { class: 'badge ' + (tk.class === 'appointment' ? 'badge-appt' : 'badge-pref') }, badge)]
      : []));
    $('ticket-time').textContent = tk.issued_at ? t('kiosk.issuedAt', { time: fmtTime(tk.issued_at) }) : '';
    // A full room: the ticket stands, the citizen waits outside until told to come.
    $('ticket-outside').hidden = !tk.away;
    $('ticket-ahead').textContent = tk.people_ahead === null || tk.people_ahead === undefined ? t('common.none') : String(tk.people_ahead);
    const wait = $('ticket-wait');
    const range = waitRange(tk);
    wait.textContent = range || t('kiosk.waitUnknown');
    wait.classList.toggle('is-text', !range || tk.estimated_wait_high_minutes <= 1);

    const link = trackingLink(tk);
    $('ticket-url').textContent = link;
    $('ticket-track-block').hidden = !link;
    // A QR code of the same link, drawn by the box (/t/<token>/qr.svg); without it the link
    // alone is shown.
    const path = tk.tracking_url || (tk.token ? '/t/' + tk.token : '');
    const qr = link && path.charAt(0) === '/'
      ? h('img', { class: 'qr', src: path + '/qr.svg', alt: t('kiosk.qrLabel'), onerror: () => showQr(false) })
      : null;
    $('ticket-qr').replaceChildren(...(qr ? [qr] : []));
    showQr(!!qr);
    renderPrint(tk.print);
    const kept = $('ticket-contact');
    kept.hidden = typeof tk.contact_kept !== 'boolean';
    kept.classList.toggle('is-warning', tk.contact_kept === false);
    kept.textContent = tk.contact_kept === true ? t('contact.kept') : tk.contact_kept === false ? t('contact.notKept') : '';
  }

  function showQr(shown) {
    $('ticket-qr').hidden = !shown;
    $('ticket-track-block').classList.toggle('has-qr', shown);
    $('ticket-track-label').textContent = t(shown ? 'kiosk.trackLabelQr' : 'kiosk.trackLabel');
  }

  /**
   * What became of the paper ticket. When the printer could not print it (out of
   * paper, cover open, offline), this screen IS the ticket: say so plainly.
   */
  function renderPrint(print) {
    const el = $('ticket-print');
    el.hidden = !print;
    el.classList.toggle('is-warning', !!print && !print.printed);
    if (!print) return;
    el.textContent = t(print.printed ? 'kiosk.printed' : 'kiosk.notPrinted');
  }

  function renderError() {
    $('error-text').textContent = state.error.text;
    $('error-detail').textContent = state.error.detail ? t('kiosk.errorDetail', { detail: state.error.detail }) : '';
  }

  // -------------------------------------------------------------- flow

  function chooseService(service) {
    if (state.busy) return;
    state.service = service;
    const categories = (state.office && state.office.categories) || [];
    if (!categories.length) { afterPriority(null); return; }
    renderPriority();
    show('priority');
    armTimeout(IDLE_SECONDS);
  }

  const contactMedia = () => (state.office && state.office.contact_media) || [];

  /** The contact step, when the office can send messages; otherwise the ticket right away. */
  function afterPriority(categoryId) {
    if (state.busy || !state.service) return;
    state.category = categoryId || null;
    if (!contactMedia().length) { issue(null); return; }
    renderContact();
    show('contact');
    armTimeout(IDLE_SECONDS);
  }

  function renderContact() {
    const media = contactMedia();
    const both = media.includes('sms') && media.includes('email');
    $('contact-label').textContent = media.length ? t(both ? 'contact.label.both' : 'contact.label.' + media[0]) : '';
    const input = $('contact-input');
    input.type = both ? 'text' : media[0] === 'email' ? 'email' : 'tel';
    input.inputMode = both ? 'text' : media[0] === 'email' ? 'email' : 'tel';
    const keypad = $('contact-keypad');
    const email = media.includes('email');
    keypad.hidden = !media.length;
    keypad.classList.toggle('keyboard', email);
    const keys = email ? EMAIL_KEYS : PHONE_KEYS;
    keypad.replaceChildren(...keyButtons(keys, (key) => typeKey($('contact-input'), key), t('contact.erase')));
  }

  function sendContact(event) {
    event.preventDefault();
    const text = $('contact-input').value.trim();
    if (!text) {
      $('contact-error').textContent = t('contact.bad');
      $('contact-error').hidden = false;
      return;
    }
    issue(text);
  }

  /** The ticket the office issued (a walk-in's, or a booking's at check-in) is the screen now. */
  function showIssued(ticket) {
    state.ticket = ticket;
    state.busy = false;
    renderTicket();
    show('ticket');
    $('sr-status').textContent = t('kiosk.yourTicket') + ' ' + (ticket.number || '');
    startCountdown();
  }

  async function issue(contact) {
    if (state.busy || !state.service) return;
    state.busy = true;
    show('issuing');
    const body = { service: state.service.id, category: state.category };
    if (contact) {
      body.contact = contact;
      body.lang = window.lang();
    }
    try {
      showIssued(await api('POST', '/api/v1/tickets', body, state.token));
    } catch (err) {
      state.busy = false;
      if (contact && err instanceof ApiError && (err.error === 'bad_contact' || err.error === 'no_channel')) {
        // No ticket was issued: let the citizen fix the contact or skip it.
        $('contact-error').textContent = t('contact.bad');
        $('contact-error').hidden = false;
        show('contact');
        armTimeout(IDLE_SECONDS);
        return;
      }
      showError(err);
    }
  }

  function showError(err) {
    const unauthorized = err instanceof ApiError && (err.status === 401 || err.status === 403);
    let text = t('kiosk.errorHelp');
    if (unauthorized) text = t('kiosk.errorUnauthorized');
    else if (err instanceof ApiError && (err.error === 'office_closed' || err.error === 'service_closing')) {
      // Closed, or too near closing for a new ticket to be called: say when to come back.
      const next = err.body && err.body.next_opening;
      text = t(err.error === 'office_closed' ? 'kiosk.closed' : 'kiosk.closing') + (next ? ' ' + t('kiosk.nextOpening', { at: next }) : '');
    }
    else if (err instanceof ApiError && err.status === 0) text = t('error.network') + ' ' + t('kiosk.errorHelp');
    // The server's wording (possibly in another language) is kept as a small
    // technical note for the staff; the citizen reads our own sentence.
    const detail = err instanceof ApiError
      ? [err.status || '', err.error || '', err.status ? err.message : ''].filter(Boolean).join(' · ')
      : String(err && err.message || err);
    state.error = { text, detail };
    renderError();
    show('error');
    $('sr-status').textContent = t('kiosk.errorTitle') + '. ' + text;
    armTimeout(ERROR_SECONDS);
  }

  function startCountdown() {
    stopCountdown();
    const bar = $('countdown-bar');
    // Restart the CSS animation from full width.
    bar.classList.remove('is-running');
    void bar.offsetWidth;
    const seconds = state.ticket && state.ticket.print && !state.ticket.print.printed ? UNPRINTED_SECONDS : TICKET_SECONDS;
    bar.style.animationDuration = seconds + 's';
    bar.classList.add('is-running');
    let left = seconds;
    const tick = () => {
      $('countdown-text').textContent = t('kiosk.returning', { n: left });
      if (left <= 0) { reset(); return; }
      left -= 1;
      countdownTimer = setTimeout(tick, 1000);
    };
    tick();
  }

  function stopCountdown() {
    clearTimeout(countdownTimer);
    countdownTimer = null;
    $('countdown-bar').classList.remove('is-running');
  }

  // -------------------------------------------------------------- office data

  async function refreshOffice() {
    try {
      const office = await api('GET', '/api/v1/office');
      state.office = office;
      state.officeLoadedAt = Date.now();
      if (state.screen === 'services') renderAll();
    } catch (_) { /* keep the services we have; try again next time */ }
  }

  function tickClock() {
    $('clock').textContent = fmtTime(Date.now());
  }

  // -------------------------------------------------------------- start

  function init() {
    state.token = deviceToken(TOKEN_KEY);
    renderAll();
    tickClock();
    setInterval(tickClock, 10000);
    keepAwake();
    window.Fila.watchRoom($('room'));

    $('priority-none').addEventListener('click', () => afterPriority(null));
    $('checkin-open').addEventListener('click', openCheckin);
    $('checkin-back').addEventListener('click', reset);
    $('checkin-form').addEventListener('submit', sendCheckin);
    $('checkin-input').addEventListener('input', () => armTimeout(IDLE_SECONDS));
    $('contact-form').addEventListener('submit', sendContact);
    $('contact-skip').addEventListener('click', () => issue(null));
    $('contact-input').addEventListener('input', () => armTimeout(IDLE_SECONDS));
    $('priority-back').addEventListener('click', reset);
    $('ticket-done').addEventListener('click', reset);
    $('error-back').addEventListener('click', reset);
    // Any touch on the priority screen counts as activity.
    $('screen-priority').addEventListener('pointerdown', () => armTimeout(IDLE_SECONDS));
    // Long-press context menus make no sense on a kiosk.
    document.addEventListener('contextmenu', (ev) => ev.preventDefault());

    // Without a device token there is nothing a citizen can do: tell the
    // installer right away instead of waiting for the server.
    if (!state.token) show('setup');

    loadOffice(() => { $('loading-text').textContent = t('common.retrying'); }).then((office) => {
      state.office = office;
      state.officeLoadedAt = Date.now();
      renderAll();
      reset();
    });
  }

  init();
})();
