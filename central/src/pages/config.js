/*
 * fila — an office's configuration, edited by headquarters administrators through forms.
 *
 * The page is /dashboard/office/{office}/config. It loads GET /api/v1/offices/{office}/config
 * with its ETag, keeps the whole document (fields without a form here, like the office's
 * address, go back as they came) and saves it with PUT and If-Match of the version loaded, so
 * an edit never undoes what someone else saved since. The server names every problem with the
 * path of its field (`services[1].prefix`): each is shown beside the input of that path, or of
 * the nearest section holding it. Data is put in the page with textContent only.
 * The office's staff and kiosks (/api/v1/offices/{office}/access) are changed one at a time,
 * apart from Save: each change takes effect at once; a new kiosk's token is shown once.
 * Spanish by default; ?lang=en switches to English. The token is the dashboard's (this tab).
 */
(function () {
  'use strict';

  const TOKEN_KEY = 'fila.hq.token';
  const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

  const STRINGS = {
    es: {
      'page.title': 'fila — Configuración de la oficina',
      'page.subtitle': 'Configuración de la oficina',
      'page.back': 'Tablero',
      'lang.other': 'English',
      'login.title': 'Acceso de administradores',
      'login.token': 'Token de administrador',
      'login.enter': 'Entrar',
      'login.refused': 'El token no es válido o ya no está habilitado.',
      'heading': 'Configuración de {office}',
      'save': 'Guardar',
      'number': 'Debe ser un número entero.', 'oneLetter': 'Debe ser una sola letra.',
      'saved': 'Guardado. La oficina lo aplica al conectarse.',
      'unchanged': 'No había cambios que guardar.',
      'forbidden': 'Solo los administradores de casa central pueden cambiar la configuración.',
      'problems': 'Corrija los campos marcados: {n} problema(s).',
      'notFound': 'Casa central todavía no tiene configuración para esta oficina.',
      'failed': 'No se pudo completar: {message}',
      'stale.text': 'Otra persona cambió esta configuración mientras la editaba.',
      'stale.reload': 'Recargar la versión actual',
      'stale.section': 'Cambió: {section}',
      'section.office': 'Oficina', 'section.services': 'Servicios', 'section.counters': 'Puestos',
      'section.categories': 'Categorías preferenciales', 'section.rule': 'Regla de llamado',
      'section.calendar': 'Horario y cierres', 'section.notices': 'Avisos', 'section.signage': 'Cartelería',
      'section.room': 'Sala de espera',
      'office.name': 'Nombre', 'office.time_zone': 'Zona horaria', 'office.tags': 'Etiquetas (separadas por comas)',
      'id': 'Id', 'name': 'Nombre', 'prefix': 'Prefijo', 'expected': 'Atención esperada (min)',
      'target': 'Espera objetivo (min)', 'remote': 'Fila desde casa', 'booking': 'Con citas',
      'slot': 'Turno de cita (min)', 'horizon': 'Días de anticipación', 'capacity': 'Citas por turno',
      'walkin': 'Reserva para sin cita (%)', 'counter.services': 'Servicios (ids, separados por comas)',
      'maxWait': 'Espera máxima legal (min)',
      'rule.preferential_ratio': 'Preferenciales seguidos', 'rule.appointment_early_minutes': 'Cita vigente antes (min)',
      'rule.legal_wait_margin_minutes': 'Margen antes del máximo legal (min)', 'rule.recalls_max': 'Rellamados máximos',
      'rule.service_order': 'Orden entre servicios', 'rule.transfer_position': 'Turno transferido',
      'order.arrival': 'Por llegada', 'order.counter_priority': 'Por prioridad del puesto',
      'transfer.keep': 'Conserva su llegada', 'transfer.head': 'Al frente',
      'day.mon': 'Lunes', 'day.tue': 'Martes', 'day.wed': 'Miércoles', 'day.thu': 'Jueves', 'day.fri': 'Viernes',
      'day.sat': 'Sábado', 'day.sun': 'Domingo', 'hours.help': 'Horario, p. ej. 08:00-13:00, 14:00-17:00',
      'lastCall': 'Último llamado antes del cierre (min)',
      'closure.from': 'Desde', 'closure.until': 'Hasta', 'closure.reason': 'Motivo',
      'add.services': 'Agregar servicio', 'add.counters': 'Agregar puesto', 'add.categories': 'Agregar categoría',
      'add.closures': 'Agregar cierre', 'remove': 'Quitar',
      'add.templates': 'Agregar mensaje', 'notice.kind': 'Tipo (p. ej. called)', 'notice.lang': 'Idioma',
      'notice.subject': 'Asunto (correo)', 'notice.text': 'Texto, con {ticket}, {counter}…',
      'cancel': 'Cancelar hasta (min antes)', 'checkinEarly': 'Presentarse desde (min antes)',
      'checkinLate': 'Presentarse hasta (min después)', 'add.requirements': 'Agregar requisitos en otro idioma',
      'req.lang': 'Idioma', 'req.documents': 'Documentos (uno por línea)', 'req.fees': 'Tasas (una por línea)',
      'req.forms': 'Formularios (uno por línea)',
      'room.capacity': 'Personas que caben (vacío: sin límite)', 'room.come_margin_minutes': 'Aviso para venir, margen (min)',
      'section.notices.survey': 'Encuesta de satisfacción', 'survey.satisfaction': 'Satisfacción (1 a 5)',
      'survey.recommend': 'Recomendaría la oficina (0 a 10)', 'survey.resolved': 'Trámite resuelto',
      'survey.comment': 'Comentario', 'survey.open_days': 'Días para responder',
      'signage.screens': 'Pantallas', 'signage.media': 'Archivos de la cartelería', 'signage.playlists': 'Listas de reproducción',
      'signage.schedules': 'Programación', 'signage.urgent': 'Mensajes urgentes', 'signage.ticker': 'Texto de la cinta',
      'add.screens': 'Agregar pantalla', 'add.playlists': 'Agregar lista', 'add.items': 'Agregar elemento',
      'add.slide': 'Agregar texto en un idioma', 'add.schedules': 'Agregar programación', 'add.urgent': 'Agregar mensaje urgente',
      'add.texts': 'Agregar texto en un idioma', 'add.ticker': 'Agregar texto en un idioma', 'add.media': 'Agregar',
      'media.library': 'Archivos subidos', 'media.none': 'No hay archivos subidos sin usar.',
      'screen.profile': 'Orientación', 'profile.landscape': 'Horizontal', 'profile.portrait': 'Vertical',
      'screen.ticker': 'Muestra la cinta', 'item.media': 'Archivo', 'item.slideOption': '(texto)',
      'item.seconds': 'Segundos', 'item.langs': 'Idiomas (vacío: todos)', 'slide.title': 'Título', 'slide.body': 'Texto',
      'schedule.playlist': 'Lista', 'schedule.from': 'Desde', 'schedule.until': 'Hasta',
      'schedule.weekdays': 'Días (mon, tue…; vacío: todos)', 'schedule.hours': 'Horas (08:00-12:00; vacío: todo el día)',
      'signage.target': 'Destino (all, tag:…, office:…, screen:oficina/pantalla)', 'urgent.from': 'Desde', 'urgent.until': 'Hasta',
      'lang': 'Idioma', 'text': 'Texto',
      'badTarget': 'Debe ser all, tag:<etiqueta>, office:<id> o screen:<oficina>/<pantalla>.',
      'badSpan': 'Debe ser un horario como 08:00-12:00.', 'badTime': 'Debe ser una fecha y hora.',
      'badSpans': 'Deben ser horarios como 08:00-12:00, 13:00-16:00, cada uno con el cierre después de la apertura.',
      'badDate': 'Debe ser una fecha.', 'tooLarge': 'Es un número demasiado grande.',
      'template.title': 'Plantilla por etiqueta',
      'template.help': 'Se aplica a todas las oficinas con la etiqueta; los campos que una oficina cambió por su cuenta se mantienen.',
      'template.tag': 'Etiqueta', 'template.rule': 'Incluir la regla de llamado', 'template.hours': 'Incluir el horario',
      'template.waits': 'Esperas objetivo por servicio (vacío: no las fija)',
      'template.booking': 'Incluir las citas de {service}', 'template.notices': 'Incluir los mensajes de esta oficina ({n})',
      'template.survey': 'Incluir la encuesta', 'template.problems': 'Corrija los campos marcados de la plantilla: {n} problema(s).',
      'template.save': 'Aplicar plantilla', 'template.applied': 'Plantilla aplicada: {offices}.',
      'template.none': 'ninguna oficina tiene la etiqueta',
      'overrides.title': 'Campos propios de esta oficina',
      'overrides.none': 'Ninguno: sigue sus plantillas.',
      'overrides.back': 'Volver a la plantilla',
      'access.title': 'Personal y terminales',
      'access.help': 'Quién puede entrar en la oficina. Cada cambio se aplica en el acto, aparte de Guardar; la oficina lo recibe en su próxima consulta a casa central.',
      'access.users': 'Personal', 'access.username': 'Usuario', 'access.name': 'Nombre', 'access.role': 'Rol',
      'access.password': 'Contraseña', 'access.actions': 'Acciones',
      'access.role.agent': 'Agente', 'access.role.supervisor': 'Supervisor', 'access.role.admin': 'Administrador',
      'access.noUsers': 'Todavía no hay personal cargado desde casa central.',
      'access.userHelp': 'Agregar una persona, o reemplazar la de ese usuario (con una contraseña nueva).',
      'access.userSave': 'Agregar o reemplazar', 'access.edit': 'Cambiar',
      'access.userSaved': 'Se guardó a {user}.', 'access.userRemoved': 'Se quitó a {user}.',
      'access.replaceUser': '{user} ya existe. ¿Reemplazar su nombre, rol y contraseña?',
      'access.removeUser': '¿Quitar a {user}? Ya no podrá entrar en la oficina.',
      'access.kiosks': 'Terminales de autoatención', 'access.kioskId': 'Id de la terminal',
      'access.kioskAdd': 'Agregar terminal', 'access.noKiosks': 'Todavía no hay terminales cargadas desde casa central.',
      'access.kioskAdded': 'Se agregó la terminal {id}.', 'access.kioskRemoved': 'Se quitó la terminal {id}.',
      'access.replaceKiosk': 'La terminal {id} ya existe: un token nuevo reemplaza al anterior, que deja de funcionar. ¿Continuar?',
      'access.removeKiosk': '¿Quitar la terminal {id}? Dejará de funcionar.',
      'access.tokenFor': 'Token de la terminal {id}:',
      'access.tokenOnce': 'Cópielo ahora en la terminal: no se volverá a mostrar. Casa central solo guarda su huella; si se pierde, agregue la terminal otra vez para obtener uno nuevo.',
      'access.tokenDone': 'Ya lo copié', 'access.required': 'Obligatorio.',
      'access.forbidden': 'Solo los administradores de casa central pueden cambiar el personal y las terminales.',
    },
    en: {
      'page.title': 'fila — Office configuration',
      'page.subtitle': 'Office configuration',
      'page.back': 'Dashboard',
      'lang.other': 'Español',
      'login.title': 'Administrators',
      'login.token': 'Administrator token',
      'login.enter': 'Sign in',
      'login.refused': 'The token is not valid or no longer enabled.',
      'heading': 'Configuration of {office}',
      'save': 'Save',
      'number': 'Must be a whole number.', 'oneLetter': 'Must be one letter.',
      'saved': 'Saved. The office applies it when it connects.',
      'unchanged': 'There was nothing to save.',
      'forbidden': 'Only headquarters administrators may change the configuration.',
      'problems': 'Fix the marked fields: {n} problem(s).',
      'notFound': 'Headquarters has no configuration for this office yet.',
      'failed': 'Could not complete: {message}',
      'stale.text': 'Someone else changed this configuration while you were editing it.',
      'stale.reload': 'Reload the current version',
      'stale.section': 'Changed: {section}',
      'section.office': 'Office', 'section.services': 'Services', 'section.counters': 'Counters',
      'section.categories': 'Preferential categories', 'section.rule': 'Call rule',
      'section.calendar': 'Opening hours and closures', 'section.notices': 'Notices', 'section.signage': 'Signage',
      'section.room': 'Waiting room',
      'office.name': 'Name', 'office.time_zone': 'Time zone', 'office.tags': 'Tags (comma separated)',
      'id': 'Id', 'name': 'Name', 'prefix': 'Prefix', 'expected': 'Expected service (min)',
      'target': 'Target wait (min)', 'remote': 'Join from home', 'booking': 'Takes bookings',
      'slot': 'Slot (min)', 'horizon': 'Days ahead', 'capacity': 'Bookings per slot',
      'walkin': 'Kept for walk-ins (%)', 'counter.services': 'Services (ids, comma separated)',
      'maxWait': 'Legal maximum wait (min)',
      'rule.preferential_ratio': 'Preferential calls in a row', 'rule.appointment_early_minutes': 'Appointment due before (min)',
      'rule.legal_wait_margin_minutes': 'Margin before the legal maximum (min)', 'rule.recalls_max': 'Most recalls',
      'rule.service_order': 'Order across services', 'rule.transfer_position': 'Transferred ticket',
      'order.arrival': 'By arrival', 'order.counter_priority': 'By the counter\'s priority',
      'transfer.keep': 'Keeps its arrival', 'transfer.head': 'To the front',
      'day.mon': 'Monday', 'day.tue': 'Tuesday', 'day.wed': 'Wednesday', 'day.thu': 'Thursday', 'day.fri': 'Friday',
      'day.sat': 'Saturday', 'day.sun': 'Sunday', 'hours.help': 'Hours, e.g. 08:00-13:00, 14:00-17:00',
      'lastCall': 'Last call before closing (min)',
      'closure.from': 'From', 'closure.until': 'Until', 'closure.reason': 'Reason',
      'add.services': 'Add a service', 'add.counters': 'Add a counter', 'add.categories': 'Add a category',
      'add.closures': 'Add a closure', 'remove': 'Remove',
      'add.templates': 'Add a message', 'notice.kind': 'Kind (e.g. called)', 'notice.lang': 'Language',
      'notice.subject': 'Subject (e-mail)', 'notice.text': 'Text, with {ticket}, {counter}…',
      'cancel': 'Cancel until (min before)', 'checkinEarly': 'Check-in from (min before)',
      'checkinLate': 'Check-in until (min after)', 'add.requirements': 'Add requirements in another language',
      'req.lang': 'Language', 'req.documents': 'Documents (one per line)', 'req.fees': 'Fees (one per line)',
      'req.forms': 'Forms (one per line)',
      'room.capacity': 'People it holds (empty: no limit)', 'room.come_margin_minutes': 'Told to come, margin (min)',
      'section.notices.survey': 'Satisfaction survey', 'survey.satisfaction': 'Satisfaction (1 to 5)',
      'survey.recommend': 'Would recommend the office (0 to 10)', 'survey.resolved': 'Procedure resolved',
      'survey.comment': 'Comment', 'survey.open_days': 'Days to answer',
      'signage.screens': 'Screens', 'signage.media': 'Signage files', 'signage.playlists': 'Playlists',
      'signage.schedules': 'Schedules', 'signage.urgent': 'Urgent messages', 'signage.ticker': 'Ticker text',
      'add.screens': 'Add a screen', 'add.playlists': 'Add a playlist', 'add.items': 'Add an item',
      'add.slide': 'Add a text in a language', 'add.schedules': 'Add a schedule', 'add.urgent': 'Add an urgent message',
      'add.texts': 'Add a text in a language', 'add.ticker': 'Add a text in a language', 'add.media': 'Add',
      'media.library': 'Uploaded files', 'media.none': 'No unused uploaded files.',
      'screen.profile': 'Orientation', 'profile.landscape': 'Landscape', 'profile.portrait': 'Portrait',
      'screen.ticker': 'Shows the ticker', 'item.media': 'File', 'item.slideOption': '(text)',
      'item.seconds': 'Seconds', 'item.langs': 'Languages (empty: all)', 'slide.title': 'Title', 'slide.body': 'Text',
      'schedule.playlist': 'Playlist', 'schedule.from': 'From', 'schedule.until': 'Until',
      'schedule.weekdays': 'Days (mon, tue…; empty: every day)', 'schedule.hours': 'Hours (08:00-12:00; empty: all day)',
      'signage.target': 'Target (all, tag:…, office:…, screen:office/screen)', 'urgent.from': 'From', 'urgent.until': 'Until',
      'lang': 'Language', 'text': 'Text',
      'badTarget': 'Must be all, tag:<tag>, office:<id> or screen:<office>/<screen>.',
      'badSpan': 'Must be hours such as 08:00-12:00.', 'badTime': 'Must be a date and time.',
      'badSpans': 'Must be hours such as 08:00-12:00, 13:00-16:00, each closing after it opens.',
      'badDate': 'Must be a date.', 'tooLarge': 'The number is too large.',
      'template.title': 'Template by tag',
      'template.help': 'Applied to every office with the tag; fields an office changed on its own are kept.',
      'template.tag': 'Tag', 'template.rule': 'Include the call rule', 'template.hours': 'Include the opening hours',
      'template.waits': 'Target waits per service (empty: not set)',
      'template.booking': 'Include the bookings of {service}', 'template.notices': 'Include this office\'s messages ({n})',
      'template.survey': 'Include the survey', 'template.problems': 'Fix the template\'s marked fields: {n} problem(s).',
      'template.save': 'Apply template', 'template.applied': 'Template applied: {offices}.',
      'template.none': 'no office has the tag',
      'overrides.title': 'This office\'s own fields',
      'overrides.none': 'None: it follows its templates.',
      'overrides.back': 'Return to the template',
      'access.title': 'Staff and kiosks',
      'access.help': 'Who may sign in at the office. Each change takes effect at once, apart from Save; the office receives it the next time it asks headquarters.',
      'access.users': 'Staff', 'access.username': 'Username', 'access.name': 'Name', 'access.role': 'Role',
      'access.password': 'Password', 'access.actions': 'Actions',
      'access.role.agent': 'Agent', 'access.role.supervisor': 'Supervisor', 'access.role.admin': 'Administrator',
      'access.noUsers': 'No staff set from headquarters yet.',
      'access.userHelp': 'Add a person, or replace the one with that username (with a new password).',
      'access.userSave': 'Add or replace', 'access.edit': 'Change',
      'access.userSaved': '{user} was saved.', 'access.userRemoved': '{user} was removed.',
      'access.replaceUser': '{user} already exists. Replace their name, role and password?',
      'access.removeUser': 'Remove {user}? They will no longer be able to sign in at the office.',
      'access.kiosks': 'Self-service kiosks', 'access.kioskId': 'Kiosk id',
      'access.kioskAdd': 'Add kiosk', 'access.noKiosks': 'No kiosks set from headquarters yet.',
      'access.kioskAdded': 'Kiosk {id} was added.', 'access.kioskRemoved': 'Kiosk {id} was removed.',
      'access.replaceKiosk': 'Kiosk {id} already exists: a new token replaces the old one, which stops working. Continue?',
      'access.removeKiosk': 'Remove kiosk {id}? It will stop working.',
      'access.tokenFor': 'Token of kiosk {id}:',
      'access.tokenOnce': 'Copy it into the kiosk now: it will not be shown again. Headquarters keeps only its fingerprint; if it is lost, add the kiosk again to get a new one.',
      'access.tokenDone': 'I have copied it', 'access.required': 'Required.',
      'access.forbidden': 'Only headquarters administrators may change staff and kiosks.',
    },
  };

  const lang = new URLSearchParams(location.search).get('lang') === 'en' ? 'en' : 'es';
  const office = decodeURIComponent(location.pathname.split('/')[3] || '');
  const state = { config: null, loaded: null, version: null, problems: [], library: [] };
  const $ = (id) => document.getElementById(id);

  function t(key, values) {
    let text = STRINGS[lang][key] || STRINGS.es[key] || key;
    Object.entries(values || {}).forEach(([name, value]) => { text = text.replace('{' + name + '}', value); });
    return text;
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([name, value]) => {
      if (name === 'text') node.textContent = value;
      else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
    });
    (children || []).forEach((child) => node.appendChild(child));
    return node;
  }

  // "services[1].prefix" → ['services', 1, 'prefix']
  function keys(path) {
    return path.split(/\.|\[|\]/).filter((k) => k !== '').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  }

  function read(object, path) {
    return keys(path).reduce((value, key) => (value == null ? undefined : value[key]), object);
  }

  function write(object, path, value) {
    const list = keys(path);
    let target = object;
    list.slice(0, -1).forEach((key, i) => {
      if (target[key] == null) target[key] = typeof list[i + 1] === 'number' ? [] : {};
      target = target[key];
    });
    const last = list[list.length - 1];
    if (value === undefined) delete target[last]; else target[last] = value;
  }

  const KINDS = {
    text: { show: (v) => v == null ? '' : String(v), parse: (s) => s },
    int: { show: (v) => v == null ? '' : String(v), parse: (s) => (s.trim() === '' ? 0 : Number(s)) },
    optint: { show: (v) => v == null ? '' : String(v), parse: (s) => (s.trim() === '' ? null : Number(s)) },
    list: { show: (v) => (v || []).join(', '), parse: (s) => s.split(',').map((x) => x.trim()).filter((x) => x) },
  };

  // One input bound to a path of the configuration, with the place its problems go.
  function field(object, path, label, kind, extra) {
    const kindOf = KINDS[kind || 'text'];
    const id = 'f-' + path.replace(/[^a-zA-Z0-9]/g, '-');
    const input = el('input', Object.assign({ id: id, 'data-path': path, 'data-kind': kind || 'text',
      value: kindOf.show(read(object, path)) }, extra || {}));
    if (kind === 'int' || kind === 'optint') input.setAttribute('inputmode', 'numeric');
    input.addEventListener('input', () => write(object, path, kindOf.parse(input.value)));
    return el('span', { class: 'field', 'data-field': path }, [
      el('label', { for: id, text: label }), input, el('span', { class: 'field-error', 'data-err': path }),
    ]);
  }

  function select(object, path, label, options) {
    const id = 'f-' + path.replace(/[^a-zA-Z0-9]/g, '-');
    const input = el('select', { id: id, 'data-path': path });
    options.forEach(([value, text]) => input.appendChild(el('option', { value: value, text: text })));
    input.value = read(object, path);
    input.addEventListener('change', () => write(object, path, input.value));
    return el('span', { class: 'field', 'data-field': path }, [
      el('label', { for: id, text: label }), input, el('span', { class: 'field-error', 'data-err': path }),
    ]);
  }

  function checkbox(label, checked, onChange, path) {
    const id = 'c-' + Math.random().toString(36).slice(2);
    const input = el('input', { id: id, type: 'checkbox', checked: checked ? 'checked' : false, 'data-path': path });
    input.addEventListener('change', () => onChange(input.checked));
    return el('span', { class: 'field' }, [el('label', { for: id, text: label }), input]);
  }

  function button(text, onClick, attrs) {
    const node = el('button', Object.assign({ type: 'button', class: 'btn btn-sm', text: text }, attrs || {}));
    node.addEventListener('click', onClick);
    return node;
  }

  function section(name, children) {
    return el('fieldset', { 'data-field': name }, [el('legend', { text: t('section.' + name) }),
      el('span', { class: 'field-error', 'data-err': name })].concat(children));
  }

  // Rows of a list with a remove button each and an add button below.
  // `redraw` draws the form again (the editor's by default).
  function rows(list, name, draw, blank, redraw) {
    const again = redraw || render;
    const remove = (i) => { list.splice(i, 1); if (!redraw) forgetRow(name, i); again(); };
    const nodes = list.map((item, i) => el('div', { class: 'row', 'data-field': name + '[' + i + ']' },
      draw(i).concat([button(t('remove'), () => remove(i), { class: 'btn btn-sm remove', 'data-remove': name + '[' + i + ']' }),
        el('span', { class: 'field-error', 'data-err': name + '[' + i + ']' })])));
    nodes.push(button(t('add.' + name.split('.').pop()), () => { list.push(blank()); again(); }, { 'data-add': name }));
    return nodes;
  }

  // A row removed from the editor's list `name`: the problems shown are named by index, so the
  // removed row's go with it and those of the rows after it follow their rows up; none is left
  // beside another row's field.
  function forgetRow(name, removed) {
    const prefix = name + '[';
    state.problems = state.problems.flatMap((problem) => {
      const index = problem.at.startsWith(prefix) ? /^(\d+)\]/.exec(problem.at.slice(prefix.length)) : null;
      if (!index) return [problem];
      const i = Number(index[1]);
      if (i === removed) return [];
      if (i < removed) return [problem];
      return [Object.assign({}, problem, { at: prefix + (i - 1) + ']' + problem.at.slice(prefix.length + index[0].length) })];
    });
  }

  function render() {
    const c = state.config;
    c.calendar = c.calendar || {};
    c.calendar.hours = c.calendar.hours || {};
    c.calendar.closures = c.calendar.closures || [];
    c.services = c.services || [];
    c.counters = c.counters || [];
    c.categories = c.categories || [];
    c.rule = c.rule || {};
    c.notices = c.notices || {};
    c.notices.templates = c.notices.templates || [];
    c.notices.survey = c.notices.survey || Object.assign({}, SURVEY_DEFAULTS);
    c.room = c.room || { come_margin_minutes: 10 };
    c.signage = c.signage || {};
    ['screens', 'media', 'playlists', 'schedules', 'urgent', 'ticker'].forEach((name) => {
      c.signage[name] = c.signage[name] || [];
    });
    const form = $('editor');
    form.replaceChildren(
      section('office', [
        field(c, 'office.name', t('office.name')),
        field(c, 'office.time_zone', t('office.time_zone')),
        field(c, 'office.tags', t('office.tags'), 'list'),
      ]),
      section('services', rows(c.services, 'services', (i) => {
        const at = 'services[' + i + ']';
        const service = c.services[i];
        const parts = [
          field(c, at + '.id', t('id')),
          field(c, at + '.prefix', t('prefix'), 'char', { maxlength: 1, class: 'narrow' }),
          field(c, at + '.name', t('name')),
          field(c, at + '.expected_service_minutes', t('expected'), 'int', { class: 'narrow' }),
          field(c, at + '.target_wait_minutes', t('target'), 'int', { class: 'narrow' }),
          checkbox(t('remote'), service.remote_join, (on) => { service.remote_join = on; }, at + '.remote_join'),
          checkbox(t('booking'), !!service.booking, (on) => {
            if (on) service.booking = Object.assign({}, BOOKING_DEFAULTS); else delete service.booking;
            render();
          }, at + '.booking'),
        ];
        if (service.booking) parts.push(el('div', { class: 'booking' }, bookingFields(c, at + '.booking')));
        return parts;
      }, () => ({ id: '', prefix: '', name: '', target_wait_minutes: 15, expected_service_minutes: 5 }))),
      section('counters', rows(c.counters, 'counters', (i) => [
        field(c, 'counters[' + i + '].id', t('id'), 'text', { class: 'narrow' }),
        field(c, 'counters[' + i + '].name', t('name')),
        field(c, 'counters[' + i + '].services', t('counter.services'), 'list'),
      ], () => ({ id: '', name: '', services: [] }))),
      section('categories', rows(c.categories, 'categories', (i) => [
        field(c, 'categories[' + i + '].id', t('id')),
        field(c, 'categories[' + i + '].name', t('name')),
        field(c, 'categories[' + i + '].max_wait_minutes', t('maxWait'), 'optint', { class: 'narrow' }),
      ], () => ({ id: '', name: '', max_wait_minutes: null }))),
      section('rule', ruleFields(c, 'rule')),
      section('calendar', hoursFields(c, 'calendar.hours').concat([
        field(c, 'calendar.last_call_margin_minutes', t('lastCall'), 'optint', { class: 'narrow' }),
      ]).concat(rows(c.calendar.closures, 'calendar.closures', (i) => [
        field(c, 'calendar.closures[' + i + '].from', t('closure.from'), 'date', { type: 'date' }),
        field(c, 'calendar.closures[' + i + '].until', t('closure.until'), 'optdate', { type: 'date' }),
        field(c, 'calendar.closures[' + i + '].reason', t('closure.reason')),
      ], () => ({ from: '', reason: '' })))),
      section('notices', rows(c.notices.templates, 'notices.templates', (i) => [
        field(c, 'notices.templates[' + i + '].kind', t('notice.kind')),
        select(c, 'notices.templates[' + i + '].lang', t('notice.lang'), LANGS),
        field(c, 'notices.templates[' + i + '].subject', t('notice.subject')),
        field(c, 'notices.templates[' + i + '].text', t('notice.text'), 'text', { size: 60 }),
      ], () => ({ kind: '', lang: 'es', subject: '', text: '' }))),
      section('notices.survey', surveyFields(c, 'notices.survey')),
      section('room', [
        field(c, 'room.capacity', t('room.capacity'), 'optint', { class: 'narrow' }),
        field(c, 'room.come_margin_minutes', t('room.come_margin_minutes'), 'int', { class: 'narrow' }),
      ]),
      section('signage', signageFields(c)),
    );
    showProblems();
  }

  KINDS.char = KINDS.text;
  // What the server could not even read (a word for a number, a prefix of two letters) is
  // caught here, beside its field, before anything is sent.
  const ID = '[A-Za-z0-9_-]{1,32}';
  const WELL_FORMED = { int: /^\s*\d+\s*$/, optint: /^\s*\d*\s*$/, char: /^.$/u,
    target: new RegExp('^(all|tag:' + ID + '|office:' + ID + '|screen:' + ID + '/' + ID + ')$'),
    optspan: { test: (s) => s.trim() === '' || wellFormedSpan(s.trim()) }, time: /^\d{4}-\d\d-\d\dT\d\d:\d\d/,
    date: /^\d{4}-\d\d-\d\d$/, spans: { test: (s) => s.split(',').map((x) => x.trim()).filter((x) => x).every(wellFormedSpan) } };
  const MALFORMED = { int: 'number', optint: 'number', char: 'oneLetter', target: 'badTarget', optspan: 'badSpan', time: 'badTime',
    date: 'badDate', spans: 'badSpans' };

  // "08:00-12:00" as the server reads a span: times of the clock (24:00 ends the day), the
  // doors closing after they open.
  function wellFormedSpan(text) {
    const parts = /^(\d\d):(\d\d)\s*-\s*(\d\d):(\d\d)$/.exec(text);
    if (!parts) return false;
    const [start, end] = [[parts[1], parts[2]], [parts[3], parts[4]]].map(([h, m]) => (Number(m) < 60 ? h * 60 + Number(m) : NaN));
    return start < end && end <= 24 * 60;
  }

  // The largest number a field holds (`data-max`, else 2³²−1): past it the server could not
  // read the configuration at all, and would name no field.
  const NUMBER_MAX = 4294967295;

  function unreadable(form) {
    return [...document.querySelectorAll(form + ' [data-kind]')].map((input) => {
      const kind = input.dataset.kind;
      if (WELL_FORMED[kind] && !WELL_FORMED[kind].test(input.value)) return { at: input.dataset.path, problem: t(MALFORMED[kind]) };
      const numeric = (kind === 'int' || kind === 'optint') && input.value.trim() !== '';
      if (numeric && Number(input.value) > Number(input.dataset.max || NUMBER_MAX)) return { at: input.dataset.path, problem: t('tooLarge') };
      return null;
    }).filter((problem) => problem);
  }

  KINDS.date = KINDS.text;
  KINDS.optdate = { show: (v) => v == null ? '' : v, parse: (s) => (s === '' ? undefined : s) };
  KINDS.optspan = { show: (v) => v == null ? '' : v, parse: (s) => (s.trim() === '' ? undefined : s.trim().replace(/\s*-\s*/, '-')) };
  KINDS.target = KINDS.text;
  // A moment as the browser's local date and time; sent as milliseconds since 1970.
  KINDS.time = {
    show: (v) => {
      if (v == null) return '';
      const local = new Date(v - new Date(v).getTimezoneOffset() * 60000);
      return isNaN(local) ? '' : local.toISOString().slice(0, 16);
    },
    parse: (s) => (s === '' ? 0 : new Date(s).getTime()),
  };
  KINDS.spans = { show: (v) => (v || []).join(', '), parse: (s) => s.split(',').map((x) => x.trim().replace(/\s*-\s*/, '-')).filter((x) => x) };

  // What a service that starts taking bookings gets, as the server's defaults.
  const BOOKING_DEFAULTS = { slot_minutes: 15, horizon_days: 30, cancel_deadline_minutes: 120,
    checkin_early_minutes: 30, checkin_late_minutes: 10, walk_in_percent: 50 };
  const SURVEY_DEFAULTS = { satisfaction: true, recommend: true, resolved: true, comment: true, open_days: 7 };
  const LANGS = [['es', 'es'], ['en', 'en']];

  // A list of texts, one per line (a fee may well hold a comma).
  function lines(object, path, label) {
    const id = 'f-' + path.replace(/[^a-zA-Z0-9]/g, '-');
    const input = el('textarea', { id: id, 'data-path': path, 'data-kind': 'lines', rows: 3, cols: 30 });
    input.value = (read(object, path) || []).join('\n');
    input.addEventListener('input', () => write(object, path,
      input.value.split('\n').map((x) => x.trim()).filter((x) => x)));
    return el('span', { class: 'field', 'data-field': path }, [
      el('label', { for: id, text: label }), input, el('span', { class: 'field-error', 'data-err': path }),
    ]);
  }

  // A service's booking settings (at `services[2].booking`), with what to bring per language.
  function bookingFields(object, at, redraw) {
    const booking = read(object, at);
    booking.requirements = booking.requirements || [];
    return [
      field(object, at + '.slot_minutes', t('slot'), 'int', { class: 'narrow' }),
      field(object, at + '.horizon_days', t('horizon'), 'int', { class: 'narrow' }),
      field(object, at + '.capacity', t('capacity'), 'optint', { class: 'narrow' }),
      field(object, at + '.walk_in_percent', t('walkin'), 'int', { class: 'narrow' }),
      field(object, at + '.cancel_deadline_minutes', t('cancel'), 'int', { class: 'narrow' }),
      field(object, at + '.checkin_early_minutes', t('checkinEarly'), 'int', { class: 'narrow' }),
      field(object, at + '.checkin_late_minutes', t('checkinLate'), 'int', { class: 'narrow' }),
      el('span', { class: 'field-error', 'data-err': at }),
    ].concat(rows(booking.requirements, at + '.requirements', (j) => {
      const on = at + '.requirements[' + j + ']';
      return [
        select(object, on + '.lang', t('req.lang'), LANGS),
        lines(object, on + '.documents', t('req.documents')),
        lines(object, on + '.fees', t('req.fees')),
        lines(object, on + '.forms', t('req.forms')),
      ];
    }, () => ({ lang: booking.requirements.some((r) => r.lang === 'es') ? 'en' : 'es', documents: [], fees: [], forms: [] }),
    redraw));
  }

  function surveyFields(object, at) {
    const survey = read(object, at);
    return ['satisfaction', 'recommend', 'resolved', 'comment']
      .map((name) => checkbox(t('survey.' + name), survey[name], (on) => { survey[name] = on; }, at + '.' + name))
      .concat([field(object, at + '.open_days', t('survey.open_days'), 'int', { class: 'narrow' })]);
  }

  // A part of a section with its own heading and the place of its list's problems.
  function group(path, children) {
    return el('div', { class: 'group', 'data-field': path }, [el('h3', { text: t(path) }),
      el('span', { class: 'field-error', 'data-err': path })].concat(children));
  }

  // Texts per language (`signage.ticker`, an urgent message's `texts`).
  function localTexts(object, at) {
    return rows(read(object, at), at, (i) => [
      select(object, at + '[' + i + '].lang', t('lang'), LANGS),
      field(object, at + '[' + i + '].text', t('text'), 'text', { size: 60 }),
    ], () => ({ lang: 'es', text: '' }));
  }

  // The signage: screens, the uploaded files it plays (by hash), playlists of them and of text
  // slides, schedules, urgent messages and the ticker. Files are uploaded in the signage page;
  // here one of those is added to the office's files by its hash.
  function signageFields(c) {
    const signage = c.signage;
    const mediaName = (m) => m.sha256.slice(0, 12) + '… ' + m.kind + ' ' + m.width + '×' + m.height;
    const unused = state.library.filter((m) => !signage.media.some((own) => own.sha256 === m.sha256));
    const library = el('select', { id: 'media-library' }, unused.map((m) => el('option', { value: m.sha256, text: mediaName(m) })));
    const media = signage.media.map((m, i) => el('div', { class: 'row', 'data-field': 'signage.media[' + i + ']' }, [
      el('code', { text: mediaName(m) }),
      button(t('remove'), () => { signage.media.splice(i, 1); forgetRow('signage.media', i); render(); }, { class: 'btn btn-sm remove', 'data-remove': 'signage.media[' + i + ']' }),
      el('span', { class: 'field-error', 'data-err': 'signage.media[' + i + ']' }),
    ]));
    media.push(unused.length ? el('span', { class: 'field' }, [
      el('label', { for: 'media-library', text: t('media.library') }), library,
      button(t('add.media'), () => {
        const chosen = unused.find((m) => m.sha256 === library.value);
        if (!chosen) return;
        signage.media.push({ sha256: chosen.sha256, kind: chosen.kind, bytes: chosen.bytes, width: chosen.width,
          height: chosen.height, duration_ms: chosen.duration_ms == null ? undefined : chosen.duration_ms });
        render();
      }, { 'data-add': 'signage.media' }),
    ]) : el('p', { class: 'muted', text: t('media.none') }));
    const files = [['', t('item.slideOption')]].concat(signage.media.map((m) => [m.sha256, mediaName(m)]));
    const playlists = signage.playlists.map((p) => [p.id, p.name || p.id]);
    return [
      group('signage.screens', rows(signage.screens, 'signage.screens', (i) => {
        const at = 'signage.screens[' + i + ']';
        const screen = signage.screens[i];
        return [
          field(c, at + '.id', t('id'), 'text', { class: 'narrow' }),
          field(c, at + '.name', t('name')),
          select(c, at + '.profile', t('screen.profile'),
            [['landscape', t('profile.landscape')], ['portrait', t('profile.portrait')]]),
          checkbox(t('screen.ticker'), screen.ticker !== false, (on) => { screen.ticker = on; }, at + '.ticker'),
        ];
      }, () => ({ id: '', name: '', profile: 'landscape', ticker: true }))),
      group('signage.media', media),
      group('signage.playlists', rows(signage.playlists, 'signage.playlists', (p) => {
        const at = 'signage.playlists[' + p + ']';
        const playlist = signage.playlists[p];
        return [
          field(c, at + '.id', t('id'), 'text', { class: 'narrow' }),
          field(c, at + '.name', t('name')),
          el('div', {}, rows(playlist.items, at + '.items', (i) => itemFields(c, at + '.items[' + i + ']', files),
            () => ({ slide: [{ lang: 'es', title: '', body: '' }], seconds: 10 }))),
        ];
      }, () => ({ id: '', name: '', items: [] }))),
      group('signage.schedules', rows(signage.schedules, 'signage.schedules', (i) => {
        const at = 'signage.schedules[' + i + ']';
        const own = signage.schedules[i].playlist;
        const options = playlists.some(([id]) => id === own) ? playlists : [[own, own]].concat(playlists);
        return [
          field(c, at + '.id', t('id'), 'text', { class: 'narrow' }),
          select(c, at + '.playlist', t('schedule.playlist'), options),
          field(c, at + '.from', t('schedule.from'), 'optdate', { type: 'date' }),
          field(c, at + '.until', t('schedule.until'), 'optdate', { type: 'date' }),
          field(c, at + '.weekdays', t('schedule.weekdays'), 'list'),
          field(c, at + '.hours', t('schedule.hours'), 'optspan', { class: 'narrow' }),
          field(c, at + '.target', t('signage.target'), 'target'),
        ];
      }, () => ({ id: '', playlist: (signage.playlists[0] || {}).id || '', target: 'all' }))),
      group('signage.urgent', rows(signage.urgent, 'signage.urgent', (i) => {
        const at = 'signage.urgent[' + i + ']';
        return [
          field(c, at + '.id', t('id'), 'text', { class: 'narrow' }),
          field(c, at + '.from_ms', t('urgent.from'), 'time', { type: 'datetime-local' }),
          field(c, at + '.until_ms', t('urgent.until'), 'time', { type: 'datetime-local' }),
          field(c, at + '.target', t('signage.target'), 'target'),
          el('div', {}, localTexts(c, at + '.texts')),
        ];
      }, () => {
        const now = Date.now();
        return { id: '', texts: [{ lang: 'es', text: '' }], from_ms: now, until_ms: now + 3600000, target: 'office:' + office, by: 'hq' };
      })),
      group('signage.ticker', localTexts(c, 'signage.ticker')),
    ];
  }

  // One playlist item: an uploaded file, or a text slide per language.
  function itemFields(object, at, files) {
    const item = read(object, at);
    const id = 'f-' + (at + '.media').replace(/[^a-zA-Z0-9]/g, '-');
    const choose = el('select', { id: id, 'data-path': at + '.media' },
      files.map(([value, text]) => el('option', { value: value, text: text })));
    choose.value = item.media || '';
    choose.addEventListener('change', () => {
      if (choose.value) { item.media = choose.value; item.slide = []; } else { delete item.media; item.slide = [{ lang: 'es', title: '', body: '' }]; }
      render();
    });
    const parts = [
      el('span', { class: 'field', 'data-field': at + '.media' }, [el('label', { for: id, text: t('item.media') }), choose,
        el('span', { class: 'field-error', 'data-err': at + '.media' })]),
      field(object, at + '.seconds', t('item.seconds'), 'int', { class: 'narrow' }),
      field(object, at + '.langs', t('item.langs'), 'list', { class: 'narrow' }),
    ];
    if (!item.media) {
      item.slide = item.slide || [];
      parts.push(el('div', {}, rows(item.slide, at + '.slide', (s) => [
        select(object, at + '.slide[' + s + '].lang', t('lang'), LANGS),
        field(object, at + '.slide[' + s + '].title', t('slide.title')),
        field(object, at + '.slide[' + s + '].body', t('slide.body'), 'text', { size: 50 }),
      ], () => ({ lang: 'en', title: '', body: '' }))));
    }
    return parts;
  }

  function ruleFields(object, at) {
    return ['preferential_ratio', 'appointment_early_minutes', 'legal_wait_margin_minutes', 'recalls_max']
      // The most recalls is one byte to the server.
      .map((name) => field(object, at + '.' + name, t('rule.' + name), 'int',
        Object.assign({ class: 'narrow' }, name === 'recalls_max' ? { 'data-max': 255 } : {})))
      .concat([
        select(object, at + '.service_order', t('rule.service_order'),
          [['arrival', t('order.arrival')], ['counter_priority', t('order.counter_priority')]]),
        select(object, at + '.transfer_position', t('rule.transfer_position'),
          [['keep', t('transfer.keep')], ['head', t('transfer.head')]]),
      ]);
  }

  function hoursFields(object, at) {
    return WEEKDAYS.map((day) => field(object, at + '.' + day, t('day.' + day), 'spans', { placeholder: t('hours.help') }));
  }

  // Each problem beside the input of its path, or of the nearest enclosing row or section.
  function showProblems() {
    const unplaced = placeProblems('#editor', state.problems);
    const list = $('problems');
    list.replaceChildren(...unplaced.map((text) => el('li', { text: text })));
    list.hidden = unplaced.length === 0;
  }

  // Places `problems` in the form `root`; returns those with no place there, as text.
  function placeProblems(root, problems) {
    document.querySelectorAll(root + ' .field-error').forEach((node) => { node.textContent = ''; });
    document.querySelectorAll(root + ' .invalid').forEach((node) => node.classList.remove('invalid'));
    const unplaced = [];
    problems.forEach((problem) => {
      let path = problem.at;
      let place = null;
      while (path && !(place = document.querySelector(root + ' [data-err="' + CSS.escape(path) + '"]'))) {
        path = path.replace(/(\.[^.[\]]*|\[\d+\])$/, '') === path ? '' : path.replace(/(\.[^.[\]]*|\[\d+\])$/, '');
      }
      if (!place) { unplaced.push(problem.at + ': ' + problem.problem); return; }
      place.textContent = (place.textContent ? place.textContent + ' · ' : '') + problem.problem;
      const holder = place.closest('.field');
      if (holder) holder.classList.add('invalid');
    });
    return unplaced;
  }

  function message(text, kind) {
    const node = $('message');
    node.textContent = text;
    node.className = 'alert ' + (kind === 'error' ? 'alert-danger' : 'alert-success');
    node.hidden = !text;
  }

  function token() {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  }

  async function api(method, path, body, headers) {
    const response = await fetch(path, {
      method: method,
      headers: Object.assign({ Authorization: 'Bearer ' + token() }, body ? { 'Content-Type': 'application/json' } : {}, headers || {}),
      body: body ? JSON.stringify(body) : undefined,
      cache: 'no-store',
    });
    if (response.status === 401) { showLogin(t('login.refused')); throw new Error('unauthorized'); }
    let json = null;
    try { json = await response.json(); } catch (e) { json = null; }
    return { status: response.status, json: json, etag: response.headers.get('ETag') };
  }

  async function load() {
    $('stale').hidden = true;
    state.problems = [];
    const answer = await api('GET', '/api/v1/offices/' + encodeURIComponent(office) + '/config');
    if (answer.status === 404) { message(t('notFound'), 'error'); return; }
    if (answer.status !== 200) { message(t('failed', { message: (answer.json || {}).message || answer.status }), 'error'); return; }
    state.config = answer.json;
    state.loaded = JSON.parse(JSON.stringify(answer.json));
    state.version = answer.etag;
    // The uploaded signage files, for the office's signage to name by hash.
    const library = await api('GET', '/api/v1/signage/media');
    state.library = library.status === 200 && Array.isArray(library.json) ? library.json : [];
    $('heading').textContent = t('heading', { office: state.config.office.name });
    render();
    renderTemplate();
    loadOverrides();
  }

  async function save() {
    message('', 'ok');
    const local = unreadable('#editor');
    if (local.length) {
      state.problems = local;
      showProblems();
      message(t('problems', { n: local.length }), 'error');
      return;
    }
    const answer = await api('PUT', '/api/v1/offices/' + encodeURIComponent(office) + '/config', state.config,
      state.version ? { 'If-Match': state.version } : {});
    if (answer.status === 200) {
      state.problems = [];
      showProblems();
      // What others saved since the version loaded was merged in: show the result.
      await load();
      message(t(answer.json && answer.json.changed ? 'saved' : 'unchanged'), 'ok');
      return;
    }
    const body = answer.json || {};
    if (answer.status === 400 && body.error === 'bad_config') {
      state.problems = body.problems || [];
      showProblems();
      message(t('problems', { n: state.problems.length }), 'error');
    } else if (answer.status === 412 || answer.status === 409) {
      await showStale();
    } else if (answer.status === 403) {
      message(t('forbidden'), 'error');
    } else {
      message(t('failed', { message: body.message || answer.status }), 'error');
    }
  }

  // Which sections someone else changed: the version loaded against the current one.
  async function showStale() {
    const list = $('stale-changes');
    list.replaceChildren();
    const current = await api('GET', '/api/v1/offices/' + encodeURIComponent(office) + '/config');
    if (current.status === 200) {
      const names = new Set(Object.keys(current.json).concat(Object.keys(state.loaded || {})));
      names.forEach((name) => {
        if (JSON.stringify(current.json[name]) !== JSON.stringify((state.loaded || {})[name])) {
          list.appendChild(el('li', { text: t('stale.section', { section: t('section.' + name) }) }));
        }
      });
    }
    $('stale').hidden = false;
  }

  // The template form: a partial configuration for every office with a tag.
  const template = { tag: '', rule: null, hours: null, waits: {}, bookings: {}, notices: null, survey: null };
  const copy = (value) => JSON.parse(JSON.stringify(value));

  function renderTemplate() {
    const c = state.config;
    template.tag = template.tag || ((c.office.tags || [])[0] || '');
    const form = $('template-form');
    const tag = el('input', { id: 'template-tag', value: template.tag });
    tag.addEventListener('input', () => { template.tag = tag.value.trim(); });
    const parts = [el('span', { class: 'field' }, [el('label', { for: 'template-tag', text: t('template.tag') }), tag,
      el('span', { class: 'field-error', 'data-err': 'tag' })])];
    parts.push(el('div', {}, [checkbox(t('template.rule'), !!template.rule, (on) => {
      template.rule = on ? JSON.parse(JSON.stringify(c.rule)) : null; renderTemplate();
    }, 'template.rule')]));
    if (template.rule) parts.push(el('div', {}, ruleFields(template, 'rule')));
    parts.push(el('div', {}, [checkbox(t('template.hours'), !!template.hours, (on) => {
      template.hours = on ? JSON.parse(JSON.stringify(c.calendar.hours || {})) : null; renderTemplate();
    }, 'template.hours')]));
    if (template.hours) parts.push(el('div', {}, hoursFields(template, 'hours')));
    parts.push(el('p', { class: 'muted', text: t('template.waits') }));
    (c.services || []).forEach((service) => {
      parts.push(field(template.waits, service.id, service.name + ' (' + service.id + ')', 'optint', { class: 'narrow' }));
    });
    // Booking settings of each service this office books, starting from this office's.
    (c.services || []).filter((service) => service.booking).forEach((service) => {
      const at = 'bookings.' + service.id;
      parts.push(el('div', {}, [checkbox(t('template.booking', { service: service.name }), !!template.bookings[service.id], (on) => {
        if (on) template.bookings[service.id] = copy(service.booking); else delete template.bookings[service.id];
        renderTemplate();
      }, 'template.' + at)]));
      if (template.bookings[service.id]) {
        parts.push(el('div', { class: 'booking', 'data-field': at }, bookingFields(template, at, renderTemplate)));
      }
    });
    parts.push(el('div', {}, [checkbox(t('template.notices', { n: (c.notices.templates || []).length }), !!template.notices, (on) => {
      template.notices = on ? copy(c.notices.templates || []) : null; renderTemplate();
    }, 'template.notice_templates'), el('span', { class: 'field-error', 'data-err': 'notice_templates' })]));
    parts.push(el('div', {}, [checkbox(t('template.survey'), !!template.survey, (on) => {
      template.survey = on ? copy(c.notices.survey || SURVEY_DEFAULTS) : null; renderTemplate();
    }, 'template.survey')]));
    if (template.survey) {
      parts.push(el('div', { 'data-field': 'survey' }, [el('span', { class: 'field-error', 'data-err': 'survey' })]
        .concat(surveyFields(template, 'survey'))));
    }
    form.replaceChildren(...parts);
    form.querySelectorAll('[id^="f-"]').forEach((input) => { input.id = 'template-' + input.id; });
    form.querySelectorAll('label[for^="f-"]').forEach((label) => { label.htmlFor = 'template-' + label.htmlFor; });
  }

  async function saveTemplate() {
    const result = $('template-result');
    const local = unreadable('#template-form');
    if (local.length) {
      result.textContent = local.map((p) => p.at + ': ' + p.problem).join(' · ');
      return;
    }
    const body = {};
    if (template.rule) body.rule = template.rule;
    if (template.hours) body.hours = template.hours;
    const waits = {};
    Object.entries(template.waits).forEach(([id, minutes]) => { if (minutes != null) waits[id] = minutes; });
    body.target_waits = waits;
    if (Object.keys(template.bookings).length) body.bookings = template.bookings;
    if (template.notices) body.notice_templates = template.notices;
    if (template.survey) body.survey = template.survey;
    const answer = await api('PUT', '/api/v1/templates/' + encodeURIComponent(template.tag), body);
    placeProblems('#template-form', []);
    if (answer.status === 400 && (answer.json || {}).error === 'bad_config') {
      const problems = answer.json.problems || [];
      const unplaced = placeProblems('#template-form', problems);
      result.textContent = [t('template.problems', { n: problems.length })].concat(unplaced).join(' · ');
      return;
    }
    if (answer.status === 200) {
      const names = (answer.json.offices || []).map((o) => o.office + (o.problem ? ' (' + o.problem + ')' : ''));
      // Told once the editor shows the result, so nothing typed meanwhile is redrawn away.
      await load();
      result.textContent = t('template.applied', { offices: names.length ? names.join(', ') : t('template.none') });
    } else {
      result.textContent = t('failed', { message: (answer.json || {}).message || answer.status });
    }
  }

  async function loadOverrides() {
    const answer = await api('GET', '/api/v1/offices/' + encodeURIComponent(office) + '/overrides');
    const list = $('overrides');
    const fields = answer.status === 200 ? answer.json.fields || [] : [];
    list.replaceChildren(...fields.map((name) => el('li', { 'data-override': name }, [
      el('code', { text: name }), document.createTextNode(' '),
      button(t('overrides.back'), async () => {
        await api('DELETE', '/api/v1/offices/' + encodeURIComponent(office) + '/overrides/' + encodeURIComponent(name));
        await load();
      }),
    ])));
    if (!fields.length) list.appendChild(el('li', { class: 'muted', text: t('overrides.none') }));
  }

  // Staff and kiosks: each change is its own request, in effect at once (not part of Save and
  // its version). A kiosk's new token is put in the page once, and only there: never in the
  // address, the browser's storage or the console.
  const ROLES = ['agent', 'supervisor', 'admin'];
  let access = { users: [], kiosks: [] };
  const accessPath = (rest) => '/api/v1/offices/' + encodeURIComponent(office) + '/access' + (rest || '');
  const roleName = (role) => (ROLES.includes(role) ? t('access.role.' + role) : role);

  function accessResult(text) {
    $('access-result').textContent = text || '';
  }

  function accessFailure(answer) {
    if (answer.status === 403) return t('access.forbidden');
    return t('failed', { message: (answer.json || {}).message || answer.status });
  }

  async function loadAccess() {
    const answer = await api('GET', accessPath());
    if (answer.status !== 200) { accessResult(accessFailure(answer)); return; }
    access = { users: answer.json.users || [], kiosks: answer.json.kiosks || [] };
    renderAccess();
  }

  function renderAccess() {
    const users = document.querySelector('#access-users tbody');
    users.replaceChildren(...access.users.map((user) => el('tr', { 'data-user': user.username }, [
      el('td', {}, [el('code', { text: user.username })]),
      el('td', { text: user.name }),
      el('td', { text: roleName(user.role) }),
      el('td', {}, [
        button(t('access.edit'), () => editUser(user), { 'data-edit-user': user.username }),
        button(t('remove'), () => { removeUser(user.username).catch(() => {}); }, { 'data-remove-user': user.username }),
      ]),
    ])));
    if (!access.users.length) users.appendChild(el('tr', {}, [el('td', { colspan: 4, class: 'empty', text: t('access.noUsers') })]));
    const kiosks = $('access-kiosks');
    kiosks.replaceChildren(...access.kiosks.map((id) => el('li', { 'data-kiosk': id }, [
      el('code', { text: id }),
      button(t('remove'), () => { removeKiosk(id).catch(() => {}); }, { 'data-remove-kiosk': id }),
    ])));
    if (!access.kiosks.length) kiosks.appendChild(el('li', { class: 'muted', text: t('access.noKiosks') }));
  }

  // A user's row into the form, to be replaced (the password is always a new one).
  function editUser(user) {
    placeProblems('#access-user-form', []);
    $('access-username').value = user.username;
    $('access-name').value = user.name;
    $('access-role').value = user.role;
    $('access-password').value = '';
    $('access-password').focus();
  }

  // A `bad_access` refusal names its field first ("password: must be…"): shown beside it.
  function showRefusal(form, answer) {
    const body = answer.json || {};
    if (answer.status !== 400 || body.error !== 'bad_access') { accessResult(accessFailure(answer)); return; }
    const message = String(body.message || '');
    const colon = message.indexOf(': ');
    const unplaced = colon > 0
      ? placeProblems(form, [{ at: message.slice(0, colon), problem: message.slice(colon + 2) }])
      : [message];
    if (unplaced.length) accessResult(message);
  }

  // The form's button is disabled while its request runs (a password is hashed slowly).
  async function busy(id, request) {
    $(id).disabled = true;
    try { return await request(); } finally { $(id).disabled = false; }
  }

  async function saveUser() {
    accessResult('');
    placeProblems('#access-user-form', []);
    const username = $('access-username').value.trim();
    if (!username) { placeProblems('#access-user-form', [{ at: 'username', problem: t('access.required') }]); return; }
    if (access.users.some((user) => user.username === username) && !window.confirm(t('access.replaceUser', { user: username }))) return;
    const answer = await busy('access-user-save', () => api('PUT', accessPath('/users/' + encodeURIComponent(username)),
      { name: $('access-name').value, role: $('access-role').value, password: $('access-password').value }));
    if (answer.status !== 204) { showRefusal('#access-user-form', answer); return; }
    ['access-username', 'access-name', 'access-password'].forEach((id) => { $(id).value = ''; });
    accessResult(t('access.userSaved', { user: username }));
    await loadAccess();
  }

  async function removeUser(username) {
    if (!window.confirm(t('access.removeUser', { user: username }))) return;
    const answer = await api('DELETE', accessPath('/users/' + encodeURIComponent(username)));
    // Gone already (someone else removed it) is as good as removed.
    accessResult(answer.status === 204 || answer.status === 404 ? t('access.userRemoved', { user: username }) : accessFailure(answer));
    await loadAccess();
  }

  async function addKiosk() {
    accessResult('');
    hideToken();
    placeProblems('#access-kiosk-form', []);
    const id = $('access-kiosk').value.trim();
    if (!id) { placeProblems('#access-kiosk-form', [{ at: 'id', problem: t('access.required') }]); return; }
    if (access.kiosks.includes(id) && !window.confirm(t('access.replaceKiosk', { id: id }))) return;
    const answer = await busy('access-kiosk-add', () => api('POST', accessPath('/kiosks/' + encodeURIComponent(id))));
    if (answer.status !== 201) { showRefusal('#access-kiosk-form', answer); return; }
    $('access-kiosk').value = '';
    showToken(id, answer.json.token);
    accessResult(t('access.kioskAdded', { id: id }));
    await loadAccess();
  }

  async function removeKiosk(id) {
    if (!window.confirm(t('access.removeKiosk', { id: id }))) return;
    const answer = await api('DELETE', accessPath('/kiosks/' + encodeURIComponent(id)));
    if ($('access-token').dataset.kiosk === id) hideToken();
    accessResult(answer.status === 204 || answer.status === 404 ? t('access.kioskRemoved', { id: id }) : accessFailure(answer));
    await loadAccess();
  }

  function showToken(id, value) {
    const box = $('access-token');
    box.dataset.kiosk = id;
    $('access-token-for').textContent = t('access.tokenFor', { id: id });
    $('access-token-value').textContent = value;
    box.hidden = false;
    box.scrollIntoView({ block: 'nearest' });
  }

  function hideToken() {
    const box = $('access-token');
    delete box.dataset.kiosk;
    $('access-token-for').textContent = '';
    $('access-token-value').textContent = '';
    box.hidden = true;
  }

  function accessForms() {
    $('access-role').replaceChildren(...ROLES.map((role) => el('option', { value: role, text: roleName(role) })));
    $('access-user-form').addEventListener('submit', (event) => { event.preventDefault(); saveUser().catch(() => {}); });
    $('access-kiosk-form').addEventListener('submit', (event) => { event.preventDefault(); addKiosk().catch(() => {}); });
    $('access-token-done').addEventListener('click', hideToken);
  }

  function showLogin(error) {
    $('app').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = error || '';
    $('login-error').hidden = !error;
  }

  function translate() {
    document.documentElement.lang = lang;
    document.querySelectorAll('[data-t]').forEach((node) => { node.textContent = t(node.getAttribute('data-t')); });
    $('lang').setAttribute('href', lang === 'en' ? '?lang=es' : '?lang=en');
  }

  function start() {
    $('login').hidden = true;
    $('app').hidden = false;
    load().catch(() => {});
    loadAccess().catch(() => {});
  }

  document.addEventListener('DOMContentLoaded', () => {
    translate();
    $('login-form').addEventListener('submit', (event) => {
      event.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
      $('token').value = '';
      start();
    });
    $('save').addEventListener('click', () => { save().catch(() => {}); });
    $('reload').addEventListener('click', () => { load().catch(() => {}); });
    $('template-save').addEventListener('click', () => { saveTemplate().catch(() => {}); });
    accessForms();
    if (token()) start(); else showLogin('');
  });
})();
