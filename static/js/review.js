// The review pages. On a document: keyboard shortcuts (a approve, r reject, n next, + - 0 zoom)
// and zoom steps for images; Enter in the reason fields sends the rejection. On the queue:
// "select all" and the count of ticked documents for the bulk approval. Without JavaScript
// every button and link still works; the server checks every decision.
(() => {
  const ZOOM_STEPS = ["50", "75", "fit", "100", "150", "200", "300", "400"];

  function typingIn(target) {
    return (
      target instanceof Element &&
      (target.isContentEditable || target.closest("input, textarea, select, [contenteditable]"))
    );
  }

  function setZoom(image, value) {
    image.dataset.zoomValue = value;
    const label = document.querySelector("[data-zoom-level]");
    if (label) label.textContent = value === "fit" ? "Fit" : `${value}%`;
  }

  function zoom(direction) {
    const image = document.querySelector("[data-zoom-target]");
    if (!image) return;
    if (direction === "fit") return setZoom(image, "fit");
    const index = ZOOM_STEPS.indexOf(image.dataset.zoomValue || "fit");
    const next = Math.min(ZOOM_STEPS.length - 1, Math.max(0, index + (direction === "in" ? 1 : -1)));
    setZoom(image, ZOOM_STEPS[next]);
  }

  function submit(form) {
    if (form.dataset.sending) return;
    form.dataset.sending = "true";
    form.requestSubmit();
  }

  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-zoom]") : null;
    if (button) zoom(button.dataset.zoom);
  });

  document.addEventListener("keydown", (event) => {
    const rejectForm = document.querySelector("[data-reject-form]");
    const inReason =
      rejectForm && event.target instanceof Element && event.target.matches("select, textarea") &&
      rejectForm.contains(event.target);
    if (inReason) {
      // Enter sends the rejection from the pick-list or the text (Shift+Enter: a new line).
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        submit(rejectForm);
      } else if (event.key === "Escape") {
        event.target.blur();
      }
      return;
    }
    if (event.altKey || event.ctrlKey || event.metaKey || typingIn(event.target)) return;
    const approveForm = document.querySelector("[data-approve-form]");
    const next = document.querySelector("[data-next-url]");
    switch (event.key) {
      case "a":
        if (approveForm) {
          event.preventDefault();
          submit(approveForm);
        }
        break;
      case "r":
        if (rejectForm) {
          event.preventDefault();
          const reason = rejectForm.querySelector("select");
          reason.scrollIntoView({ block: "center" });
          reason.focus();
        }
        break;
      case "n":
        if (next) {
          event.preventDefault();
          window.location.assign(next.href);
        }
        break;
      case "+":
      case "=":
        zoom("in");
        break;
      case "-":
        zoom("out");
        break;
      case "0":
        zoom("fit");
        break;
      default:
    }
  });

  // The queue: select all on the page, and say how many are ticked.
  function updateSelection(form) {
    const boxes = Array.from(form.querySelectorAll("input[name=documents]"));
    const ticked = boxes.filter((box) => box.checked).length;
    const all = form.querySelector("[data-select-all]");
    if (all) {
      all.checked = ticked > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    const count = form.querySelector("[data-selected-count]");
    if (count) count.textContent = ticked ? `${ticked} selected` : "";
    const button = form.querySelector("[data-bulk-submit]");
    if (button) {
      button.disabled = ticked === 0;
      button.textContent = ticked ? `Approve ${ticked} selected` : "Approve selected";
    }
  }

  document.addEventListener("change", (event) => {
    const form = event.target instanceof Element ? event.target.closest("[data-bulk-form]") : null;
    if (!form) return;
    if (event.target.matches("[data-select-all]")) {
      for (const box of form.querySelectorAll("input[name=documents]")) box.checked = event.target.checked;
    }
    updateSelection(form);
  });

  document.addEventListener("DOMContentLoaded", () => {
    for (const form of document.querySelectorAll("[data-bulk-form]")) updateSelection(form);
  });
})();
