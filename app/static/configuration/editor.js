/* The document editor (templates/configuration/document_editor.html): a form built from the
   kind's schema (its labels and help in the user's language) kept in step with the YAML text,
   and live validation of the text by the validation API, whose messages name the field.
   Configuration comes from the JSON in #dc-editor-config. */
(function () {
  "use strict";

  var configNode = document.getElementById("dc-editor-config");
  if (!configNode) {
    return;
  }
  var config = JSON.parse(configNode.textContent);
  var documentData = config.data;
  var text = document.getElementById("dc-text");

  if (window.JSONEditor) {
    var holder = document.getElementById("dc-schema-form");
    holder.innerHTML = "";
    var editor = new window.JSONEditor(holder, {
      schema: config.schema, startval: documentData.body, theme: "bootstrap3",
      iconlib: "fontawesome4", disable_edit_json: true, disable_properties: false,
      show_errors: "interaction", keep_oneof_values: false, collapsed: true
    });
    var sync = function () {
      documentData.body = editor.getValue();
      documentData.version = document.getElementById("dc-version").value;
      documentData.title = document.getElementById("dc-title").value;
      text.value = JSON.stringify(documentData, null, 2);
      text.dispatchEvent(new Event("input"));
    };
    editor.on("ready", function () { editor.on("change", sync); });
    document.getElementById("dc-version").addEventListener("input", sync);
    document.getElementById("dc-title").addEventListener("input", sync);
  }

  var list = document.getElementById("dc-problems");
  var status = document.getElementById("dc-status");
  var timer = null;
  // The validation API takes the session cookie only with the page's CSRF token.
  var csrfMeta = document.querySelector("meta[name=csrf-token]");
  var csrfToken = csrfMeta ? csrfMeta.content : "";
  function check() {
    fetch(config.validateUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken},
      body: JSON.stringify({text: text.value, file: config.file})
    }).then(function (r) { return r.json(); }).then(function (answer) {
      list.innerHTML = "";
      answer.problems.forEach(function (p) {
        var li = document.createElement("li");
        li.className = "list-group-item list-group-item-danger dc-problem";
        li.setAttribute("data-path", p.path);
        li.textContent = (p.line ? config.words.line + " " + p.line + " · " : "") + p.message;
        list.appendChild(li);
      });
      status.className = "label " + (answer.ok ? "label-success" : "label-danger");
      status.textContent = answer.ok ? config.words.valid : answer.problems.length + " " + config.words.problems;
    });
  }
  text.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(check, 300); });
  check();
})();
