using System.Text;
using Sso.Functions.Hosting;

namespace Sso.Functions.OperatorConsole;

/// <summary>
/// The console's stylesheet and script, served by the app from these strings (no build step, no
/// third-party asset, nothing inline: the CSP allows 'self' only). The pages work without the
/// script; it only makes copy buttons copy.
/// </summary>
public static class ConsoleAssets
{
    public const string StylePath = ConsoleLayout.Base + "/assets/console.css";
    public const string ScriptPath = ConsoleLayout.Base + "/assets/console.js";

    public const string Script = """
        'use strict';

        """ + BrowserAssets.CopyButtonScript;

    public const string Styles = """
        :root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #f6f8fa; --accent: #0b5cad; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; }
        * { box-sizing: border-box; }
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 0; background: var(--bg); line-height: 1.45; font-size: 15px; }
        header.bar { background: #fff; border-bottom: 1px solid var(--line); padding: .5rem 1.25rem; display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
        header.bar .brand { font-weight: 700; color: var(--ink); text-decoration: none; margin-right: .5rem; }
        nav.sections ul { list-style: none; display: flex; gap: .25rem; margin: 0; padding: 0; flex-wrap: wrap; }
        nav.sections a { display: block; padding: .3rem .65rem; border-radius: .375rem; color: var(--accent); text-decoration: none; }
        nav.sections a:hover { background: var(--bg); }
        nav.sections a[aria-current] { background: var(--accent); color: #fff; }
        .operator { margin-left: auto; display: flex; gap: .75rem; align-items: center; color: var(--muted); font-size: .9rem; }
        main { max-width: 72rem; margin: 1rem auto 3rem; padding: 1.25rem 1.75rem; background: #fff; border: 1px solid var(--line); border-radius: .5rem; }
        h1 { font-size: 1.4rem; margin: 0 0 1rem; } h2 { font-size: 1.1rem; margin: 1.75rem 0 .5rem; } h3 { font-size: 1rem; margin: 1rem 0 .35rem; }
        section.panel { border-top: 1px solid var(--line); padding-top: .25rem; }
        table { border-collapse: collapse; width: 100%; font-size: .92rem; }
        th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { color: var(--muted); font-weight: 600; font-size: .85rem; }
        td code, code { overflow-wrap: anywhere; background: var(--bg); padding: .1rem .3rem; border-radius: .25rem; font-size: .88em; }
        .copyable { display: inline-flex; gap: .4rem; align-items: center; flex-wrap: wrap; }
        label.field { display: block; font-weight: 600; margin-top: .75rem; }
        label.check { display: block; margin-top: .6rem; } label.check input { margin-right: .4rem; }
        .hint { color: var(--muted); font-size: .85rem; font-weight: normal; }
        input[type=text], input[type=search], input[type=password], input[type=number], select, textarea {
          font: inherit; padding: .4rem .5rem; border: 1px solid var(--line); border-radius: .25rem; width: 100%; max-width: 32rem; }
        textarea { min-height: 6rem; font-family: ui-monospace, monospace; font-size: .85rem; }
        button, a.button { font: inherit; padding: .4rem .9rem; border-radius: .375rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
        button.secondary, a.button.secondary { background: #fff; color: var(--accent); }
        button.danger { background: #fff; color: var(--bad); border-color: var(--bad); }
        button.link { background: none; border: 0; color: var(--accent); padding: 0; text-decoration: underline; }
        button.copy-button { padding: .1rem .55rem; background: #fff; color: var(--accent); font-size: .85rem; }
        button.copy-button.copied { background: var(--ok); color: #fff; border-color: var(--ok); }
        form.inline { display: inline; margin: 0; }
        form.stack > button, form.stack > .actions { margin-top: 1rem; }
        form.search { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; margin-bottom: 1rem; }
        form.search input { max-width: 22rem; }
        .alert { padding: .6rem .9rem; border-radius: .375rem; border: 1px solid; margin: 0 0 1rem; }
        .alert.error { color: var(--bad); border-color: var(--bad); background: #ffebe9; }
        .alert.ok { color: var(--ok); border-color: var(--ok); background: #dafbe1; }
        .alert.warn { color: var(--warn); border-color: var(--warn); background: #fff8c5; }
        .badge { display: inline-block; padding: 0 .5rem; border-radius: 999px; font-size: .8rem; border: 1px solid; white-space: nowrap; }
        .badge.ok { color: var(--ok); } .badge.warn { color: var(--warn); } .badge.bad { color: var(--bad); } .badge.muted { color: var(--muted); }
        .muted { color: var(--muted); }
        .pager { display: flex; gap: 1rem; margin-top: 1rem; }
        .grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: 1rem 2rem; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
        dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
        .signin { max-width: 28rem; }
        fieldset.plain { border: 0; padding: 0; margin: .75rem 0 0; } fieldset.plain legend { font-weight: 600; padding: 0; }
        @media (max-width: 60rem) { main { margin: .5rem; padding: 1rem; } .operator { margin-left: 0; } }
        """;

    public static readonly byte[] ScriptBytes = Encoding.UTF8.GetBytes(Script);
    public static readonly byte[] StyleBytes = Encoding.UTF8.GetBytes(Styles);
}
