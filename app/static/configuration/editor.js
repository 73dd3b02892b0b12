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

  // The form's own words (buttons, messages) in Chinese for a Chinese page.
  var ZH = {
    button_add: "添加", button_add_row_title: "添加{{0}}", button_cancel: "取消",
    button_collapse: "收起", button_copy: "复制", button_copy_row_title: "复制{{0}}",
    button_copy_row_title_short: "复制", button_delete_all: "全部", button_delete_all_title: "全部删除",
    button_delete_last: "最后一项", button_delete_last_title: "删除最后一项{{0}}",
    button_delete_node_warning: "确定删除这一项吗？", button_delete_row_title: "删除{{0}}",
    button_delete_row_title_short: "删除", button_edit_json: "编辑 JSON", button_expand: "展开",
    button_move_down_title: "下移", button_move_up_title: "上移",
    button_object_properties: "字段", button_properties: "字段", button_save: "保存",
    button_upload: "上传", default_array_item_title: "项",
    error_additional_properties: "不认识的字段 {{0}}", error_const: "只能是规定的值",
    error_date: "日期格式应为 {{0}}", error_enum: "请从选项中选择", error_maximum_excl: "应小于 {{0}}",
    error_maximum_incl: "不能大于 {{0}}", error_minimum_excl: "应大于 {{0}}",
    error_minimum_incl: "不能小于 {{0}}", error_notempty: "必填", error_notset: "必须填写",
    error_pattern: "写法不对", error_required: "缺少必填项 {{0}}", error_type: "类型应为 {{0}}",
    error_type_union: "类型不对", error_maxLength: "最多 {{0}} 个字符",
    error_minLength: "至少 {{0}} 个字符", error_maxItems: "最多 {{0}} 项", error_minItems: "至少 {{0}} 项",
    error_uniqueItems: "有重复项", error_oneOf: "不符合任何一种允许的写法",
    error_anyOf: "不符合任何一种允许的写法", error_not: "不允许这样写"
  };

  if (window.JSONEditor) {
    if (config.lang === "zh") {
      window.JSONEditor.defaults.languages.zh = ZH;
      window.JSONEditor.defaults.language = "zh";
    }
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
