// Booking an appointment at central (/citas), and a booking's own page (/b/<token>), whose
// link is the booking's private credential. Plain DOM, no framework, nothing from elsewhere.
"use strict";

const STRINGS = {
  es: {
    app: "Citas", title: "Pedir una cita", office: "Oficina", service: "Trámite", day: "Día", slot: "Horario",
    noSlots: "No quedan horarios ese día. Pruebe otro día.", loading: "Cargando…",
    whoWhy: "Su cita queda a su nombre: en la oficina pueden pedirle el documento. Usamos su contacto solo para esta cita y lo borramos después.",
    docType: "Tipo de documento", passport: "Pasaporte", foreign: "Documento de extranjero",
    docNumber: "Número de documento", contact: "Correo electrónico", contactAny: "Correo electrónico o número de móvil", contactSms: "Número de móvil",
    note: "¿Qué necesita hacer? (opcional, para que la oficina se prepare)", noteHelp: "No escriba datos personales.",
    request: "Recibir el código", codeSent: "Le enviamos un código de 6 cifras. Escríbalo para confirmar la cita.",
    code: "Código", confirm: "Confirmar la cita", done: "Su cita",
    showQr: "Muestre este código en el quiosco de la oficina, o escriba:",
    ics: "Agregar a mi calendario (.ics)", keepLink: "Guarde el enlace de esta página: con él puede ver o cancelar su cita.",
    cancel: "Cancelar la cita", cancelSure: "¿Seguro que quiere cancelar su cita?", cancelled: "La cita está cancelada.",
    documents: "Qué traer", fees: "Costos", forms: "Formularios", free: (n) => (n === 1 ? "1 lugar" : `${n} lugares`), full: "completo",
    summary: (b) => `${b.service_name || b.service}, ${b.day} a las ${b.start} — ${b.office_name || b.office}${b.office_address ? ", " + b.office_address : ""}`,
    states: { booked: "Reservada", cancelled: "Cancelada", checked_in: "Registrada en la oficina", no_show: "Vencida" },
    failed: "No se pudo completar. Inténtelo de nuevo en un momento.", missing: "Esta cita no existe. Revise el enlace.",
    waitWhy: "Si se libera un horario entre ese día y la fecha que elija, se lo ofrecemos por mensaje, por orden de llegada.",
    waitUntil: "Puedo venir hasta el", waitJoin: "Anotarme en la lista de espera", waitTitle: "Lista de espera",
    waitSummary: (w) => `${w.service}, entre el ${w.from} y el ${w.until}`,
    waitStates: {
      waiting: (w) => `En espera: su lugar es el ${w.position}.`,
      offered: (w) => `Le ofrecimos el ${w.offer.day} a las ${w.offer.start}: confírmelo con el enlace del mensaje que le enviamos antes de las ${new Date(w.offer.expires_at).toLocaleTimeString("es", { hour: "2-digit", minute: "2-digit" })}.`,
      taken: () => "Tomó el horario ofrecido: su cita está confirmada.",
      lapsed: () => "El horario ofrecido no se confirmó a tiempo y pasó al siguiente.",
      left: () => "Salió de la lista de espera.", expired: () => "Pasó la última fecha sin horarios libres.",
    },
    waitKeepLink: "Guarde el enlace de esta página: con él ve su lugar en la lista o sale de ella.",
    waitLeave: "Salir de la lista de espera", waitLeaveSure: "¿Seguro que quiere salir de la lista de espera?",
    move: "Cambiar día u hora", moveDay: "Nuevo día", back: "Volver", moved: "La cita cambió: estos son sus nuevos códigos.",
    lang: "English", langCode: "en",
  },
  en: {
    app: "Appointments", title: "Book an appointment", office: "Office", service: "Procedure", day: "Day", slot: "Time",
    noSlots: "No times are left that day. Please try another day.", loading: "Loading…",
    whoWhy: "The appointment is in your name: the office may ask for your document. We use your contact only for this appointment and delete it afterwards.",
    docType: "Document type", passport: "Passport", foreign: "Foreigner's document",
    docNumber: "Document number", contact: "E-mail", contactAny: "E-mail or mobile number", contactSms: "Mobile number",
    note: "What do you need to do? (optional, so the office can prepare)", noteHelp: "Please do not write personal data.",
    request: "Send me the code", codeSent: "We sent you a 6-digit code. Type it to confirm the appointment.",
    code: "Code", confirm: "Confirm the appointment", done: "Your appointment",
    showQr: "Show this code at the office's kiosk, or type:",
    ics: "Add to my calendar (.ics)", keepLink: "Keep this page's link: with it you can see or cancel your appointment.",
    cancel: "Cancel the appointment", cancelSure: "Are you sure you want to cancel your appointment?", cancelled: "The appointment is cancelled.",
    documents: "What to bring", fees: "Fees", forms: "Forms", free: (n) => (n === 1 ? "1 place" : `${n} places`), full: "full",
    summary: (b) => `${b.service_name || b.service}, ${b.day} at ${b.start} — ${b.office_name || b.office}${b.office_address ? ", " + b.office_address : ""}`,
    states: { booked: "Booked", cancelled: "Cancelled", checked_in: "Checked in at the office", no_show: "Expired" },
    failed: "It could not be done. Please try again in a moment.", missing: "This appointment does not exist. Please check the link.",
    waitWhy: "If a time frees up between that day and the date you choose, we offer it to you by message, first come first served.",
    waitUntil: "I can come until", waitJoin: "Join the waiting list", waitTitle: "Waiting list",
    waitSummary: (w) => `${w.service}, between ${w.from} and ${w.until}`,
    waitStates: {
      waiting: (w) => `Waiting: you are number ${w.position} in line.`,
      offered: (w) => `We offered you ${w.offer.day} at ${w.offer.start}: confirm it with the link in our message before ${new Date(w.offer.expires_at).toLocaleTimeString("en", { hour: "2-digit", minute: "2-digit" })}.`,
      taken: () => "You took the offered time: your appointment is confirmed.",
      lapsed: () => "The offered time was not confirmed in time and went to the next in line.",
      left: () => "You left the waiting list.", expired: () => "Your last date passed with no time free.",
    },
    waitKeepLink: "Keep this page's link: with it you see your place in line or leave it.",
    waitLeave: "Leave the waiting list", waitLeaveSure: "Are you sure you want to leave the waiting list?",
    move: "Change day or time", moveDay: "New day", back: "Back", moved: "The appointment changed: these are your new codes.",
    lang: "Español", langCode: "es",
  },
};

