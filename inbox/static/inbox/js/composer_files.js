// Files on a reply: chosen with the paperclip, dropped on the reply box or pasted; each
// shows as a removable chip until the reply is sent.

import { element, html } from "./dom.js";
import { format } from "./i18n.js";

// The server enforces these too; checking here spares a failed upload.
export const MAX_FILE_SIZE = 25 * 1024 * 1024;
export const MAX_FILES = 10;
const BLOCKED_EXTENSIONS = new Set(
  "app apk bat bin cmd com cpl dll dmg exe gadget hta inf ins isp jar js jse lnk msc msi msp pif ps1 reg scr sct sh shb sys vb vbe vbs ws wsc wsf wsh".split(
    " ",
  ),
);

function sizeText(size) {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

function refusal(file, count) {
  if (count >= MAX_FILES) {
    return format(ngettext("At most %(count)s file per message.", "At most %(count)s files per message.", MAX_FILES), {
      count: MAX_FILES,
    });
  }
  if (file.size > MAX_FILE_SIZE) return format(gettext("%(name)s is larger than 25 MB."), { name: file.name });
  const extensions = file.name.toLowerCase().split(".").slice(1);
  if (extensions.some((extension) => BLOCKED_EXTENSIONS.has(extension))) {
    return format(gettext("%(name)s: executable files cannot be sent."), { name: file.name });
  }
  return "";
}

export function setupComposerFiles({ composer, input, button, chipList, showToast }) {
  let files = [];

  function render() {
    chipList.replaceChildren(
      ...files.map((file, index) =>
        element(
          html`<li class="file-chip"><span class="file-icon" aria-hidden="true"></span><span class="file-chip-name">${file.name}</span> <span class="file-size">${sizeText(file.size)}</span><button type="button" class="file-chip-remove" data-remove-file="${index}" aria-label="${format(gettext("Remove %(name)s"), { name: file.name })}">×</button></li>`,
        ),
      ),
    );
    chipList.hidden = !files.length;
  }

  function add(newFiles) {
    for (const file of newFiles) {
      const reason = refusal(file, files.length);
      if (reason) showToast(reason, { isError: true });
      else files.push(file);
    }
    render();
  }

  button.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    add([...input.files]);
    input.value = "";
  });
  chipList.addEventListener("click", (event) => {
    const remove = event.target.closest("[data-remove-file]");
    if (!remove) return;
    files.splice(Number(remove.dataset.removeFile), 1);
    render();
    button.focus();
  });
  composer.addEventListener("dragover", (event) => {
    if (!event.dataTransfer?.types.includes("Files")) return;
    event.preventDefault();
    composer.classList.add("is-dropping");
  });
  composer.addEventListener("dragleave", (event) => {
    if (!composer.contains(event.relatedTarget)) composer.classList.remove("is-dropping");
  });
  composer.addEventListener("drop", (event) => {
    composer.classList.remove("is-dropping");
    if (!event.dataTransfer?.files.length) return;
    event.preventDefault();
    add([...event.dataTransfer.files]);
  });
  composer.addEventListener("paste", (event) => {
    const pasted = [...(event.clipboardData?.files || [])];
    if (!pasted.length) return;
    event.preventDefault();
    add(pasted);
  });

  return {
    files: () => [...files],
    clear() {
      files = [];
      render();
    },
  };
}
