// The fleet page: a map of a deployment's vehicles, live, with tracks and geofences.
// It calls the deployment's data plane with an API key the user pastes; the key stays in this
// browser tab (sessionStorage) and is never sent to the control plane.
(function () {
  'use strict'

  const root = document.getElementById('fleet')
  if (!root || !window.L) return
  const L = window.L
  const apiUrl = root.dataset.apiUrl.replace(/\/$/, '')
  const storageKey = 'webhost.fleet.key.' + root.dataset.deployment
  const keyForm = document.getElementById('fleet-key-form')
  const status = document.getElementById('fleet-status')
  const list = document.getElementById('fleet-vehicles')
  const markers = new Map() // identifier -> circle marker
  let trackLine = null
  let socket = null
  let retryDelay = 1000

  function say (text) { status.textContent = text }

  // A tile layer needs the network; without one (or offline) the map is a plain grid.
  const GridLayer = L.GridLayer.extend({
    createTile: function (coords) {
      const tile = document.createElement('canvas')
      const size = this.getTileSize()
      tile.width = size.x
      tile.height = size.y
      const context = tile.getContext('2d')
      context.fillStyle = '#f4f6f8'
      context.fillRect(0, 0, size.x, size.y)
      context.strokeStyle = '#d5dbe1'
      context.strokeRect(0, 0, size.x, size.y)
      const corner = this._map.unproject(coords.scaleBy(size), coords.z)
      context.fillStyle = '#8a96a3'
      context.font = '10px sans-serif'
      context.fillText(corner.lat.toFixed(3) + ', ' + corner.lng.toFixed(3), 4, 12)
      return tile
    }
  })

  const map = L.map('fleet-map', { worldCopyJump: true }).setView([20, 0], 2)
  const grid = new GridLayer()
  if (root.dataset.tiles) {
    const tiles = L.tileLayer(root.dataset.tiles, {
      maxZoom: 19, attribution: root.dataset.attribution || ''
    })
    let failures = 0
    tiles.on('tileerror', function () {
      failures += 1
      if (failures === 4 && map.hasLayer(tiles)) {
        map.removeLayer(tiles)
        grid.addTo(map)
        root.dataset.basemap = 'grid'
      }
    })
    tiles.addTo(map)
    root.dataset.basemap = 'tiles'
  } else {
    grid.addTo(map)
    root.dataset.basemap = 'grid'
  }
  const fences = L.layerGroup().addTo(map)

  function key () { return sessionStorage.getItem(storageKey) }

  async function call (path) {
    const response = await fetch(apiUrl + path, { headers: { Authorization: 'Bearer ' + key() } })
    if (!response.ok) {
      let message = response.status + ''
      try { message = (await response.json()).error.message } catch (ignored) {}
      const error = new Error(message)
      error.status = response.status
      throw error
    }
    return response.json()
  }

  function place (position) {
    const id = position.identifier
    const where = [position.latitude, position.longitude]
    let marker = markers.get(id)
    if (!marker) {
      marker = L.circleMarker(where, { radius: 7, weight: 2, color: '#1f6feb', fillOpacity: 0.8 })
      marker.bindTooltip(id)
      marker.on('click', function () { showTrack(id) })
      marker.addTo(map)
      markers.set(id, marker)
      const item = document.createElement('li')
      item.dataset.vehicle = id
      const button = document.createElement('button')
      button.type = 'button'
      button.className = 'link'
      button.textContent = id
      button.addEventListener('click', function () { showTrack(id) })
      item.appendChild(button)
      const detail = document.createElement('span')
      detail.className = 'muted'
      item.appendChild(detail)
      list.appendChild(item)
    }
    marker.setLatLng(where)
    const item = list.querySelector('[data-vehicle="' + CSS.escape(id) + '"] span')
    const speed = position.speed == null ? '' : ' · ' + Math.round(position.speed) + ' km/h'
    if (item) item.textContent = ' ' + new Date(position.device_time).toLocaleTimeString() + speed
  }

  async function showTrack (identifier) {
    try {
      const to = new Date()
      const from = new Date(to.getTime() - 24 * 3600 * 1000)
      const track = await call('/v1/fleet/vehicles/' + encodeURIComponent(identifier) +
        '/track?from=' + from.toISOString() + '&to=' + to.toISOString() + '&points=1000')
      const points = track.points.map(function (p) { return [p.latitude, p.longitude] })
      if (trackLine) map.removeLayer(trackLine)
      trackLine = L.polyline(points, { color: '#d1242f', weight: 3 }).addTo(map)
      root.dataset.track = identifier + ':' + points.length
      if (points.length) map.fitBounds(trackLine.getBounds(), { maxZoom: 16 })
      say('Track of ' + identifier + ': ' + points.length + ' points in the last 24 hours')
    } catch (error) {
      say('Could not load the track: ' + error.message)
    }
  }

  function drawGeofences (geofences) {
    fences.clearLayers()
    geofences.forEach(function (fence) {
      const style = { color: '#8250df', weight: 2, fillOpacity: 0.08 }
      const shape = fence.shape === 'circle'
        ? L.circle([fence.center[1], fence.center[0]], Object.assign({ radius: fence.radius_m }, style))
        : L.polygon(fence.polygon.map(function (c) { return [c[1], c[0]] }), style)
      shape.bindTooltip(fence.name)
      fences.addLayer(shape)
    })
    root.dataset.geofences = String(geofences.length)
  }

  function follow () {
    const url = apiUrl.replace(/^http/, 'ws') + '/v1/fleet/live?token=' + encodeURIComponent(key())
    socket = new WebSocket(url)
    socket.onopen = function () { retryDelay = 1000; root.dataset.live = 'open' }
    socket.onmessage = function (message) {
      const frame = JSON.parse(message.data)
      if (frame.type === 'positions') frame.positions.forEach(place)
      root.dataset.received = String(Number(root.dataset.received || 0) + 1)
    }
    socket.onclose = function (closing) {
      root.dataset.live = 'closed'
      if (closing.code === 4401 || closing.code === 4403) {
        say('The live feed refused the key: ' + closing.reason)
        return
      }
      setTimeout(follow, retryDelay)
      retryDelay = Math.min(retryDelay * 2, 30000)
    }
  }

  async function start () {
    say('Loading vehicles…')
    try {
      const latest = await call('/v1/fleet/latest?limit=1000')
      latest.forEach(place)
      if (latest.length) {
        map.fitBounds(L.latLngBounds(latest.map(function (p) { return [p.latitude, p.longitude] })),
          { maxZoom: 14, padding: [30, 30] })
      }
      drawGeofences(await call('/v1/fleet/geofences?limit=1000'))
      say(latest.length + ' vehicles')
      root.dataset.ready = 'true'
      follow()
    } catch (error) {
      if (error.status === 401 || error.status === 403) {
        sessionStorage.removeItem(storageKey)
        keyForm.hidden = false
      }
      say('Could not load the fleet: ' + error.message)
    }
  }

  keyForm.addEventListener('submit', function (event) {
    event.preventDefault()
    const value = keyForm.elements.key.value.trim()
    if (!value) return
    sessionStorage.setItem(storageKey, value)
    keyForm.reset()
    keyForm.hidden = true
    start()
  })

  if (key()) {
    keyForm.hidden = true
    start()
  } else {
    say('Paste an API key of this deployment to see its fleet.')
  }
})()
