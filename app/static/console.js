/* The console's shell (app/templates/appbuilder/baselayout.html), as listeners (the Content
   Security Policy runs no inline handlers):

   [data-dc-nav-toggle]   the menu button: on a phone, slides the side menu in and out.
   [data-dc-nav-close]    the shade behind the open menu: a tap closes it.
   a[data-dc-back]        goes back a page when there is one (its href is the fallback).
   details[data-dc-group] the side menu's groups: which ones the user left open is remembered
                          in this browser (localStorage) and restored on the next page.
   Flask-AppBuilder's own scripts: their few English words (the select boxes' "Select"
   placeholder, the "No row selected" alert) and select2's ("Remove all items", "No results
   found") are shown in the page's language. */
(function () {
  "use strict";

  var STORE = "dc.menu.open";
  var lang = (document.documentElement.getAttribute("lang") || "zh").slice(0, 2);
  var WORDS = {
    zh: { "Select": "请选择", "No row selected": "请先勾选记录" }
  };
  // Select2's own words (4.0.13), for its select boxes in the whole console.
  var SELECT2 = {
    zh: {
      errorLoading: function () { return "无法载入结果"; },
      inputTooLong: function (a) { return "请删除" + (a.input.length - a.maximum) + "个字符"; },
      inputTooShort: function (a) { return "请再输入至少" + (a.minimum - a.input.length) + "个字符"; },
      loadingMore: function () { return "载入更多结果…"; },
      maximumSelected: function (a) { return "最多只能选择" + a.maximum + "项"; },
      noResults: function () { return "未找到结果"; },
      searching: function () { return "搜索中…"; },
      removeAllItems: function () { return "清除"; },
      removeItem: function () { return "删除"; },
      search: function () { return "搜索"; }
    }
  };

  function word(text) {
    var table = WORDS[lang] || {};
    return table[text] || text;
  }

  var moving = null;

  function setOpen(open) {
    // Slides only when the button moves it, not when the window is resized across 768 px.
    document.body.classList.add("dc-nav-moving");
    window.clearTimeout(moving);
    moving = window.setTimeout(function () {
      document.body.classList.remove("dc-nav-moving");
    }, 250);
    document.body.classList.toggle("dc-nav-open", open);
    var button = document.querySelector("[data-dc-nav-toggle]");
    if (button) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target.closest) {
      return;
    }
    if (target.closest("[data-dc-nav-toggle]")) {
      setOpen(!document.body.classList.contains("dc-nav-open"));
    } else if (target.closest("[data-dc-nav-close]")) {
      setOpen(false);
    } else if (target.closest("a[data-dc-back]") && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      setOpen(false);
    }
  });

  function remembered() {
    try {
      return JSON.parse(window.localStorage.getItem(STORE) || "[]");
    } catch (e) {
      return [];
    }
  }

  function remember() {
    var open = [];
    document.querySelectorAll("details[data-dc-group][open]").forEach(function (group) {
      open.push(group.getAttribute("data-dc-group"));
    });
    try {
      window.localStorage.setItem(STORE, JSON.stringify(open));
    } catch (e) {
      /* private mode: nothing remembered */
    }
  }

  function restoreGroups() {
    var open = remembered();
    document.querySelectorAll("details[data-dc-group]").forEach(function (group) {
      if (open.indexOf(group.getAttribute("data-dc-group")) >= 0) {
        group.open = true;
      }
      group.addEventListener("toggle", remember);
    });
  }

  // Flask-AppBuilder's ab.js builds its select boxes with placeholder "Select" and its list
  // actions alert "No row selected": both pass through here.
  function translateFab() {
    var $ = window.jQuery;
    if ($ && $.fn && $.fn.select2 && !$.fn.select2.dcWrapped) {
      var original = $.fn.select2;
      var wrapped = function (options) {
        if (options && typeof options === "object" && typeof options.placeholder === "string") {
          options.placeholder = word(options.placeholder);
        }
        return original.apply(this, arguments);
      };
      Object.keys(original).forEach(function (key) {
        wrapped[key] = original[key];
      });
      wrapped.dcWrapped = true;
      $.fn.select2 = wrapped;
      if (SELECT2[lang] && original.defaults) {
        original.defaults.set("language", SELECT2[lang]);
      }
    }
    if (typeof window.ab_alert === "function" && !window.ab_alert.dcWrapped) {
      var alertOriginal = window.ab_alert;
      window.ab_alert = function (text) {
        return alertOriginal(word(text));
      };
      window.ab_alert.dcWrapped = true;
    }
  }

  translateFab();
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", restoreGroups);
  } else {
    restoreGroups();
  }
})();
