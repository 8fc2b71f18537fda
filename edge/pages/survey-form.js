/*
 * fila — the satisfaction survey's form, shared by the tracking page and the exit tablet.
 *
 * Only the questions headquarters enabled are asked. Scores are radio groups drawn as big
 * buttons: a thumb on a phone or a finger on a tablet hits them, and a screen reader reads
 * them as "3 of 5". Nothing is sent until the citizen presses Send, and an empty form is
 * refused here rather than by the server.
 */
(function () {
  'use strict';
  const { h } = window.Fila;
  const t = window.t;
  let formCount = 0;

  function scale(name, from, to, legend, hint) {
    const hintId = 'survey-' + name + '-hint-' + formCount;
    return h('fieldset', { class: 'survey-question', 'aria-describedby': hintId, dataset: { question: name } },
      h('legend', null, legend),
      h('p', { class: 'survey-hint', id: hintId }, hint),
      h('div', { class: 'survey-choices survey-choices-' + (to - from + 1) },
        Array.from({ length: to - from + 1 }, (_, i) => from + i).map((value) =>
          h('label', { class: 'survey-choice', dataset: { value: String(value) } },
            h('input', { type: 'radio', name: name + '-' + formCount, value: String(value) }),
            h('span', null, String(value))))));
  }

  function yesNo(name, legend) {
    return h('fieldset', { class: 'survey-question', dataset: { question: name } },
      h('legend', null, legend),
      h('div', { class: 'survey-choices survey-choices-2' },
        [['true', t('survey.yes')], ['false', t('survey.no')]].map(([value, label]) =>
          h('label', { class: 'survey-choice', dataset: { value } },
            h('input', { type: 'radio', name: name + '-' + formCount, value }),
            h('span', null, label)))));
  }

  /**
   * A form for `questions` ({satisfaction, recommend, resolved, comment}: which are asked).
   * `send(answer)` returns a promise; its rejection's text is shown under the form.
   */
  function surveyForm(questions, commentMax, send) {
    formCount += 1;
    const asked = questions || {};
    const parts = [];
    if (asked.satisfaction) parts.push(scale('satisfaction', 1, 5, t('survey.q.satisfaction'), t('survey.q.satisfactionScale')));
    if (asked.recommend) parts.push(scale('recommend', 0, 10, t('survey.q.recommend'), t('survey.q.recommendScale')));
    if (asked.resolved) parts.push(yesNo('resolved', t('survey.q.resolved')));
    let comment = null;
    if (asked.comment) {
      const countId = 'survey-comment-count-' + formCount;
      const noteId = 'survey-comment-note-' + formCount;
      comment = h('textarea', {
        class: 'input survey-comment', id: 'survey-comment-' + formCount, rows: 3, maxlength: commentMax,
        'aria-describedby': countId + ' ' + noteId,
      });
      const count = h('span', { id: countId });
      const left = () => { count.textContent = t('survey.commentLeft', { n: Math.max(0, commentMax - comment.value.length) }); };
      comment.addEventListener('input', left);
      left();
      parts.push(h('div', { class: 'field survey-question', dataset: { question: 'comment' } },
        h('label', { for: comment.id }, t('survey.q.comment')),
        comment,
        h('p', { class: 'survey-hint' }, count, ' ', h('span', { id: noteId }, t('survey.commentNote')))));
    }
    const error = h('p', { class: 'message message-error', role: 'alert', hidden: true });
    const button = h('button', { type: 'submit', class: 'btn btn-primary btn-lg btn-block survey-send' }, t('survey.send'));
    const form = h('form', { class: 'survey-form', novalidate: true }, parts, error, button);

    const n = formCount;
    const chosen = (name) => {
      const input = form.querySelector('input[name="' + name + '-' + n + '"]:checked');
      return input ? input.value : null;
    };
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const answer = {};
      const satisfaction = chosen('satisfaction');
      const recommend = chosen('recommend');
      const resolved = chosen('resolved');
      if (satisfaction !== null) answer.satisfaction = Number(satisfaction);
      if (recommend !== null) answer.recommend = Number(recommend);
      if (resolved !== null) answer.resolved = resolved === 'true';
      if (comment && comment.value.trim()) answer.comment = comment.value.trim();
      if (Object.keys(answer).length === 0) {
        error.textContent = t('survey.empty');
        error.hidden = false;
        return;
      }
      error.hidden = true;
      button.disabled = true;
      try {
        await send(answer);
      } catch (err) {
        error.textContent = err && err.message ? err.message : String(err);
        error.hidden = false;
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }

  window.Fila.surveyForm = surveyForm;
})();
