// Joining a queue from home (/fila), and following the ticket by its private link (/f/<token>).
// Plain DOM, no framework, nothing from elsewhere.
"use strict";

const STRINGS = {
  es: {
    app: "Hacer la fila", title: "Hacer la fila desde donde esté", office: "Oficina", service: "Trámite",
    travel: "¿Cuántos minutos tarda en llegar a la oficina?", contact: "Correo electrónico o móvil (opcional)",
    contactWhy: "Solo para avisarle cuándo salir hacia la oficina; lo borramos al terminar el día.",
    join: "Hacer la fila", keepLink: "Guarde el enlace de esta página: con él sigue su turno.", loading: "Cargando…",
    offline: "La oficina no está conectada ahora: no se puede hacer la fila a distancia. Acérquese en persona.",
    closed: (at) => `La oficina está cerrada ahora.${at ? " Abre el " + at + "." : ""}`,
    noServices: "Ningún trámite de esta oficina admite hacer la fila a distancia ahora.",
    pending: "Su pedido llegó. La oficina le está dando un número…",
    pendingOffline: "La oficina no está conectada: su pedido espera a que vuelva.",
    refused: {
      closed: "La oficina ya cerró y no pudo darle un número.", closing: "La oficina no alcanza a atender más turnos antes de cerrar.",
      not_offered: "Este trámite ya no admite hacer la fila a distancia.", full: "La oficina ya dio todos los números de hoy para este trámite.",
    },
    opensAt: (at) => ` Abre de nuevo el ${at}.`,
    ahead: (n) => (n === 0 ? "Es el próximo." : n === 1 ? "Hay 1 persona antes que usted." : `Hay ${n} personas antes que usted.`),
    wait: (lo, hi) => `Espera estimada: ${lo}–${hi} min.`,
    called: (c) => `¡Es su turno! Pase por el puesto ${c}.`,
    statuses: { serving: "Lo están atendiendo.", finished: "Su atención terminó. ¡Gracias!", cancelled: "El número fue cancelado.", no_show: "Lo llamamos y no se presentó.", parked: "Su atención está en pausa." },
    summary: (j) => `${j.service} — ${j.office}, ${j.day}`,
    comeNow: "¡Es hora de salir hacia la oficina! Su turno se acerca.",
    here: "Al llegar, acerque este código al lector de la terminal de la oficina: así sabemos que está en la sala.",
    failed: "No se pudo completar. Inténtelo de nuevo en un momento.", missing: "Este turno no existe. Revise el enlace.",
    lang: "English",
  },
  en: {
    app: "Join the queue", title: "Join the queue from wherever you are", office: "Office", service: "Procedure",
    travel: "How many minutes do you need to reach the office?", contact: "E-mail or mobile (optional)",
    contactWhy: "Only to tell you when to set off for the office; we delete it at the end of the day.",
    join: "Join the queue", keepLink: "Keep this page's link: with it you follow your turn.", loading: "Loading…",
    offline: "The office is not connected now: the queue cannot be joined from afar. Please come in person.",
    closed: (at) => `The office is closed now.${at ? " It opens " + at + "." : ""}`,
    noServices: "No procedure of this office can be queued for from afar now.",
    pending: "Your request arrived. The office is giving you a number…",
    pendingOffline: "The office is not connected: your request waits until it is back.",
    refused: {
      closed: "The office had closed and could not give you a number.", closing: "The office cannot serve more people before it closes.",
      not_offered: "This procedure no longer takes remote joins.", full: "The office has given all of today's numbers for this procedure.",
    },
    opensAt: (at) => ` It opens again ${at}.`,
    ahead: (n) => (n === 0 ? "You are next." : n === 1 ? "1 person is ahead of you." : `${n} people are ahead of you.`),
    wait: (lo, hi) => `Estimated wait: ${lo}–${hi} min.`,
    called: (c) => `It's your turn! Please go to counter ${c}.`,
    statuses: { serving: "You are being served.", finished: "Your visit is over. Thank you!", cancelled: "The number was cancelled.", no_show: "You were called and did not come.", parked: "Your visit is on hold." },
    summary: (j) => `${j.service} — ${j.office}, ${j.day}`,
    comeNow: "Time to set off for the office! Your turn is near.",
    here: "When you arrive, hold this code to the reader of the office's kiosk: then we know you are in the room.",
    failed: "It could not be done. Please try again in a moment.", missing: "This ticket does not exist. Please check the link.",
    lang: "Español",
  },
};

