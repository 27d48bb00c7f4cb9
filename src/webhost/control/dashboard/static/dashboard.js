// Dashboard behaviour that needs no server round trip. Loaded as a file: the page's CSP allows no inline script.
(function () {
  'use strict'

  function copyText (text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text)
    }
    // plain-http hosts other than localhost have no clipboard API
    const area = document.createElement('textarea')
    area.value = text
    area.setAttribute('readonly', '')
    area.className = 'offscreen'
    document.body.appendChild(area)
    area.select()
    const copied = document.execCommand('copy')
    area.remove()
    return copied ? Promise.resolve() : Promise.reject(new Error('copy refused'))
  }

  document.addEventListener('click', function (event) {
    const button = event.target.closest('[data-copy]')
    if (button) {
      const source = document.querySelector(button.getAttribute('data-copy'))
      if (!source) return
      const label = button.textContent
      copyText(source.textContent).then(
        function () { button.textContent = 'Copied' },
        function () { button.textContent = 'Select and copy' }
      ).finally(function () {
        setTimeout(function () { button.textContent = label }, 2000)
      })
      return
    }
    const dismiss = event.target.closest('[data-dismiss]')
    if (dismiss) {
      const alert = dismiss.closest('.alert')
      if (alert) alert.remove()
    }
  })

  document.addEventListener('htmx:afterRequest', function (event) {
    const form = event.detail.elt
    if (event.detail.successful && form.matches && form.matches('form[data-reset-on-success]')) {
      form.reset()
    }
  })

  // an error that is not one of our HTML fragments (e.g. a proxy page or a JSON body) becomes a plain notice
  document.addEventListener('htmx:beforeSwap', function (event) {
    const xhr = event.detail.xhr
    const type = xhr.getResponseHeader('Content-Type') || ''
    if (xhr.status < 400 || type.indexOf('text/html') === 0) return
    event.detail.serverResponse = '<div class="alert alert-error">The request failed (HTTP ' +
      Number(xhr.status) + '). Reload the page and try again.</div>'
    event.detail.target = document.getElementById('flash')
    event.detail.swapOverride = 'innerHTML'
    event.detail.shouldSwap = true
  })

  document.addEventListener('htmx:sendError', function () {
    const flash = document.getElementById('flash')
    flash.replaceChildren()
    const notice = document.createElement('div')
    notice.className = 'alert alert-error'
    notice.textContent = 'Could not reach WebHost. Check your connection and try again.'
    flash.appendChild(notice)
  })

  // when the live stream breaks, fetch the status once so the page is not left stale
  document.addEventListener('htmx:sseError', function (event) {
    if (window.htmx) window.htmx.trigger(event.target, 'webhost:refresh')
  })
})()
