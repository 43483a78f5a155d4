// Sign-in: POST the operator credential as JSON (same origin; the session cookie comes back HttpOnly).
'use strict';
document.getElementById('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const error = document.getElementById('error');
  error.textContent = '';
  const res = await fetch('/console/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: document.getElementById('token').value }),
    credentials: 'same-origin',
  });
  if (res.ok) {
    location.assign('/console');
    return;
  }
  error.textContent = res.status === 401 ? 'Credential refused.' : `Sign-in failed (${res.status}).`;
});
