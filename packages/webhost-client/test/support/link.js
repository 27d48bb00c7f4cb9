// A TCP link between one client and the server that a test can cut and restore, so a client
// goes offline for real (connections drop, new ones are refused) while the server runs on.

import { createConnection, createServer } from 'node:net'
import { freePort } from './platform.js'

export class NetworkLink {
  constructor (targetUrl) {
    this.target = new URL(targetUrl)
    this.sockets = new Set()
    this.server = null
  }

  async open () {
    this.port ??= await freePort()
    this.server = createServer((incoming) => {
      const outgoing = createConnection({ host: this.target.hostname, port: Number(this.target.port) })
      for (const [socket, other] of [[incoming, outgoing], [outgoing, incoming]]) {
        this.sockets.add(socket)
        socket.on('error', () => other.destroy())
        socket.on('close', () => {
          this.sockets.delete(socket)
          other.destroy()
        })
      }
      incoming.pipe(outgoing)
      outgoing.pipe(incoming)
    })
    await new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.port, '127.0.0.1', resolve)
    })
    return this
  }

  // the target's path stays: a deployment's URL may be a prefix on the edge (/d/<slug>)
  get httpUrl () {
    return `http://127.0.0.1:${this.port}${this.target.pathname.replace(/\/+$/, '')}`
  }

  get wsUrl () {
    return `ws://127.0.0.1:${this.port}${this.target.pathname.replace(/\/+$/, '')}`
  }

  /** Drops every connection and refuses new ones. */
  async cut () {
    const server = this.server
    this.server = null
    for (const socket of this.sockets) socket.destroy()
    if (server) await new Promise((resolve) => server.close(resolve))
  }

  async restore () {
    if (!this.server) await this.open()
  }
}
