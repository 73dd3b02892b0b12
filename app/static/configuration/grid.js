/* The grid editor of a decision table (templates/configuration/document_grid.html).

   - Each cell is checked by the rules engine's parser as it is typed (POST cellUrl): a cell the
     engine refuses is outlined in red with the engine's message under it.
   - After any change the whole table is analysed (POST checkUrl): rows that overlap or can never
     fire are marked, and the gaps (inputs no row covers) are listed with the row that would
     fill them.
   - Rows are added, moved up and down and deleted with the buttons; saving sends the rows as
     JSON in the form's hidden "table" field.
   Configuration comes from the JSON in #dc-grid-config; calls carry the page's CSRF token. */
(function () {
  "use strict";

  var configNode = document.getElementById("dc-grid-config");
  if (!configNode) {
    return;
  }
  var config = JSON.parse(configNode.textContent);
  var words = config.words;
  var body = document.getElementById("dc-grid-body");
  var form = document.getElementById("dc-grid-form");
  var policy = document.getElementById("dc-grid-policy");
  var messages = document.getElementById("dc-grid-messages");
  var status = document.getElementById("dc-grid-status");
  var csrfMeta = document.querySelector("meta[name=csrf-token]");
  var csrfToken = csrfMeta ? csrfMeta.content : "";
  var tableTimer = null;
  var tableRequest = 0;

  function post(url, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken},
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().then(function (answer) {
        return {ok: response.ok, answer: answer};
      });
    });
  }

  function rows() {
    return Array.prototype.slice.call(body.querySelectorAll("tr.dc-grid-row"));
  }

  function table() {
    return {
      hit_policy: policy.value,
      rules: rows().map(function (row) {
        var rule = {when: {}, then: {}};
        row.querySelectorAll("input.dc-cell").forEach(function (input) {
          var side = input.getAttribute("data-side") === "input" ? "when" : "then";
          rule[side][input.getAttribute("data-column")] = input.value;
        });
        var description = row.querySelector("input.dc-row-description");
        if (description && description.value.trim()) {
          rule.description = description.value;
        }
        return rule;
      })
    };
  }

  // --- one cell -------------------------------------------------------------------------------

  function showCellProblems(input, problems) {
    var holder = input.parentNode.querySelector(".dc-cell-problem");
    input.classList.toggle("dc-cell-bad", problems.length > 0);
    input.setAttribute("aria-invalid", problems.length > 0 ? "true" : "false");
    if (holder) {
      holder.textContent = problems.join("；");
    }
  }

  function checkCell(input) {
    post(config.cellUrl, {
      inputs: config.inputs,
      outputs: config.outputs,
      column: input.getAttribute("data-column"),
      side: input.getAttribute("data-side"),
      text: input.value
    }).then(function (result) {
      if (result.ok) {
        showCellProblems(input, result.answer.problems);
      } else {
        showCellProblems(input, [result.answer.message]);
      }
    });
  }

  // --- the whole table ------------------------------------------------------------------------

  function item(text, kind) {
    var li = document.createElement("li");
    li.className = "list-group-item dc-finding dc-finding-" + kind;
    li.textContent = text;
    messages.appendChild(li);
    return li;
  }

  function showTable(answer) {
    messages.innerHTML = "";
    var marks = {};
    answer.rows.forEach(function (row) {
      marks[row.number] = row;
    });
    rows().forEach(function (row, index) {
      var found = marks[index + 1];
      row.classList.toggle("dc-row-warn", Boolean(found && found.warn));
      var cellErrors = {};
      if (found) {
        found.marks.forEach(function (mark) {
          if (mark.severity === "error" && mark.column) {
            cellErrors[mark.column] = mark.message;
          }
        });
      }
      row.querySelectorAll("input.dc-cell").forEach(function (input) {
        var message = cellErrors[input.getAttribute("data-column")];
        if (message) {
          showCellProblems(input, [message]);
        }
      });
    });
    var count = 0;
    answer.errors.forEach(function (error) {
      item(error.message, "error");
      count += 1;
    });
    answer.rows.forEach(function (row) {
      row.marks.forEach(function (mark) {
        if (mark.severity !== "error") {
          item(mark.message, mark.severity);
          count += 1;
        }
      });
    });
    answer.gaps.forEach(function (gap) {
      var li = item(words.gap + "：" + gap.message + " ", "gap");
      li.setAttribute("data-gap-cells", gap.cells.join(" | "));
      var fill = document.createElement("button");
      fill.type = "button";
      fill.className = "btn btn-xs btn-default dc-fill-gap";
      fill.textContent = words.fill;
      fill.addEventListener("click", function () {
        addRow(gap.cells);
      });
      li.appendChild(fill);
      count += 1;
    });
    answer.notes.forEach(function (note) {
      item(note.message, "info");
    });
    if (!rows().length) {
      item(words.noRows, "info");
    }
    status.className = "label " + (count ? "label-warning" : "label-success");
    status.textContent = count ? words.problems.replace("{n}", count) : words.ok;
    status.setAttribute("data-gaps", String(answer.gaps.length));
  }

  function checkTable() {
    var mine = ++tableRequest;
    status.className = "label label-default";
    status.textContent = words.checking;
    post(config.checkUrl, table()).then(function (result) {
      if (mine !== tableRequest) {
        return; // a later edit's check is on its way
      }
      if (result.ok) {
        showTable(result.answer);
      } else {
        messages.innerHTML = "";
        item(result.answer.message || words.unreadable, "error");
        status.className = "label label-danger";
        status.textContent = words.unreadable;
      }
    }).catch(function () {
      status.className = "label label-danger";
      status.textContent = words.unreadable;
    });
  }

  function soon() {
    clearTimeout(tableTimer);
    tableTimer = setTimeout(checkTable, 350);
  }

  // --- rows -----------------------------------------------------------------------------------

  function renumber() {
    rows().forEach(function (row, index) {
      row.querySelector(".dc-row-number").textContent = String(index + 1);
    });
  }

  function button(className, icon, label, style) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-xs " + style + " " + className;
    b.title = label;
    b.setAttribute("aria-label", label);
    var i = document.createElement("i");
    i.className = "fa " + icon;
    b.appendChild(i);
    return b;
  }

  function newRow(cells) {
    var row = document.createElement("tr");
    row.className = "dc-grid-row";
    var number = document.createElement("td");
    number.className = "dc-num dc-row-number";
    row.appendChild(number);
    config.columns.forEach(function (column) {
      var td = document.createElement("td");
      td.className = "dc-grid-cell";
      var input = document.createElement("input");
      input.className = "form-control input-sm dc-cell";
      input.setAttribute("data-column", column.name);
      input.setAttribute("data-side", column.side);
      input.setAttribute("aria-label", column.label);
      input.setAttribute("autocomplete", "off");
      input.setAttribute("spellcheck", "false");
      var position = config.columns.indexOf(column);
      input.value = (cells && column.side === "input" && cells[position]) || "-";
      var problem = document.createElement("div");
      problem.className = "dc-cell-problem";
      td.appendChild(input);
      td.appendChild(problem);
      row.appendChild(td);
    });
    var describe = document.createElement("td");
    var description = document.createElement("input");
    description.className = "form-control input-sm dc-row-description";
    description.setAttribute("aria-label", words.description);
    describe.appendChild(description);
    row.appendChild(describe);
    var tools = document.createElement("td");
    tools.className = "dc-row-tools";
    tools.appendChild(button("dc-row-up", "fa-arrow-up", words.moveUp, "btn-default"));
    tools.appendChild(document.createTextNode(" "));
    tools.appendChild(button("dc-row-down", "fa-arrow-down", words.moveDown, "btn-default"));
    tools.appendChild(document.createTextNode(" "));
    tools.appendChild(button("dc-row-delete", "fa-trash", words.delete, "btn-danger"));
    row.appendChild(tools);
    return row;
  }

  // A new row: empty ("-" everywhere), or the cells of a gap to fill, its outputs to write.
  function addRow(cells) {
    var row = newRow(cells);
    body.appendChild(row);
    renumber();
    soon();
    var first = row.querySelector(cells ? "input.dc-cell[data-side=output]" : "input.dc-cell");
    if (first) {
      first.focus();
      first.select();
    }
  }

  document.getElementById("dc-add-row").addEventListener("click", function () {
    addRow(null);
  });

  body.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("button") : null;
    if (!target) {
      return;
    }
    var row = target.closest("tr");
    if (target.classList.contains("dc-row-up") && row.previousElementSibling) {
      body.insertBefore(row, row.previousElementSibling);
    } else if (target.classList.contains("dc-row-down") && row.nextElementSibling) {
      body.insertBefore(row.nextElementSibling, row);
    } else if (target.classList.contains("dc-row-delete")) {
      body.removeChild(row);
    } else {
      return;
    }
    renumber();
    soon();
  });

  var cellTimers = new WeakMap();
  body.addEventListener("input", function (event) {
    var input = event.target;
    if (input.classList && input.classList.contains("dc-cell")) {
      clearTimeout(cellTimers.get(input));
      cellTimers.set(input, setTimeout(function () {
        checkCell(input);
      }, 250));
      soon();
    }
  });
  policy.addEventListener("change", soon);

  form.addEventListener("submit", function () {
    document.getElementById("dc-grid-table").value = JSON.stringify(table());
  });

  checkTable();
})();
