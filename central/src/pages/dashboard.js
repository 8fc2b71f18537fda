/*
 * fila — headquarters dashboard.
 *
 * The analyst token is asked once and kept in sessionStorage (this tab only, gone when it
 * closes); every request sends it as a bearer token. The page reads /api/v1/offices,
 * /api/v1/kpis and the server-drawn charts /api/v1/dashboard/charts/*.svg, which arrive as
 * blobs and are shown as images. Data is put in the page with textContent only.
 * Spanish by default; ?lang=en switches to English.
 */
(function () {
  'use strict';

  const TOKEN_KEY = 'fila.hq.token';
  const OFFICES_REFRESH_MS = 15000;

  const STRINGS = {
    es: {
      'page.title': 'fila — Tablero de casa central',
      'page.subtitle': 'Tablero de casa central',
      'page.footer': 'Los indicadores se calculan a partir de los documentos de cada jornada que las oficinas sincronizan con casa central.',
      'lang.other': 'English',
      'login.title': 'Acceso de analistas',
      'login.help': 'Ingrese su token de analista. Se guarda solo en esta pestaña del navegador y se borra al cerrarla.',
      'login.token': 'Token de analista',
      'login.enter': 'Entrar',
      'login.logout': 'Cerrar sesión',
      'login.refused': 'El token no es válido o ya no está habilitado.',
      'offices.title': 'Oficinas',
      'offices.office': 'Oficina',
      'offices.status': 'Estado',
      'offices.lastSeen': 'Última conexión',
      'offices.days': 'Días en central',
      'offices.online': 'En línea',
      'offices.offline': 'Sin conexión',
      'offices.never': 'Nunca se conectó',
      'offices.view': 'Ver indicadores',
      'offices.configure': 'Configurar',
      'offices.summary': '{online} de {total} en línea',
      'filters.office': 'Oficina',
      'filters.from': 'Desde',
      'filters.to': 'Hasta',
      'filters.by': 'Agrupar por',
      'filters.today': 'Hoy',
      'filters.week': '7 días',
      'filters.month': '30 días',
      'filters.refresh': 'Actualizar',
      'filters.csv': 'Exportar CSV',
      'by.office': 'Oficina',
      'by.service': 'Servicio',
      'by.counter': 'Puesto',
      'by.agent': 'Agente',
      'by.hour': 'Hora de llegada',
      'note.days': 'Jornadas en central para el período: {n}.',
      'note.noDays': 'Casa central no tiene jornadas de esta oficina en el período.',
      'note.zone': 'Horas en {zone}.',
      'note.noTargets': 'Casa central no tiene la configuración de esta oficina: los porcentajes dentro del objetivo y del máximo legal no se pueden calcular.',
      'note.unreadable': 'Jornadas ilegibles, excluidas: {days}.',
      'tiles.issued': 'Turnos emitidos',
      'tiles.served': 'Atendidos',
      'tiles.waitMean': 'Espera media',
      'tiles.waitP50': 'Espera mediana (p50)',
      'tiles.waitP90': 'Espera p90',
      'tiles.service': 'Atención media',
      'tiles.target': 'Dentro del objetivo de espera',
      'tiles.legal': 'Preferenciales en plazo legal',
      'tiles.noShows': 'No se presentaron',
      'tiles.left': 'Se retiraron sin ser llamados',
      'tiles.deviations': 'Llamados fuera de orden',
      'tiles.waiting': 'Esperando ahora',
      'tiles.ofCalled': 'de {n} llamados',
      'tiles.ofDue': '{a} de {n}',
      'tiles.ofIssued': '{share} de los emitidos',
      'charts.waits': 'Gráfico de espera p50 y p90',
      'charts.served': 'Gráfico de turnos emitidos y atendidos por hora',
      'tables.totals': 'Indicadores del período',
      'tables.daily': 'Detalle por día',
      'tables.empty': 'Sin datos para el período.',
      'col.day': 'Día',
      'col.group': 'Grupo',
      'col.issued': 'Emitidos',
      'col.called': 'Llamados',
      'col.served': 'Atendidos',
      'col.waitMean': 'Espera media',
      'col.p50': 'p50',
      'col.p90': 'p90',
      'col.service': 'Atención media',
      'col.target': '% en objetivo',
      'col.legal': '% pref. en plazo',
      'col.noShows': 'No se presentaron',
      'col.left': 'Se retiraron',
      'col.deviations': 'Fuera de orden',
      'col.total': 'Total',
      'deviations.title': 'Llamados fuera de orden',
      'deviations.help': 'Cada vez que un agente llamó un turno saltando a otros que la regla ponía antes.',
      'deviations.none': 'Ningún llamado fuera de orden en el período.',
      'dev.time': 'Hora',
      'dev.ticket': 'Turno',
      'dev.service': 'Servicio',
      'dev.counter': 'Puesto',
      'dev.agent': 'Agente',
      'dev.reason': 'Motivo declarado',
      'dev.skipped': 'Turnos saltados',
      'rollups.title': 'Resumen de la red',
      'rollups.help': 'Indicadores de todas las oficinas (o de una etiqueta) en el período elegido arriba, por día, semana o mes. Elija una oficina para ver su cola y sus desvíos.',
      'rollups.period': 'Período', 'rollups.day': 'Día', 'rollups.week': 'Semana', 'rollups.month': 'Mes',
      'rollups.tag': 'Etiqueta', 'rollups.allTags': 'Todas las oficinas',
      'rollups.sort': 'Ordenar por', 'rollups.order': 'Orden', 'rollups.desc': 'Mayor primero', 'rollups.asc': 'Menor primero',
      'rollups.sort.served': 'Atendidos', 'rollups.sort.wait_mean': 'Espera media', 'rollups.sort.wait_p90': 'Espera p90',
      'rollups.sort.within_target': 'En objetivo', 'rollups.sort.preferential_within_legal_max': 'Preferencial en máximo legal',
      'rollups.sort.out_of_order': 'Fuera de orden', 'rollups.sort.no_shows': 'No se presentaron', 'rollups.sort.office': 'Oficina',
      'rollups.rank': 'N.º', 'rollups.periodCol': 'Período', 'rollups.days': 'Jornadas', 'rollups.total': 'Total',
      'rollups.note': 'Oficinas: {n}. Del {from} al {to}.',
      'rollups.none': 'Ninguna oficina con esa etiqueta.',
      'drill.title': '{office}: detalle', 'drill.queue': 'Cola en vivo', 'drill.deviations': 'Llamados fuera de orden del período',
      'drill.csv': 'Exportar CSV de desvíos', 'drill.close': 'Cerrar',
      'drill.waiting': '{n} esperan ahora ({day}).', 'drill.noQueue': 'Sin cola de hoy en casa central: {message}',
      'drill.service': 'Servicio', 'drill.oldest': 'Espera más larga', 'drill.counter': 'Puesto', 'drill.status': 'Estado',
      'drill.current': 'Atiende',
      'bookings.title': 'Citas',
      'offices.waiting': 'Esperan', 'offices.longest': 'Espera más larga', 'offices.open': 'Puestos abiertos',
      'offices.served': 'Atendidos hoy', 'offices.withinTarget': 'En objetivo', 'offices.outOfOrder': 'Fuera de orden',
      'offices.satisfaction': 'Satisfacción hoy', 'offices.answers': '{n} respuestas',
      'offices.syncLag': 'Retraso de sincronización', 'offices.legal': 'Preferenciales en plazo legal',
      'offices.tag': 'Región', 'offices.allTags': 'Todas', 'offices.wall': 'Pantalla de pared',
      'offices.wallExit': 'Salir de la pantalla de pared',
      'alerts.title': 'Alertas', 'alerts.none': 'No hay alertas abiertas.', 'alerts.summary': '{n} abiertas',
      'alerts.closed': 'Cerradas recientemente', 'alerts.since': 'desde {time}', 'alerts.closedAt': 'cerrada {time}',
      'alert.offline': 'Oficina sin conexión', 'alert.wait_above_target': 'Espera por encima del objetivo',
      'alert.preferential_past_legal_max': 'Preferencial fuera del máximo legal',
      'alert.out_of_order_rate': 'Llamados fuera de orden', 'alert.device_down': 'Dispositivo fuera de servicio',
      'alert.low_satisfaction': 'Satisfacción baja',
      'signage.title': 'Cartelería: reproducciones',
      'signage.help': 'Lo que mostraron las pantallas de la oficina, por archivo y día (prueba de emisión).',
      'signage.item': 'Archivo', 'signage.day': 'Día', 'signage.plays': 'Veces', 'signage.minutes': 'Minutos',
      'signage.none': 'Las pantallas no informaron reproducciones en el período.',
      'bookings.help': 'Reservadas en casa central para cada día y trámite: registradas en la oficina, ausentes, canceladas, lugares ofrecidos a la lista de espera y tomados, puntualidad (del horario de la cita al llamado) y la parte de los llamados que fue para quienes vinieron sin cita.',
      'bookings.none': 'Esta oficina no toma citas, o no hubo citas en el período.',
      'bookings.booked': 'Citas reservadas',
      'bookings.checkedIn': 'Registradas en la oficina',
      'bookings.noShows': 'Ausentes',
      'bookings.cancelled': 'Canceladas o cambiadas',
      'bookings.waitlist': 'Lista de espera: ofrecidas / tomadas',
      'bookings.day': 'Día',
      'bookings.service': 'Trámite',
      'bookings.punctuality': 'Puntualidad media',
      'bookings.walkIns': 'Llamados sin cita',
      'unknown': 'Sin configuración de la oficina',
      'surveys.title': 'Encuestas de satisfacción',
      'surveys.help': 'Cada turno cuenta una vez, respondido en la oficina o por el enlace del mensaje. Las cifras por agente aparecen desde 5 respuestas.',
      'surveys.comments': 'Comentarios recibidos por enlace',
      'surveys.noComments': 'Sin comentarios.',
      'surveys.low': 'Puntuación baja',
      'surveys.satisfaction': 'Satisfacción media (1–5)',
      'surveys.recommend': 'Índice de recomendación',
      'surveys.resolved': 'Trámites resueltos',
      'surveys.response': 'Tasa de respuesta',
      'surveys.answers': '{a} respuestas de {n} atendidos',
      'surveys.withheld': 'menos de 5 respuestas',
      'col.answers': 'Respuestas',
      'col.satisfaction': 'Satisfacción',
      'col.distribution': '1 · 2 · 3 · 4 · 5',
      'col.recommend': 'Recomendación',
      'col.resolved': '% resueltos',
      'col.response': '% respuesta',
      'charts.satisfaction': 'Gráfico de satisfacción media y respuestas por día',
      'forecast.title': 'Previsión de personal',
      'forecast.help': 'Puestos necesarios por hora para llamar al 80 % dentro de la espera objetivo (Erlang C), con las llegadas de las últimas 8 semanas (las recientes pesan más). Pase el cursor por una celda para ver las llegadas previstas.',
      'forecast.week': 'Semana del lunes',
      'forecast.hour': 'Hora',
      'forecast.none': 'Sin llegadas previstas: casa central no tiene jornadas de esta oficina en las 8 semanas anteriores.',
      'forecast.note': 'Basada en {n} jornadas. Horas en {zone}.',
      'forecast.cell': '{arrivals} llegadas previstas, {counters} puestos',
      'forecast.closed': 'Cerrada según el calendario: {days}.',
      'forecast.chart': 'Puestos necesarios por hora, de lunes a domingo',
      'forecast.accuracy': 'Error de la previsión',
      'forecast.accuracyWeek': 'Semana del {week} (dos antes de la mostrada): lo previsto antes de empezar, contra lo que llegó.',
      'forecast.wape': 'Error relativo (WAPE)',
      'forecast.absolute': 'Error absoluto',
      'forecast.arrivals': 'Llegadas: previstas / reales',
      'forecast.counterHours': 'Horas-puesto: previstas / necesarias',
      'forecast.understaffed': 'Horas con menos puestos de los necesarios',
      'forecast.arrivalsUnit': '{n} llegadas',
      'error.network': 'No se pudo conectar con casa central.',
      'refreshed': 'Actualizado {time}'
    },
    en: {
      'page.title': 'fila — Headquarters dashboard',
      'page.subtitle': 'Headquarters dashboard',
      'page.footer': 'Figures are computed from the business-day documents each office syncs with headquarters.',
      'lang.other': 'Español',
      'login.title': 'Analyst sign-in',
      'login.help': 'Enter your analyst token. It is kept in this browser tab only and forgotten when the tab closes.',
      'login.token': 'Analyst token',
      'login.enter': 'Sign in',
      'login.logout': 'Sign out',
      'login.refused': 'The token is not valid or no longer enabled.',
      'offices.title': 'Offices',
      'offices.office': 'Office',
      'offices.status': 'Status',
      'offices.lastSeen': 'Last seen',
      'offices.days': 'Days at HQ',
      'offices.online': 'Online',
      'offices.offline': 'Offline',
      'offices.never': 'Never connected',
      'offices.view': 'View KPIs',
      'offices.configure': 'Configure',
      'offices.summary': '{online} of {total} online',
      'filters.office': 'Office',
      'filters.from': 'From',
      'filters.to': 'To',
      'filters.by': 'Group by',
      'filters.today': 'Today',
      'filters.week': '7 days',
      'filters.month': '30 days',
      'filters.refresh': 'Refresh',
      'filters.csv': 'Export CSV',
      'by.office': 'Office',
      'by.service': 'Service',
      'by.counter': 'Counter',
      'by.agent': 'Agent',
      'by.hour': 'Arrival hour',
      'note.days': 'Business days held at HQ for the period: {n}.',
      'note.noDays': 'Headquarters holds no business day of this office in the period.',
      'note.zone': 'Hours in {zone}.',
      'note.noTargets': 'Headquarters does not hold this office\'s configuration: shares within the target and the legal maximum cannot be computed.',
      'note.unreadable': 'Unreadable days, left out: {days}.',
      'tiles.issued': 'Tickets issued',
      'tiles.served': 'Served',
      'tiles.waitMean': 'Mean wait',
      'tiles.waitP50': 'Median wait (p50)',
      'tiles.waitP90': 'Wait p90',
      'tiles.service': 'Mean service time',
      'tiles.target': 'Within target wait',
      'tiles.legal': 'Preferential within legal maximum',
      'tiles.noShows': 'No-shows',
      'tiles.left': 'Left before being called',
      'tiles.deviations': 'Out-of-order calls',
      'tiles.waiting': 'Waiting now',
      'tiles.ofCalled': 'of {n} called',
      'tiles.ofDue': '{a} of {n}',
      'tiles.ofIssued': '{share} of issued',
      'charts.waits': 'Chart of wait p50 and p90',
      'charts.served': 'Chart of tickets issued and served per hour',
      'tables.totals': 'Figures for the period',
      'tables.daily': 'Day by day',
      'tables.empty': 'No data for the period.',
      'col.day': 'Day',
      'col.group': 'Group',
      'col.issued': 'Issued',
      'col.called': 'Called',
      'col.served': 'Served',
      'col.waitMean': 'Mean wait',
      'col.p50': 'p50',
      'col.p90': 'p90',
      'col.service': 'Mean service',
      'col.target': '% within target',
      'col.legal': '% pref. within max',
      'col.noShows': 'No-shows',
      'col.left': 'Left',
      'col.deviations': 'Out of order',
      'col.total': 'Total',
      'deviations.title': 'Out-of-order calls',
      'deviations.help': 'Each time an agent called a ticket ahead of others the rule ranked first.',
      'deviations.none': 'No out-of-order call in the period.',
      'dev.time': 'Time',
      'dev.ticket': 'Ticket',
      'dev.service': 'Service',
      'dev.counter': 'Counter',
      'dev.agent': 'Agent',
      'dev.reason': 'Stated reason',
      'dev.skipped': 'Tickets skipped',
      'rollups.title': 'Network roll-up',
      'rollups.help': 'KPIs of every office (or of a tag) over the range chosen above, per day, week or month. Choose an office to see its queue and its deviations.',
      'rollups.period': 'Period', 'rollups.day': 'Day', 'rollups.week': 'Week', 'rollups.month': 'Month',
      'rollups.tag': 'Tag', 'rollups.allTags': 'All offices',
      'rollups.sort': 'Rank by', 'rollups.order': 'Order', 'rollups.desc': 'Highest first', 'rollups.asc': 'Lowest first',
      'rollups.sort.served': 'Served', 'rollups.sort.wait_mean': 'Mean wait', 'rollups.sort.wait_p90': 'Wait p90',
      'rollups.sort.within_target': 'Within target', 'rollups.sort.preferential_within_legal_max': 'Preferential within legal max',
      'rollups.sort.out_of_order': 'Out of order', 'rollups.sort.no_shows': 'No-shows', 'rollups.sort.office': 'Office',
      'rollups.rank': '#', 'rollups.periodCol': 'Period', 'rollups.days': 'Days', 'rollups.total': 'Total',
      'rollups.note': 'Offices: {n}. From {from} to {to}.',
      'rollups.none': 'No office has that tag.',
      'drill.title': '{office}: details', 'drill.queue': 'Live queue', 'drill.deviations': 'Out-of-order calls of the range',
      'drill.csv': 'Export deviations CSV', 'drill.close': 'Close',
      'drill.waiting': '{n} waiting now ({day}).', 'drill.noQueue': 'No queue of today at headquarters: {message}',
      'drill.service': 'Service', 'drill.oldest': 'Longest wait', 'drill.counter': 'Counter', 'drill.status': 'Status',
      'drill.current': 'Serving',
      'bookings.title': 'Appointments',
      'offices.waiting': 'Waiting', 'offices.longest': 'Longest wait', 'offices.open': 'Counters open',
      'offices.served': 'Served today', 'offices.withinTarget': 'Within target', 'offices.outOfOrder': 'Out of order',
      'offices.satisfaction': 'Satisfaction today', 'offices.answers': '{n} answers',
      'offices.syncLag': 'Sync lag', 'offices.legal': 'Preferential within legal maximum',
      'offices.tag': 'Region', 'offices.allTags': 'All', 'offices.wall': 'Wall screen',
      'offices.wallExit': 'Leave the wall screen',
      'alerts.title': 'Alerts', 'alerts.none': 'No open alerts.', 'alerts.summary': '{n} open',
      'alerts.closed': 'Recently closed', 'alerts.since': 'since {time}', 'alerts.closedAt': 'closed {time}',
      'alert.offline': 'Office offline', 'alert.wait_above_target': 'Wait above target',
      'alert.preferential_past_legal_max': 'Preferential past the legal maximum',
      'alert.out_of_order_rate': 'Out-of-order calls', 'alert.device_down': 'Device down',
      'alert.low_satisfaction': 'Low satisfaction',
      'signage.title': 'Signage: plays',
      'signage.help': "What the office's screens showed, per file and day (proof of play).",
      'signage.item': 'File', 'signage.day': 'Day', 'signage.plays': 'Plays', 'signage.minutes': 'Minutes',
      'signage.none': 'The screens reported no plays in the period.',
      'bookings.help': 'Booked at headquarters for each day and procedure: checked in at the office, no-shows, cancelled, places offered to the waiting list and taken, punctuality (from the slot to the call) and the share of calls that went to walk-ins.',
      'bookings.none': 'This office takes no appointments, or there were none in the period.',
      'bookings.booked': 'Appointments booked',
      'bookings.checkedIn': 'Checked in at the office',
      'bookings.noShows': 'No-shows',
      'bookings.cancelled': 'Cancelled or moved',
      'bookings.waitlist': 'Waiting list: offered / taken',
      'bookings.day': 'Day',
      'bookings.service': 'Procedure',
      'bookings.punctuality': 'Mean punctuality',
      'bookings.walkIns': 'Calls to walk-ins',
      'unknown': 'Office configuration not held',
      'surveys.title': 'Satisfaction surveys',
      'surveys.help': 'Each ticket counts once, answered at the office or through the link in its message. Per-agent figures appear from 5 answers.',
      'surveys.comments': 'Comments received by link',
      'surveys.noComments': 'No comments.',
      'surveys.low': 'Low score',
      'surveys.satisfaction': 'Mean satisfaction (1–5)',
      'surveys.recommend': 'Recommendation score',
      'surveys.resolved': 'Procedures resolved',
      'surveys.response': 'Response rate',
      'surveys.answers': '{a} answers of {n} served',
      'surveys.withheld': 'fewer than 5 answers',
      'col.answers': 'Answers',
      'col.satisfaction': 'Satisfaction',
      'col.distribution': '1 · 2 · 3 · 4 · 5',
      'col.recommend': 'Recommendation',
      'col.resolved': '% resolved',
      'col.response': '% response',
      'charts.satisfaction': 'Chart of mean satisfaction and responses per day',
      'forecast.title': 'Staffing forecast',
      'forecast.help': 'Counters needed per hour to call 80 % within the target wait (Erlang C), from the arrivals of the last 8 weeks (recent ones weigh more). Hover a cell for the arrivals forecast.',
      'forecast.week': 'Week of Monday',
      'forecast.hour': 'Hour',
      'forecast.none': 'No arrivals forecast: headquarters holds no business day of this office in the 8 weeks before.',
      'forecast.note': 'From {n} business days. Hours in {zone}.',
      'forecast.cell': '{arrivals} arrivals forecast, {counters} counters',
      'forecast.closed': 'Closed by the calendar: {days}.',
      'forecast.chart': 'Counters needed per hour, Monday to Sunday',
      'forecast.accuracy': 'Forecast error',
      'forecast.accuracyWeek': 'Week of {week} (two before the one shown): what was forecast before it began, against what came.',
      'forecast.wape': 'Relative error (WAPE)',
      'forecast.absolute': 'Absolute error',
      'forecast.arrivals': 'Arrivals: forecast / actual',
      'forecast.counterHours': 'Counter-hours: forecast / needed',
      'forecast.understaffed': 'Hours with fewer counters than needed',
      'forecast.arrivalsUnit': '{n} arrivals',
      'error.network': 'Cannot reach headquarters.',
      'refreshed': 'Updated {time}'
    }
  };

  const lang = new URLSearchParams(location.search).get('lang') === 'en' ? 'en' : 'es';
  const locale = lang === 'en' ? 'en-GB' : 'es';
  const strings = STRINGS[lang];

  function t(key, vars) {
    let text = strings[key] || STRINGS.es[key] || key;
    for (const [name, value] of Object.entries(vars || {})) {
      text = text.split('{' + name + '}').join(String(value));
    }
    return text;
  }

  const $ = (id) => document.getElementById(id);
  const state = { offices: [], chartUrls: [], timer: null, loaded: false, sort: { key: 'name', dir: 1 } };

  // ---------------------------------------------------------------- formatting
  const number = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });

  function duration(seconds, measured) {
    if (!measured) return '—';
    if (seconds < 60) return number.format(Math.round(seconds)) + ' s';
    return number.format(seconds / 60) + ' min';
  }

  function share(value) {
    return value === null || value === undefined ? '—' : percent.format(value);
  }

  function relative(ms) {
    if (ms === null || ms === undefined) return t('offices.never');
    const minutes = Math.round((ms - Date.now()) / 60000);
    const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
    if (Math.abs(minutes) < 60) return rtf.format(minutes, 'minute');
    const hours = Math.round(minutes / 60);
    if (Math.abs(hours) < 48) return rtf.format(hours, 'hour');
    return rtf.format(Math.round(hours / 24), 'day');
  }

  function absolute(ms) {
    return new Date(ms).toLocaleString(locale, { dateStyle: 'short', timeStyle: 'short' });
  }

  function isoDate(date) {
    const pad = (n) => String(n).padStart(2, '0');
    return date.getFullYear() + '-' + pad(date.getMonth() + 1) + '-' + pad(date.getDate());
  }

  function shortDate(iso) {
    const [y, m, d] = iso.split('-');
    return d + '/' + m + '/' + y;
  }

  // ---------------------------------------------------------------- DOM helpers
  function el(tag, options, children) {
    const node = document.createElement(tag);
    const o = options || {};
    if (o.className) node.className = o.className;
    if (o.text !== undefined) node.textContent = o.text;
    if (o.title) node.title = o.title;
    for (const child of children || []) node.append(child);
    return node;
  }

  // The office's configuration editor; only administrators may save there.
  function configure(office) {
    const link = el('a', { className: 'btn btn-sm', text: t('offices.configure') });
    link.href = '/dashboard/office/' + encodeURIComponent(office) + '/config' + (lang === 'en' ? '?lang=en' : '');
    return link;
  }

  function translatePage() {
    document.documentElement.lang = lang;
    for (const node of document.querySelectorAll('[data-t]')) node.textContent = t(node.dataset.t);
    for (const node of document.querySelectorAll('[data-t-alt]')) node.alt = t(node.dataset.tAlt);
    document.title = t('page.title');
    $('lang').href = lang === 'en' ? '?' : '?lang=en';
  }

  function showError(message) {
    const box = $('error');
    box.textContent = message || '';
    box.hidden = !message;
  }

  // ---------------------------------------------------------------- API
  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  class Unauthorized extends Error {}

  async function api(path) {
    let response;
    try {
      response = await fetch(path, { headers: { Authorization: 'Bearer ' + token() }, cache: 'no-store' });
    } catch (error) {
      throw new Error(t('error.network'));
    }
    if (response.status === 401) throw new Unauthorized(t('login.refused'));
    if (!response.ok) {
      let message = response.status + ' ' + response.statusText;
      try {
        const body = await response.json();
        if (body && body.message) message = body.message;
      } catch (ignored) { /* not JSON: keep the status line */ }
      throw new Error(message);
    }
    return response;
  }

  function handle(error) {
    if (error instanceof Unauthorized) {
      logout(error.message);
    } else {
      showError(error.message);
    }
  }

  // ---------------------------------------------------------------- session
  function showLogin(message) {
    $('app').hidden = true;
    $('logout').hidden = true;
    $('login').hidden = false;
    const error = $('login-error');
    error.textContent = message || '';
    error.hidden = !message;
    $('token').focus();
  }

  function logout(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    clearInterval(state.timer);
    state.timer = null;
    state.loaded = false;
    showLogin(message);
  }

  async function login(event) {
    event.preventDefault();
    const value = $('token').value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    $('token').value = '';
    await start();
  }

  async function start() {
    try {
      await loadOffices();
    } catch (error) {
      if (error instanceof Unauthorized) return logout(error.message);
      return showLogin(error.message);
    }
    $('login').hidden = true;
    $('app').hidden = false;
    $('logout').hidden = false;
    if (!state.timer) state.timer = setInterval(() => loadOffices().catch(handle), OFFICES_REFRESH_MS);
    if (!state.watching) watchNetwork();
    if (!state.loaded) {
      state.loaded = true;
      await loadReport();
    }
  }

  // ---------------------------------------------------------------- the network, live
  /** Every office's figures today, from central's event stream; reconnects when it drops. */
  async function watchNetwork() {
    state.watching = true;
    try {
      const response = await fetch('/api/v1/network/events', { headers: { Authorization: 'Bearer ' + token() } });
      if (!response.ok || !response.body) throw new Error(String(response.status));
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        let end;
        while ((end = text.indexOf('\n\n')) >= 0) {
          const lines = text.slice(0, end).split('\n');
          text = text.slice(end + 2);
          const data = lines.find((line) => line.startsWith('data: '));
          if (!data) continue;
          if (lines.includes('event: alerts')) {
            state.alerts = JSON.parse(data.slice(6));
            renderAlerts();
            continue;
          }
          state.network = Object.fromEntries(JSON.parse(data.slice(6)).map((row) => [row.office, row]));
          if (state.offices) renderOffices(state.offices);
        }
      }
    } catch (_) {
      // Signed out or the link dropped: the table keeps its last figures.
    }
    state.watching = false;
    if (token()) setTimeout(() => { if (!state.watching) watchNetwork(); }, 5000);
  }

  // ---------------------------------------------------------------- alerts
  /** Headquarters' alerts, live from the same stream: open ones first, then recently closed. */
  function renderAlerts() {
    const alerts = state.alerts || { open: [], closed: [] };
    const names = Object.fromEntries((state.offices || []).map((o) => [o.id, o.name]));
    const item = (alert) => {
      const when = alert.closed_ms == null
        ? t('alerts.since', { time: absolute(alert.since_ms) })
        : t('alerts.closedAt', { time: absolute(alert.closed_ms) });
      const li = el('li', { className: 'alert-item alert-' + alert.kind }, [
        el('strong', { text: t('alert.' + alert.kind) }),
        el('span', { text: ' · ' + (names[alert.office] || alert.office) + ' · ' }),
        el('span', { className: 'muted', text: when, title: relative(alert.closed_ms == null ? alert.since_ms : alert.closed_ms) }),
        el('div', { className: 'muted small', text: alert.detail })
      ]);
      li.dataset.kind = alert.kind;
      li.dataset.office = alert.office;
      return li;
    };
    const open = $('alerts');
    open.replaceChildren(...alerts.open.map(item));
    if (!alerts.open.length) open.append(el('li', { className: 'muted', text: t('alerts.none') }));
    $('alerts-summary').textContent = t('alerts.summary', { n: alerts.open.length });
    $('alerts-card').classList.toggle('alerting', alerts.open.length > 0);
    $('alerts-closed').replaceChildren(...alerts.closed.slice(0, 20).map(item));
    $('alerts-closed-box').hidden = !alerts.closed.length;
  }

  // ---------------------------------------------------------------- offices
  async function loadOffices() {
    const offices = await (await api('/api/v1/offices')).json();
    state.offices = offices;
    renderOffices(offices);
    if (state.alerts) renderAlerts();
    $('refreshed').textContent = t('refreshed', { time: new Date().toLocaleTimeString(locale, { timeStyle: 'short' }) });
  }

  // Each column sorts by what it shows; the first click puts what needs attention first (the
  // most waiting, the lowest shares, offline before online), a second click turns it round.
  // Offices without a figure go last either way.
  const SORTS = {
    name: { first: 1, value: (r) => r.office.name.toLocaleLowerCase(locale) },
    online: { first: 1, value: (r) => (r.online ? 1 : 0) },
    last_seen: { first: 1, value: (r) => r.office.last_seen },
    sync_lag: { first: -1, value: (r) => (r.online ? r.live.sync_lag_ms : null) },
    waiting: { first: -1, value: (r) => r.live.waiting },
    longest: { first: -1, value: (r) => r.live.longest_wait_seconds },
    open: { first: 1, value: (r) => r.live.counters_open },
    served: { first: -1, value: (r) => r.live.served },
    within: { first: 1, value: (r) => r.live.within_target_share },
    legal: { first: 1, value: (r) => r.live.preferential_within_legal_max_share },
    out_of_order: { first: -1, value: (r) => r.live.out_of_order_calls },
    satisfaction: { first: 1, value: (r) => r.live.satisfaction_mean },
    days: { first: -1, value: (r) => r.days }
  };

  function sortBy(key) {
    state.sort = state.sort.key === key ? { key, dir: -state.sort.dir } : { key, dir: SORTS[key].first };
    renderOffices(state.offices);
  }

  function compareRows(a, b) {
    const { key, dir } = state.sort;
    const [x, y] = [SORTS[key].value(a), SORTS[key].value(b)];
    if (x == null || y == null) return (x == null) - (y == null) || a.office.id.localeCompare(b.office.id);
    return (x < y ? -dir : x > y ? dir : 0) || a.office.id.localeCompare(b.office.id);
  }

  /** Adds to a region (tag) filter the tags it does not offer yet; what is chosen stays. */
  function offerTags(select, tags) {
    const known = new Set([...select.options].map((o) => o.value));
    for (const tag of [...new Set(tags)].sort()) {
      if (known.has(tag)) continue;
      const option = el('option', { text: tag });
      option.value = tag;
      select.append(option);
    }
  }

  function syncLag(ms) {
    if (ms == null) return '—';
    if (ms < 1000) return number.format(ms) + ' ms';
    if (ms < 60000) return number.format(ms / 1000) + ' s';
    if (ms < 3600000) return number.format(ms / 60000) + ' min';
    return number.format(ms / 3600000) + ' h';
  }

  function renderOffices(offices) {
    offerTags($('offices-tag'), Object.values(state.network || {}).flatMap((row) => row.tags || []));
    const tag = $('offices-tag').value;
    const rows = offices.map((office) => {
      const live = (state.network || {})[office.id] || {};
      // The live stream knows of a lost link before the next look at the office list.
      const online = live.online == null ? office.online : live.online;
      const days = office.docs.filter((doc) => doc.includes('/day/')).length;
      return { office, live, online, days };
    }).filter((row) => !tag || (row.live.tags || []).includes(tag));
    rows.sort(compareRows);
    const { key, dir } = state.sort;
    for (const th of $('offices').tHead.querySelectorAll('th[data-sort]')) {
      th.setAttribute('aria-sort', th.dataset.sort !== key ? 'none' : dir > 0 ? 'ascending' : 'descending');
    }
    const body = $('offices').tBodies[0];
    body.replaceChildren();
    for (const { office, live, online, days } of rows) {
      const status = el('span', {
        className: 'badge ' + (online ? 'badge-online' : 'badge-offline'),
        text: online ? t('offices.online') : t('offices.offline')
      });
      const seen = el('td', {
        text: relative(office.last_seen),
        title: office.last_seen ? absolute(office.last_seen) : ''
      });
      const view = el('button', { className: 'btn btn-sm', text: t('offices.view') });
      view.type = 'button';
      view.addEventListener('click', () => {
        $('office').value = office.id;
        loadReport();
      });
      // Today's figures, live from the network stream (empty until its first event).
      const figure = (value) => el('td', { className: 'num', text: value == null ? '—' : String(value) });
      const row = el('tr', { }, [
        el('td', {}, [el('strong', { text: office.name }), el('span', { className: 'muted small id', text: office.id })]),
        el('td', {}, [status]),
        seen,
        figure(online ? syncLag(live.sync_lag_ms) : null),
        figure(live.waiting),
        figure(live.longest_wait_seconds == null ? null : Math.round(live.longest_wait_seconds / 60) + ' min'),
        figure(live.counters_open),
        figure(live.served),
        figure(live.within_target_share == null ? null : share(live.within_target_share)),
        figure(live.preferential_within_legal_max_share == null ? null : share(live.preferential_within_legal_max_share)),
        figure(live.out_of_order_calls),
        satisfaction(live),
        el('td', { className: 'num wall-hide', text: String(days) }),
        el('td', { className: 'actions wall-hide' }, [view, ' ', configure(office.id)])
      ]);
      row.dataset.office = office.id;
      body.append(row);
    }
    const online = rows.filter((row) => row.online).length;
    $('offices-summary').textContent = t('offices.summary', { online, total: rows.length });

    const select = $('office');
    const chosen = select.value;
    select.replaceChildren(...offices.map((o) => {
      const option = el('option', { text: o.name + ' (' + o.id + ')' });
      option.value = o.id;
      return option;
    }));
    if (chosen && offices.some((o) => o.id === chosen)) select.value = chosen;
  }

  /** The network table alone, large, for a screen on the operations room's wall. */
  function wall(on) {
    document.body.classList.toggle('wall', on);
    $('wall').textContent = t(on ? 'offices.wallExit' : 'offices.wall');
    const url = new URL(location.href);
    if (on) url.searchParams.set('wall', '1'); else url.searchParams.delete('wall');
    history.replaceState(null, '', url);
  }

  /** Today's mean score out of 5, with how many answered (a mean of two answers says little). */
  function satisfaction(live) {
    if (live.satisfaction_mean == null) return el('td', { className: 'num', text: '—' });
    return el('td', {
      className: 'num',
      text: live.satisfaction_mean.toFixed(1) + ' / 5',
      title: t('offices.answers', { n: live.satisfaction_answers })
    }, [el('span', { className: 'muted small id', text: t('offices.answers', { n: live.satisfaction_answers }) })]);
  }

  // ---------------------------------------------------------------- KPIs
  function range() {
    const params = new URLSearchParams({ office: $('office').value, from: $('from').value, to: $('to').value });
    return params;
  }

  async function loadReport(event) {
    if (event) event.preventDefault();
    if (!$('office').value) return;
    showError('');
    const params = range();
    const withBy = new URLSearchParams(params);
    withBy.set('by', $('by').value);
    try {
      const [report, waits, served, surveys, satisfaction, comments, bookings, plays] = await Promise.all([
        api('/api/v1/kpis?' + withBy).then((r) => r.json()),
        api('/api/v1/dashboard/charts/waits.svg?' + params).then((r) => r.blob()),
        api('/api/v1/dashboard/charts/served.svg?' + params).then((r) => r.blob()),
        api('/api/v1/surveys?' + withBy).then((r) => r.json()),
        api('/api/v1/dashboard/charts/satisfaction.svg?' + params).then((r) => r.blob()),
        api('/api/v1/surveys/comments?' + new URLSearchParams({ office: params.get('office') })).then((r) => r.json()),
        // An office that takes no bookings answers 404: the section says so.
        api('/api/v1/bookings/report?' + params).then((r) => r.json()).catch(() => null),
        api('/api/v1/signage/plays?' + params).then((r) => r.json()).catch(() => [])
      ]);
      renderReport(report);
      loadForecast().catch(handle);
      loadRollups().catch(handle);
      renderSurveys(surveys, comments);
      renderBookings(bookings);
      renderPlays(plays);
      showCharts([[$('chart-waits'), waits], [$('chart-served'), served], [$('chart-satisfaction'), satisfaction]]);
    } catch (error) {
      handle(error);
    }
  }

  function showCharts(pairs) {
    for (const url of state.chartUrls) URL.revokeObjectURL(url);
    state.chartUrls = pairs.map(([img, blob]) => {
      const url = URL.createObjectURL(blob);
      img.src = url;
      return url;
    });
  }

  function renderReport(report) {
    const notes = [report.days.length ? t('note.days', { n: report.days.length }) : t('note.noDays')];
    notes.push(t('note.zone', { zone: report.time_zone }));
    if (!report.targets_known) notes.push(t('note.noTargets'));
    if (report.days_unreadable.length) notes.push(t('note.unreadable', { days: report.days_unreadable.join(', ') }));
    $('report-note').textContent = notes.join(' ');
    renderTiles(report.total, report.targets_known);
    renderTable($('totals'), report.totals, report.total, false);
    renderTable($('daily'), report.rows, null, true);
    renderDeviations(report.deviations);
  }

  function tile(label, value, detail, tone) {
    return el('div', { className: 'tile' + (tone ? ' tile-' + tone : '') }, [
      el('div', { className: 'tile-label', text: label }),
      el('div', { className: 'tile-value', text: value }),
      el('div', { className: 'tile-detail', text: detail || '' })
    ]);
  }

  function renderTiles(total, targetsKnown) {
    const called = total.tickets_called > 0;
    const ofIssued = (n) => total.tickets_issued ? t('tiles.ofIssued', { share: percent.format(n / total.tickets_issued) }) : '';
    const tiles = [
      tile(t('tiles.issued'), number.format(total.tickets_issued),
        total.tickets_waiting ? t('tiles.waiting') + ': ' + total.tickets_waiting : ''),
      tile(t('tiles.served'), number.format(total.tickets_served), ofIssued(total.tickets_served)),
      tile(t('tiles.waitMean'), duration(total.wait_mean_seconds, called), t('tiles.ofCalled', { n: total.tickets_called })),
      tile(t('tiles.waitP50'), duration(total.wait_p50_seconds, called)),
      tile(t('tiles.waitP90'), duration(total.wait_p90_seconds, called)),
      tile(t('tiles.service'), duration(total.service_mean_seconds, total.tickets_served > 0)),
      tile(t('tiles.target'), targetsKnown ? share(total.within_target_wait_share) : '—',
        targetsKnown ? t('tiles.ofDue', { a: total.within_target_wait, n: total.tickets_called }) : t('unknown'),
        targetsKnown && called ? (total.within_target_wait_share >= 0.8 ? 'good' : 'warn') : ''),
      tile(t('tiles.legal'), targetsKnown ? share(total.preferential_within_legal_max_share) : '—',
        targetsKnown ? t('tiles.ofDue', { a: total.preferential_within_legal_max, n: total.preferential_with_legal_max }) : t('unknown'),
        targetsKnown && total.preferential_with_legal_max > 0
          ? (total.preferential_within_legal_max === total.preferential_with_legal_max ? 'good' : 'bad') : ''),
      tile(t('tiles.noShows'), number.format(total.no_shows), ofIssued(total.no_shows)),
      tile(t('tiles.left'), number.format(total.left_before_call), ofIssued(total.left_before_call)),
      tile(t('tiles.deviations'), number.format(total.out_of_order_calls), '', total.out_of_order_calls ? 'warn' : '')
    ];
    $('tiles').replaceChildren(...tiles);
  }

  const COLUMNS = [
    ['col.issued', (r) => number.format(r.tickets_issued)],
    ['col.called', (r) => number.format(r.tickets_called)],
    ['col.served', (r) => number.format(r.tickets_served)],
    ['col.waitMean', (r) => duration(r.wait_mean_seconds, r.tickets_called > 0)],
    ['col.p50', (r) => duration(r.wait_p50_seconds, r.tickets_called > 0)],
    ['col.p90', (r) => duration(r.wait_p90_seconds, r.tickets_called > 0)],
    ['col.service', (r) => duration(r.service_mean_seconds, r.tickets_served > 0)],
    ['col.target', (r) => share(r.within_target_wait_share)],
    ['col.legal', (r) => r.preferential_with_legal_max ? share(r.preferential_within_legal_max_share) : '—'],
    ['col.noShows', (r) => number.format(r.no_shows)],
    ['col.left', (r) => number.format(r.left_before_call)],
    ['col.deviations', (r) => number.format(r.out_of_order_calls)]
  ];

  function groupName(row) {
    return row.label ? row.label + ' (' + row.group + ')' : row.group;
  }

  function renderTable(table, rows, total, withDay) {
    const head = el('tr', {}, [
      ...(withDay ? [el('th', { text: t('col.day') })] : []),
      el('th', { text: t('col.group') }),
      ...COLUMNS.map(([key]) => el('th', { className: 'num', text: t(key) }))
    ]);
    const line = (row, day, className) => el('tr', { className }, [
      ...(withDay ? [el('td', { text: day ? shortDate(day) : '' })] : []),
      el('td', { text: className ? t('col.total') : groupName(row) }),
      ...COLUMNS.map(([, cell]) => el('td', { className: 'num', text: cell(row) }))
    ]);
    const body = el('tbody', {}, rows.map((row) => line(row, row.day, '')));
    if (!rows.length) {
      body.append(el('tr', {}, [el('td', { className: 'empty', text: t('tables.empty') })]));
      body.firstChild.firstChild.colSpan = COLUMNS.length + (withDay ? 2 : 1);
    }
    const foot = el('tfoot', {}, total && rows.length ? [line(total, null, 'total')] : []);
    table.replaceChildren(el('thead', {}, [head]), body, foot);
  }

  function renderDeviations(deviations, tableId) {
    const table = $(tableId || 'deviations');
    const head = el('tr', {}, ['col.day', 'dev.time', 'dev.ticket', 'dev.service', 'dev.counter', 'dev.agent', 'dev.reason', 'dev.skipped']
      .map((key) => el('th', { text: t(key) })));
    const body = el('tbody', {}, deviations.map((d) => el('tr', {}, [
      el('td', { text: shortDate(d.day) }),
      el('td', { text: d.local_time }),
      el('td', {}, [el('strong', { text: d.ticket })]),
      el('td', { text: d.service || '' }),
      el('td', { text: d.counter }),
      el('td', { text: d.agent }),
      el('td', { className: 'reason', text: d.note || d.reason }),
      el('td', { text: d.skipped_count + ': ' + d.skipped.join(', ') })
    ])));
    if (!deviations.length) {
      body.append(el('tr', {}, [el('td', { className: 'empty', text: t('deviations.none') })]));
      body.firstChild.firstChild.colSpan = 8;
    }
    table.replaceChildren(el('thead', {}, [head]), body);
  }

  // ---------------------------------------------------------------- staffing forecast
  /** The Monday of the week `date` (a Date) is in. */
  function mondayOf(date) {
    const monday = new Date(date);
    monday.setDate(date.getDate() - ((date.getDay() + 6) % 7));
    return monday;
  }

  function plusDays(iso, days) {
    const [y, m, d] = iso.split('-').map(Number);
    return isoDate(new Date(y, m - 1, d + days));
  }

  function forecastQuery() {
    const picked = $('forecast-week').value;
    const week = isoDate(mondayOf(picked ? new Date(picked + 'T12:00') : new Date()));
    $('forecast-week').value = week;
    return week;
  }

  /** The forecast of the chosen week and the error of an earlier one; problems stay in the section. */
  async function loadForecast() {
    const office = $('office').value;
    if (!office) return;
    const week = forecastQuery();
    // Two weeks before the one shown: with next week shown (the default), last week, just over.
    const lastWeek = plusDays(week, -14);
    const base = '/api/v1/offices/' + encodeURIComponent(office) + '/forecast';
    const [forecast, accuracy] = await Promise.all([
      api(base + '?' + new URLSearchParams({ week })).then((r) => r.json()).catch((error) => error),
      api(base + '/accuracy?' + new URLSearchParams({ week: lastWeek })).then((r) => r.json()).catch((error) => error)
    ]);
    const refused = [forecast, accuracy].find((answer) => answer instanceof Unauthorized);
    if (refused) return logout(refused.message);
    renderForecast(forecast);
    renderAccuracy(accuracy);
  }

  function renderForecast(forecast) {
    const table = $('forecast-table');
    if (forecast instanceof Error) {
      $('forecast-note').textContent = forecast.message;
      table.replaceChildren();
      $('forecast-figure').hidden = true;
      return;
    }
    const totals = forecast.totals;
    const notes = [totals.length
      ? t('forecast.note', { n: forecast.days_used.length, zone: forecast.time_zone })
      : t('forecast.none')];
    if (forecast.closed_days.length) notes.push(t('forecast.closed', { days: forecast.closed_days.map(shortDate).join(', ') }));
    $('forecast-note').textContent = notes.join(' ');
    const days = [0, 1, 2, 3, 4, 5, 6].map((n) => plusDays(forecast.week, n));
    const hours = [...new Set(totals.map((h) => h.hour))].sort((a, b) => a - b);
    const cell = new Map(totals.map((h) => [h.day + ' ' + h.hour, h]));
    const weekday = (iso) => new Date(iso + 'T12:00').toLocaleDateString(locale, { weekday: 'short', day: 'numeric' });
    const head = el('tr', {}, [el('th', { text: t('forecast.hour') }),
      ...days.map((day) => el('th', { className: 'num', text: weekday(day) }))]);
    const rows = hours.map((hour) => el('tr', {}, [
      el('td', { text: String(hour).padStart(2, '0') + ':00' }),
      ...days.map((day) => {
        const h = cell.get(day + ' ' + hour);
        return el('td', {
          className: 'num',
          text: h ? String(h.counters) : '',
          title: h ? t('forecast.cell', { arrivals: number.format(h.arrivals), counters: h.counters }) : ''
        });
      })
    ]));
    table.replaceChildren(el('thead', {}, [head]), el('tbody', {}, rows));
    $('forecast-figure').hidden = !totals.length;
    if (totals.length) drawForecastChart($('forecast-chart'), days, hours, cell, weekday);
  }

  /** Bars of counters per hour, day after day, into the page's `svg`; text by textContent. */
  function drawForecastChart(root, days, hours, cell, weekday) {
    // The page's own svg element names the namespace, so the script holds no URL.
    const svg = (tag, attributes, text) => {
      const node = document.createElementNS(root.namespaceURI, tag);
      for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
      if (text !== undefined) node.textContent = text;
      return node;
    };
    const barWidth = 12;
    // Wide enough for the day's label however few its hours.
    const dayWidth = Math.max(hours.length * barWidth + 16, 80);
    const width = days.length * dayWidth + 30;
    const height = 160;
    const top = Math.max(1, ...[...cell.values()].map((h) => h.counters));
    const scale = (height - 40) / top;
    root.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    root.replaceChildren(svg('title', {}, t('forecast.chart')));
    root.append(svg('text', { x: 2, y: 20, class: 'axis' }, String(top)));
    root.append(svg('line', { x1: 28, y1: height - 24, x2: width, y2: height - 24, class: 'baseline' }));
    days.forEach((day, d) => {
      const x0 = 30 + d * dayWidth;
      hours.forEach((hour, i) => {
        const h = cell.get(day + ' ' + hour);
        if (!h || !h.counters) return;
        const bar = svg('rect', {
          x: x0 + i * barWidth, y: height - 24 - h.counters * scale,
          width: barWidth - 2, height: h.counters * scale, class: 'bar'
        });
        bar.append(svg('title', {}, String(hour).padStart(2, '0') + ':00 · ' +
          t('forecast.cell', { arrivals: number.format(h.arrivals), counters: h.counters })));
        root.append(bar);
      });
      root.append(svg('text', { x: x0, y: height - 8, class: 'axis' }, weekday(day)));
    });
  }

  function renderAccuracy(accuracy) {
    if (accuracy instanceof Error) {
      $('forecast-accuracy-note').textContent = accuracy.message;
      $('forecast-accuracy').replaceChildren();
      return;
    }
    const total = accuracy.total;
    $('forecast-accuracy-note').textContent = t('forecast.accuracyWeek', { week: shortDate(accuracy.week) });
    $('forecast-accuracy').replaceChildren(
      tile(t('forecast.wape'), share(total.wape), '',
        total.wape == null ? '' : total.wape <= 0.2 ? 'good' : total.wape <= 0.4 ? 'warn' : 'bad'),
      tile(t('forecast.absolute'), t('forecast.arrivalsUnit', { n: number.format(total.absolute_error) })),
      tile(t('forecast.arrivals'), number.format(total.forecast_arrivals) + ' / ' + number.format(total.actual_arrivals)),
      tile(t('forecast.counterHours'), total.forecast_counter_hours + ' / ' + total.actual_counter_hours),
      tile(t('forecast.understaffed'), number.format(total.hours_understaffed), '', total.hours_understaffed ? 'warn' : '')
    );
  }

  async function downloadForecastCsv() {
    showError('');
    const office = $('office').value;
    const week = forecastQuery();
    try {
      const path = '/api/v1/offices/' + encodeURIComponent(office) + '/forecast.csv?' + new URLSearchParams({ week });
      const blob = await (await api(path)).blob();
      const url = URL.createObjectURL(blob);
      const link = el('a');
      link.href = url;
      link.download = 'forecast-' + office + '-' + week + '.csv';
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (error) {
      handle(error);
    }
  }

  // ---------------------------------------------------------------- surveys
  const SURVEY_COLUMNS = [
    ['col.answers', (r) => number.format(r.answers)],
    ['col.response', (r) => share(r.response_rate)],
    ['col.satisfaction', (r) => r.satisfaction_mean == null ? '—' : r.satisfaction_mean.toFixed(2)],
    ['col.distribution', (r) => r.withheld ? '—' : r.satisfaction_counts.join(' · ')],
    ['col.recommend', (r) => r.recommend_score == null ? '—' : Math.round(r.recommend_score).toString()],
    ['col.resolved', (r) => share(r.resolved_rate)]
  ];

  function renderSurveys(report, comments) {
    const total = report.total;
    $('survey-tiles').replaceChildren(
      tile(t('surveys.satisfaction'), total.satisfaction_mean == null ? '—' : total.satisfaction_mean.toFixed(2),
        total.satisfaction_counts.join(' · '),
        total.satisfaction_mean == null ? '' : (total.satisfaction_mean >= 4 ? 'good' : total.satisfaction_mean < 3 ? 'bad' : 'warn')),
      tile(t('surveys.recommend'), total.recommend_score == null ? '—' : Math.round(total.recommend_score).toString()),
      tile(t('surveys.resolved'), share(total.resolved_rate)),
      tile(t('surveys.response'), share(total.response_rate), t('surveys.answers', { a: total.answers, n: total.finished }))
    );
    const table = $('survey-totals');
    const head = el('tr', {}, [el('th', { text: t('col.group') }),
      ...SURVEY_COLUMNS.map(([key]) => el('th', { className: 'num', text: t(key) }))]);
    const rows = report.totals.map((row) => el('tr', {}, [
      el('td', { text: groupName(row) + (row.withheld ? ' — ' + t('surveys.withheld') : '') }),
      ...SURVEY_COLUMNS.map(([, cell]) => el('td', { className: 'num', text: cell(row) }))
    ]));
    table.replaceChildren(el('thead', {}, [head]), el('tbody', {}, rows));
    const list = $('survey-comments');
    list.replaceChildren(...comments.map((c) => el('li', { className: c.low ? 'low' : '' }, [
      el('span', { className: 'muted small', text: shortDate(c.day) + ' · ' + c.ticket + ' · ' + (c.satisfaction || '—') + '/5' +
        (c.low ? ' · ' + t('surveys.low') : '') }),
      el('p', { text: c.text })
    ])));
    if (!comments.length) list.append(el('li', { className: 'muted', text: t('surveys.noComments') }));
  }

  // ---------------------------------------------------------------- bookings
  const BOOKING_COLUMNS = [
    ['bookings.booked', (r) => number.format(r.booked)],
    ['bookings.checkedIn', (r) => number.format(r.checked_in)],
    ['bookings.noShows', (r) => number.format(r.no_shows)],
    ['bookings.cancelled', (r) => number.format(r.cancelled)],
    ['bookings.waitlist', (r) => r.waitlist_offers + ' / ' + r.waitlist_taken],
    ['bookings.punctuality', (r) => r.punctuality_mean_minutes == null ? '—' : Math.round(r.punctuality_mean_minutes) + ' min'],
    ['bookings.walkIns', (r) => share(r.walk_in_share)]
  ];

  function renderBookings(report) {
    const rows = (report && report.rows) || [];
    const sum = (key) => rows.reduce((total, row) => total + row[key], 0);
    $('booking-tiles').replaceChildren(...(rows.length ? [
      tile(t('bookings.booked'), number.format(sum('booked'))),
      tile(t('bookings.checkedIn'), number.format(sum('checked_in'))),
      tile(t('bookings.noShows'), number.format(sum('no_shows')), '', sum('no_shows') ? 'warn' : ''),
      tile(t('bookings.cancelled'), number.format(sum('cancelled'))),
      tile(t('bookings.waitlist'), sum('waitlist_offers') + ' / ' + sum('waitlist_taken'))
    ] : []));
    const head = el('tr', {}, [el('th', { text: t('bookings.day') }), el('th', { text: t('bookings.service') }),
      ...BOOKING_COLUMNS.map(([key]) => el('th', { className: 'num', text: t(key) }))]);
    const body = el('tbody', {}, rows.map((row) => el('tr', {}, [
      el('td', { text: shortDate(row.day) }), el('td', { text: row.service }),
      ...BOOKING_COLUMNS.map(([, cell]) => el('td', { className: 'num', text: cell(row) }))
    ])));
    if (!rows.length) {
      body.append(el('tr', {}, [el('td', { className: 'empty', text: t('bookings.none') })]));
      body.firstChild.firstChild.colSpan = BOOKING_COLUMNS.length + 2;
    }
    $('bookings').replaceChildren(el('thead', {}, [head]), body);
  }

  // ---------------------------------------------------------------- signage
  function renderPlays(rows) {
    rows = rows || [];
    const head = el('tr', {}, [el('th', { text: t('signage.item') }), el('th', { text: t('signage.day') }),
      el('th', { className: 'num', text: t('signage.plays') }), el('th', { className: 'num', text: t('signage.minutes') })]);
    const body = el('tbody', {}, rows.map((row) => el('tr', {}, [
      // A file is its hash; its first characters tell files apart.
      el('td', { text: row.item === 'slide' ? 'slide' : row.item.slice(0, 12) + '…', title: row.item }),
      el('td', { text: shortDate(row.day) }),
      el('td', { className: 'num', text: number.format(row.plays) }),
      el('td', { className: 'num', text: number.format(Math.round(row.seconds / 60)) })
    ])));
    if (!rows.length) {
      body.append(el('tr', {}, [el('td', { className: 'empty', text: t('signage.none') })]));
      body.firstChild.firstChild.colSpan = 4;
    }
    $('plays').replaceChildren(el('thead', {}, [head]), body);
  }

  // ---------------------------------------------------------------- network roll-up
  function rollupParams() {
    const params = new URLSearchParams({
      from: $('from').value, to: $('to').value, period: $('rollups-period').value,
      sort: $('rollups-sort').value, order: $('rollups-order').value
    });
    if ($('rollups-tag').value) params.set('tag', $('rollups-tag').value);
    return params;
  }

  async function loadRollups() {
    if (!$('from').value || !$('to').value) return;
    const params = rollupParams();
    // Only the latest request is shown: an earlier one may answer after it.
    const asked = (state.rollupAsked = (state.rollupAsked || 0) + 1);
    const rollup = await (await api('/api/v1/rollups?' + params)).json();
    if (asked === state.rollupAsked) renderRollups(rollup);
  }

  const ROLLUP_COLUMNS = [
    ['tiles.served', (r) => number.format(r.tickets_served)],
    ['tiles.waitMean', (r) => duration(r.wait_mean_seconds, r.tickets_called)],
    ['rollups.sort.wait_p90', (r) => duration(r.wait_p90_seconds, r.tickets_called)],
    ['rollups.sort.within_target', (r) => share(r.within_target_wait_share)],
    ['rollups.sort.preferential_within_legal_max', (r) => r.preferential_with_legal_max ? share(r.preferential_within_legal_max_share) : '—'],
    ['rollups.sort.out_of_order', (r) => number.format(r.out_of_order_calls)],
    ['rollups.sort.no_shows', (r) => number.format(r.no_shows)]
  ];

  function renderRollups(rollup) {
    // The tags offered are those of the offices seen without a tag filter.
    if (!rollup.tag) {
      offerTags($('rollups-tag'), rollup.periods.flatMap((period) => period.rows.flatMap((row) => row.tags)));
    }
    $('rollups-note').textContent = t('rollups.note', { n: rollup.offices, from: shortDate(rollup.from), to: shortDate(rollup.to) });
    const head = el('tr', {}, [el('th', { text: t('rollups.periodCol') }), el('th', { className: 'num', text: t('rollups.rank') }),
      el('th', { text: t('offices.office') }), el('th', { className: 'num', text: t('rollups.days') }),
      ...ROLLUP_COLUMNS.map(([key]) => el('th', { className: 'num', text: t(key) }))]);
    const body = el('tbody');
    for (const period of rollup.periods) {
      for (const row of period.rows) {
        const open = el('button', { className: 'link', text: row.office_name });
        open.type = 'button';
        open.dataset.office = row.office;
        open.addEventListener('click', () => openDrill(row.office, row.office_name).catch(handle));
        const tr = el('tr', {}, [
          el('td', { text: period.period }), el('td', { className: 'num', text: String(row.rank) }),
          el('td', {}, [open, el('span', { className: 'muted small id', text: row.office })]),
          el('td', { className: 'num', text: String(row.days) }),
          ...ROLLUP_COLUMNS.map(([, cell]) => el('td', { className: 'num', text: cell(row) }))
        ]);
        tr.dataset.office = row.office;
        body.append(tr);
      }
      const total = el('tr', { className: 'total' }, [
        el('td', { text: period.period }), el('td'), el('td', {}, [el('strong', { text: t('rollups.total') + ' · ' + (rollup.tag || t('rollups.allTags')) })]),
        el('td'), ...ROLLUP_COLUMNS.map(([, cell]) => el('td', { className: 'num', text: cell(period.total) }))
      ]);
      total.dataset.total = period.period;
      body.append(total);
    }
    if (!rollup.offices) {
      body.replaceChildren(el('tr', {}, [el('td', { className: 'empty', text: t('rollups.none') })]));
      body.firstChild.firstChild.colSpan = ROLLUP_COLUMNS.length + 4;
    }
    $('rollups').replaceChildren(el('thead', {}, [head]), body);
  }

  /** One office's live queue and its out-of-order calls over the range. */
  async function openDrill(office, name) {
    state.drill = office;
    $('drill').hidden = false;
    $('drill-title').textContent = t('drill.title', { office: name });
    const range = new URLSearchParams({ from: $('from').value, to: $('to').value });
    const path = '/api/v1/offices/' + encodeURIComponent(office);
    const [queue, deviations] = await Promise.all([
      api(path + '/queue').then((r) => r.json()).catch((error) => {
        if (error instanceof Unauthorized) throw error;
        return error;
      }),
      api(path + '/deviations?' + range).then((r) => r.json())
    ]);
    if (state.drill !== office) return;
    renderQueue(queue);
    renderDeviations(deviations.deviations, 'drill-deviations');
    $('drill').scrollIntoView({ block: 'nearest' });
  }

  function renderQueue(queue) {
    const table = $('drill-queue');
    if (queue instanceof Error) {
      $('drill-queue-note').textContent = t('drill.noQueue', { message: queue.message });
      table.replaceChildren();
      return;
    }
    $('drill-queue-note').textContent = t('drill.waiting', { n: queue.waiting, day: shortDate(queue.day) });
    const services = queue.services.map((s) => el('tr', {}, [
      el('td', { text: s.service }), el('td', { className: 'num', text: String(s.waiting) }),
      el('td', { className: 'num', text: duration(s.oldest_wait_seconds, true) })
    ]));
    const counters = queue.counters.map((c) => el('tr', {}, [
      el('td', { text: t('drill.counter') + ' ' + c.counter }), el('td', { text: c.status + (c.agent ? ' · ' + c.agent : '') }),
      el('td', { text: c.current || '' })
    ]));
    const head = el('tr', {}, [el('th', { text: t('drill.service') }), el('th', { className: 'num', text: t('offices.waiting') }),
      el('th', { className: 'num', text: t('drill.oldest') })]);
    table.replaceChildren(el('thead', {}, [head]), el('tbody', {}, [...services, ...counters]));
  }

  async function saveCsv(path, name) {
    showError('');
    try {
      const blob = await (await api(path)).blob();
      const url = URL.createObjectURL(blob);
      const link = el('a');
      link.href = url;
      link.download = name;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (error) {
      handle(error);
    }
  }

  function downloadRollupCsv() {
    const params = rollupParams();
    const name = 'rollup-' + (params.get('tag') || 'all') + '-' + params.get('from') + '-' + params.get('to') + '-' + params.get('period') + '.csv';
    return saveCsv('/api/v1/rollups.csv?' + params, name);
  }

  function downloadDrillCsv() {
    const range = new URLSearchParams({ from: $('from').value, to: $('to').value });
    const name = 'deviations-' + state.drill + '-' + range.get('from') + '-' + range.get('to') + '.csv';
    return saveCsv('/api/v1/offices/' + encodeURIComponent(state.drill) + '/deviations.csv?' + range, name);
  }

  // ---------------------------------------------------------------- CSV
  async function downloadCsv(kind) {
    showError('');
    const params = range();
    params.set('by', $('by').value);
    try {
      const blob = await (await api('/api/v1/' + kind + '.csv?' + params)).blob();
      const url = URL.createObjectURL(blob);
      const link = el('a');
      link.href = url;
      link.download = kind.replace('/', '-') + '-' + params.get('office') + '-' + params.get('from') + '-' + params.get('to') + '-' + params.get('by') + '.csv';
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (error) {
      handle(error);
    }
  }

  // ---------------------------------------------------------------- presets
  function preset(days) {
    const to = new Date();
    const from = new Date(to);
    from.setDate(to.getDate() - (days - 1));
    $('from').value = isoDate(from);
    $('to').value = isoDate(to);
    if (state.loaded) loadReport();
  }

  // ---------------------------------------------------------------- start
  document.addEventListener('DOMContentLoaded', () => {
    translatePage();
    preset(7);
    $('by').value = 'service';
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', () => logout(''));
    $('filters').addEventListener('submit', loadReport);
    $('csv').addEventListener('click', () => downloadCsv('kpis'));
    $('surveys-csv').addEventListener('click', () => downloadCsv('surveys'));
    $('bookings-csv').addEventListener('click', () => downloadCsv('bookings/report'));
    $('plays-csv').addEventListener('click', () => downloadCsv('signage/plays'));
    $('forecast-csv').addEventListener('click', downloadForecastCsv);
    $('rollups-csv').addEventListener('click', downloadRollupCsv);
    $('drill-csv').addEventListener('click', downloadDrillCsv);
    $('drill-close').addEventListener('click', () => { state.drill = null; $('drill').hidden = true; });
    for (const th of $('offices').tHead.querySelectorAll('th[data-sort]')) {
      th.querySelector('button').addEventListener('click', () => sortBy(th.dataset.sort));
    }
    $('offices-tag').addEventListener('change', () => renderOffices(state.offices));
    $('wall').addEventListener('click', () => wall(!document.body.classList.contains('wall')));
    if (new URLSearchParams(location.search).get('wall') === '1') wall(true);
    for (const id of ['rollups-period', 'rollups-tag', 'rollups-sort', 'rollups-order']) {
      $(id).addEventListener('change', () => loadRollups().catch(handle));
    }
    $('forecast-week').addEventListener('change', () => loadForecast().catch(handle));
    $('forecast-week').value = isoDate(mondayOf(new Date(Date.now() + 7 * 86400000)));
    $('by').addEventListener('change', () => loadReport());
    $('office').addEventListener('change', () => loadReport());
    for (const button of document.querySelectorAll('[data-days]')) {
      button.addEventListener('click', () => preset(Number(button.dataset.days)));
    }
    if (token()) start(); else showLogin('');
  });
})();
