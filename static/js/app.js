// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Copy buttons: <button data-copy="#input-id">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var input = document.querySelector(button.dataset.copy);
    if (!input) return;
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done);
    } else {
      input.select();
      document.execCommand("copy");
      done();
    }
  });

  // Forms with data-confirm ask before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);

  // A Restore button (<button data-restore-for="#input" data-default-value="…">) is enabled only
  // while its field differs from the default. Without JavaScript it stays enabled.
  var syncRestoreButtons = function () {
    document.querySelectorAll("[data-restore-for]").forEach(function (button) {
      var input = document.querySelector(button.dataset.restoreFor);
      if (input) button.disabled = input.value.trim() === button.dataset.defaultValue;
    });
  };
  syncRestoreButtons();
  document.addEventListener("input", syncRestoreButtons);
  document.addEventListener("htmx:afterSettle", syncRestoreButtons);

  // After an htmx save that failed validation, bring the error summary into view and focus it,
  // as a full page load would (the Save button may be far below it).
  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.target;
    var summary = root && root.querySelector ? root.querySelector("[data-error-summary]") : null;
    if (summary) summary.focus();
  });

  // A key/value row's "Secret" checkbox hides its value as typed (the server renders the same
  // input type on the next refresh).
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.classList || !box.classList.contains("kv-secret")) return;
    var value = box.closest("tr") && box.closest("tr").querySelector("input.kv-value");
    if (!value) return;
    value.type = box.checked ? "password" : "text";
    value.autocomplete = box.checked ? "new-password" : "off";
  });

  // The preset gallery on Add provider filters as you type, as its ?q= search does on the
  // server: a card shows when its name, summary or slug contain every word typed.
  var filterPresets = function (input) {
    var gallery = input.closest("[data-preset-gallery]");
    if (!gallery) return;
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var cards = gallery.querySelectorAll("[data-preset-card]");
    var shown = 0;
    cards.forEach(function (card) {
      var text = card.dataset.search;
      var match = words.every(function (word) { return text.indexOf(word) !== -1; });
      card.hidden = !match;
      if (match) shown++;
    });
    gallery.querySelector("[data-preset-query]").textContent = input.value.trim();
    gallery.querySelector("[data-preset-empty]").hidden = shown > 0;
    gallery.querySelector("[data-preset-count]").textContent = words.length
      ? shown + " of " + cards.length + " presets match." : "";
  };
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-preset-search]")) {
      filterPresets(event.target);
    }
  });

  // Close an open actions menu when clicking elsewhere or pressing Escape.
  var closeMenus = function (except) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  };
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest("details.menu"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("details.menu[open]");
    if (open) {
      open.removeAttribute("open");
      open.querySelector("summary").focus();
    }
  });
})();

