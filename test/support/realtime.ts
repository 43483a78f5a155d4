// Helpers for tests against the local realtime server (src/simulator/realtime-server.ts).

/** Short replies; the balance answer is long enough to be interrupted. */
export function shortAnswer(user: string | null): string {
  if (user === null) return 'Hello, thanks for calling.';
  if (user.includes('balance')) return 'Your balance is one hundred and twenty dollars.';
  return 'Sure.';
}
