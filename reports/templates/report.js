(function () {
  "use strict";
  // Per-sample browser. Model text is untrusted: it is only ever set with textContent.
  var PAGE = 30;
  var meta = JSON.parse(document.getElementById("report-meta").textContent);
  var data = null;
  var shown = PAGE;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        if (key === "class") { node.className = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
      });
    }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function $(id) { return document.getElementById(id); }

  async function load() {
    var node = $("report-samples");
    var text = node.textContent;
    if (node.getAttribute("data-encoding") === "gzip+base64") {
      var binary = atob(text.trim());
      var bytes = new Uint8Array(binary.length);
      for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
      var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
      text = await new Response(stream).text();
    }
    return JSON.parse(text);
  }

  function option(select, value, label) {
    var node = el("option", { value: value }, label);
    select.appendChild(node);
  }

  function fillMeasures() {
    var select = $("f-measure");
    var task = $("f-task").value;
    var current = select.value;
    select.textContent = "";
    if (!task) {
      option(select, "", "first measure of each task");
    } else {
      data.tasks[task].measures.forEach(function (key) { option(select, key, data.measures[key].label); });
    }
    if (Array.prototype.some.call(select.options, function (o) { return o.value === current; })) {
      select.value = current;
    }
  }

  function setup() {
    var task = $("f-task");
    option(task, "", "all tasks");
    Object.keys(data.tasks).forEach(function (name) { option(task, name, name); });
    ["f-a", "f-b"].forEach(function (id) {
      var select = $(id);
      data.models.forEach(function (model, index) { option(select, String(index), model); });
    });
    $("f-a").value = String(data.models.length > 1 ? 1 : 0);
    $("f-b").value = "0";
    fillMeasures();
    ["f-task", "f-measure", "f-a", "f-b", "f-filter", "f-all"].forEach(function (id) {
      $(id).addEventListener("change", function () {
        if (id === "f-task") { fillMeasures(); }
        shown = PAGE;
        render();
      });
    });
    $("f-search").addEventListener("input", function () { shown = PAGE; render(); });
    $("controls").addEventListener("submit", function (event) { event.preventDefault(); });
    $("sample-more").addEventListener("click", function () { shown += PAGE; render(); });
    document.querySelectorAll("td[data-a]").forEach(function (cell) {
      cell.addEventListener("click", function () {
        var a = data.models.indexOf(cell.getAttribute("data-a"));
        var b = data.models.indexOf(cell.getAttribute("data-b"));
        $("f-task").value = cell.getAttribute("data-task");
        fillMeasures();
        $("f-measure").value = cell.getAttribute("data-measure");
        $("f-a").value = String(a);
        $("f-b").value = String(b);
        // independent samples: no item is shared, so list both models' own items
        $("f-filter").value = cell.getAttribute("data-design") === "independent" ? "all" : "differ";
        shown = PAGE;
        render();
        $("samples").scrollIntoView();
      });
    });
  }

  function measureIndex(item, key) {
    var keys = data.tasks[item.t].measures;
    if (!key) { return keys.length ? 0 : -1; }
    return keys.indexOf(key);
  }

  function valueOf(item, model, index) {
    var row = item.v[model];
    if (!row || index < 0) { return null; }
    var value = row[index];
    return value === undefined ? null : value;
  }

  function failed(output) {
    return output === null || output.ff || output.u.length > 0 || output.e !== null;
  }

  // The models whose output an item card shows: an independent-samples item has one.
  function shownModels(item, state) {
    return item.s === undefined ? state.models : [item.s];
  }

  function matches(item, state) {
    if (state.task && item.t !== state.task) { return false; }
    if (item.s !== undefined) {
      // one model's own item: shown when that model is picked; A-vs-B filters do not apply
      if (state.models.indexOf(item.s) < 0) { return false; }
      if (state.filter === "differ" || state.filter === "a_better" || state.filter === "b_better") { return false; }
    }
    var index = measureIndex(item, state.measure);
    var va = valueOf(item, state.a, index);
    var vb = valueOf(item, state.b, index);
    if (state.filter === "differ" && (va === null || vb === null || va === vb)) { return false; }
    if (state.filter === "a_better" && !(va !== null && vb !== null && va > vb)) { return false; }
    if (state.filter === "b_better" && !(va !== null && vb !== null && vb > va)) { return false; }
    if (state.filter === "failures" && !shownModels(item, state).some(function (m) { return failed(item.o[m]); })) { return false; }
    if (state.query) {
      var haystack = [item.id, item.in || ""];
      shownModels(item, state).forEach(function (m) { if (item.o[m]) { haystack.push(item.o[m].x || ""); } });
      if (haystack.join("\n").toLowerCase().indexOf(state.query) < 0) { return false; }
    }
    return true;
  }

  function formatValue(value, kind) {
    if (value === null) { return "–"; }
    if (kind === "binary") { return value === 1 ? "✓ correct" : value === 0 ? "✗ wrong" : (value * 100).toFixed(0) + "%"; }
    return Number(value).toFixed(3);
  }

  function chipClass(value, kind) {
    if (kind !== "binary" || value === null) { return "chip"; }
    return value >= 1 ? "chip good" : value <= 0 ? "chip bad" : "chip warn";
  }

  function card(item, state) {
    var article = el("article", { class: "item" });
    var header = el("header");
    header.appendChild(el("span", { class: "task" }, item.t));
    header.appendChild(el("code", null, item.id));
    if (item.tg) { header.appendChild(el("span", null, "target: " + item.tg)); }
    var index = measureIndex(item, state.measure);
    var key = index >= 0 ? data.tasks[item.t].measures[index] : null;
    var kind = key ? data.measures[key].kind : "graded";
    var models = shownModels(item, state);
    if (item.s !== undefined) { header.appendChild(el("span", { class: "chip" }, "independent samples: " + data.models[item.s] + "'s own item")); }
    if (key) { header.appendChild(el("span", { class: "note" }, data.measures[key].label + ":")); }
    models.forEach(function (m) {
      var value = valueOf(item, m, index);
      var chip = el("span", { class: chipClass(value, kind) }, data.models[m] + " " + formatValue(value, kind));
      chip.style.borderLeft = "4px solid " + meta.colours[m];
      header.appendChild(chip);
    });
    article.appendChild(header);
    var question = el("details");
    question.appendChild(el("summary", null, "Question"));
    var prompt = item.in || "";
    if (item.ch) { prompt += "\n\n" + item.ch.map(function (c, i) { return String.fromCharCode(65 + i) + ") " + c; }).join("\n"); }
    question.appendChild(el("pre", null, prompt));
    article.appendChild(question);
    var grid = el("div", { class: "outputs" });
    grid.style.gridTemplateColumns = "repeat(" + Math.min(models.length, 3) + ", minmax(0, 1fr))";
    models.forEach(function (m) {
      var output = item.o[m];
      var column = el("section");
      column.style.borderTopColor = meta.colours[m];
      column.appendChild(el("h5", null, data.models[m]));
      if (output === null) {
        column.appendChild(el("p", { class: "empty" }, "not evaluated on this item"));
        grid.appendChild(column);
        return;
      }
      var flags = el("div");
      Object.keys(output.a).forEach(function (scorer) { flags.appendChild(el("span", { class: "chip" }, "answer " + output.a[scorer])); });
      if (output.ff) { flags.appendChild(el("span", { class: "chip bad" }, "format failure")); }
      output.u.forEach(function (scorer) { flags.appendChild(el("span", { class: "chip warn" }, scorer + " unscored")); });
      Object.keys(output.why).forEach(function (scorer) {
        if (output.why[scorer] !== "invalid_response_format") { flags.appendChild(el("span", { class: "chip warn" }, scorer + ": " + output.why[scorer])); }
      });
      if (output.e) { flags.appendChild(el("span", { class: "chip bad" }, "error: " + output.e)); }
      column.appendChild(flags);
      column.appendChild(el("pre", null, output.x || "(empty response)"));
      var keys = Object.keys(output.r);
      if (keys.length) {
        var why = el("details");
        why.appendChild(el("summary", null, "Judge rationale (" + keys.length + ")"));
        keys.forEach(function (name) {
          why.appendChild(el("h5", null, name));
          why.appendChild(el("pre", null, output.r[name]));
        });
        column.appendChild(why);
      }
      grid.appendChild(column);
    });
    article.appendChild(grid);
    return article;
  }

  function render() {
    var a = Number($("f-a").value);
    var b = Number($("f-b").value);
    var models = $("f-all").checked ? data.models.map(function (_, i) { return i; }) : (a === b ? [a] : [a, b]);
    var state = {
      task: $("f-task").value,
      measure: $("f-measure").value,
      a: a,
      b: b,
      filter: $("f-filter").value,
      query: $("f-search").value.trim().toLowerCase(),
      models: models,
    };
    var hits = data.items.filter(function (item) { return matches(item, state); });
    var list = $("sample-list");
    list.textContent = "";
    hits.slice(0, shown).forEach(function (item) { list.appendChild(card(item, state)); });
    var note = "";
    if (state.task && data.tasks[state.task].design === "independent") {
      note = state.filter === "all" || state.filter === "failures"
        ? " (independent samples: each model's own items, model by model)"
        : " (independent samples: items are not shared, so A-vs-B filters list nothing; show all items)";
    }
    $("sample-count").textContent = hits.length + " of " + data.items.length + " items match" + (hits.length > shown ? "; showing the first " + shown : "") + note;
    $("sample-more").hidden = hits.length <= shown;
  }

  load().then(function (payload) {
    data = payload;
    setup();
    render();
  }).catch(function (error) {
    $("sample-count").textContent = "Could not load the samples: " + error;
  });
})();
