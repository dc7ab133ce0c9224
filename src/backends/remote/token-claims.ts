/**
 * The `ns` claim of a JWT, read without verifying it: the server verifies; the client only wants to
 * know which namespaces to offer. A token that is not a readable JWT grants nothing here.
 */
export function grantedNamespaces(token: string): string[] {
  const payload = token.split('.')[1];
  if (payload === undefined) return [];
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    const ns = (claims as { ns?: unknown }).ns;
    return Array.isArray(ns) ? ns.filter((n): n is string => typeof n === 'string') : [];
  } catch {
    return [];
  }
}
