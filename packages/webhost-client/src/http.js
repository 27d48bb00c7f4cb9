// JSON over HTTP to the data plane, with the API key as a Bearer token. Network failures and
// 5xx answers are retryable; other answers carry the server's error code and message.

import { NetworkError, WebHostError, redact } from './errors.js'

export class HttpApi {
  /**
   * @param {{apiUrl: string, apiKey: string, fetch?: typeof fetch}} options
   */
  constructor ({ apiUrl, apiKey, fetch = globalThis.fetch }) {
    this.apiUrl = apiUrl.replace(/\/+$/, '')
    this.apiKey = apiKey
    this.fetch = fetch
    // close() aborts what is in flight, so a client closes at once even with a server hanging
    this.aborter = new AbortController()
  }

  close () {
    this.aborter.abort()
  }

  async request (method, path, body) {
    const headers = { authorization: `Bearer ${this.apiKey}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    let response
    let text
    try {
      response = await this.fetch(this.apiUrl + path, {
        method,
        headers,
        signal: this.aborter.signal,
        body: body === undefined ? undefined : JSON.stringify(body)
      })
      text = await response.text()
    } catch (cause) {
      throw new NetworkError(`${method} ${path}: ${redact(cause?.cause?.message ?? cause?.message ?? cause, this.apiKey)}`)
    }
    if (!response.ok) throw answerError(method, path, response.status, text, this.apiKey)
    try {
      return JSON.parse(text)
    } catch {
      throw new WebHostError(`${method} ${path}: the answer is not JSON`, { status: response.status, retryable: true })
    }
  }
}

function answerError (method, path, status, text, apiKey) {
  let code = `http_${status}`
  let message = text.slice(0, 500)
  try {
    const body = JSON.parse(text)
    if (body?.error) ({ code, message } = body.error)
  } catch {
    // not the platform's error body: keep the text
  }
  return new WebHostError(`${method} ${path}: ${status} ${code}: ${redact(message, apiKey)}`, {
    code,
    status,
    retryable: status >= 500 || status === 408 || status === 429
  })
}