const params = new URLSearchParams(location.search);
// Spanish unless English is asked for (the link at the top keeps the choice).
const lang = params.get("lang") === "en" ? "en" : "es";
const t = STRINGS[lang];
const $ = (id) => document.getElementById(id);
const manageToken = location.pathname.startsWith("/b/") ? decodeURIComponent(location.pathname.slice(3)) : null;
const waitToken = location.pathname.startsWith("/w/") ? decodeURIComponent(location.pathname.slice(3)) : null;
// A waiting-list offer's link: /citas#offer=<hold>.<token> (a fragment never reaches a server log).
const offer = location.hash.startsWith("#offer=") ? location.hash.slice(7).split(".") : null;
const chosen = { office: null, service: null, day: null, start: null, hold: null, until: null };

function el(tag, props, children) {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  for (const child of children || []) node.append(child);
  return node;
}

function translate() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-t]")) {
    if (typeof t[node.dataset.t] === "string") node.textContent = t[node.dataset.t];
  }
  document.title = "fila — " + t.title;
  $("lang").textContent = t.lang;
  $("lang").lang = t.langCode;
  $("lang").href = "?lang=" + t.langCode;
}

function say(text) {
  $("status").textContent = text || "";
}

function fail(text) {
  $("error").textContent = text;
  $("error").hidden = !text;
}

async function call(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: body ? { "Content-Type": "application/json", Accept: "application/json" } : { Accept: "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new Error(t.failed);
  }
  const data = await response.json().catch(() => ({}));
  // The server names the problem (a full slot, a limit reached) in its message.
  if (!response.ok) throw Object.assign(new Error(data.message || t.failed), { status: response.status });
  return data;
}

function show(step) {
  for (const id of ["step-service", "step-slot", "step-who", "step-code", "step-done", "step-move", "step-waiting"]) {
    $(id).hidden = !step.includes(id);
  }
}

function requirementsList(requirements) {
  const box = el("div");
  if (!requirements) return box;
  for (const key of ["documents", "fees", "forms"]) {
    const items = requirements[key] || [];
    if (!items.length) continue;
    box.append(el("h3", { textContent: t[key] }), el("ul", {}, items.map((item) => el("li", { textContent: item }))));
  }
  return box;
}

async function loadOffices() {
  say(t.loading);
  const offices = await call("GET", "/api/v1/public/offices");
  $("office").replaceChildren(...offices.map((o) => el("option", { value: o.id, textContent: o.name })));
  say("");
  show(["step-service"]);
  if (offices.length) await loadServices(offices[0].id);
}

async function loadServices(office) {
  chosen.office = office;
  const data = await call("GET", `/api/v1/public/offices/${encodeURIComponent(office)}/services?lang=${lang}`);
  contactBy(data.contact_by || ["email"]);
  $("services").replaceChildren(
    ...data.services.map((service) => {
      const input = el("input", { type: "radio", name: "service", value: service.id });
      input.addEventListener("change", () => chooseService(service));
      const details = el("details", {}, [el("summary", { textContent: t.documents }), requirementsList(service.requirements)]);
      return el("label", {}, [input, el("span", {}, [el("strong", { textContent: service.name }), details])]);
    }),
  );
}

