/**
 * Registering decrypted values with the secret registry so no reporter can print them.
 *
 * A `!vault` value is one secret: register it whole. A whole vault-encrypted file is YAML
 * text: registering that text would mask nothing useful (it never appears whole in output)
 * and its line-by-line fallback would mask harmless lines, so register each scalar *value*
 * (never the keys: `db_password` must stay readable in messages).
 */

import { isDocument, parseDocument, visit } from 'yaml';
import { SecretRegistry, secrets } from '../secrets';

/** Register one decrypted value, and its trimmed form if it differs (stdin input ends in \n). */
export function registerSecretValue(value: string, registry: SecretRegistry = secrets): void {
  registry.add(value);
  const t = value.trim();
  if (t !== value) registry.add(t);
}

/**
 * Register every scalar value in YAML text. Strings are registered as they are; numbers,
 * booleans and the like only when their source text is at least 8 characters (a numeric PIN
 * `84736251` is a secret, a `port: 5432` is not worth masking everywhere). Text that is not
 * valid YAML is registered whole, so a parse failure can never leak it.
 */
export function registerYamlScalars(text: string, registry: SecretRegistry = secrets): void {
  const doc = parseDocument(text, { strict: false, uniqueKeys: false, prettyErrors: false });
  if (doc.errors.length > 0 || !isDocument(doc)) {
    registerSecretValue(text, registry);
    return;
  }
  visit(doc, {
    Scalar(key, node) {
      if (key === 'key') return;
      const v = node.value;
      if (typeof v === 'string') registerSecretValue(v, registry);
      else if (v !== null && v !== undefined) {
        const src = typeof node.source === 'string' ? node.source : String(v);
        if (src.length >= 8) registry.add(src);
      }
    },
  });
}
