/**
 * Ansible-compatible vault: files and `!vault |` values encrypted by ansible-vault open here,
 * and what tsplay encrypts opens with ansible-vault.
 *
 * Wiring (for the CLI and loaders):
 *   const vault = await Vault.fromOptions({ passwordFiles, vaultIds, askPass, env, prompt });
 *   parseYaml(text, file, { decrypt: vault?.decryptFn });
 * Every value decrypted through `decrypt`/`decryptFn` is registered with runner/secrets, so
 * reporters mask it. For a whole vault-encrypted YAML file, `decryptFn` registers each scalar
 * value (not keys, not the whole text): see registerYamlScalars.
 */

export { Vault, type Opened, type VaultOptions } from './vault';
export { runVaultCommand, formatVaultYaml, VAULT_USAGE, type VaultIO } from './command';
export { registerYamlScalars, registerSecretValue } from './mask';
export { parseVaultId, readPasswordSource, type VaultPassword } from './passwords';
