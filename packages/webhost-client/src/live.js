// The live socket, {syncUrl}/v1/sync: the server's `hello` and `revision` notices. Push and
// pull go over HTTP; the socket says when to pull. It reconnects with back-off.

import { Backoff } from './backoff.js'

export class LiveChannel {
  /**
   * @param {object} options
   * @param {string} options.syncUrl
   * @param {string} options.apiKey
   * @param {typeof WebSocket} options.WebSocket
   * @param {{initialDelay?: number, maxDelay?: number}} [options.retry]
   * @param {(hello: object) => void} options.onHello the socket is open: the server's limits and clock
   * @param {(notice: {revision: number, collections: string[]}) => void} options.onRevision
   * @param {(state: 'connecting'|'closed', detail?: {code: number, reason: string}) => void} options.onState
   */
  constructor ({ syncUrl, apiKey, WebSocket, retry, onHello, onRevision, onState }) {
    this.url = `${syncUrl.replace(/\/+$/, '')}/v1/sync?token=${encodeURIComponent(apiKey)}`
    this.WebSocket = WebSocket
    this.backoff = new Backoff(retry)
    this.handlers = { onHello, onRevision, onState }
    this.socket = null
    this.timer = null
    this.stopped = true
  }

  start () {
    if (!this.stopped) return
    this.stopped = false
    this.connect()
  }

  stop () {
    this.stopped = true
    clearTimeout(this.timer)
    const socket = this.socket
    this.socket = null
    if (socket && socket.readyState <= 1) socket.close(1000)
  }

  connect () {
    if (this.stopped) return
    this.handlers.onState('connecting')
    const socket = new this.WebSocket(this.url)
    this.socket = socket
    socket.onmessage = (event) => this.receive(event.data)
    // the error that comes with a failed connection is followed by a close: handled there
    socket.onerror = () => {}
    socket.onclose = (event) => {
      if (this.socket !== socket) return
      this.socket = null
      this.handlers.onState('closed', { code: event.code, reason: event.reason })
      if (!this.stopped) this.timer = setTimeout(() => this.connect(), this.backoff.next())
    }
  }

  receive (data) {
    let message
    try {
      message = JSON.parse(typeof data === 'string' ? data : data.toString())
    } catch {
      return
    }
    if (message.type === 'hello') {
      this.backoff.reset()
      // the socket counts as open once the server has said hello
      this.handlers.onHello(message)
    } else if (message.type === 'revision') {
      this.handlers.onRevision(message)
    }
  }
}
