// The response-time page counts days and hours in the reader's time zone: the one they
// chose in their settings, else their browser's, which only the browser knows. Without a
// chosen zone, the page asks again once with the browser's zone in `tz` (kept by the
// filter form).

const zoneField = document.getElementById("reader-time-zone");
const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

if (zoneField && browserZone) {
  zoneField.value = browserZone;
  const params = new URLSearchParams(window.location.search);
  if (zoneField.dataset.shown !== browserZone && !params.has("tz")) {
    params.set("tz", browserZone);
    window.location.replace(`${window.location.pathname}?${params}`);
  }
}
