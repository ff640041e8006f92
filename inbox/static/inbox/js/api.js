// fetch() with the session cookie and Django's CSRF header; JSON (or a form with files) in,
// JSON out.

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || interpolate(gettext("Request failed (%(status)s)"), { status }, true));
    this.status = status;
  }
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export async function request(path, { method = "GET", body, form, headers: extra = {} } = {}) {
  const headers = { Accept: "application/json", ...extra };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    // FormData sets its own multipart Content-Type with the boundary.
    body: form ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  if (response.redirected && new URL(response.url).pathname.startsWith("/login/")) {
    // The session ended: sign in again and come back here.
    window.location.assign(`/login/?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
    throw new ApiError(401, gettext("Signed out"));
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401 || response.status === 403) {
      if (data && data.error === "not_authenticated") window.location.assign("/login/");
    }
    throw new ApiError(response.status, data && data.detail);
  }
  return data;
}

export const api = {
  get: (path) => request(path),
  post: (path, body = {}, headers = {}) => request(path, { method: "POST", body, headers }),
  patch: (path, body) => request(path, { method: "PATCH", body }),
  postForm: (path, form, headers = {}) => request(path, { method: "POST", form, headers }),
  delete: (path) => request(path, { method: "DELETE" }),
};
