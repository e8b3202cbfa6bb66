const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** The landing page of all-apps mode: each app with links to its docs and health. */
export function renderIndex(apps: { name: string; title: string; description?: string }[]): string {
  const rows = apps
    .map(
      (app) => `<li><h2>${escapeHtml(app.title)} <code>/${app.name}/</code></h2>
<p>${escapeHtml(app.description ?? '')}</p>
<p><a href="/${app.name}/docs">API docs</a> · <a href="/${app.name}/health/ready">readiness</a> · <a href="/${app.name}/health/live">liveness</a></p></li>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Groundwork</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}li{list-style:none;border-top:1px solid #ddd;padding:.5rem 0}h2{font-size:1.1rem;margin:.2rem 0}</style>
</head><body><h1>Groundwork</h1><p>Every app below runs on its own database. Aggregate health: <a href="/health">/health</a>.</p>
<ul>${rows}</ul></body></html>
`;
}
