/**
 * Hosts Bot Framework hands bots as `serviceUrl`, where the bot's token is then sent. botbuilder no longer
 * restricts this, so a token leaks to whatever host an activity names unless we do: Teams public cloud
 * (`smba.trafficmanager.net/<region>/…`), Teams GCC, GCC High and DoD, and Bot Framework's own channel hosts.
 */
const EXACT_HOSTS = ['smba.trafficmanager.net', 'smba.infra.gcc.teams.microsoft.com', 'smba.infra.gov.teams.microsoft.us', 'smba.infra.dod.teams.microsoft.us'];
const HOST_SUFFIXES = ['.botframework.com', '.botframework.azure.us'];

/**
 * Whether we may keep `serviceUrl` and send our token there: https on port 443 to a host above, without
 * credentials in the URL, or exactly one of the configured test origins (a local emulator).
 */
export function trustedServiceUrl(serviceUrl: string, testOrigins: string[] = []): boolean {
  let url: URL;
  try {
    url = new URL(serviceUrl);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (testOrigins.includes(url.origin)) return true;
  if (url.protocol !== 'https:' || (url.port && url.port !== '443')) return false;
  const host = url.hostname.toLowerCase();
  return EXACT_HOSTS.includes(host) || HOST_SUFFIXES.some((suffix) => host.endsWith(suffix) && host.length > suffix.length);
}
