// Map picker: a click on the region's map fills in the form's latitude and
// longitude. The form works without it; this only saves typing.
(function () {
  var svg = document.querySelector('svg[data-pick]');
  if (!svg) return;
  var lat = document.getElementById('f-place.lat'), lon = document.getElementById('f-place.lon');
  var box = svg.dataset.bbox.split(',').map(Number);
  var vb = svg.viewBox.baseVal;
  var dot = svg.querySelector('.picked');
  function place(x, y) { dot.setAttribute('cx', x); dot.setAttribute('cy', y); dot.setAttribute('r', 7); }
  svg.addEventListener('click', function (e) {
    var p = svg.createSVGPoint(); p.x = e.clientX; p.y = e.clientY;
    var q = p.matrixTransform(svg.getScreenCTM().inverse());
    lon.value = (box[0] + q.x / vb.width * (box[2] - box[0])).toFixed(3);
    lat.value = (box[3] - q.y / vb.height * (box[3] - box[1])).toFixed(3);
    place(q.x, q.y);
  });
})();
