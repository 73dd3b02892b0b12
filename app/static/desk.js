/* The desk screen 报价出单: plain JavaScript over the /desk JSON endpoints.
   Steps: pick a vehicle -> choose products and carriers -> quotes arrive -> bundle -> pay -> issue.
   Every POST carries the page's CSRF token; every refusal names its field and is shown beside it. */
(function () {
  "use strict";
  var root = document.getElementById("dc-desk");
  if (!root) { return; }
  var texts = document.getElementById("dc-desk-texts").dataset;
  var state = { vehicle: null, catalogue: null, quote: null, chosen: {}, order: null, timer: null };

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k === "className") { node.className = attrs[k]; }
      else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }
  function yuan(v) {
    if (v === null || v === undefined) { return "—"; }
    var parts = Number(v).toFixed(2).split(".");
    return "¥" + parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + parts[1];
  }
  function request(method, url, body) {
    var options = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = root.dataset.csrf;
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(messageOf(data) || ("HTTP " + response.status));
          error.field = data.field; error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  }
  function messageOf(data) {
    if (!data) { return ""; }
    if (typeof data.message === "string") { return data.message; }
    if (data.message && typeof data.message === "object") {
      return Object.keys(data.message).map(function (k) { return data.message[k]; }).join("；");
    }
    return "";
  }
  function showError(id, error) {
    $(id).textContent = error ? error.message : "";
    document.querySelectorAll(".has-error").forEach(function (n) { n.classList.remove("has-error"); });
    if (error && error.field) {
      var input = document.querySelector("#dc-new [name='" + error.field + "']");
      if (input && input.parentNode) { input.parentNode.classList.add("has-error"); input.focus(); }
    }
  }

  /* 1. customer and vehicle */
  function find() {
    var q = $("dc-find").value.trim();
    showError("dc-find-error", null);
    request("GET", root.dataset.find + "?q=" + encodeURIComponent(q)).then(function (data) {
      var list = $("dc-find-results");
      list.innerHTML = "";
      if (!data.result.length) { list.appendChild(el("p", { className: "text-muted", text: texts.noResults })); }
      data.result.forEach(function (v) {
        var item = el("a", { href: "#", className: "list-group-item dc-vehicle", "data-vehicle": v.vehicle_id }, [
          el("strong", { text: (v.plate || v.vin) + " " }),
          el("span", { text: v.customer_name + " " + v.mobile }),
          el("small", { className: "text-muted", text: " " + v.model + " · " + v.store })
        ]);
        item.addEventListener("click", function (e) { e.preventDefault(); choose(v); });
        list.appendChild(item);
      });
    }).catch(function (error) { showError("dc-find-error", error); });
  }
  function choose(v) {
    state.vehicle = v;
    $("dc-chosen-vehicle").textContent = "✓ " + (v.plate || v.vin) + " " + v.customer_name;
    $("dc-find-results").innerHTML = "";
    $("dc-quote-go").disabled = false;
  }
  $("dc-find-go").addEventListener("click", find);
  $("dc-find").addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); find(); } });
  $("dc-new-toggle").addEventListener("click", function () { $("dc-new").classList.toggle("hidden"); });
  $("dc-new").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = {};
    new FormData($("dc-new")).forEach(function (value, key) { body[key] = value; });
    body.is_new = !!body.is_new;
    request("POST", root.dataset.customer, body).then(function (data) {
      showError("dc-new-error", null);
      $("dc-new").classList.add("hidden");
      choose(data.result);
    }).catch(function (error) { showError("dc-new-error", error); });
  });

  /* 2. products and carriers */
  function tomorrow() {
    var d = new Date(Date.now() + 86400000);
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }
  $("dc-start").value = tomorrow();
  request("GET", root.dataset.catalogue).then(function (data) {
    state.catalogue = data;
    renderProducts(data.products);
    renderCarriers(data.carriers);
  }).catch(function (error) { $("dc-products").textContent = error.message; });

  function renderProducts(products) {
    var box = $("dc-products");
    box.innerHTML = "";
    products.forEach(function (p) {
      var motor = p.line === "compulsory_motor" || p.line === "commercial_motor";
      var head = el("label", { className: "dc-product-name" }, [
        el("input", { type: "checkbox", className: "dc-product", value: p.key }),
        el("span", { text: " " + p.title })
      ]);
      if (motor) { head.firstChild.checked = true; }
      var cover = el("div", { className: "dc-coverages" });
      p.coverages.forEach(function (c) {
        var input = el("input", { type: "checkbox", className: "dc-coverage", value: c.code, "data-product": p.key });
        input.checked = c.selected || c.required;
        if (c.required) { input.disabled = true; }
        var row = el("label", { className: "dc-coverage-row" }, [input, el("span", { text: " " + c.name })]);
        var si = c.sum_insured;
        if (si && si.mode === "choice") {
          var select = el("select", { className: "form-control input-sm dc-sum", "data-coverage": c.code, "data-product": p.key });
          si.choices.forEach(function (v) {
            var option = el("option", { value: v, text: yuan(v).replace(".00", "") });
            if (v === si["default"]) { option.selected = true; }
            select.appendChild(option);
          });
          row.appendChild(select);
        }
        cover.appendChild(row);
      });
      box.appendChild(el("div", { className: "dc-product-box", "data-product": p.key }, [head, cover]));
    });
  }
  function renderCarriers(carriers) {
    var box = $("dc-carriers");
    box.innerHTML = "";
    carriers.forEach(function (c) {
      var input = el("input", { type: "checkbox", className: "dc-carrier", value: c.key });
      input.checked = true;
      box.appendChild(el("label", { className: "dc-carrier-name" }, [input, el("span", { text: " " + c.name })]));
    });
  }
  function tickCarriers(on) {
    document.querySelectorAll(".dc-carrier").forEach(function (i) { i.checked = on; });
  }
  $("dc-carriers-all").addEventListener("click", function (e) { e.preventDefault(); tickCarriers(true); });
  $("dc-carriers-none").addEventListener("click", function (e) { e.preventDefault(); tickCarriers(false); });

  function quoteRequest() {
    var lines = [];
    document.querySelectorAll(".dc-product:checked").forEach(function (p) {
      var coverages = [];
      document.querySelectorAll(".dc-coverage[data-product='" + p.value + "']").forEach(function (c) {
        if (!c.checked) { return; }
        var sum = document.querySelector(".dc-sum[data-product='" + p.value + "'][data-coverage='" + c.value + "']");
        coverages.push(sum ? { code: c.value, sum_insured: sum.value } : { code: c.value });
      });
      lines.push({ product: p.value, coverages: coverages });
    });
    var carriers = [];
    document.querySelectorAll(".dc-carrier:checked").forEach(function (c) { carriers.push(c.value); });
    return {
      customer_id: state.vehicle.customer_id,
      vehicle_id: state.vehicle.vehicle_id,
      start_date: $("dc-start").value,
      terminal: window.matchMedia("(max-width: 767px)").matches ? "phone" : "pc",
      history: { claims_last_year: Number($("dc-claims").value), claim_free_years: Number($("dc-free").value) },
      carriers: carriers,
      lines: lines
    };
  }
  $("dc-quote-go").addEventListener("click", function () {
    showError("dc-quote-error", null);
    $("dc-quote-go").disabled = true;
    request("POST", root.dataset.quote, quoteRequest()).then(function (data) {
      state.quote = data; state.chosen = {}; state.fees = null; state.feesFor = null;
      $("dc-step-answers").classList.remove("hidden");
      renderAnswers(data);
      poll();
    }).catch(function (error) {
      showError("dc-quote-error", error);
    }).then(function () { $("dc-quote-go").disabled = false; });
  });

  /* 3. answers, as they arrive */
  function poll() {
    clearTimeout(state.timer);
    if (!state.quote || state.quote.status === "done") { return; }
    state.timer = setTimeout(function () {
      request("GET", root.dataset.base + "quote/" + state.quote.id).then(function (data) {
        state.quote = data;
        renderAnswers(data);
        poll();
      }).catch(function () { poll(); });
    }, 300);
  }
  function loadFees(quote) {
    if (quote.status !== "done" || state.feesFor === quote.id) { return; }
    state.feesFor = quote.id;
    request("GET", root.dataset.fees + quote.id).then(function (data) {
      state.fees = data.answers;
      renderAnswers(state.quote);
    }).catch(function () { state.fees = null; /* not allowed to see fees: nothing shown */ });
  }
  function renderAnswers(quote) {
    loadFees(quote);
    var p = quote.progress;
    $("dc-progress").style.width = (p.asked ? Math.round(100 * p.answered / p.asked) : 0) + "%";
    $("dc-progress-text").textContent = " " + p.answered + "/" + p.asked + " " + texts.quoted;
    var box = $("dc-answers");
    box.innerHTML = "";
    quote.answers.forEach(function (a) { box.appendChild(answerCard(a, quote.best_answer_id === a.id)); });
    renderBundle();
  }
  function answerCard(a, best) {
    var card = el("div", { className: "dc-answer dc-answer-" + a.status + (best ? " dc-best" : ""), "data-carrier": a.carrier_key });
    var head = el("div", { className: "dc-answer-head" }, [
      el("strong", { text: a.carrier_name }),
      el("span", { className: "label " + labelClass(a.status), text: a.status_label })
    ]);
    card.appendChild(head);
    if (a.status !== "ok") {
      if (a.reasons && a.reasons.length) { card.appendChild(el("p", { className: "dc-reasons", text: a.reasons.join("；") })); }
      return card;
    }
    a.lines.forEach(function (line) {
      var chosen = state.chosen[line.line] === a.id;
      var row = el("div", { className: "dc-line" + (chosen ? " dc-line-chosen" : "") }, [
        el("span", { className: "dc-line-name", text: productTitle(line.product_key) }),
        el("span", { className: "dc-line-premium", text: yuan(line.premium) })
      ]);
      if (line.vehicle_tax && Number(line.vehicle_tax) > 0) {
        row.appendChild(el("small", { className: "text-muted", text: " +" + texts.tax + " " + yuan(line.vehicle_tax) }));
      }
      var pick = el("button", { type: "button", className: "btn btn-xs " + (chosen ? "btn-success" : "btn-default") + " dc-pick",
                                "data-answer": a.id, "data-line": line.line, text: chosen ? texts.chosen : texts.choose });
      if (a.expired) { pick.disabled = true; }
      pick.addEventListener("click", function () { pickLine(a, line.line); });
      row.appendChild(pick);
      card.appendChild(row);
      var details = el("ul", { className: "dc-coverage-premiums" });
      line.coverages.forEach(function (c) {
        details.appendChild(el("li", { text: c.name + (c.sum_insured ? "（" + yuan(c.sum_insured).replace(".00", "") + "）" : "") + " " + yuan(c.premium) }));
      });
      card.appendChild(details);
    });
    var foot = [texts.total + " " + yuan(a.total)];
    if (a.change_against_last_year) { foot.push(texts.lastYear + " " + a.change_against_last_year); }
    foot.push(a.expired ? texts.expired : texts.valid + " " + new Date(a.valid_until).toLocaleTimeString("zh-CN", { hour12: false }));
    card.appendChild(el("p", { className: "dc-answer-foot", text: foot.join(" · ") }));
    var fees = state.fees && state.fees[String(a.id)];
    if (fees) {
      var parts = fees.fees.map(function (f) { return f.label + " " + yuan(f.amount); });
      card.appendChild(el("p", { className: "dc-answer-fees", text: texts.fees + " " + yuan(fees.total) + (parts.length ? "（" + parts.join("，") + "）" : "") }));
    }
    return card;
  }
  function labelClass(status) {
    return { ok: "label-success", pending: "label-default", refused: "label-warning", failed: "label-danger", timeout: "label-danger" }[status] || "label-default";
  }
  function productTitle(key) {
    var found = (state.catalogue.products || []).filter(function (p) { return p.key === key; })[0];
    return found ? found.title : key;
  }
  function pickLine(answer, line) {
    state.chosen[line] = state.chosen[line] === answer.id ? undefined : answer.id;
    renderAnswers(state.quote);
    loadPackages();
  }

  /* 4. bundle, pay, issue */
  function chosenItems() {
    var byAnswer = {};
    Object.keys(state.chosen).forEach(function (line) {
      var id = state.chosen[line];
      if (id) { (byAnswer[id] = byAnswer[id] || []).push(line); }
    });
    return Object.keys(byAnswer).map(function (id) { return { answer_id: Number(id), lines: byAnswer[id] }; });
  }
  function renderBundle() {
    var items = chosenItems();
    $("dc-step-order").classList.toggle("hidden", !items.length && !state.order);
    var box = $("dc-bundle");
    box.innerHTML = "";
    var total = 0;
    items.forEach(function (item) {
      var answer = state.quote.answers.filter(function (a) { return a.id === item.answer_id; })[0];
      item.lines.forEach(function (code) {
        var line = answer.lines.filter(function (l) { return l.line === code; })[0];
        total += Number(line.premium) + Number(line.vehicle_tax || 0);
        box.appendChild(el("p", { className: "dc-bundle-line", text: answer.carrier_name + " " + productTitle(line.product_key) + " " + yuan(Number(line.premium) + Number(line.vehicle_tax || 0)) }));
      });
    });
    document.querySelectorAll(".dc-package:checked").forEach(function (p) { total += Number(p.dataset.price); });
    $("dc-bundle-total").textContent = yuan(total);
    $("dc-bind").disabled = !items.length || !!state.order;
  }
  function loadPackages() {
    if (!state.quote) { return; }
    var lines = Object.keys(state.chosen).filter(function (l) { return state.chosen[l]; }).join(",");
    request("GET", root.dataset.base + "quote/" + state.quote.id + "/packages?lines=" + encodeURIComponent(lines)).then(function (data) {
      var box = $("dc-packages");
      var ticked = {};
      document.querySelectorAll(".dc-package:checked").forEach(function (p) { ticked[p.value] = true; });
      box.innerHTML = "";
      data.result.forEach(function (p) {
        var input = el("input", { type: "checkbox", className: "dc-package", value: p.key, "data-price": p.price });
        input.checked = !!ticked[p.key];
        input.addEventListener("change", renderBundle);
        box.appendChild(el("label", { className: "dc-package-name" }, [input, el("span", { text: " " + p.title + " " + yuan(p.price) })]));
      });
      renderBundle();
    }).catch(function () { /* packages are optional */ });
  }
  $("dc-bind").addEventListener("click", function () {
    showError("dc-order-error", null);
    var packages = [];
    document.querySelectorAll(".dc-package:checked").forEach(function (p) { packages.push(p.value); });
    $("dc-bind").disabled = true;
    request("POST", root.dataset.order, { quote_id: state.quote.id, items: chosenItems(), service_packages: packages })
      .then(function (order) { state.order = order; showOrder(order); return pay(order); })
      .catch(function (error) { showError("dc-order-error", error); $("dc-bind").disabled = false; });
  });
  function pay(order) {
    return request("POST", root.dataset.base + "order/" + order.id + "/pay", {}).then(function (payment) {
      $("dc-pay").classList.remove("hidden");
      $("dc-qr").src = root.dataset.qr + "?data=" + encodeURIComponent(payment.qr_payload);
      $("dc-pay-amount").textContent = yuan(payment.amount);
      $("dc-pay-sandbox").classList.toggle("hidden", payment.provider !== "payment_sandbox");
      watchOrder(order.id);
    });
  }
  function watchOrder(id) {
    clearTimeout(state.timer);
    state.timer = setTimeout(function () {
      request("GET", root.dataset.base + "order/" + id).then(function (order) {
        state.order = order;
        showOrder(order);
        if (order.status !== "issued" && order.status !== "issue_failed") { watchOrder(id); }
      }).catch(function () { watchOrder(id); });
    }, 700);
  }
  function showOrder(order) {
    $("dc-order").classList.remove("hidden");
    $("dc-order-no").textContent = order.order_no + " " + yuan(order.total);
    $("dc-order-status").textContent = order.status_label;
    if (order.status !== "awaiting_payment") { $("dc-pay").classList.add("hidden"); }
    $("dc-issue-retry").classList.toggle("hidden", order.status !== "issue_failed");
    if (order.last_error) { $("dc-order-error").textContent = order.last_error; }
    var list = $("dc-documents");
    list.innerHTML = "";
    (order.documents || []).forEach(function (d) {
      var item = el("li", {}, [el("strong", { text: d.title + " " })]);
      if (d.page) { item.appendChild(el("a", { href: d.page, className: "btn btn-link btn-sm", text: texts.policy })); }
      if (d.pdf) { item.appendChild(el("a", { href: d.pdf, className: "btn btn-primary btn-sm dc-pdf", text: texts.pdf })); }
      list.appendChild(item);
    });
  }
  $("dc-pay-sandbox").addEventListener("click", function () {
    request("POST", root.dataset.base + "order/" + state.order.id + "/sandbox-pay", {}).then(function () {
      watchOrder(state.order.id);
    }).catch(function (error) { showError("dc-order-error", error); });
  });
  $("dc-issue-retry").addEventListener("click", function () {
    request("POST", root.dataset.base + "order/" + state.order.id + "/issue", {}).then(function (order) {
      showOrder(order); watchOrder(order.id);
    }).catch(function (error) { showError("dc-order-error", error); });
  });
})();
