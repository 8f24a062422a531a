// The agreement editor's toolbar: each button puts HTML around the selection in the body's
// textarea (or inserts a merge field at the cursor), then fires "input" so the live preview
// follows.
document.addEventListener("click", (event) => {
  const button = event.target.closest(".editor-toolbar [data-block], .editor-toolbar [data-wrap], .editor-toolbar [data-list], .editor-toolbar [data-insert]");
  if (!button) return;
  const toolbar = button.closest(".editor-toolbar");
  const textarea = document.getElementById(toolbar.dataset.editorFor);
  const { selectionStart: start, selectionEnd: end, value } = textarea;
  const selected = value.slice(start, end);
  let replacement;
  if (button.dataset.insert) {
    replacement = button.dataset.insert;
  } else if (button.dataset.wrap) {
    const tag = button.dataset.wrap;
    replacement = `<${tag}>${selected}</${tag}>`;
  } else if (button.dataset.block) {
    const tag = button.dataset.block;
    replacement = `<${tag}>${selected || "Text"}</${tag}>\n`;
  } else {
    const tag = button.dataset.list;
    const lines = (selected || "First item\nSecond item").split("\n").filter((line) => line.trim());
    replacement = `<${tag}>\n${lines.map((line) => `  <li>${line.trim()}</li>`).join("\n")}\n</${tag}>\n`;
  }
  textarea.focus();
  textarea.setRangeText(replacement, start, end, "end");
  textarea.dispatchEvent(new Event("input", { bubbles: true }));
});

// An error about the saved body goes once the body is edited: the live preview now says what,
// if anything, is still wrong.
document.addEventListener("input", (event) => {
  const body = event.target;
  if (body.id !== "id_body" || !body.classList.contains("is-invalid")) return;
  body.classList.remove("is-invalid");
  body.setAttribute("aria-describedby", "body-help");
  document.getElementById("body-errors")?.remove();
});
