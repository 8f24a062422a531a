// The gradebook grid: Enter and the arrow keys move between cells (left and right once the
// caret is at the edge of the text), a block pasted from a spreadsheet (tab-separated rows)
// fills the grid from the cell it is pasted into, and changed cells are marked and counted.
// Without JavaScript the grid is a plain form; the server checks every value.
(() => {
  function cellAt(form, row, col) {
    return form.querySelector(`.gradebook-cell[data-row="${row}"][data-col="${col}"]`);
  }

  function focusCell(cell) {
    if (!cell) return false;
    cell.focus();
    cell.select();
    return true;
  }

  function updateChanged(form) {
    const cells = Array.from(form.querySelectorAll(".gradebook-cell"));
    let changed = 0;
    for (const cell of cells) {
      const isChanged = cell.value.trim() !== cell.defaultValue.trim();
      cell.classList.toggle("is-changed", isChanged);
      if (isChanged) changed += 1;
    }
    const count = form.querySelector("[data-changed-count]");
    if (count) count.textContent = changed ? `${changed} unsaved change${changed === 1 ? "" : "s"}` : "";
  }

  document.addEventListener("keydown", (event) => {
    const cell = event.target;
    if (!(cell instanceof HTMLInputElement) || !cell.classList.contains("gradebook-cell")) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const form = cell.form;
    const row = Number(cell.dataset.row);
    const col = Number(cell.dataset.col);
    const atStart = cell.selectionStart === 0 && cell.selectionEnd === 0;
    const atEnd = cell.selectionStart === cell.value.length;
    const whole = cell.selectionStart === 0 && cell.selectionEnd === cell.value.length;
    let target = null;
    switch (event.key) {
      case "Enter":
        target = cellAt(form, event.shiftKey ? row - 1 : row + 1, col);
        // Enter on the last row moves nowhere rather than sending the form by accident.
        event.preventDefault();
        break;
      case "ArrowDown":
        target = cellAt(form, row + 1, col);
        break;
      case "ArrowUp":
        target = cellAt(form, row - 1, col);
        break;
      case "ArrowLeft":
        if (atStart || whole) target = cellAt(form, row, col - 1);
        break;
      case "ArrowRight":
        if (atEnd || whole) target = cellAt(form, row, col + 1);
        break;
      default:
        return;
    }
    if (target) {
      event.preventDefault();
      focusCell(target);
    }
  });

  document.addEventListener("paste", (event) => {
    const cell = event.target;
    if (!(cell instanceof HTMLInputElement) || !cell.classList.contains("gradebook-cell")) return;
    const text = event.clipboardData ? event.clipboardData.getData("text/plain") : "";
    if (!/[\t\n]/.test(text.replace(/\r?\n$/, ""))) return; // one value: the browser pastes it
    event.preventDefault();
    const form = cell.form;
    const row = Number(cell.dataset.row);
    const col = Number(cell.dataset.col);
    const lines = text.replace(/\r/g, "").replace(/\n$/, "").split("\n");
    lines.forEach((line, down) => {
      line.split("\t").forEach((value, across) => {
        const target = cellAt(form, row + down, col + across);
        if (target && !target.readOnly) target.value = value.trim();
      });
    });
    updateChanged(form);
  });

  document.addEventListener("input", (event) => {
    const cell = event.target;
    if (cell instanceof HTMLInputElement && cell.classList.contains("gradebook-cell")) {
      updateChanged(cell.form);
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.querySelector("[data-gradebook]");
    if (form) updateChanged(form);
  });
})();