// The contact field asks for what central can send to: e-mail, a mobile number, or either.
function contactBy(media) {
  const email = media.includes("email"), sms = media.includes("sms");
  const input = $("contact");
  input.labels[0].textContent = email && sms ? t.contactAny : sms ? t.contactSms : t.contact;
  input.type = email && !sms ? "email" : sms && !email ? "tel" : "text";
  input.autocomplete = email && !sms ? "email" : sms && !email ? "tel" : "on";
}

function chooseService(service) {
  chosen.service = service;
  const today = new Date();
  const last = new Date(today.getTime() + service.horizon_days * 86400000);
  const iso = (d) => d.toISOString().slice(0, 10);
  $("day").min = iso(today);
  $("day").max = iso(last);
  show(["step-service", "step-slot"]);
}

async function loadSlots() {
  fail("");
  chosen.day = $("day").value;
  chosen.start = null;
  if (!chosen.day || !chosen.service) return;
  try {
    const query = `service=${encodeURIComponent(chosen.service.id)}&day=${encodeURIComponent(chosen.day)}`;
    const data = await call("GET", `/api/v1/public/offices/${encodeURIComponent(chosen.office)}/slots?${query}`);
    $("slots").replaceChildren(
      ...data.slots.map((slot) => {
        const input = el("input", { type: "radio", name: "slot", value: slot.start, disabled: slot.free === 0 });
        input.addEventListener("change", () => {
          chosen.start = slot.start;
          chosen.until = null;
          $("request").textContent = t.request;
          show(["step-service", "step-slot", "step-who"]);
        });
        return slotLabel(slot, input);
      }),
    );
    const full = !data.slots.some((s) => s.free > 0);
    $("no-slots").hidden = !full;
    $("wait-offer").hidden = !full;
    $("wait-until").min = chosen.day;
    $("wait-until").max = $("day").max;
    $("wait-until").value = chosen.day;
  } catch (error) {
    $("slots").replaceChildren();
    fail(error.message);
  }
}

function slotLabel(slot, input) {
  const label = `${slot.start} (${slot.free ? t.free(slot.free) : t.full})`;
  return el("label", { className: slot.free ? "" : "full" }, [input, label]);
}

function chooseWaitlist() {
  chosen.until = $("wait-until").value || chosen.day;
  $("request").textContent = t.waitJoin;
  show(["step-service", "step-slot", "step-who"]);
  $("doc-number").focus();
}

async function requestCode(event) {
  event.preventDefault();
  fail("");
  $("request").disabled = true;
  try {
    if (chosen.until) {
      const place = await call("POST", "/api/v1/public/waitlist", {
        office: chosen.office, service: chosen.service.id, from: chosen.day, until: chosen.until,
        document_type: $("doc-type").value, document_number: $("doc-number").value, contact: $("contact").value,
        lang, note: $("note").value.trim() || null,
      });
      history.replaceState(null, "", `/w/${encodeURIComponent(place.manage_token)}${location.search}`);
      await showWaiting(place.manage_token);
      return;
    }
    const held = await call("POST", "/api/v1/public/bookings", {
      office: chosen.office, service: chosen.service.id, day: chosen.day, start: chosen.start,
      document_type: $("doc-type").value, document_number: $("doc-number").value, contact: $("contact").value,
      lang, note: $("note").value.trim() || null,
    });
    chosen.hold = held.hold;
    show(["step-code"]);
    $("code").focus();
  } catch (error) {
    fail(error.message);
  } finally {
    $("request").disabled = false;
  }
}

async function confirmCode(event) {
  event.preventDefault();
  fail("");
  $("confirm").disabled = true;
  try {
    const confirmed = await call("POST", `/api/v1/public/bookings/holds/${encodeURIComponent(chosen.hold)}/confirm`, {
      code: $("code").value.trim(),
    });
    // The booking's own page from now on: its link is what the citizen keeps.
    history.replaceState(null, "", `/b/${encodeURIComponent(confirmed.manage_token)}${location.search}`);
    await showBooking(confirmed.manage_token);
  } catch (error) {
    fail(error.message);
  } finally {
    $("confirm").disabled = false;
  }
}

