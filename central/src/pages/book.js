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
    summary: (b) => `${b.service_name || b.service}, ${b.day} a las ${b.start} — ${b.office_name || b.office}`,
    states: { booked: "Reservada", cancelled: "Cancelada", checked_in: "Registrada en la oficina", no_show: "Vencida" },
    failed: "No se pudo completar. Inténtelo de nuevo en un momento.", missing: "Esta cita no existe. Revise el enlace.",
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
    summary: (b) => `${b.service_name || b.service}, ${b.day} at ${b.start} — ${b.office_name || b.office}`,
    states: { booked: "Booked", cancelled: "Cancelled", checked_in: "Checked in at the office", no_show: "Expired" },
    failed: "It could not be done. Please try again in a moment.", missing: "This appointment does not exist. Please check the link.",
    lang: "Español", langCode: "es",
  },
};

const params = new URLSearchParams(location.search);
// Spanish unless English is asked for (the link at the top keeps the choice).
const lang = params.get("lang") === "en" ? "en" : "es";
const t = STRINGS[lang];
const $ = (id) => document.getElementById(id);
const manageToken = location.pathname.startsWith("/b/") ? decodeURIComponent(location.pathname.slice(3)) : null;
const chosen = { office: null, service: null, day: null, start: null, hold: null };

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
  for (const id of ["step-service", "step-slot", "step-who", "step-code", "step-done"]) {
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
          show(["step-service", "step-slot", "step-who"]);
        });
        const label = `${slot.start} (${slot.free ? t.free(slot.free) : t.full})`;
        return el("label", { className: slot.free ? "" : "full" }, [input, label]);
      }),
    );
    $("no-slots").hidden = data.slots.some((s) => s.free > 0);
  } catch (error) {
    $("slots").replaceChildren();
    fail(error.message);
  }
}

async function requestCode(event) {
  event.preventDefault();
  fail("");
  $("request").disabled = true;
  try {
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
  show(["step-done"]);
  $("title").focus();
}

async function cancelBooking() {
  if (!window.confirm(t.cancelSure)) return;
  try {
    await call("POST", `/api/v1/public/bookings/${encodeURIComponent(manageToken || location.pathname.slice(3))}/cancel`, {});
    say(t.cancelled);
    await showBooking(manageToken || decodeURIComponent(location.pathname.slice(3)));
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
if (manageToken) {
  showBooking(manageToken);
} else {
  loadOffices().catch((error) => fail(error.message));
}
