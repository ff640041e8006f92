// The supervisor CSAT page: poor ratings arriving live are prepended to "Needs attention".
// Everything else is rendered on the server; a reload shows the database's truth.

import { element, html } from "./dom.js";
import { localizeTimes } from "./format.js";
import { format } from "./i18n.js";
import { LiveConnection } from "./live.js";
import { STATE_LABELS } from "./live_events.js";

const data = JSON.parse(document.getElementById("csat-report-data").textContent);
const list = document.getElementById("needs-attention");
const empty = document.getElementById("needs-attention-empty");
const count = document.getElementById("attention-count");
const liveStatus = document.getElementById("live-status");

function belongsHere(survey) {
  if (!data.is_live) return false;
  if (data.channel_id !== null && survey.channel_id !== data.channel_id) return false;
  if (data.team_id !== null && survey.team_id !== data.team_id) return false;
  return true;
}

function feedbackItem(survey, answeredAt) {
  const rating = Number(survey.rating);
  const operator =
    data.operators[String(survey.operator_id)] ?? (survey.operator_id ? gettext("Another operator") : gettext("No operator"));
  return element(html`<li class="feedback-item is-new">
    <a class="feedback-link" href="/?conversation=${encodeURIComponent(survey.conversation_id)}" data-conversation-id="${survey.conversation_id}">
      <span class="rating-badge rating-${rating}" aria-label="${format(gettext("Rated %(rating)s out of 5"), { rating })}">${rating}</span>
      <span class="feedback-main">
        <span class="feedback-comment${survey.comment ? "" : " is-empty"}">${survey.comment || gettext("No comment")}</span>
        <span class="feedback-meta">${operator} · <time datetime="${answeredAt}" data-clock></time></span>
      </span>
    </a>
  </li>`);
}

function onLowRating(survey) {
  if (!belongsHere(survey)) return;
  if (list.querySelector(`[data-conversation-id="${CSS.escape(String(survey.conversation_id))}"]`)) return;
  const item = feedbackItem(survey, new Date().toISOString());
  localizeTimes(item);
  list.prepend(item);
  empty.hidden = true;
  count.textContent = String(list.children.length);
}

localizeTimes(document);

new LiveConnection({
  url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/inbox/`,
  onEvent(event) {
    // CES and NPS answers have pages of their own.
    const isCsat = event.survey && (event.survey.kind || "csat") === "csat";
    if (event.type === "csat.low_rating" && isCsat) onLowRating(event.survey);
  },
  // Missed events while disconnected are in the database: a reload shows them.
  onReconnect() {},
  onState(state) {
    liveStatus.dataset.state = state;
    liveStatus.textContent = STATE_LABELS[state];
  },
}).start();
