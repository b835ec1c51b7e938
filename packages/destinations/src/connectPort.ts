/** The port a request to `url` connects to: the URL's own, else its scheme's default (443 for https, 80 otherwise). */
export function connectPort(url: URL): number {
  if (url.port !== "") return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}
