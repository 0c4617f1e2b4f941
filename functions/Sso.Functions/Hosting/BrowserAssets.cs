namespace Sso.Functions.Hosting;

/// <summary>The script the app's own pages (the setup portal, the operator console) share, served within each one's own script.</summary>
public static class BrowserAssets
{
    /// <summary>
    /// Copy buttons: <c>&lt;button data-copy="id"&gt;</c> copies the text of the element with that id,
    /// falling back to a selection and <c>execCommand</c> where the Clipboard API is refused.
    /// </summary>
    public const string CopyButtonScript = """
        document.addEventListener('click', async (event) => {
          const button = event.target.closest('button[data-copy]');
          if (!button) return;
          const source = document.getElementById(button.dataset.copy);
          if (!source) return;
          try {
            await navigator.clipboard.writeText(source.textContent);
          } catch {
            const range = document.createRange();
            range.selectNodeContents(source);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
            document.execCommand('copy');
          }
          const label = button.textContent;
          button.textContent = 'Copied';
          button.classList.add('copied');
          setTimeout(() => { button.textContent = label; button.classList.remove('copied'); }, 1500);
        });

        """;
}
