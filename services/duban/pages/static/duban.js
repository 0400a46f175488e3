/* 督查督办平台: the pages' only script besides htmx (no inline script: the pages' CSP allows 'self' only).
   A form with a file shows that it is uploading and cannot be sent twice. */
(function () {
  "use strict";
  /* A field the server marked wrong: once the user changes it, the mark and its sentence go. */
  function corrected(event) {
    var field = event.target;
    if (!(field instanceof HTMLElement) || field.getAttribute("aria-invalid") !== "true") return;
    field.removeAttribute("aria-invalid");
    var said = document.getElementById(field.getAttribute("aria-describedby") || "");
    if (said && said.classList.contains("field-error")) said.hidden = true;
  }
  document.addEventListener("input", corrected);
  document.addEventListener("change", corrected);
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file") return;
    var shown = input.parentElement && input.parentElement.querySelector("[data-filename]");
    if (!shown) return;
    var file = input.files && input.files[0];
    shown.textContent = file ? file.name + "（" + Math.max(1, Math.round(file.size / 1024)) + " KB）" : "未选择文件";
  });
  function megabytes(n) { return (n / 1024 / 1024).toFixed(1) + " MB"; }

  /* A form with a file: sent by XMLHttpRequest so that the bar shows how much of the file has gone (the
     browser's own submit shows nothing). The answer is the next page: after a success the server redirects
     to the page again (it is loaded, with its message); a refusal (the form's page with the sentence next to
     the field) replaces the page's main part. Without XMLHttpRequest the form is sent the ordinary way. */
  function upload(form, button, bar, said) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "text/html");
    bar.hidden = false;
    bar.value = 0;
    said.hidden = false;
    said.textContent = "正在上传… 0%";
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var percent = Math.floor(e.loaded * 100 / e.total);
      bar.value = percent;
      bar.setAttribute("data-seen", String(Math.max(percent, Number(bar.getAttribute("data-seen") || 0))));
      said.textContent = "正在上传… " + percent + "%（" + megabytes(e.loaded) + " / " + megabytes(e.total) + "）";
    });
    xhr.upload.addEventListener("load", function () {
      bar.value = 100;
      said.textContent = "上传完成，正在保存…";
    });
    xhr.addEventListener("load", function () {
      if (xhr.status < 400 && xhr.responseURL) {
        window.location.assign(xhr.responseURL); /* the page after the redirect, with its message */
        return;
      }
      var next = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var main = next.getElementById("main");
      if (main) {
        document.title = next.title;
        document.getElementById("main").innerHTML = main.innerHTML;
        var wrong = document.querySelector("[aria-invalid=true]");
        if (wrong) wrong.focus();
      } else {
        window.location.reload();
      }
    });
    xhr.addEventListener("error", function () {
      said.textContent = "网络中断，文件未能上传，请检查网络后重试。";
      said.classList.add("field-error");
      if (button) { button.disabled = false; button.textContent = "报送反馈"; }
    });
    xhr.send(new FormData(form));
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var button = form.querySelector("button[type=submit]");
    if (form.hasAttribute("data-upload")) {
      var file = form.querySelector("input[type=file]");
      var bar = form.querySelector(".upload-progress");
      var said = form.querySelector(".upload-status");
      if (bar && said && file && file.files && file.files.length && window.XMLHttpRequest && window.FormData) {
        event.preventDefault();
        if (button) { button.textContent = "正在上传…"; button.disabled = true; }
        upload(form, button, bar, said);
        return;
      }
    }
    /* htmx filter forms stay on the page (only their results are swapped; a newer request replaces one in
       flight): their button must stay usable. Other forms leave the page: guard against a double submit. */
    if (button && !form.hasAttribute("hx-get")) {
      setTimeout(function () { button.disabled = true; }, 0); /* after the browser has taken the form */
    }
  });
})();
