// The coordinate under the cursor (WGS84 degrees, as the API takes them) and
// the zoom, in the map's corner. Touch screens have no cursor: there it shows
// the map's centre while the map moves.

export function install(ctx) {
  const { map } = ctx;
  const el = document.getElementById('cursor-coords');
  const show = (unwrapped) => {
    const lngLat = unwrapped.wrap();
    el.textContent = `${lngLat.lng.toFixed(5)}, ${lngLat.lat.toFixed(5)} · z${map.getZoom().toFixed(1)}`;
  };
  map.on('mousemove', (event) => show(event.lngLat));
  map.on('move', () => {
    if (!matchMedia('(hover: hover)').matches) show(map.getCenter());
  });
  show(map.getCenter());
}
