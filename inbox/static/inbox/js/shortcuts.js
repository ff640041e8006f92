// The inbox's keys (the page's help line lists them): `/` search, `j`/`k` next/previous,
// `r` reply, `e` resolve, `l` labels. They act only outside text fields and dialogs.

function isTypingTarget(target) {
  return target.closest("input, textarea, select, [contenteditable='true'], [contenteditable='']");
}

/** `select(id)` opens a conversation; the others are the page's modules. */
export function setupShortcuts({ list, search, thread, composer, actions, select }) {
  function moveSelection(step) {
    const id = list.revealNeighbour(thread.current()?.id, step);
    if (id !== null) select(id);
  }

  const always = () => true;
  const isOpen = () => Boolean(thread.current());
  const isUnresolved = () => isOpen() && thread.current().status !== "resolved";
  // Each key: whether it applies now, and what it does.
  const keys = new Map([
    ["/", { applies: always, run: () => search.focus() }],
    ["j", { applies: always, run: () => moveSelection(1) }],
    ["k", { applies: always, run: () => moveSelection(-1) }],
    ["r", { applies: isOpen, run: () => composer.focus() }],
    ["e", { applies: isUnresolved, run: () => actions.run("resolve") }],
    ["l", { applies: isOpen, run: () => actions.openLabelMenu() }],
  ]);

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || isTypingTarget(event.target)) return;
    if (document.querySelector("dialog[open]")) return;
    const key = keys.get(event.key);
    if (!key || !key.applies()) return;
    // Also keeps `r` out of the reply box it focuses.
    event.preventDefault();
    key.run();
  });
}
