// Errors the SDK reports. None of them carries the API key.

export class WebHostError extends Error {
  /**
   * @param {string} message
   * @param {{code?: string, status?: number, retryable?: boolean, cause?: unknown}} [details]
   */
  constructor (message, { code = 'error', status, retryable = false, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = 'WebHostError'
    this.code = code
    this.status = status
    this.retryable = retryable
  }
}

/** The server could not be reached, or the connection broke before its answer. */
export class NetworkError extends WebHostError {
  constructor (message, cause) {
    super(message, { code: 'network', retryable: true, cause })
    this.name = 'NetworkError'
  }
}

/** Text with every occurrence of a secret replaced, for messages that might echo it. */
export function redact (text, secret) {
  return secret ? String(text).split(secret).join('whs_***') : String(text)
}
