export { loadOrCreateKeyFile } from "./encryptionKey.js";
export { createSecretBox, type SecretBox } from "./secretBox.js";