async function showBooking(token) {
  let booking;
  try {
    booking = await call("GET", `/api/v1/public/bookings/${encodeURIComponent(token)}?lang=${lang}`);
  } catch (error) {
    fail(error.status === 404 ? t.missing : error.message);
    return;
  }
  $("title").textContent = t.done;
  $("summary").textContent = t.summary(booking);
  $("state-line").textContent = t.states[booking.state] || booking.state;
  $("short-code").textContent = booking.short_code;
  $("qr").src = `/api/v1/public/bookings/${encodeURIComponent(token)}/qr.svg`;
  $("qr").alt = booking.short_code;
  $("ics").href = `/api/v1/public/bookings/${encodeURIComponent(token)}/booking.ics`;
  $("requirements").replaceChildren(requirementsList(booking.requirements));
  $("cancel").hidden = booking.state !== "booked";
  $("move").hidden = booking.state !== "booked";
  chosen.office = booking.office;
  chosen.service = { id: booking.service };
  show(["step-done"]);
  $("title").focus();
}

// The private token of the booking or waiting-list place this page shows (/b/… or /w/…): the
// path changes when a booking is confirmed or a place taken without a reload.
function pathToken() {
  return decodeURIComponent(location.pathname.slice(3));
}

function startMove() {
  fail("");
  const today = new Date().toISOString().slice(0, 10);
  $("move-day").min = today;
  $("move-day").value = "";
  $("move-slots").replaceChildren();
  show(["step-move"]);
  $("move-day").focus();
}

async function loadMoveSlots() {
  fail("");
  const day = $("move-day").value;
  if (!day) return;
  try {
    const query = `service=${encodeURIComponent(chosen.service.id)}&day=${encodeURIComponent(day)}`;
    const data = await call("GET", `/api/v1/public/offices/${encodeURIComponent(chosen.office)}/slots?${query}`);
    $("move-slots").replaceChildren(
      ...data.slots.map((slot) => {
        const input = el("input", { type: "radio", name: "move-slot", value: slot.start, disabled: slot.free === 0 });
        input.addEventListener("change", () => moveTo(day, slot.start));
        return slotLabel(slot, input);
      }),
    );
  } catch (error) {
    $("move-slots").replaceChildren();
    fail(error.message);
  }
}

async function moveTo(day, start) {
  try {
    await call("POST", `/api/v1/public/bookings/${encodeURIComponent(pathToken())}/move`, { day, start });
    await showBooking(pathToken());
    say(t.moved);
  } catch (error) {
    fail(error.message);
  }
}

async function takeOffer(hold, token) {
  try {
    const confirmed = await call("POST", `/api/v1/public/bookings/holds/${encodeURIComponent(hold)}/confirm`, { code: token });
    history.replaceState(null, "", `/b/${encodeURIComponent(confirmed.manage_token)}${location.search}`);
    await showBooking(confirmed.manage_token);
  } catch (error) {
    fail(error.message);
  }
}

async function showWaiting(token) {
  let place;
  try {
    place = await call("GET", `/api/v1/public/waitlist/${encodeURIComponent(token)}`);
  } catch (error) {
    fail(error.status === 404 ? t.missing : error.message);
    return;
  }
  $("title").textContent = t.waitTitle;
  $("wait-summary").textContent = t.waitSummary(place);
  $("wait-state").textContent = (t.waitStates[place.state] || (() => place.state))(place);
  $("wait-leave").hidden = !(place.state === "waiting" || place.state === "offered");
  show(["step-waiting"]);
  $("title").focus();
}

async function leaveWaitlist() {
  if (!window.confirm(t.waitLeaveSure)) return;
  try {
    await call("POST", `/api/v1/public/waitlist/${encodeURIComponent(pathToken())}/leave`, {});
    await showWaiting(pathToken());
  } catch (error) {
    fail(error.message);
  }
}

async function cancelBooking() {
  if (!window.confirm(t.cancelSure)) return;
  try {
    await call("POST", `/api/v1/public/bookings/${encodeURIComponent(pathToken())}/cancel`, {});
    say(t.cancelled);
    await showBooking(pathToken());
  } catch (error) {
    fail(error.message);
  }
}

translate();
$("office").addEventListener("change", () => loadServices($("office").value).catch((e) => fail(e.message)));
$("day").addEventListener("change", loadSlots);
$("step-who").addEventListener("submit", requestCode);
$("step-code").addEventListener("submit", confirmCode);
$("cancel").addEventListener("click", cancelBooking);
$("move").addEventListener("click", startMove);
$("move-day").addEventListener("change", loadMoveSlots);
$("move-back").addEventListener("click", () => showBooking(pathToken()));
$("wait-join").addEventListener("click", chooseWaitlist);
$("wait-leave").addEventListener("click", leaveWaitlist);
if (manageToken) {
  showBooking(manageToken);
} else if (waitToken) {
  showWaiting(waitToken);
} else if (offer && offer.length === 2) {
  takeOffer(offer[0], offer[1]);
} else {
  loadOffices().catch((error) => fail(error.message));
}
