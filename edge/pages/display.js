/*
 * fila — waiting-room display (/display), for a 16:9 TV seen from afar.
 *
 * State is the list of the last calls (newest first, one entry per ticket).
 * It is loaded from /api/v1/calls/recent and then kept up to date from the
 * "called" server-sent events. Each live call blinks, chimes and is spoken.
 */
(function () {
  'use strict';
  const F = window.Fila;
  const { api, applyI18n, langSwitcher, fmtTime, h } = F;
  const t = window.t;
  const $ = (id) => document.getElementById(id);

  const HISTORY = 8;
  const SOUND_KEY = 'fila.displaySound';
  const state = { office: null, calls: [] };

  // -------------------------------------------------------------- rendering

  function counterLabel(call) {
    return call.counter_name || call.counter || '';
  }

  function arrowIcon() {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('class', 'call-arrow');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('fill', 'none');
    svg.setAttribute('stroke', 'currentColor');
    svg.setAttribute('stroke-width', '2.5');
    svg.setAttribute('stroke-linecap', 'round');
    svg.setAttribute('stroke-linejoin', 'round');
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', 'M4 12h15M13 6l6 6-6 6');
    svg.append(path);
    return svg;
  }

  function renderCurrent(isNew) {
    const box = $('current-calls');
    const call = state.calls[0];
    if (!call) {
      box.replaceChildren(h('div', { class: 'call-empty' }, t('display.waitingCalls')));
      return;
    }
    const main = h('div', { class: 'call-main' + (isNew ? ' is-new' : ''), 'data-number': call.number },
      h('span', { class: 'call-number' }, call.number),
      h('span', { class: 'call-target' },
        arrowIcon(),
        h('span', { class: 'visually-hidden' }, ', '),
        h('span', { class: 'call-counter' }, counterLabel(call))),
      call.service_name ? h('span', { class: 'call-service' }, call.service_name) : null);
    // Stop the blinking after its five cycles so it reads as "new", not "broken".
    main.addEventListener('animationend', () => main.classList.remove('is-new'));
    // Same for reduced-motion setups, where there is no animation to end.
    if (isNew) setTimeout(() => main.classList.remove('is-new'), 5500);
    box.replaceChildren(main);
  }

  function renderHistory(newNumber) {
    const list = $('recent-calls');
    if (!state.calls.length) {
      list.replaceChildren();
      return;
    }
    list.replaceChildren(...state.calls.map((call, i) => {
      let cls = i === 0 ? 'is-latest' : '';
      if (call.number === newNumber) cls += ' is-new';
      return h('li', { class: cls.trim() || null, 'data-number': call.number },
        h('span', { class: 'r-number' }, call.number),
        h('span', { class: 'r-counter' }, counterLabel(call),
          call.at ? h('span', { class: 'r-time' }, fmtTime(call.at)) : null));
    }));
  }

  function render(newNumber) {
    renderCurrent(!!newNumber);
    renderHistory(newNumber);
  }

  /** Puts a call on top; a recall or a second call of the same ticket replaces the old row. */
  function pushCall(call) {
    state.calls = [call].concat(state.calls.filter((c) => c.number !== call.number)).slice(0, HISTORY);
  }

  async function loadRecent(flashIfChanged) {
    try {
      const list = await api('GET', '/api/v1/calls/recent?limit=' + HISTORY);
      const sig = (calls) => calls.map((c) => [c.number, c.counter, c.at].join('@')).join('|');
      const previous = sig(state.calls);
      const before = state.calls[0] && state.calls[0].number;
      state.calls = [];
      // Oldest first through pushCall keeps the newest on top and de-duplicates.
      for (const call of (Array.isArray(list) ? list : []).slice().reverse()) pushCall(call);
      const after = state.calls[0] && state.calls[0].number;
      // Nothing new: leave the DOM alone so a blink in progress is not cut short.
      if (sig(state.calls) === previous && state.calls.length) return;
      render(flashIfChanged && after && after !== before ? after : null);
    } catch (_) {
      // Keep what is on screen; the connection badge tells staff something is off.
    }
  }

  // -------------------------------------------------------------- sound

  const sound = {
    ctx: null,
    wanted: false,     // the user asked for sound (remembered for the session)
    queue: [],
    boxSilent: false,  // the box said it cannot speak (no espeak-ng): use the browser's voice
    playing: false,
  };

  function audioReady() {
    return !!sound.ctx && sound.ctx.state === 'running';
  }

  function renderSoundButton() {
    const on = sound.wanted && audioReady();
    const btn = $('sound-toggle');
    btn.classList.toggle('is-off', !on);
    btn.setAttribute('aria-pressed', on ? 'true' : 'false');
    $('sound-label').textContent = on ? t('display.soundOn') : t('display.soundOff');
    // SVG elements have no .hidden property: toggle the attribute itself.
    $('sound-icon-on').toggleAttribute('hidden', !on);
    $('sound-icon-off').toggleAttribute('hidden', on);
  }

  /** Must run inside a user gesture the first time: browsers block audio until then. */
  async function unlockAudio() {
    try {
      if (!sound.ctx) {
        const Ctx = window.AudioContext || window.webkitAudioContext;
        if (Ctx) sound.ctx = new Ctx();
      }
      if (sound.ctx && sound.ctx.state !== 'running') await sound.ctx.resume();
    } catch (_) { /* no audio device: speech may still work */ }
    if ('speechSynthesis' in window) {
      // An empty utterance spoken during the gesture unlocks speech as well.
      try { window.speechSynthesis.speak(new SpeechSynthesisUtterance('')); } catch (_) { /* ignore */ }
    }
    renderSoundButton();
  }

  async function toggleSound() {
    if (sound.wanted && audioReady()) {
      sound.wanted = false;
      sound.queue.length = 0;
      if ('speechSynthesis' in window) window.speechSynthesis.cancel();
    } else {
      sound.wanted = true;
      await unlockAudio();
      if (audioReady()) chime(); // audible confirmation for whoever set up the TV
    }
    try { sessionStorage.setItem(SOUND_KEY, sound.wanted ? '1' : '0'); } catch (_) { /* ignore */ }
    renderSoundButton();
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  /** Three-tone ascending "attention" chime (C5–E5–G5), synthesised; resolves when done. */
  function chime() {
    const ctx = sound.ctx;
    if (!ctx || ctx.state !== 'running') return Promise.resolve();
    const master = ctx.createGain();
    master.gain.value = 0.6;
    master.connect(ctx.destination);
    const start = ctx.currentTime + 0.05;
    const notes = [523.25, 659.25, 783.99];
    notes.forEach((freq, i) => {
      const at = start + i * 0.32;
      const length = i === notes.length - 1 ? 1.4 : 0.9;
      const env = ctx.createGain();
      env.gain.setValueAtTime(0.0001, at);
      env.gain.exponentialRampToValueAtTime(0.5, at + 0.015);
      env.gain.exponentialRampToValueAtTime(0.0001, at + length);
      env.connect(master);
      // A soft octave overtone makes it sound like a bell rather than a beep.
      [[freq, 1], [freq * 2, 0.22], [freq * 3, 0.06]].forEach(([f, level]) => {
        const osc = ctx.createOscillator();
        const g = ctx.createGain();
        osc.type = 'sine';
        osc.frequency.value = f;
        g.gain.value = level;
        osc.connect(g);
        g.connect(env);
        osc.start(at);
        osc.stop(at + length + 0.05);
      });
    });
    return sleep((0.32 * (notes.length - 1) + 1.2) * 1000);
  }

  function pickVoice(language) {
    if (!('speechSynthesis' in window)) return null;
    const voices = window.speechSynthesis.getVoices() || [];
    const prefs = language === 'en' ? ['en-US', 'en-GB', 'en'] : ['es-419', 'es-MX', 'es-US', 'es-CO', 'es-AR', 'es-CL', 'es-PE', 'es-ES', 'es'];
    const norm = (v) => String(v.lang || '').replace('_', '-');
    for (const p of prefs) {
      const hit = voices.find((v) => norm(v) === p) || voices.find((v) => norm(v).startsWith(p));
      if (hit) return hit;
    }
    return null;
  }

  function speak(text) {
    return new Promise((resolve) => {
      if (!('speechSynthesis' in window) || !text) { resolve(); return; }
      const language = window.lang();
      const u = new SpeechSynthesisUtterance(text);
      const voice = pickVoice(language);
      if (voice) u.voice = voice;
      u.lang = voice ? voice.lang : F.locale();
      u.rate = 0.9; // slower than default: rooms echo and many listeners are elderly
      let timer = null;
      const done = () => { clearTimeout(timer); resolve(); };
      u.onend = done;
      u.onerror = done;
      // Some engines never fire "end": never let one stuck utterance block the queue.
      timer = setTimeout(done, 4000 + text.length * 150);
      window.speechSynthesis.speak(u);
    });
  }

  /**
   * Plays the call the box spoke with espeak-ng (the same phrase as spokenCall).
   * Resolves false when the box cannot speak (404) or anything fails, so the
   * caller falls back to the browser's speech.
   */
  async function playBoxAudio(call) {
    const ctx = sound.ctx;
    if (!ctx || ctx.state !== 'running' || sound.boxSilent || !call.counter) return false;
    try {
      const query = new URLSearchParams({ ticket: call.number, counter: call.counter, lang: window.lang() });
      // A slow box must not hold up the announcements behind this one.
      const response = await fetch('/api/v1/audio/call?' + query.toString(), { signal: AbortSignal.timeout(2500) });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        if (body.error === 'no_speech_engine') sound.boxSilent = true;
        return false;
      }
      const buffer = await ctx.decodeAudioData(await response.arrayBuffer());
      const source = ctx.createBufferSource();
      source.buffer = buffer;
      source.connect(ctx.destination);
      const ended = new Promise((resolve) => { source.onended = resolve; });
      source.start();
      await Promise.race([ended, sleep(buffer.duration * 1000 + 1000)]);
      return true;
    } catch (_) {
      return false;
    }
  }

  function announce(call) {
    if (!sound.wanted) return;
    sound.queue.push(call);
    // In a burst, older announcements are dropped: the screen still shows them.
    if (sound.queue.length > 4) sound.queue.splice(0, sound.queue.length - 4);
    if (!sound.playing) drainAnnouncements();
  }

  async function drainAnnouncements() {
    sound.playing = true;
    duck(true);
    try {
      while (sound.queue.length && sound.wanted) {
        const call = sound.queue.shift();
        // The box's own voice (chime included) when it has one; else the browser's.
        if (!(await playBoxAudio(call))) {
          await chime();
          // Numeric ids are read as "puesto cuatro"; others by their display name.
          const counter = /^\d+$/.test(String(call.counter || '')) ? call.counter : counterLabel(call);
          await speak(window.spokenCall(call.number, counter, window.lang()));
        }
        await sleep(500);
      }
    } finally {
      sound.playing = false;
      duck(false);
    }
  }

  // -------------------------------------------------------------- signage

  // What this screen plays, from the box (`?screen=` names it). Asked every two seconds, so a
  // new schedule or an urgent message shows within that; items rotate on their own timers.
  const SIGNAGE_EVERY_MS = 2000;
  const screenId = new URLSearchParams(location.search).get('screen');
  const signage = { key: '', playlist: null, items: [], index: -1, timer: null, showing: null, unsent: [] };

  /** A random id for a play (works over plain http too, unlike randomUUID). */
  function playId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  /** Proof of play: what just left the screen, and for how long it showed. */
  function reportPlay() {
    const shown = signage.showing;
    signage.showing = null;
    if (!shown) return;
    const seconds = Math.round((Date.now() - shown.started_at) / 1000);
    if (seconds < 1) return;
    signage.unsent.push({ ...shown, seconds: Math.min(seconds, 3600) });
    if (signage.unsent.length > 500) signage.unsent.splice(0, signage.unsent.length - 500);
    sendPlays();
  }

  async function sendPlays() {
    while (signage.unsent.length) {
      try {
        await api('POST', '/api/v1/signage/plays', signage.unsent[0]);
      } catch (err) {
        // The box is out of reach: the plays wait here (a refused one is dropped).
        if (!(err instanceof F.ApiError) || err.status === 0 || err.status >= 500) return;
      }
      signage.unsent.shift();
    }
  }

  function currentVideo() {
    return $('signage-stage').querySelector('video');
  }

  /** A call is being spoken: the signage's own sound steps back until it is done. */
  function duck(on) {
    const video = currentVideo();
    if (video) video.volume = on ? 0.15 : 1;
  }

  function showItem() {
    clearTimeout(signage.timer);
    reportPlay();
    const stage = $('signage-stage');
    if (!signage.items.length) {
      stage.hidden = true;
      stage.replaceChildren();
      $('signage-idle').hidden = false;
      return;
    }
    signage.index = (signage.index + 1) % signage.items.length;
    const item = signage.items[signage.index];
    let node;
    if (item.kind === 'image') {
      node = h('img', { src: item.url, alt: '' });
    } else if (item.kind === 'video') {
      node = h('video', { src: item.url, autoplay: true, playsinline: true });
      node.muted = !audioReady();
      node.volume = sound.playing ? 0.15 : 1;
      // A video with no set duration plays to its end.
      node.addEventListener('ended', showItem);
      node.addEventListener('error', () => { signage.timer = setTimeout(showItem, 1000); });
    } else {
      node = h('div', { class: 'signage-slide' }, h('h2', { text: item.title }), h('p', { text: item.body }));
    }
    stage.dataset.kind = item.kind;
    signage.showing = {
      id: playId(), screen: screenId || (signage.screen || 'sala'), playlist: signage.playlist,
      item: item.sha256 || 'slide', started_at: Date.now(),
    };
    stage.replaceChildren(node);
    stage.hidden = false;
    $('signage-idle').hidden = true;
    if (item.kind !== 'video' || item.seconds > 0) signage.timer = setTimeout(showItem, Math.max(1, item.seconds) * 1000);
    else if (signage.items.length === 1) node.loop = true;
  }

  function showTicker(spans) {
    const ticker = $('ticker');
    if (!spans || !spans.length) {
      ticker.textContent = t('display.ticker');
      return;
    }
    // Text only: the ticker's bold and italic become elements whose content is text.
    ticker.replaceChildren(...spans.map((s) => {
      const tag = s.bold ? 'strong' : (s.italic ? 'em' : 'span');
      const node = h(tag, { text: s.text });
      return s.bold && s.italic ? h('em', null, node) : node;
    }));
  }

  async function loadSignage() {
    try {
      const query = new URLSearchParams({ lang: window.lang() });
      if (screenId) query.set('screen', screenId);
      const now = await api('GET', '/api/v1/signage/now?' + query.toString());
      const urgent = $('signage-urgent');
      urgent.textContent = now.urgent ? now.urgent.text : '';
      urgent.hidden = !now.urgent;
      document.body.classList.toggle('profile-portrait', now.screen && now.screen.profile === 'portrait');
      showTicker(now.ticker);
      // A screen set up without the ticker line gives its height to the rest.
      $('ticker').hidden = !!(now.screen && now.screen.ticker === false);
      const key = JSON.stringify([now.playlist, now.items]);
      signage.screen = now.screen && now.screen.id;
      if (key !== signage.key) {
        signage.key = key;
        signage.playlist = now.playlist || null;
        signage.items = now.items || [];
        signage.index = -1;
        showItem();
      }
    } catch (_) {
      // The box is unreachable: keep playing what is on screen.
    }
  }

  // -------------------------------------------------------------- clock, office

  function tickClock() {
    const now = Date.now();
    $('clock').textContent = fmtTime(now);
    try {
      $('date').textContent = new Intl.DateTimeFormat(F.locale(), { weekday: 'long', day: 'numeric', month: 'long' }).format(new Date(now));
    } catch (_) {
      $('date').textContent = '';
    }
  }

  function showOffice() {
    const name = (state.office && state.office.name) || '';
    $('office-name').textContent = name;
    $('signage-office').textContent = name;
    document.title = (name ? name + ' — ' : '') + t('display.title');
  }

  // -------------------------------------------------------------- start

  function onCalled(data) {
    if (!data || !data.number) return;
    pushCall(data);
    render(data.number);
    announce(data);
  }

  function init() {
    applyI18n();
    $('signage').setAttribute('aria-label', t('display.welcome'));
    langSwitcher($('lang-switch'));
    renderSoundButton();
    render(null);
    tickClock();
    setInterval(tickClock, 1000);
    F.keepAwake();

    $('sound-toggle').addEventListener('click', toggleSound);
    try { sound.wanted = sessionStorage.getItem(SOUND_KEY) === '1'; } catch (_) { /* ignore */ }
    if (sound.wanted) {
      // Sound was enabled earlier in this session: try right away (works where
      // the browser's autoplay policy allows it) and otherwise on the first
      // touch or key press anywhere.
      unlockAudio();
      const retry = () => { if (sound.wanted) unlockAudio(); };
      document.addEventListener('pointerdown', retry, { once: true });
      document.addEventListener('keydown', retry, { once: true });
    }
    if ('speechSynthesis' in window) {
      // Voices load asynchronously; asking early makes the first call use the right one.
      window.speechSynthesis.getVoices();
      window.speechSynthesis.addEventListener('voiceschanged', () => window.speechSynthesis.getVoices());
    }

    F.loadOffice().then((office) => { state.office = office; showOffice(); });
    F.watchRoom($('room'));
    loadRecent(false);
    loadSignage();
    setInterval(loadSignage, SIGNAGE_EVERY_MS);

    F.connectEvents({
      called: onCalled,
      day: () => {
        state.calls = [];
        render(null);
        api('GET', '/api/v1/office').then((o) => { state.office = o; showOffice(); }).catch(() => {});
      },
    }, {
      onStatus: (connected) => { $('connection').hidden = connected; },
      // Calls made while we were disconnected: show them, but do not announce stale calls.
      onReconnect: () => loadRecent(true),
    });

    // A silently stalled stream would freeze the screen; a slow periodic resync prevents it.
    setInterval(() => loadRecent(false), 120000);
  }

  init();
})();
