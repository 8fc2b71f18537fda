/*
 * fila — user-visible strings (Spanish default, English) and spoken-call helpers.
 *
 * Every text a citizen, agent or supervisor sees lives here so a translator only
 * has to touch one file. Placeholders use {name} and are filled by t(key, vars).
 * The number-to-words functions are here (not in display.js) so they can be
 * unit-tested with plain node: `require('./i18n.js')` exports them.
 */
(function (root) {
  'use strict';

  const es = {
    // ---- shared ----
    'app.name': 'fila',
    'app.tagline': 'Sistema de turnos',
    'lang.label': 'Idioma',
    'lang.es': 'Español',
    'lang.en': 'English',
    'common.loading': 'Cargando…',
    'common.retrying': 'No se pudo conectar con el servidor. Reintentando…',
    'common.back': 'Volver',
    'common.cancel': 'Cancelar',
    'common.close': 'Cerrar',
    'common.dismiss': 'Cerrar mensaje',
    'common.minutes': '{n} min',
    'common.minutesRange': '{low}–{high} min',
    'room.occupancy': 'Sala {present}/{capacity}',
    'counter.roomCount': 'Sala {present}/{capacity} · afuera {away}',
    'kiosk.closed': 'La oficina está cerrada.',
    'kiosk.closing': 'Ya no podremos atender un nuevo turno antes del cierre.',
    'kiosk.nextOpening': 'Volvemos a abrir el {at}.',
    'kiosk.waitOutside': 'La sala está llena: espere afuera. Le avisaremos cuándo entrar; siga su turno con el código QR.',
    'track.away': 'Espera fuera de la sala. Cuando llegue, avísenos: toque «Ya estoy aquí» o escanee su ticket en el quiosco.',
    'track.here': 'Ya estoy aquí',
    'track.hereDone': 'Gracias: ya cuenta en la sala.',
    'track.comeNow': '¡Es hora de venir! Su turno se acerca.',
    'common.lessThanMinute': 'Menos de 1 min',
    'common.none': '—',
    'common.offline': 'Sin conexión',
    'common.offlineLong': 'Sin conexión con el servidor. Reconectando…',

    // ---- ticket vocabulary ----
    'class.normal': 'General',
    'class.preferential': 'Preferencial',
    'class.appointment': 'Con cita',
    'status.waiting': 'En espera',
    'status.called': 'Llamado',
    'status.serving': 'En atención',
    'status.parked': 'Apartado',
    'status.finished': 'Atendido',
    'status.no_show': 'No se presentó',
    'status.cancelled': 'Cancelado',
    'counterStatus.closed': 'Cerrado',
    'counterStatus.open': 'Abierto',
    'counterStatus.paused': 'En pausa',
    'reason.first_come_first_served': 'Orden de llegada',
    'reason.preferential': 'Atención preferencial',
    'reason.preferential_at_legal_limit': 'Preferencial en el límite legal',
    'reason.appointment_due': 'Cita programada',
    'reason.anti_starvation': 'Espera prolongada',
    'reason.specific': 'Llamado específico',
    'reason.resumed': 'Retomado',

    // ---- errors (keyed by the server's "error" code when we know it) ----
    'error.network': 'No hay conexión con el servidor.',
    'error.generic': 'Ocurrió un error ({code}).',
    'error.sessionExpired': 'Su sesión expiró. Ingrese nuevamente.',

    // ---- home ----
    'home.title': 'fila — Inicio',
    'home.heading': 'Bienvenido',
    'home.day': 'Jornada del {day}',
    'home.kiosk': 'Quiosco de turnos',
    'home.kioskDesc': 'Pantalla táctil donde los ciudadanos sacan su turno.',
    'home.counter': 'Consola del puesto',
    'home.counterDesc': 'Para agentes y supervisores: llamar y atender turnos.',
    'home.display': 'Pantalla de sala de espera',
    'home.displayDesc': 'Muestra y anuncia los llamados en la sala.',
    'home.exit': 'Encuesta de salida',
    'home.exitDesc': 'Tableta junto a la puerta: el ciudadano califica su atención con el número de su turno.',
    'home.officeError': 'No se pudo obtener el nombre de la oficina.',
    'home.footer': 'fila — sistema de turnos de la oficina',

    // ---- kiosk ----
    'kiosk.title': 'fila — Quiosco',
    'kiosk.welcome': 'Bienvenido',
    'kiosk.chooseService': 'Toque el trámite que desea realizar',
    'kiosk.noServices': 'No hay trámites disponibles en este momento.',
    'kiosk.servicePrefix': 'Turnos {prefix}',
    'kiosk.priorityQuestion': '¿Tiene atención preferencial?',
    'kiosk.priorityHelp': 'Si corresponde, elija su categoría. Si no, toque «No».',
    'kiosk.priorityNo': 'No',
    'kiosk.priorityNoSub': 'Turno general',
    'kiosk.chosenService': 'Trámite: {service}',
    'kiosk.issuing': 'Emitiendo su turno…',
    'kiosk.yourTicket': 'Su turno',
    'kiosk.issuedAt': 'Emitido a las {time}',
    'kiosk.ahead': 'Personas delante',
    'kiosk.wait': 'Espera estimada',
    'kiosk.waitUnknown': 'Sin estimación',
    'kiosk.printed': 'Retire su ticket impreso.',
    'kiosk.notPrinted': 'La impresora no está disponible: su turno es el de esta pantalla. Anote el número o escanee el código con su teléfono.',
    'kiosk.trackLabel': 'Siga su turno desde su teléfono:',
    'kiosk.trackLabelQr': 'Escanee el código con su teléfono para seguir su turno, o ingrese a:',
    'kiosk.qrLabel': 'Código QR con el enlace para seguir su turno',
    'kiosk.instructions': 'Esté atento a la pantalla: allí verá su número y el puesto al que debe dirigirse.',
    'kiosk.done': 'Listo',
    'kiosk.returning': 'Volviendo al inicio en {n} s',
    'kiosk.errorTitle': 'No pudimos emitir su turno',
    'kiosk.errorHelp': 'Intente nuevamente o pida ayuda al personal de la oficina.',
    'kiosk.errorUnauthorized': 'Este quiosco no está autorizado para emitir turnos. Por favor, avise al personal.',
    'kiosk.errorDetail': 'Detalle técnico: {detail}',
    'kiosk.tryAgain': 'Volver al inicio',
    'kiosk.setupTitle': 'Quiosco sin configurar',
    'kiosk.setupText': 'Este quiosco todavía no tiene un token de dispositivo, por eso no puede emitir turnos.',
    'kiosk.setupHowto': 'Para el instalador: abra esta página una vez con el token del dispositivo en la dirección, por ejemplo:',
    'kiosk.setupExample': '/kiosk?token=TOKEN_DEL_DISPOSITIVO',
    'kiosk.setupNote': 'El token se guarda en este equipo y se quita de la barra de direcciones.',
    'kiosk.connecting': 'Conectando con el sistema de turnos…',

    // ---- counter console ----
    'counter.title': 'fila — Consola del puesto',
    'counter.loginTitle': 'Ingreso del personal',
    'counter.user': 'Usuario',
    'counter.password': 'Contraseña',
    'counter.login': 'Ingresar',
    'counter.loginMissing': 'Ingrese usuario y contraseña.',
    'counter.loginLocked': 'Demasiados intentos fallidos: el ingreso está bloqueado por un momento. Intente más tarde.',
    'counter.loggedAs': '{name} · {role}',
    'role.agent': 'Agente',
    'role.supervisor': 'Supervisor',
    'role.admin': 'Administrador',
    'counter.selectTitle': 'Elija su puesto',
    'counter.selectLabel': 'Puesto',
    'counter.signIn': 'Abrir puesto',
    'counter.supervise': 'Solo supervisar (sin puesto)',
    'counter.openBy': '{status}, {agent}',
    'counter.takenWarning': 'Atención: este puesto está abierto por {agent}. Si lo abre, quedará a su nombre.',
    'counter.services': 'Trámites: {list}',
    'counter.changeCounter': 'Cambiar de puesto',
    'counter.noCounter': 'Supervisión (sin puesto)',
    'counter.status': 'Estado del puesto',
    'counter.current': 'Turno actual',
    'counter.idle': 'Sin turno en atención',
    'counter.calledAt': 'Llamado a las {time}',
    'counter.recalls': 'Rellamados: {n}',
    'counter.transfers': 'Transferencias: {n}',
    'counter.callNext': 'Llamar siguiente',
    'counter.recall': 'Volver a llamar',
    'counter.start': 'Iniciar atención',
    'counter.finish': 'Finalizar',
    'counter.outcome': 'Resultado de la atención (opcional)',
    'counter.outcomePlaceholder': 'Ej.: trámite completado',
    'counter.noShow': 'No se presentó',
    'counter.park': 'Apartar',
    'counter.transfer': 'Transferir',
    'counter.transferTo': 'Transferir a',
    'counter.pause': 'Pausar',
    'counter.reopen': 'Reanudar',
    'counter.close': 'Cerrar puesto',
    'counter.logout': 'Salir',
    'counter.specificTitle': 'Llamar un turno específico',
    'counter.specificNumber': 'Número de turno',
    'counter.specificNumberPlaceholder': 'Ej.: A-007',
    'counter.specificReason': 'Motivo (obligatorio)',
    'counter.specificReasonNote': 'El motivo queda registrado y se informa a la oficina central.',
    'counter.specificCall': 'Llamar este turno',
    'counter.specificMissingNumber': 'Escriba el número del turno a llamar.',
    'counter.specificMissingReason': 'Indique el motivo del llamado fuera de orden: es obligatorio.',
    'counter.outOfOrder': 'Llamado fuera de orden registrado: {number}. Motivo: «{reason}». Se informará a la oficina central.',
    'counter.skipped': 'Turnos que esperaban antes: {list}.',
    'counter.called': 'Llamó a {number} ({reason}).',
    'counter.parkedTitle': 'Turnos apartados',
    'counter.noParked': 'No hay turnos apartados.',
    'counter.resume': 'Retomar',
    'counter.parkedAt': 'en {counter}',
    'counter.waitingTitle': 'En espera',
    'counter.waitingCount': '{n} en espera',
    'counter.noWaiting': 'No hay turnos en espera.',
    'counter.waited': 'Espera: {n} min',
    'counter.pick': 'Llamar…',
    'counter.pickLabel': 'Preparar llamado específico de {number}',
    'counter.notMine': 'Otro trámite',
    'counter.cancelTicket': 'Anular',
    'counter.cancelTicketLabel': 'Anular el turno {number}',
    'counter.cancelTitle': 'Anular el turno {number}',
    'counter.cancelReason': 'Motivo de la anulación (obligatorio)',
    'counter.cancelConfirm': 'Anular turno',
    'counter.cancelMissing': 'Indique el motivo de la anulación.',
    'counter.cancelled': 'Turno {number} anulado.',
    'counter.alertsTitle': 'Alertas',
    'counter.noAlerts': 'Sin alertas.',
    'counter.alert.legal_wait': '{ticket}: cerca del tiempo máximo de espera legal',
    'counter.alert.device_offline': '{device}: sin conexión',
    'counter.alert.printer_paper_out': '{device}: sin papel — los turnos se muestran en pantalla',
    'counter.alert.printer_paper_low': '{device}: queda poco papel',
    'counter.alert.printer_cover_open': '{device}: tapa abierta',
    'counter.alert.login_locked': '{subject}: ingreso bloqueado por contraseñas erróneas repetidas',
    'counter.alert.address_locked': '{subject}: ingresos bloqueados desde esta dirección por intentos fallidos',
    'counter.alert.kiosk_rate_limited': '{subject}: el kiosco emite turnos demasiado rápido; se rechazan',
    'counter.alert.low_score': '{ticket}: calificó la atención con puntaje bajo y dejó un comentario (vea «Comentarios de la encuesta»)',
    'counter.devicesTitle': 'Dispositivos',
    'counter.colDevice': 'Dispositivo',
    'counter.colDetail': 'Detalle',
    'counter.noDevices': 'No hay dispositivos configurados.',
    'counter.deviceDisplay': 'Pantalla de {counter}',
    'counter.deviceKind.printer': 'Impresora {id}',
    'counter.deviceKind.broker': 'Servidor MQTT',
    'counter.device.online': 'En línea',
    'counter.device.offline': 'Sin conexión',
    'counter.device.unknown': 'Sin datos',
    'counter.paper.ok': 'papel correcto',
    'counter.paper.near_end': 'queda poco papel',
    'counter.paper.out': 'sin papel',
    'counter.paper.cover_open': 'tapa abierta',
    'counter.paper.offline': 'fuera de línea',
    'counter.paper.unknown': 'estado del papel desconocido',
    'counter.alarm': 'Alerta: {number} está cerca del tiempo máximo de espera legal.',
    'counter.recentTitle': 'Últimos llamados',
    'counter.noRecent': 'Todavía no hay llamados.',
    'counter.recentLine': '{counter} · {agent}',
    'counter.outOfOrderBadge': 'Fuera de orden',
    'counter.overviewTitle': 'Puestos de la oficina',
    'counter.colCounter': 'Puesto',
    'counter.colStatus': 'Estado',
    'counter.colAgent': 'Agente',
    'counter.colCurrent': 'Turno',
    'counter.closedGoodbye': 'Puesto cerrado.',
    'counter.counterMissing': 'El puesto elegido ya no existe. Elija otro.',
    'counter.finished': 'Atención de {number} finalizada.',
    'counter.transferred': '{number} transferido a {service}.',
    'counter.parked': '{number} apartado.',
    'counter.noShowDone': '{number} marcado como no presentado.',

    // ---- waiting-room display ----
    'display.title': 'fila — Pantalla de llamados',
    'display.nowCalling': 'Turno llamado',
    'display.goTo': 'Diríjase a',
    'display.history': 'Últimos llamados',
    'display.colTicket': 'Turno',
    'display.colCounter': 'Puesto',
    'display.waitingCalls': 'Esperando el próximo llamado',
    'display.soundOn': 'Sonido activado',
    'display.soundOff': 'Activar sonido',
    'display.soundHint': 'Toque para activar o silenciar los anuncios',
    'display.welcome': 'Bienvenidos',
    'display.signageText': 'Por favor, esté atento a la pantalla. Su número será anunciado junto con el puesto de atención.',
    'display.ticker': 'Conserve su comprobante. Si pierde su llamado, consulte en recepción.',
    'display.srCall': 'Turno {number}, {counter}',

    // ---- tracking page ----
    'track.title': 'fila — Mi turno',
    'track.heading': 'Su turno',
    'track.service': 'Trámite',
    'track.status': 'Estado',
    'track.ahead': 'Personas delante',
    'track.wait': 'Espera estimada',
    'track.updated': 'Actualizado a las {time}',
    'track.s.waiting': 'En espera',
    'track.s.called': '¡Es su turno! Diríjase al {counter}',
    'track.s.calledNoCounter': '¡Es su turno! Diríjase al puesto indicado en pantalla',
    'track.s.calledFem': '¡Es su turno! Diríjase a la {counter}',
    'track.s.serving': 'En atención en el {counter}',
    'track.s.servingFem': 'En atención en la {counter}',
    // Counter names starting with one of these words take "la" instead of "el"
    // ("Diríjase a la Caja 2", "Diríjase al Puesto 4"). Separated by |.
    'grammar.feminineCounterWords': 'caja|ventanilla|mesa|oficina|sala|taquilla|recepción|cabina|estación|posición',
    'track.s.parked': 'En espera: el personal lo volverá a llamar',
    'track.s.finished': 'Atendido. ¡Gracias por su visita!',
    'track.s.no_show': 'Fue llamado y no se presentó. Consulte en recepción.',
    'track.s.cancelled': 'Cancelado',
    'track.aheadNone': 'Nadie: usted es el siguiente',
    'track.cancel': 'Cancelar mi turno',
    'track.cancelQuestion': '¿Seguro que desea cancelar su turno? Perderá su lugar en la fila.',
    'track.cancelYes': 'Sí, cancelar mi turno',
    'track.cancelNo': 'No, conservar mi turno',
    'track.cancelDone': 'Su turno fue cancelado.',
    'track.notFoundTitle': 'No encontramos este turno',
    'track.notFoundText': 'Revise que el enlace esté completo. Los enlaces son válidos solo para el turno del día en que se emitieron.',
    'track.autoRefresh': 'Esta página se actualiza sola.',
    'track.privacy': 'Esta página no muestra datos personales.',
    'track.yourTurnTitle': '¡Su turno! {number}',

    // ---- spoken call (display) ----
    'speech.call': 'Turno {ticket}, {counter}',
    'speech.callNoCounter': 'Turno {ticket}',
    'speech.counter': 'puesto',

    // ---- check-in of a booked appointment (kiosk) ----
    'checkin.open': 'Tengo cita',
    'checkin.title': 'Registre su llegada',
    'checkin.help': 'Escanee el código QR de su cita en el lector, o escriba el código de 8 letras y números que recibió.',
    'checkin.label': 'Código de la cita',
    'checkin.send': 'Registrar llegada',
    'checkin.already': 'Esta cita ya fue registrada. Su turno es {number}.',
    'checkin.too_early': 'Todavía es temprano para su cita. Vuelva a registrarse más cerca de la hora.',
    'checkin.too_late': 'Ya pasó el horario para registrar su cita. Puede sacar un turno normal.',
    'checkin.booking_cancelled': 'Esta cita fue cancelada.',
    'checkin.booking_missed': 'Esta cita ya venció.',
    'checkin.other_day': 'Su cita es para otro día.',
    'checkin.other_office': 'Su cita es en otra oficina.',
    'checkin.unknown': 'No encontramos una cita con ese código. Revíselo o pida ayuda al personal.',

    // ---- contact for notices (kiosk, tracking page) ----
    'contact.title': '¿Quiere que le avisemos?',
    'contact.purpose': 'Le avisaremos cuando su turno esté cerca y cuando lo llamen, y al salir le pediremos su opinión. Usamos este dato solo para este turno y lo borramos después. Es opcional.',
    'contact.label.both': 'Número de celular o correo electrónico',
    'contact.label.sms': 'Número de celular',
    'contact.label.email': 'Correo electrónico',
    'contact.skip': 'No, gracias',
    'contact.send': 'Avisarme',
    'contact.erase': 'Borrar',
    'contact.bad': 'Revise lo que escribió: no parece un número de celular ni un correo.',
    'contact.kept': 'Le enviaremos avisos de este turno.',
    'contact.notKept': 'No pudimos guardar su contacto, pero su turno es válido: esté atento a la pantalla.',
    'contact.trackOffer': 'Recibir avisos de este turno',
    'contact.trackDone': 'Listo: le avisaremos cuando su turno esté cerca.',
    'contact.stopNote': 'Cada mensaje trae un enlace para dejar de recibirlos.',

    // ---- satisfaction survey (tracking page, exit tablet) ----
    'survey.title': '¿Cómo le atendimos?',
    'survey.intro': 'Su opinión nos ayuda a mejorar. Solo toma un minuto y es anónima.',
    'survey.q.satisfaction': '¿Cuán satisfecho quedó con la atención?',
    'survey.q.satisfactionScale': '1 = nada satisfecho, 5 = muy satisfecho',
    'survey.q.recommend': '¿Recomendaría esta oficina?',
    'survey.q.recommendScale': '0 = nada probable, 10 = muy probable',
    'survey.q.resolved': '¿Se resolvió su trámite?',
    'survey.q.comment': '¿Quiere contarnos algo más? (opcional)',
    'survey.commentNote': 'No escriba datos personales.',
    'survey.commentLeft': 'Quedan {n} caracteres.',
    'survey.yes': 'Sí',
    'survey.no': 'No',
    'survey.send': 'Enviar mi opinión',
    'survey.empty': 'Responda al menos una pregunta.',
    'survey.thanks': '¡Gracias! Su opinión quedó registrada.',
    'survey.answered': 'Esta encuesta ya fue respondida. ¡Gracias!',
    'survey.closed': 'El plazo para responder esta encuesta terminó.',
    'survey.notYet': 'La encuesta se abre cuando termine su atención.',
    'survey.printedHint': 'Después de su atención, escanee el código para opinar.',

    // ---- exit tablet ----
    'exit.title': 'fila — Encuesta de salida',
    'exit.heading': '¿Cómo le atendimos?',
    'exit.askNumber': 'Escriba el número de su turno (está en su ticket)',
    'exit.numberLabel': 'Número de turno',
    'exit.next': 'Continuar',
    'exit.erase': 'Borrar',
    'exit.forTicket': 'Turno {number}',
    'exit.noTicket': 'No encontramos ese turno hoy. Revise el número de su ticket.',
    'exit.notFinished': 'Ese turno todavía no terminó su atención.',
    'exit.badNumber': 'Escriba la letra y el número, por ejemplo A-023.',
    'exit.returning': 'Volviendo al inicio en {n} s',
    'exit.startOver': 'Empezar de nuevo',
    'exit.setupTitle': 'Tableta de salida sin configurar',
    'exit.setupText': 'Para el instalador: abra esta página una vez con el token de un quiosco, por ejemplo /exit?token=TOKEN_DEL_DISPOSITIVO. El token se guarda en este equipo.',
    'exit.unauthorized': 'Esta tableta no está autorizada. Por favor, avise al personal.',

    // ---- supervisor: notices and survey comments ----
    'counter.appointmentsTitle': 'Citas de hoy',
    'counter.noAppointments': 'No hay citas hoy.',
    'counter.checkinLabel': 'Registrar la llegada de una cita (código o QR)',
    'counter.checkinSubmit': 'Registrar',
    'counter.checkinDone': 'Cita registrada: turno {number}.',
    'counter.colTime': 'Hora',
    'counter.colService': 'Trámite',
    'counter.appointmentState.booked': 'Reservada',
    'counter.appointmentState.checked_in': 'Registrada',
    'counter.appointmentState.cancelled': 'Cancelada',
    'counter.appointmentState.no_show': 'No se presentó',
    'counter.appointmentState.late': 'Atrasada',
    'counter.colDocument': 'Documento',
    'counter.colNote': 'Nota',
    'counter.appointmentAt': 'Cita {time}',
    'counter.documentEnds': 'Documento terminado en {last4}',
    'counter.appointmentNote': 'Nota: {note}',
    'counter.noticesTitle': 'Mensajes a ciudadanos',
    'counter.signageTitle': 'Pantallas de la sala',
    'counter.signageMedia': '{total} archivos programados; faltan {missing} en el equipo.',
    'counter.urgentText': 'Mensaje urgente',
    'counter.urgentMinutes': 'Minutos',
    'counter.urgentSend': 'Mostrar en pantallas',
    'counter.urgentUntil': 'hasta las {time} ({by})',
    'counter.urgentEnd': 'Terminar',
    'counter.noNotices': 'Todavía no se envió ningún mensaje hoy.',
    'counter.colTicket': 'Turno',
    'counter.colKind': 'Mensaje',
    'counter.colMedium': 'Vía',
    'counter.colNoticeState': 'Estado',
    'counter.colReason': 'Motivo',
    'counter.noticeKind.turn_near': 'Turno cerca',
    'counter.noticeKind.called': 'Llamado',
    'counter.noticeKind.survey_invite': 'Encuesta',
    'counter.noticeState.queued': 'En cola',
    'counter.noticeState.sending': 'Enviando',
    'counter.noticeState.sent': 'Enviado',
    'counter.noticeState.failed': 'Falló',
    'counter.noticeCounts': '{sent} enviados · {queued} en cola · {failed} fallidos',
    'counter.commentsTitle': 'Comentarios de la encuesta',
    'counter.noComments': 'Sin comentarios todavía.',
    'counter.commentScore': 'Satisfacción {n}/5',
    'counter.commentLow': 'Puntaje bajo',
  };

  const en = {
    'app.name': 'fila',
    'app.tagline': 'Queue management',
    'lang.label': 'Language',
    'lang.es': 'Español',
    'lang.en': 'English',
    'common.loading': 'Loading…',
    'common.retrying': 'Could not reach the server. Retrying…',
    'common.back': 'Back',
    'common.cancel': 'Cancel',
    'common.close': 'Close',
    'common.dismiss': 'Dismiss message',
    'common.minutes': '{n} min',
    'common.minutesRange': '{low}–{high} min',
    'room.occupancy': 'Room {present}/{capacity}',
    'counter.roomCount': 'Room {present}/{capacity} · outside {away}',
    'kiosk.closed': 'The office is closed.',
    'kiosk.closing': 'We can no longer serve a new ticket before closing time.',
    'kiosk.nextOpening': 'We open again on {at}.',
    'kiosk.waitOutside': 'The room is full: please wait outside. We will tell you when to come in; follow your turn with the QR code.',
    'track.away': 'You are waiting outside the room. When you arrive, tell us: tap “I’m here” or scan your ticket at the kiosk.',
    'track.here': "I'm here",
    'track.hereDone': 'Thank you: you now count in the room.',
    'track.comeNow': 'Time to come! Your turn is near.',
    'common.lessThanMinute': 'Less than 1 min',
    'common.none': '—',
    'common.offline': 'Offline',
    'common.offlineLong': 'No connection to the server. Reconnecting…',

    'class.normal': 'General',
    'class.preferential': 'Priority',
    'class.appointment': 'Appointment',
    'status.waiting': 'Waiting',
    'status.called': 'Called',
    'status.serving': 'Being served',
    'status.parked': 'Parked',
    'status.finished': 'Served',
    'status.no_show': 'No-show',
    'status.cancelled': 'Cancelled',
    'counterStatus.closed': 'Closed',
    'counterStatus.open': 'Open',
    'counterStatus.paused': 'Paused',
    'reason.first_come_first_served': 'First come, first served',
    'reason.preferential': 'Priority service',
    'reason.preferential_at_legal_limit': 'Priority at legal limit',
    'reason.appointment_due': 'Appointment due',
    'reason.anti_starvation': 'Long wait',
    'reason.specific': 'Specific call',
    'reason.resumed': 'Resumed',

    'error.network': 'No connection to the server.',
    'error.generic': 'Something went wrong ({code}).',
    'error.sessionExpired': 'Your session has expired. Please sign in again.',

    'home.title': 'fila — Home',
    'home.heading': 'Welcome',
    'home.day': 'Business day {day}',
    'home.kiosk': 'Ticket kiosk',
    'home.kioskDesc': 'Touch screen where citizens take a ticket.',
    'home.counter': 'Counter console',
    'home.counterDesc': 'For agents and supervisors: call and serve tickets.',
    'home.display': 'Waiting-room display',
    'home.displayDesc': 'Shows and announces calls in the waiting room.',
    'home.exit': 'Exit survey',
    'home.exitDesc': 'Tablet by the door: citizens rate their visit with their ticket number.',
    'home.officeError': 'Could not load the office name.',
    'home.footer': 'fila — office queue management',

    'kiosk.title': 'fila — Kiosk',
    'kiosk.welcome': 'Welcome',
    'kiosk.chooseService': 'Tap the service you need',
    'kiosk.noServices': 'No services are available right now.',
    'kiosk.servicePrefix': 'Tickets {prefix}',
    'kiosk.priorityQuestion': 'Are you entitled to priority service?',
    'kiosk.priorityHelp': 'If so, choose your category. Otherwise tap “No”.',
    'kiosk.priorityNo': 'No',
    'kiosk.priorityNoSub': 'Regular ticket',
    'kiosk.chosenService': 'Service: {service}',
    'kiosk.issuing': 'Issuing your ticket…',
    'kiosk.yourTicket': 'Your ticket',
    'kiosk.issuedAt': 'Issued at {time}',
    'kiosk.ahead': 'People ahead',
    'kiosk.wait': 'Estimated wait',
    'kiosk.waitUnknown': 'No estimate',
    'kiosk.printed': 'Please take your printed ticket.',
    'kiosk.notPrinted': 'The printer is not available: this screen is your ticket. Note the number or scan the code with your phone.',
    'kiosk.trackLabel': 'Follow your ticket on your phone:',
    'kiosk.trackLabelQr': 'Scan the code with your phone to follow your ticket, or go to:',
    'kiosk.qrLabel': 'QR code with the link to follow your ticket',
    'kiosk.instructions': 'Watch the screen: it will show your number and the counter to go to.',
    'kiosk.done': 'Done',
    'kiosk.returning': 'Returning to start in {n} s',
    'kiosk.errorTitle': 'We could not issue your ticket',
    'kiosk.errorHelp': 'Please try again or ask the office staff for help.',
    'kiosk.errorUnauthorized': 'This kiosk is not authorised to issue tickets. Please tell the staff.',
    'kiosk.errorDetail': 'Technical detail: {detail}',
    'kiosk.tryAgain': 'Back to start',
    'kiosk.setupTitle': 'Kiosk not configured',
    'kiosk.setupText': 'This kiosk has no device token yet, so it cannot issue tickets.',
    'kiosk.setupHowto': 'For the installer: open this page once with the device token in the address, for example:',
    'kiosk.setupExample': '/kiosk?token=DEVICE_TOKEN',
    'kiosk.setupNote': 'The token is stored on this device and removed from the address bar.',
    'kiosk.connecting': 'Connecting to the queue system…',

    'counter.title': 'fila — Counter console',
    'counter.loginTitle': 'Staff sign-in',
    'counter.user': 'Username',
    'counter.password': 'Password',
    'counter.login': 'Sign in',
    'counter.loginMissing': 'Enter your username and password.',
    'counter.loginLocked': 'Too many failed attempts: signing in is locked for a while. Try again later.',
    'counter.loggedAs': '{name} · {role}',
    'role.agent': 'Agent',
    'role.supervisor': 'Supervisor',
    'role.admin': 'Administrator',
    'counter.selectTitle': 'Choose your counter',
    'counter.selectLabel': 'Counter',
    'counter.signIn': 'Open counter',
    'counter.supervise': 'Supervise only (no counter)',
    'counter.openBy': '{status}, {agent}',
    'counter.takenWarning': 'Note: this counter is open by {agent}. If you open it, it will be assigned to you.',
    'counter.services': 'Services: {list}',
    'counter.changeCounter': 'Change counter',
    'counter.noCounter': 'Supervising (no counter)',
    'counter.status': 'Counter status',
    'counter.current': 'Current ticket',
    'counter.idle': 'No ticket in progress',
    'counter.calledAt': 'Called at {time}',
    'counter.recalls': 'Recalls: {n}',
    'counter.transfers': 'Transfers: {n}',
    'counter.callNext': 'Call next',
    'counter.recall': 'Recall',
    'counter.start': 'Start service',
    'counter.finish': 'Finish',
    'counter.outcome': 'Outcome (optional)',
    'counter.outcomePlaceholder': 'e.g. request completed',
    'counter.noShow': 'No-show',
    'counter.park': 'Park',
    'counter.transfer': 'Transfer',
    'counter.transferTo': 'Transfer to',
    'counter.pause': 'Pause',
    'counter.reopen': 'Reopen',
    'counter.close': 'Close counter',
    'counter.logout': 'Log out',
    'counter.specificTitle': 'Call a specific ticket',
    'counter.specificNumber': 'Ticket number',
    'counter.specificNumberPlaceholder': 'e.g. A-007',
    'counter.specificReason': 'Reason (required)',
    'counter.specificReasonNote': 'The reason is recorded and reported to headquarters.',
    'counter.specificCall': 'Call this ticket',
    'counter.specificMissingNumber': 'Type the number of the ticket to call.',
    'counter.specificMissingReason': 'A reason for calling out of order is required.',
    'counter.outOfOrder': 'Out-of-order call recorded: {number}. Reason: “{reason}”. It will be reported to headquarters.',
    'counter.skipped': 'Tickets that were waiting before it: {list}.',
    'counter.called': 'Called {number} ({reason}).',
    'counter.parkedTitle': 'Parked tickets',
    'counter.noParked': 'No parked tickets.',
    'counter.resume': 'Resume',
    'counter.parkedAt': 'at {counter}',
    'counter.waitingTitle': 'Waiting',
    'counter.waitingCount': '{n} waiting',
    'counter.noWaiting': 'Nobody is waiting.',
    'counter.waited': 'Waiting: {n} min',
    'counter.pick': 'Call…',
    'counter.pickLabel': 'Prepare a specific call of {number}',
    'counter.notMine': 'Other service',
    'counter.cancelTicket': 'Cancel',
    'counter.cancelTicketLabel': 'Cancel ticket {number}',
    'counter.cancelTitle': 'Cancel ticket {number}',
    'counter.cancelReason': 'Reason for cancelling (required)',
    'counter.cancelConfirm': 'Cancel ticket',
    'counter.cancelMissing': 'Enter the reason for cancelling.',
    'counter.cancelled': 'Ticket {number} cancelled.',
    'counter.alertsTitle': 'Alerts',
    'counter.noAlerts': 'No alerts.',
    'counter.alert.legal_wait': '{ticket}: close to the legal maximum wait',
    'counter.alert.device_offline': '{device}: offline',
    'counter.alert.printer_paper_out': '{device}: out of paper — tickets are shown on screen',
    'counter.alert.printer_paper_low': '{device}: paper running low',
    'counter.alert.printer_cover_open': '{device}: cover open',
    'counter.alert.login_locked': '{subject}: sign-in locked after repeated wrong passwords',
    'counter.alert.address_locked': '{subject}: sign-ins from this address locked after failed attempts',
    'counter.alert.kiosk_rate_limited': '{subject}: kiosk issuing tickets too fast; tickets refused',
    'counter.alert.low_score': '{ticket}: rated the visit low and left a comment (see “Survey comments”)',
    'counter.devicesTitle': 'Devices',
    'counter.colDevice': 'Device',
    'counter.colDetail': 'Detail',
    'counter.noDevices': 'No devices configured.',
    'counter.deviceDisplay': 'Display of {counter}',
    'counter.deviceKind.printer': 'Printer {id}',
    'counter.deviceKind.broker': 'MQTT broker',
    'counter.device.online': 'Online',
    'counter.device.offline': 'Offline',
    'counter.device.unknown': 'No data',
    'counter.paper.ok': 'paper ok',
    'counter.paper.near_end': 'paper running low',
    'counter.paper.out': 'out of paper',
    'counter.paper.cover_open': 'cover open',
    'counter.paper.offline': 'offline',
    'counter.paper.unknown': 'paper state unknown',
    'counter.alarm': 'Alert: {number} is close to the legal maximum wait.',
    'counter.recentTitle': 'Recent calls',
    'counter.noRecent': 'No calls yet.',
    'counter.recentLine': '{counter} · {agent}',
    'counter.outOfOrderBadge': 'Out of order',
    'counter.overviewTitle': 'Office counters',
    'counter.colCounter': 'Counter',
    'counter.colStatus': 'Status',
    'counter.colAgent': 'Agent',
    'counter.colCurrent': 'Ticket',
    'counter.closedGoodbye': 'Counter closed.',
    'counter.counterMissing': 'The chosen counter no longer exists. Choose another one.',
    'counter.finished': 'Finished serving {number}.',
    'counter.transferred': '{number} transferred to {service}.',
    'counter.parked': '{number} parked.',
    'counter.noShowDone': '{number} marked as no-show.',

    'display.title': 'fila — Call display',
    'display.nowCalling': 'Now calling',
    'display.goTo': 'Please go to',
    'display.history': 'Recent calls',
    'display.colTicket': 'Ticket',
    'display.colCounter': 'Counter',
    'display.waitingCalls': 'Waiting for the next call',
    'display.soundOn': 'Sound on',
    'display.soundOff': 'Enable sound',
    'display.soundHint': 'Tap to enable or mute announcements',
    'display.welcome': 'Welcome',
    'display.signageText': 'Please watch this screen. Your number will be announced together with the counter.',
    'display.ticker': 'Keep your ticket. If you miss your call, please ask at reception.',
    'display.srCall': 'Ticket {number}, {counter}',

    'track.title': 'fila — My ticket',
    'track.heading': 'Your ticket',
    'track.service': 'Service',
    'track.status': 'Status',
    'track.ahead': 'People ahead',
    'track.wait': 'Estimated wait',
    'track.updated': 'Updated at {time}',
    'track.s.waiting': 'Waiting',
    'track.s.called': "It's your turn! Please go to {counter}",
    'track.s.calledNoCounter': "It's your turn! Please go to the counter shown on the screen",
    'track.s.calledFem': "It's your turn! Please go to {counter}",
    'track.s.serving': 'Being served at {counter}',
    'track.s.servingFem': 'Being served at {counter}',
    'grammar.feminineCounterWords': '',
    'track.s.parked': 'On hold: the staff will call you again',
    'track.s.finished': 'Served. Thank you for your visit!',
    'track.s.no_show': 'You were called but did not show up. Please ask at reception.',
    'track.s.cancelled': 'Cancelled',
    'track.aheadNone': "Nobody: you're next",
    'track.cancel': 'Cancel my ticket',
    'track.cancelQuestion': 'Are you sure you want to cancel your ticket? You will lose your place in line.',
    'track.cancelYes': 'Yes, cancel my ticket',
    'track.cancelNo': 'No, keep my ticket',
    'track.cancelDone': 'Your ticket has been cancelled.',
    'track.notFoundTitle': 'We could not find this ticket',
    'track.notFoundText': 'Check that the link is complete. Links are only valid for the ticket of the day they were issued.',
    'track.autoRefresh': 'This page updates by itself.',
    'track.privacy': 'This page shows no personal data.',
    'track.yourTurnTitle': 'Your turn! {number}',

    'speech.call': 'Ticket {ticket}, {counter}',
    'speech.callNoCounter': 'Ticket {ticket}',
    'speech.counter': 'counter',

    'checkin.open': 'I have an appointment',
    'checkin.title': 'Check in',
    'checkin.help': 'Scan your appointment\'s QR code at the reader, or type the 8-character code you received.',
    'checkin.label': 'Appointment code',
    'checkin.send': 'Check in',
    'checkin.already': 'This appointment is checked in already. Your ticket is {number}.',
    'checkin.too_early': 'It is too early for your appointment. Please check in closer to its time.',
    'checkin.too_late': 'The time to check in for your appointment has passed. You can take a regular ticket.',
    'checkin.booking_cancelled': 'This appointment was cancelled.',
    'checkin.booking_missed': 'This appointment has expired.',
    'checkin.other_day': 'Your appointment is on another day.',
    'checkin.other_office': 'Your appointment is at another office.',
    'checkin.unknown': 'We found no appointment with that code. Please check it or ask the staff.',
    'contact.title': 'Shall we let you know?',
    'contact.purpose': 'We will tell you when your turn is near and when you are called, and ask for your opinion when you leave. We use this only for this ticket and delete it afterwards. It is optional.',
    'contact.label.both': 'Mobile number or e-mail',
    'contact.label.sms': 'Mobile number',
    'contact.label.email': 'E-mail',
    'contact.skip': 'No, thanks',
    'contact.send': 'Notify me',
    'contact.erase': 'Delete',
    'contact.bad': 'Please check what you typed: it does not look like a mobile number or an e-mail.',
    'contact.kept': 'We will send you notices about this ticket.',
    'contact.notKept': 'We could not keep your contact, but your ticket is valid: please watch the screen.',
    'contact.trackOffer': 'Get notices about this ticket',
    'contact.trackDone': 'Done: we will tell you when your turn is near.',
    'contact.stopNote': 'Every message has a link to stop them.',

    'survey.title': 'How did we do?',
    'survey.intro': 'Your opinion helps us improve. It takes a minute and it is anonymous.',
    'survey.q.satisfaction': 'How satisfied were you with the service?',
    'survey.q.satisfactionScale': '1 = not at all, 5 = very satisfied',
    'survey.q.recommend': 'Would you recommend this office?',
    'survey.q.recommendScale': '0 = not at all likely, 10 = very likely',
    'survey.q.resolved': 'Was your procedure resolved?',
    'survey.q.comment': 'Anything else you want to tell us? (optional)',
    'survey.commentNote': 'Please do not write personal data.',
    'survey.commentLeft': '{n} characters left.',
    'survey.yes': 'Yes',
    'survey.no': 'No',
    'survey.send': 'Send my opinion',
    'survey.empty': 'Please answer at least one question.',
    'survey.thanks': 'Thank you! Your opinion was recorded.',
    'survey.answered': 'This survey has been answered already. Thank you!',
    'survey.closed': 'The time to answer this survey is over.',
    'survey.notYet': 'The survey opens once you have been served.',
    'survey.printedHint': 'After your visit, scan the code to rate it.',

    'exit.title': 'fila — Exit survey',
    'exit.heading': 'How did we do?',
    'exit.askNumber': 'Type your ticket number (it is on your ticket)',
    'exit.numberLabel': 'Ticket number',
    'exit.next': 'Continue',
    'exit.erase': 'Delete',
    'exit.forTicket': 'Ticket {number}',
    'exit.noTicket': 'We could not find that ticket today. Please check the number on your ticket.',
    'exit.notFinished': 'That ticket has not been served yet.',
    'exit.badNumber': 'Type the letter and the number, for example A-023.',
    'exit.returning': 'Back to the start in {n} s',
    'exit.startOver': 'Start over',
    'exit.setupTitle': 'Exit tablet not set up',
    'exit.setupText': 'For the installer: open this page once with a kiosk token, for example /exit?token=DEVICE_TOKEN. The token is kept on this device.',
    'exit.unauthorized': 'This tablet is not authorised. Please tell the staff.',

    'counter.appointmentsTitle': 'Today\'s appointments',
    'counter.noAppointments': 'No appointments today.',
    'counter.checkinLabel': 'Check an appointment in (code or QR)',
    'counter.checkinSubmit': 'Check in',
    'counter.checkinDone': 'Checked in: ticket {number}.',
    'counter.colTime': 'Time',
    'counter.colService': 'Service',
    'counter.appointmentState.booked': 'Booked',
    'counter.appointmentState.checked_in': 'Checked in',
    'counter.appointmentState.cancelled': 'Cancelled',
    'counter.appointmentState.no_show': 'No-show',
    'counter.appointmentState.late': 'Late',
    'counter.colDocument': 'Document',
    'counter.colNote': 'Note',
    'counter.appointmentAt': 'Appointment {time}',
    'counter.documentEnds': 'Document ending in {last4}',
    'counter.appointmentNote': 'Note: {note}',
    'counter.noticesTitle': 'Messages to citizens',
    'counter.signageTitle': 'Waiting-room screens',
    'counter.signageMedia': '{total} files scheduled; {missing} still missing on the box.',
    'counter.urgentText': 'Urgent message',
    'counter.urgentMinutes': 'Minutes',
    'counter.urgentSend': 'Show on screens',
    'counter.urgentUntil': 'until {time} ({by})',
    'counter.urgentEnd': 'End',
    'counter.noNotices': 'No message has been sent yet today.',
    'counter.colTicket': 'Ticket',
    'counter.colKind': 'Message',
    'counter.colMedium': 'By',
    'counter.colNoticeState': 'State',
    'counter.colReason': 'Reason',
    'counter.noticeKind.turn_near': 'Turn near',
    'counter.noticeKind.called': 'Called',
    'counter.noticeKind.survey_invite': 'Survey',
    'counter.noticeState.queued': 'Queued',
    'counter.noticeState.sending': 'Sending',
    'counter.noticeState.sent': 'Sent',
    'counter.noticeState.failed': 'Failed',
    'counter.noticeCounts': '{sent} sent · {queued} queued · {failed} failed',
    'counter.commentsTitle': 'Survey comments',
    'counter.noComments': 'No comments yet.',
    'counter.commentScore': 'Satisfaction {n}/5',
    'counter.commentLow': 'Low score',
  };

  const DICTS = { es, en };
  const DEFAULT_LANG = 'es';
  let override = null; // set by setLang() for pages that switch without reloading (kiosk)

  function normalizeLang(value) {
    const v = String(value || '').toLowerCase().slice(0, 2);
    return Object.prototype.hasOwnProperty.call(DICTS, v) ? v : null;
  }

  /** Page language: in-page override, then ?lang=, then localStorage fila.lang, then Spanish. */
  function lang() {
    if (override) return override;
    try {
      if (typeof location !== 'undefined') {
        const q = normalizeLang(new URLSearchParams(location.search).get('lang'));
        if (q) return q;
      }
    } catch (_) { /* no location (node) */ }
    try {
      if (typeof localStorage !== 'undefined') {
        const s = normalizeLang(localStorage.getItem('fila.lang'));
        if (s) return s;
      }
    } catch (_) { /* storage can be disabled */ }
    return DEFAULT_LANG;
  }

  /** Changes the language for this page view only (nothing is persisted). */
  function setLang(value) {
    override = normalizeLang(value);
    return lang();
  }

  function fill(text, vars) {
    if (!vars) return text;
    return text.replace(/\{(\w+)\}/g, (m, name) =>
      Object.prototype.hasOwnProperty.call(vars, name) && vars[name] != null ? String(vars[name]) : m);
  }

  /** Translation in an explicit language; falls back to Spanish, then to the key itself. */
  function tl(language, key, vars) {
    const dict = DICTS[normalizeLang(language) || DEFAULT_LANG];
    let text = dict[key];
    if (text === undefined) text = DICTS[DEFAULT_LANG][key];
    if (text === undefined) return key;
    return fill(text, vars);
  }

  function t(key, vars) {
    return tl(lang(), key, vars);
  }

  /** True when the key exists in the current (or default) language. */
  function has(key) {
    return DICTS[lang()][key] !== undefined || DICTS[DEFAULT_LANG][key] !== undefined;
  }

  // ---------------------------------------------------------------------------
  // Number to words. Ticket numbers go to 999; counters may in theory be larger,
  // so both functions accept 0..999 999 and fall back to digits beyond that.

  const ES_SMALL = ['cero', 'uno', 'dos', 'tres', 'cuatro', 'cinco', 'seis', 'siete', 'ocho', 'nueve',
    'diez', 'once', 'doce', 'trece', 'catorce', 'quince', 'dieciséis', 'diecisiete', 'dieciocho', 'diecinueve',
    'veinte', 'veintiuno', 'veintidós', 'veintitrés', 'veinticuatro', 'veinticinco', 'veintiséis', 'veintisiete',
    'veintiocho', 'veintinueve'];
  const ES_TENS = ['', '', '', 'treinta', 'cuarenta', 'cincuenta', 'sesenta', 'setenta', 'ochenta', 'noventa'];
  const ES_HUNDREDS = ['', 'ciento', 'doscientos', 'trescientos', 'cuatrocientos', 'quinientos', 'seiscientos',
    'setecientos', 'ochocientos', 'novecientos'];

  function esBelowThousand(n) {
    if (n < 30) return ES_SMALL[n];
    if (n < 100) {
      const unit = n % 10;
      return ES_TENS[Math.floor(n / 10)] + (unit ? ' y ' + ES_SMALL[unit] : '');
    }
    if (n === 100) return 'cien';
    const rest = n % 100;
    return ES_HUNDREDS[Math.floor(n / 100)] + (rest ? ' ' + esBelowThousand(rest) : '');
  }

  function numberToWordsEs(value) {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 999999) return String(value);
    if (n < 1000) return esBelowThousand(n);
    const thousands = Math.floor(n / 1000);
    const rest = n % 1000;
    // "uno" shortens before "mil": veintiún mil, treinta y un mil, ciento un mil.
    let head = thousands === 1 ? 'mil'
      : esBelowThousand(thousands).replace(/veintiuno$/, 'veintiún').replace(/uno$/, 'un') + ' mil';
    return head + (rest ? ' ' + esBelowThousand(rest) : '');
  }

  const EN_SMALL = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten',
    'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
  const EN_TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

  function enBelowThousand(n) {
    if (n < 20) return EN_SMALL[n];
    if (n < 100) {
      const unit = n % 10;
      return EN_TENS[Math.floor(n / 10)] + (unit ? '-' + EN_SMALL[unit] : '');
    }
    const rest = n % 100;
    return EN_SMALL[Math.floor(n / 100)] + ' hundred' + (rest ? ' ' + enBelowThousand(rest) : '');
  }

  function numberToWordsEn(value) {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 999999) return String(value);
    if (n < 1000) return enBelowThousand(n);
    const rest = n % 1000;
    return enBelowThousand(Math.floor(n / 1000)) + ' thousand' + (rest ? ' ' + enBelowThousand(rest) : '');
  }

  function numberToWords(n, language) {
    return (normalizeLang(language) || lang()) === 'en' ? numberToWordsEn(n) : numberToWordsEs(n);
  }

  /**
   * Words for the digit part of a ticket number. Spanish callers read the
   * leading zeros ("cero veintitrés") because that is how the printed ticket
   * looks; English callers drop them ("twenty-three").
   */
  function ticketDigitsToWords(digits, language) {
    const n = parseInt(digits, 10);
    if (language !== 'es') return numberToWordsEn(n);
    const significant = digits.replace(/^0+/, '');
    if (!significant) return digits.split('').map(() => 'cero').join(' ');
    const zeros = digits.length - significant.length;
    const words = [];
    for (let i = 0; i < zeros; i++) words.push('cero');
    words.push(numberToWordsEs(n));
    return words.join(' ');
  }

  /**
   * The sentence the waiting-room display speaks, e.g.
   *   spokenCall('A-023', '4', 'es') → "Turno A cero veintitrés, puesto cuatro"
   *   spokenCall('A-023', '4', 'en') → "Ticket A twenty-three, counter four"
   * A numeric counter id is read as "puesto/counter <number>"; anything else
   * (e.g. "Caja rápida") is read as given.
   */
  function spokenCall(number, counterIdOrName, language) {
    const lng = normalizeLang(language) || lang();
    const raw = String(number == null ? '' : number).trim();
    const m = /^([A-Za-z]+)\s*[-\s]?\s*(\d+)$/.exec(raw);
    let ticket = raw;
    if (m) {
      // Letters are separated so speech engines spell "AB" instead of reading a word.
      const letters = m[1].toUpperCase().split('').join(' ');
      ticket = letters + ' ' + ticketDigitsToWords(m[2], lng);
    } else if (/^\d+$/.test(raw)) {
      ticket = ticketDigitsToWords(raw, lng);
    }
    const c = String(counterIdOrName == null ? '' : counterIdOrName).trim();
    let counter = c;
    if (/^\d+$/.test(c)) {
      counter = tl(lng, 'speech.counter') + ' ' + numberToWords(parseInt(c, 10), lng);
    }
    return counter ? tl(lng, 'speech.call', { ticket, counter }) : tl(lng, 'speech.callNoCounter', { ticket });
  }

  const api = { FILA_I18N: DICTS, t, tl, has, lang, setLang, numberToWords, numberToWordsEs, numberToWordsEn, spokenCall };

  if (typeof module === 'object' && module.exports) module.exports = api;
  if (root) {
    root.FILA_I18N = DICTS;
    root.t = t;
    root.tl = tl;
    root.lang = lang;
    root.setLang = setLang;
    root.numberToWords = numberToWords;
    root.numberToWordsEs = numberToWordsEs;
    root.numberToWordsEn = numberToWordsEn;
    root.spokenCall = spokenCall;
    root.FilaI18n = api;
  }
})(typeof window !== 'undefined' ? window : (typeof globalThis !== 'undefined' ? globalThis : null));
