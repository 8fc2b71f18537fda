/*
 * fila — ticket tracking page (/t/<token>), opened on the citizen's phone.
 *
 * Polls every 15 s and also refetches when the event stream says a ticket
 * changed or someone was called. Once the ticket reaches a final state
 * (served, cancelled, no-show) it stops listening to save the phone's battery.
 */
(function () {
  'use strict';
  const F = window.Fila;
  const { api, ApiError, applyI18n, langSwitcher, fmtTime, h, ticketBadge } = F;
  const t = window.t;
  const $ = (id) => document.getElementById(id);

  const POLL_MS = 15000;
  const FINAL = ['finished', 'cancelled', 'no_show'];
  const CANCELLABLE = ['waiting', 'parked'];

  const segments = location.pathname.split('/').filter(Boolean);
  let token = '';
  try { token = decodeURIComponent(segments[segments.length - 1] || ''); } catch (_) { token = ''; }
  if (segments.length < 2) token = ''; // "/t" alone has no token

  const CONTACT_OPEN = ['waiting', 'parked'];

  const state = {
    notFound: false, ticket: null, office: null, lastStatus: null, pollTimer: null, events: null, loading: false,
    contactDone: false,
    survey: null, // null until asked; then the survey's state (open, answered, closed)
  };
  const ticketApi = () => '/api/v1/track/' + encodeURIComponent(token);

  // -------------------------------------------------------------- rendering

  /** Spanish needs "al Puesto 4" but "a la Caja 2": pick the sentence by the counter's first word. */
  function counterKey(base, where) {
    const words = t('grammar.feminineCounterWords').split('|').filter(Boolean);
    const first = String(where).trim().split(/\s+/)[0].toLowerCase();
    return words.includes(first) ? base + 'Fem' : base;
  }

  function statusText(tk) {
    const where = tk.counter_name || (tk.counter ? tk.counter : '');
    switch (tk.status) {
      case 'called': return where ? t(counterKey('track.s.called', where), { counter: where }) : t('track.s.calledNoCounter');
      case 'serving': return where ? t(counterKey('track.s.serving', where), { counter: where }) : t('status.serving');
      default:
        return window.FilaI18n.has('track.s.' + tk.status) ? t('track.s.' + tk.status) : t('status.' + tk.status);
    }
  }

  function setStat(el, text, isText) {
    el.textContent = text;
    el.classList.toggle('is-text', !!isText);
  }

  function render() {
    const tk = state.ticket;
    if (!tk) return;
    $('track-loading').hidden = true;
    $('track-notfound').hidden = true;
    $('track-card').hidden = false;

    $('track-number').textContent = tk.number || '';
    $('track-service').textContent = tk.service_name || tk.service || '';
    const badge = ticketBadge(tk, state.office);
    $('track-badge').replaceChildren(...(badge ? [h('span', { class: 'badge badge-pref' }, badge)] : []));

    const status = $('track-status');
    const text = statusText(tk);
    // Only touch the live region when the words change, so screen readers do
    // not repeat the same status every 15 seconds.
    if (status.textContent !== text) status.textContent = text;
    status.className = 'track-status s-' + tk.status;

    const waiting = tk.status === 'waiting';
    const ahead = tk.people_ahead;
    if (!waiting || ahead === null || ahead === undefined) setStat($('track-ahead'), t('common.none'));
    else if (ahead === 0) setStat($('track-ahead'), t('track.aheadNone'), true);
    else setStat($('track-ahead'), String(ahead));

    const wait = waiting ? F.waitRange(tk) : null;
    if (!wait) setStat($('track-wait'), t('common.none'));
    else setStat($('track-wait'), wait, tk.estimated_wait_high_minutes <= 1);

    // Waiting outside: "I'm here", and once their turn nears, the call to come (buzzed once).
    const away = tk.away && !FINAL.includes(tk.status);
    $('here-area').hidden = !away;
    $('track-come-now').hidden = !(away && tk.come_now);
    if (away && tk.come_now && !state.comeNowSeen) {
      state.comeNowSeen = true;
      try { if (navigator.vibrate) navigator.vibrate([400, 200, 400]); } catch (_) { /* ignore */ }
    }

    const cancellable = CANCELLABLE.includes(tk.status);
    $('cancel-area').hidden = !cancellable;
    if (!cancellable) $('track-cancel-box').hidden = true;

    $('track-updated').textContent = t('track.updated', { time: fmtTime(Date.now()) }) + '.';
    $('track-auto').hidden = FINAL.includes(tk.status);

    document.title = tk.status === 'called' ? t('track.yourTurnTitle', { number: tk.number }) : (tk.number + ' — ' + t('track.title'));

    if (tk.status === 'called' && state.lastStatus !== 'called' && state.lastStatus !== null) {
      // The citizen may be looking away: buzz the phone where allowed.
      try { if (navigator.vibrate) navigator.vibrate([300, 150, 300, 150, 600]); } catch (_) { /* ignore */ }
    }
    state.lastStatus = tk.status;
    renderContact();
    if (FINAL.includes(tk.status)) {
      stopLive();
      loadSurvey();
    }
  }

  function showNotFound() {
    state.notFound = true;
    $('track-loading').hidden = true;
    $('track-card').hidden = true;
    $('track-notfound').hidden = false;
    stopLive();
  }

  function showError(err) {
    const el = $('track-error');
    if (!err) { el.hidden = true; return; }
    el.textContent = err instanceof ApiError && err.status === 0 ? t('common.offlineLong') : F.errorText(err);
    el.hidden = false;
  }

  // -------------------------------------------------------------- data

  async function load() {
    if (!token) { showNotFound(); return; }
    if (state.loading) return;
    state.loading = true;
    try {
      const tk = await api('GET', ticketApi());
      state.ticket = tk;
      showError(null);
      render();
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 400 || err.status === 410)) showNotFound();
      else if (state.ticket) showError(err);
      else $('track-loading-text').textContent = t('common.retrying'); // the next poll tries again

    } finally {
      state.loading = false;
    }
  }

  // Many phones listen to the same stream: spread their refetches a little.
  let soonTimer = null;
  function loadSoon() {
    if (soonTimer) return;
    soonTimer = setTimeout(() => { soonTimer = null; load(); }, 300 + Math.random() * 1200);
  }

  function startLive() {
    state.pollTimer = setInterval(load, POLL_MS);
    state.events = F.connectEvents({
      ticket: (tk) => {
        // Our own ticket changed: right away. Someone else's: it may change our
        // position (e.g. a cancellation ahead of us), so refetch soon as well.
        if (state.ticket && tk && tk.number === state.ticket.number) load();
        else loadSoon();
      },
      called: loadSoon,
      day: loadSoon,
    }, { onReconnect: loadSoon });
  }

  function stopLive() {
    clearInterval(state.pollTimer);
    state.pollTimer = null;
    if (state.events) state.events.close();
    state.events = null;
  }

  // -------------------------------------------------------------- cancel

  async function confirmCancel() {
    const btn = $('track-cancel-confirm');
    btn.disabled = true;
    try {
      const tk = await api('POST', ticketApi() + '/cancel');
      state.ticket = tk;
      $('track-cancel-box').hidden = true;
      $('track-cancel').hidden = false;
      render();
      showError(null);
    } catch (err) {
      showError(err);
    } finally {
      btn.disabled = false;
    }
  }

  // -------------------------------------------------------------- contact for notices

  /** Offered while the ticket waits, when the office sends messages at all. */
  function renderContact() {
    const media = (state.office && state.office.contact_media) || [];
    const offered = media.length > 0 && state.ticket && (CONTACT_OPEN.includes(state.ticket.status) || state.contactDone);
    $('contact-area').hidden = !offered;
    if (!offered) return;
    const both = media.includes('sms') && media.includes('email');
    $('contact-label').textContent = t(both ? 'contact.label.both' : 'contact.label.' + media[0]);
    const input = $('contact-input');
    input.type = both ? 'text' : media[0] === 'email' ? 'email' : 'tel';
    input.autocomplete = both ? 'off' : media[0] === 'email' ? 'email' : 'tel';
  }

  async function sendContact(event) {
    event.preventDefault();
    const error = $('contact-error');
    const text = $('contact-input').value.trim();
    if (!text) {
      error.textContent = t('contact.bad');
      error.hidden = false;
      return;
    }
    $('contact-send').disabled = true;
    try {
      await api('POST', ticketApi() + '/contact', { contact: text, lang: window.lang() });
      state.contactDone = true;
      $('contact-form').hidden = true;
      $('contact-done').hidden = false;
      $('contact-done').focus();
    } catch (err) {
      error.textContent = err instanceof ApiError && err.error === 'bad_contact' ? t('contact.bad') : F.errorText(err);
      error.hidden = false;
    } finally {
      $('contact-send').disabled = false;
    }
  }

  // -------------------------------------------------------------- survey

  /** Once the visit is finished, its survey: asked once per page, answered once per ticket. */
  async function loadSurvey() {
    if (state.survey || !state.ticket || state.ticket.status !== 'finished') return;
    state.survey = 'loading';
    try {
      const survey = await api('GET', ticketApi() + '/survey');
      state.survey = survey.state;
      if (survey.state === 'open') {
        $('survey-body').replaceChildren(F.surveyForm(survey.questions, survey.comment_chars_max, answerSurvey));
        $('survey-area').hidden = false;
      } else if (survey.state === 'answered' || survey.state === 'closed') {
        surveyDone(survey.state === 'answered' ? 'survey.answered' : 'survey.closed', false);
      }
    } catch (_) {
      state.survey = null; // asked again on the next render
    }
  }

  async function answerSurvey(answer) {
    try {
      await api('POST', ticketApi() + '/survey', answer);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        surveyDone(err.error === 'survey_answered' ? 'survey.answered' : 'survey.closed', true);
        return;
      }
      throw new Error(F.errorText(err));
    }
    surveyDone('survey.thanks', true);
  }

  function surveyDone(key, focus) {
    $('survey-area').hidden = false;
    $('survey-body').replaceChildren();
    $('survey-intro').hidden = true;
    const status = $('survey-status');
    status.textContent = t(key);
    status.hidden = false;
    if (focus) status.focus();
  }

  // -------------------------------------------------------------- start

  function init() {
    applyI18n();
    langSwitcher($('lang-switch'));
    $('track-here').addEventListener('click', async () => {
      const btn = $('track-here');
      btn.disabled = true;
      try {
        state.ticket = await api('POST', ticketApi() + '/here');
        $('track-here-done').hidden = false;
        render();
      } catch (err) {
        showError(err);
      } finally {
        btn.disabled = false;
      }
    });
    $('track-cancel').addEventListener('click', () => {
      $('track-cancel-box').hidden = false;
      $('track-cancel').hidden = true;
      $('track-cancel-back').focus();
    });
    $('track-cancel-back').addEventListener('click', () => {
      $('track-cancel-box').hidden = true;
      $('track-cancel').hidden = false;
      $('track-cancel').focus();
    });
    $('track-cancel-confirm').addEventListener('click', confirmCancel);
    $('contact-form').addEventListener('submit', sendContact);
    $('contact-done').tabIndex = -1;
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && state.ticket && !FINAL.includes(state.ticket.status)) load();
    });

    api('GET', '/api/v1/office').then((office) => {
      state.office = office;
      if (office && office.name) $('office-name').textContent = office.name;
      render();
    }).catch(() => { /* the ticket matters more than the office name */ });

    if (!token) { showNotFound(); return; }
    load().then(() => {
      // Keep trying after a network failure too; stop only for good answers.
      if (!state.notFound && !(state.ticket && FINAL.includes(state.ticket.status))) startLive();
    });
  }

  init();
})();
