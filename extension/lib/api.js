// The client for the local Breather service's /api/v1 (see docs/interfaces.md). Every failure becomes an ApiError
// whose `kind` says what the person should be told: offline (service down), unauthorized (pair again),
// rejected (the service refused this request), server (the service failed).

export class ApiError extends Error {
  constructor(kind, message, status = null) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.status = status;
  }
}

const TIMEOUT_MS = 5000;

async function readError(response) {
  try {
    const body = await response.json();
    return body && body.message ? String(body.message) : `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

export function createClient({ serviceUrl, token = null, fetch: fetchFn }) {
  async function call(method, path, body) {
    const headers = { Accept: "application/json" };
    if (token) {
      headers.Authorization = `Bearer ${token}`;
    }
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    let response;
    try {
      response = await fetchFn(serviceUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new ApiError("offline", `Breather is not answering at ${serviceUrl} (${error.message})`);
    }
    if (response.status === 401) {
      throw new ApiError("unauthorized", await readError(response), 401);
    }
    if (response.status >= 500) {
      throw new ApiError("server", await readError(response), response.status);
    }
    if (!response.ok) {
      throw new ApiError("rejected", await readError(response), response.status);
    }
    try {
      return await response.json();
    } catch {
      throw new ApiError("server", `${path} did not answer JSON`, response.status);
    }
  }

  return {
    pair: (code, browser) => call("POST", "/api/v1/pair", { code, browser }),
    config: () => call("GET", "/api/v1/config"),
    // `site` (the social site in front, if any) lets the service judge breaks for that site's group.
    status: (site = null) => call("GET", site ? `/api/v1/status?site=${encodeURIComponent(site)}` : "/api/v1/status"),
    heartbeat: (beat) => call("POST", "/api/v1/heartbeat", beat),
    event: (event) => call("POST", "/api/v1/events", event),
  };
}

/** A pairing code as the dashboard shows it (ABCD-1234); spaces and case forgiven. */
export function parsePairingCode(raw) {
  const code = String(raw ?? "")
    .trim()
    .toUpperCase()
    .replace(/\s+/g, "");
  if (!/^[A-Z0-9]{4}-?[A-Z0-9]{4}$/.test(code)) {
    throw new Error("the pairing code looks like ABCD-1234 (shown on the dashboard's Setup page)");
  }
  return code.includes("-") ? code : `${code.slice(0, 4)}-${code.slice(4)}`;
}
