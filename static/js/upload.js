// Document uploads in the student portal (forms marked data-upload): drop a file on the box or
// pick one, see its name and a size warning before sending, and follow the upload on a
// <progress> bar fed by htmx's htmx:xhr:progress events. Without JavaScript the form still
// posts normally; the server checks everything again.
(() => {
  const formOf = (node) => (node instanceof Element ? node.closest("form[data-upload]") : null);
  const dropOf = (node) => (node instanceof Element ? node.closest("[data-upload-drop]") : null);
  const carriesFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");

  const formatSize = (bytes) =>
    bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;

  function setStatus(form, text) {
    const status = form.querySelector("[data-upload-status]");
    if (status) status.textContent = text;
  }

  function checkChosenFile(form) {
    const input = form.querySelector("input[type=file]");
    const warning = form.querySelector("[data-upload-warning]");
    const button = form.querySelector("button[type=submit]");
    const file = input?.files?.[0];
    const limit = Number(form.dataset.maxBytes || 0);
    let problem = "";
    if (file && limit && file.size > limit) {
      problem = `This file (${formatSize(file.size)}) is more than the ${form.dataset.maxLabel} allowed.`;
    } else if (file && file.size === 0) {
      problem = "This file is empty.";
    }
    if (warning) {
      warning.textContent = problem;
      warning.hidden = !problem;
    }
    if (button) button.disabled = Boolean(problem);
    setStatus(form, file && !problem ? `${file.name} (${formatSize(file.size)}) is ready to upload.` : "");
  }

  document.addEventListener("change", (event) => {
    const form = formOf(event.target);
    if (form && event.target.matches("input[type=file]")) checkChosenFile(form);
  });

  // Dropping a file anywhere else would make the browser open it and leave the page.
  document.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    const drop = dropOf(event.target);
    document.querySelectorAll("[data-upload-drop].is-dragover").forEach((zone) => {
      if (zone !== drop) zone.classList.remove("is-dragover");
    });
    if (drop) {
      drop.classList.add("is-dragover");
      event.dataTransfer.dropEffect = "copy";
    } else {
      event.dataTransfer.dropEffect = "none";
    }
  });
  document.addEventListener("dragleave", (event) => {
    const drop = dropOf(event.target);
    if (drop && !drop.contains(event.relatedTarget)) drop.classList.remove("is-dragover");
  });
  document.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    const drop = dropOf(event.target);
    if (!drop) return;
    drop.classList.remove("is-dragover");
    const input = drop.querySelector("input[type=file]");
    const file = event.dataTransfer.files[0];
    if (!input || !file) return;
    const chosen = new DataTransfer();
    chosen.items.add(file);
    input.files = chosen.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });

  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = formOf(event.target);
    if (!form) return;
    const input = form.querySelector("input[type=file]");
    if (!input?.files?.length) {
      event.preventDefault();
      const warning = form.querySelector("[data-upload-warning]");
      if (warning) {
        warning.textContent = "Choose a file to upload.";
        warning.hidden = false;
      }
      return;
    }
    const progress = form.querySelector("[data-upload-progress]");
    if (progress) {
      progress.value = 0;
      progress.hidden = false;
    }
    form.querySelector("button[type=submit]")?.setAttribute("disabled", "");
    setStatus(form, "Uploading…");
  });

  document.addEventListener("htmx:xhr:progress", (event) => {
    const form = formOf(event.target);
    const progress = form?.querySelector("[data-upload-progress]");
    if (!progress || !event.detail.lengthComputable || !event.detail.total) return;
    // htmx reports the upload and then the download of the answer: keep the bar moving forward.
    const percent = Math.round((100 * event.detail.loaded) / event.detail.total);
    progress.value = Math.max(progress.value, percent);
    setStatus(form, progress.value >= 100 ? "Checking the file…" : `Uploading… ${progress.value}%`);
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    const form = formOf(event.target);
    if (!form || event.detail.successful) return;
    form.querySelector("[data-upload-progress]")?.setAttribute("hidden", "");
    form.querySelector("button[type=submit]")?.removeAttribute("disabled");
    setStatus(form, "The upload did not go through. Check your connection and try again.");
  });
})();
