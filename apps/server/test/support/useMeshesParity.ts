import { type MeshesApi, meshesApi } from "./meshesApi.js";
import { type UseTestServerOptions, useTestServer } from "./useTestServer.js";

/**
 * A parity test file's set-up: a server with a tenant made as the CLI makes one, and a caller that sends what
 * Meshes' API client sends (`meshesApi`), built with the tenant's credentials. Building it runs the client's own
 * checks, so a tenant whose organization id Meshes' client refuses fails every test of the file.
 */
export function useMeshesParity(options: UseTestServerOptions = {}) {
  const file = useTestServer({ tenant: "Parity", ...options });
  let api: MeshesApi | undefined;
  return {
    file,
    get meshes(): MeshesApi {
      api ??= meshesApi(file.server.baseUrl, file.tenant.machine);
      return api;
    },
  };
}