const params = new URLSearchParams(location.search);
const lang = params.get("lang") === "en" ? "en" : "es";
const t = STRINGS[lang];
const $ = (id) => document.getElementById(id);
const token = location.pathname.startsWith("/f/") ? decodeURIComponent(location.pathname.slice(3)) : null;

function translate() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-t]")) {
    const text = t[el.dataset.t];
    if (typeof text === "string") el.textContent = text;
  }
  $("lang").textContent = t.lang;
  $("lang").href = lang === "en" ? "?" : "?lang=en";
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

async function api(path, options) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(body.message || t.failed), { status: response.status, body });
  return body;
}

async function loadOffices() {
  const { offices } = await api("/api/v1/public/joins");
  const select = $("office");
  select.replaceChildren(...offices.map(([id, name]) => new Option(name, id)));
  select.onchange = () => loadOffer(select.value).catch((e) => showError(e.message));
  $("step-join").hidden = false;
  if (offices.length) await loadOffer(offices[0][0]);
}

async function loadOffer(office) {
  const offer = await api(`/api/v1/public/offices/${encodeURIComponent(office)}/joins`);
  const note = !offer.online ? t.offline : !offer.open ? t.closed(offer.next_opening) : offer.services.length ? "" : t.noServices;
  $("office-state").textContent = note;
  $("services").replaceChildren(
    ...offer.services.map(([id, name], i) => {
      const label = document.createElement("label");
      const input = Object.assign(document.createElement("input"), { type: "radio", name: "service", value: id, checked: i === 0 });
      label.append(input, document.createTextNode(name));
      return label;
    }),
  );
  $("join").disabled = !offer.online || offer.services.length === 0;
}

async function join() {
  showError("");
  const service = document.querySelector("input[name=service]:checked");
  if (!service) return;
  $("join").disabled = true;
  try {
    const body = {
      office: $("office").value, service: service.value, lang,
      travel_minutes: Math.max(0, Math.min(240, parseInt($("travel").value, 10) || 0)),
    };
    const contact = $("contact").value.trim();
    if (contact) body.contact = contact;
    const joined = await api("/api/v1/public/joins", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    location.assign(`/f/${encodeURIComponent(joined.token)}${lang === "en" ? "?lang=en" : ""}`);
  } catch (e) {
    showError(e.message);
    $("join").disabled = false;
  }
}

function describe(join) {
  if (join.state === "pending") return join.office_online ? t.pending : t.pendingOffline;
  if (join.state === "refused") return (t.refused[join.reason] || t.failed) + (join.next_opening ? t.opensAt(join.next_opening) : "");
  if (join.status === "called") return t.called(join.counter);
  if (join.status === "waiting") {
    const wait = join.estimated_wait_low_minutes == null ? "" : " " + t.wait(join.estimated_wait_low_minutes, join.estimated_wait_high_minutes);
    return t.ahead(join.people_ahead) + wait;
  }
  return t.statuses[join.status] || "";
}

async function follow() {
  $("step-ticket").hidden = false;
  try {
    const join = await api(`/api/v1/public/joins/${encodeURIComponent(token)}`);
    showError("");
    $("ticket-summary").textContent = t.summary(join);
    $("ticket-number").textContent = join.number || "";
    $("ticket-state").textContent = describe(join);
    // Until the kiosk has seen it: the code that says "I'm here".
    const away = join.state === "ticket" && join.away && ["waiting", "called"].includes(join.status);
    if (away && $("here").hidden) $("here-qr").src = `/api/v1/public/joins/${encodeURIComponent(token)}/qr.svg`;
    $("here").hidden = !away;
    // Once, as the message does: a buzz when the page first sees it is time to set off.
    $("come-now").hidden = !(away && join.come_now);
    if (away && join.come_now && !follow.toldToCome) {
      follow.toldToCome = true;
      try { if (navigator.vibrate) navigator.vibrate([400, 200, 400]); } catch (_) { /* not every phone */ }
    }
    const over = join.state === "refused" || ["finished", "cancelled", "no_show"].includes(join.status);
    if (!over) setTimeout(follow, join.state === "pending" ? 2000 : 10000);
  } catch (e) {
    showError(e.status === 404 ? t.missing : e.message);
    if (e.status !== 404) setTimeout(follow, 10000);
  }
}

translate();
$("join").onclick = join;
if (token) {
  follow();
} else {
  $("status").textContent = t.loading;
  loadOffices().then(() => ($("status").textContent = ""), (e) => showError(e.message));
}
