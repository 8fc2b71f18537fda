/* fila — home page: office name and links to the front-ends. */
(function () {
  'use strict';
  const { api, applyI18n, langSwitcher, fmtDay, errorText } = window.Fila;
  const t = window.t;

  applyI18n();
  langSwitcher(document.getElementById('lang-switch'));

  // Carry an explicit ?lang= over to the linked pages so the choice sticks.
  const chosen = new URLSearchParams(location.search).get('lang');
  if (chosen) {
    for (const id of ['link-kiosk', 'link-counter', 'link-display', 'link-exit']) {
      const link = document.getElementById(id);
      const url = new URL(link.getAttribute('href'), location.origin);
      url.searchParams.set('lang', window.lang());
      link.href = url.pathname + url.search;
    }
  }

  const nameEl = document.getElementById('office-name');
  const dayEl = document.getElementById('office-day');
  const errEl = document.getElementById('office-error');

  api('GET', '/api/v1/office')
    .then((office) => {
      nameEl.textContent = office.name || '';
      document.title = (office.name ? office.name + ' — ' : '') + t('home.title');
      dayEl.textContent = office.day ? t('home.day', { day: fmtDay(office.day) }) : '';
    })
    .catch((err) => {
      nameEl.textContent = t('app.name');
      errEl.textContent = t('home.officeError') + ' ' + errorText(err);
      errEl.hidden = false;
    });
})();
