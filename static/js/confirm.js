// Ask before a destructive action: <form data-confirm="Delete this?"> or <button data-confirm>.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const message = event.submitter?.dataset.confirm || form.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
