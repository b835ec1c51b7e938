export { loadOrCreateKeyFile } from "./encryptionKey.js";
export { createSecretBox, type SecretBox, secretContext } from "./secretBox.js";
