/** One migration as `db history` lists it. */
export interface HistoryRow {
  id: string;
  message: string;
  status: string;
  appliedAt: string | null;
  executionMs: number | null;
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/**
 * A self-contained HTML page (inline styles, no script, nothing fetched): the migrations oldest first, each
 * applied one with when it ran and a bar as long as its duration against the longest; pending ones after.
 */
export function historyHtml(app: string, rows: HistoryRow[], generatedAt: Date): string {
  const longest = Math.max(1, ...rows.map((row) => row.executionMs ?? 0));
  const total = rows.reduce((sum, row) => sum + (row.executionMs ?? 0), 0);
  const applied = rows.filter((row) => row.status !== 'pending').length;
  const items = rows.map((row) => {
    const ms = row.executionMs;
    const bar =
      ms === null
        ? '<span class="none">not applied</span>'
        : `<span class="bar" style="width:${Math.max(0.5, (100 * ms) / longest).toFixed(1)}%"></span><span class="ms">${duration(ms)}</span>`;
    return `<li class="${escapeHtml(row.status)}"><div class="when">${escapeHtml(row.appliedAt ?? row.status)}</div><div class="what"><code>${escapeHtml(row.id)}</code> ${escapeHtml(row.message)}${row.status === 'unknown' ? ' <em>(not in the folder)</em>' : ''}</div><div class="took">${bar}</div></li>`;
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(app)}: migration history</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222;max-width:70rem}
h1{font-size:1.4rem;margin:0 0 .25rem}p{color:#555;margin:0 0 1.5rem}
ol{list-style:none;padding:0;margin:0;border-left:3px solid #4a7bd1}
li{display:grid;grid-template-columns:14rem 1fr 20rem;gap:1rem;padding:.4rem 0 .4rem 1rem;position:relative;align-items:center}
li::before{content:"";position:absolute;left:-.45rem;top:.8rem;width:.6rem;height:.6rem;border-radius:50%;background:#4a7bd1}
li.pending{color:#888}li.pending::before{background:#fff;border:2px solid #aaa;left:-.55rem}
li.unknown::before{background:#c33}
.when{font-variant-numeric:tabular-nums;color:#555}.took{display:flex;align-items:center;gap:.5rem}
.bar{display:inline-block;height:.8rem;background:#4a7bd1;border-radius:2px}.ms{white-space:nowrap;font-variant-numeric:tabular-nums}
.none{color:#999;font-style:italic}code{font-size:.9em}
</style>
</head>
<body>
<h1>${escapeHtml(app)}: migration history</h1>
<p>${applied} of ${rows.length} applied, ${duration(total)} in all; the longest took ${duration(longest)}. Written ${escapeHtml(generatedAt.toISOString())} by <code>groundwork db history --html</code>.</p>
<ol>
${items.join('\n')}
</ol>
</body>
</html>
`;
}
