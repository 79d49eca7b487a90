// Progressive enhancement of a budget ballot: a running total against the budget as projects
// are ticked. The page works without it; the server checks the budget either way.
(function () {
  "use strict";
  var form = document.querySelector("form.ballot[data-budget]");
  if (!form) { return; }
  var budget = parseInt(form.getAttribute("data-budget"), 10);
  var lang = form.getAttribute("data-lang") === "en" ? "en-IE" : "nl-NL";
  var output = document.getElementById("running-total");
  var money = function (cents) {
    return new Intl.NumberFormat(lang, {
      style: "currency", currency: "EUR",
      minimumFractionDigits: cents % 100 ? 2 : 0, maximumFractionDigits: 2
    }).format(cents / 100);
  };
  var fill = function (template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  };
  var update = function () {
    var total = 0;
    form.querySelectorAll("input[type=checkbox][data-cost]").forEach(function (box) {
      if (box.checked) { total += parseInt(box.getAttribute("data-cost"), 10); }
    });
    // Over the budget is an error only where the rule set says ballots must fit it.
    var over = total > budget && form.getAttribute("data-within") === "true";
    var values = { spent: money(total), budget: money(budget), over: money(total - budget), left: money(budget - total) };
    var template = total > budget ? "data-text-over" : "data-text-ok";
    output.textContent = fill(form.getAttribute(template), values);
    output.classList.toggle("over", over);
    output.hidden = false;
  };
  form.addEventListener("change", update);
  update();
}());
