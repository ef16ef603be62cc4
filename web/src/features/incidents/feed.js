// Live updates: the server-sent events of /api/incidents/events. The browser
// reconnects by itself after a drop; a reconnect or a `lagged` event means
// changes may have been missed, so listeners are told to reload.
//
// Sets `document.body.dataset.incidentFeed` to `ready` while subscribed (and
// `down` while not), for the dispatcher to see and for the browser test.

/**
 * Follow the feed: `on.reported(incident)`, `on.changed(incident)`,
 * `on.handedOver(incident)`, `on.resync()`.
 */
export function follow(on) {
  const source = new EventSource(new URL('api/incidents/events', document.baseURI));
  let connectedBefore = false;
  source.addEventListener('ready', () => {
    document.body.dataset.incidentFeed = 'ready';
    if (connectedBefore) on.resync();
    connectedBefore = true;
  });
  source.addEventListener('reported', (event) => on.reported(JSON.parse(event.data)));
  source.addEventListener('changed', (event) => on.changed(JSON.parse(event.data)));
  // Handed to another grid by a boundary change: news to its new leader.
  source.addEventListener('handed_over', (event) => on.handedOver(JSON.parse(event.data)));
  source.addEventListener('lagged', () => on.resync());
  source.addEventListener('error', () => {
    document.body.dataset.incidentFeed = 'down';
  });
  return source;
}
