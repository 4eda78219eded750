// The Create form's conditional fields (JSON Schema `dependencies`): a group of fields shows only
// while its condition holds, and a hidden group's inputs are disabled so they are not posted.
// Without JavaScript every group shows with its condition written out, and the server drops the
// values of groups that do not apply; this script only saves the reader the noise.
(function () {
  var groups = Array.prototype.slice.call(document.querySelectorAll('[data-when-field]'));
  if (!groups.length) return;
  var form = groups[0].closest('form');
  // The controlling input's values as the server reads them: none for an empty text, an unticked
  // box without a default, or a disabled input (in a hidden group).
  function values(name, off) {
    var out = [];
    form.querySelectorAll('[name="' + CSS.escape(name) + '"]').forEach(function (el) {
      if (el.disabled) return;
      if (el.type === 'checkbox') {
        if (el.checked) out.push(el.value);
        else if (off) out.push(off);
      } else if (el.multiple) {
        Array.prototype.forEach.call(el.selectedOptions, function (o) { if (o.value) out.push(o.value); });
      } else if (el.value.trim() !== '') {
        out.push(el.value.trim());
      }
    });
    return out;
  }
  function update() {
    // In document order: a group inside another is decided after its parent has disabled (or
    // enabled) the input it depends on.
    groups.forEach(function (g) {
      var seen = values(g.getAttribute('data-when-field'), g.getAttribute('data-when-off'));
      var wanted = g.hasAttribute('data-when-values') ? JSON.parse(g.getAttribute('data-when-values')) : null;
      var show = wanted ? seen.some(function (v) { return wanted.indexOf(v) >= 0; }) : seen.length > 0;
      g.hidden = !show;
      g.querySelectorAll('input, select, textarea').forEach(function (el) { el.disabled = !show; });
    });
  }
  form.addEventListener('change', update);
  form.addEventListener('input', update);
  update();
})();
