/*
 * fila — exit tablet (/exit?token=<kiosk device token>): a citizen leaving the office rates
 * their visit by the number on their ticket.
 *
 * Flow: ticket number → the office's survey → thanks → back to the start. Like the kiosk it is
 * a shared device: every path returns to the start on its own, the last citizen's answers and
 * language are forgotten, and a citizen who walks away mid-survey leaves nothing behind.
 */
(function () {
  'use strict';
  const F = window.Fila;
  const { api, ApiError, applyI18n, langSwitcher, h, keepAwake, loadOffice, deviceToken, showScreen, keyButtons } = F;
  const t = window.t;
  const $ = (id) => document.getElementById(id);

  const TOKEN_KEY = 'fila.exitToken';
  const DONE_SECONDS = 8;
  const IDLE_SECONDS = 60;
  const SCREENS = ['loading', 'setup', 'number', 'survey', 'done', 'error'];
  const NUMBER = /^([A-Za-z])-?(\d{1,3})$/;

  const state = { token: null, office: null, form: null, number: null };
  const tabletLang = window.lang();
  let screenTimer = null;
  let countdownTimer = null;

  const show = (name) => showScreen(SCREENS, name);

  function armTimeout(seconds) {
    clearTimeout(screenTimer);
    screenTimer = setTimeout(reset, seconds * 1000);
  }

  function reset() {
    clearTimeout(countdownTimer);
    clearTimeout(screenTimer);
    state.number = null;
    $('exit-number').value = '';
    $('number-error').hidden = true;
    $('survey-body').replaceChildren();
    if (window.lang() !== tabletLang) {
      window.setLang(tabletLang);
      renderAll();
    }
    if (!state.token) { show('setup'); return; }
    show('number');
    // Headquarters may have changed the questions since: the next citizen gets today's form.
    api('GET', '/api/v1/survey-form').then((form) => { state.form = form; }).catch(() => {});
  }

  function renderAll() {
    applyI18n();
    langSwitcher($('lang-switch'), { persist: false, onChange: renderAll });
    if (state.office) $('office-name').textContent = state.office.name || '';
    renderKeypad();
    if (state.number) renderSurvey();
  }

  /** The office's ticket letters, then digits: enough to type any of today's numbers. */
  function renderKeypad() {
    const letters = Array.from(new Set(((state.office && state.office.services) || []).map((s) => s.prefix).filter(Boolean)));
    $('exit-letters').replaceChildren(...letters.map((letter) =>
      h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => press(letter + '-', true) }, letter)));
    const digits = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '', '0', 'erase'];
    $('exit-digits').replaceChildren(...keyButtons(digits, (key) => press(key, false), t('exit.erase')));
  }

  function press(key, isLetter) {
    const input = $('exit-number');
    if (key === 'erase') input.value = input.value.replace(/-?.$/, '');
    else if (isLetter) input.value = key;
    else if (input.value.replace(/\D/g, '').length < 3) input.value += key;
    $('number-error').hidden = true;
    armTimeout(IDLE_SECONDS);
  }

  function numberError(key) {
    $('number-error').textContent = t(key);
    $('number-error').hidden = false;
    show('number');
    armTimeout(IDLE_SECONDS);
  }

  function chooseNumber(event) {
    event.preventDefault();
    const match = NUMBER.exec($('exit-number').value.trim());
    if (!match) { numberError('exit.badNumber'); return; }
    state.number = match[1].toUpperCase() + '-' + match[2].padStart(3, '0');
    renderSurvey();
    show('survey');
    armTimeout(IDLE_SECONDS);
  }

  function renderSurvey() {
    $('survey-ticket').textContent = t('exit.forTicket', { number: state.number });
    const form = state.form || { questions: {}, comment_chars_max: 0 };
    const survey = F.surveyForm(form.questions, form.comment_chars_max, answer);
    survey.addEventListener('input', () => armTimeout(IDLE_SECONDS));
    survey.addEventListener('change', () => armTimeout(IDLE_SECONDS));
    $('survey-body').replaceChildren(survey);
  }

  async function answer(body) {
    try {
      await api('POST', '/api/v1/surveys', Object.assign({ ticket: state.number }, body), state.token);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.status === 401 || err.status === 403) { showError(t('exit.unauthorized'), err); return; }
      if (err.status === 404) { numberError('exit.noTicket'); return; }
      if (err.error === 'bad_number') { numberError('exit.badNumber'); return; }
      if (err.error === 'survey_not_open') { numberError('exit.notFinished'); return; }
      if (err.error === 'survey_answered') { done('survey.answered'); return; }
      throw new Error(F.errorText(err));
    }
    done('survey.thanks');
  }

  function done(key) {
    $('done-title').textContent = t(key);
    $('sr-status').textContent = t(key);
    show('done');
    const bar = $('countdown-bar');
    bar.classList.remove('is-running');
    void bar.offsetWidth;
    bar.style.animationDuration = DONE_SECONDS + 's';
    bar.classList.add('is-running');
    let left = DONE_SECONDS;
    const tick = () => {
      $('countdown-text').textContent = t('exit.returning', { n: left });
      if (left <= 0) { reset(); return; }
      left -= 1;
      countdownTimer = setTimeout(tick, 1000);
    };
    tick();
  }

  function showError(text, err) {
    $('error-title').textContent = text;
    $('error-detail').textContent = err ? [err.status, err.error].filter(Boolean).join(' · ') : '';
    show('error');
    armTimeout(20);
  }

  function init() {
    state.token = deviceToken(TOKEN_KEY);
    renderAll();
    keepAwake();
    $('number-form').addEventListener('submit', chooseNumber);
    $('exit-number').addEventListener('input', () => armTimeout(IDLE_SECONDS));
    $('survey-back').addEventListener('click', reset);
    document.addEventListener('contextmenu', (ev) => ev.preventDefault());
    if (!state.token) { show('setup'); return; }

    loadOffice(() => { $('loading-text').textContent = t('common.retrying'); }).then(async (office) => {
      state.office = office;
      for (;;) {
        try {
          state.form = await api('GET', '/api/v1/survey-form');
          break;
        } catch (_) {
          await new Promise((resolve) => setTimeout(resolve, 5000));
        }
      }
      renderAll();
      reset();
    });
  }

  init();
})();