// Stats charts (stats/_line_chart.html): a legend button shows or hides its series and the y axis
// fits the series left; a day's values show in a tooltip on hover, or with the arrow keys once the
// chart has focus. Without script the chart, its <title> tooltips and the table still say it all.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";

  // The y axis as stats/charts.py draws it: 0 to a multiple of a round step, about 5 steps.
  var niceStep = function (max) {
    if (max <= 0) return 1;
    var raw = max / 5;
    var magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    var factors = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < factors.length; i++) {
      if (raw <= factors[i] * magnitude) return factors[i] * magnitude;
    }
    return 10 * magnitude;
  };
  var shortNumber = function (value) {
    var units = [[1e9, "B"], [1e6, "M"], [1e3, "k"]];
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(value) >= units[i][0]) {
        var scaled = value / units[i][0];
        return (scaled < 10 ? Math.round(scaled * 10) / 10 : Math.round(scaled)) + units[i][1];
      }
    }
    return String(Math.round(value * 1000) / 1000);
  };

  var rescale = function (chart) {
    var plot = chart.querySelector("[data-chart-plot]");
    var top = Number(plot.dataset.top), bottom = Number(plot.dataset.bottom);
    var values = function (g) { return g.dataset.values.split(" ").map(Number); };
    var max = 0;
    chart.querySelectorAll("[data-series]:not(.is-off)").forEach(function (g) {
      max = Math.max.apply(null, [max].concat(values(g)));
    });
    var step = niceStep(max);
    if (plot.hasAttribute("data-integers")) step = Math.max(1, Math.ceil(step));
    var axisTop = step * Math.max(1, Math.ceil(max / step - 1e-9));
    var y = function (v) { return (bottom - (bottom - top) * v / axisTop).toFixed(1); };
    chart.querySelectorAll("[data-series]").forEach(function (g) {
      var own = values(g);
      var line = g.querySelector("polyline");
      line.setAttribute("points", line.getAttribute("points").split(" ").map(function (point, i) {
        return point.split(",")[0] + "," + y(own[i]);
      }).join(" "));
      g.querySelectorAll("circle").forEach(function (dot, i) { dot.setAttribute("cy", y(own[i])); });
    });
    var axis = chart.querySelector("[data-chart-yaxis]");
    axis.textContent = "";
    for (var n = 0; n * step <= axisTop + 1e-9; n++) {
      var rule = document.createElementNS(SVG, "line");
      rule.setAttribute("class", n ? "chart-gridline" : "chart-baseline");
      [["x1", plot.dataset.left], ["x2", plot.dataset.right], ["y1", y(n * step)], ["y2", y(n * step)]]
        .forEach(function (a) { rule.setAttribute(a[0], a[1]); });
      var label = document.createElementNS(SVG, "text");
      label.setAttribute("class", "chart-ylabel");
      [["x", Number(plot.dataset.left) - 8], ["y", y(n * step)], ["dy", "0.32em"], ["text-anchor", "end"]]
        .forEach(function (a) { label.setAttribute(a[0], a[1]); });
      label.textContent = shortNumber(n * step) + plot.dataset.unit;
      axis.append(rule, label);
    }
  };

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-chart-toggle]");
    if (!button) return;
    var chart = document.getElementById(button.getAttribute("aria-controls"));
    if (!chart) return;
    var shown = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", shown ? "true" : "false");
    chart.querySelectorAll('[data-series="' + button.dataset.chartToggle + '"]').forEach(function (el) {
      el.classList.toggle("is-off", !shown);
    });
    rescale(chart);
  });

  var seriesShown = function (chart) {
    var buttons = document.querySelectorAll('[data-chart-toggle][aria-controls="' + chart.id + '"]');
    if (!buttons.length) {
      return Array.prototype.map.call(chart.querySelectorAll("[data-series]"), function (g) {
        return [g.dataset.series, g.dataset.label];
      });
    }
    return Array.prototype.filter.call(buttons, function (b) {
      return b.getAttribute("aria-pressed") === "true";
    }).map(function (b) { return [b.dataset.chartToggle, b.textContent.trim()]; });
  };

  var show = function (chart, band) {
    var tip = chart.querySelector("[data-chart-tip]");
    var cursor = chart.querySelector("[data-chart-cursor]");
    // The native <title> would pop up too: keep its text aside once the richer tooltip is in use.
    var title = band.querySelector("title");
    if (title) band.dataset.title = band.removeChild(title).textContent;
    cursor.setAttribute("x1", band.dataset.x);
    cursor.setAttribute("x2", band.dataset.x);
    cursor.classList.add("is-active");
    tip.textContent = "";
    var head = document.createElement("strong");
    head.textContent = band.dataset.label;
    tip.appendChild(head);
    seriesShown(chart).forEach(function (pair) {
      var row = document.createElement("span");
      row.className = "chart-tip-row series-" + pair[0];
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      var value = document.createElement("b");
      value.textContent = band.getAttribute("data-v-" + pair[0]);
      row.append(swatch, pair[1], value);
      tip.appendChild(row);
    });
    tip.hidden = false;
    var box = chart.getBoundingClientRect();
    var at = band.getBoundingClientRect();
    var centre = at.left + at.width / 2 - box.left;
    var left = centre + 14;
    if (left + tip.offsetWidth > box.width) left = Math.max(centre - 14 - tip.offsetWidth, 0);
    tip.style.left = left + "px";
    chart.dataset.day = Array.prototype.indexOf.call(band.parentNode.children, band);
  };

  var hide = function (chart) {
    chart.querySelector("[data-chart-tip]").hidden = true;
    chart.querySelector("[data-chart-cursor]").classList.remove("is-active");
  };

  document.addEventListener("mouseover", function (event) {
    var band = event.target.closest && event.target.closest(".chart-bands rect");
    if (band) show(band.closest("[data-chart]"), band);
  });
  document.addEventListener("mouseout", function (event) {
    var plot = event.target.closest && event.target.closest("[data-chart-plot]");
    if (plot && !plot.contains(event.relatedTarget)) hide(plot.closest("[data-chart]"));
  });
  document.addEventListener("focusout", function (event) {
    var plot = event.target.closest && event.target.closest("[data-chart-plot]");
    if (plot) hide(plot.closest("[data-chart]"));
  });
  document.addEventListener("keydown", function (event) {
    var plot = event.target.closest && event.target.closest("[data-chart-plot]");
    if (!plot) return;
    var chart = plot.closest("[data-chart]");
    if (event.key === "Escape") { hide(chart); return; }
    var bands = chart.querySelectorAll(".chart-bands rect");
    var day = chart.dataset.day === undefined ? -1 : Number(chart.dataset.day);
    var next = {
      ArrowRight: day + 1, ArrowLeft: day < 0 ? bands.length - 1 : day - 1, Home: 0, End: bands.length - 1
    }[event.key];
    if (next === undefined || !bands.length) return;
    event.preventDefault();
    show(chart, bands[Math.min(Math.max(next, 0), bands.length - 1)]);
  });
})();
