// The citizen's survey at central, opened from the link in their invitation. The link's path is
// the survey's credential; the API under /api/v1/public/surveys/ takes the same path.
"use strict";

const STRINGS = {
  es: {
    title: "¿Cómo le atendimos?", loading: "Cargando…", send: "Enviar", yes: "Sí", no: "No",
    "q.satisfaction": "¿Cuán satisfecho quedó con la atención? (1 = nada, 5 = mucho)",
    "q.recommend": "¿Recomendaría esta oficina? (0 = nada probable, 10 = muy probable)",
    "q.resolved": "¿Se resolvió su trámite?",
    "q.comment": "¿Quiere contarnos algo más? (opcional)",
    "q.comment.note": "No escriba datos personales.",
    ticket: (n) => `Turno ${n}`, until: (d) => `Puede responder hasta el ${d}.`,
    left: (n) => `Quedan ${n} caracteres.`,
    thanks: "¡Gracias! Su respuesta quedó registrada.",
    answered: "Esta encuesta ya fue respondida. ¡Gracias!",
    closed: "El plazo para responder esta encuesta terminó.",
    missing: "Esta encuesta no existe. Revise el enlace del mensaje.",
    empty: "Responda al menos una pregunta.",
    failed: "No se pudo enviar. Inténtelo de nuevo en un momento.",
    lang: "English", langCode: "en",
  },
  en: {
    title: "How did we do?", loading: "Loading…", send: "Send", yes: "Yes", no: "No",
    "q.satisfaction": "How satisfied were you with the service? (1 = not at all, 5 = very)",
    "q.recommend": "Would you recommend this office? (0 = not at all likely, 10 = very likely)",
    "q.resolved": "Was your procedure resolved?",
    "q.comment": "Anything else you want to tell us? (optional)",
    "q.comment.note": "Please do not write personal data.",
    ticket: (n) => `Ticket ${n}`, until: (d) => `You can answer until ${d}.`,
    left: (n) => `${n} characters left.`,
    thanks: "Thank you! Your answer was recorded.",
    answered: "This survey has been answered already. Thank you!",
    closed: "The time to answer this survey is over.",
    missing: "This survey does not exist. Please check the link in the message.",
    empty: "Please answer at least one question.",
    failed: "It could not be sent. Please try again in a moment.",
    lang: "Español", langCode: "es",
  },
};

const params = new URLSearchParams(location.search);
const lang = params.get("lang") === "en" || (!params.get("lang") && navigator.language.startsWith("en")) ? "en" : "es";
const t = STRINGS[lang];
const api = "/api/v1/public/surveys/" + location.pathname.replace(/^\/s\//, "");
const $ = (id) => document.getElementById(id);
let commentMax = 1000;

function translate() {
  document.documentElement.lang = lang;
  document.title = "fila — " + t.title;
  for (const element of document.querySelectorAll("[data-t]")) {
    element.textContent = t[element.dataset.t];
  }
  $("lang").textContent = t.lang;
  $("lang").lang = t.langCode;
  $("lang").href = "?lang=" + t.langCode;
}

function scales() {
  for (const box of document.querySelectorAll(".choices[data-from]")) {
    for (let value = Number(box.dataset.from); value <= Number(box.dataset.to); value += 1) {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "radio";
      input.name = box.dataset.name;
      input.value = String(value);
      label.append(input, " " + value);
      box.append(label);
    }
  }
}

function say(text) {
  $("status").textContent = text;
  $("status").hidden = false;
}

function countLeft() {
  $("comment-count").textContent = t.left(Math.max(0, commentMax - $("comment").value.length));
}

async function load() {
  let response;
  try {
    response = await fetch(api, { headers: { Accept: "application/json" } });
  } catch {
    say(t.failed);
    return;
  }
  if (!response.ok) {
    say(response.status === 404 ? t.missing : t.failed);
    return;
  }
  const survey = await response.json();
  $("office").textContent = survey.office_name;
  if (survey.ticket_number) $("ticket").textContent = t.ticket(survey.ticket_number);
  if (survey.state !== "open") {
    say(survey.state === "answered" ? t.answered : t.closed);
    return;
  }
  commentMax = survey.comment_chars_max;
  $("comment").maxLength = commentMax;
  for (const [question, asked] of Object.entries(survey.questions)) {
    $("q-" + question).hidden = !asked;
  }
  countLeft();
  say(t.until(survey.open_until));
  $("survey").hidden = false;
}

function chosen(name) {
  const input = document.querySelector(`input[name="${name}"]:checked`);
  return input ? input.value : null;
}

async function send(event) {
  event.preventDefault();
  const answer = {};
  const satisfaction = chosen("satisfaction");
  const recommend = chosen("recommend");
  const resolved = chosen("resolved");
  if (satisfaction !== null) answer.satisfaction = Number(satisfaction);
  if (recommend !== null) answer.recommend = Number(recommend);
  if (resolved !== null) answer.resolved = resolved === "true";
  if ($("comment").value.trim()) answer.comment = $("comment").value.trim();
  if (Object.keys(answer).length === 0) {
    $("error").textContent = t.empty;
    $("error").hidden = false;
    return;
  }
  const button = $("survey").querySelector("button");
  button.disabled = true;
  try {
    const response = await fetch(api, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(answer),
    });
    if (response.ok || response.status === 409) {
      const body = response.ok ? null : await response.json();
      $("survey").hidden = true;
      say(response.ok ? t.thanks : body.error === "survey_answered" ? t.answered : t.closed);
      $("status").focus();
      return;
    }
    const body = await response.json().catch(() => ({}));
    $("error").textContent = body.message || t.failed;
    $("error").hidden = false;
  } catch {
    $("error").textContent = t.failed;
    $("error").hidden = false;
  } finally {
    button.disabled = false;
  }
}

translate();
scales();
$("comment").addEventListener("input", countLeft);
$("survey").addEventListener("submit", send);
$("status").tabIndex = -1;
load();
