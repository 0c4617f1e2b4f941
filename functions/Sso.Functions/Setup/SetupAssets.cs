using System.Text;
using Sso.Functions.Hosting;

namespace Sso.Functions.Setup;

/// <summary>
/// The portal's script and stylesheet, served by the app itself from these strings: no build
/// step, no third-party asset, nothing inline in the pages (the CSP allows 'self' only).
/// </summary>
public static class SetupAssets
{
    public const string Script = """
        'use strict';
        // A setup link is /setup#secret: browsers never send the fragment, so the secret reaches the
        // server only here, once, in the body of the form that opens the session; it is also
        // dropped from the address bar and the history entry.
        (() => {
          const opener = document.getElementById('open-link');
          if (!opener || location.hash.length < 2) return;
          const secret = location.hash.slice(1);
          history.replaceState(null, '', location.pathname + location.search);
          opener.elements.namedItem('link').value = secret;
          opener.requestSubmit();
        })();

        """ + BrowserAssets.CopyButtonScript + """
        // Forms with data-busy show that a slow step (fetching metadata, reaching the IdP) is running.
        document.addEventListener('submit', (event) => {
          const form = event.target;
          if (!form.matches('form[data-busy]')) return;
          const button = form.querySelector('button[type="submit"]');
          if (button) { button.disabled = true; button.textContent = form.dataset.busy; }
        });
        """;

    public const string Styles = """
        :root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --accent: #0b5cad; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; }
        * { box-sizing: border-box; }
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 0; background: #f6f8fa; line-height: 1.5; }
        header { background: #fff; border-bottom: 1px solid var(--line); padding: .75rem 1.5rem; display: flex; gap: 1rem; align-items: baseline; }
        header p { margin: 0; } .brand { font-weight: 600; } .tenant { color: var(--muted); }
        nav.steps ol { list-style: none; display: flex; gap: .5rem; margin: 0; padding: .75rem 1.5rem; flex-wrap: wrap; counter-reset: step; }
        nav.steps li { counter-increment: step; }
        nav.steps a { display: block; padding: .35rem .75rem; border-radius: 999px; color: var(--accent); text-decoration: none; border: 1px solid var(--line); background: #fff; }
        nav.steps a::before { content: counter(step) ". "; }
        nav.steps a[aria-current] { background: var(--accent); color: #fff; border-color: var(--accent); }
        main { max-width: 52rem; margin: 1rem auto 3rem; padding: 1.5rem 2rem; background: #fff; border: 1px solid var(--line); border-radius: .5rem; }
        h1 { font-size: 1.5rem; margin-top: 0; } h2 { font-size: 1.15rem; margin-top: 2rem; }
        .idps { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: .75rem; padding: 0; border: 0; margin: 0; }
        .idps label { display: block; border: 1px solid var(--line); border-radius: .5rem; padding: .75rem; cursor: pointer; }
        .idps input { margin-right: .5rem; }
        .copy { display: grid; grid-template-columns: 12rem 1fr auto; gap: .5rem; align-items: center; padding: .5rem 0; border-bottom: 1px solid var(--line); }
        .copy .label { font-weight: 600; } .copy code { overflow-wrap: anywhere; background: #f6f8fa; padding: .25rem .5rem; border-radius: .25rem; }
        .copy .note { grid-column: 2 / 4; color: var(--muted); font-size: .875rem; }
        .secret code { font-size: 1rem; border: 2px dashed var(--warn); }
        ol.guide li { margin: .35rem 0; }
        label.field { display: block; font-weight: 600; margin-top: 1rem; }
        label.check { display: block; margin-top: 1rem; } label.check input { margin-right: .5rem; }
        textarea, input[type=text], input[type=url], input[type=password] { width: 100%; font: inherit; padding: .5rem; border: 1px solid var(--line); border-radius: .25rem; }
        textarea { min-height: 10rem; font-family: ui-monospace, monospace; font-size: .85rem; }
        button, a.button { font: inherit; padding: .5rem 1rem; border-radius: .375rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; margin-top: 1rem; }
        button.copy-button { margin: 0; padding: .25rem .75rem; background: #fff; color: var(--accent); }
        button.copy-button.copied { background: var(--ok); color: #fff; border-color: var(--ok); }
        .alert { padding: .75rem 1rem; border-radius: .375rem; border: 1px solid; }
        .alert.error { color: var(--bad); border-color: var(--bad); background: #ffebe9; }
        .alert.ok { color: var(--ok); border-color: var(--ok); background: #dafbe1; }
        .alert.warn { color: var(--warn); border-color: var(--warn); background: #fff8c5; }
        table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        td code, .thumbprint { overflow-wrap: anywhere; } td.expiry { white-space: nowrap; }
        .badge { display: inline-block; padding: 0 .5rem; border-radius: 999px; font-size: .8rem; border: 1px solid; }
        .badge.ok { color: var(--ok); } .badge.warn { color: var(--warn); } .badge.bad { color: var(--bad); }
        .muted { color: var(--muted); }
        table.activity { font-size: .85rem; } table.activity tr.failure td { color: var(--bad); }
        """;

    public static readonly byte[] ScriptBytes = Encoding.UTF8.GetBytes(Script);
    public static readonly byte[] StyleBytes = Encoding.UTF8.GetBytes(Styles);

}
