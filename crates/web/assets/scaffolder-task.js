// The task page's live log: follows the task's event stream and appends each line; reloads the
// page when the task completes (to show its output). Without JavaScript the page refreshes itself.
(function () {
  var log = document.getElementById('task-log');
  if (!log || !window.EventSource) return;
  var url = log.getAttribute('data-stream');
  var source = new EventSource(url);
  function add(event) {
    var e = JSON.parse(event.data);
    var li = document.createElement('li');
    var msg = (e.body && e.body.message) || '';
    // Backstage's action lines carry terminal colour codes.
    li.textContent = msg.replace(/\u001b\[[0-9;]*m/g, '');
    if (e.body && e.body.status) li.className = 'status-' + e.body.status;
    log.appendChild(li);
  }
  source.addEventListener('log', add);
  source.addEventListener('completion', function (event) {
    add(event);
    source.close();
    window.location.reload();
  });
})();
